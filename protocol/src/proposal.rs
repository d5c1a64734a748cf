//! Trust-list proposals (docs/protocol.md §3.2): the next version of the
//! list, proposed by a coordinator and passed between coordinators' nodes
//! only, each coordinator signing on its own node; whichever node first
//! holds `threshold` signatures installs it, and the list then spreads as
//! any update does.
//!
//! A proposal carries its state: the list body, every signature gathered
//! so far (each exactly a trust-list signature, so the update is assembled
//! from them), and every withdrawal. Two copies merge by union, in any
//! order and any number of times, so a coordinator offline for a day
//! catches up from whichever coordinator it meets first.
//!
//! # Layout
//! - [`Proposal`]: what travels, [`Proposal::checked`] against the list in
//!   force, [`Proposal::merge`], signing and withdrawing.
//! - [`changes`]: what a version changes against another, for people.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{
    AgencyKey, Keypair, RecordId, Sig, SignedTrustList, TrustList, cbor,
    limits::{Bounds, MAX_TEXT_BYTES, MAX_TRUST_LIST_BYTES},
    trust::{TRUST_DOMAIN, TrustSig},
};

/// What a coordinator signs to take its signature back from a proposal:
/// this domain, then the proposal's id.
pub const WITHDRAW_DOMAIN: &[u8] = b"kawan/trust/withdraw/v1";

/// What the proposer signs for what it says of its proposal: this domain,
/// the proposal's id, `proposed_ms` (u64 big-endian), then the note.
pub const PROPOSAL_DOMAIN: &[u8] = b"kawan/trust/proposal/v1";

/// Why a proposal was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposalError {
    #[error("not a proposal: {0}")]
    Decode(String),
    #[error("the proposed list is not valid: {0}")]
    List(String),
    #[error("the proposal is for network {got}; this node is in {expected}")]
    WrongNetwork { expected: String, got: String },
    #[error("the proposal makes version {got}; the next version is {expected}")]
    NotNext { expected: u64, got: u64 },
    #[error("{0} is not an active coordinator of the list in force")]
    NotCoordinator(AgencyKey),
    #[error("the proposer's signature does not verify")]
    BadProposerSignature,
    #[error("the proposal is {0} bytes; a trust list with its signatures is at most {MAX_TRUST_LIST_BYTES}")]
    TooLarge(usize),
    #[error("the note is {0} bytes; at most {MAX_TEXT_BYTES}")]
    NoteTooLong(usize),
}

/// The next version of the trust list, as a coordinator proposed it, with
/// the signatures and withdrawals gathered so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The proposed list and the coordinators' signatures over its body.
    pub list: SignedTrustList,
    /// The coordinator that proposed it (its signature is in `list`).
    pub proposer: AgencyKey,
    /// Why, for the other coordinators.
    pub note: String,
    pub proposed_ms: u64,
    /// The proposer's signature over [`PROPOSAL_DOMAIN`] ‖ id ‖
    /// `proposed_ms` ‖ note: no node passing it on can change the note or
    /// the proposer.
    pub proposer_sig: Sig,
    /// Coordinators that took their signature back: each signed
    /// [`WITHDRAW_DOMAIN`] ‖ the proposal's id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<TrustSig>,
}

impl Proposal {
    /// A coordinator's proposal of `list`, signed by it.
    pub fn new(list: &TrustList, key: &Keypair, note: &str, now_ms: u64) -> Result<Proposal, ProposalError> {
        let mut signed = SignedTrustList::new(list).map_err(|e| ProposalError::List(e.to_string()))?;
        signed.sign(key);
        let note = note.trim().to_string();
        let id = RecordId(*blake3::hash(&signed.body).as_bytes());
        let proposer_sig = key.sign(PROPOSAL_DOMAIN, &said(&id, now_ms, &note));
        Ok(Proposal {
            list: signed,
            proposer: key.public(),
            note,
            proposed_ms: now_ms,
            proposer_sig,
            withdrawn: vec![],
        })
    }

    /// The proposal's id: the BLAKE3 hash of the proposed body (two
    /// coordinators proposing the same list propose one thing).
    pub fn id(&self) -> RecordId {
        RecordId(*blake3::hash(&self.list.body).as_bytes())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Proposal, ProposalError> {
        let bounds = Bounds { max_bytes: MAX_MESSAGE_BYTES, max_string: bytes.len(), ..Bounds::TRUST_LIST };
        cbor::decode(bytes, &bounds).map_err(|e| ProposalError::Decode(e.to_string()))
    }

    /// The proposal as the list in force lets it stand: the next version of
    /// this network, proposed and signed by an active coordinator; of the
    /// signatures and withdrawals, only valid ones by active coordinators
    /// are kept (one each). Each is verified once.
    pub fn checked(mut self, current: &TrustList, now_ms: u64) -> Result<Proposal, ProposalError> {
        let list = self.list.list().map_err(|e| ProposalError::List(e.to_string()))?;
        if list.network != current.network {
            return Err(ProposalError::WrongNetwork {
                expected: current.network.to_string(),
                got: list.network.to_string(),
            });
        }
        let next = current.version.saturating_add(1);
        if list.version != next {
            return Err(ProposalError::NotNext { expected: next, got: list.version });
        }
        // Installed, the list with its signatures must read back.
        let size = self.list.to_bytes().len();
        if size > MAX_TRUST_LIST_BYTES {
            return Err(ProposalError::TooLarge(size));
        }
        if self.note.len() > MAX_TEXT_BYTES {
            return Err(ProposalError::NoteTooLong(self.note.len()));
        }
        let coordinator =
            |k: &AgencyKey| current.member_by_key(k).is_some_and(|m| m.is_coordinator() && m.is_active(now_ms));
        if !coordinator(&self.proposer) {
            return Err(ProposalError::NotCoordinator(self.proposer));
        }
        let id = self.id();
        if !self.proposer.verify(PROPOSAL_DOMAIN, &said(&id, self.proposed_ms, &self.note), &self.proposer_sig) {
            return Err(ProposalError::BadProposerSignature);
        }
        let body = std::mem::take(&mut self.list.body);
        let keep = |sigs: Vec<TrustSig>, domain: &[u8], message: &[u8]| {
            let mut seen = BTreeSet::new();
            sigs.into_iter()
                .filter(|s| coordinator(&s.key) && seen.insert(s.key) && s.key.verify(domain, message, &s.sig))
                .collect::<Vec<_>>()
        };
        self.list.sigs = keep(std::mem::take(&mut self.list.sigs), TRUST_DOMAIN, &body);
        self.withdrawn = keep(std::mem::take(&mut self.withdrawn), WITHDRAW_DOMAIN, &id.0);
        self.list.body = body;
        let withdrawn: BTreeSet<AgencyKey> = self.withdrawn.iter().map(|w| w.key).collect();
        self.list.sigs.retain(|s| !withdrawn.contains(&s.key));
        Ok(self)
    }

    /// Takes in what another copy of the same proposal (both
    /// [`checked`](Proposal::checked)) holds; true if anything was new.
    pub fn merge(&mut self, other: Proposal) -> bool {
        let before = (self.list.sigs.len(), self.withdrawn.len());
        for w in other.withdrawn {
            if !self.withdrawn.iter().any(|x| x.key == w.key) {
                self.withdrawn.push(w);
            }
        }
        for s in other.list.sigs {
            if !self.list.sigs.iter().any(|x| x.key == s.key) {
                self.list.sigs.push(s);
            }
        }
        let withdrawn: BTreeSet<AgencyKey> = self.withdrawn.iter().map(|w| w.key).collect();
        self.list.sigs.retain(|s| !withdrawn.contains(&s.key));
        (self.list.sigs.len(), self.withdrawn.len()) != before
    }

    /// Adds `key`'s signature (a coordinator signing on its own node).
    pub fn sign(&mut self, key: &Keypair) {
        self.withdrawn.retain(|w| w.key != key.public());
        self.list.sign(key);
    }

    /// Takes `key`'s signature back, for good: a withdrawal travels with
    /// the proposal, so no copy counts the signature again.
    pub fn withdraw(&mut self, key: &Keypair) {
        let id = self.id();
        self.list.sigs.retain(|s| s.key != key.public());
        if !self.withdrawn.iter().any(|w| w.key == key.public()) {
            self.withdrawn.push(TrustSig { key: key.public(), sig: key.sign(WITHDRAW_DOMAIN, &id.0) });
        }
    }

    /// Whether `key` took its signature back from it.
    pub fn withdrawn_by(&self, key: &AgencyKey) -> bool {
        self.withdrawn.iter().any(|w| w.key == *key)
    }

    /// The coordinators whose signatures it holds.
    pub fn signers(&self) -> Vec<AgencyKey> {
        self.list.sigs.iter().map(|s| s.key).collect()
    }
}

/// A coordinator's node's answer to a proposal it was sent
/// (`/kawan/coordinate/1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// Taken in (merged with its own copy).
    Received,
    /// Not taken, and why (this node is not a coordinator's, the proposal
    /// does not check, the node is busy).
    Refused(String),
}

/// The largest proposal message: a trust list's bounds, and the
/// signatures and withdrawals of its coordinators.
pub const MAX_MESSAGE_BYTES: usize = MAX_TRUST_LIST_BYTES + MAX_TEXT_BYTES + 64 * 1024;

impl Reply {
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Reply, ProposalError> {
        let bounds = Bounds { max_string: MAX_TEXT_BYTES, ..Bounds::TRUST_LIST };
        cbor::decode(bytes, &bounds).map_err(|e| ProposalError::Decode(e.to_string()))
    }
}

/// What `new` changes against `old`, one line each, for people.
pub fn changes(old: &TrustList, new: &TrustList) -> Vec<String> {
    let mut out = Vec::new();
    let name = |l: &TrustList, k: &crate::MemberId| {
        l.member(k).map_or_else(|| k.to_string(), |m| format!("{} ({})", m.name, m.id))
    };
    for m in &new.members {
        match old.member(&m.id) {
            None => out.push(format!(
                "adds {} ({}, {}) as a {} with key {}",
                m.name,
                m.id,
                m.country,
                if m.is_coordinator() { "coordinator" } else { "member" },
                m.key
            )),
            Some(was) => {
                if was.key != m.key {
                    out.push(format!("{} signs with a new key {} (was {})", name(new, &m.id), m.key, was.key));
                }
                if was.is_coordinator() != m.is_coordinator() {
                    let now = if m.is_coordinator() { "becomes a coordinator" } else { "is no longer a coordinator" };
                    out.push(format!("{} {now}", name(new, &m.id)));
                }
                if was.expires_ms != m.expires_ms {
                    out.push(match m.expires_ms {
                        Some(ms) => format!("{}'s membership runs until {}", name(new, &m.id), day(ms)),
                        None => format!("{}'s membership no longer expires", name(new, &m.id)),
                    });
                }
                if was.name != m.name || was.country != m.country {
                    out.push(format!("{} is now named {} ({})", m.id, m.name, m.country));
                }
                if was.addrs != m.addrs {
                    out.push(format!("{}'s addresses become {}", name(new, &m.id), m.addrs.join(", ")));
                }
            }
        }
    }
    for m in old.members.iter().filter(|m| new.member(&m.id).is_none()) {
        out.push(format!("removes {} ({}, {})", m.name, m.id, m.country));
    }
    for g in &new.groups {
        match old.group(&g.id) {
            None => out.push(format!(
                "creates sharing group {} ({}) with {}",
                g.id,
                g.name,
                g.members.iter().map(|m| name(new, m)).collect::<Vec<_>>().join(", ")
            )),
            Some(was) => {
                for m in g.members.iter().filter(|m| !was.members.contains(m)) {
                    out.push(format!("adds {} to sharing group {}", name(new, m), g.id));
                }
                for m in was.members.iter().filter(|m| !g.members.contains(m)) {
                    out.push(format!("removes {} from sharing group {}", name(old, m), g.id));
                }
            }
        }
    }
    for g in old.groups.iter().filter(|g| new.group(&g.id).is_none()) {
        out.push(format!("deletes sharing group {} ({})", g.id, g.name));
    }
    if old.threshold != new.threshold {
        out.push(format!(
            "changes the signatures needed for the next version from {} to {}",
            old.threshold, new.threshold
        ));
    }
    if old.retention != new.retention {
        out.push("changes the retention policy".into());
    }
    if old.decay != new.decay {
        out.push("changes how confidence decays".into());
    }
    if old.attachment_max_bytes != new.attachment_max_bytes {
        out.push(format!("sets the largest file a record may carry to {} bytes", new.attachment_max()));
    }
    if out.is_empty() {
        out.push("changes nothing but the version".into());
    }
    out
}

/// What the proposer signs of its proposal (after [`PROPOSAL_DOMAIN`]).
fn said(id: &RecordId, proposed_ms: u64, note: &str) -> Vec<u8> {
    [&id.0[..], &proposed_ms.to_be_bytes(), note.as_bytes()].concat()
}

/// A Unix time in ms as its UTC day, `YYYY-MM-DD` (days-to-civil, proleptic
/// Gregorian).
fn day(ms: u64) -> String {
    let z = (ms / 86_400_000) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Country, Member, MemberId, MemberRole, NetworkId};

    fn member(n: u8, coordinator: bool) -> (Keypair, Member) {
        let key = Keypair::from_secret_bytes([n; 32]);
        let m = Member {
            id: MemberId::new(format!("agency-{n}")).unwrap(),
            name: format!("Agency {n}"),
            country: "TH".parse::<Country>().unwrap(),
            key: key.public(),
            roles: vec![if coordinator { MemberRole::Coordinator } else { MemberRole::Member }],
            addrs: vec![],
            expires_ms: None,
            key_from_ms: None,
            retired_keys: vec![],
        };
        (key, m)
    }

    fn list(members: &[&Member], threshold: u16) -> TrustList {
        TrustList {
            network: "mekong-osint".parse::<NetworkId>().unwrap(),
            version: 1,
            issued_ms: 0,
            threshold,
            members: members.iter().map(|m| (*m).clone()).collect(),
            groups: vec![],
            retention: None,
            decay: None,
            attachment_max_bytes: None,
        }
    }

    #[test]
    fn signatures_gather_by_merging_and_a_withdrawal_travels() {
        let (a, ma) = member(1, true);
        let (b, mb) = member(2, true);
        let (c, mc) = member(3, true);
        let (x, mx) = member(4, false);
        let current = list(&[&ma, &mb, &mc], 2);
        let mut next = list(&[&ma, &mb, &mc, &mx], 2);
        next.version = 2;
        let proposed = Proposal::new(&next, &a, "adds agency 4", 10).unwrap();
        let at_b = Proposal::from_bytes(&proposed.to_bytes()).unwrap().checked(&current, 10).unwrap();
        let mut signed_b = at_b.clone();
        signed_b.sign(&b);
        // Back at a: two signatures, ready; merging again changes nothing.
        let mut at_a = proposed.clone().checked(&current, 10).unwrap();
        assert!(at_a.merge(signed_b.clone().checked(&current, 10).unwrap()));
        assert_eq!(at_a.signers().len(), 2);
        assert!(!at_a.merge(signed_b.clone()));
        // c withdraws; the withdrawal wins over any copy that still has it.
        let mut at_c = signed_b.clone();
        at_c.sign(&c);
        at_c.withdraw(&c);
        at_a.merge(at_c.checked(&current, 10).unwrap());
        assert!(!at_a.signers().contains(&c.public()));
        let mut stale = signed_b.clone();
        stale.sign(&c);
        at_a.merge(stale.checked(&current, 10).unwrap());
        assert!(!at_a.signers().contains(&c.public()), "a withdrawn signature does not come back");
        // The gathered signatures make a valid update.
        assert_eq!(at_a.list.verify_update(&current, 10).unwrap().version, 2);
        assert_eq!(
            changes(&current, &next),
            vec![format!("adds Agency 4 (agency-4, TH) as a member with key {}", x.public())]
        );
    }

    #[test]
    fn forged_replayed_or_outsiders_proposals_and_signatures_are_refused_or_dropped() {
        let (a, ma) = member(1, true);
        let (b, mb) = member(2, true);
        let (x, mx) = member(4, false);
        let current = list(&[&ma, &mb, &mx], 2);
        let mut next = current.clone();
        next.version = 2;
        next.threshold = 1;
        // A non-coordinator proposes.
        let by_x = Proposal::new(&next, &x, "", 1).unwrap();
        assert_eq!(by_x.checked(&current, 1), Err(ProposalError::NotCoordinator(x.public())));
        // A proposal naming a coordinator it was not signed by.
        let mut forged = Proposal::new(&next, &x, "", 1).unwrap();
        forged.proposer = a.public();
        assert_eq!(forged.checked(&current, 1), Err(ProposalError::BadProposerSignature));
        // A note changed by a node passing it on.
        let mut retold = Proposal::new(&next, &a, "adds nobody", 1).unwrap();
        retold.note = "removes agency 2".into();
        assert_eq!(retold.checked(&current, 1), Err(ProposalError::BadProposerSignature));
        // A signature replayed from another proposal is dropped.
        let mut other = next.clone();
        other.threshold = 2;
        let mut theirs = Proposal::new(&other, &a, "", 1).unwrap();
        theirs.sign(&b);
        let mut ours = Proposal::new(&next, &a, "", 1).unwrap();
        ours.list.sigs.push(theirs.list.sigs.iter().find(|s| s.key == b.public()).unwrap().clone());
        let ours = ours.checked(&current, 1).unwrap();
        assert_eq!(ours.signers(), vec![a.public()], "b's signature over another body does not count");
        // An old version, or another network's.
        let mut old = next.clone();
        old.version = 1;
        assert!(matches!(
            Proposal::new(&old, &a, "", 1).unwrap().checked(&current, 1),
            Err(ProposalError::NotNext { .. })
        ));
        assert!(Proposal::from_bytes(b"\xa1\x00").is_err());
        assert_eq!(day(1_777_630_920_000), "2026-05-01");
    }
}
