//! Attachments: files (a screenshot of a job ad, a platform's reply,
//! training slides) that records reference by content hash, fetched from
//! any member that holds them and verified chunk by chunk.
//!
//! A file is cut into chunks of [`CHUNK`] bytes (the last may be shorter).
//! Its **manifest** is its size and the BLAKE3 hash of each chunk, in
//! order; its **hash** is a BLAKE3 hash (in its own derive-key domain) of
//! the manifest. A fetcher that knows only the hash (from a signed record)
//! first fetches the manifest and checks it against the hash, then each
//! chunk against the manifest as it arrives: a holder can neither swap a
//! chunk nor send a file of another length, and a bad chunk is detected
//! before the next is asked for (and asked again of another member), with
//! memory bounded by one chunk. The SHA-256 of the whole file travels in
//! the reference too: it is what an evidence log or a court expects.
//!
//! # Layout
//! - [`FileHash`], [`Manifest`], [`Hasher`]: content addressing.
//! - [`Attachment`]: what a record says about a file, and its rules.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// Bytes per chunk: small enough to verify and hold one at a time, large
/// enough that a 25 MB file is a hundred requests.
pub const CHUNK: usize = 256 * 1024;

/// The largest file a network accepts unless its trust list says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// The most files one record carries.
pub const MAX_PER_RECORD: usize = 8;

/// The largest file any record may name, whatever a network sets: what
/// every node checks before it knows the network's own limit.
pub const ABSOLUTE_MAX_BYTES: u64 = MAX_CHUNKS as u64 * CHUNK as u64;

/// The most chunks any manifest may list (a 4 GiB file): a bound for
/// decoding, whatever a network allows.
pub const MAX_CHUNKS: usize = 16 * 1024;

const HASH_DOMAIN: &str = "kawan 2026 attachment manifest v1";

/// The types of file a record may carry: images shown inline, documents
/// offered as downloads.
pub const MEDIA_TYPES: [&str; 7] =
    ["image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "text/plain", "text/csv"];

/// Why an attachment, a manifest or a chunk was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("the manifest does not match the file hash")]
    ManifestMismatch,
    #[error("the manifest lists {listed} chunks; a file of {size} bytes has {expected}")]
    ChunkCount { size: u64, listed: usize, expected: usize },
    #[error("chunk {index} does not match the manifest")]
    ChunkMismatch { index: usize },
    #[error("chunk {index} is {len} bytes; it must be {expected}")]
    ChunkLength { index: usize, len: usize, expected: usize },
    #[error("no chunk {index}: the file has {count}")]
    NoSuchChunk { index: usize, count: usize },
    #[error("the file is {size} bytes; this network takes at most {max}")]
    TooLarge { size: u64, max: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("{0:?} is not a file type records carry: one of {list}", list = MEDIA_TYPES.join(", "))]
    MediaType(String),
    #[error("file name {0:?}: 1–255 bytes, no path, no control characters")]
    Name(String),
    #[error("not a manifest: {0}")]
    Decode(String),
    #[error("a record carries at most {MAX_PER_RECORD} files; this one lists {0}")]
    TooMany(usize),
}

/// A file's content hash: what records name it by (hex in JSON).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileHash(pub [u8; 32]);

/// The SHA-256 of a whole file, as an evidence log or a court expects it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

crate::keys::hex_display!(FileHash, 32);
crate::keys::hex_display!(Sha256, 32);

/// A file's size and the hash of each of its chunks, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub size: u64,
    pub chunks: Vec<FileHash>,
}

/// How many chunks a file of `size` bytes has.
pub fn chunk_count(size: u64) -> usize {
    size.div_ceil(CHUNK as u64) as usize
}

impl Manifest {
    /// The file hash this manifest stands for.
    pub fn hash(&self) -> FileHash {
        let mut h = blake3::Hasher::new_derive_key(HASH_DOMAIN);
        h.update(&self.size.to_be_bytes());
        for c in &self.chunks {
            h.update(&c.0);
        }
        FileHash(*h.finalize().as_bytes())
    }

    /// Whether this manifest is the one `expected` names, and consistent.
    pub fn verify(&self, expected: &FileHash) -> Result<(), AttachmentError> {
        let count = chunk_count(self.size);
        if self.chunks.len() != count {
            return Err(AttachmentError::ChunkCount { size: self.size, listed: self.chunks.len(), expected: count });
        }
        if self.hash() != *expected {
            return Err(AttachmentError::ManifestMismatch);
        }
        Ok(())
    }

    /// The length chunk `index` must have.
    pub fn chunk_len(&self, index: usize) -> Result<usize, AttachmentError> {
        let count = self.chunks.len();
        if index >= count {
            return Err(AttachmentError::NoSuchChunk { index, count });
        }
        let start = index as u64 * CHUNK as u64;
        Ok(self.size.saturating_sub(start).min(CHUNK as u64) as usize)
    }

    /// Checks chunk `index` as received.
    pub fn check_chunk(&self, index: usize, bytes: &[u8]) -> Result<(), AttachmentError> {
        let expected = self.chunk_len(index)?;
        if bytes.len() != expected {
            return Err(AttachmentError::ChunkLength { index, len: bytes.len(), expected });
        }
        if chunk_hash(bytes) != self.chunks[index] {
            return Err(AttachmentError::ChunkMismatch { index });
        }
        Ok(())
    }

    /// Canonical CBOR.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out).expect("a manifest always encodes");
        out
    }

    /// Decodes a manifest from a peer, bounded by [`MAX_CHUNKS`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, AttachmentError> {
        crate::cbor::decode(bytes, &BOUNDS).map_err(|e| AttachmentError::Decode(e.to_string()))
    }
}

fn chunk_hash(bytes: &[u8]) -> FileHash {
    FileHash(*blake3::hash(bytes).as_bytes())
}

/// Hashes a file as it streams past: its manifest and its SHA-256, one
/// chunk in memory at a time.
#[derive(Default)]
pub struct Hasher {
    size: u64,
    chunks: Vec<FileHash>,
    pending: Vec<u8>,
    sha256: sha2::Sha256,
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        self.sha256.update(bytes);
        while !bytes.is_empty() {
            let take = (CHUNK - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == CHUNK {
                self.chunks.push(chunk_hash(&self.pending));
                self.pending.clear();
            }
        }
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The manifest and the file's SHA-256.
    pub fn finish(mut self) -> (Manifest, Sha256) {
        if !self.pending.is_empty() {
            self.chunks.push(chunk_hash(&self.pending));
        }
        (Manifest { size: self.size, chunks: self.chunks }, Sha256(self.sha256.finalize().into()))
    }
}

/// What a record says about a file it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub hash: FileHash,
    pub size: u64,
    /// The file's name as its author gave it (no path).
    pub name: String,
    /// One of [`MEDIA_TYPES`].
    pub media_type: String,
    /// The SHA-256 of the whole file, for evidence logs.
    pub sha256: Sha256,
    /// When the content was captured (a screenshot's moment), Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_ms: Option<u64>,
}

impl Attachment {
    /// The rules every node checks on a record's attachments.
    pub fn validate(&self, max_bytes: u64) -> Result<(), AttachmentError> {
        if self.size == 0 {
            return Err(AttachmentError::Empty);
        }
        if self.size > max_bytes {
            return Err(AttachmentError::TooLarge { size: self.size, max: max_bytes });
        }
        if !MEDIA_TYPES.contains(&self.media_type.as_str()) {
            return Err(AttachmentError::MediaType(self.media_type.chars().take(80).collect()));
        }
        let bad_name = self.name.is_empty()
            || self.name.len() > 255
            || self.name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
            || self.name == "."
            || self.name == "..";
        if bad_name {
            return Err(AttachmentError::Name(self.name.chars().take(80).collect()));
        }
        Ok(())
    }
}

/// The rules for a record's list of files: at most [`MAX_PER_RECORD`],
/// each valid under [`ABSOLUTE_MAX_BYTES`] (the network's own limit is
/// checked where it is known: when publishing and when fetching).
pub fn validate_all(files: &[Attachment]) -> Result<(), AttachmentError> {
    if files.len() > MAX_PER_RECORD {
        return Err(AttachmentError::TooMany(files.len()));
    }
    files.iter().try_for_each(|f| f.validate(ABSOLUTE_MAX_BYTES))
}

/// A fetcher's question to a member that may hold a file
/// (docs/protocol.md, "Attachments").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fetch {
    Manifest { hash: FileHash },
    Chunk { hash: FileHash, index: u32 },
}

/// A holder's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Served {
    Manifest {
        manifest: Manifest,
    },
    Chunk {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// Not served. Whether the holder has no copy or the asker may not see
    /// any record naming the file is one answer, so refusals reveal
    /// nothing about what the holder keeps.
    Unavailable,
    /// The holder cannot answer now; ask another member or later.
    Busy,
}

/// The largest fetch message: a chunk, or the longest manifest, with room
/// for framing.
pub const MAX_MESSAGE_BYTES: usize = 64 + MAX_CHUNKS * 40;

const BOUNDS: crate::limits::Bounds =
    crate::limits::Bounds { max_bytes: MAX_MESSAGE_BYTES, max_string: CHUNK, max_items: MAX_CHUNKS, max_depth: 4 };

impl Fetch {
    pub fn to_bytes(&self) -> Result<Vec<u8>, AttachmentError> {
        crate::cbor::encode(self).map_err(|e| AttachmentError::Decode(e.to_string()))
    }
    pub fn from_bytes(bytes: &[u8]) -> Result<Fetch, AttachmentError> {
        crate::cbor::decode(bytes, &BOUNDS).map_err(|e| AttachmentError::Decode(e.to_string()))
    }
}

impl Served {
    pub fn to_bytes(&self) -> Result<Vec<u8>, AttachmentError> {
        crate::cbor::encode(self).map_err(|e| AttachmentError::Decode(e.to_string()))
    }
    pub fn from_bytes(bytes: &[u8]) -> Result<Served, AttachmentError> {
        crate::cbor::decode(bytes, &BOUNDS).map_err(|e| AttachmentError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn manifest_of(bytes: &[u8]) -> (Manifest, Sha256) {
        let mut h = Hasher::new();
        // Fed in odd pieces: the result cannot depend on how it streams.
        for piece in bytes.chunks(100_003) {
            h.update(piece);
        }
        h.finish()
    }

    #[test]
    fn a_file_is_verified_chunk_by_chunk_against_its_hash() {
        let bytes = file(2 * CHUNK + 17);
        let (m, sha) = manifest_of(&bytes);
        assert_eq!(sha.0, <[u8; 32]>::from(sha2::Sha256::digest(&bytes)));
        assert_eq!(m.chunks.len(), 3);
        let hash = m.hash();
        m.verify(&hash).unwrap();
        for (i, c) in bytes.chunks(CHUNK).enumerate() {
            m.check_chunk(i, c).unwrap();
        }
        // A swapped chunk, a short one, one past the end.
        let mut bad = bytes[CHUNK..2 * CHUNK].to_vec();
        bad[9] ^= 1;
        assert_eq!(m.check_chunk(1, &bad), Err(AttachmentError::ChunkMismatch { index: 1 }));
        assert_eq!(
            m.check_chunk(2, &bytes[2 * CHUNK..2 * CHUNK + 16]),
            Err(AttachmentError::ChunkLength { index: 2, len: 16, expected: 17 })
        );
        assert_eq!(m.check_chunk(3, b"x"), Err(AttachmentError::NoSuchChunk { index: 3, count: 3 }));
        // A manifest that claims another length, or other chunks.
        let mut longer = m.clone();
        longer.size += 1;
        assert_eq!(longer.verify(&hash), Err(AttachmentError::ManifestMismatch));
        let mut fewer = m.clone();
        fewer.chunks.pop();
        assert!(matches!(fewer.verify(&hash), Err(AttachmentError::ChunkCount { .. })));
        let back = Manifest::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(back, m);
        assert!(Manifest::from_bytes(b"\xff\x00").is_err());
    }

    #[test]
    fn hashes_print_as_hex_and_parse_back() {
        let (m, _) = manifest_of(b"hello");
        let h = m.hash();
        assert_eq!(h.to_string().parse::<FileHash>().unwrap(), h);
        assert!("not hex".parse::<FileHash>().is_err());
        // Hex in JSON (the API), bytes in CBOR (the wire).
        assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{h}\""));
        assert_eq!(crate::cbor::encode(&h).unwrap().len(), 34);
        assert!("ab".parse::<FileHash>().is_err());
    }

    #[test]
    fn an_attachment_names_a_file_type_and_a_name_records_may_carry() {
        let (m, sha) = manifest_of(b"png bytes");
        let ok = Attachment {
            hash: m.hash(),
            size: m.size,
            name: "job-ad 2026-05-01.png".into(),
            media_type: "image/png".into(),
            sha256: sha,
            captured_ms: Some(1),
        };
        ok.validate(DEFAULT_MAX_BYTES).unwrap();
        let with = |f: fn(&mut Attachment)| {
            let mut a = ok.clone();
            f(&mut a);
            a.validate(DEFAULT_MAX_BYTES)
        };
        assert!(matches!(
            with(|a| a.media_type = "application/x-msdownload".into()),
            Err(AttachmentError::MediaType(_))
        ));
        assert!(matches!(with(|a| a.name = "../../etc/passwd".into()), Err(AttachmentError::Name(_))));
        assert!(matches!(with(|a| a.size = DEFAULT_MAX_BYTES + 1), Err(AttachmentError::TooLarge { .. })));
        assert_eq!(with(|a| a.size = 0), Err(AttachmentError::Empty));
    }
}
