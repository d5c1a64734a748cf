//! Trust lists (docs/protocol.md §3): who is in the network, in which sharing
//! groups, and who may change that.
//!
//! A node pins a genesis list in its config. Every later version is accepted
//! only if its version is higher and at least `threshold` coordinators *of the
//! version the node already trusts* signed it, so a stolen coordinator key
//! (below threshold) cannot take the network over, and an old list cannot be
//! replayed to re-admit a revoked agency.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    AgencyKey, CborError, Channel, Country, GroupId, Header, Keypair, MemberId, NetworkId, RecordId, Retention, Sig,
    card::LogEnd,
    cbor,
    limits::{Bounds, MAX_LIST_ITEMS, MAX_MEMBERS, MAX_SHORT_BYTES},
};

/// How far a record's claimed time may precede its key's `key_from_ms`
/// (clocks differ; a rotation takes minutes to reach every node).
pub const KEY_FROM_SLACK_MS: u64 = 10 * 60 * 1000;

/// Domain-separation prefix of trust-list signatures.
pub const TRUST_DOMAIN: &[u8] = b"kawan/trust/v1";

/// The trust-list document coordinators sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    pub network: NetworkId,
    pub version: u64,
    pub issued_ms: u64,
    /// How many coordinators of this version must sign the next one.
    pub threshold: u16,
    pub members: Vec<Member>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    /// How long records may be kept before review (`processing`). Absent:
    /// the defaults of [`Retention::default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// How indicators' confidence decays (`decay`). Absent: the defaults
    /// of [`DecayPolicy::default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<crate::DecayPolicy>,
    /// The largest file a record may carry on this network, in bytes.
    /// Absent: [`attachment::DEFAULT_MAX_BYTES`](crate::attachment::DEFAULT_MAX_BYTES).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_max_bytes: Option<u64>,
}

/// One agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub country: Country,
    pub key: AgencyKey,
    pub roles: Vec<MemberRole>,
    /// Multiaddr hints for reaching the agency's node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addrs: Vec<String>,
    /// After this instant (Unix ms) the membership has lapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    /// When `key` took effect (Unix ms), if it replaced an earlier key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_from_ms: Option<u64>,
    /// Keys the agency signed with before `key`. What each signed inside
    /// its window stays valid (the agency's history); anything later is void.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_keys: Vec<RetiredKey>,
}

/// A key an agency no longer signs with: rotated out, or cut off after a
/// theft. Never a peer identity again, and never a coordinator's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredKey {
    pub key: AgencyKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    /// Records it signed claiming a later time (Unix ms) are void.
    pub until_ms: u64,
    /// The last valid record of each of its logs. Records beyond are void
    /// whatever time they claim, so a thief cannot backdate; with the
    /// record's id, so are forks below it. A channel not listed has no
    /// valid record. Empty: the time cutoff alone applies to a routine
    /// rotation, and nothing is valid for a compromised key (a thief can
    /// backdate, so time proves nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_seqs: Vec<LogEnd>,
    /// Retired because it was stolen or lost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compromised: bool,
}

/// Why a record's signature no longer vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Void {
    #[error("its key belongs to no member of the trust list")]
    NotMember,
    #[error("its author's membership has lapsed")]
    Lapsed,
    #[error("it claims a time before its key took effect ({from_ms})")]
    BeforeKey { from_ms: u64 },
    #[error("its key was {} at {until_ms} and it claims a later time", if *compromised { "cut off as compromised" } else { "retired" })]
    AfterCutoff { until_ms: u64, compromised: bool },
    #[error("its key's log on this channel ends at {last} (the record is number {seq})")]
    BeyondLogEnd { seq: u64, last: u64 },
    #[error(
        "its key's log on this channel ends at record {end_id} (number {end_seq}), and this record (number {seq}) is not that record or one of its ancestors"
    )]
    OffAnchoredChain { seq: u64, end_seq: u64, end_id: RecordId },
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Member,
    Coordinator,
}

/// A sharing group: AMBER records on `group:<id>` reach only these members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub members: Vec<MemberId>,
}

/// A trust list as distributed: the exact body bytes and the signatures on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTrustList {
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    pub sigs: Vec<TrustSig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSig {
    pub key: AgencyKey,
    pub sig: Sig,
}

/// Why a trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("cannot decode trust list: {0}")]
    Decode(CborError),
    #[error("member id {0} appears twice")]
    DuplicateMember(MemberId),
    #[error("key of member {0} is also used by another member")]
    DuplicateKey(MemberId),
    #[error("key of member {0} is not a usable ed25519 key")]
    BadKey(MemberId),
    #[error("retired key of member {0} ends before it starts")]
    RetiredWindow(MemberId),
    #[error("member {0} has no roles")]
    NoRoles(MemberId),
    #[error("group id {0} appears twice")]
    DuplicateGroup(GroupId),
    #[error("group {group} names unknown member {member}")]
    UnknownGroupMember { group: GroupId, member: MemberId },
    #[error("threshold {threshold} is not between 1 and the {coordinators} coordinators")]
    Threshold { threshold: u16, coordinators: usize },
    #[error("field {field} is too long or a list has too many items")]
    TooLong { field: &'static str },
    #[error("list is for network {got}, this node trusts {expected}")]
    WrongNetwork { expected: NetworkId, got: NetworkId },
    #[error("version {got} is not newer than the trusted version {current} (rollback or replay)")]
    NotNewer { current: u64, got: u64 },
    #[error(
        "signed by {valid} current coordinator(s), {needed} needed ({ignored} signature(s) ignored: invalid, duplicate or not from a current coordinator)"
    )]
    UnderSigned { valid: usize, needed: usize, ignored: usize },
    #[error("cannot encode: {0}")]
    Encode(CborError),
    /// A retention or decay policy that cannot be applied.
    #[error("{0}")]
    Retention(String),
}

impl TrustList {
    /// The retention policy in force under this list.
    pub fn retention(&self) -> Retention {
        self.retention.clone().unwrap_or_default()
    }

    /// The decay policy in force under this list.
    pub fn decay(&self) -> crate::DecayPolicy {
        self.decay.clone().unwrap_or_default()
    }

    /// The largest file a record may carry on this network.
    pub fn attachment_max(&self) -> u64 {
        self.attachment_max_bytes.unwrap_or(crate::attachment::DEFAULT_MAX_BYTES)
    }

    /// Structural rules every version must satisfy.
    pub fn check(&self) -> Result<(), TrustError> {
        if self.attachment_max_bytes.is_some_and(|n| n == 0 || n > crate::attachment::ABSOLUTE_MAX_BYTES) {
            return Err(TrustError::Retention(format!(
                "attachment_max_bytes must be between 1 and {}",
                crate::attachment::ABSOLUTE_MAX_BYTES
            )));
        }
        if self.members.len() > MAX_MEMBERS || self.groups.len() > MAX_MEMBERS {
            return Err(TrustError::TooLong { field: "members" });
        }
        let mut ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for m in &self.members {
            if !ids.insert(&m.id) {
                return Err(TrustError::DuplicateMember(m.id.clone()));
            }
            for key in std::iter::once(&m.key).chain(m.retired_keys.iter().map(|r| &r.key)) {
                if !keys.insert(*key) {
                    return Err(TrustError::DuplicateKey(m.id.clone()));
                }
                if key.verifying_key().is_err() {
                    return Err(TrustError::BadKey(m.id.clone()));
                }
            }
            if m.retired_keys.iter().any(|r| r.from_ms.is_some_and(|f| f > r.until_ms)) {
                return Err(TrustError::RetiredWindow(m.id.clone()));
            }
            if m.retired_keys.len() > MAX_LIST_ITEMS
                || m.retired_keys.iter().any(|r| r.last_seqs.len() > MAX_LIST_ITEMS)
            {
                return Err(TrustError::TooLong { field: "retired keys" });
            }
            if m.roles.is_empty() {
                return Err(TrustError::NoRoles(m.id.clone()));
            }
            if m.name.len() > MAX_SHORT_BYTES || m.addrs.len() > MAX_LIST_ITEMS || m.roles.len() > 2 {
                return Err(TrustError::TooLong { field: "member" });
            }
        }
        let mut groups = BTreeSet::new();
        for g in &self.groups {
            if !groups.insert(&g.id) {
                return Err(TrustError::DuplicateGroup(g.id.clone()));
            }
            if g.name.len() > MAX_SHORT_BYTES {
                return Err(TrustError::TooLong { field: "group name" });
            }
            if let Some(m) = g.members.iter().find(|m| !ids.contains(m)) {
                return Err(TrustError::UnknownGroupMember { group: g.id.clone(), member: m.clone() });
            }
        }
        if let Some(r) = &self.retention {
            if r.rules.len() > MAX_LIST_ITEMS {
                return Err(TrustError::TooLong { field: "retention" });
            }
            r.validate().map_err(TrustError::Retention)?;
        }
        if let Some(d) = &self.decay {
            if d.half_life.len() > MAX_LIST_ITEMS {
                return Err(TrustError::TooLong { field: "decay" });
            }
            d.validate().map_err(TrustError::Retention)?;
        }
        let coordinators = self.members.iter().filter(|m| m.is_coordinator()).count();
        if self.threshold == 0 || usize::from(self.threshold) > coordinators {
            return Err(TrustError::Threshold { threshold: self.threshold, coordinators });
        }
        Ok(())
    }

    /// The member whose current key is `key`.
    pub fn member_by_key(&self, key: &AgencyKey) -> Option<&Member> {
        self.members.iter().find(|m| m.key == *key)
    }

    /// The member that signs, or signed, with `key` (current or retired).
    pub fn member_by_any_key(&self, key: &AgencyKey) -> Option<&Member> {
        self.member_by_key(key).or_else(|| self.members.iter().find(|m| m.retired_keys.iter().any(|r| r.key == *key)))
    }

    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members.iter().find(|m| m.id == *id)
    }

    /// Whether `key` belongs to a member whose membership has not lapsed.
    pub fn is_active(&self, key: &AgencyKey, now_ms: u64) -> bool {
        self.member_by_key(key).is_some_and(|m| m.is_active(now_ms))
    }

    pub fn group(&self, id: &GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == *id)
    }

    /// Whether the agency with `key` may receive records of `group`.
    pub fn in_group(&self, group: &GroupId, key: &AgencyKey) -> bool {
        match (self.group(group), self.member_by_key(key)) {
            (Some(g), Some(m)) => g.members.contains(&m.id),
            _ => false,
        }
    }

    /// Sharing groups the agency with `key` belongs to.
    pub fn groups_of(&self, key: &AgencyKey) -> Vec<&GroupId> {
        let Some(m) = self.member_by_key(key) else {
            return Vec::new();
        };
        self.groups.iter().filter(|g| g.members.contains(&m.id)).map(|g| &g.id).collect()
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, TrustError> {
        cbor::encode(self).map_err(TrustError::Encode)
    }
}

/// A trust list indexed by key, for the questions asked on every message:
/// is this agency an active member, and which groups is it in. Built once
/// per accepted list; lookups do not walk the member list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    pub network: Option<NetworkId>,
    pub version: u64,
    members: BTreeMap<AgencyKey, (Option<u64>, Vec<GroupId>)>,
    /// Retired keys: the agency's current key, and the key's window.
    retired: BTreeMap<AgencyKey, (AgencyKey, RetiredKey)>,
    /// When rotated-in current keys took effect.
    key_from: BTreeMap<AgencyKey, u64>,
    /// Coordinators' current keys.
    coordinators: BTreeSet<AgencyKey>,
    /// Keys in trust-list order: compact heads name an author by position.
    order: Vec<AgencyKey>,
    position: BTreeMap<AgencyKey, u16>,
}

impl Membership {
    pub fn of(list: &TrustList) -> Membership {
        let mut members: BTreeMap<AgencyKey, (Option<u64>, Vec<GroupId>)> =
            list.members.iter().map(|m| (m.key, (m.expires_ms, Vec::new()))).collect();
        for g in &list.groups {
            for id in &g.members {
                if let Some(m) = list.member(id)
                    && let Some(entry) = members.get_mut(&m.key)
                {
                    entry.1.push(g.id.clone());
                }
            }
        }
        let retired =
            list.members.iter().flat_map(|m| m.retired_keys.iter().map(|r| (r.key, (m.key, r.clone())))).collect();
        let key_from = list.members.iter().filter_map(|m| Some((m.key, m.key_from_ms?))).collect();
        let order: Vec<AgencyKey> = list.members.iter().map(|m| m.key).collect();
        let position = order.iter().enumerate().filter_map(|(i, k)| Some((*k, u16::try_from(i).ok()?))).collect();
        let coordinators = list.members.iter().filter(|m| m.is_coordinator()).map(|m| m.key).collect();
        Membership {
            network: Some(list.network.clone()),
            version: list.version,
            members,
            retired,
            key_from,
            coordinators,
            order,
            position,
        }
    }

    /// Whether `key` is an active coordinator's current key.
    pub fn is_coordinator(&self, key: &AgencyKey, now_ms: u64) -> bool {
        self.coordinators.contains(key) && self.is_active(key, now_ms)
    }

    /// The current key of the agency `key` belongs to (itself, unless retired).
    pub fn agency_key<'a>(&'a self, key: &'a AgencyKey) -> Option<&'a AgencyKey> {
        if self.members.contains_key(key) {
            return Some(key);
        }
        self.retired.get(key).map(|(current, _)| current)
    }

    /// Whether two keys belong to the same agency (a key and its successor).
    pub fn same_agency(&self, a: &AgencyKey, b: &AgencyKey) -> bool {
        a == b || self.agency_key(a).is_some_and(|x| Some(x) == self.agency_key(b))
    }

    /// The retired-key entry for `key`, if it is one.
    pub fn retired(&self, key: &AgencyKey) -> Option<&RetiredKey> {
        self.retired.get(key).map(|(_, r)| r)
    }

    /// Whether the record with header `h` is still vouched for by its
    /// signature: its author's agency is an active member, and the key
    /// signed it inside the key's window.
    pub fn vouches(&self, h: &Header, now_ms: u64) -> Result<(), Void> {
        let agency = self.agency_key(&h.author).ok_or(Void::NotMember)?;
        if !self.is_active(agency, now_ms) {
            return Err(Void::Lapsed);
        }
        if let Some(from_ms) = self.key_from.get(&h.author)
            && h.created_ms.saturating_add(KEY_FROM_SLACK_MS) < *from_ms
        {
            return Err(Void::BeforeKey { from_ms: *from_ms });
        }
        let Some(r) = self.retired(&h.author) else { return Ok(()) };
        if h.created_ms > r.until_ms {
            return Err(Void::AfterCutoff { until_ms: r.until_ms, compromised: r.compromised });
        }
        let last = self.log_end(&h.author, &h.channel);
        if h.seq > last {
            return Err(Void::BeyondLogEnd { seq: h.seq, last });
        }
        if let Some(from_ms) = r.from_ms
            && h.created_ms.saturating_add(KEY_FROM_SLACK_MS) < from_ms
        {
            return Err(Void::BeforeKey { from_ms });
        }
        Ok(())
    }

    /// The last valid position of `author`'s log on `channel`: unbounded
    /// for current keys and for retired keys cut off by time alone.
    pub fn log_end(&self, author: &AgencyKey, channel: &Channel) -> u64 {
        match self.retired(author) {
            Some(r) if !r.last_seqs.is_empty() || r.compromised => {
                r.last_seqs.iter().find(|e| e.channel == *channel).map_or(0, |e| e.seq)
            }
            _ => u64::MAX,
        }
    }

    /// The anchored end (seq, record id) of a retired key's log, if its
    /// rotation named one: only that record and its ancestors through
    /// `prev` are valid in the log (the store walks the chain).
    pub fn anchor(&self, author: &AgencyKey, channel: &Channel) -> Option<(u64, RecordId)> {
        let r = self.retired(author)?;
        let end = r.last_seqs.iter().find(|e| e.channel == *channel)?;
        Some((end.seq, end.id?))
    }

    /// An agency's position in the trust list.
    pub fn position(&self, key: &AgencyKey) -> Option<u16> {
        self.position.get(key).copied()
    }

    /// The agency at a position in the trust list.
    pub fn at(&self, position: u16) -> Option<&AgencyKey> {
        self.order.get(usize::from(position))
    }

    /// Whether `key` belongs to a member whose membership has not lapsed.
    pub fn is_active(&self, key: &AgencyKey, now_ms: u64) -> bool {
        self.members.get(key).is_some_and(|(expires, _)| expires.is_none_or(|e| now_ms < e))
    }

    /// The sharing groups of the agency with `key`, current or retired
    /// (none if not listed).
    pub fn groups_of(&self, key: &AgencyKey) -> &[GroupId] {
        self.agency_key(key).and_then(|k| self.members.get(k)).map_or(&[], |(_, groups)| groups.as_slice())
    }

    pub fn in_group(&self, group: &GroupId, key: &AgencyKey) -> bool {
        self.groups_of(key).contains(group)
    }

    /// Every listed agency's key.
    pub fn keys(&self) -> impl Iterator<Item = &AgencyKey> {
        self.members.keys()
    }
}

impl Member {
    pub fn is_coordinator(&self) -> bool {
        self.roles.contains(&MemberRole::Coordinator)
    }

    pub fn is_active(&self, now_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| now_ms < e)
    }
}

/// Bounds for a trust-list chain file: many lists, each a byte string.
const CHAIN: Bounds = Bounds {
    max_bytes: 256 * 1024 * 1024,
    max_string: crate::limits::MAX_TRUST_LIST_BYTES,
    max_items: 1 << 20,
    max_depth: 2,
};

/// Signed lists as one file, oldest first (`kawan trust chain`): the
/// genesis and every later version, what an agency that joins a network
/// after it was founded needs to check the list that names it. A CBOR
/// array of byte strings, each one signed list.
pub fn chain_to_bytes(lists: &[SignedTrustList]) -> Vec<u8> {
    let items: Vec<serde_bytes::ByteBuf> = lists.iter().map(|l| serde_bytes::ByteBuf::from(l.to_bytes())).collect();
    cbor::encode(&items).unwrap_or_default()
}

/// Reads a file of trust lists: one signed list, or a chain.
pub fn lists_from_bytes(bytes: &[u8]) -> Result<Vec<SignedTrustList>, TrustError> {
    if let Ok(one) = SignedTrustList::from_bytes(bytes) {
        return Ok(vec![one]);
    }
    let items: Vec<serde_bytes::ByteBuf> = cbor::decode(bytes, &CHAIN).map_err(TrustError::Decode)?;
    items.iter().map(|b| SignedTrustList::from_bytes(b)).collect()
}

impl SignedTrustList {
    /// An unsigned list, ready for coordinators to sign.
    pub fn new(list: &TrustList) -> Result<SignedTrustList, TrustError> {
        list.check()?;
        Ok(SignedTrustList { body: list.to_bytes()?, sigs: Vec::new() })
    }

    /// Adds (or replaces) `key`'s signature over the body.
    pub fn sign(&mut self, key: &Keypair) {
        let sig = key.sign(TRUST_DOMAIN, &self.body);
        self.sigs.retain(|s| s.key != key.public());
        self.sigs.push(TrustSig { key: key.public(), sig });
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTrustList, TrustError> {
        let bounds = Bounds { max_string: bytes.len(), ..Bounds::TRUST_LIST };
        cbor::decode(bytes, &bounds).map_err(TrustError::Decode)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(self).unwrap_or_default()
    }

    /// Decodes and structurally checks the body, without looking at signatures.
    pub fn list(&self) -> Result<TrustList, TrustError> {
        let list: TrustList = cbor::decode(&self.body, &Bounds::TRUST_LIST).map_err(TrustError::Decode)?;
        list.check()?;
        Ok(list)
    }

    /// Accepts a genesis list: it must be signed by `threshold` of its own
    /// coordinators. The node pins it by configuration, not by this check alone.
    pub fn verify_genesis(&self) -> Result<TrustList, TrustError> {
        let list = self.list()?;
        self.enough_signatures(&list, list.issued_ms)?;
        Ok(list)
    }

    /// Accepts `self` as the successor of `current`, or says why not.
    pub fn verify_update(&self, current: &TrustList, now_ms: u64) -> Result<TrustList, TrustError> {
        let list = self.list()?;
        if list.network != current.network {
            return Err(TrustError::WrongNetwork { expected: current.network.clone(), got: list.network });
        }
        if list.version <= current.version {
            return Err(TrustError::NotNewer { current: current.version, got: list.version });
        }
        self.enough_signatures(current, now_ms)?;
        Ok(list)
    }

    /// Counts distinct, valid signatures from `signers`' active coordinators.
    /// Only signatures by distinct current coordinators are checked, each
    /// once, and checking stops at the threshold: a list stuffed with
    /// signatures costs at most one verification per coordinator, not one
    /// per signature it carries.
    fn enough_signatures(&self, signers: &TrustList, now_ms: u64) -> Result<(), TrustError> {
        let needed = usize::from(signers.threshold);
        let mut candidates: Vec<&TrustSig> = Vec::new();
        let mut seen = BTreeSet::new();
        for s in &self.sigs {
            let is_coordinator =
                signers.member_by_key(&s.key).is_some_and(|m| m.is_coordinator() && m.is_active(now_ms));
            if is_coordinator && seen.insert(s.key) {
                candidates.push(s);
            }
        }
        let mut valid = 0;
        for s in candidates {
            if valid >= needed {
                break;
            }
            if s.key.verify(TRUST_DOMAIN, &self.body, &s.sig) {
                valid += 1;
            }
        }
        if valid < needed {
            return Err(TrustError::UnderSigned { valid, needed, ignored: self.sigs.len() - valid });
        }
        Ok(())
    }
}
