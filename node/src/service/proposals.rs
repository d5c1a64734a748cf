//! Trust-list proposals (docs/protocol.md §3.2): a coordinator proposes
//! the next version of the list on its own node (a member from its card,
//! a removal, a renewal, a group change, or a whole edited list); the
//! proposal travels to the other coordinators' nodes only, each coordinator
//! reviews what it changes and signs on its own node, and the node that
//! first holds the threshold's signatures installs it, after which the list
//! spreads to every node as any update does. Signing one proposal takes
//! this coordinator's signature back from the others for the same version.

use std::sync::Arc;

use kawan_protocol::{
    AgencyKey, GroupId, MemberId, RecordId, SignedTrustList, TrustList,
    proposal::{self, Proposal, Reply},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::{
    local::tokens::Role,
    net::Command,
    policy::{Item, Path, Policy, Recipient},
};

/// A change a coordinator proposes: exactly one of `card`, `remove`,
/// `renew`, `group` (with `add` or `drop`), or `list`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    /// A member card or a key-rotation card (the JSON `kawan card` or
    /// `kawan key rotate` writes, as an object or as text): admits the
    /// agency, or rotates its key.
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// A member id to remove from the network.
    pub remove: Option<String>,
    /// A member id whose membership runs until `until_ms` (none: no expiry).
    pub renew: Option<String>,
    pub until_ms: Option<u64>,
    /// A sharing group to change (created if new), with a member id to
    /// `add` to it or `drop` from it.
    pub group: Option<String>,
    pub add: Option<String>,
    pub drop: Option<String>,
    /// The whole next version, as the file commands write it (hex of the
    /// file's bytes), for any other change: the threshold, retention,
    /// decay, the largest file.
    pub list: Option<String>,
    /// Why, for the other coordinators.
    #[serde(default)]
    pub note: String,
}

/// A proposal as a coordinator reviews it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalView {
    /// The proposal's id (hex): the hash of the proposed list.
    pub id: String,
    /// The version it would make.
    pub version: u64,
    /// pending (for the next version), installed, or outdated (another
    /// version came first).
    pub status: &'static str,
    pub proposer: String,
    pub note: String,
    pub proposed_ms: u64,
    /// Coordinators whose signatures it holds, by name.
    pub signers: Vec<String>,
    /// Coordinators that took their signature back.
    pub withdrawn: Vec<String>,
    /// Signatures the list in force needs.
    pub needed: u16,
    /// This node's coordinator signed it.
    pub signed_here: bool,
    /// What it changes against the list in force (pending), or against the
    /// version it was proposed on.
    pub changes: Vec<String>,
    /// Other pending proposals for the same version (ids).
    pub competing: Vec<String>,
}

/// Pending proposals one coordinator may have on a node for one version:
/// enough for alternatives, not enough to fill a disk.
pub const MAX_PENDING_PER_PROPOSER: usize = 8;

impl Service {
    /// How many pending proposals `proposer` has here for the next version.
    fn pending_by(&self, current: &TrustList, proposer: &AgencyKey) -> Result<usize, ServiceError> {
        let mut n = 0;
        for held in self.data.proposals.all()? {
            let p = held.proposal()?;
            if p.proposer == *proposer && p.list.list().is_ok_and(|l| l.version == current.version + 1) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The list in force, when this node's agency is an active coordinator
    /// of it (only coordinators' nodes hold proposals).
    fn coordinating(&self) -> Result<Arc<TrustList>, ServiceError> {
        let trust = self.trust()?;
        let me = self.key.public();
        if !trust.member_by_key(&me).is_some_and(|m| m.is_coordinator() && m.is_active(self.now_ms())) {
            return Err(ServiceError::forbidden(
                "not_a_coordinator",
                "this node's agency is not a coordinator of the network: proposals are made and signed on a \
                 coordinator's own node",
            ));
        }
        Ok(trust)
    }

    /// The next version `new` asks for, from the list in force.
    fn proposed_list(
        &self,
        caller: &Caller,
        current: &TrustList,
        new: &NewProposal,
    ) -> Result<TrustList, ServiceError> {
        let given =
            [new.card.is_some(), new.remove.is_some(), new.renew.is_some(), new.group.is_some(), new.list.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ServiceError::bad_request(
                "invalid_value",
                "propose one change: card, remove, renew, group (with add or drop), or list",
            ));
        }
        let member = |id: &str| -> Result<MemberId, ServiceError> {
            let id: MemberId = ServiceError::parse("member", id)?;
            if current.member(&id).is_none() {
                return Err(ServiceError::not_found(format!("no member {id} in the list in force")));
            }
            Ok(id)
        };
        let mut next = current.clone();
        if let Some(card) = &new.card {
            let text = match card {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            next = self.review_card(caller, &text)?.next.list().map_err(ServiceError::internal)?;
        } else if let Some(id) = &new.remove {
            let id = member(id)?;
            next.members.retain(|m| m.id != id);
            for g in &mut next.groups {
                g.members.retain(|m| *m != id);
            }
        } else if let Some(id) = &new.renew {
            let id = member(id)?;
            if let Some(m) = next.members.iter_mut().find(|m| m.id == id) {
                m.expires_ms = new.until_ms;
            }
        } else if let Some(group) = &new.group {
            let group: GroupId = ServiceError::parse("group", group)?;
            let g = match next.groups.iter_mut().position(|g| g.id == group) {
                Some(i) => &mut next.groups[i],
                None => {
                    let name = group.to_string();
                    next.groups.push(kawan_protocol::Group { id: group.clone(), name, members: vec![] });
                    next.groups.last_mut().ok_or_else(|| ServiceError::internal("no group"))?
                }
            };
            match (&new.add, &new.drop) {
                (Some(id), None) => {
                    let id = member(id)?;
                    if !g.members.contains(&id) {
                        g.members.push(id);
                    }
                }
                (None, Some(id)) => {
                    let id = member(id)?;
                    g.members.retain(|m| *m != id);
                }
                _ => return Err(ServiceError::bad_request("invalid_value", "group: give add or drop (a member id)")),
            }
        } else if let Some(hex) = &new.list {
            let bytes =
                hex::decode(hex.trim()).map_err(|_| ServiceError::bad_request("invalid_value", "list: not hex"))?;
            next = SignedTrustList::from_bytes(&bytes)
                .and_then(|s| s.list())
                .map_err(|e| ServiceError::invalid("invalid_trust_list", e.to_string()))?;
        }
        next.version = current.version + 1;
        next.issued_ms = self.now_ms();
        next.check().map_err(|e| {
            ServiceError::invalid("invalid_trust_list", format!("the next version would not be valid: {e}"))
        })?;
        if next == (TrustList { version: next.version, issued_ms: next.issued_ms, ..current.clone() }) {
            return Err(ServiceError::invalid("no_change", "the proposal changes nothing"));
        }
        Ok(next)
    }

    /// Proposes the next version of the list (a coordinator, on its own
    /// node), signed by this node's coordinator; sent to the others.
    pub async fn propose(self: &Arc<Self>, caller: Caller, new: NewProposal) -> Result<ProposalView, ServiceError> {
        caller.require(Role::Coordinator)?;
        let p = self
            .run(move |s| {
                let _one = s.data.proposals.lock();
                let current = s.coordinating()?;
                let next = s.proposed_list(&caller, &current, &new)?;
                let p = Proposal::new(&next, &s.key, &new.note, s.now_ms())
                    .map_err(|e| ServiceError::invalid("invalid_trust_list", e.to_string()))?;
                let p = p
                    .checked(&current, s.now_ms())
                    .map_err(|e| ServiceError::invalid("proposal_refused", e.to_string()))?;
                s.audit(
                    &caller,
                    "trust.propose",
                    &format!("proposal {} for v{}: {}", p.id(), current.version + 1, p.note),
                )?;
                s.withdraw_from_others(&p, &current)?;
                s.take_in_proposal(p.clone())?;
                Ok(p)
            })
            .await?;
        self.spread_pending().await;
        self.proposal_view(&p.id())
    }

    /// Signs a pending proposal with this node's coordinator key, taking
    /// its signature back from the other proposals for the same version.
    pub async fn sign_proposal(self: &Arc<Self>, caller: Caller, id: &str) -> Result<ProposalView, ServiceError> {
        caller.require(Role::Coordinator)?;
        let id: RecordId = ServiceError::parse("id", id)?;
        self.run(move |s| {
            let _one = s.data.proposals.lock();
            let current = s.coordinating()?;
            let held =
                s.data.proposals.get(&id)?.ok_or_else(|| ServiceError::not_found(format!("no proposal {id}")))?;
            let mut p = held.proposal()?.checked(&current, s.now_ms()).map_err(|e| {
                ServiceError::new(
                    super::Fault::Conflict,
                    "proposal_outdated",
                    format!("proposal {id} cannot be signed: {e}"),
                )
            })?;
            if p.withdrawn_by(&s.key.public()) {
                // A withdrawal travels for good: signing again would count
                // nowhere the withdrawal has reached.
                return Err(ServiceError::new(
                    super::Fault::Conflict,
                    "signature_withdrawn",
                    format!("this coordinator took its signature back from proposal {id}: propose the change again to sign it"),
                ));
            }
            p.sign(&s.key);
            s.audit(&caller, "trust.sign_proposal", &format!("proposal {id} for v{}", current.version + 1))?;
            s.withdraw_from_others(&p, &current)?;
            s.take_in_proposal(p)?;
            Ok(())
        })
        .await?;
        self.spread_pending().await;
        self.proposal_view(&id)
    }

    /// Takes this coordinator's signature back from every other pending
    /// proposal for the same version as `p`.
    fn withdraw_from_others(&self, p: &Proposal, current: &TrustList) -> Result<(), ServiceError> {
        let me = self.key.public();
        for held in self.data.proposals.all()? {
            let Ok(mut other) = held.proposal()?.checked(current, self.now_ms()) else { continue };
            if other.id() != p.id() && other.signers().contains(&me) {
                other.withdraw(&self.key);
                self.data.proposals.put(&other, self.now_ms(), false)?;
            }
        }
        Ok(())
    }

    /// Merges `p` (checked) with this node's copy, stores it, and installs
    /// the list if it now has the signatures it needs. True if anything
    /// was new.
    fn take_in_proposal(&self, p: Proposal) -> Result<bool, ServiceError> {
        let id = p.id();
        let current = self.trust()?;
        let (merged, changed) = match self.data.proposals.get(&id)? {
            Some(held) => match held.proposal()?.checked(&current, self.now_ms()) {
                Ok(mut mine) => {
                    let changed = mine.merge(p);
                    (mine, changed)
                }
                Err(_) => (p, true),
            },
            None => (p, true),
        };
        if changed {
            self.data.proposals.put(&merged, self.now_ms(), false)?;
        }
        if merged.signers().len() >= usize::from(current.threshold) {
            let caller = Caller::system("proposal");
            let install = || {
                let installed = self.data.store.apply_trust_update(&merged.list);
                installed.map_err(|e| ServiceError::invalid("trust_list_refused", e.to_string()))
            };
            let names: Vec<String> = merged.signers().iter().map(|k| self.author_name(k, Some(&current))).collect();
            let detail = format!("proposal {id}, signed by {}", names.join(", "));
            self.audited(&caller, "trust.install", &detail, install, |l| format!("{} v{}", l.network, l.version))?;
            self.data.proposals.put(&merged, self.now_ms(), true)?;
            if let Some(net) = self.net.get() {
                net.send(Command::TrustUpdated);
            }
        }
        Ok(changed)
    }

    /// A coordinator's node sent its copy of a proposal: taken in only on a
    /// coordinator's node, from an active coordinator, if it checks against
    /// the list in force; what is new goes on to the other coordinators.
    pub async fn receive_proposal(self: &Arc<Self>, from: AgencyKey, p: Proposal) -> Reply {
        let taken = self
            .run(move |s| {
                let take = || {
                    let _one = s.data.proposals.lock();
                    let current = s.coordinating().map_err(|e| e.message)?;
                    let now = s.now_ms();
                    if !current.member_by_key(&from).is_some_and(|m| m.is_coordinator() && m.is_active(now)) {
                        return Err("only coordinators' nodes send proposals".to_string());
                    }
                    let p = p.checked(&current, now).map_err(|e| e.to_string())?;
                    let id = p.id();
                    if s.data.proposals.get(&id).map_err(|e| e.to_string())?.is_none() {
                        // A new proposal: a bounded number per proposer and version.
                        let theirs = s.pending_by(&current, &p.proposer).map_err(|e| e.message)?;
                        if theirs >= MAX_PENDING_PER_PROPOSER {
                            return Err(format!(
                                "{} has {theirs} proposals for version {} already; at most {MAX_PENDING_PER_PROPOSER}",
                                p.proposer,
                                current.version + 1
                            ));
                        }
                    }
                    let (signers, withdrawn) = (p.signers().len(), p.withdrawn.len());
                    let changed = s.take_in_proposal(p).map_err(|e| e.message)?;
                    if changed {
                        let detail = format!("proposal {id} from {from}: {signers} signatures, {withdrawn} withdrawn");
                        s.audit(&Caller::system("proposal"), "trust.proposal_received", &detail)
                            .map_err(|e| e.message)?;
                    }
                    Ok(changed)
                };
                Ok(take())
            })
            .await;
        match taken.unwrap_or_else(|e| Err(e.message)) {
            Ok(changed) => {
                if changed {
                    let svc = self.clone();
                    tokio::spawn(async move { svc.spread_pending().await });
                }
                Reply::Received
            }
            Err(why) => {
                tracing::info!(%from, why, "a proposal was refused");
                Reply::Refused(why)
            }
        }
    }

    /// Sends every pending proposal to every other coordinator's node (a
    /// job, and after each change): merging is idempotent, so a node that
    /// was away catches up from the next round.
    pub async fn spread_pending(self: &Arc<Self>) {
        let Some(net) = self.net.get().cloned() else { return };
        let pending = self.run(|s| {
            let Ok(current) = s.coordinating() else { return Ok((vec![], vec![])) };
            let now = s.now_ms();
            let mut pending = Vec::new();
            for held in s.data.proposals.all()? {
                if let Ok(p) = held.proposal()?.checked(&current, now) {
                    pending.push(p);
                }
            }
            if pending.is_empty() {
                return Ok((pending, vec![]));
            }
            // Who may be sent a proposal is the policy's to say: active
            // coordinators' nodes other than this one.
            let membership = s.data.store.membership();
            let policy = Policy::new(membership.as_deref(), s.key.public(), now);
            let to_coordinator = |k: &AgencyKey| policy.allows(Item::Proposal, Recipient::Peer(k), Path::Coordination);
            let others: Vec<AgencyKey> = current.members.iter().map(|m| m.key).filter(|k| to_coordinator(k)).collect();
            Ok((pending, others))
        });
        let Ok((pending, others)) = pending.await else { return };
        let sends = pending.iter().flat_map(|p| others.iter().map(move |to| (p.clone(), *to)));
        let replies = futures::future::join_all(sends.map(|(p, to)| {
            let net = net.clone();
            async move { (to, net.coordinate(to, p).await) }
        }))
        .await;
        for (to, reply) in replies {
            match reply {
                Ok(Reply::Received) => {}
                Ok(Reply::Refused(why)) => tracing::info!(%to, why, "a coordinator's node refused a proposal"),
                Err(why) => tracing::debug!(%to, why, "a proposal could not be sent now"),
            }
        }
    }

    /// The proposals this node holds, newest version first (coordinators
    /// and operators of a coordinator's node).
    pub fn proposals(&self, caller: &Caller) -> Result<Vec<ProposalView>, ServiceError> {
        caller.require_admin("reading trust-list proposals")?;
        let membership = self.data.store.membership();
        let policy = Policy::new(membership.as_deref(), self.key.public(), self.now_ms());
        if !policy.allows(Item::Proposal, caller.recipient(), caller.via) {
            return Err(ServiceError::forbidden("forbidden", "proposals are not shown over this path"));
        }
        let mut out = Vec::new();
        for held in self.data.proposals.all()? {
            out.push(self.view_of(&held)?);
        }
        out.sort_by(|a, b| b.version.cmp(&a.version).then(b.proposed_ms.cmp(&a.proposed_ms)));
        Ok(out)
    }

    fn proposal_view(&self, id: &RecordId) -> Result<ProposalView, ServiceError> {
        let held = self.data.proposals.get(id)?.ok_or_else(|| ServiceError::not_found(format!("no proposal {id}")))?;
        self.view_of(&held)
    }

    fn view_of(&self, held: &crate::local::proposals::Held) -> Result<ProposalView, ServiceError> {
        let p = held.proposal()?;
        let current = self.trust()?;
        let next = p.list.list().map_err(ServiceError::internal)?;
        let status = if held.installed_ms.is_some() || (next.version == current.version && next == *current) {
            "installed"
        } else if next.version == current.version + 1 {
            "pending"
        } else {
            "outdated"
        };
        let name = |k: &AgencyKey| self.author_name(k, Some(&current));
        let competing = if status == "pending" {
            self.data
                .proposals
                .all()?
                .iter()
                .filter_map(|h| h.proposal().ok())
                .filter(|o| o.id() != p.id() && o.list.list().is_ok_and(|l| l.version == next.version))
                .map(|o| o.id().to_string())
                .collect()
        } else {
            vec![]
        };
        Ok(ProposalView {
            id: p.id().to_string(),
            version: next.version,
            status,
            proposer: name(&p.proposer),
            note: p.note.clone(),
            proposed_ms: p.proposed_ms,
            signers: p.signers().iter().map(name).collect(),
            withdrawn: p.withdrawn.iter().map(|w| name(&w.key)).collect(),
            needed: current.threshold,
            signed_here: p.signers().contains(&self.key.public()),
            changes: if status == "pending" { proposal::changes(&current, &next) } else { vec![] },
            competing,
        })
    }
}
