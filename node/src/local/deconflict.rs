//! Deconfliction's local state (docs/protocol.md §7): the holder's secret,
//! its filter per epoch, the allowances (kept in the local database, per
//! member and for all members together) and the replay guard; the
//! asker's copies of partners' filters; and, in the local database, the
//! questions asked and the contact requests both ways. Nothing here is
//! shared except what the protocol sends.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use kawan_protocol::{AgencyKey, Kind, deconflict::Filter};
use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

const QUERIES: &str = "deconflictions";
const CONTACTS: &str = "contacts";
const SECRET_KEY: &[u8] = b"deconflict_secret";
/// Nonces remembered per holder, beyond which the oldest are forgotten
/// (a request older than the time window is refused anyway).
const MAX_NONCES: usize = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum DeconflictStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("no randomness: {0}")]
    Random(String),
}

/// One value asked about, as the asker keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Asked {
    #[schema(value_type = String)]
    pub kind: Kind,
    pub value: String,
}

/// One member's answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberAnswer {
    /// The member's key (hex) and name.
    pub member: String,
    pub name: String,
    /// Indexes (into the question's values) the member holds something on.
    pub hits: Vec<usize>,
    /// Where to follow up (the member's published contact point).
    pub contact: Option<String>,
    /// Why the member gave no answer (refused, unreachable…).
    pub error: Option<String>,
}

/// A question this agency asked, and what each member answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Query {
    pub id: u64,
    pub created_ms: u64,
    pub analyst: String,
    pub purpose: String,
    pub case_ref: Option<String>,
    /// The sharing group whose members were asked (none: every member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub values: Vec<Asked>,
    pub answers: Vec<MemberAnswer>,
}

/// Which way a contact request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// This agency asked a holder.
    Outgoing,
    /// A partner asked this agency.
    Incoming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    Pending,
    Accepted,
    Declined,
}

impl ContactStatus {
    pub fn label(self) -> &'static str {
        match self {
            ContactStatus::Pending => "waiting for an answer",
            ContactStatus::Accepted => "accepted",
            ContactStatus::Declined => "declined",
        }
    }
}

/// A follow-up on a hit, as either side keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: String,
    pub direction: Direction,
    /// The other agency (key hex) and its name.
    pub peer: String,
    pub peer_name: String,
    #[schema(value_type = String)]
    pub kind: Kind,
    pub value: String,
    pub purpose: String,
    pub case_ref: Option<String>,
    /// Who asked (the asker's analyst) and what they wrote.
    pub analyst: String,
    pub message: String,
    pub created_ms: u64,
    pub status: ContactStatus,
    /// The holder's answer: who to talk to, what it said, who answered.
    pub answer_contact: Option<String>,
    pub answer_message: Option<String>,
    pub answered_by: Option<String>,
    pub answered_ms: Option<u64>,
    /// (Incoming) this agency's cases that hold the value.
    #[serde(default)]
    pub cases: Vec<u64>,
}

/// `deconflictions`: question id (u64 BE) → the question and its answers.
const QUERY_ROWS: Table<Query> = Table::new(QUERIES);
/// `contacts`: request id → the contact request, both ways.
const CONTACT_ROWS: Table<Contact> = Table::new(CONTACTS);
/// `allowances`: an allowance's name (`evaluate:<member id>`, `evaluate:*`,
/// `filter:<member id>`, `contact:<member id>`) → what is left of it. Kept
/// in the database, per member: a restart or a key rotation gives no one a
/// fresh allowance.
const ALLOWANCES: Table<Allowance> = Table::new("allowances");

/// A token bucket: `per_hour` units, refilled continuously.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Allowance {
    tokens: f64,
    at_ms: u64,
}

/// Why an allowance cannot give `n` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// It never holds that many: split the request.
    Never,
    /// It will in this many seconds.
    Wait { retry_after_s: u64 },
}

/// Questions and contact requests in the local database.
pub struct Deconflictions {
    db: Arc<LocalDb>,
    write: Mutex<()>,
}

impl Deconflictions {
    pub fn open(db: Arc<LocalDb>) -> Deconflictions {
        Deconflictions { db, write: Mutex::new(()) }
    }

    /// The holder's secret, from which each epoch's OPRF key is derived;
    /// made on first use.
    pub fn secret(&self) -> Result<[u8; 32], DeconflictStoreError> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = self.db.get("meta", SECRET_KEY)? {
            return v.try_into().map_err(|v: Vec<u8>| {
                crate::local::table::corrupt("meta", SECRET_KEY, &format!("{} bytes, not 32", v.len())).into()
            });
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| DeconflictStoreError::Random(e.to_string()))?;
        let mut batch = Batch::default();
        batch.insert("meta", SECRET_KEY.to_vec(), secret.to_vec());
        self.db.commit(batch)?;
        Ok(secret)
    }

    pub fn add_query(&self, mut q: Query) -> Result<Query, DeconflictStoreError> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        q.id = self.db.next_id("deconfliction", &mut batch)?;
        QUERY_ROWS.put(&mut batch, q.id.to_be_bytes().to_vec(), &q)?;
        self.db.commit(batch)?;
        Ok(q)
    }

    pub fn query(&self, id: u64) -> Result<Query, DeconflictStoreError> {
        let missing = || DeconflictStoreError::NotFound { what: "deconfliction", id: id.to_string() };
        QUERY_ROWS.get(&self.db, &id.to_be_bytes())?.ok_or_else(missing)
    }

    /// Newest first.
    pub fn queries(&self, limit: usize) -> Result<Vec<Query>, DeconflictStoreError> {
        Ok(QUERY_ROWS.scan(&self.db, b"", true).take(limit).map(|row| row.map(|(_, q)| q)).collect::<Result<_, _>>()?)
    }

    /// Saves a contact request (new, or with its answer).
    pub fn put_contact(&self, c: &Contact) -> Result<(), DeconflictStoreError> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        CONTACT_ROWS.put(&mut batch, c.id.as_bytes().to_vec(), c)?;
        Ok(self.db.commit(batch)?)
    }

    pub fn contact(&self, id: &str) -> Result<Contact, DeconflictStoreError> {
        let missing = || DeconflictStoreError::NotFound { what: "contact request", id: id.to_string() };
        CONTACT_ROWS.get(&self.db, id.as_bytes())?.ok_or_else(missing)
    }

    pub fn has_contact(&self, id: &str) -> Result<bool, DeconflictStoreError> {
        Ok(self.db.contains(CONTACTS, id.as_bytes())?)
    }

    /// Takes `n` from every allowance of `from` (name, units per hour) —
    /// from all of them or none — or says which one refused, and why.
    pub fn take(&self, from: &[(&str, u64)], n: u64, now_ms: u64) -> Result<Result<(), (usize, Spent)>, StoreError> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut left = Vec::with_capacity(from.len());
        for (i, (name, per_hour)) in from.iter().enumerate() {
            let per_hour = *per_hour as f64;
            if n as f64 > per_hour {
                return Ok(Err((i, Spent::Never)));
            }
            let a = ALLOWANCES.get(&self.db, name.as_bytes())?.unwrap_or(Allowance { tokens: per_hour, at_ms: now_ms });
            let rate = per_hour / 3_600_000.0;
            let tokens = (a.tokens + now_ms.saturating_sub(a.at_ms) as f64 * rate).min(per_hour);
            if tokens < n as f64 {
                let retry_after_s = (((n as f64 - tokens) / rate) / 1000.0).ceil() as u64;
                return Ok(Err((i, Spent::Wait { retry_after_s })));
            }
            left.push((name, Allowance { tokens: tokens - n as f64, at_ms: now_ms }));
        }
        let mut batch = Batch::default();
        for (name, a) in left {
            ALLOWANCES.put(&mut batch, name.as_bytes().to_vec(), &a)?;
        }
        // Reaches the disk with the next persist (every 500 ms): a crash
        // can hand back at most that much of an allowance.
        self.db.commit_buffered(batch)?;
        Ok(Ok(()))
    }

    /// Newest first.
    pub fn contacts(&self) -> Result<Vec<Contact>, DeconflictStoreError> {
        let mut all =
            CONTACT_ROWS.scan(&self.db, b"", false).map(|row| row.map(|(_, c)| c)).collect::<Result<Vec<_>, _>>()?;
        all.sort_by_key(|c| std::cmp::Reverse(c.created_ms));
        Ok(all)
    }
}

/// A holder's filter for one epoch, signed, as sent to askers.
#[derive(Clone)]
pub struct Built {
    pub epoch: u64,
    pub version: u64,
    pub count: usize,
    /// Shared, not copied: a million values' filter is over a megabyte.
    pub notice: Arc<kawan_protocol::deconflict::Signed>,
}

/// A partner's filter, as this node (the asker) keeps it.
#[derive(Clone)]
pub struct Remote {
    pub epoch: u64,
    pub version: u64,
    pub epoch_ms: u64,
    pub public: Vec<u8>,
    pub contact: String,
    pub filter: Arc<Filter>,
}

/// In-memory state of both roles.
#[derive(Default)]
pub struct State {
    /// Bumped whenever what is deconflictable may have changed.
    generation: std::sync::atomic::AtomicU64,
    built: Mutex<Option<Built>>,
    /// Serialises filter builds (one at a time; others wait and reuse it).
    building: Mutex<()>,
    nonces: Mutex<HashMap<[u8; 16], u64>>,
    remote: Mutex<HashMap<AgencyKey, Remote>>,
}

impl State {
    /// Filter versions continue from `start` (the node's start time): a
    /// version is never reused across restarts, and each version has its
    /// own OPRF key.
    pub fn new(start: u64) -> State {
        let s = State::default();
        s.generation.store(start, std::sync::atomic::Ordering::Relaxed);
        s
    }

    /// Something deconflictable may have changed: the next filter request
    /// rebuilds.
    pub fn touch(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The filter built for `epoch` at the current generation, if any.
    pub fn built(&self, epoch: u64) -> Option<Built> {
        let g = self.generation();
        self.built.lock().unwrap_or_else(|e| e.into_inner()).clone().filter(|b| b.epoch == epoch && b.version == g)
    }

    /// The epoch of the last filter built, current or stale.
    pub fn built_epoch(&self) -> Option<u64> {
        self.built.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|b| b.epoch)
    }

    pub fn set_built(&self, b: Built) {
        *self.built.lock().unwrap_or_else(|e| e.into_inner()) = Some(b);
    }

    pub fn building(&self) -> std::sync::MutexGuard<'_, ()> {
        self.building.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers a request's nonce until `expires_ms`; false if already seen.
    pub fn fresh_nonce(&self, nonce: [u8; 16], expires_ms: u64, now_ms: u64) -> bool {
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        if nonces.len() >= MAX_NONCES {
            nonces.retain(|_, exp| *exp > now_ms);
        }
        if nonces.contains_key(&nonce) {
            return false;
        }
        nonces.insert(nonce, expires_ms);
        true
    }

    pub fn remote(&self, holder: &AgencyKey) -> Option<Remote> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner()).get(holder).cloned()
    }

    pub fn set_remote(&self, holder: AgencyKey, r: Remote) {
        self.remote.lock().unwrap_or_else(|e| e.into_inner()).insert(holder, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asker_gets_its_hourly_allowance_and_then_waits_even_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let open =
            || Deconflictions::open(Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::manual(0)).unwrap()));
        let d = open();
        let (a, b, all) = ("evaluate:a", "evaluate:b", "evaluate:*");
        assert_eq!(d.take(&[(a, 100), (all, 150)], 60, 0).unwrap(), Ok(()));
        assert_eq!(d.take(&[(a, 100), (all, 150)], 40, 0).unwrap(), Ok(()));
        // 10 more values need 10/100 of an hour.
        assert_eq!(d.take(&[(a, 100), (all, 150)], 10, 0).unwrap(), Err((0, Spent::Wait { retry_after_s: 360 })));
        // Another member has its own allowance, but all members share one.
        assert_eq!(d.take(&[(b, 100), (all, 150)], 40, 0).unwrap(), Ok(()));
        assert!(matches!(d.take(&[(b, 100), (all, 150)], 20, 0).unwrap(), Err((1, Spent::Wait { .. }))));
        // More than an allowance ever holds is never "try again later".
        assert_eq!(d.take(&[(b, 100), (all, 150)], 101, 0).unwrap(), Err((0, Spent::Never)));
        drop(d);
        let d = open();
        assert!(
            matches!(d.take(&[(a, 100), (all, 150)], 10, 0).unwrap(), Err((0, Spent::Wait { .. }))),
            "a restart refills nothing"
        );
        assert_eq!(d.take(&[(a, 100), (all, 150)], 10, 360_000).unwrap(), Ok(()));
    }

    #[test]
    fn a_nonce_is_accepted_once() {
        let s = State::new(0);
        assert!(s.fresh_nonce([3; 16], 10, 0));
        assert!(!s.fresh_nonce([3; 16], 10, 1));
    }
}
