//! The node's record store (docs/architecture.md, "Store"): verified ingest,
//! the author's own publishing, queries with provenance, and the trust list
//! in force.
//!
//! The rules live here; the bytes live in an [`Engine`]: fjall on disk, or
//! memory for tests and the simulator. Writers meet in a group commit
//! ([`commit`]): one atomic, synced batch for everyone waiting, and nothing is
//! readable, servable or acknowledged before that batch is on disk. Case data
//! is *not* here: it lives in [`crate::local`], a separate database this type
//! cannot reach.

mod anchor;
mod commit;
pub mod engine;
mod expiry;
pub mod fjall;
mod ingest;
pub mod keys;
pub mod memory;
mod query;
mod trust;

use std::{path::Path, sync::RwLock};

pub use anchor::Withdrawn;
pub use engine::{Engine, EngineStats, SpaceStats};
pub use expiry::{EXPIRY_GRACE_MS, Gone, Tombstone, due_of};
pub(crate) use ingest::derived_keys;
pub use ingest::{IngestError, Ingested, PublishError, Source, type_label};
pub use keys::SPACES;
pub use query::{BulkItem, BulkResult, Cursor, Hit, Query};
pub use trust::TrustStoreError;

use kawan_protocol::{AgencyKey, Channel, Envelope, Head, Record, RecordId, TrustList};

use engine::{Batch, Durability, KeyRange, Scan, prefix_range};

use crate::clock::Clock;

/// Why the store could not do what was asked (disk, corruption).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(#[from] ::fjall::Error),
    #[error("{0} is in use by another process (is a node already running there?)")]
    Locked(String),
    #[error("write failed, nothing of it was stored: {0}")]
    Write(String),
    #[error("stored data is corrupt at {0}")]
    Corrupt(String),
    #[error("a worker thread panicked during {0}")]
    Worker(&'static str),
}

/// Store formats this binary reads. Written at creation, checked at open.
pub const FORMAT: u32 = 1;

/// A record as stored: the verified bytes, decoded, and when it arrived here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: RecordId,
    pub record: Record,
    pub envelope: Envelope,
    pub added_ms: u64,
}

pub struct Store {
    engine: Box<dyn Engine>,
    /// "Now" for arrival times, key windows and trust-list checks.
    clock: Clock,
    commit: commit::GroupCommit,
    /// The trust list in force, and its index (replaced together).
    trust: RwLock<Option<TrustInForce>>,
}

impl Store {
    /// Opens (or creates) the record store on disk in `path`.
    pub fn open(path: &Path, clock: Clock) -> Result<Store, StoreError> {
        Store::open_with(path, fjall::Compression::Default, clock)
    }

    /// Opens on disk with a chosen block compression (benchmarks compare them).
    pub fn open_with(path: &Path, compression: fjall::Compression, clock: Clock) -> Result<Store, StoreError> {
        Store::new(Box::new(fjall::FjallEngine::open(path, keys::SPACES, compression)?), clock)
    }

    /// A store in memory, for tests and the simulator.
    pub fn in_memory(clock: Clock) -> Store {
        // An empty in-memory store has nothing to load; `new` cannot fail.
        Store::new(Box::new(memory::MemoryEngine::new(keys::SPACES)), clock)
            .unwrap_or_else(|e| unreachable!("empty in-memory store: {e}"))
    }

    /// A store over any engine (tests wrap one to inject faults).
    pub fn new(engine: Box<dyn Engine>, clock: Clock) -> Result<Store, StoreError> {
        // Receive order continues after the last batch added.
        let last = engine.scan(keys::space(keys::ADDED), prefix_range(&[keys::ADDED]), true).next().transpose()?;
        let next_batch = match last {
            Some((k, _)) => keys::u64_be(&k[9..]).ok_or_else(|| corrupt("added key"))? + 1,
            None => 0,
        };
        let store = Store { engine, clock, commit: commit::GroupCommit::new(next_batch), trust: RwLock::new(None) };
        store.load_trust()?;
        Ok(store)
    }

    /// The clock this store reads "now" from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by this store's clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The format version stored, if any (a new store has none yet).
    pub fn format(&self) -> Result<Option<u32>, StoreError> {
        let v = self.get_key(&keys::format())?;
        v.map(|v| v.get(..4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes).ok_or_else(|| corrupt("format")))
            .transpose()
    }

    /// Marks a new store with this binary's format.
    pub fn write_format(&self) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.insert(keys::space(keys::META), keys::format(), FORMAT.to_be_bytes().to_vec());
        self.commit.locked(|| self.engine.commit(batch, Durability::Sync))
    }

    /// Fetches a record by id.
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        let Some(v) = self.get_key(&keys::record(id))? else {
            return Ok(None);
        };
        decode_stored(*id, &v).map(Some)
    }

    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        self.contains_key(&keys::record(id))
    }

    /// The stored record whose id begins with these 8 bytes (what
    /// announcements and asks name records by), if any: the first in id
    /// order (two sharing a prefix is a one-in-2^64 event).
    pub fn id_by_short(&self, short: &[u8; 8]) -> Result<Option<RecordId>, StoreError> {
        let Some(item) = self.scan_prefix(&keys::cat(keys::RECORD, &[short]), false).next() else {
            return Ok(None);
        };
        let (key, _) = item?;
        Ok(key.get(1..33).and_then(|id| id.try_into().ok()).map(RecordId))
    }

    /// Number of records stored.
    pub fn len(&self) -> usize {
        self.counts().map(|c| c.iter().map(|(_, _, n)| *n as usize).sum()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records stored per (kind or body type, channel), kept up to date by
    /// every write so that status and metrics never scan the store.
    pub fn counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&[keys::COUNT], false) {
            let (k, v) = item?;
            let text = String::from_utf8_lossy(&k[1..]).into_owned();
            let (label, channel) = text.split_once('\0').ok_or_else(|| corrupt("count key"))?;
            out.push((label.to_string(), channel.to_string(), keys::u64_be(&v).unwrap_or(0)));
        }
        Ok(out)
    }

    /// Highest contiguous seq of every log on `channels` (all when `None`).
    pub fn heads(&self, channels: Option<&[Channel]>) -> Result<Vec<Head>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&[keys::HEAD], false) {
            let (k, v) = item?;
            let (channel, author) = keys::parse_head(&k).ok_or_else(|| corrupt("head key"))?;
            if channels.is_some_and(|cs| !cs.contains(&channel)) {
                continue;
            }
            let seq = keys::u64_be(&v).ok_or_else(|| corrupt("head value"))?;
            out.push(Head { channel, author, seq });
        }
        Ok(out)
    }

    /// The highest contiguous seq of one log (0 if none).
    pub fn head(&self, channel: &Channel, author: &AgencyKey) -> Result<u64, StoreError> {
        Ok(self.log_state(channel, author)?.head)
    }

    fn log_state(&self, channel: &Channel, author: &AgencyKey) -> Result<LogState, StoreError> {
        let Some(v) = self.get_key(&keys::head(channel, author))? else { return Ok(LogState::default()) };
        let head = keys::u64_be(&v).ok_or_else(|| corrupt("head value"))?;
        let max = v.get(8..).and_then(keys::u64_be).unwrap_or(head);
        Ok(LogState { head, max })
    }

    /// The id of the record in one log slot, if this node holds it.
    pub fn log_slot(&self, channel: &Channel, author: &AgencyKey, seq: u64) -> Result<Option<RecordId>, StoreError> {
        let Some(v) = self.get_key(&keys::log(channel, author, seq))? else { return Ok(None) };
        Ok(Some(RecordId(v.as_slice().try_into().map_err(|_| corrupt("log value"))?)))
    }

    /// Envelopes of one log after `after_seq`, in seq order, at most `limit`.
    /// Stops at the first gap: what follows a gap is useless to a peer until
    /// the gap is filled. Slots whose record is erased or expired are
    /// skipped (their tombstones hold them; sync names them as gone). Nothing below a retired key's checked chain
    /// ([`Store::checked_from`]).
    pub fn log_after(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.log_entries_after(channel, author, after_seq, limit)?.into_iter().map(|(_, e)| e).collect())
    }

    /// Like [`Store::log_after`], with when this node stored each record
    /// (Unix ms): a bundle `--since` a time means records received since.
    pub fn log_entries_after(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        if after_seq.saturating_add(1) < self.checked_from(channel, author)? {
            return Ok(Vec::new());
        }
        let start = keys::log(channel, author, after_seq.saturating_add(1));
        let end = keys::log(channel, author, u64::MAX);
        let mut out = Vec::new();
        let range = (std::ops::Bound::Included(start), std::ops::Bound::Included(end));
        for (expect, item) in (after_seq.saturating_add(1)..).zip(self.scan(range, false)) {
            let (k, v) = item?;
            let seq = keys::u64_be(&k[k.len() - 8..]).ok_or_else(|| corrupt("log key"))?;
            if seq != expect || out.len() >= limit {
                break;
            }
            let id = RecordId(v.as_slice().try_into().map_err(|_| corrupt("log value"))?);
            let Some(rec) = self.get_key(&keys::record(&id))? else {
                // Erased or expired: its tombstone holds the slot, and the
                // log goes on after it.
                if self.contains_key(&keys::gone(&id))? {
                    continue;
                }
                return Err(corrupt("log points at missing record"));
            };
            let added = rec.get(..8).and_then(keys::u64_be).ok_or_else(|| corrupt("record value"))?;
            out.push((added, rec[8..].to_vec()));
        }
        Ok(out)
    }

    /// Every stored record whose id's first byte is in `first..=last`, in id
    /// order: one sequential read, for reports over the whole store (split
    /// the byte range to read it on several cores).
    pub fn records_by_id(&self, first: u8, last: u8) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + '_ {
        let start = std::ops::Bound::Included(vec![keys::RECORD, first]);
        let end = match last.checked_add(1) {
            Some(next) => std::ops::Bound::Excluded(vec![keys::RECORD, next]),
            None => std::ops::Bound::Excluded(vec![keys::RECORD + 1]),
        };
        self.scan((start, end), false).map(|item| {
            let (k, v) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("record key"))?;
            decode_stored(id, &v)
        })
    }

    /// Authors flagged for equivocation (two records in one log slot).
    pub fn equivocators(&self) -> Result<Vec<AgencyKey>, StoreError> {
        self.scan_prefix(&[keys::FLAGGED], false)
            .map(|item| {
                let (k, _) = item?;
                Ok(AgencyKey(k[1..].try_into().map_err(|_| corrupt("flag key"))?))
            })
            .collect()
    }

    pub fn is_equivocator(&self, author: &AgencyKey) -> Result<bool, StoreError> {
        self.contains_key(&keys::flagged(author))
    }

    /// Bytes used on disk by the record store.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.engine.stats()?.total_bytes_on_disk)
    }

    /// Keys and bytes per keyspace, and the journal (`kawan store stats`).
    pub fn stats(&self) -> Result<EngineStats, StoreError> {
        self.engine.stats()
    }

    /// Rewrites the tables to reclaim space (`kawan store compact`).
    /// Every stored pair as of one instant (a backup).
    pub fn dump(&self, sink: &mut engine::Sink) -> Result<(), StoreError> {
        self.engine.dump(sink)
    }

    /// Writes raw pairs (a restore into an empty store), durably.
    pub fn import(&self, batch: engine::Batch) -> Result<(), StoreError> {
        self.engine.commit(batch, engine::Durability::Sync)
    }

    pub fn compact(&self) -> Result<(), StoreError> {
        self.engine.compact()
    }

    /// Waits until everything written so far is on disk.
    pub fn persist(&self) -> Result<(), StoreError> {
        self.engine.persist()
    }

    /// Folds the journal into tables: the next open starts without replaying it.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.engine.checkpoint()
    }

    // Keys carry their namespace byte; the namespace picks the keyspace.

    fn get_key(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.engine.get(keys::space_of(key), key)
    }

    fn contains_key(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.engine.contains(keys::space_of(key), key)
    }

    fn scan_prefix(&self, prefix: &[u8], reverse: bool) -> Scan<'_> {
        self.scan(prefix_range(prefix), reverse)
    }

    /// A range within one namespace (both ends share the namespace byte).
    fn scan(&self, range: KeyRange, reverse: bool) -> Scan<'_> {
        let space = match &range.0 {
            std::ops::Bound::Included(k) | std::ops::Bound::Excluded(k) => keys::space_of(k),
            std::ops::Bound::Unbounded => keys::space(0),
        };
        self.engine.scan(space, range, reverse)
    }
}

/// The trust list in force, its index, and its retention policy (replaced
/// together).
type TrustInForce =
    (std::sync::Arc<TrustList>, std::sync::Arc<kawan_protocol::Membership>, std::sync::Arc<kawan_protocol::Retention>);

/// Where a log stands: its highest contiguous seq, and the highest seq stored
/// (above the head when records arrived out of order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LogState {
    head: u64,
    max: u64,
}

impl LogState {
    fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.head.to_be_bytes());
        b[8..].copy_from_slice(&self.max.to_be_bytes());
        b
    }
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// `added_ms(8) ‖ envelope` → StoredRecord. Stored records were verified on
/// the way in, so only the (bounded) decode is repeated here.
fn decode_stored(id: RecordId, v: &[u8]) -> Result<StoredRecord, StoreError> {
    let added_ms = keys::u64_be(v).ok_or_else(|| corrupt("record value"))?;
    let envelope = Envelope::from_bytes(&v[8..]).map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?;
    let record = envelope.record_unverified().map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?;
    Ok(StoredRecord { id, record, envelope, added_ms })
}
