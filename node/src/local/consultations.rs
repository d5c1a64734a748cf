//! Consultations of shared data (Law Enforcement Directive Art. 25): who
//! saw which records, when, over which path, and why — the purpose and case
//! reference the caller stated. Kept for the agency's configured period and
//! then expired like the records themselves (`[consultations] keep_days`).
//!
//! # Layout
//! `consultations`: `at_ms ‖ nonce` (both big-endian, so a scan by time is a
//! range) → [`Consultation`]. The nonce keeps two entries of one
//! millisecond apart without a shared counter, so logging costs one
//! buffered write and no lock.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

const CONSULTATIONS: Table<Consultation> = Table::new("consultations");

/// Record ids kept per entry; `count` says how many there were in all.
pub const MAX_IDS: usize = 100;

/// One consultation: what a person (or a peer's question) was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consultation {
    pub at_ms: u64,
    /// The token holder (or "webhook" for the case-system feed).
    pub user: String,
    /// The output path: rest, web, taxii, csv, stix, misp_feed, referral,
    /// webhook.
    pub via: String,
    /// The justification the caller stated (purpose and case reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// read, search, bulk_lookup, export.csv, referral.package, alerts…
    pub action: String,
    /// The records disclosed (knowledge ids, at most [`MAX_IDS`]; STIX
    /// object ids for TAXII and STIX exports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// How many records were disclosed in all.
    pub count: u64,
    /// Whether victim-related records were among them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub victim: bool,
}

pub struct Consultations {
    db: Arc<LocalDb>,
    nonce: AtomicU64,
}

impl Consultations {
    pub fn open(db: Arc<LocalDb>) -> Consultations {
        let mut seed = [0u8; 8];
        // A random start: two processes (a restart within a millisecond)
        // never write the same key.
        let _ = getrandom::fill(&mut seed);
        Consultations { db, nonce: AtomicU64::new(u64::from_be_bytes(seed)) }
    }

    /// Logs one consultation; it reaches the disk with the next persist
    /// (a second at most), like the audit log's reads.
    pub fn log(&self, entry: &Consultation) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        let nonce = self.nonce.fetch_add(1, Ordering::Relaxed);
        CONSULTATIONS.put(&mut batch, key(entry.at_ms, nonce), entry)?;
        self.db.commit_buffered(batch)
    }

    /// Entries in `[from_ms, until_ms)`, oldest first, at most `limit`.
    pub fn between(&self, from_ms: u64, until_ms: u64, limit: usize) -> Result<Vec<Consultation>, StoreError> {
        self.db
            .scan_range("consultations", &key(from_ms, 0), &key(until_ms, 0))
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                CONSULTATIONS.decode(&k, &v)
            })
            .collect()
    }

    /// Calls `f` on every entry in `[from_ms, until_ms)`, oldest first,
    /// without holding them all (a report over a year of entries).
    pub fn each_between(&self, from_ms: u64, until_ms: u64, mut f: impl FnMut(Consultation)) -> Result<(), StoreError> {
        for item in self.db.scan_range("consultations", &key(from_ms, 0), &key(until_ms, 0)) {
            let (k, v) = item?;
            f(CONSULTATIONS.decode(&k, &v)?);
        }
        Ok(())
    }

    /// Removes every entry older than `before_ms`; returns how many.
    pub fn expire(&self, before_ms: u64) -> Result<usize, StoreError> {
        let mut batch = Batch::default();
        let mut n = 0;
        for item in self.db.scan_range("consultations", &key(0, 0), &key(before_ms, 0)) {
            let (k, _) = item?;
            CONSULTATIONS.remove(&mut batch, k);
            n += 1;
            if batch.len() >= 10_000 {
                self.db.commit(std::mem::take(&mut batch))?;
            }
        }
        self.db.commit(batch)?;
        Ok(n)
    }
}

fn key(at_ms: u64, nonce: u64) -> Vec<u8> {
    [at_ms.to_be_bytes(), nonce.to_be_bytes()].concat()
}
