//! Watchlists and alerts (local; nothing here leaves the node). An analyst
//! watches values; every value linked to a local case is watched too. When
//! a record arrives whose normalised value matches, an alert says who
//! published what, on which channel, and which watch entries or cases it
//! matched. Alerts are kept in the local database, streamed to open
//! browsers (server-sent events) and, if configured, posted to the agency's
//! own case system as a signed webhook.

use std::sync::{Arc, Mutex};

use kawan_protocol::Kind;
use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no watch entry {0}")]
    NoEntry(u64),
    #[error("no alert {0}")]
    NoAlert(u64),
}

/// `watch`: entry id (u64 BE) → the entry; indexed in `watch_values`.
const ENTRIES: Table<Entry> = Table::new("watch");
/// `alerts`: alert id (u64 BE) → the alert.
const ALERTS: Table<Alert> = Table::new("alerts");
/// `dead_letters`: alert id (u64 BE) → what the webhook could not deliver.
const DEAD_LETTERS: Table<DeadLetter> = Table::new("dead_letters");

/// A value an analyst watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: u64,
    #[schema(value_type = String)]
    pub kind: Kind,
    /// In normal form.
    pub value: String,
    pub note: Option<String>,
    /// The token name that watches it.
    pub owner: String,
    pub created_ms: u64,
    /// After this instant (Unix ms) it no longer alerts.
    pub expires_ms: Option<u64>,
}

/// What a new record matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: u64,
    pub created_ms: u64,
    /// The record that arrived (its id, hex), and the knowledge it belongs to.
    pub record: String,
    pub root: String,
    /// indicator, revision, sighting or referral.
    pub r#type: String,
    pub author: String,
    pub author_name: String,
    pub channel: String,
    #[schema(value_type = String)]
    pub kind: Kind,
    pub value: String,
    /// Watch entries it matched.
    pub watches: Vec<u64>,
    /// Local cases whose linked records carry the same value.
    pub cases: Vec<u64>,
    /// (Requests from other agencies) this agency's own records that carry
    /// the value asked about (ids, hex): every analyst is told.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ours: Vec<String>,
    /// Token names to tell (owners of the matched entries; everyone for cases).
    pub for_owners: Vec<String>,
    pub acknowledged_by: Option<String>,
}

/// An alert the webhook could not deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub alert: u64,
    pub url: String,
    pub attempts: u32,
    pub error: String,
    pub failed_ms: u64,
}

/// Keyspaces: `watch` (id → entry), `watch_values` (kind ‖ 0 ‖ value ‖ 0 ‖
/// id → ()), `alerts` (id → alert), `dead_letters` (alert id → dead letter).
pub struct Watchlist {
    db: Arc<LocalDb>,
    writer: Mutex<()>,
}

impl Watchlist {
    pub fn open(db: Arc<LocalDb>) -> Watchlist {
        Watchlist { db, writer: Mutex::new(()) }
    }

    pub fn add(
        &self,
        owner: &str,
        kind: Kind,
        value: String,
        note: Option<String>,
        expires_ms: Option<u64>,
    ) -> Result<Entry, WatchError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        let entry = Entry {
            id: self.db.next_id("watch", &mut batch)?,
            kind,
            value,
            note,
            owner: owner.to_string(),
            created_ms: self.db.now_ms(),
            expires_ms,
        };
        ENTRIES.put(&mut batch, entry.id.to_be_bytes().to_vec(), &entry)?;
        batch.insert("watch_values", value_key(kind, &entry.value, entry.id), Vec::new());
        self.db.commit(batch)?;
        Ok(entry)
    }

    /// Adds many entries in one durable write (an imported watchlist).
    pub fn add_many(&self, owner: &str, values: Vec<(Kind, String)>) -> Result<usize, WatchError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        let now = self.db.now_ms();
        let n = values.len();
        let first = self.db.next_ids("watch", n as u64, &mut batch)?;
        for ((kind, value), id) in values.into_iter().zip(first..) {
            let entry =
                Entry { id, kind, value, note: None, owner: owner.to_string(), created_ms: now, expires_ms: None };
            batch.insert("watch_values", value_key(kind, &entry.value, id), Vec::new());
            ENTRIES.put(&mut batch, id.to_be_bytes().to_vec(), &entry)?;
        }
        self.db.commit(batch)?;
        Ok(n)
    }

    pub fn remove(&self, id: u64) -> Result<Entry, WatchError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let entry = self.get(id)?;
        let mut batch = Batch::default();
        ENTRIES.remove(&mut batch, id.to_be_bytes().to_vec());
        batch.remove("watch_values", value_key(entry.kind, &entry.value, id));
        self.db.commit(batch)?;
        Ok(entry)
    }

    pub fn get(&self, id: u64) -> Result<Entry, WatchError> {
        ENTRIES.get(&self.db, &id.to_be_bytes())?.ok_or(WatchError::NoEntry(id))
    }

    pub fn entries(&self) -> Result<Vec<Entry>, WatchError> {
        Ok(ENTRIES.scan(&self.db, &[], false).map(|row| row.map(|(_, e)| e)).collect::<Result<_, _>>()?)
    }

    /// Unexpired entries watching `value`: one index scan, whatever the
    /// size of the watchlist.
    pub fn watching(&self, kind: Kind, value: &str, now: u64) -> Result<Vec<Entry>, WatchError> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix("watch_values", &value_prefix(kind, value), false) {
            let (k, _) = item?;
            let id = k.get(k.len().saturating_sub(8)..).and_then(|b| b.try_into().ok()).map_or(0, u64::from_be_bytes);
            let entry = self.get(id)?;
            if entry.expires_ms.is_none_or(|e| now < e) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Stores a new alert (its id assigned here).
    pub fn raise(&self, alert: Alert) -> Result<Alert, WatchError> {
        Ok(self.raise_all(vec![alert])?.remove(0))
    }

    /// Stores new alerts in one durable write (the alerts of one ingested
    /// batch), their ids assigned here.
    pub fn raise_all(&self, mut alerts: Vec<Alert>) -> Result<Vec<Alert>, WatchError> {
        if alerts.is_empty() {
            return Ok(alerts);
        }
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        let first = self.db.next_ids("alert", alerts.len() as u64, &mut batch)?;
        for (alert, id) in alerts.iter_mut().zip(first..) {
            alert.id = id;
            ALERTS.put(&mut batch, id.to_be_bytes().to_vec(), alert)?;
        }
        self.db.commit(batch)?;
        Ok(alerts)
    }

    pub fn alert(&self, id: u64) -> Result<Alert, WatchError> {
        ALERTS.get(&self.db, &id.to_be_bytes())?.ok_or(WatchError::NoAlert(id))
    }

    /// Alerts, newest first, at most `limit`.
    pub fn alerts(&self, limit: usize) -> Result<Vec<Alert>, WatchError> {
        Ok(ALERTS.scan(&self.db, &[], true).take(limit).map(|row| row.map(|(_, a)| a)).collect::<Result<_, _>>()?)
    }

    /// Removes the alerts about records that are gone (erased or expired
    /// shared records: `gone` says which, by hex id), with their dead
    /// letters. Returns how many went.
    pub fn forget(&self, gone: impl Fn(&str) -> bool) -> Result<usize, WatchError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        let mut n = 0;
        for row in ALERTS.scan(&self.db, &[], false) {
            let (k, a) = row?;
            if gone(&a.record) || gone(&a.root) {
                ALERTS.remove(&mut batch, k.clone());
                DEAD_LETTERS.remove(&mut batch, k);
                n += 1;
            }
        }
        if n > 0 {
            self.db.commit(batch)?;
        }
        Ok(n)
    }

    pub fn acknowledge(&self, id: u64, by: &str) -> Result<Alert, WatchError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut alert = self.alert(id)?;
        alert.acknowledged_by.get_or_insert_with(|| by.to_string());
        let mut batch = Batch::default();
        ALERTS.put(&mut batch, id.to_be_bytes().to_vec(), &alert)?;
        self.db.commit(batch)?;
        Ok(alert)
    }
}

impl Watchlist {
    pub fn dead_letter(&self, d: &DeadLetter) -> Result<(), WatchError> {
        let mut batch = Batch::default();
        DEAD_LETTERS.put(&mut batch, d.alert.to_be_bytes().to_vec(), d)?;
        self.db.commit(batch)?;
        Ok(())
    }

    /// Undelivered alerts, newest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, WatchError> {
        Ok(DEAD_LETTERS.scan(&self.db, &[], true).map(|row| row.map(|(_, d)| d)).collect::<Result<_, _>>()?)
    }
}

fn value_prefix(kind: Kind, value: &str) -> Vec<u8> {
    let mut k = kind.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

fn value_key(kind: Kind, value: &str, id: u64) -> Vec<u8> {
    let mut k = value_prefix(kind, value);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The (kind, value) pairs a record speaks about: an indicator's value, a
/// referral's subjects (a sighting speaks about its target's, found by the
/// caller).
pub fn values_of(body: &kawan_protocol::Body) -> Vec<(Kind, String)> {
    match body.content() {
        Some(kawan_protocol::Content::Indicator(i)) => vec![(i.kind, i.value)],
        Some(kawan_protocol::Content::Referral(r)) => r.subjects.into_iter().map(|s| (s.kind, s.value)).collect(),
        Some(kawan_protocol::Content::Request(r)) => r.values.into_iter().map(|v| (v.kind, v.value)).collect(),
        Some(kawan_protocol::Content::Answer(a)) => a.values.into_iter().map(|v| (v.kind, v.value)).collect(),
        Some(kawan_protocol::Content::Typology(_) | kawan_protocol::Content::Technique(_)) | None => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_watchlist_gets_distinct_ids_and_is_found_by_value() {
        let w = Watchlist::open(Arc::new(LocalDb::in_memory(crate::clock::Clock::system())));
        let one = w.add("ana", Kind::Phone, "+447700900001".into(), None, None).unwrap();
        let values = (2..5).map(|n| (Kind::Phone, format!("+44770090000{n}"))).collect();
        assert_eq!(w.add_many("ana", values).unwrap(), 3);
        let ids: Vec<u64> = w.entries().unwrap().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![one.id, one.id + 1, one.id + 2, one.id + 3]);
        assert_eq!(w.watching(Kind::Phone, "+447700900003", 0).unwrap()[0].id, one.id + 2);
        assert_eq!(w.add("ana", Kind::Phone, "+447700900009".into(), None, None).unwrap().id, one.id + 4);
    }
}
