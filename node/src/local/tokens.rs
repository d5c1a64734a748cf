//! API tokens: random bearer secrets with a name and a role. Only a BLAKE3
//! hash is stored: a token is 256 random bits, so a fast hash is enough to
//! make a stolen database useless for logging in.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::{
    local::{LocalDb, Table},
    store::{StoreError, engine::Batch},
};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Publish, search, bulk-check, work cases.
    Analyst,
    /// Everything an analyst does, plus tokens, status and the audit log.
    Operator,
    /// Everything an analyst does, plus trust lists.
    Coordinator,
    /// Read-only oversight (a data-protection officer, a supervisory
    /// authority): the oversight report and the consultation log, and
    /// nothing else — no search, no record, no export.
    Auditor,
}

impl Role {
    /// Whether a caller with this role may act as `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self == needed || (needed == Role::Analyst && self != Role::Auditor)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Operator => "operator",
            Role::Coordinator => "coordinator",
            Role::Auditor => "auditor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "analyst" => Ok(Role::Analyst),
            "operator" => Ok(Role::Operator),
            "coordinator" => Ok(Role::Coordinator),
            "auditor" => Ok(Role::Auditor),
            _ => Err(format!("unknown role {s:?} (expected analyst, operator, coordinator or auditor)")),
        }
    }
}

/// A token as stored (without the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a token named {0:?} already exists")]
    Exists(String),
    #[error("no token named {0:?}")]
    NotFound(String),
    #[error("token names are 1-64 characters of letters, digits, '.', '_' or '-'")]
    BadName,
    #[error("no random source: {0}")]
    Random(String),
}

/// `tokens`: BLAKE3(token) → its owner. Changed together with
/// `token_names` (name → hash) in one atomic batch.
const TOKENS: Table<TokenInfo> = Table::new("tokens");

pub struct Tokens {
    db: Arc<LocalDb>,
    writer: Mutex<()>,
}

impl Tokens {
    pub fn open(db: Arc<LocalDb>) -> Result<Tokens, TokenError> {
        Ok(Tokens { db, writer: Mutex::new(()) })
    }

    /// Creates a token and returns its secret, which is never stored.
    pub fn create(&self, name: &str, role: Role) -> Result<(String, TokenInfo), TokenError> {
        let ok = (1..=64).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(TokenError::BadName);
        }
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if self.db.contains("token_names", name.as_bytes())? {
            return Err(TokenError::Exists(name.to_string()));
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
        let token = format!("kawan_{}", hex::encode(secret));
        let info = TokenInfo { name: name.to_string(), role, created_ms: self.db.now_ms() };
        let hash = hash(&token);
        let mut batch = Batch::default();
        TOKENS.put(&mut batch, hash.to_vec(), &info)?;
        batch.insert("token_names", name.as_bytes().to_vec(), hash.to_vec());
        self.db.commit(batch)?;
        Ok((token, info))
    }

    /// The token's owner, if the token is valid.
    pub fn check(&self, token: &str) -> Result<Option<TokenInfo>, TokenError> {
        Ok(TOKENS.get(&self.db, &hash(token))?)
    }

    /// A token's hash in hex: what a web session keeps instead of the token.
    pub fn hash_hex(token: &str) -> String {
        hex::encode(hash(token))
    }

    /// The token whose hash (hex) is given, if it is still valid.
    pub fn by_hash_hex(&self, hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        let Ok(h) = hex::decode(hash) else { return Ok(None) };
        TOKENS.get(&self.db, &h)
    }

    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let mut out =
            TOKENS.scan(&self.db, &[], false).map(|row| row.map(|(_, info)| info)).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a: &TokenInfo, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn revoke(&self, name: &str) -> Result<(), TokenError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let hash =
            self.db.get("token_names", name.as_bytes())?.ok_or_else(|| TokenError::NotFound(name.to_string()))?;
        let mut batch = Batch::default();
        batch.remove("token_names", name.as_bytes().to_vec());
        batch.remove("tokens", hash);
        self.db.commit(batch)?;
        Ok(())
    }
}

fn hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_list_and_revoke() {
        let t = Tokens::open(Arc::new(LocalDb::in_memory(crate::clock::Clock::system()))).unwrap();
        let (secret, info) = t.create("alice", Role::Analyst).unwrap();
        assert_eq!(t.check(&secret).unwrap(), Some(info));
        assert_eq!(t.check("kawan_wrong").unwrap(), None);
        assert!(matches!(t.create("alice", Role::Operator), Err(TokenError::Exists(_))));
        assert!(matches!(t.create("bad name", Role::Operator), Err(TokenError::BadName)));
        assert_eq!(t.list().unwrap().len(), 1);
        t.revoke("alice").unwrap();
        assert_eq!(t.check(&secret).unwrap(), None);
        assert!(matches!(t.revoke("alice"), Err(TokenError::NotFound(_))));
    }

    /// A token row that does not read is an error naming where it is, not
    /// "no such token" (which would hide the damage behind a 401).
    #[test]
    fn a_corrupt_token_row_is_an_error_not_a_missing_token() {
        let db = Arc::new(LocalDb::in_memory(crate::clock::Clock::manual(0)));
        let t = Tokens::open(db.clone()).unwrap();
        let (secret, _) = t.create("alice", Role::Analyst).unwrap();
        let mut batch = Batch::default();
        batch.insert("tokens", hash(&secret).to_vec(), b"garbage".to_vec());
        db.commit(batch).unwrap();
        let e = t.check(&secret).unwrap_err().to_string();
        assert!(e.contains("keyspace tokens"), "{e}");
        assert!(t.list().is_err(), "listing reports it too");
        assert_eq!(t.check("kawan_other").unwrap(), None, "other tokens are still answered");
    }

    /// An id counter that does not read is an error, not a restart at 1
    /// (which would replace the rows already numbered).
    #[test]
    fn a_corrupt_counter_is_an_error_not_a_fresh_start() {
        let db = LocalDb::in_memory(crate::clock::Clock::manual(0));
        let mut batch = Batch::default();
        assert_eq!(db.next_id("case", &mut batch).unwrap(), 1);
        db.commit(batch).unwrap();
        let mut batch = Batch::default();
        batch.insert("meta", b"counter/case".to_vec(), vec![1, 2, 3]);
        db.commit(batch).unwrap();
        let e = db.next_id("case", &mut Batch::default()).unwrap_err().to_string();
        assert!(e.contains("keyspace meta") && e.contains("counter/case"), "{e}");
    }

    #[test]
    fn roles_nest_as_documented() {
        assert!(Role::Operator.allows(Role::Analyst));
        assert!(Role::Coordinator.allows(Role::Analyst));
        assert!(!Role::Analyst.allows(Role::Operator));
        assert!(!Role::Coordinator.allows(Role::Operator));
    }
}
