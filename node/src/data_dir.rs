//! Opening a node's data directory: the record store in `records/`, the
//! local database (cases, tokens, audit) in `local/` and the files records
//! carry in `attachments/`. They are separate
//! databases on purpose: the network layer is handed only the `Store`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::{
    clock::Clock,
    local::audit::{Audit, AuditError},
    local::cases::{CaseError, Cases},
    local::tokens::{TokenError, Tokens},
    local::{self, LocalDb},
    store::{self, Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "{0} holds a store written by an older Kawan (sled, format 0); this binary reads format {f}. \
         Export what you need with the older binary (kawan export) and import it into a new node",
        f = store::FORMAT
    )]
    SledStore(PathBuf),
    #[error("{path} holds {what} format {found}; this binary reads format {supported} only (upgrade Kawan)")]
    Format { path: PathBuf, what: &'static str, found: u32, supported: u32 },
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: StoreError },
    #[error(transparent)]
    Attachments(#[from] crate::attachments::FileError),
    #[error(transparent)]
    Cases(#[from] CaseError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
}

pub struct DataDir {
    /// Shared with the network task, which gets nothing else.
    pub store: Arc<Store>,
    local: Arc<LocalDb>,
    pub cases: Cases,
    pub audit: Audit,
    pub tokens: Tokens,
    pub sessions: crate::local::sessions::Sessions,
    pub watch: crate::local::watch::Watchlist,
    pub deconflict: crate::local::deconflict::Deconflictions,
    pub bundles: crate::local::bundles::Bundles,
    pub consultations: crate::local::consultations::Consultations,
    pub permissions: crate::local::permissions::Permissions,
    pub pins: crate::local::pins::Pins,
    pub proposals: crate::local::proposals::Proposals,
    pub attachments: crate::attachments::Attachments,
}

impl DataDir {
    /// Waits until everything written is on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.persist()?;
        self.local.persist()
    }

    /// A clean shutdown: everything on disk and folded into tables, so the
    /// next open replays no journal (opening a 1M store stays under 2 s).
    pub fn close(&self) -> Result<(), StoreError> {
        self.store.checkpoint()?;
        self.local.checkpoint()
    }

    /// The local database, for `kawan store stats` and `compact`.
    pub fn local(&self) -> &LocalDb {
        &self.local
    }

    /// The clock both databases read "now" from.
    pub fn clock(&self) -> &Clock {
        self.store.clock()
    }

    /// Opens (or creates) the node's databases in `path`. Fails if another
    /// process has them open, or if they were written in a format this
    /// binary does not read.
    pub fn open(path: &Path, clock: Clock) -> Result<DataDir, OpenError> {
        // sled left these two files at the top of its directory.
        if path.join("conf").is_file() && path.join("db").is_file() {
            return Err(OpenError::SledStore(path.to_owned()));
        }
        std::fs::create_dir_all(path).map_err(|source| OpenError::Create { path: path.to_owned(), source })?;
        finish_purge(path)?;
        let records = path.join("records");
        let opened = |path: &Path| {
            let path = path.to_owned();
            move |source| OpenError::Open { path, source }
        };
        let store = Store::open(&records, clock.clone()).map_err(opened(&records))?;
        check_format(&records, "a record store", store.format(), store::FORMAT, || store.write_format())?;
        let local_path = path.join("local");
        let local = Arc::new(LocalDb::open(&local_path, clock).map_err(opened(&local_path))?);
        check_format(&local_path, "a local database", local.format(), local::FORMAT, || local.write_format())?;
        let attachments = crate::attachments::Attachments::open(&path.join("attachments"))?;
        DataDir::assemble(Arc::new(store), local, attachments)
    }

    /// Both databases in memory, for tests.
    pub fn in_memory(clock: Clock) -> Result<DataDir, OpenError> {
        DataDir::assemble(
            Arc::new(Store::in_memory(clock.clone())),
            Arc::new(LocalDb::in_memory(clock)),
            crate::attachments::Attachments::temporary()?,
        )
    }

    fn assemble(
        store: Arc<Store>,
        local: Arc<LocalDb>,
        attachments: crate::attachments::Attachments,
    ) -> Result<DataDir, OpenError> {
        Ok(DataDir {
            store,
            cases: Cases::open(local.clone())?,
            audit: Audit::open(local.clone())?,
            tokens: Tokens::open(local.clone())?,
            sessions: crate::local::sessions::Sessions::open(local.clone()),
            watch: crate::local::watch::Watchlist::open(local.clone()),
            deconflict: crate::local::deconflict::Deconflictions::open(local.clone()),
            bundles: crate::local::bundles::Bundles::open(local.clone()),
            consultations: crate::local::consultations::Consultations::open(local.clone()),
            permissions: crate::local::permissions::Permissions::open(local.clone()),
            pins: crate::local::pins::Pins::open(local.clone()),
            proposals: crate::local::proposals::Proposals::open(local.clone()),
            local,
            attachments,
        })
    }
}

/// A new database gets this binary's format; an existing one must have it.
fn check_format(
    path: &Path,
    what: &'static str,
    found: Result<Option<u32>, StoreError>,
    supported: u32,
    write: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), OpenError> {
    let open = |source| OpenError::Open { path: path.to_owned(), source };
    match found.map_err(open)? {
        None => write().map_err(open),
        Some(f) if f == supported => Ok(()),
        Some(found) => Err(OpenError::Format { path: path.to_owned(), what, found, supported }),
    }
}

/// Rewrites both databases of a stopped node's data directory into fresh
/// ones and removes the old files, so that nothing erased or expired
/// survives anywhere on disk: not in old tables, and not in the write-ahead
/// journal (which a running node keeps until it has written tens of
/// megabytes more). `kawan store purge`. Returns the pairs copied.
///
/// Crash-safe in order: the copy is written and synced beside the
/// original; the original is moved aside only then, the copy put in its
/// place, and the original deleted last. A crash leaves either the original
/// in place or a complete copy (and a `.old` directory to delete).
pub fn purge(path: &Path) -> Result<u64, OpenError> {
    use store::engine::Engine as _;
    finish_purge(path)?;
    let mut copied = 0;
    for (name, spaces) in [("records", store::SPACES), ("local", local::SPACES)] {
        let live = path.join(name);
        if !live.is_dir() {
            continue;
        }
        let fresh = path.join(format!("{name}.purge"));
        let old = path.join(format!("{name}.old"));
        let io = |p: &Path| {
            let path = p.to_owned();
            move |source| OpenError::Create { path, source }
        };
        let opened = |p: &Path| {
            let path = p.to_owned();
            move |source| OpenError::Open { path, source }
        };
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh).map_err(io(&fresh))?;
        }
        {
            let from = store::fjall::FjallEngine::open(&live, spaces, store::fjall::Compression::Default)
                .map_err(opened(&live))?;
            let to = store::fjall::FjallEngine::open(&fresh, spaces, store::fjall::Compression::Default)
                .map_err(opened(&fresh))?;
            let mut batch = store::engine::Batch::default();
            let mut err = None;
            let dumped = from.dump(&mut |space, k, v| {
                batch.insert(space, k.to_vec(), v.to_vec());
                copied += 1;
                if batch.len() >= 10_000
                    && let Err(e) = to.commit(std::mem::take(&mut batch), store::engine::Durability::Sync)
                {
                    // Stop at the first failed write: the copy is incomplete
                    // and the original stays in place.
                    let stop = StoreError::Write(e.to_string());
                    err = Some(e);
                    return Err(stop);
                }
                Ok(())
            });
            if let Some(e) = err {
                return Err(OpenError::Open { path: fresh, source: e });
            }
            dumped.map_err(opened(&live))?;
            to.commit(batch, store::engine::Durability::Sync).map_err(opened(&fresh))?;
            to.checkpoint().map_err(opened(&fresh))?;
        }
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        std::fs::rename(&live, &old).map_err(io(&live))?;
        std::fs::rename(&fresh, &live).map_err(io(&fresh))?;
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(copied)
}

/// Finishes or undoes a purge a crash interrupted, from what is on disk
/// (`purge` writes the copy completely before it moves the original):
/// - original moved aside (`.old`), copy not yet in place: the copy is
///   complete, so it goes in place (or, without one, the original goes back);
/// - both in place and aside: only deleting the original was left;
/// - a copy beside the original: the copy may be incomplete; deleted.
fn finish_purge(path: &Path) -> Result<(), OpenError> {
    for name in ["records", "local"] {
        let (live, fresh, old) =
            (path.join(name), path.join(format!("{name}.purge")), path.join(format!("{name}.old")));
        let io = |p: &Path| {
            let path = p.to_owned();
            move |source| OpenError::Create { path, source }
        };
        if !live.exists() && old.exists() {
            let back = if fresh.exists() { &fresh } else { &old };
            std::fs::rename(back, &live).map_err(io(back))?;
        }
        for leftover in [&fresh, &old] {
            if live.exists() && leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
            }
        }
    }
    Ok(())
}
