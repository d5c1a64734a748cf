//! Coordinator tooling: building and editing trust lists from node
//! directories. Coordinator keys are ordinary agency keys.

use std::path::Path;

use kawan_protocol::{Keypair, Member, MemberId, MemberRole, SignedTrustList, TrustError, TrustList};

use crate::{
    config::{Config, ConfigError},
    daemon::P2P_ADDR_FILE,
    identity::{self, IdentityError},
};

#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

/// The member entry for the node in `dir`: its name, country and key from
/// the directory, its address hints from `addrs` (or, if the node has run,
/// from the addresses it listened on).
pub fn member_from_dir(dir: &Path, id: &str, coordinator: bool, addrs: &[String]) -> Result<Member, CoordinatorError> {
    let config = Config::load(dir)?;
    let key = identity::load(&dir.join(&config.paths.key))?;
    let mut hints = addrs.to_vec();
    if hints.is_empty()
        && let Ok(text) = std::fs::read_to_string(dir.join(P2P_ADDR_FILE))
    {
        hints = text.lines().map(String::from).collect();
    }
    if hints.is_empty() {
        // Configured listen addresses that others can dial as written.
        let peer = identity::peer_id(&key.public())?;
        hints = config
            .p2p
            .listen
            .iter()
            .filter(|a| {
                !a.contains("/0.0.0.0/") && !a.contains("/::/") && !a.contains("/tcp/0") && !a.contains("/udp/0/")
            })
            .map(|a| format!("{a}/p2p/{peer}"))
            .collect();
    }
    Ok(Member {
        id: MemberId::new(id).map_err(|e| CoordinatorError::Invalid(e.to_string()))?,
        name: config.agency.name,
        country: config.agency.country,
        key: key.public(),
        roles: if coordinator { vec![MemberRole::Coordinator, MemberRole::Member] } else { vec![MemberRole::Member] },
        addrs: hints,
        expires_ms: None,
    })
}

/// The agency key of the node in `dir` (to sign trust lists with).
pub fn key_of(dir_or_key: &Path) -> Result<Keypair, CoordinatorError> {
    if dir_or_key.is_dir() {
        let config = Config::load(dir_or_key)?;
        Ok(identity::load(&dir_or_key.join(&config.paths.key))?)
    } else {
        Ok(identity::load(dir_or_key)?)
    }
}

pub fn read(path: &Path) -> Result<SignedTrustList, CoordinatorError> {
    let bytes =
        std::fs::read(path).map_err(|source| CoordinatorError::Read { path: path.display().to_string(), source })?;
    Ok(SignedTrustList::from_bytes(&bytes)?)
}

pub fn write(path: &Path, signed: &SignedTrustList) -> Result<(), CoordinatorError> {
    crate::files::write_atomic(path, &signed.to_bytes(), 0o644)
        .map_err(|source| CoordinatorError::Write { path: path.display().to_string(), source })
}

/// The next version of `list` after `edit`, unsigned (coordinators sign it).
pub fn next_version(
    current: &SignedTrustList,
    issued_ms: u64,
    edit: impl FnOnce(&mut TrustList) -> Result<(), CoordinatorError>,
) -> Result<SignedTrustList, CoordinatorError> {
    let mut list = current.list()?;
    list.version += 1;
    list.issued_ms = issued_ms;
    edit(&mut list)?;
    Ok(SignedTrustList::new(&list)?)
}
