//! Trust-list proposals this coordinator's node holds: its own, and those
//! other coordinators' nodes sent, each with every signature gathered so
//! far (`kawan_protocol::proposal`). Kept after the list moves on, as a
//! record of who proposed and signed what.
//!
//! # Layout
//! `proposals`: the proposal's id (32 bytes) → [`Held`].

use std::sync::Arc;

use kawan_protocol::{RecordId, proposal::Proposal};
use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

const PROPOSALS: Table<Held> = Table::new("proposals");

/// A proposal as this node holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    /// The proposal with its signatures (canonical CBOR, hex).
    pub proposal: String,
    /// When this node first had it, and last learned something of it.
    pub received_ms: u64,
    pub updated_ms: u64,
    /// When this node installed the list it proposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_ms: Option<u64>,
}

impl Held {
    pub fn proposal(&self) -> Result<Proposal, StoreError> {
        let bytes = hex::decode(&self.proposal).map_err(|e| StoreError::Corrupt(format!("a held proposal: {e}")))?;
        Proposal::from_bytes(&bytes).map_err(|e| StoreError::Corrupt(format!("a held proposal: {e}")))
    }
}

pub struct Proposals {
    db: Arc<LocalDb>,
    /// Held while a proposal is read, merged and written back: two copies
    /// arriving at once, or a copy and a local signature, never lose each
    /// other's signatures or withdrawals.
    one: std::sync::Mutex<()>,
}

impl Proposals {
    pub fn open(db: Arc<LocalDb>) -> Proposals {
        Proposals { db, one: std::sync::Mutex::new(()) }
    }

    /// One change at a time (read, merge, write, install).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.one.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, id: &RecordId) -> Result<Option<Held>, StoreError> {
        PROPOSALS.get(&self.db, &id.0)
    }

    /// Every proposal held, in id order.
    pub fn all(&self) -> Result<Vec<Held>, StoreError> {
        PROPOSALS.scan(&self.db, &[], false).map(|r| r.map(|(_, h)| h)).collect()
    }

    /// Stores `proposal` as it now stands.
    pub fn put(&self, proposal: &Proposal, now_ms: u64, installed: bool) -> Result<(), StoreError> {
        let id = proposal.id();
        let before = self.get(&id)?;
        let held = Held {
            proposal: hex::encode(proposal.to_bytes()),
            received_ms: before.as_ref().map_or(now_ms, |b| b.received_ms),
            updated_ms: now_ms,
            installed_ms: before.and_then(|b| b.installed_ms).or(installed.then_some(now_ms)),
        };
        let mut batch = Batch::default();
        PROPOSALS.put(&mut batch, id.0.to_vec(), &held)?;
        self.db.commit(batch)
    }
}
