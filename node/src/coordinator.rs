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

/// What `kawan trust join` installed.
#[derive(Debug)]
pub struct Joined {
    /// The genesis, now pinned.
    pub genesis: TrustList,
    /// The newest list, now in force (the genesis itself when given alone).
    pub current: TrustList,
    /// Lists installed after the genesis.
    pub updates: usize,
}

/// Joins this node directory to a network: `files` hold the genesis and,
/// for an agency added after the network was founded, every later version
/// up to one that names it (single lists or a chain from `kawan trust
/// chain`, in any order). Everything is checked before anything is
/// written: the genesis is signed by enough of its own coordinators and is
/// for the network in `kawan.toml`; each later version is signed by enough
/// current coordinators of the one before (the rule every node applies to
/// an update); the newest names this node's key; a different genesis is
/// not already pinned. Then the genesis is pinned and the later versions
/// go into the node's store, which checks them once more.
pub fn join(dir: &Path, files: &[PathBuf], clock: crate::clock::Clock) -> Result<Joined, CoordinatorError> {
    let config = Config::load(dir)?;
    let key = identity::load(&dir.join(&config.paths.key))?;
    let mut lists: Vec<(u64, SignedTrustList)> = Vec::new();
    for file in files {
        let bytes = std::fs::read(file)
            .map_err(|source| CoordinatorError::Read { path: file.display().to_string(), source })?;
        let read = kawan_protocol::lists_from_bytes(&bytes).map_err(|e| {
            CoordinatorError::Invalid(format!("{} is not a trust list or a chain of them: {e}", file.display()))
        })?;
        for signed in read {
            let version = signed.list()?.version;
            match lists.iter().find(|(v, _)| *v == version) {
                Some((_, other)) if other.to_bytes() != signed.to_bytes() => {
                    return Err(CoordinatorError::Invalid(format!(
                        "two different lists claim version {version}: at most one of them is genuine; ask the coordinators"
                    )));
                }
                Some(_) => {}
                None => lists.push((version, signed)),
            }
        }
    }
    lists.sort_by_key(|(v, _)| *v);
    let Some(((_, genesis_signed), updates)) = lists.split_first() else {
        return Err(CoordinatorError::Invalid("no trust list given".into()));
    };
    let genesis = genesis_signed.verify_genesis().map_err(|e| {
        CoordinatorError::Invalid(format!(
            "the oldest list given (version {}) is not a genesis signed by its own coordinators: {e}",
            lists[0].0
        ))
    })?;
    if genesis.network != config.agency.network {
        return Err(CoordinatorError::Invalid(format!(
            "the genesis given is of network {}, but this node is configured for {} (agency.network in kawan.toml)",
            genesis.network, config.agency.network
        )));
    }
    let now = clock.now_ms();
    let mut current = genesis.clone();
    for (version, signed) in updates {
        current = signed.verify_update(&current, now).map_err(|e| {
            CoordinatorError::Invalid(format!(
                "version {version} does not follow version {} (each version must be signed by enough coordinators of the one before, and every version in between must be given): {e}",
                current.version
            ))
        })?;
    }
    if current.member_by_key(&key.public()).is_none() {
        return Err(CoordinatorError::Invalid(format!(
            "the newest list given (version {}) does not name this node's key {}: send your card (`kawan card`) to the coordinators; once they have published the version that adds you, any member's node can export the chain (`kawan trust chain --out network.trust`)",
            current.version,
            key.public()
        )));
    }
    let target = dir.join(&config.paths.genesis);
    if let Ok(existing) = std::fs::read(&target)
        && existing != genesis_signed.to_bytes()
    {
        return Err(CoordinatorError::Invalid(format!(
            "{} already pins a different genesis; a node belongs to one network",
            target.display()
        )));
    }
    if !updates.is_empty() {
        let storage = crate::data_dir::DataDir::open(&dir.join(&config.paths.data), clock).map_err(|e| {
            CoordinatorError::Invalid(format!(
                "cannot open this node's database to install the later lists (stop the node first): {e}"
            ))
        })?;
        let store = &storage.store;
        let installed = |e: crate::store::TrustStoreError| CoordinatorError::Invalid(e.to_string());
        store.install_genesis(genesis_signed).map_err(installed)?;
        for (_, signed) in updates {
            match store.apply_trust_update(signed) {
                Ok(_) | Err(crate::store::TrustStoreError::Trust(TrustError::NotNewer { .. })) => {}
                Err(e) => return Err(installed(e)),
            }
        }
    }
    crate::files::write_atomic(&target, &genesis_signed.to_bytes(), 0o600)
        .map_err(|source| CoordinatorError::Write { path: target.display().to_string(), source })?;
    Ok(Joined { genesis, current, updates: updates.len() })
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

#[cfg(test)]
mod tests {
    //! `join`: what an agency's node accepts as its way into a network.
    use kawan_protocol::{Member, MemberRole, NetworkId};

    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn member(id: &str, key: &Keypair, coordinator: bool) -> Member {
        Member {
            id: MemberId::new(id).unwrap(),
            name: id.into(),
            country: "TH".parse().unwrap(),
            key: key.public(),
            roles: vec![if coordinator { MemberRole::Coordinator } else { MemberRole::Member }],
            addrs: vec![],
            expires_ms: None,
            key_from_ms: None,
            retired_keys: vec![],
        }
    }

    fn signed(network: &str, version: u64, members: Vec<Member>, by: &Keypair) -> SignedTrustList {
        let list = TrustList {
            attachment_max_bytes: None,
            retention: None,
            decay: None,
            network: NetworkId::new(network).unwrap(),
            version,
            issued_ms: NOW,
            threshold: 1,
            members,
            groups: vec![],
        };
        let mut s = SignedTrustList::new(&list).unwrap();
        s.sign(by);
        s
    }

    fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_node_joins_with_the_chain_that_names_it_and_nothing_else() {
        let node = tempfile::tempdir().unwrap();
        let network = "kawan-test";
        crate::daemon::init(node.path(), "Agency 9", "TH".parse().unwrap(), NetworkId::new(network).unwrap()).unwrap();
        let me = identity::load(&node.path().join("agency.key")).unwrap();
        let files = tempfile::tempdir().unwrap();
        let f = |name: &str, bytes: &[u8]| file(files.path(), name, bytes);
        let coordinator = Keypair::from_secret_bytes([1; 32]);
        let stranger = Keypair::from_secret_bytes([2; 32]);
        let founders = vec![member("agency-1", &coordinator, true)];
        let genesis = signed(network, 1, founders.clone(), &coordinator);
        let with_me = [founders.clone(), vec![member("agency-9", &me, false)]].concat();
        let v2 = signed(network, 2, with_me.clone(), &coordinator);
        let err = |files: &[PathBuf]| join(node.path(), files, crate::clock::Clock::system()).unwrap_err().to_string();

        let garbage = f("garbage.trust", b"not a list");
        assert!(err(&[garbage]).contains("is not a trust list or a chain of them"));
        let genesis_file = f("genesis.trust", &genesis.to_bytes());
        assert!(err(std::slice::from_ref(&genesis_file)).contains("kawan trust chain"), "the genesis alone");
        let other_v2 =
            signed(network, 2, [with_me.clone(), vec![member("agency-8", &stranger, false)]].concat(), &coordinator);
        let two = [genesis_file.clone(), f("v2.trust", &v2.to_bytes()), f("other.trust", &other_v2.to_bytes())];
        assert!(err(&two).contains("two different lists claim version 2"));
        let forged = signed(network, 2, with_me.clone(), &stranger);
        let forged = [genesis_file.clone(), f("forged.trust", &forged.to_bytes())];
        assert!(err(&forged).contains("version 2 does not follow version 1"));
        let elsewhere = signed("kawan-other", 1, with_me.clone(), &coordinator);
        assert!(err(&[f("elsewhere.trust", &elsewhere.to_bytes())]).contains("this node is configured for kawan-test"));
        let not_genesis = signed(network, 1, founders.clone(), &stranger);
        assert!(err(&[f("nogen.trust", &not_genesis.to_bytes())]).contains("is not a genesis"));
        assert!(!node.path().join("genesis.trust").exists(), "nothing pinned after a refusal");

        // The chain, in one file, works; and again (idempotent).
        let chain = f("network.trust", &kawan_protocol::chain_to_bytes(&[genesis.clone(), v2.clone()]));
        for _ in 0..2 {
            let joined = join(node.path(), std::slice::from_ref(&chain), crate::clock::Clock::system()).unwrap();
            assert_eq!((joined.genesis.version, joined.current.version, joined.updates), (1, 2, 1));
        }
        assert_eq!(std::fs::read(node.path().join("genesis.trust")).unwrap(), genesis.to_bytes());
        let data = crate::data_dir::DataDir::open(&node.path().join("data"), crate::clock::Clock::system()).unwrap();
        assert_eq!(data.store.trust().map(|t| t.version), Some(2), "the later version is in force in the store");
        drop(data);

        // A node belongs to one network: another genesis is refused.
        let again = signed(network, 1, with_me, &coordinator);
        assert!(err(&[f("again.trust", &again.to_bytes())]).contains("already pins a different genesis"));
    }
}
