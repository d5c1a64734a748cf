//! The trust list in force, installing updates, and the state of each peer
//! it names.

use std::{collections::BTreeMap, sync::Arc};

use kawan_protocol::{Member, SignedTrustList, TrustList};

use super::{Caller, Service, ServiceError};
use crate::{identity, net::Command};

/// One member of the network as this node sees it.
#[derive(Debug, Clone)]
pub struct PeerState {
    pub member: Member,
    pub peer_id: String,
    /// This node itself.
    pub me: bool,
    pub active: bool,
    pub connected: bool,
    pub last_seen_ms: Option<u64>,
    /// Per channel, from the peer's heads at the last exchange: records it
    /// had that we lack, and records we have that it lacked.
    pub lag: BTreeMap<String, (u64, u64)>,
    /// What the peer says it runs (software and protocol version, families
    /// it reads), once it has told us.
    pub agent: Option<String>,
    /// Record families stored here that the peer cannot read: it relays
    /// and serves them, but shows them as "of a newer kind".
    pub cannot_read: Vec<String>,
    /// Offences this node counted against the member's node since it
    /// started, by name.
    pub offences: BTreeMap<String, u64>,
}

/// This agency's log positions at an instant (for a rotation card).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct OwnLogEnds {
    /// This agency's id in the trust list in force, if it is listed.
    #[schema(value_type = Option<String>)]
    pub member: Option<kawan_protocol::MemberId>,
    #[schema(value_type = String)]
    pub key: kawan_protocol::AgencyKey,
    pub until_ms: u64,
    #[schema(value_type = Vec<Object>)]
    pub ends: Vec<kawan_protocol::LogEnd>,
}

impl Service {
    /// The trust list in force; not found if none is installed.
    pub fn trust(&self) -> Result<Arc<TrustList>, ServiceError> {
        self.data.store.trust().ok_or_else(|| ServiceError::not_found("no trust list installed"))
    }

    /// Every signed list this node accepted, genesis first: what an agency
    /// added after the network was founded needs to check the list that
    /// names it (`kawan trust chain`, then `kawan trust join`).
    pub fn trust_chain(&self) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.trust()?;
        Ok(self.data.store.trust_lists_after(0)?)
    }

    /// Installs a signed update of the trust list in force (coordinators
    /// only): accepted if the current coordinators signed it. The network
    /// learns it at once (new allow-list, removed members disconnected). The
    /// genesis is never installed this way: it comes from the file the
    /// configuration pins (`[paths] genesis`), so a token cannot make a
    /// node trust a network of its holder's choosing.
    pub async fn install_trust(
        self: &Arc<Self>,
        caller: Caller,
        hex_list: &str,
    ) -> Result<Arc<TrustList>, ServiceError> {
        caller.require(crate::local::tokens::Role::Coordinator)?;
        if self.data.store.trust().is_none() {
            return Err(ServiceError::invalid(
                "no_genesis",
                "no trust list is installed: the genesis comes from the file named by [paths] genesis in \
                 kawan.toml (kawan init --genesis FILE, or place the file and restart the node), never over the API",
            ));
        }
        let bytes = hex::decode(hex_list.trim())
            .map_err(|_| ServiceError::bad_request("invalid_value", "signed_list: not hex"))?;
        let signed = SignedTrustList::from_bytes(&bytes)
            .map_err(|e| ServiceError::invalid("invalid_trust_list", e.to_string()))?;
        self.run(move |s| {
            let install = || {
                let installed = s.data.store.apply_trust_update(&signed);
                installed.map_err(|e| ServiceError::invalid("trust_list_refused", e.to_string()))
            };
            s.audited(&caller, "trust.install", "", install, |list| format!("{} v{}", list.network, list.version))?;
            if let Some(net) = s.net.get() {
                net.send(Command::TrustUpdated);
            }
            s.trust()
        })
        .await
    }

    /// Where each of this agency's logs stands at `until_ms`: per channel,
    /// the last record this node published with its current key at or
    /// before then, by seq and id. A rotation card carries these, so the
    /// retired key's logs end exactly there: nothing it signs later counts,
    /// whatever time it claims, and nothing in those slots but that record
    /// and its ancestors (operators).
    pub async fn own_log_ends(
        self: &Arc<Self>,
        caller: Caller,
        until_ms: u64,
        compromised: bool,
    ) -> Result<OwnLogEnds, ServiceError> {
        caller.require(crate::local::tokens::Role::Operator)?;
        self.run(move |s| {
            let me = s.key.public();
            let store = &s.data.store;
            let mut ends = Vec::new();
            for head in store.heads(None)?.into_iter().filter(|h| h.author == me) {
                let end = store.own_log_end(&head.channel, &me, until_ms, compromised)?;
                ends.push(kawan_protocol::LogEnd {
                    channel: head.channel,
                    seq: end.map_or(0, |(seq, _)| seq),
                    id: end.map(|(_, id)| id),
                });
            }
            let member = store.trust().and_then(|t| t.member_by_key(&me).map(|m| m.id.clone()));
            s.audit_read(&caller, "key.log_ends", &format!("until {until_ms}, compromised {compromised}"))?;
            Ok(OwnLogEnds { member, key: me, until_ms, ends })
        })
        .await
    }

    /// Every member of the trust list in force, with its connection and how
    /// far apart we are; empty without a trust list.
    pub async fn peers(self: &Arc<Self>) -> Result<Vec<PeerState>, ServiceError> {
        self.run(|s| {
            let Some(list) = s.data.store.trust() else { return Ok(vec![]) };
            let ours = s.data.store.heads(None)?;
            let table =
                s.net.get().map(|n| n.peers.read().unwrap_or_else(|e| e.into_inner()).clone()).unwrap_or_default();
            let me = s.key.public();
            let now = s.now_ms();
            let in_use = s.families_in_use()?;
            Ok(list
                .members
                .iter()
                .map(|m| {
                    let peer_id = identity::peer_id(&m.key).map(|p| p.to_string()).unwrap_or_default();
                    let info = table.peers.get(&peer_id);
                    PeerState {
                        member: m.clone(),
                        me: m.key == me,
                        active: m.is_active(now),
                        connected: info.is_some_and(|i| i.connected),
                        last_seen_ms: info.and_then(|i| i.last_seen_ms),
                        lag: info.map(|i| kawan_protocol::sync::lag(&ours, &i.heads)).unwrap_or_default(),
                        cannot_read: info
                            .and_then(|i| i.agent.as_deref())
                            .and_then(kawan_protocol::newer::families_read)
                            .map(|reads| in_use.iter().filter(|f| !reads.contains(f)).map(|f| f.to_string()).collect())
                            .unwrap_or_default(),
                        agent: info.and_then(|i| i.agent.clone()),
                        offences: info.map(|i| i.offences.clone()).unwrap_or_default(),
                        peer_id,
                    }
                })
                .collect())
        })
        .await
    }
}

impl Service {
    /// The record families this node stores records of.
    pub fn families_in_use(&self) -> Result<Vec<&'static str>, ServiceError> {
        use kawan_protocol::Family;
        let mut out = std::collections::BTreeSet::new();
        for (label, _, n) in self.data.store.counts()? {
            // Indicators are counted per kind; every other family by name.
            let family = if label.parse::<kawan_protocol::Kind>().is_ok() {
                Some(Family::Indicator)
            } else {
                label.parse().ok()
            };
            if let Some(f) = family
                && n > 0
            {
                out.insert(f);
            }
        }
        Ok(out.into_iter().map(Family::as_str).collect())
    }

    /// The sharing groups this node is in.
    pub fn groups(&self) -> Vec<kawan_protocol::GroupId> {
        let me = self.key.public();
        self.data.store.trust().map(|t| t.groups_of(&me).into_iter().cloned().collect()).unwrap_or_default()
    }
}

impl Service {
    /// Audits what the network did on its own: a trust list a peer sent
    /// and this node installed.
    /// What the network did that the node must act on: audit installed
    /// trust lists, look at new records for watched values.
    pub async fn audit_net_event(self: &Arc<Self>, event: crate::net::NetEvent) -> Result<(), ServiceError> {
        self.run(move |s| match event {
            crate::net::NetEvent::TrustInstalled { from, version } => {
                let trust = s.data.store.trust();
                let network = trust.as_ref().map(|t| t.network.to_string()).unwrap_or_default();
                let from = s.author_name(&from, trust.as_deref());
                s.audit(
                    &Caller::system("trust install"),
                    "trust.install",
                    &format!("{network} v{version} from peer {from}"),
                )
            }
            // Records from peers: the watchlists look at them.
            crate::net::NetEvent::Stored(ids) => s.look_at(&Caller::system("alerts"), &ids).map(|_| ()),
        })
        .await
    }
}

/// How far ahead coordinator expiry is warned about.
const EXPIRY_WARNING_MS: u64 = 30 * 24 * 60 * 60 * 1000;

impl Service {
    /// What an operator must act on about the trust list: a key rotation
    /// waiting for a restart, a list no update
    /// can replace any more (too few active coordinators to reach the
    /// threshold), or one that will be so within 30 days.
    pub fn trust_warnings(&self) -> Vec<Warning> {
        let Some(list) = self.data.store.trust() else { return vec![] };
        let me = self.key.public();
        if let Some(m) = list.members.iter().find(|m| m.retired_keys.iter().any(|r| r.key == me)) {
            return vec![Warning::KeyRetired { name: m.name.clone() }];
        }
        let now = self.now_ms();
        let needed = usize::from(list.threshold);
        let coordinators: Vec<_> = list.members.iter().filter(|m| m.is_coordinator()).collect();
        let active = coordinators.iter().filter(|m| m.is_active(now)).count();
        if active < needed {
            return vec![Warning::TooFewCoordinators { active, needed }];
        }
        let later = now + EXPIRY_WARNING_MS;
        if coordinators.iter().filter(|m| m.is_active(later)).count() < needed {
            let from_ms = coordinators.iter().filter_map(|m| m.expires_ms.filter(|e| *e > now)).min().unwrap_or(later);
            return vec![Warning::CoordinatorsExpiring { from_ms, needed }];
        }
        vec![]
    }
}

/// Something an operator must act on. Shown in the operator's language on
/// the web page and in English (its `Display`) in logs and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The trust list retired this node's key: restart to sign with the new one.
    KeyRetired { name: String },
    /// No trust-list update can be accepted any more.
    TooFewCoordinators { active: usize, needed: usize },
    /// Coordinator memberships expire within 30 days.
    CoordinatorsExpiring { from_ms: u64, needed: usize },
    /// Records of a kind newer than this node reads are stored and relayed.
    NewerRecords { count: u64 },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::KeyRetired { name } => write!(
                f,
                "the trust list retired this node's key and lists {name} under a new key: restart the node so it \
                 signs and connects with {} (records signed with the retired key are refused by every node)",
                crate::node_dir::NEXT_KEY
            ),
            Warning::TooFewCoordinators { active, needed } => write!(
                f,
                "only {active} active coordinator(s) remain and the trust list needs {needed} signature(s): \
                 no trust-list update can be accepted any more; the network needs a new genesis"
            ),
            Warning::CoordinatorsExpiring { from_ms, needed } => write!(
                f,
                "coordinator memberships expire from {}: after that fewer than {needed} coordinator(s) can sign \
                 and no trust-list update will be accepted; have the coordinators sign an extended list before then",
                crate::interop::stix::timestamp(*from_ms)
            ),
            Warning::NewerRecords { count } => write!(
                f,
                "{count} record(s) of a newer kind than this node reads are stored and relayed but cannot be \
                 shown: upgrade Kawan to read them"
            ),
        }
    }
}

/// A member card or key-rotation card checked against the trust list in
/// force, and the next version it makes, unsigned: coordinators sign it
/// (`kawan trust sign`) and one of them installs it (`kawan trust publish`).
#[derive(Debug, Clone)]
pub struct CardReview {
    pub id: String,
    pub name: String,
    pub country: String,
    pub key: String,
    /// A key rotation (the card replaces a member's key), not a new member.
    pub rotation: bool,
    /// What the next version changes, for people.
    pub changes: Vec<String>,
    /// The next version, unsigned, and its number.
    pub next: kawan_protocol::SignedTrustList,
    pub version: u64,
}

impl Service {
    /// Checks `card` (JSON, as `kawan card` writes it) against the list in
    /// force: its signature, that its key is in no member's history, that a
    /// new member's id is free, that a rotation replaces the member's
    /// current key. Coordinators and operators only. Changes nothing.
    pub fn review_card(&self, caller: &Caller, card: &str) -> Result<CardReview, ServiceError> {
        if !matches!(caller.role, crate::local::tokens::Role::Coordinator | crate::local::tokens::Role::Operator) {
            return Err(ServiceError::forbidden(
                "forbidden",
                "checking member cards needs a coordinator or operator token",
            ));
        }
        let card: kawan_protocol::Card = serde_json::from_str(card.trim()).map_err(|e| {
            ServiceError::field("card", format!("not a member card (the JSON `kawan card` writes): {e}"))
        })?;
        card.check().map_err(|e| ServiceError::invalid("card_refused", format!("the card does not check: {e}")))?;
        let trust = self.trust()?;
        let body = &card.card;
        let holder = |key: &kawan_protocol::AgencyKey| {
            trust.members.iter().find(|m| m.key == *key || m.retired_keys.iter().any(|r| r.key == *key))
        };
        if let Some(m) = holder(&body.key) {
            return Err(ServiceError::invalid(
                "duplicate_key",
                format!("the card's key is already {}'s ({}): a key is never listed twice", m.name, m.id),
            ));
        }
        let mut list = (*trust).clone();
        list.version += 1;
        list.issued_ms = self.now_ms();
        let mut changes = Vec::new();
        let rotation = body.replaces.is_some();
        if rotation {
            crate::coordinator::rotate(&mut list, &card, self.now_ms())
                .map_err(|e| ServiceError::invalid("card_refused", e.to_string()))?;
            let compromised = body.replaces.as_ref().is_some_and(|r| r.compromised);
            changes.push(format!(
                "{} ({}) signs with a new key {}; the old key retires{}",
                body.name,
                body.id,
                body.key,
                if compromised { " as compromised: confirm with the agency by another channel" } else { "" }
            ));
            if !card.signed_by_old_key() {
                changes
                    .push("the card is not signed by the old key: confirm with the agency by another channel".into());
            }
        } else {
            if let Some(m) = trust.members.iter().find(|m| m.id == body.id) {
                return Err(ServiceError::invalid(
                    "duplicate_id",
                    format!(
                        "member id {} is already {}'s: the agency must choose another (kawan card --id)",
                        body.id, m.name
                    ),
                ));
            }
            list.members.push(body.member(false));
            changes
                .push(format!("adds {} ({}, {}) as a member with key {}", body.name, body.id, body.country, body.key));
        }
        let next = kawan_protocol::SignedTrustList::new(&list).map_err(|e| {
            ServiceError::invalid("trust_list_refused", format!("the next version would not be valid: {e}"))
        })?;
        Ok(CardReview {
            id: body.id.to_string(),
            name: body.name.clone(),
            country: body.country.to_string(),
            key: body.key.to_string(),
            rotation,
            changes,
            next,
            version: list.version,
        })
    }
}
