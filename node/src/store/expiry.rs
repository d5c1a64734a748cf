//! Records over their lifetime: review dates, expiry and erasure.
//!
//! Every piece of knowledge has a review date under the network's retention
//! policy (`kawan_protocol::processing`): the date its author signed, capped
//! at the policy's period, or the period alone. A `D` key (`review_ms ‖ id`)
//! indexes it, so a sweep reads only what is due, never the whole store.
//!
//! A record goes in one of three ways, and leaves the same thing behind: a
//! **tombstone** (`X ‖ id` → [`Tombstone`]). Its body, index entries and
//! count go; its log slot (`L`) stays, so the author's log stays contiguous,
//! heads still match, and sync never fetches it again.
//!
//! - **Expired**: past its review date plus [`EXPIRY_GRACE_MS`], with no
//!   later version of the same knowledge still in date. Every node decides
//!   this alone from signed fields, also while the author is offline.
//! - **Erased**: an [`Erasure`](kawan_protocol::Erasure) record names it,
//!   signed by its author's agency (on the record's channel), or by a
//!   coordinator when its author is no longer a member.
//! - **Claimed**: a peer's index said the slot was gone, on a node that never
//!   held the record. The node fills the slot so it does not keep asking;
//!   the record itself, if an honest peer later sends it, still counts
//!   (`Store::stage`).
//!
//! Erasing a piece of knowledge erases what is about it too: its revisions,
//! retractions and sightings. Erasure records themselves stay (they name
//! ids, nothing else), so a record that arrives after its erasure is
//! tombstoned on arrival, and a restore applies them again.

use kawan_protocol::{AgencyKey, Body, Channel, Record, RecordId, Retention, Verified, processing};
use serde::{Deserialize, Serialize};

use super::{LogState, Store, StoreError, commit::Pending, ingest::index_keys, keys};

pub use processing::EXPIRY_GRACE_MS;

/// Why a record's body is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gone {
    /// Past its review date on this node's clock.
    Expired,
    /// Named by this erasure record.
    Erased { by: RecordId },
    /// A peer said so and this node never held it. One peer's word is
    /// provisional: the log's head does not pass it (so every peer is
    /// still asked for that slot, and an honest one that lists the record
    /// is asked for it) until a second peer says the same (`confirmed_by`).
    Claimed {
        by: AgencyKey,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confirmed_by: Option<AgencyKey>,
    },
}

/// What is left of an erased or expired record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub id: RecordId,
    pub gone: Gone,
    /// When this node erased it (Unix ms).
    pub at_ms: u64,
    pub channel: Channel,
    pub author: AgencyKey,
    pub seq: u64,
    /// The record's `prev`, so a retired key's anchored chain can be
    /// walked through a slot whose body is gone (`anchor.rs`). Unknown for
    /// a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<RecordId>,
}

/// The knowledge a record is a version of: a revision's root, or itself.
pub(super) fn root_of(id: &RecordId, r: &Record) -> RecordId {
    match &r.body {
        Body::Revision(x) => x.supersedes,
        _ => *id,
    }
}

/// When the record `r` is due for review under `policy`, if ever: the
/// content's own review date capped at the policy's period. Only knowledge
/// has one; what is about knowledge goes with it.
pub fn due_of(r: &Record, policy: &Retention) -> Option<u64> {
    let content = r.body.content()?;
    processing::review_due(policy, content.family(), content.subject(), r.header.created_ms, content.review_ms())
}

impl Store {
    /// The network's retention policy: the trust list's, or the default.
    pub fn retention(&self) -> std::sync::Arc<Retention> {
        self.trust
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or_else(|| std::sync::Arc::new(Retention::default()), |(_, _, retention)| retention.clone())
    }

    /// When `r` is due for review under the policy in force.
    pub fn review_due(&self, r: &Record) -> Option<u64> {
        due_of(r, &self.retention())
    }

    /// Whether `r` is past its review date and the grace, by this store's clock.
    pub fn is_past_review(&self, r: &Record) -> bool {
        self.review_due(r).is_some_and(|due| due.saturating_add(EXPIRY_GRACE_MS) <= self.now_ms())
    }

    /// The tombstone of `id`, if its body is gone.
    pub fn tombstone(&self, id: &RecordId) -> Result<Option<Tombstone>, StoreError> {
        self.get_key(&keys::gone(id))?.map(|v| decode_tombstone(&v)).transpose()
    }

    /// The tombstone of `id`, counting a pending batch.
    pub(super) fn tombstone_in(&self, p: &Pending, id: &RecordId) -> Result<Option<Tombstone>, StoreError> {
        self.read(p, &keys::gone(id))?.map(|v| decode_tombstone(&v)).transpose()
    }

    /// Tombstones, in id order, after `after` (for reports), at most `limit`.
    pub fn tombstones(&self, limit: usize) -> Result<Vec<Tombstone>, StoreError> {
        self.scan_prefix(&[keys::GONE], false).take(limit).map(|item| decode_tombstone(&item?.1)).collect()
    }

    /// Knowledge due for review in `[from_ms, until_ms)`, soonest first, at
    /// most `limit`: (due, id). Reads only the `D` keys in that window.
    pub fn due_between(&self, from_ms: u64, until_ms: u64, limit: usize) -> Result<Vec<(u64, RecordId)>, StoreError> {
        let range = (
            std::ops::Bound::Included(keys::review(from_ms, &RecordId([0; 32]))),
            std::ops::Bound::Excluded(keys::review(until_ms, &RecordId([0; 32]))),
        );
        self.scan(range, false)
            .take(limit)
            .map(|item| {
                let (k, _) = item?;
                let due = keys::u64_be(&k[1..]).ok_or_else(|| super::corrupt("review key"))?;
                Ok((due, keys::trailing_id(&k).ok_or_else(|| super::corrupt("review key"))?))
            })
            .collect()
    }

    /// Expires what is past its review date (and the grace), at most `limit`
    /// due entries per call: each piece of knowledge whose every version is
    /// past due is erased with everything about it. Returns the ids erased.
    /// Costs what is due, not the size of the store.
    pub fn expire_due(&self, limit: usize) -> Result<Vec<RecordId>, StoreError> {
        let until = self.now_ms().saturating_sub(EXPIRY_GRACE_MS);
        let due = self.due_between(0, until.saturating_add(1), limit)?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        self.group_commit(move |store, p| {
            let mut erased = Vec::new();
            for (at, id) in due {
                let Some(r) = store.read(p, &keys::record(&id))? else {
                    // Erased meanwhile: its keys went with it.
                    p.remove(keys::review(at, &id));
                    continue;
                };
                let r = super::decode_stored(id, &r)?.record;
                let root = root_of(&id, &r);
                let Some((owner, latest)) = store.latest_version(&root, None, p)? else {
                    // A version whose knowledge is not here: it goes alone.
                    erased.extend(store.stage_gone(&id, Gone::Expired, p)?);
                    continue;
                };
                if root != id && !store.membership().is_some_and(|m| m.same_agency(&owner, &r.header.author)) {
                    // Another agency's "revision" never versions the
                    // knowledge (queries ignore it), so its date expires
                    // that record alone and never the author's.
                    erased.extend(store.stage_gone(&id, Gone::Expired, p)?);
                    continue;
                }
                if due_of(&latest, &store.retention()).is_none_or(|due| due > until) {
                    // The latest version (an extension) decides; this
                    // version's key is spent, that version has its own.
                    p.remove(keys::review(at, &id));
                    continue;
                }
                erased.extend(store.stage_gone(&root, Gone::Expired, p)?);
                if root != id {
                    erased.extend(store.stage_gone(&id, Gone::Expired, p)?);
                }
            }
            Ok(erased)
        })?
    }

    /// The latest version of the knowledge rooted at `root` by its author's
    /// agency (revisions by anyone else are no versions), with `arriving`
    /// counted as one, and that author: the version whose date decides when
    /// the knowledge is due (a revision may lengthen or shorten it). `None`
    /// when the root is neither held nor arriving.
    fn latest_version(
        &self,
        root: &RecordId,
        arriving: Option<&Verified>,
        p: &Pending,
    ) -> Result<Option<(AgencyKey, Record)>, StoreError> {
        let held = match arriving.filter(|v| v.id == *root) {
            Some(v) => Some(super::StoredRecord {
                id: v.id,
                record: v.record.clone(),
                envelope: v.envelope.clone(),
                added_ms: p.added_ms,
            }),
            None => self.read(p, &keys::record(root))?.map(|b| super::decode_stored(*root, &b)).transpose()?,
        };
        let Some(owner) = held.as_ref().map(|r| r.record.header.author) else { return Ok(None) };
        let mut versions: Vec<Record> = self.versions_of(root, held, &owner)?.into_iter().map(|v| v.record).collect();
        if let Some(v) = arriving.filter(|v| v.id != *root)
            && self.membership().is_some_and(|m| m.same_agency(&owner, &v.record.header.author))
        {
            versions.push(v.record.clone());
        }
        let latest = versions.into_iter().max_by_key(|r| {
            // The root first, then by signing time and seq, as queries do.
            (matches!(r.body, Body::Revision(_)), r.header.created_ms, r.header.seq)
        });
        Ok(latest.map(|r| (owner, r)))
    }

    /// Erases what the erasure `id` names and may erase, in the same batch
    /// that stores it (or, applied again, a later one); returns the ids erased. Targets not held yet are erased on arrival
    /// (`gone_on_arrival` finds this erasure by its references).
    pub(super) fn stage_erasure(
        &self,
        id: &RecordId,
        r: &Record,
        p: &mut Pending,
    ) -> Result<Vec<RecordId>, StoreError> {
        let Body::Erasure(e) = &r.body else { return Ok(Vec::new()) };
        let mut erased = Vec::new();
        for target in &e.targets {
            let Some(t) = self.read(p, &keys::record(target))? else { continue };
            let t = super::decode_stored(*target, &t)?;
            // A fork kept as proof of equivocation stays: it is evidence.
            let th = &t.record.header;
            if self.slot_id(&th.channel, &th.author, th.seq, p)? != Some(*target) {
                continue;
            }
            if self.may_erase(&r.header.author, &r.header.channel, &t.record) {
                erased.extend(self.stage_gone(target, Gone::Erased { by: *id }, p)?);
            }
        }
        Ok(erased)
    }

    /// Whether an erasure by `by` on `channel` may erase `target`: its
    /// author's agency (under any of its keys), on the target's channel; or
    /// a coordinator (by its current key), once the target's agency is no
    /// longer an active member. Never another erasure: that would take its
    /// references with it, and the record it erased could come back.
    pub(super) fn may_erase(&self, by: &AgencyKey, channel: &Channel, target: &Record) -> bool {
        let Some(m) = self.membership() else { return false };
        // Never evidence: an erasure (its target could come back), an
        // audit checkpoint (partners witness the agency's log with it).
        if matches!(target.body, Body::Erasure(_) | Body::Checkpoint(_)) {
            return false;
        }
        let th = &target.header;
        if m.same_agency(by, &th.author) {
            return *channel == th.channel;
        }
        // A coordinator, itself an active member, once the target's agency
        // is gone from the list (not merely lapsed: a renewal would find
        // its records erased). A retired key is no member itself; its
        // agency may still be one.
        let now = self.now_ms();
        let coordinator = self.trust().is_some_and(|t| t.member_by_key(by).is_some_and(|c| c.is_coordinator()))
            && m.is_active(by, now);
        coordinator && m.agency_key(&th.author).is_none()
    }

    /// The erasure `by`, if it is held and counts now: in its log slot (not
    /// a fork kept as proof), and not void (`anchor.rs`), counting the
    /// pending batch.
    fn counting_erasure(&self, by: &RecordId, p: &Pending) -> Result<Option<Record>, StoreError> {
        let Some(e) = self.read(p, &keys::record(by))? else { return Ok(None) };
        let e = super::decode_stored(*by, &e)?;
        if !matches!(e.record.body, Body::Erasure(_)) || self.withdrawal_in(&e, Some(p))?.is_some() {
            return Ok(None);
        }
        Ok(Some(e.record))
    }

    /// Records that refer to `target` (ref type, id), stored or staged in
    /// this batch, less those the batch removes.
    pub(super) fn refs_to(&self, target: &RecordId, p: &Pending) -> Result<Vec<(u8, RecordId)>, StoreError> {
        let mut out: Vec<(u8, RecordId)> = p.refs.get(target).cloned().unwrap_or_default();
        for item in self.scan_prefix(&keys::cat(keys::REF, &[&target.0]), false) {
            let (k, _) = item?;
            if p.staged(&k) == Some(None) {
                continue;
            }
            let t = *k.get(33).ok_or_else(|| super::corrupt("ref key"))?;
            let about = keys::trailing_id(&k).ok_or_else(|| super::corrupt("ref key"))?;
            if !out.contains(&(t, about)) {
                out.push((t, about));
            }
        }
        Ok(out)
    }

    /// Why a verified record that is about to be stored is already gone on
    /// arrival, if it is: an erasure held here names it and may erase it,
    /// the knowledge it is about is gone here, or the latest version of
    /// its knowledge is past its review date. (A peer's mere claim that
    /// the knowledge is gone does not count: it never held it either.)
    pub(super) fn gone_on_arrival(&self, v: &Verified, p: &Pending) -> Result<Option<Gone>, StoreError> {
        for (ref_type, by) in self.refs_to(&v.id, p)? {
            if ref_type != keys::REF_ERASURE {
                continue;
            }
            if let Some(e) = self.counting_erasure(&by, p)?
                && self.may_erase(&e.header.author, &e.header.channel, &v.record)
            {
                return Ok(Some(Gone::Erased { by }));
            }
        }
        let target = match &v.record.body {
            Body::Sighting(s) => Some(s.target),
            Body::Retraction(x) => Some(x.target),
            Body::Revision(x) => Some(x.supersedes),
            _ => None,
        };
        if let Some(t) = target
            && let Some(stone) = self.read(p, &keys::gone(&t))?
        {
            let stone = decode_tombstone(&stone)?;
            if !matches!(stone.gone, Gone::Claimed { .. }) {
                return Ok(Some(stone.gone));
            }
        }
        if v.record.body.content().is_some() {
            let latest = self.latest_version(&root_of(&v.id, &v.record), Some(v), p)?;
            let owns = latest.as_ref().is_some_and(|(owner, _)| {
                self.membership().is_some_and(|m| m.same_agency(owner, &v.record.header.author))
            });
            let decides = match &latest {
                Some((_, latest)) if owns => latest,
                _ => &v.record,
            };
            if self.is_past_review(decides) {
                return Ok(Some(Gone::Expired));
            }
        }
        Ok(None)
    }

    /// Erases one record and everything about it (revisions, retractions,
    /// sightings, and what is about those; never the erasures naming it):
    /// body, index entries, count, fork proof; a tombstone takes each one's
    /// place. Returns the ids erased (none if it was not held). A worklist,
    /// not recursion: a chain of records about records is only as costly
    /// as its length, and cannot exhaust the stack.
    pub(super) fn stage_gone(&self, id: &RecordId, gone: Gone, p: &mut Pending) -> Result<Vec<RecordId>, StoreError> {
        let mut erased = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut work = vec![*id];
        while let Some(id) = work.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(v) = self.read(p, &keys::record(&id))? else { continue };
            let r = super::decode_stored(id, &v)?.record;
            self.unstage_body(&id, &r, p);
            let h = &r.header;
            let stone = Tombstone {
                id,
                gone,
                at_ms: self.now_ms(),
                channel: h.channel.clone(),
                author: h.author,
                seq: h.seq,
                prev: h.prev,
            };
            p.insert(keys::gone(&id), encode_tombstone(&stone)?);
            erased.push(id);
            for (ref_type, about) in self.refs_to(&id, p)? {
                if ref_type != keys::REF_ERASURE {
                    work.push(about);
                }
            }
        }
        Ok(erased)
    }

    /// Removes what a stored record put in the store besides its log slot:
    /// its bytes, index entries (and staged references), count, and fork
    /// proof. Shared by erasure and by the removal of void records.
    pub(super) fn unstage_body(&self, id: &RecordId, r: &Record, p: &mut Pending) {
        let h = &r.header;
        p.remove(keys::record(id));
        p.ids.remove(id);
        for k in index_keys(id, r, &self.retention()) {
            p.remove(k);
        }
        for (target, _) in super::ingest::refs_of(&r.body) {
            if let Some(staged) = p.refs.get_mut(&target) {
                staged.retain(|(_, about)| about != id);
            }
        }
        *p.counts.entry(keys::count(super::type_label(&r.body), &h.channel)).or_default() -= 1;
        p.remove(keys::equivocation(&h.channel, &h.author, h.seq, id));
    }

    /// Applies every erasure held again (after a trust list changed who is
    /// an active member, or a restore): an erasure a coordinator signed for
    /// a member that has since left counts from now on. Erasures are few;
    /// they are listed apart (`keys::LIST_ERASURE`). Returns the ids erased.
    pub fn reapply_erasures(&self) -> Result<Vec<RecordId>, StoreError> {
        let mut erasures = Vec::new();
        for item in self.scan_prefix(&[keys::KIND, keys::LIST_ERASURE], false) {
            let (k, _) = item?;
            erasures.push(keys::trailing_id(&k).ok_or_else(|| super::corrupt("listing key"))?);
        }
        if erasures.is_empty() {
            return Ok(Vec::new());
        }
        self.group_commit(move |store, p| {
            let mut erased = Vec::new();
            for by in erasures {
                let Some(e) = store.counting_erasure(&by, p)? else { continue };
                erased.extend(store.stage_erasure(&by, &e, p)?);
            }
            Ok(erased)
        })?
    }

    /// Fills a slot of a log this node never held with a tombstone a peer
    /// vouched for (`Gone::Claimed`), so sync does not ask for it again.
    /// Slots already held are left alone. Returns how many were filled.
    pub fn claim_gone(
        &self,
        by: AgencyKey,
        channel: &Channel,
        author: &AgencyKey,
        slots: Vec<(u64, RecordId)>,
    ) -> Result<usize, StoreError> {
        let (channel, author) = (channel.clone(), *author);
        self.group_commit(move |store, p| {
            let log = (channel.clone(), author);
            let mut state = match p.logs.get(&log) {
                Some(s) => *s,
                None => store.log_state(&channel, &author)?,
            };
            let mut filled = 0;
            // A retired key's anchored log is walked link by link (anchor.rs);
            // a claim has no `prev` to walk.
            if store.membership().is_some_and(|m| m.retired(&author).is_some()) {
                return Ok(0);
            }
            for (seq, id) in slots {
                if seq == 0 {
                    continue;
                }
                if let Some(held) = store.slot_id(&channel, &author, seq, p)? {
                    // A second peer's word on the same claim confirms it.
                    if held == id
                        && let Some(mut stone) = store.tombstone_in(p, &id)?
                        && let Gone::Claimed { by: first, confirmed_by: None } = stone.gone
                        && first != by
                    {
                        stone.gone = Gone::Claimed { by: first, confirmed_by: Some(by) };
                        p.insert(keys::gone(&id), encode_tombstone(&stone)?);
                        filled += 1;
                    }
                    continue;
                }
                // A claim never speaks for a record this node holds or has
                // its own word on (in another slot, or as a fork).
                if store.read(p, &keys::record(&id))?.is_some() || store.read(p, &keys::gone(&id))?.is_some() {
                    continue;
                }
                let stone = Tombstone {
                    id,
                    gone: Gone::Claimed { by, confirmed_by: None },
                    at_ms: store.now_ms(),
                    channel: channel.clone(),
                    author,
                    seq,
                    prev: None,
                };
                p.insert(keys::log(&channel, &author, seq), id.0.to_vec());
                p.insert(keys::gone(&id), encode_tombstone(&stone)?);
                state.max = state.max.max(seq);
                filled += 1;
            }
            store.advance_head(&channel, &author, &mut state, p)?;
            p.logs.insert(log, state);
            Ok(filled)
        })?
    }

    /// Stages a record that arrives gone: its slot is filled (the log stays
    /// contiguous) and a tombstone kept; its body is not.
    pub(super) fn stage_arrived_gone(
        &self,
        v: &Verified,
        gone: Gone,
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        let h = &v.record.header;
        let stone = Tombstone {
            id: v.id,
            gone,
            at_ms: self.now_ms(),
            channel: h.channel.clone(),
            author: h.author,
            seq: h.seq,
            prev: h.prev,
        };
        p.insert(keys::gone(&v.id), encode_tombstone(&stone)?);
        p.insert(keys::log(&h.channel, &h.author, h.seq), v.id.0.to_vec());
        state.max = state.max.max(h.seq);
        self.advance_head(&h.channel, &h.author, state, p)?;
        // What arrived before it and is about it goes with it.
        for (ref_type, about) in self.refs_to(&v.id, p)? {
            if ref_type != keys::REF_ERASURE {
                self.stage_gone(&about, gone, p)?;
            }
        }
        // The author's latest version, arriving past its date (a revision
        // that shortened it), takes the knowledge held here with it.
        if let (Gone::Expired, Body::Revision(x)) = (gone, &v.record.body)
            && let Some((owner, latest)) = self.latest_version(&x.supersedes, Some(v), p)?
            && latest == v.record
            && self.membership().is_some_and(|m| m.same_agency(&owner, &h.author))
        {
            self.stage_gone(&x.supersedes, Gone::Expired, p)?;
        }
        Ok(())
    }

    /// Rebuilds every `D` key under the policy in force (after a trust list
    /// changed the policy), in one atomic batch.
    pub(super) fn reindex_review(&self) -> Result<(), StoreError> {
        let policy = self.retention();
        let mut batch = super::engine::Batch::default();
        for item in self.scan_prefix(&[keys::REVIEW], false) {
            let (k, _) = item?;
            batch.remove(keys::space(keys::REVIEW), k);
        }
        for item in self.scan_prefix(&[keys::RECORD], false) {
            let (k, v) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| super::corrupt("record key"))?;
            let r = super::decode_stored(id, &v)?;
            if let Some(due) = due_of(&r.record, &policy) {
                batch.insert(keys::space(keys::REVIEW), keys::review(due, &id), Vec::new());
            }
        }
        self.commit.locked(|| self.engine.commit(batch, super::engine::Durability::Sync))
    }
}

/// Whether a stored tombstone is only a peer's claim (the slot was never held).
pub(super) fn is_claim(v: &[u8]) -> bool {
    decode_tombstone(v).is_ok_and(|t| matches!(t.gone, Gone::Claimed { .. }))
}

/// Whether a stored tombstone is one peer's claim no second peer confirmed:
/// the log's head waits at it.
pub(super) fn is_unconfirmed_claim(v: &[u8]) -> bool {
    decode_tombstone(v).is_ok_and(|t| matches!(t.gone, Gone::Claimed { confirmed_by: None, .. }))
}

impl Store {
    /// Whether the slot holding `id` is only one peer's unconfirmed word
    /// that its record is gone (sync asks other peers for it still).
    pub fn is_unconfirmed_claim(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.get_key(&keys::gone(id))?.is_some_and(|v| is_unconfirmed_claim(&v)))
    }
}

fn encode_tombstone(t: &Tombstone) -> Result<Vec<u8>, StoreError> {
    kawan_protocol::cbor::encode(t).map_err(|e| StoreError::Write(format!("tombstone: {e}")))
}

fn decode_tombstone(v: &[u8]) -> Result<Tombstone, StoreError> {
    kawan_protocol::cbor::decode(v, &kawan_protocol::limits::Bounds::RECORD)
        .map_err(|e| StoreError::Corrupt(format!("tombstone: {e}")))
}
