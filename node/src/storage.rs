//! Opening a node's data directory: one sled database, split into the
//! shared-record store, the local case store and the audit log. They are
//! separate types on purpose: the network layer is handed only the `Store`.

use std::{path::Path, sync::Arc};

use crate::{
    audit::{Audit, AuditError},
    cases::{CaseError, Cases},
    store::{Store, StoreError},
    tokens::{TokenError, Tokens},
};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database in {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cases(#[from] CaseError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
}

pub struct Storage {
    db: sled::Db,
    /// Shared with the network task, which gets nothing else.
    pub store: Arc<Store>,
    pub cases: Cases,
    pub audit: Audit,
    pub tokens: Tokens,
}

impl Storage {
    /// Waits until everything written is on disk.
    pub fn flush(&self) -> Result<(), sled::Error> {
        self.db.flush().map(|_| ())
    }

    /// Opens (or creates) the database in `path`. Fails if another process
    /// has it open.
    pub fn open(path: &Path) -> Result<Storage, OpenError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(256 * 1024 * 1024)
            .open()
            .map_err(|source| OpenError::Open { path: path.display().to_string(), source })?;
        Ok(Storage {
            db: db.clone(),
            store: Arc::new(Store::open(&db)?),
            cases: Cases::open(&db)?,
            audit: Audit::open(&db)?,
            tokens: Tokens::open(&db)?,
        })
    }
}
