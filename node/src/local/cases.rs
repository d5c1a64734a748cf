//! Local cases (docs/security.md, "Assets"): what an agency knows about its
//! own investigations — references, victims, narratives — linked to shared
//! indicator ids. Cases live in the local database ([`crate::local`]) behind
//! this type, which the network and export code never receive, so nothing
//! there can reach a peer. A case and its link index change in one atomic batch.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use kawan_protocol::{Kind, RecordId};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no case {0}")]
    NotFound(u64),
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

/// One local case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: u64,
    /// The agency's own case number.
    pub reference: String,
    pub title: String,
    #[serde(default)]
    pub notes: String,
    /// Free-form details (victims, narrative, capture paths…).
    #[serde(default)]
    pub details: serde_json::Value,
    /// Linked record ids, hex.
    #[serde(default)]
    pub links: Vec<String>,
    /// Values the case holds locally (never shared; normal form): watched
    /// for alerts and, unless opted out, deconflictable.
    #[serde(default)]
    pub values: Vec<CaseValue>,
    /// Keep this case's values out of deconfliction (e.g. a victim's number).
    #[serde(default)]
    pub deconfliction_opt_out: bool,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// A value a case holds without any shared record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseValue {
    pub kind: Kind,
    pub value: String,
}

/// Fields a new case starts with.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCase {
    pub reference: String,
    pub title: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub details: serde_json::Value,
    /// Keep this case's values out of deconfliction.
    #[serde(default)]
    pub deconfliction_opt_out: bool,
}

/// `cases`: case id (u64 BE) → the case. Changed together with the index
/// keyspaces `case_links` (record id ‖ case id → (): which cases mention an
/// indicator) and `case_values` (kind ‖ 0 ‖ value ‖ 0 ‖ case id → (): which
/// cases hold a value).
const CASES: Table<Case> = Table::new("cases");

pub struct Cases {
    db: Arc<LocalDb>,
    /// Serialises read-modify-write of a case and its links.
    writer: Mutex<()>,
}

impl Cases {
    pub fn open(db: Arc<LocalDb>) -> Result<Cases, CaseError> {
        Ok(Cases { db, writer: Mutex::new(()) })
    }

    pub fn create(&self, new: NewCase) -> Result<Case, CaseError> {
        if new.reference.trim().is_empty() {
            return Err(CaseError::Empty("reference"));
        }
        if new.title.trim().is_empty() {
            return Err(CaseError::Empty("title"));
        }
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = Batch::default();
        let now = self.db.now_ms();
        let case = Case {
            id: self.db.next_id("case", &mut batch)?,
            reference: new.reference,
            title: new.title,
            notes: new.notes,
            details: new.details,
            links: vec![],
            values: vec![],
            deconfliction_opt_out: new.deconfliction_opt_out,
            created_ms: now,
            updated_ms: now,
        };
        self.put(&case, batch)?;
        Ok(case)
    }

    pub fn get(&self, id: u64) -> Result<Case, CaseError> {
        CASES.get(&self.db, &id.to_be_bytes())?.ok_or(CaseError::NotFound(id))
    }

    pub fn list(&self) -> Result<Vec<Case>, CaseError> {
        Ok(CASES.scan(&self.db, &[], false).map(|row| row.map(|(_, case)| case)).collect::<Result<_, _>>()?)
    }

    /// Links a shared record to a case (locally; peers never learn of it).
    pub fn link(&self, id: u64, record: &RecordId) -> Result<Case, CaseError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut case = self.get(id)?;
        let hex = record.to_string();
        if !case.links.contains(&hex) {
            case.links.push(hex);
            case.updated_ms = self.db.now_ms();
        }
        let mut batch = Batch::default();
        batch.insert("case_links", link_key(record, id), Vec::new());
        self.put(&case, batch)?;
        Ok(case)
    }

    /// Adds a value (in normal form) to a case; indexed so alerts and
    /// deconfliction find the case by the value.
    pub fn add_value(&self, id: u64, kind: Kind, value: &str) -> Result<Case, CaseError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut case = self.get(id)?;
        let v = CaseValue { kind, value: value.to_string() };
        if !case.values.contains(&v) {
            case.values.push(v);
            case.updated_ms = self.db.now_ms();
        }
        let mut batch = Batch::default();
        batch.insert("case_values", value_key(kind, value, id), Vec::new());
        self.put(&case, batch)?;
        Ok(case)
    }

    /// Ids of the cases holding `value` themselves (not through a record).
    pub fn cases_with_value(&self, kind: Kind, value: &str) -> Result<Vec<u64>, CaseError> {
        let prefix = value_prefix(kind, value);
        self.db
            .scan_prefix("case_values", &prefix, false)
            .map(|item| {
                let (k, _) = item?;
                Ok(k.get(prefix.len()..).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0))
            })
            .collect()
    }

    /// Keeps the case's values out of deconfliction, or lets them in.
    pub fn set_opt_out(&self, id: u64, opt_out: bool) -> Result<Case, CaseError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut case = self.get(id)?;
        case.deconfliction_opt_out = opt_out;
        case.updated_ms = self.db.now_ms();
        self.put(&case, Batch::default())?;
        Ok(case)
    }

    pub fn unlink(&self, id: u64, record: &RecordId) -> Result<Case, CaseError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut case = self.get(id)?;
        case.links.retain(|l| *l != record.to_string());
        case.updated_ms = self.db.now_ms();
        let mut batch = Batch::default();
        batch.remove("case_links", link_key(record, id));
        self.put(&case, batch)?;
        Ok(case)
    }

    /// Ids of the cases that link `record`.
    pub fn cases_for(&self, record: &RecordId) -> Result<Vec<u64>, CaseError> {
        self.db
            .scan_prefix("case_links", &record.0, false)
            .map(|item| {
                let (k, _) = item?;
                Ok(k.get(32..40).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0))
            })
            .collect()
    }

    /// Writes the case with `batch` (its link changes) atomically and durably.
    fn put(&self, case: &Case, mut batch: Batch) -> Result<(), CaseError> {
        CASES.put(&mut batch, case.id.to_be_bytes().to_vec(), case)?;
        self.db.commit(batch)?;
        Ok(())
    }
}

fn value_prefix(kind: Kind, value: &str) -> Vec<u8> {
    let mut k = kind.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

fn value_key(kind: Kind, value: &str, case: u64) -> Vec<u8> {
    let mut k = value_prefix(kind, value);
    k.extend_from_slice(&case.to_be_bytes());
    k
}

fn link_key(record: &RecordId, case: u64) -> Vec<u8> {
    let mut k = record.0.to_vec();
    k.extend_from_slice(&case.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_link_records_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let rec = RecordId([7; 32]);
        let id = {
            let cases =
                Cases::open(Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::system()).unwrap())).unwrap();
            let c = cases
                .create(NewCase { reference: "OP-1".into(), title: "Fake jobs".into(), ..Default::default() })
                .unwrap();
            cases.link(c.id, &rec).unwrap();
            c.id
        };
        let cases = Cases::open(Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::system()).unwrap())).unwrap();
        assert_eq!(cases.get(id).unwrap().links, vec![rec.to_string()]);
        cases.add_value(id, Kind::Phone, "+447700900123").unwrap();
        assert_eq!(cases.cases_with_value(Kind::Phone, "+447700900123").unwrap(), vec![id]);
        assert!(cases.cases_with_value(Kind::Phone, "+44770090012").unwrap().is_empty(), "whole values only");
        assert_eq!(cases.cases_for(&rec).unwrap(), vec![id]);
        cases.unlink(id, &rec).unwrap();
        assert!(cases.cases_for(&rec).unwrap().is_empty());
        assert!(matches!(cases.get(999), Err(CaseError::NotFound(999))));
        assert!(matches!(cases.create(NewCase::default()), Err(CaseError::Empty("reference"))));
    }
}
