//! The append-only, hash-chained audit log (docs/api.md, "Audit").
//!
//! Each entry's hash covers the previous entry's hash, so editing or deleting
//! any entry breaks every later link; the head (last seq and hash) is kept
//! beside the entries so that truncating the tail is detected too. Someone
//! with the files could cut the tail *and* rewrite the head, so the node
//! also signs checkpoints — (seq, hash) under the agency key — every
//! [`CHECKPOINT_EVERY`] entries and at shutdown: a chain that ends before a
//! signed checkpoint, or differs from it, was cut. A checkpoint copied off
//! the node (`kawan audit checkpoint`) detects a rollback of the whole file.
//!
//! Checkpoints are chained into the log: signing one appends an
//! `audit.checkpoint` entry naming it, in the same batch, so deleting a
//! checkpoint (or its entry) breaks the chain where it stood. What the
//! files alone cannot show is a consistent rollback (the tail cut, its
//! checkpoints with it, the head rewritten): for that the service publishes
//! each checkpoint's (entry, hash) as a signed record every member keeps,
//! and `verify` is given those witnesses to compare with.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("audit log broken at entry {seq}: {what}")]
    Broken { seq: u64, what: &'static str },
}

/// One audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub time_ms: u64,
    /// Who: an API token's name, `cli`, `node` (for automatic actions)…
    pub actor: String,
    /// What: `publish`, `query`, `bulk_lookup`, `export`, `case.read`…
    pub action: String,
    /// Parameters worth keeping (ids, counts), never case contents.
    pub detail: String,
    /// Hex BLAKE3 of the previous entry (zeros for the first).
    pub prev: String,
    /// Hex BLAKE3 over this entry's other fields.
    pub hash: String,
}

pub struct Audit {
    db: Arc<LocalDb>,
    append: Mutex<()>,
}

/// The `audit` keyspace holds entries (`e` ‖ seq), signed checkpoints
/// (`c` ‖ seq) and the head (`head` → seq ‖ hash). Reading the chain back
/// is `verify`'s job: an unreadable entry there is a break in the chain.
const ENTRIES: Table<Entry> = Table::new("audit");
const CHECKPOINTS: Table<Checkpoint> = Table::new("audit");

const HEAD: &[u8] = b"head";
/// Checkpoint keys: `c` ‖ seq.
const CHECKPOINT: u8 = b'c';
const CHECKPOINT_DOMAIN: &[u8] = b"kawan/audit-checkpoint/v1";
const CHAINED_DOMAIN: &[u8] = b"kawan/audit-checkpoint/v2";
/// The action of the entry that names a checkpoint (chaining it in).
pub const CHECKPOINT_ACTION: &str = "audit.checkpoint";

fn checkpoint_detail(seq: u64, hash: &str) -> String {
    format!("signed checkpoint of entry {seq}, hash {hash}")
}
/// Entries between signed checkpoints.
pub const CHECKPOINT_EVERY: u64 = 1000;

/// A signed statement that the chain had `hash` at entry `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub time_ms: u64,
    /// The agency key's signature over `seq ‖ hash`, hex.
    pub sig: String,
    /// Named by the entry after it (signed under the v2 domain, so the flag
    /// cannot be cleared to hide a removed entry). Checkpoints from before
    /// chaining stand alone.
    #[serde(default)]
    pub chained: bool,
}

fn checkpoint_message(seq: u64, hash: &str) -> Vec<u8> {
    let mut m = seq.to_be_bytes().to_vec();
    m.extend_from_slice(hash.as_bytes());
    m
}
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Audit {
    pub fn open(db: Arc<LocalDb>) -> Result<Audit, AuditError> {
        Ok(Audit { db, append: Mutex::new(()) })
    }

    /// Appends an entry and waits until it is on disk.
    pub fn append(&self, actor: &str, action: &str, detail: &str) -> Result<Entry, AuditError> {
        let e = self.append_buffered(actor, action, detail)?;
        self.db.persist()?;
        Ok(e)
    }

    /// Appends an entry that reaches the operating system now and the disk
    /// with the next persist (the daemon persists every 500 ms). For reads, where waiting for the disk on
    /// every query would cost more than the query; the chain stays intact
    /// either way because an entry and the head move in one atomic batch.
    pub fn append_buffered(&self, actor: &str, action: &str, detail: &str) -> Result<Entry, AuditError> {
        let _guard = self.append.lock().unwrap_or_else(|e| e.into_inner());
        let (seq, prev) = self.head()?.unwrap_or((0, GENESIS.to_string()));
        let mut e = Entry {
            seq: seq + 1,
            time_ms: self.db.now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
            prev,
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        let mut batch = Batch::default();
        ENTRIES.put(&mut batch, entry_key(e.seq).to_vec(), &e)?;
        batch.insert("audit", HEAD.to_vec(), head_value(e.seq, &e.hash));
        self.db.commit_buffered(batch)?;
        Ok(e)
    }

    /// Signs the head as a checkpoint and appends the entry that names it
    /// (nothing if the log is empty or nothing happened since the last one).
    pub fn checkpoint(&self, key: &kawan_protocol::Keypair) -> Result<Option<Checkpoint>, AuditError> {
        let _guard = self.append.lock().unwrap_or_else(|e| e.into_inner());
        let Some((seq, hash)) = self.head()? else { return Ok(None) };
        if let Some(last) = self.checkpoints()?.last()
            && (last.seq == seq || last.seq + 1 == seq)
        {
            // The head is the last checkpoint, or the entry that names it.
            return Ok(None);
        }
        let now = self.db.now_ms();
        let sig = key.sign(CHAINED_DOMAIN, &checkpoint_message(seq, &hash));
        let c = Checkpoint { seq, hash: hash.clone(), time_ms: now, sig: hex::encode(sig.0), chained: true };
        let mut k = vec![CHECKPOINT];
        k.extend_from_slice(&seq.to_be_bytes());
        let mut named = Entry {
            seq: seq + 1,
            time_ms: now,
            actor: "node".into(),
            action: CHECKPOINT_ACTION.into(),
            detail: checkpoint_detail(seq, &hash),
            prev: hash,
            hash: String::new(),
        };
        named.hash = entry_hash(&named);
        let mut batch = Batch::default();
        CHECKPOINTS.put(&mut batch, k, &c)?;
        ENTRIES.put(&mut batch, entry_key(named.seq).to_vec(), &named)?;
        batch.insert("audit", HEAD.to_vec(), head_value(named.seq, &named.hash));
        self.db.commit(batch)?;
        Ok(Some(c))
    }

    /// Entry `seq`, if the log has it (and it reads).
    pub fn entry(&self, seq: u64) -> Result<Option<Entry>, AuditError> {
        Ok(ENTRIES.get(&self.db, &entry_key(seq))?)
    }

    /// Every signed checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, AuditError> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix("audit", &[CHECKPOINT], false) {
            let (_, v) = item?;
            let c =
                serde_json::from_slice(&v).map_err(|_| AuditError::Broken { seq: 0, what: "unreadable checkpoint" })?;
            out.push(c);
        }
        Ok(out)
    }

    /// The newest entries, newest first.
    /// Entries written in `[from_ms, until_ms)`, oldest first (entries are
    /// in time order: each is appended after the one before).
    pub fn between(&self, from_ms: u64, until_ms: u64) -> Result<Vec<Entry>, AuditError> {
        let mut out = Vec::new();
        for row in ENTRIES.scan(&self.db, b"e", false) {
            let (_, e) = row?;
            if e.time_ms >= until_ms {
                break;
            }
            if e.time_ms >= from_ms {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub fn tail(&self, n: usize) -> Result<Vec<Entry>, AuditError> {
        Ok(ENTRIES.scan(&self.db, b"e", true).take(n).map(|row| row.map(|(_, e)| e)).collect::<Result<_, _>>()?)
    }

    /// Walks the whole chain and the signed checkpoints (signatures checked
    /// against `key`); returns the number of entries, or where it breaks.
    /// `keys` are the agency's keys, current and retired (a rotation must
    /// not break the checkpoints signed before it).
    pub fn verify(&self, keys: &[kawan_protocol::AgencyKey]) -> Result<u64, AuditError> {
        let checkpoints = self.checkpoints()?;
        for c in &checkpoints {
            let sig = hex::decode(&c.sig).ok().and_then(|b| <[u8; 64]>::try_from(b).ok());
            let domain = if c.chained { CHAINED_DOMAIN } else { CHECKPOINT_DOMAIN };
            let valid = sig.is_some_and(|s| {
                keys.iter().any(|k| k.verify(domain, &checkpoint_message(c.seq, &c.hash), &kawan_protocol::Sig(s)))
            });
            if !valid {
                return Err(AuditError::Broken { seq: c.seq, what: "a checkpoint's signature is not the agency's" });
            }
        }
        let wanted: std::collections::BTreeMap<u64, &str> =
            checkpoints.iter().map(|c| (c.seq, c.hash.as_str())).collect();
        let chained: std::collections::BTreeSet<u64> =
            checkpoints.iter().filter(|c| c.chained).map(|c| c.seq).collect();
        let mut expect_seq = 1;
        let mut prev = GENESIS.to_string();
        for item in self.db.scan_prefix("audit", b"e", false) {
            let (_, v) = item?;
            let seq = expect_seq;
            let e: Entry = serde_json::from_slice(&v).map_err(|_| AuditError::Broken { seq, what: "unreadable" })?;
            if e.seq != seq {
                return Err(AuditError::Broken { seq, what: "entry missing" });
            }
            if e.prev != prev {
                return Err(AuditError::Broken { seq, what: "does not chain to the previous entry" });
            }
            if entry_hash(&e) != e.hash {
                return Err(AuditError::Broken { seq, what: "contents edited" });
            }
            if wanted.get(&seq).is_some_and(|h| *h != e.hash) {
                return Err(AuditError::Broken { seq, what: "differs from the signed checkpoint" });
            }
            // Each checkpoint is named by the entry after it, and each such
            // entry by a checkpoint: neither can go alone.
            let after_chained = seq > 1 && chained.contains(&(seq - 1));
            if e.action == CHECKPOINT_ACTION && e.actor == "node" {
                let named = seq.checked_sub(1).and_then(|s| wanted.get(&s).map(|h| checkpoint_detail(s, h)));
                if !after_chained || named.as_deref() != Some(e.detail.as_str()) {
                    return Err(AuditError::Broken { seq, what: "names a signed checkpoint that was deleted" });
                }
            } else if after_chained {
                return Err(AuditError::Broken { seq, what: "a signed checkpoint's entry was replaced" });
            }
            prev = e.hash;
            expect_seq += 1;
        }
        let count = expect_seq - 1;
        if let Some((&last, _)) = wanted.last_key_value()
            && last > count
        {
            return Err(AuditError::Broken {
                seq: count + 1,
                what: "entries after this point were removed (a signed checkpoint covers more)",
            });
        }
        match self.head()? {
            None if count == 0 => Ok(0),
            Some((seq, hash)) if seq == count && hash == prev => Ok(count),
            _ => Err(AuditError::Broken { seq: count + 1, what: "entries after this point were removed" }),
        }
    }

    fn head(&self) -> Result<Option<(u64, String)>, AuditError> {
        let Some(v) = self.db.get("audit", HEAD)? else {
            return Ok(None);
        };
        let broken = AuditError::Broken { seq: 0, what: "unreadable head" };
        let seq = u64::from_be_bytes(v.get(..8).and_then(|b| b.try_into().ok()).ok_or(broken)?);
        Ok(Some((seq, String::from_utf8_lossy(&v[8..]).into_owned())))
    }
}

fn entry_key(seq: u64) -> [u8; 9] {
    let mut k = [b'e'; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn head_value(seq: u64, hash: &str) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(hash.as_bytes());
    v
}

/// BLAKE3 over the entry's fields, length-prefixed so no two entries collide.
fn entry_hash(e: &Entry) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&e.seq.to_be_bytes());
    h.update(&e.time_ms.to_be_bytes());
    for field in [&e.actor, &e.action, &e.detail, &e.prev] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes behind the audit log's back, as someone with the files could.
    fn tamper(a: &Audit, f: impl FnOnce(&mut Batch)) {
        let mut b = Batch::default();
        f(&mut b);
        a.db.commit(b).unwrap();
    }

    fn me() -> kawan_protocol::Keypair {
        kawan_protocol::Keypair::from_secret_bytes([3; 32])
    }

    fn audit() -> (tempfile::TempDir, Audit) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::system()).unwrap());
        (dir, Audit::open(db).unwrap())
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (_d, a) = audit();
        assert_eq!(a.verify(&[me().public()]).unwrap(), 0);
        for i in 0..5 {
            a.append("analyst-1", "query", &format!("phone #{i}")).unwrap();
        }
        assert_eq!(a.verify(&[me().public()]).unwrap(), 5);
        assert_eq!(a.tail(2).unwrap()[0].seq, 5);
    }

    #[test]
    fn an_edited_entry_is_detected() {
        let (_d, a) = audit();
        for _ in 0..3 {
            a.append("analyst-1", "query", "x").unwrap();
        }
        let mut e: Entry = serde_json::from_slice(&a.db.get("audit", &entry_key(2)).unwrap().unwrap()).unwrap();
        e.actor = "someone-else".into();
        tamper(&a, |b| b.insert("audit", entry_key(2).to_vec(), serde_json::to_vec(&e).unwrap()));
        assert!(matches!(a.verify(&[me().public()]), Err(AuditError::Broken { seq: 2, what: "contents edited" })));
    }

    #[test]
    fn a_deleted_entry_is_detected_in_the_middle_and_at_the_end() {
        let (_d, a) = audit();
        for _ in 0..3 {
            a.append("analyst-1", "query", "x").unwrap();
        }
        tamper(&a, |b| b.remove("audit", entry_key(3).to_vec()));
        assert!(matches!(a.verify(&[me().public()]), Err(AuditError::Broken { seq: 3, .. })));
        tamper(&a, |b| b.remove("audit", entry_key(2).to_vec()));
        assert!(matches!(a.verify(&[me().public()]), Err(AuditError::Broken { seq: 2, .. })));
    }

    #[test]
    fn a_rehashed_forgery_still_breaks_the_next_link() {
        let (_d, a) = audit();
        for _ in 0..3 {
            a.append("analyst-1", "query", "x").unwrap();
        }
        let mut e: Entry = serde_json::from_slice(&a.db.get("audit", &entry_key(2)).unwrap().unwrap()).unwrap();
        e.detail = "nothing to see".into();
        e.hash = entry_hash(&e);
        tamper(&a, |b| b.insert("audit", entry_key(2).to_vec(), serde_json::to_vec(&e).unwrap()));
        assert!(matches!(a.verify(&[me().public()]), Err(AuditError::Broken { seq: 3, .. })));
    }
}

#[cfg(test)]
mod checkpoints {
    use super::*;

    #[test]
    fn cutting_the_tail_and_rewriting_the_head_is_caught_by_a_signed_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let a = Audit::open(Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::system()).unwrap())).unwrap();
        let key = kawan_protocol::Keypair::from_secret_bytes([3; 32]);
        for _ in 0..5 {
            a.append("analyst-1", "query", "x").unwrap();
        }
        assert!(a.checkpoint(&key).unwrap().is_some());
        assert!(a.checkpoint(&key).unwrap().is_none(), "the head is already checkpointed");
        a.append("analyst-1", "case.read", "7").unwrap();
        assert_eq!(a.verify(&[key.public()]).unwrap(), 7, "5 entries, the one naming the checkpoint, 1 more");
        // Someone with the files removes entries 4-7 and points the head at 3.
        let third: Entry = serde_json::from_slice(&a.db.get("audit", &entry_key(3)).unwrap().unwrap()).unwrap();
        let mut b = Batch::default();
        for seq in 4..=7 {
            b.remove("audit", entry_key(seq).to_vec());
        }
        b.insert("audit", HEAD.to_vec(), head_value(3, &third.hash));
        a.db.commit(b).unwrap();
        let err = a.verify(&[key.public()]).unwrap_err();
        assert!(matches!(err, AuditError::Broken { seq: 4, .. }), "{err}");
        // A checkpoint signed by another key is refused.
        let other = kawan_protocol::Keypair::from_secret_bytes([4; 32]);
        assert!(a.verify(&[other.public()]).is_err());
    }

    /// Checkpoints are chained into the log: deleting one (the cut that
    /// hides a later rewrite) breaks the entry that names it, and deleting
    /// that entry instead breaks the chain.
    #[test]
    fn a_deleted_checkpoint_or_its_entry_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let a = Audit::open(Arc::new(LocalDb::open(dir.path(), crate::clock::Clock::system()).unwrap())).unwrap();
        let key = kawan_protocol::Keypair::from_secret_bytes([3; 32]);
        for i in 0..3 {
            a.append("analyst-1", "query", &i.to_string()).unwrap();
        }
        let c = a.checkpoint(&key).unwrap().unwrap();
        assert!(a.checkpoint(&key).unwrap().is_none(), "nothing new since: no second checkpoint");
        a.append("analyst-1", "query", "after").unwrap();
        assert_eq!(a.verify(&[key.public()]).unwrap(), 5);
        let mut k = vec![CHECKPOINT];
        k.extend_from_slice(&c.seq.to_be_bytes());
        let saved = a.db.get("audit", &k).unwrap().unwrap();
        a.db.commit({
            let mut b = Batch::default();
            b.remove("audit", k.clone());
            b
        })
        .unwrap();
        let err = a.verify(&[key.public()]).unwrap_err();
        assert!(
            matches!(err, AuditError::Broken { seq: 4, what: "names a signed checkpoint that was deleted" }),
            "{err}"
        );
        // Put back, and cleared of its chaining flag (to pass without its entry).
        let mut unchained: Checkpoint = serde_json::from_slice(&saved).unwrap();
        unchained.chained = false;
        a.db.commit({
            let mut b = Batch::default();
            b.insert("audit", k, serde_json::to_vec(&unchained).unwrap());
            b
        })
        .unwrap();
        assert!(a.verify(&[key.public()]).is_err(), "the flag is signed");
    }
}
