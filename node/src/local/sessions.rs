//! Web sessions: a random session id in the browser's cookie, only its
//! BLAKE3 hash in the local database, with an idle and an absolute expiry.
//! A session stands for a token; revoking the token ends its sessions, and
//! logging out ends the session on the server, not only in the browser.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{
    local::{
        LocalDb, Table,
        tokens::{TokenInfo, Tokens},
    },
    store::{StoreError, engine::Batch},
};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no random source for a session id: {0}")]
    Random(String),
}

/// `sessions`: BLAKE3(session id) → the session.
const SESSIONS: Table<Stored> = Table::new("sessions");

/// A session unused this long ends.
pub const IDLE_MS: u64 = 30 * 60 * 1000;
/// And none lasts longer than this.
pub const ABSOLUTE_MS: u64 = 12 * 60 * 60 * 1000;
/// Last-use times are written at most this often.
const TOUCH_MS: u64 = 60 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    /// The hash of the token this session stands for.
    token: String,
    created_ms: u64,
    last_ms: u64,
    /// The purpose the analyst stated for this session (sticky until
    /// changed), logged with each consultation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purpose: Option<String>,
}

impl Stored {
    /// Used recently enough, and not too old, at `now`.
    fn live(&self, now: u64) -> bool {
        now.saturating_sub(self.last_ms) < IDLE_MS && now.saturating_sub(self.created_ms) < ABSOLUTE_MS
    }
}

pub struct Sessions {
    db: Arc<LocalDb>,
}

fn key(id: &str) -> Vec<u8> {
    blake3::hash(id.as_bytes()).as_bytes().to_vec()
}

impl Sessions {
    pub fn open(db: Arc<LocalDb>) -> Sessions {
        Sessions { db }
    }

    /// A new session for a token; returns the id for the cookie (shown once).
    pub fn create(&self, token: &str) -> Result<String, SessionError> {
        let mut id = [0u8; 32];
        getrandom::fill(&mut id).map_err(|e| SessionError::Random(e.to_string()))?;
        let id = hex::encode(id);
        let now = self.db.now_ms();
        let stored = Stored { token: Tokens::hash_hex(token), created_ms: now, last_ms: now, purpose: None };
        let mut batch = Batch::default();
        SESSIONS.put(&mut batch, key(&id), &stored)?;
        self.db.commit(batch)?;
        Ok(id)
    }

    /// The token a live session stands for; `None` if it expired, ended or
    /// its token was revoked (an expired session is removed).
    pub fn check(&self, id: &str, tokens: &Tokens) -> Result<Option<(TokenInfo, Option<String>)>, StoreError> {
        let k = key(id);
        let Some(mut s) = SESSIONS.get(&self.db, &k)? else { return Ok(None) };
        let now = self.db.now_ms();
        let info = if s.live(now) { tokens.by_hash_hex(&s.token)? } else { None };
        let Some(info) = info else {
            self.end(id)?;
            return Ok(None);
        };
        if now.saturating_sub(s.last_ms) >= TOUCH_MS {
            s.last_ms = now;
            let mut batch = Batch::default();
            SESSIONS.put(&mut batch, k, &s)?;
            self.db.commit_buffered(batch)?;
        }
        Ok(Some((info, s.purpose)))
    }

    /// Sets (or, with `None`, clears) a live session's purpose. Returns
    /// whether the session was there.
    pub fn set_purpose(&self, id: &str, purpose: Option<String>) -> Result<bool, StoreError> {
        let k = key(id);
        let Some(mut s) = SESSIONS.get(&self.db, &k)? else { return Ok(false) };
        s.purpose = purpose;
        let mut batch = Batch::default();
        SESSIONS.put(&mut batch, k, &s)?;
        self.db.commit(batch)?;
        Ok(true)
    }

    /// The sessions that expired (idle or too old) by now, for the
    /// session-sweep job (so a session nobody comes back to does not stay
    /// on disk). A row that does not read is logged and swept too: no
    /// request can use it, and left in place it would fail every sweep.
    pub fn expired(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let now = self.db.now_ms();
        let mut out = Vec::new();
        for item in self.db.scan_prefix(SESSIONS.space(), &[], false) {
            let (k, v) = item?;
            match SESSIONS.decode(&k, &v) {
                Ok(s) if s.live(now) => {}
                Ok(_) => out.push(k),
                Err(e) => {
                    tracing::error!(error = %e, "an unreadable web session: the sweep removes it");
                    out.push(k);
                }
            }
        }
        Ok(out)
    }

    /// Removes the sessions [`Sessions::expired`] named; returns how many.
    pub fn remove_expired(&self, keys: Vec<Vec<u8>>) -> Result<usize, StoreError> {
        let n = keys.len();
        let mut batch = Batch::default();
        for k in keys {
            SESSIONS.remove(&mut batch, k);
        }
        self.db.commit(batch)?;
        Ok(n)
    }

    /// Ends a session (logout).
    pub fn end(&self, id: &str) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        SESSIONS.remove(&mut batch, key(id));
        self.db.commit(batch)
    }
}
