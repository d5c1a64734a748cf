//! The node's local database (docs/architecture.md, "The local database"):
//! cases, case links, API tokens, sessions, the audit log, watchlists and
//! alerts, deconfliction questions and contacts, bundles imported,
//! permissions to pass H2 records outside the network, analysts' pins on
//! indicators' scores, in a
//! directory of its own.
//! Nothing here is shared, and the record store's type has no handle on it:
//! the network task, which gets only the record store, cannot reach a case
//! even by mistake.

pub mod audit;
pub mod bundles;
pub mod cases;
pub mod consultations;
pub mod deconflict;
pub mod permissions;
pub mod pins;
pub mod proposals;
pub mod sessions;
pub mod table;
pub mod tokens;
pub mod watch;

use std::path::Path;

pub use table::Table;

use crate::clock::Clock;
use crate::store::{
    StoreError,
    engine::{Batch, Durability, Engine, Scan, Space, prefix_range},
    fjall::{Compression, FjallEngine},
    memory::MemoryEngine,
};

pub const SPACES: &[Space] = &[
    "cases",
    "case_links",
    "case_values",
    "tokens",
    "token_names",
    "sessions",
    "audit",
    "watch",
    "watch_values",
    "alerts",
    "dead_letters",
    "deconflictions",
    "contacts",
    "allowances",
    "bundles",
    "consultations",
    "permissions",
    "pins",
    "proposals",
    "meta",
];

/// Local database formats this binary reads.
pub const FORMAT: u32 = 1;

pub struct LocalDb {
    engine: Box<dyn Engine>,
    /// "Now" for every row's times (cases, tokens, sessions, audit, alerts).
    clock: Clock,
}

impl LocalDb {
    pub fn open(path: &Path, clock: Clock) -> Result<LocalDb, StoreError> {
        Ok(LocalDb { engine: Box::new(FjallEngine::open(path, SPACES, Compression::Default)?), clock })
    }

    pub fn in_memory(clock: Clock) -> LocalDb {
        LocalDb { engine: Box::new(MemoryEngine::new(SPACES)), clock }
    }

    /// Now, by the node's clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.engine.get(space, key)
    }

    pub fn contains(&self, space: Space, key: &[u8]) -> Result<bool, StoreError> {
        self.engine.contains(space, key)
    }

    pub fn scan_prefix(&self, space: Space, prefix: &[u8], reverse: bool) -> Scan<'_> {
        self.engine.scan(space, prefix_range(prefix), reverse)
    }

    /// Keys in `[from, until)`, in order.
    pub fn scan_range(&self, space: Space, from: &[u8], until: &[u8]) -> Scan<'_> {
        use std::ops::Bound;
        self.engine.scan(space, (Bound::Included(from.to_vec()), Bound::Excluded(until.to_vec())), false)
    }

    /// Applies `batch` atomically and waits until it is on disk.
    pub fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.engine.commit(batch, Durability::Sync)
    }

    /// Applies `batch` atomically; it reaches the disk with the next
    /// [`persist`](Self::persist) (or sync commit).
    pub fn commit_buffered(&self, batch: Batch) -> Result<(), StoreError> {
        self.engine.commit(batch, Durability::Buffered)
    }

    pub fn persist(&self) -> Result<(), StoreError> {
        self.engine.persist()
    }

    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.engine.checkpoint()
    }

    pub fn stats(&self) -> Result<crate::store::EngineStats, StoreError> {
        self.engine.stats()
    }

    /// Writes raw pairs (a restore into an empty database), durably.
    pub fn import(&self, batch: Batch) -> Result<(), StoreError> {
        self.engine.commit(batch, Durability::Sync)
    }

    /// Every stored pair as of one instant (a backup).
    pub fn dump(&self, sink: &mut crate::store::engine::Sink) -> Result<(), StoreError> {
        self.engine.dump(sink)
    }

    pub fn compact(&self) -> Result<(), StoreError> {
        self.engine.compact()
    }

    /// The format version stored, if any.
    pub fn format(&self) -> Result<Option<u32>, StoreError> {
        let v = self.get("meta", b"format")?;
        v.map(|v| {
            v.get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt("local format".into()))
        })
        .transpose()
    }

    pub fn write_format(&self) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.insert("meta", b"format".to_vec(), FORMAT.to_be_bytes().to_vec());
        self.commit(batch)
    }

    /// The next number of a counter kept in `meta` (case ids), staged into
    /// `batch`: the number is taken only if that batch commits. Callers
    /// serialise with their own lock.
    pub fn next_id(&self, counter: &str, batch: &mut Batch) -> Result<u64, StoreError> {
        self.next_ids(counter, 1, batch)
    }

    /// Reserves `n` consecutive ids in one batch; returns the first.
    pub fn next_ids(&self, counter: &str, n: u64, batch: &mut Batch) -> Result<u64, StoreError> {
        let key = [b"counter/", counter.as_bytes()].concat();
        // An unreadable counter is an error: read as "none", it would hand
        // out ids already in use and the new row would replace an old one.
        let last = match self.get("meta", &key)? {
            None => 0,
            Some(v) => v
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|v: Vec<u8>| table::corrupt("meta", &key, &format!("{} bytes, not 8", v.len())))?,
        };
        let next = last + 1;
        batch.insert("meta", key, (next + n.saturating_sub(1)).to_be_bytes().to_vec());
        Ok(next)
    }
}
