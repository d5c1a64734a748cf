//! Coordinator and operator tooling over files: member cards, trust-list
//! files, pinning a genesis, and the key files of a rotation. Nothing here
//! reads another agency's node directory: agencies exchange public cards,
//! and a coordinator signs with their own key only.

use std::path::{Path, PathBuf};

use kawan_protocol::{
    Card, CardBody, CardError, Keypair, LogEnd, Member, MemberId, Replaces, RetiredKey, SignedTrustList, TrustError,
    TrustList,
};

use crate::{
    config::{Config, ConfigError},
    identity::{self, IdentityError},
    node_dir,
};

#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("member card {path}: {source}")]
    Card { path: String, source: CardError },
    #[error("member card {path} is not a Kawan member card (JSON from `kawan card`): {message}")]
    CardFormat { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

/// A member id from an agency name: "Cambodia ACU" → "cambodia-acu".
pub fn default_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').chars().take(64).collect()
}

/// Address hints for the node in `dir`: `addrs` if given, else the
/// addresses it listened on when it last ran, else configured listen
/// addresses that others can dial as written.
fn address_hints(
    dir: &Path,
    config: &Config,
    key: &Keypair,
    addrs: &[String],
) -> Result<Vec<String>, CoordinatorError> {
    if !addrs.is_empty() {
        return Ok(addrs.to_vec());
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(node_dir::P2P_ADDR)) {
        let hints: Vec<String> = text.lines().map(String::from).collect();
        if !hints.is_empty() {
            return Ok(hints);
        }
    }
    let peer = identity::peer_id(&key.public())?;
    Ok(config
        .p2p
        .listen
        .iter()
        .filter(|a| !a.contains("/0.0.0.0/") && !a.contains("/::/") && !a.contains("/tcp/0") && !a.contains("/udp/0/"))
        .map(|a| format!("{a}/p2p/{peer}"))
        .collect())
}

/// This node's member card, signed with its own key.
pub fn own_card(dir: &Path, id: Option<&str>, addrs: &[String]) -> Result<Card, CoordinatorError> {
    let config = Config::load(dir)?;
    let key = identity::load(&dir.join(&config.paths.key))?;
    let id = id.map_or_else(|| default_id(&config.agency.name), String::from);
    let body = CardBody {
        id: MemberId::new(id).map_err(|e| CoordinatorError::Invalid(format!("{e} (choose one with --id)")))?,
        name: config.agency.name.clone(),
        country: config.agency.country,
        key: key.public(),
        addrs: address_hints(dir, &config, &key, addrs)?,
        replaces: None,
    };
    Card::sign(body, &key, None).map_err(|source| CoordinatorError::Card { path: dir.display().to_string(), source })
}

/// Reads and checks a card file.
pub fn read_card(path: &Path) -> Result<Card, CoordinatorError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CoordinatorError::Read { path: p.clone(), source })?;
    let card: Card = serde_json::from_str(&text)
        .map_err(|e| CoordinatorError::CardFormat { path: p.clone(), message: e.to_string() })?;
    card.check().map_err(|source| CoordinatorError::Card { path: p, source })?;
    Ok(card)
}

/// The member entry a card asks for.
pub fn member_from_card(path: &Path, coordinator: bool) -> Result<Member, CoordinatorError> {
    let card = read_card(path)?;
    if card.card.replaces.is_some() {
        return Err(CoordinatorError::Invalid(format!(
            "{} is a key-rotation card: use `kawan trust rotate-key`",
            path.display()
        )));
    }
    Ok(card.card.member(coordinator))
}

/// A coordinator's own signing key: their key file, or their own node
/// directory (which holds it).
pub fn own_key(key_or_dir: &Path) -> Result<Keypair, CoordinatorError> {
    if key_or_dir.is_dir() {
        let config = Config::load(key_or_dir)?;
        Ok(identity::load(&key_or_dir.join(&config.paths.key))?)
    } else {
        Ok(identity::load(key_or_dir)?)
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

/// Pins the network's genesis in an existing node directory (before the
/// node first runs, or while it has none). Checks the coordinators'
/// signatures, that the list is for this node's network, and that it lists
/// this node; refuses to replace a different pinned genesis.
pub fn pin_genesis(dir: &Path, file: &Path) -> Result<TrustList, CoordinatorError> {
    let config = Config::load(dir)?;
    let key = identity::load(&dir.join(&config.paths.key))?;
    let signed = read(file)?;
    let list = signed.verify_genesis()?;
    if list.network != config.agency.network {
        return Err(CoordinatorError::Invalid(format!(
            "{} is the genesis of network {}, but this node is configured for {} (agency.network in kawan.toml)",
            file.display(),
            list.network,
            config.agency.network
        )));
    }
    if list.member_by_key(&key.public()).is_none() {
        return Err(CoordinatorError::Invalid(format!(
            "{} does not list this node's key {}: send your card (`kawan card`) to the coordinators",
            file.display(),
            key.public()
        )));
    }
    let target = dir.join(&config.paths.genesis);
    if let Ok(existing) = std::fs::read(&target)
        && existing != signed.to_bytes()
    {
        return Err(CoordinatorError::Invalid(format!(
            "{} already pins a different genesis; a node belongs to one network",
            target.display()
        )));
    }
    crate::files::write_atomic(&target, &signed.to_bytes(), 0o600)
        .map_err(|source| CoordinatorError::Write { path: target.display().to_string(), source })?;
    Ok(list)
}

/// Step 1 of a rotation, on the agency's node: a new key in
/// [`node_dir::NEXT_KEY`] (kept if one is already waiting) and the rotation card
/// for the coordinators. `until_ms` ends the old key's validity; each of its
/// logs ends at the last record it signed at or before then (from `heads`,
/// which the node's own store supplies). The old key co-signs the card
/// unless it is `compromised` and so no longer proves anything.
pub fn rotation_card(
    dir: &Path,
    id: &MemberId,
    until_ms: u64,
    last_seqs: Vec<LogEnd>,
    compromised: bool,
) -> Result<Card, CoordinatorError> {
    let config = Config::load(dir)?;
    let old = identity::load(&dir.join(&config.paths.key))?;
    let next = identity::load_or_create(&dir.join(node_dir::NEXT_KEY))?;
    let body = CardBody {
        id: id.clone(),
        name: config.agency.name.clone(),
        country: config.agency.country,
        key: next.public(),
        addrs: address_hints(dir, &config, &next, &[])?,
        replaces: Some(Replaces { key: old.public(), until_ms, last_seqs, compromised }),
    };
    let co_sign = (!compromised).then_some(&old);
    Card::sign(body, &next, co_sign)
        .map_err(|source| CoordinatorError::Card { path: dir.display().to_string(), source })
}

/// Applies a rotation card to a list: the member's key becomes the card's,
/// and the old key is kept as retired with the card's window.
pub fn rotate(list: &mut TrustList, card: &Card, now_ms: u64) -> Result<(), CoordinatorError> {
    let body = &card.card;
    let Some(r) = &body.replaces else {
        return Err(CoordinatorError::Invalid("not a key-rotation card (it replaces no key)".into()));
    };
    let m = list
        .members
        .iter_mut()
        .find(|m| m.id == body.id)
        .ok_or_else(|| CoordinatorError::Invalid(format!("no member {}", body.id)))?;
    if m.key != r.key {
        return Err(CoordinatorError::Invalid(format!(
            "the card replaces key {}, but {}'s current key is {}",
            r.key, m.id, m.key
        )));
    }
    m.retired_keys.push(RetiredKey {
        key: m.key,
        from_ms: m.key_from_ms,
        until_ms: r.until_ms,
        last_seqs: r.last_seqs.clone(),
        compromised: r.compromised,
    });
    m.key = body.key;
    m.key_from_ms = Some(now_ms.min(r.until_ms));
    if !body.addrs.is_empty() {
        m.addrs = body.addrs.clone();
    }
    Ok(())
}

/// At start: if the trust list in force names the waiting next key as this
/// agency's key, it becomes the signing key, and the old one is kept beside
/// it as `agency.key.retired-<hex prefix>`. Returns the key to run with.
pub fn take_rotated_key(
    dir: &Path,
    key_path: &Path,
    trust: Option<&TrustList>,
) -> Result<Option<PathBuf>, CoordinatorError> {
    let next_path = dir.join(node_dir::NEXT_KEY);
    if !next_path.exists() {
        return Ok(None);
    }
    let next = identity::load(&next_path)?;
    let current = identity::load(key_path)?;
    let approved = trust.is_some_and(|t| {
        t.member_by_key(&next.public()).is_some_and(|m| m.retired_keys.iter().any(|r| r.key == current.public()))
    });
    if !approved {
        return Ok(None);
    }
    let retired = dir.join(format!("agency.key.retired-{}", &current.public().to_string()[..16]));
    let move_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| CoordinatorError::Write { path, source }
    };
    std::fs::rename(key_path, &retired).map_err(move_err(&retired))?;
    std::fs::rename(&next_path, key_path).map_err(move_err(key_path))?;
    Ok(Some(retired))
}
