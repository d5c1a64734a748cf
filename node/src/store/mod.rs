//! The node's record store (DESIGN.md §6): verified ingest, the author's own
//! publishing, queries with provenance, and the trust list in force.
//!
//! One writer at a time (a mutex), many readers. A write is acknowledged only
//! after `flush`, i.e. after it is on disk. Case data is *not* here: it lives
//! in [`crate::cases`], a separate type that the network code never receives.

mod ingest;
mod keys;
mod query;
mod trust;

use std::{
    sync::{Mutex, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

pub use ingest::{IngestError, Ingested, PublishError, Source, type_label};
pub use query::{BulkItem, BulkResult, ContentType, Cursor, Hit, Query};
pub use trust::TrustStoreError;

use kawan_protocol::{AgencyKey, Channel, Envelope, Head, Record, RecordId, TrustList};

/// Why the store could not do what was asked (disk, corruption).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored data is corrupt at {0}")]
    Corrupt(String),
}

/// A record as stored: the verified bytes, decoded, and when it arrived here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: RecordId,
    pub record: Record,
    pub envelope: Envelope,
    pub added_ms: u64,
}

pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    trust_tree: sled::Tree,
    /// Serialises writers: seq assignment, dedupe and head updates are
    /// read-modify-write over several keys.
    writer: Mutex<()>,
    /// Number of the next ingest batch (`A` keys); taken only while holding `writer`.
    next_counter: Mutex<u64>,
    trust: RwLock<Option<std::sync::Arc<TrustList>>>,
}

impl Store {
    /// Opens the store in an already-open sled database.
    pub fn open(db: &sled::Db) -> Result<Store, StoreError> {
        let store = Store {
            db: db.clone(),
            records: db.open_tree("records")?,
            trust_tree: db.open_tree("trust")?,
            writer: Mutex::new(()),
            next_counter: Mutex::new(0),
            trust: RwLock::new(None),
        };
        // Receive order continues after the last record added.
        if let Some((k, _)) = store.records.scan_prefix([keys::ADDED]).next_back().transpose()? {
            let last = keys::u64_be(&k[9..]).ok_or_else(|| corrupt("added key"))?;
            *store.next_counter.lock().unwrap_or_else(|e| e.into_inner()) = last + 1;
        }
        store.load_trust()?;
        Ok(store)
    }

    /// Fetches a record by id.
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        let Some(v) = self.records.get(keys::record(id))? else {
            return Ok(None);
        };
        decode_stored(*id, &v).map(Some)
    }

    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.records.contains_key(keys::record(id))?)
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
        for item in self.records.scan_prefix([keys::COUNT]) {
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
        for item in self.records.scan_prefix([keys::HEAD]) {
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
        let Some(v) = self.records.get(keys::head(channel, author))? else { return Ok(LogState::default()) };
        let head = keys::u64_be(&v).ok_or_else(|| corrupt("head value"))?;
        let max = v.get(8..).and_then(keys::u64_be).unwrap_or(head);
        Ok(LogState { head, max })
    }

    /// Envelopes of one log after `after_seq`, in seq order, at most `limit`.
    /// Stops at the first gap: what follows a gap is useless to a peer until
    /// the gap is filled.
    pub fn log_after(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = keys::log(channel, author, after_seq.saturating_add(1));
        let end = keys::log(channel, author, u64::MAX);
        let mut out = Vec::new();
        for (expect, item) in (after_seq.saturating_add(1)..).zip(self.records.range(start..=end)) {
            let (k, v) = item?;
            let seq = keys::u64_be(&k[k.len() - 8..]).ok_or_else(|| corrupt("log key"))?;
            if seq != expect || out.len() >= limit {
                break;
            }
            let id = RecordId(v.as_ref().try_into().map_err(|_| corrupt("log value"))?);
            let rec = self.records.get(keys::record(&id))?.ok_or_else(|| corrupt("log points at missing record"))?;
            out.push(rec[8..].to_vec());
        }
        Ok(out)
    }

    /// Authors flagged for equivocation (two records in one log slot).
    pub fn equivocators(&self) -> Result<Vec<AgencyKey>, StoreError> {
        self.records
            .scan_prefix([keys::FLAGGED])
            .map(|item| {
                let (k, _) = item?;
                Ok(AgencyKey(k[1..].try_into().map_err(|_| corrupt("flag key"))?))
            })
            .collect()
    }

    pub fn is_equivocator(&self, author: &AgencyKey) -> Result<bool, StoreError> {
        Ok(self.records.contains_key(keys::flagged(author))?)
    }

    /// Bytes used on disk by the whole database.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Waits until everything written so far is on disk.
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

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

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
