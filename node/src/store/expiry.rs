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
    /// A peer said so and this node never held it.
    Claimed { by: AgencyKey },
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
                let r = super::decode_stored(id, &r)?;
                let root = match &r.record.body {
                    Body::Revision(x) => x.supersedes,
                    _ => id,
                };
                if store.in_date_version(&root, &r.record.header.author, until)? {
                    // A later version (an extension) keeps the knowledge;
                    // this version waits for that one's date.
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

    /// Whether a version of `root` by `author`'s agency is due after
    /// `until` (or never).
    fn in_date_version(&self, root: &RecordId, author: &AgencyKey, until: u64) -> Result<bool, StoreError> {
        let policy = self.retention();
        let root_rec = self.get(root)?;
        let versions = self.versions_of(root, root_rec, author)?;
        Ok(versions.iter().any(|v| due_of(&v.record, &policy).is_none_or(|due| due > until)))
    }

    /// Erases what the erasure `v` names and may erase, in the same batch
    /// that stores it.
    pub(super) fn stage_erasure(&self, v: &Verified, p: &mut Pending) -> Result<(), StoreError> {
        let Body::Erasure(e) = &v.record.body else { return Ok(()) };
        for target in &e.targets {
            let Some(t) = self.read(p, &keys::record(target))? else { continue };
            let t = super::decode_stored(*target, &t)?;
            if self.may_erase(&v.record.header.author, &v.record.header.channel, &t.record) {
                self.stage_gone(target, Gone::Erased { by: v.id }, p)?;
            }
        }
        Ok(())
    }

    /// Whether an erasure by `by` on `channel` may erase `target`: its author's agency, on
    /// the target's channel; or a coordinator, once the target's author is
    /// no longer a member.
    pub(super) fn may_erase(&self, by: &AgencyKey, channel: &Channel, target: &Record) -> bool {
        let Some(m) = self.membership() else { return false };
        let th = &target.header;
        if m.same_agency(by, &th.author) {
            return *channel == th.channel;
        }
        let coordinator = self.trust().is_some_and(|t| t.member_by_key(by).is_some_and(|m| m.is_coordinator()));
        coordinator && !m.is_active(&th.author, self.now_ms())
    }

    /// Why a verified record that is about to be stored is already gone on
    /// arrival, if it is: it is past its review date, an erasure stored here
    /// names it, or the knowledge it is about is gone.
    pub(super) fn gone_on_arrival(&self, v: &Verified, p: &Pending) -> Result<Option<Gone>, StoreError> {
        for item in self.scan_prefix(&keys::cat(keys::REF, &[&v.id.0, &[keys::REF_ERASURE]]), false) {
            let (k, _) = item?;
            let by = keys::trailing_id(&k).ok_or_else(|| super::corrupt("ref key"))?;
            if let Some(e) = self.read(p, &keys::record(&by))? {
                let e = super::decode_stored(by, &e)?;
                if self.may_erase(&e.record.header.author, &e.record.header.channel, &v.record) {
                    return Ok(Some(Gone::Erased { by }));
                }
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
            return Ok(Some(decode_tombstone(&stone)?.gone));
        }
        if self.is_past_review(&v.record) {
            let root = match &v.record.body {
                Body::Revision(x) => x.supersedes,
                _ => v.id,
            };
            // A root whose extension is already here stays with it.
            let until = self.now_ms().saturating_sub(EXPIRY_GRACE_MS);
            if root == v.id && self.in_date_version(&root, &v.record.header.author, until)? {
                return Ok(None);
            }
            return Ok(Some(Gone::Expired));
        }
        Ok(None)
    }

    /// Erases one record and everything about it (revisions, retractions,
    /// sightings; never the erasures naming it): body, index entries,
    /// count, fork proof; a tombstone takes its place. Returns the ids
    /// erased (none if it was not held).
    pub(super) fn stage_gone(&self, id: &RecordId, gone: Gone, p: &mut Pending) -> Result<Vec<RecordId>, StoreError> {
        let Some(v) = self.read(p, &keys::record(id))? else { return Ok(Vec::new()) };
        let r = super::decode_stored(*id, &v)?.record;
        let h = &r.header;
        p.remove(keys::record(id));
        p.ids.remove(id);
        for k in index_keys(id, &r, &self.retention()) {
            p.remove(k);
        }
        *p.counts.entry(keys::count(super::type_label(&r.body), &h.channel)).or_default() -= 1;
        p.remove(keys::equivocation(&h.channel, &h.author, h.seq, id));
        let stone =
            Tombstone { id: *id, gone, at_ms: self.now_ms(), channel: h.channel.clone(), author: h.author, seq: h.seq };
        p.insert(keys::gone(id), encode_tombstone(&stone)?);
        let mut erased = vec![*id];
        let about: Vec<(u8, RecordId)> = self
            .scan_prefix(&keys::cat(keys::REF, &[&id.0]), false)
            .map(|item| {
                let (k, _) = item?;
                let t = *k.get(33).ok_or_else(|| super::corrupt("ref key"))?;
                Ok((t, keys::trailing_id(&k).ok_or_else(|| super::corrupt("ref key"))?))
            })
            .collect::<Result<_, StoreError>>()?;
        for (ref_type, about) in about {
            if ref_type != keys::REF_ERASURE && about != *id {
                erased.extend(self.stage_gone(&about, gone, p)?);
            }
        }
        Ok(erased)
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
            for (seq, id) in slots {
                if seq == 0 || store.slot_id(&channel, &author, seq, p)?.is_some() {
                    continue;
                }
                let stone = Tombstone {
                    id,
                    gone: Gone::Claimed { by },
                    at_ms: store.now_ms(),
                    channel: channel.clone(),
                    author,
                    seq,
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
        };
        p.insert(keys::gone(&v.id), encode_tombstone(&stone)?);
        p.insert(keys::log(&h.channel, &h.author, h.seq), v.id.0.to_vec());
        state.max = state.max.max(h.seq);
        self.advance_head(&h.channel, &h.author, state, p)
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

fn encode_tombstone(t: &Tombstone) -> Result<Vec<u8>, StoreError> {
    kawan_protocol::cbor::encode(t).map_err(|e| StoreError::Write(format!("tombstone: {e}")))
}

fn decode_tombstone(v: &[u8]) -> Result<Tombstone, StoreError> {
    kawan_protocol::cbor::decode(v, &kawan_protocol::limits::Bounds::RECORD)
        .map_err(|e| StoreError::Corrupt(format!("tombstone: {e}")))
}
