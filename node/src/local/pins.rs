//! Analysts' pins on indicators' scores: "I still hold this at 70". A pin
//! is this agency's own judgement, never shared; decay never overrides it
//! (`kawan_protocol::decay`), and a pinned value stays in default searches
//! and alerts however old its evidence.
//!
//! # Layout
//! `pins`: the knowledge's root record id (32 bytes) → [`Pin`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

const PINS: Table<Pin> = Table::new("pins");

/// A score an analyst holds an indicator at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pin {
    /// The knowledge's root record id (hex).
    pub id: String,
    /// The score it is held at, 0–100.
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The token holder who pinned it, and when (Unix ms).
    pub by: String,
    pub at_ms: u64,
}

pub struct Pins {
    db: Arc<LocalDb>,
}

impl Pins {
    pub fn open(db: Arc<LocalDb>) -> Pins {
        Pins { db }
    }

    pub fn get(&self, root: &[u8; 32]) -> Result<Option<Pin>, StoreError> {
        PINS.get(&self.db, root)
    }

    /// The root ids of every pinned indicator.
    pub fn ids(&self) -> Result<Vec<kawan_protocol::RecordId>, StoreError> {
        PINS.scan(&self.db, &[], false)
            .map(|r| {
                r.and_then(|(k, _)| {
                    k.try_into().map(kawan_protocol::RecordId).map_err(|k: Vec<u8>| {
                        crate::local::table::corrupt("pins", &k, &"a key that is not a record id")
                    })
                })
            })
            .collect()
    }

    /// Pins (or re-pins) `root`, durably.
    pub fn pin(&self, root: &[u8; 32], row: &Pin) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        PINS.put(&mut batch, root.to_vec(), row)?;
        self.db.commit(batch)
    }

    /// Removes the pin; the one removed, if there was one.
    pub fn unpin(&self, root: &[u8; 32]) -> Result<Option<Pin>, StoreError> {
        let Some(old) = self.get(root)? else { return Ok(None) };
        let mut batch = Batch::default();
        PINS.remove(&mut batch, root.to_vec());
        self.db.commit(batch)?;
        Ok(Some(old))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[test]
    fn a_pin_is_kept_until_removed() {
        let pins = Pins::open(Arc::new(LocalDb::in_memory(Clock::manual(1_000))));
        let root = [3u8; 32];
        assert_eq!(pins.get(&root).unwrap(), None);
        let row = Pin { id: hex::encode(root), score: 70, note: None, by: "analyst".into(), at_ms: 1_000 };
        pins.pin(&root, &row).unwrap();
        assert_eq!(pins.get(&root).unwrap(), Some(row.clone()));
        assert_eq!(pins.unpin(&root).unwrap(), Some(row));
        assert_eq!(pins.get(&root).unwrap(), None);
    }
}
