//! Retired keys' logs, anchored to a record id (docs/protocol.md §3).
//!
//! A rotation names, for each log of the retired key, its last valid record
//! by seq *and id*. Only that record and its ancestors through `prev` are
//! valid: anything else in those slots was signed by whoever holds the old
//! key, whatever time it claims. So a thief who forks a slot below the end
//! (to retract or rewrite the agency's history) is refused everywhere the
//! chain is known, and never makes the agency look like it equivocated.
//!
//! The store keeps one invariant per anchored log: the slots from the `W`
//! watermark up to the end hold the chain, checked link by link from the
//! end down. Slots below the watermark are *provisional*: held and indexed
//! (so the chain can reach them without a refetch) but never shown, served
//! or relayed. A record that contradicts a known link is refused; one below
//! a link not yet held waits. Records arrive in any order, so the chain is
//! extended whenever a link arrives, and once when a trust list first
//! anchors a log ([`Store::reanchor`]): what was stored before the rotation
//! (forks kept as equivocation proof, provisional slot holders) is sorted
//! into the chain or removed, and the old key's equivocation flag is lifted
//! (its forks are void, not evidence).

use kawan_protocol::{AgencyKey, Channel, RecordId, Verified, Void};

/// Records kept per slot of an unchecked log besides its holder: enough
/// for the genuine one to be among them while an accomplice relays forks,
/// few enough that forks cannot grow the store.
const MAX_CANDIDATES: usize = 3;

use super::{
    LogState, Store, StoreError, StoredRecord,
    commit::Pending,
    ingest::{IngestError, Ingested},
    keys,
};

/// Why a stored record does not count (is in no view, export or feed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawn {
    /// Signed outside its key's window (rotation, compromise cutoff).
    Void(Void),
    /// Another record holds its log slot: a fork kept only as proof of
    /// equivocation; no revision, retraction or sighting takes effect from it.
    Fork,
    /// In a retired key's anchored log, below the part of the chain this
    /// node has checked: it waits for the chain to reach it.
    Unchecked,
}

impl std::fmt::Display for Withdrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Withdrawn::Void(v) => write!(f, "{v}"),
            Withdrawn::Fork => {
                write!(f, "another record by its key holds its place in the log: it is a fork, kept only as proof")
            }
            Withdrawn::Unchecked => write!(
                f,
                "its key was retired and this node has not yet checked it against the chain the rotation named"
            ),
        }
    }
}

impl Store {
    /// Why the stored record `r` does not count, if it does not.
    pub fn withdrawal(&self, r: &StoredRecord) -> Result<Option<Withdrawn>, StoreError> {
        self.withdrawal_in(r, None)
    }

    /// [`Store::withdrawal`], counting a pending batch when there is one.
    pub(super) fn withdrawal_in(&self, r: &StoredRecord, p: Option<&Pending>) -> Result<Option<Withdrawn>, StoreError> {
        let h = &r.record.header;
        let membership = self.membership();
        if let Some(m) = membership.as_deref() {
            match m.vouches(h, self.now_ms()) {
                Ok(()) | Err(Void::NotMember | Void::Lapsed) => {}
                Err(v) => return Ok(Some(Withdrawn::Void(v))),
            }
        }
        let slot = match p {
            Some(p) => self.slot_id(&h.channel, &h.author, h.seq, p)?,
            None => self.log_slot(&h.channel, &h.author, h.seq)?,
        };
        if slot != Some(r.id) {
            return Ok(Some(Withdrawn::Fork));
        }
        if let Some((end, _)) = membership.as_deref().and_then(|m| m.anchor(&h.author, &h.channel))
            && h.seq < self.anchored_low(p, &h.channel, &h.author, end)?
        {
            return Ok(Some(Withdrawn::Unchecked));
        }
        Ok(None)
    }

    /// Whether the stored record `r` is in no view, export or feed.
    pub fn is_withdrawn(&self, r: &StoredRecord) -> Result<bool, StoreError> {
        Ok(self.withdrawal(r)?.is_some())
    }

    /// Where this node's own log by `author` (its key) on `channel` stood
    /// at `until_ms`, by seq and id: a rotation's anchor.
    ///
    /// After a theft (`compromised`), only records this node published
    /// itself count (its `O` keys; below the first of them, records stored
    /// before this account was kept): the end is the highest such record at
    /// or before `until_ms` whose whole chain down through `prev` is this
    /// node's own. A thief's record in the log — backdated, or one this
    /// node went on to chain to — is never an ancestor of the end. A
    /// routine rotation (no thief) ends at what the log holds.
    pub fn own_log_end(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        until_ms: u64,
        compromised: bool,
    ) -> Result<Option<(u64, RecordId)>, StoreError> {
        let mut own = std::collections::BTreeMap::new();
        for item in self.scan_prefix(&keys::own_of(channel, author), false) {
            let (k, v) = item?;
            let seq = k
                .len()
                .checked_sub(8)
                .and_then(|at| keys::u64_be(&k[at..]))
                .ok_or_else(|| super::corrupt("own key"))?;
            own.insert(seq, RecordId(v.as_slice().try_into().map_err(|_| super::corrupt("own value"))?));
        }
        let first_own = own.keys().next().copied().unwrap_or(u64::MAX);
        let head = self.log_state(channel, author)?.max;
        let (mut end, mut prev) = (None, None);
        for seq in 1..=head {
            let ours = match own.get(&seq) {
                Some(id) => Some(*id),
                None if !compromised || seq < first_own => self.log_slot(channel, author, seq)?,
                None => None,
            };
            let Some(id) = ours else { break };
            let Some(r) = self.get(&id)? else { break };
            if r.record.header.prev != prev {
                break;
            }
            if r.record.header.created_ms <= until_ms {
                end = Some((seq, id));
            }
            prev = Some(id);
        }
        Ok(end)
    }

    /// The first seq of a log this node may serve or advertise: 1, or for
    /// a retired key's anchored log the lowest checked link (the slots
    /// below it wait for the chain, and are vouched for to nobody).
    pub fn checked_from(&self, channel: &Channel, author: &AgencyKey) -> Result<u64, StoreError> {
        match self.membership().and_then(|m| m.anchor(author, channel)) {
            Some((end, _)) => self.anchored_low(None, channel, author, end),
            None => Ok(1),
        }
    }

    /// The lowest seq of an anchored log's chain this node holds (`end + 1`
    /// while it holds none).
    fn anchored_low(
        &self,
        p: Option<&Pending>,
        channel: &Channel,
        author: &AgencyKey,
        end: u64,
    ) -> Result<u64, StoreError> {
        let k = keys::anchored(channel, author);
        let v = match p {
            Some(p) => self.read(p, &k)?,
            None => self.get_key(&k)?,
        };
        Ok(v.and_then(|v| keys::u64_be(&v)).unwrap_or(end.saturating_add(1)))
    }

    /// Stages a peer's record of a retired key whose log on its channel is
    /// anchored at (`end`, `end_id`): the next link down the chain is stored
    /// and extends it; a record contradicting a known link is void; one
    /// below a link not yet held waits.
    pub(super) fn stage_anchored(
        &self,
        v: &Verified,
        (end, end_id): (u64, RecordId),
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<Ingested, IngestError> {
        let h = &v.record.header;
        let low = self.anchored_low(Some(p), &h.channel, &h.author, end)?;
        let void =
            IngestError::Void { author: h.author, reason: Void::OffAnchoredChain { seq: h.seq, end_seq: end, end_id } };
        if h.seq >= low {
            // That slot holds the checked chain, and this is another record.
            return Err(void);
        }
        if h.seq + 1 == low {
            if self.expected_below(p, &h.channel, &h.author, low, end, end_id)? != Some(v.id) {
                return Err(void);
            }
            if let Some(held) = self.slot_id(&h.channel, &h.author, h.seq, p)? {
                self.purge(&held, state, p)?;
            }
            // A link erased or past review here keeps the chain through
            // its tombstone, which keeps its `prev`.
            if let Some(gone) = self.gone_on_arrival(v, p)? {
                self.stage_arrived_gone(v, gone, state, p)?;
                self.extend_chain(&h.channel, &h.author, h.seq, state, p)?;
                return Ok(Ingested::Gone(v.id));
            }
            self.put_record(v, p);
            self.take_slot(&h.channel, &h.author, h.seq, &v.id, state, p)?;
            self.extend_chain(&h.channel, &h.author, h.seq, state, p)?;
            self.stage_erasure(&v.id, &v.record, p)?;
            return Ok(Ingested::New(v.id));
        }
        // Below a link not yet held: the first candidate takes the slot, a
        // few more wait beside it as forks (never a flag: the chain decides
        // between them, not arrival order).
        if self.slot_id(&h.channel, &h.author, h.seq, p)?.is_some() {
            if self.candidates_at(&h.channel, &h.author, h.seq, p)? < MAX_CANDIDATES {
                self.put_record(v, p);
                p.insert(keys::equivocation(&h.channel, &h.author, h.seq, &v.id), Vec::new());
            }
            return Ok(Ingested::Waiting(v.id));
        }
        self.put_record(v, p);
        self.take_slot(&h.channel, &h.author, h.seq, &v.id, state, p)?;
        Ok(Ingested::Waiting(v.id))
    }

    /// How many candidates wait beside a slot's holder (forks kept).
    fn candidates_at(&self, channel: &Channel, author: &AgencyKey, seq: u64, p: &Pending) -> Result<usize, StoreError> {
        let prefix = keys::equivocations_at(channel, author, seq);
        let staged = p.staged_with_prefix(&prefix);
        let mut n = staged.iter().filter(|(_, written)| *written).count();
        for item in self.scan_prefix(&prefix, false) {
            let (k, _) = item?;
            if !staged.iter().any(|(s, _)| *s == k) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The id the chain expects one below `low`: the end record while
    /// nothing is checked, else the `prev` of the record at `low`.
    fn expected_below(
        &self,
        p: &Pending,
        channel: &Channel,
        author: &AgencyKey,
        low: u64,
        end: u64,
        end_id: RecordId,
    ) -> Result<Option<RecordId>, StoreError> {
        if low > end {
            return Ok(Some(end_id));
        }
        self.slot_prev(p, channel, author, low)
    }

    /// Extends the checked chain down from `low` through the links already
    /// held (in their slot, or kept as a fork before the rotation), removes
    /// every other record of the slots it checks, and records the new
    /// watermark. Where the chain meets a record that contradicts it and
    /// the genuine one is not held, it drops every unchecked record below
    /// too: a thief's placeholders would otherwise cost one pull each, and
    /// one pull from the gap refills them all.
    fn extend_chain(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        mut low: u64,
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        self.checked(channel, author, low, p)?;
        while low > 1 {
            let Some(prev) = self.slot_prev(p, channel, author, low)? else { break };
            let below = low - 1;
            self.drop_claim(channel, author, below, state, p)?;
            let held = self.slot_id(channel, author, below, p)?;
            if held != Some(prev) {
                if let Some(fork) = held {
                    self.purge(&fork, state, p)?;
                }
                if self.read(p, &keys::record(&prev))?.is_none() {
                    if held.is_some() {
                        self.drop_unchecked_below(channel, author, below, state, p)?;
                    }
                    break;
                }
                // The genuine record was kept as a fork (it arrived second).
                p.remove(keys::equivocation(channel, author, below, &prev));
                self.take_slot(channel, author, below, &prev, state, p)?;
            }
            low = below;
            self.checked(channel, author, low, p)?;
        }
        p.insert(keys::anchored(channel, author), low.to_be_bytes().to_vec());
        Ok(())
    }

    /// The slot `seq` now holds a checked link: every fork kept for it is
    /// void, and a link that was stored unchecked in an earlier batch joins
    /// the receive-order feed now (it was in no feed or view until now).
    fn checked(&self, channel: &Channel, author: &AgencyKey, seq: u64, p: &mut Pending) -> Result<(), StoreError> {
        let Some(id) = self.slot_id(channel, author, seq, p)? else { return Ok(()) };
        let mut forks = Vec::new();
        for item in self.scan_prefix(&keys::equivocations_at(channel, author, seq), false) {
            let (k, _) = item?;
            forks.push(keys::trailing_id(&k).ok_or_else(|| super::corrupt("equivocation key"))?);
        }
        let mut state = LogState::default();
        for fork in forks.into_iter().filter(|f| *f != id) {
            // A fork never holds a slot, so the log state is untouched.
            self.purge(&fork, &mut state, p)?;
        }
        if !p.ids.contains(&id) {
            p.added.extend_from_slice(&id.0);
            // An erasure held unchecked counts from now on.
            if let Some(v) = self.read(p, &keys::record(&id))? {
                let r = super::decode_stored(id, &v)?;
                self.stage_erasure(&id, &r.record, p)?;
            }
        }
        Ok(())
    }

    /// Removes every record below `seq` that waits unchecked in its slot.
    fn drop_unchecked_below(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        for s in 1..seq {
            if let Some(id) = self.slot_id(channel, author, s, p)? {
                self.purge(&id, state, p)?;
            }
        }
        Ok(())
    }

    /// Sorts each log the trust list in force anchors, once per anchor: the
    /// end record and its held ancestors take their slots (from forks kept
    /// as proof if need be), contradicting records and the forks of checked
    /// slots are removed, and the old key is no longer flagged. The `S` key
    /// marks a log sorted for its anchor, so a crash, a failed sort or a
    /// later list that moves the end sorts it again.
    pub(super) fn reanchor(&self) -> Result<(), StoreError> {
        let Some(trust) = self.trust() else { return Ok(()) };
        let mut logs = Vec::new();
        for m in &trust.members {
            for r in &m.retired_keys {
                for e in &r.last_seqs {
                    if let Some(id) = e.id
                        && self.get_key(&keys::sorted(&e.channel, &r.key))? != Some(sorted_value(e.seq, &id))
                    {
                        logs.push((e.channel.clone(), r.key, e.seq, id));
                    }
                }
            }
        }
        if logs.is_empty() {
            return Ok(());
        }
        self.group_commit(move |store, p| {
            for (channel, author, end, end_id) in logs {
                store.reanchor_log(&channel, &author, end, end_id, p)?;
            }
            Ok::<(), StoreError>(())
        })?
    }

    fn reanchor_log(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        end: u64,
        end_id: RecordId,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        let mut state = match p.logs.get(&(channel.clone(), *author)) {
            Some(s) => *s,
            None => self.log_state(channel, author)?,
        };
        // From scratch: whatever was checked against another end (or in a
        // batch that raced this list in) is checked again.
        p.remove(keys::anchored(channel, author));
        self.drop_claim(channel, author, end, &mut state, p)?;
        let held = self.slot_id(channel, author, end, p)?;
        let top = if held == Some(end_id) {
            true
        } else {
            if let Some(fork) = held {
                self.purge(&fork, &mut state, p)?;
            }
            let kept = self.read(p, &keys::record(&end_id))?.is_some();
            if kept {
                p.remove(keys::equivocation(channel, author, end, &end_id));
                self.take_slot(channel, author, end, &end_id, &mut state, p)?;
            }
            kept
        };
        if top {
            self.extend_chain(channel, author, end, &mut state, p)?;
        } else {
            p.insert(keys::anchored(channel, author), end.saturating_add(1).to_be_bytes().to_vec());
        }
        // Forks of checked slots are void; below, they may yet be the chain.
        let low = self.anchored_low(Some(p), channel, author, end)?;
        for item in self.scan_prefix(&keys::equivocations_of(channel, author), false) {
            let (k, _) = item?;
            let seq = k
                .len()
                .checked_sub(40)
                .and_then(|at| keys::u64_be(&k[at..]))
                .ok_or_else(|| super::corrupt("equivocation key"))?;
            let id = keys::trailing_id(&k).ok_or_else(|| super::corrupt("equivocation key"))?;
            if seq >= low && p.staged(&k) != Some(None) {
                self.purge(&id, &mut state, p)?;
            }
        }
        p.remove(keys::flagged(author));
        p.insert(keys::sorted(channel, author), sorted_value(end, &end_id));
        p.logs.insert((channel.clone(), *author), state);
        Ok(())
    }

    /// The `prev` of the record in one slot, counting the pending batch:
    /// from the record, or from its tombstone once it is erased or expired
    /// (the chain runs through it all the same).
    fn slot_prev(
        &self,
        p: &Pending,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
    ) -> Result<Option<RecordId>, StoreError> {
        let Some(id) = self.slot_id(channel, author, seq, p)? else { return Ok(None) };
        if let Some(v) = self.read(p, &keys::record(&id))? {
            return Ok(super::decode_stored(id, &v)?.record.header.prev);
        }
        Ok(self.tombstone_in(p, &id)?.and_then(|t| t.prev))
    }

    /// Empties a slot a peer's claim filled: an anchored chain is walked
    /// through `prev`, which a claim does not know, so the genuine record
    /// (or the author's own tombstone of it) is fetched instead.
    fn drop_claim(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        let Some(id) = self.slot_id(channel, author, seq, p)? else { return Ok(()) };
        let claimed = self.tombstone_in(p, &id)?.is_some_and(|t| matches!(t.gone, super::Gone::Claimed { .. }));
        if claimed && self.read(p, &keys::record(&id))?.is_none() {
            p.remove(keys::log(channel, author, seq));
            p.remove(keys::gone(&id));
            state.head = state.head.min(seq.saturating_sub(1));
        }
        Ok(())
    }

    /// Puts `id` in a free slot and moves the log's head over it.
    fn take_slot(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
        id: &RecordId,
        state: &mut LogState,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        p.insert(keys::log(channel, author, seq), id.0.to_vec());
        state.max = state.max.max(seq);
        self.advance_head(channel, author, state, p)
    }
}

fn sorted_value(end: u64, id: &RecordId) -> Vec<u8> {
    let mut v = end.to_be_bytes().to_vec();
    v.extend_from_slice(&id.0);
    v
}
