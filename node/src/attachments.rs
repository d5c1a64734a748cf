//! The files records carry, stored by content hash in the data directory's
//! `attachments/` (docs/architecture.md, "Attachments").
//!
//! A file is `<hash>` (its bytes) and `<hash>.manifest` (its chunk hashes),
//! each written to a temporary name and renamed, the manifest last: a file
//! is held once its manifest is there, and a crash leaves a `.part` that
//! the next open removes. A file uploaded for a record not yet published
//! also has `<hash>.pending`; the sweep (`Service::sweep_attachments`)
//! removes files no stored record names, the pending ones after a day.
//!
//! Nothing here decides who may read a file: that is `policy.rs`, asked by
//! the service for a record that names it.
//!
//! # Layout
//! - [`Attachments`]: the directory, what it holds, chunks to serve.
//! - [`Import`]: an upload streaming in (hashed as it is written).
//! - [`Fetching`]: a fetch from members, each chunk checked before written.

use std::{
    fs,
    io::{self, Read as _, Seek as _, Write as _},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use kawan_protocol::attachment::{AttachmentError, CHUNK, FileHash, Hasher, Manifest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Refused(#[from] AttachmentError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
    move |source| FileError::Io { path: path.to_owned(), source }
}

/// How long an upload may wait for the record that names it.
pub const PENDING_MS: u64 = 24 * 60 * 60 * 1000;

/// The attachment directory.
pub struct Attachments {
    dir: PathBuf,
    /// Removed on drop (an in-memory node's).
    temporary: bool,
    /// Installs and removals one at a time: two fetches of one file end
    /// with one whole file, never a manifest beside a half-renamed one.
    install: std::sync::Mutex<()>,
}

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl Attachments {
    /// Opens (creating) `dir`, removing what a crash left half written:
    /// partial files, temporary files, and a file's pieces without its
    /// manifest (an install or a removal cut short).
    pub fn open(dir: &Path) -> Result<Attachments, FileError> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let files = Attachments { dir: dir.to_owned(), temporary: false, install: Default::default() };
        for entry in fs::read_dir(dir).map_err(io_at(dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hash = name.split('.').next().and_then(|h| h.parse::<FileHash>().ok());
            let whole = hash.is_some_and(|h| files.manifest_path(&h).is_file() && files.data_path(&h).is_file());
            if !whole {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(files)
    }

    /// A directory of its own under the system's temporary directory,
    /// removed when dropped: for a node whose store is in memory.
    pub fn temporary() -> Result<Attachments, FileError> {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kawan-attachments-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut a = Attachments::open(&dir)?;
        a.temporary = true;
        Ok(a)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_path(&self, hash: &FileHash) -> PathBuf {
        self.dir.join(hash.to_string())
    }

    fn manifest_path(&self, hash: &FileHash) -> PathBuf {
        self.dir.join(format!("{hash}.manifest"))
    }

    fn sha256_path(&self, hash: &FileHash) -> PathBuf {
        self.dir.join(format!("{hash}.sha256"))
    }

    fn pending_path(&self, hash: &FileHash) -> PathBuf {
        self.dir.join(format!("{hash}.pending"))
    }

    /// Whether the whole file is here.
    pub fn has(&self, hash: &FileHash) -> bool {
        self.manifest_path(hash).is_file() && self.data_path(hash).is_file()
    }

    /// The file's manifest, if held.
    pub fn manifest(&self, hash: &FileHash) -> Result<Option<Manifest>, FileError> {
        let path = self.manifest_path(hash);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(Manifest::from_bytes(&bytes)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_at(&path)(e)),
        }
    }

    /// The SHA-256 of the file as held (computed when it was written).
    pub fn sha256(&self, hash: &FileHash) -> Result<Option<Sha256>, FileError> {
        let path = self.sha256_path(hash);
        match fs::read_to_string(&path) {
            Ok(hex) => Ok(hex.trim().parse().ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_at(&path)(e)),
        }
    }

    /// Chunk `index` as stored (not checked: the fetcher checks every
    /// chunk against the manifest, whoever serves it). Its length comes
    /// from the file's, so serving a chunk reads no manifest.
    pub fn chunk(&self, hash: &FileHash, index: usize) -> Result<Option<Vec<u8>>, FileError> {
        if !self.manifest_path(hash).is_file() {
            return Ok(None);
        }
        let path = self.data_path(hash);
        let mut f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_at(&path)(e)),
        };
        let size = f.metadata().map_err(io_at(&path))?.len();
        let start = index as u64 * CHUNK as u64;
        if start >= size {
            return Ok(None);
        }
        let len = (size - start).min(CHUNK as u64) as usize;
        f.seek(io::SeekFrom::Start(index as u64 * CHUNK as u64)).map_err(io_at(&path))?;
        let mut buf = vec![0; len];
        f.read_exact(&mut buf).map_err(io_at(&path))?;
        Ok(Some(buf))
    }

    /// The file to read, if held.
    pub fn open_file(&self, hash: &FileHash) -> Result<Option<fs::File>, FileError> {
        if !self.has(hash) {
            return Ok(None);
        }
        let path = self.data_path(hash);
        fs::File::open(&path).map(Some).map_err(io_at(&path))
    }

    /// Starts an upload.
    pub fn import(&self, max_bytes: u64) -> Result<Import<'_>, FileError> {
        let part = self.part_path();
        let file = fs::File::create(&part).map_err(io_at(&part))?;
        Ok(Import { files: self, part, file: Some(file), hasher: Hasher::new(), max_bytes })
    }

    /// Starts writing a fetched file whose manifest was checked.
    pub fn fetching(&self, hash: FileHash, manifest: Manifest) -> Result<Fetching<'_>, FileError> {
        let part = self.part_path();
        let file = fs::File::create(&part).map_err(io_at(&part))?;
        Ok(Fetching { files: self, part, file: Some(file), hash, manifest, next: 0, hasher: Hasher::new() })
    }

    fn part_path(&self) -> PathBuf {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{}-{n}.part", std::process::id()))
    }

    /// Moves a complete file in: its bytes and SHA-256, then its manifest
    /// (the mark that it is whole).
    fn install(&self, part: &Path, file: fs::File, manifest: &Manifest, sha: &Sha256) -> Result<FileHash, FileError> {
        file.sync_all().map_err(io_at(part))?;
        drop(file);
        let _one = self.install.lock().unwrap_or_else(|e| e.into_inner());
        let hash = manifest.hash();
        let data = self.data_path(&hash);
        fs::rename(part, &data).map_err(io_at(&data))?;
        crate::files::write_atomic(&self.sha256_path(&hash), sha.to_string().as_bytes(), 0o600)
            .map_err(io_at(&self.sha256_path(&hash)))?;
        crate::files::write_atomic(&self.manifest_path(&hash), &manifest.to_bytes(), 0o600)
            .map_err(io_at(&self.manifest_path(&hash)))?;
        Ok(hash)
    }

    /// Every file held (complete ones), with whether it still waits for
    /// its record and since when (Unix ms, on the node's clock; `u64::MAX`
    /// for a marker that does not read).
    pub fn held(&self) -> Result<Vec<(FileHash, Option<u64>)>, FileError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_at(&self.dir))?.flatten() {
            let name = entry.file_name();
            let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".manifest")) else { continue };
            let Ok(hash) = hex.parse::<FileHash>() else { continue };
            let pending = match fs::read_to_string(self.pending_path(&hash)) {
                Ok(text) => Some(text.trim().parse::<u64>().unwrap_or(u64::MAX)),
                Err(_) => None,
            };
            out.push((hash, pending));
        }
        Ok(out)
    }

    /// The file waits for a record from `now_ms` (its marker rewritten).
    pub fn mark_pending(&self, hash: &FileHash, now_ms: u64) -> Result<(), FileError> {
        let path = self.pending_path(hash);
        fs::write(&path, now_ms.to_string()).map_err(io_at(&path))
    }

    /// The file is named by a stored record now: no longer pending.
    pub fn named(&self, hash: &FileHash) {
        let _ = fs::remove_file(self.pending_path(hash));
    }

    /// Removes a file, its manifest first (so a crash leaves no file that
    /// looks whole).
    pub fn remove(&self, hash: &FileHash) -> Result<(), FileError> {
        let _one = self.install.lock().unwrap_or_else(|e| e.into_inner());
        for path in [self.manifest_path(hash), self.data_path(hash), self.sha256_path(hash), self.pending_path(hash)] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_at(&path)(e)),
            }
        }
        Ok(())
    }
}

impl Drop for Attachments {
    fn drop(&mut self) {
        if self.temporary {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// An upload, installed.
#[derive(Debug, Clone, Copy)]
pub struct Imported {
    pub hash: FileHash,
    pub size: u64,
    pub sha256: Sha256,
    /// The same bytes were held before.
    pub already: bool,
}

/// An upload streaming in: hashed as it is written, refused as soon as it
/// passes the network's limit. Dropped unfinished, it leaves nothing.
pub struct Import<'a> {
    files: &'a Attachments,
    part: PathBuf,
    file: Option<fs::File>,
    hasher: Hasher,
    max_bytes: u64,
}

impl Import<'_> {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        let size = self.hasher.size() + bytes.len() as u64;
        if size > self.max_bytes {
            return Err(AttachmentError::TooLarge { size, max: self.max_bytes }.into());
        }
        self.hasher.update(bytes);
        let file = self.file.as_mut().ok_or_else(|| io_at(&self.part)(io::Error::other("finished")))?;
        file.write_all(bytes).map_err(io_at(&self.part))
    }

    /// Installs the file, pending (until a record names it, or a day: a
    /// file already held gets a fresh day), and says whether it was
    /// already held.
    pub fn finish(mut self, now_ms: u64) -> Result<Imported, FileError> {
        let (manifest, sha) = std::mem::take(&mut self.hasher).finish();
        if manifest.size == 0 {
            return Err(AttachmentError::Empty.into());
        }
        let file = self.file.take().ok_or_else(|| io_at(&self.part)(io::Error::other("finished")))?;
        let hash = manifest.hash();
        let already = self.files.has(&hash);
        // The marker first: the sweep never sees it unnamed and unmarked.
        self.files.mark_pending(&hash, now_ms)?;
        self.files.install(&self.part, file, &manifest, &sha)?;
        Ok(Imported { hash, size: manifest.size, sha256: sha, already })
    }
}

impl Drop for Import<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.part);
        }
    }
}

/// A fetched file being written, chunk by chunk, in order.
pub struct Fetching<'a> {
    files: &'a Attachments,
    part: PathBuf,
    file: Option<fs::File>,
    hash: FileHash,
    manifest: Manifest,
    next: usize,
    /// The whole file's SHA-256, as it is written.
    hasher: Hasher,
}

impl Fetching<'_> {
    /// The next chunk wanted, or `None` once all are written.
    pub fn next(&self) -> Option<usize> {
        (self.next < self.manifest.chunks.len()).then_some(self.next)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Checks chunk `index` (the next one) against the manifest and writes
    /// it; a chunk that does not match is refused and nothing is written.
    pub fn write(&mut self, index: usize, bytes: &[u8]) -> Result<(), FileError> {
        if index != self.next {
            return Err(AttachmentError::NoSuchChunk { index, count: self.next }.into());
        }
        self.manifest.check_chunk(index, bytes)?;
        let file = self.file.as_mut().ok_or_else(|| io_at(&self.part)(io::Error::other("finished")))?;
        file.write_all(bytes).map_err(io_at(&self.part))?;
        self.hasher.update(bytes);
        self.next += 1;
        Ok(())
    }

    /// Installs the file once every chunk is written.
    pub fn finish(mut self) -> Result<FileHash, FileError> {
        if self.next().is_some() {
            return Err(AttachmentError::ChunkCount {
                size: self.manifest.size,
                listed: self.next,
                expected: self.manifest.chunks.len(),
            }
            .into());
        }
        let file = self.file.take().ok_or_else(|| io_at(&self.part)(io::Error::other("finished")))?;
        let (_, sha) = std::mem::take(&mut self.hasher).finish();
        let hash = self.files.install(&self.part, file, &self.manifest, &sha)?;
        debug_assert_eq!(hash, self.hash);
        Ok(hash)
    }
}

impl Drop for Fetching<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 13 % 253) as u8).collect()
    }

    #[test]
    fn an_upload_is_stored_by_hash_and_served_chunk_by_chunk() {
        let files = Attachments::temporary().unwrap();
        let data = bytes(CHUNK + 10);
        let mut up = files.import(1 << 30).unwrap();
        for piece in data.chunks(7_000) {
            up.write(piece).unwrap();
        }
        let Imported { hash, size, .. } = up.finish(1).unwrap();
        assert_eq!(size, data.len() as u64);
        assert!(files.has(&hash));
        assert_eq!(files.held().unwrap()[0].0, hash);
        assert!(files.held().unwrap()[0].1.is_some(), "pending until a record names it");
        files.named(&hash);
        assert_eq!(files.held().unwrap(), vec![(hash, None)]);
        assert_eq!(files.chunk(&hash, 1).unwrap().unwrap(), &data[CHUNK..]);
        assert_eq!(files.chunk(&hash, 2).unwrap(), None);

        // Another node fetches it: a bad chunk is refused and not written.
        let other = Attachments::temporary().unwrap();
        let manifest = files.manifest(&hash).unwrap().unwrap();
        let mut fetch = other.fetching(hash, manifest).unwrap();
        let mut bad = files.chunk(&hash, 0).unwrap().unwrap();
        bad[0] ^= 1;
        assert!(matches!(fetch.write(0, &bad), Err(FileError::Refused(AttachmentError::ChunkMismatch { index: 0 }))));
        while let Some(i) = fetch.next() {
            fetch.write(i, &files.chunk(&hash, i).unwrap().unwrap()).unwrap();
        }
        assert_eq!(fetch.finish().unwrap(), hash);
        assert_eq!(fs::read(other.data_path(&hash)).unwrap(), data);

        files.remove(&hash).unwrap();
        assert!(!files.has(&hash));
        assert_eq!(fs::read_dir(files.dir()).unwrap().count(), 0, "no bytes left");
    }

    #[test]
    fn an_upload_over_the_limit_or_abandoned_leaves_nothing() {
        let files = Attachments::temporary().unwrap();
        let mut up = files.import(100).unwrap();
        up.write(&[1; 60]).unwrap();
        assert!(matches!(up.write(&[1; 60]), Err(FileError::Refused(AttachmentError::TooLarge { size: 120, .. }))));
        drop(up);
        assert!(matches!(files.import(100).unwrap().finish(1), Err(FileError::Refused(AttachmentError::Empty))));
        assert_eq!(fs::read_dir(files.dir()).unwrap().count(), 0);
    }
}
