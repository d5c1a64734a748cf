//! Bundles this node imported (`kawan bundle import`), by bundle id: the
//! same file imported again is refused, naming when it was taken in.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

/// `bundles`: bundle id (BLAKE3 of its signed body) → what was imported.
const IMPORTED: Table<Imported> = Table::new("bundles");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub imported_ms: u64,
    /// The exporting member's name, as the trust list had it.
    pub from: String,
    pub created_ms: u64,
    /// Records new here, already held, and refused.
    pub new: u64,
    pub duplicates: u64,
    pub refused: u64,
}

pub struct Bundles {
    db: Arc<LocalDb>,
}

impl Bundles {
    pub fn open(db: Arc<LocalDb>) -> Bundles {
        Bundles { db }
    }

    /// When (and what) the bundle `id` was imported, if it was.
    pub fn imported(&self, id: &[u8; 32]) -> Result<Option<Imported>, StoreError> {
        IMPORTED.get(&self.db, id)
    }

    /// Remembers an import, durably.
    pub fn record(&self, id: &[u8; 32], row: &Imported) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        IMPORTED.put(&mut batch, id.to_vec(), row)?;
        self.db.commit(batch)
    }
}
