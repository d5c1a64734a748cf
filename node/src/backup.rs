//! Online backup and restore (docs/operations.md, "Backup and restore").
//!
//! A backup is a tar archive: `manifest.json`, `kawan.toml`, the pinned
//! `genesis.trust`, and each database as it stood at one instant —
//! `local.kv` (cases, tokens, audit log, watchlists…) then `records.kv` —
//! read from a snapshot while the node goes on serving and ingesting. The
//! local database is read first: records only ever grow, so every record
//! the local database refers to (a case link, an alert) is in the later
//! records snapshot. The agency key (and the operator token file) are added
//! only on request, by the CLI, which then encrypts the archive (age).
//!
//! A `.kv` file is a sequence of entries: a keyspace name (u8 length, bytes),
//! a key (u32 big-endian length, bytes), a value (u32 length, bytes).

use std::{
    collections::BTreeMap,
    io::{BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use kawan_protocol::Envelope;
use serde::{Deserialize, Serialize};

use crate::{
    clock::Clock,
    config::Config,
    data_dir::DataDir,
    node_dir,
    store::{StoreError, engine::Batch, engine::Space},
};

/// Backup formats this binary writes and reads.
pub const FORMAT: u32 = 1;
/// Entries written per batch when restoring.
const RESTORE_BATCH: usize = 10_000;

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
    #[error("backup format {found}; this binary reads format {FORMAT} (upgrade Kawan)")]
    Format { found: u32 },
    #[error("cannot open the restored databases: {0}")]
    Open(String),
    #[error("the restored audit log does not verify: {0}")]
    Audit(String),
    #[error("{bad} of {total} restored records fail their signature check")]
    Records { bad: u64, total: u64 },
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
}

fn put_entry(out: &mut impl Write, space: &str, k: &[u8], v: &[u8]) -> std::io::Result<()> {
    out.write_all(&[space.len() as u8])?;
    out.write_all(space.as_bytes())?;
    out.write_all(&(k.len() as u32).to_be_bytes())?;
    out.write_all(k)?;
    out.write_all(&(v.len() as u32).to_be_bytes())?;
    out.write_all(v)
}

/// Dumps one database into `path`; entries per keyspace.
fn dump_to(
    path: &Path,
    dump: impl FnOnce(&mut crate::store::engine::Sink) -> Result<(), StoreError>,
) -> Result<BTreeMap<String, u64>, BackupError> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut counts = BTreeMap::new();
    dump(&mut |space, k, v| {
        *counts.entry(space.to_string()).or_insert(0) += 1;
        put_entry(&mut out, space, k, v).map_err(|e| StoreError::Write(e.to_string()))
    })?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(counts)
}

/// Writes a backup of a running node to `out`: consistent per database,
/// without stopping writes. `work` is a private scratch directory.
pub fn write(
    data: &DataDir,
    node_dir: &Path,
    config: &Config,
    agency_keys: Vec<String>,
    work: &Path,
    out: impl Write,
) -> Result<Manifest, BackupError> {
    let (local, records) = (work.join("local.kv"), work.join("records.kv"));
    let local_counts = dump_to(&local, |sink| data.local().dump(sink))?;
    let record_counts = dump_to(&records, |sink| data.store.dump(sink))?;
    let mut entries = BTreeMap::new();
    entries.extend(local_counts.into_iter().map(|(s, n)| (format!("local/{s}"), n)));
    entries.extend(record_counts.into_iter().map(|(s, n)| (format!("records/{s}"), n)));
    let manifest = Manifest {
        format: FORMAT,
        kawan_version: env!("CARGO_PKG_VERSION").into(),
        agency: config.agency.name.clone(),
        network: config.agency.network.to_string(),
        agency_keys,
        created_ms: data.clock().now_ms(),
        entries,
    };
    let mut tar = tar::Builder::new(out);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Malformed(e.to_string()))?;
    append_bytes(&mut tar, "manifest.json", &json, manifest.created_ms / 1000)?;
    for (name, path) in
        [(ARCHIVED_CONFIG, crate::config::path(node_dir)), (ARCHIVED_GENESIS, node_dir.join(&config.paths.genesis))]
    {
        if path.is_file() {
            tar.append_path_with_name(&path, name)?;
        }
    }
    tar.append_path_with_name(&local, "local.kv")?;
    tar.append_path_with_name(&records, "records.kv")?;
    tar.into_inner()?.flush()?;
    Ok(manifest)
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

/// Restores a backup into `target` (which must not exist or be empty):
/// files, then both databases; then checks every record's signature and the
/// audit log's hash chain and signed checkpoints.
pub fn restore(archive: impl Read, target: &Path, clock: Clock) -> Result<Restored, BackupError> {
    if target.exists() && std::fs::read_dir(target)?.next().is_some() {
        return Err(BackupError::NotEmpty { path: target.to_owned() });
    }
    std::fs::create_dir_all(target)?;
    // Like `kawan init`: the directory holds cases and the agency key.
    std::fs::set_permissions(target, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let scratch = tempfile::tempdir_in(target)?;
    let mut manifest: Option<Manifest> = None;
    // The key and the genesis go where the restored kawan.toml's [paths]
    // says, once it has been read.
    let (mut key, mut genesis) = (None, None);
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().map_err(|e| BackupError::Malformed(e.to_string()))? {
        let mut entry = entry.map_err(|e| BackupError::Malformed(e.to_string()))?;
        let name = entry.path().map_err(|e| BackupError::Malformed(e.to_string()))?.to_string_lossy().into_owned();
        match name.as_str() {
            "manifest.json" => {
                let mut text = Vec::new();
                entry.read_to_end(&mut text)?;
                let m: Manifest =
                    serde_json::from_slice(&text).map_err(|e| BackupError::Malformed(format!("manifest.json: {e}")))?;
                if m.format != FORMAT {
                    return Err(BackupError::Format { found: m.format });
                }
                manifest = Some(m);
            }
            ARCHIVED_CONFIG | ARCHIVED_GENESIS | ARCHIVED_KEY | node_dir::OPERATOR_TOKEN => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes)?;
                match name.as_str() {
                    ARCHIVED_KEY => key = Some(bytes),
                    ARCHIVED_GENESIS => genesis = Some(bytes),
                    _ => crate::files::write_atomic(&target.join(&name), &bytes, 0o600)?,
                }
            }
            "local.kv" | "records.kv" => {
                // A regular file's bytes only: a link or a device in a
                // tampered archive would make restore read something else.
                if !entry.header().entry_type().is_file() {
                    return Err(BackupError::Malformed(format!("{name} in the archive is not a regular file")));
                }
                let mut file = std::fs::File::create(scratch.path().join(&name))?;
                std::io::copy(&mut entry, &mut file)?;
            }
            other => return Err(BackupError::Malformed(format!("unexpected file {other:?} in the archive"))),
        }
    }
    let manifest = manifest.ok_or_else(|| BackupError::Malformed("no manifest.json".into()))?;
    let config =
        Config::load_file(&target.join(crate::config::FILE)).map_err(|e| BackupError::Malformed(e.to_string()))?;
    let key_restored = key.is_some();
    distinct_paths(&config)?;
    if let Some(bytes) = key {
        write_restored(&inside(target, &config.paths.key, "key")?, &bytes, 0o600)?;
    }
    if let Some(bytes) = genesis {
        write_restored(&inside(target, &config.paths.genesis, "genesis")?, &bytes, 0o644)?;
    }
    let data_path = inside(target, &config.paths.data, "data")?;
    {
        let data = DataDir::open(&data_path, clock.clone()).map_err(|e| BackupError::Open(e.to_string()))?;
        import(&scratch.path().join("local.kv"), crate::local::SPACES, |b| data.local().import(b))?;
        import(&scratch.path().join("records.kv"), crate::store::keys::SPACES, |b| data.store.import(b))?;
        data.close()?;
    }
    drop(scratch);
    // Opened again so the store reads the restored trust list.
    let data = DataDir::open(&data_path, clock.clone()).map_err(|e| BackupError::Open(e.to_string()))?;
    let (mut records, mut bad) = (0u64, 0u64);
    data.store.dump(&mut |space, _, v| {
        if space == "records" {
            records += 1;
            let ok = v.get(8..).and_then(|e| Envelope::from_bytes(e).ok()).is_some_and(|e| e.open().is_ok());
            bad += u64::from(!ok);
        }
        Ok(())
    })?;
    if bad > 0 {
        return Err(BackupError::Records { bad, total: records });
    }
    let keys: Vec<kawan_protocol::AgencyKey> = manifest.agency_keys.iter().filter_map(|k| k.parse().ok()).collect();
    let audit_entries = data.audit.verify(&keys).map_err(|e| BackupError::Audit(e.to_string()))?;
    let unreadable = |e: &dyn std::fmt::Display| BackupError::Open(format!("the restored local database: {e}"));
    let cases = data.cases.list().map_err(|e| unreadable(&e))?.len();
    let tokens = data.tokens.list().map_err(|e| unreadable(&e))?.len();
    data.close()?;
    Ok(Restored { manifest, records, audit_entries, cases, tokens, key_restored })
}

/// Writes a `.kv` file's entries into a database, in batches.
fn import(
    path: &Path,
    spaces: &[Space],
    mut commit: impl FnMut(Batch) -> Result<(), StoreError>,
) -> Result<(), BackupError> {
    let file = std::fs::File::open(path).map_err(|_| {
        BackupError::Malformed(format!("no {} in the archive", path.file_name().unwrap_or_default().display()))
    })?;
    let mut r = BufReader::new(file);
    let mut batch = Batch::default();
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
        batch.insert(space, k, v);
        if batch.len() >= RESTORE_BATCH {
            commit(std::mem::take(&mut batch))?;
        }
    }
    commit(batch)?;
    Ok(())
}

/// A length-prefixed chunk, its length bounded by what the file still holds.
fn read_chunk(r: &mut impl Read) -> Result<Vec<u8>, BackupError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
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
    use kawan_protocol::{Body, Indicator, IndicatorRole, Keypair, Kind, NetworkId, Tlp};

    use super::*;

    /// A node directory with a published record, a case and its audit
    /// entries; its backup archive.
    fn backed_up() -> (tempfile::TempDir, Vec<u8>) {
        backed_up_with_key_at(node_dir::DEFAULT_KEY)
    }

    /// The same, from a node whose kawan.toml keeps its key at `key_path`.
    fn backed_up_with_key_at(key_path: &str) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new("Example Agency", "GB".parse().unwrap(), NetworkId::new("kawan-test").unwrap());
        config.paths.key = key_path.into();
        config.write(dir.path()).unwrap();
        let key = Keypair::from_secret_bytes([3; 32]);
        let data = DataDir::open(&dir.path().join("data"), Clock::system()).unwrap();
        let body = Body::Indicator(Indicator::new(Kind::Domain, "jobs.example", IndicatorRole::JobAd, Tlp::Green));
        data.store.publish(&key, &config.agency.network, body, None).unwrap();
        data.cases
            .create(crate::local::cases::NewCase { reference: "OP-1".into(), title: "t".into(), ..Default::default() })
            .unwrap();
        data.audit.append("analyst", "case.create", "1").unwrap();
        let work = tempfile::tempdir().unwrap();
        let mut archive = Vec::new();
        write(&data, dir.path(), &config, vec![key.public().to_string()], work.path(), &mut archive).unwrap();
        (dir, archive)
    }

    #[test]
    fn a_backup_restores_what_it_holds() {
        let (_dir, archive) = backed_up();
        let target = tempfile::tempdir().unwrap();
        let r = restore(archive.as_slice(), target.path(), Clock::system()).unwrap();
        assert_eq!((r.records, r.cases, r.audit_entries, r.key_restored), (1, 1, 1, false));
        assert!(target.path().join("kawan.toml").is_file());
    }

    /// The archive plus the agency key, as `kawan backup --include-key`
    /// writes it.
    fn with_key(archive: &[u8]) -> Vec<u8> {
        let mut out = tar::Builder::new(Vec::new());
        for entry in tar::Archive::new(archive).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            append_bytes(&mut out, &name, &bytes, 0).unwrap();
        }
        append_bytes(&mut out, ARCHIVED_KEY, b"the key", 0).unwrap();
        out.into_inner().unwrap()
    }

    #[test]
    fn the_key_is_restored_where_kawan_toml_says_and_never_outside_the_directory() {
        let (_dir, archive) = backed_up_with_key_at("keys/agency.key");
        let target = tempfile::tempdir().unwrap();
        let r = restore(with_key(&archive).as_slice(), target.path(), Clock::system()).unwrap();
        assert!(r.key_restored);
        assert_eq!(std::fs::read(target.path().join("keys/agency.key")).unwrap(), b"the key");
        assert!(!target.path().join(node_dir::DEFAULT_KEY).exists());

        let (_dir, archive) = backed_up_with_key_at("../outside.key");
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("restored");
        let err = restore(with_key(&archive).as_slice(), &target, Clock::system()).unwrap_err();
        assert!(err.to_string().contains("leaves the node directory"), "{err}");
        assert!(!parent.path().join("outside.key").exists(), "nothing was written outside");

        // Two [paths] naming one file: the genesis would replace the key.
        let (_dir, archive) = backed_up_with_key_at(node_dir::DEFAULT_GENESIS);
        let target = tempfile::tempdir().unwrap();
        let err = restore(with_key(&archive).as_slice(), target.path(), Clock::system()).unwrap_err();
        assert!(err.to_string().contains("overlap"), "{err}");
    }

    #[test]
    fn a_database_file_that_is_a_link_is_refused() {
        let (_dir, archive) = backed_up();
        let mut out = tar::Builder::new(Vec::new());
        for entry in tar::Archive::new(archive.as_slice()).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            if name == "local.kv" {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                out.append_link(&mut h, "local.kv", "/etc/passwd").unwrap();
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            append_bytes(&mut out, &name, &bytes, 0).unwrap();
        }
        let target = tempfile::tempdir().unwrap();
        let err = restore(out.into_inner().unwrap().as_slice(), target.path(), Clock::system()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_damaged_backup_is_refused_with_a_reason() {
        let (_dir, archive) = backed_up();
        // Cut short inside the records' file.
        let at = archive.windows(12).position(|w| w == b"jobs.example").unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = restore(&archive[..at], target.path(), Clock::system()).unwrap_err();
        assert!(matches!(err, BackupError::Malformed(_) | BackupError::Io(_)), "{err}");
        // Not an archive at all.
        let target = tempfile::tempdir().unwrap();
        assert!(restore(&b"hello"[..], target.path(), Clock::system()).is_err());
        // A record altered inside the archive fails its signature check (the
        // value's last occurrence is in the signed record; the first, in the index).
        let last = archive.windows(12).rposition(|w| w == b"jobs.example").unwrap();
        let mut tampered = archive.clone();
        tampered[last] = b'J';
        let target = tempfile::tempdir().unwrap();
        let err = restore(tampered.as_slice(), target.path(), Clock::system()).unwrap_err();
        assert!(matches!(err, BackupError::Records { bad: 1, total: 1 }), "{err}");
    }
}
