//! Permissions to disseminate a record outside the network (handling code
//! H2), as this agency recorded them: who at the author's agency agreed, by
//! which message, for which kind of dissemination. The policy gate reads
//! them when it decides whether an H2 record may go to an export client or
//! into a platform referral package (`policy::Onward`).
//!
//! Today a permission is free text an analyst copies from the provider's
//! answer (a SIENA message, an e-mail). A signed request/answer between
//! agencies, carried by the network, will replace `granted_by` and
//! `reference`; until then this table is the agency's own record of it.
//!
//! # Layout
//! `permissions`: the knowledge's root record id (32 bytes) → [`Permission`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    local::{LocalDb, Table},
    policy::Path,
    store::{StoreError, engine::Batch},
};

const PERMISSIONS: Table<Permission> = Table::new("permissions");

/// Which dissemination outside the network a permission covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Exports into other tools: TAXII, the MISP feed, CSV, STIX.
    Export,
    /// Platform referral packages.
    Referral,
    /// Both.
    All,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Export => "export",
            Scope::Referral => "referral",
            Scope::All => "all",
        }
    }

    /// Whether the permission covers sending over `path`.
    pub fn covers(self, path: Path) -> bool {
        match self {
            Scope::All => true,
            Scope::Referral => path == Path::Referral,
            Scope::Export => matches!(path, Path::Taxii | Path::MispFeed | Path::Csv | Path::Stix | Path::Webhook),
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "export" => Ok(Scope::Export),
            "referral" => Ok(Scope::Referral),
            "all" => Ok(Scope::All),
            _ => Err(format!("unknown scope {s:?} (export, referral or all)")),
        }
    }
}

/// A permission from a record's provider to disseminate it outside the
/// network. `granted_by` and `reference` are free text until the signed
/// request/answer between agencies exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permission {
    /// The knowledge's root record id (hex).
    pub id: String,
    /// Who at the author's agency agreed (free text).
    pub granted_by: String,
    /// Their message or SIENA reference.
    pub reference: String,
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The token holder who recorded it.
    pub recorded_by: String,
    /// When it was recorded (Unix ms).
    pub at_ms: u64,
}

pub struct Permissions {
    db: Arc<LocalDb>,
}

impl Permissions {
    pub fn open(db: Arc<LocalDb>) -> Permissions {
        Permissions { db }
    }

    /// The permission recorded for the knowledge `root`, if any.
    pub fn get(&self, root: &[u8; 32]) -> Result<Option<Permission>, StoreError> {
        PERMISSIONS.get(&self.db, root)
    }

    /// Whether a permission for `root` covers `path`.
    pub fn covers(&self, root: &[u8; 32], path: Path) -> Result<bool, StoreError> {
        Ok(self.get(root)?.is_some_and(|p| p.scope.covers(path)))
    }

    /// Records (or replaces) the permission for `root`, durably.
    pub fn grant(&self, root: &[u8; 32], row: &Permission) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        PERMISSIONS.put(&mut batch, root.to_vec(), row)?;
        self.db.commit(batch)
    }

    /// Removes the permission for `root`; the one removed, if there was one.
    pub fn revoke(&self, root: &[u8; 32]) -> Result<Option<Permission>, StoreError> {
        let Some(old) = self.get(root)? else { return Ok(None) };
        let mut batch = Batch::default();
        PERMISSIONS.remove(&mut batch, root.to_vec());
        self.db.commit(batch)?;
        Ok(Some(old))
    }

    /// Every permission recorded, newest first.
    pub fn list(&self) -> Result<Vec<Permission>, StoreError> {
        let mut out =
            PERMISSIONS.scan(&self.db, &[], false).map(|r| r.map(|(_, p)| p)).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[test]
    fn a_permission_covers_the_paths_of_its_scope_until_revoked() {
        let db = Arc::new(LocalDb::in_memory(Clock::manual(1_000)));
        let table = Permissions::open(db);
        let root = [7u8; 32];
        assert!(!table.covers(&root, Path::Csv).unwrap());
        let row = Permission {
            id: hex::encode(root),
            granted_by: "Duty officer, Agency 2".into(),
            reference: "SIENA 2026-0001".into(),
            scope: Scope::Export,
            note: None,
            recorded_by: "analyst".into(),
            at_ms: 1_000,
        };
        table.grant(&root, &row).unwrap();
        assert!(table.covers(&root, Path::Csv).unwrap() && table.covers(&root, Path::Taxii).unwrap());
        assert!(!table.covers(&root, Path::Referral).unwrap(), "an export permission is not a referral one");
        assert_eq!(table.list().unwrap(), vec![row.clone()]);
        assert_eq!(table.revoke(&root).unwrap(), Some(row));
        assert!(!table.covers(&root, Path::Csv).unwrap());
        assert_eq!(table.revoke(&root).unwrap(), None);
        assert!(Scope::All.covers(Path::Referral) && "ALL".parse::<Scope>() == Ok(Scope::All));
    }
}
