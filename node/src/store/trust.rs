//! The trust list in force, persisted beside the records.
//!
//! Keys of the `trust` keyspace: `v` ‖ version(8) → signed list bytes, for
//! every accepted version (so peers that are behind can be sent the chain),
//! and `current` → version(8).

use std::{ops::Bound, sync::Arc};

use kawan_protocol::{Membership, SignedTrustList, TrustError, TrustList};

use super::{
    Store, StoreError,
    engine::{Batch, Durability},
    keys,
};

#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("a different genesis is already installed for network {0}")]
    GenesisConflict(String),
    #[error("no trust list installed yet; install the genesis first")]
    NoGenesis,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The trust list in force, if any.
    pub fn trust(&self) -> Option<Arc<TrustList>> {
        self.trust.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|(list, _, _)| list.clone())
    }

    /// The trust list in force, indexed for membership questions.
    pub fn membership(&self) -> Option<Arc<Membership>> {
        self.trust.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|(_, index, _)| index.clone())
    }

    fn set_trust(&self, list: TrustList) -> Arc<TrustList> {
        let index = Arc::new(Membership::of(&list));
        let retention = Arc::new(list.retention());
        let list = Arc::new(list);
        *self.trust.write().unwrap_or_else(|e| e.into_inner()) = Some((list.clone(), index, retention));
        list
    }

    /// Installs the pinned genesis list. Idempotent; refuses a different one
    /// once any list is installed.
    pub fn install_genesis(&self, signed: &SignedTrustList) -> Result<Arc<TrustList>, TrustStoreError> {
        let list = signed.verify_genesis()?;
        if let Some(current) = self.trust() {
            let ours = self.get_key(&keys::trust_version(list.version))?;
            if current.network == list.network && ours.is_some_and(|b| b == signed.to_bytes()) {
                return Ok(current);
            }
            return Err(TrustStoreError::GenesisConflict(current.network.to_string()));
        }
        let list = self.commit.locked(|| self.put_trust(signed, list))?;
        self.reanchor()?;
        Ok(list)
    }

    /// Accepts a newer list signed by enough coordinators of the current one.
    pub fn apply_trust_update(&self, signed: &SignedTrustList) -> Result<Arc<TrustList>, TrustStoreError> {
        // Under the writer lock: two updates never race past each other.
        let list = self.commit.locked(|| {
            let current = self.trust().ok_or(TrustStoreError::NoGenesis)?;
            let list = signed.verify_update(&current, self.now_ms())?;
            let policy_changed = list.retention() != current.retention();
            self.put_trust(signed, list).map(|l| (l, policy_changed))
        })?;
        let (list, policy_changed) = list;
        if policy_changed {
            // Review dates follow the new policy from now on.
            self.reindex_review()?;
        }
        // Logs the new list anchors are sorted once (anchor.rs).
        self.reanchor()?;
        // A coordinator's erasure of a member's data counts once the
        // member has left, whichever arrived first.
        self.reapply_erasures()?;
        Ok(list)
    }

    /// Signed lists newer than `version`, oldest first, for a peer catching up.
    pub fn trust_lists_after(&self, version: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let range = (
            Bound::Included(keys::trust_version(version.saturating_add(1))),
            Bound::Included(keys::trust_version(u64::MAX)),
        );
        self.scan(range, false).map(|item| Ok(item?.1)).collect()
    }

    fn put_trust(&self, signed: &SignedTrustList, list: TrustList) -> Result<Arc<TrustList>, TrustStoreError> {
        let mut batch = Batch::default();
        batch.insert(keys::space(keys::TRUST), keys::trust_version(list.version), signed.to_bytes());
        batch.insert(keys::space(keys::TRUST), keys::TRUST_CURRENT.to_vec(), list.version.to_be_bytes().to_vec());
        self.engine.commit(batch, Durability::Sync)?;
        Ok(self.set_trust(list))
    }

    /// Loads the current list at open. Stored lists were verified when they
    /// were accepted; only their structure is checked again.
    pub(super) fn load_trust(&self) -> Result<(), StoreError> {
        let Some(v) = self.get_key(keys::TRUST_CURRENT)? else {
            return Ok(());
        };
        let version = keys::u64_be(&v).ok_or_else(|| super::corrupt("trust current"))?;
        let bytes = self.get_key(&keys::trust_version(version))?.ok_or_else(|| super::corrupt("trust version"))?;
        let list = SignedTrustList::from_bytes(&bytes)
            .and_then(|s| s.list())
            .map_err(|e| StoreError::Corrupt(format!("trust list v{version}: {e}")))?;
        self.set_trust(list);
        // Finishes a sorting a crash interrupted (it is one atomic batch,
        // so this finds either nothing or everything to do).
        self.reanchor()
    }
}
