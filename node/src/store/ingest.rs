//! Getting records in: from peers (verified against the trust list) and from
//! this agency (next seq, signed with the agency key).

use std::collections::HashMap;

use kawan_protocol::{
    AgencyKey, Body, Channel, Content, Envelope, GroupId, Header, Keypair, NetworkId, Record, RecordError, RecordId,
    Retention, Tlp, Verified, Void, open_batch,
};

use super::{LogState, Store, StoreError, commit::Pending, keys};

/// Where a record came from; decides which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Published by this agency through [`Store::publish`].
    Local,
    /// Received from a peer (pushed, asked for after an announcement, pulled
    /// by sync, imported).
    Peer,
}

/// What ingesting one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored; new to this node.
    New(RecordId),
    /// Already stored; nothing changed.
    Duplicate(RecordId),
    /// Stored, but another record already holds its log slot: the author is
    /// now flagged as equivocating, and this record is the proof.
    Equivocation(RecordId),
    /// A further fork of a slot that already has its proof: neither stored
    /// nor relayed, so equivocation spam cannot grow the store.
    Ignored(RecordId),
    /// A retired key's record below the part of its anchored log this node
    /// has checked (`anchor.rs`): held out of sight, or (when a candidate
    /// already waits in its slot) dropped to be fetched again once the
    /// chain reaches it. Not relayed, not the sender's fault.
    Waiting(RecordId),
    /// Erased or past its review date (`expiry.rs`): its log slot is
    /// filled and a tombstone kept, its body is not. Not relayed.
    Gone(RecordId),
}

impl Ingested {
    pub fn id(&self) -> RecordId {
        match self {
            Ingested::New(id)
            | Ingested::Duplicate(id)
            | Ingested::Equivocation(id)
            | Ingested::Ignored(id)
            | Ingested::Waiting(id)
            | Ingested::Gone(id) => *id,
        }
    }

    /// Whether this record was not here before (and so should be relayed).
    pub fn is_new(&self) -> bool {
        matches!(self, Ingested::New(_) | Ingested::Equivocation(_))
    }
}

/// Why a record from a peer was refused. Nothing already stored is touched.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid record: {0}")]
    Record(#[from] RecordError),
    #[error("no trust list installed: cannot tell members from strangers")]
    NoTrustList,
    #[error("record is for network {got}, this node is in {expected}")]
    WrongNetwork { expected: NetworkId, got: NetworkId },
    #[error("author {0} is not a current member of the network")]
    NotMember(AgencyKey),
    #[error("author {author} is not a member of sharing group {group}")]
    NotInGroup { author: AgencyKey, group: GroupId },
    #[error("record by key {author} is void: {reason}")]
    Void { author: AgencyKey, reason: kawan_protocol::Void },
    /// Refused by the caller's own rule (`ingest_batch_where`).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IngestError {
    /// A short, stable label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::Record(RecordError::BadSignature) => "bad_signature",
            IngestError::Record(RecordError::Envelope(_) | RecordError::Signed(_)) => "malformed",
            IngestError::Record(_) => "invalid",
            IngestError::NoTrustList => "no_trust_list",
            IngestError::WrongNetwork { .. } => "wrong_network",
            IngestError::NotMember(_) => "not_member",
            IngestError::NotInGroup { .. } => "not_in_group",
            IngestError::Void { .. } => "void",
            IngestError::Refused(_) => "refused",
            IngestError::Store(_) => "store",
        }
    }
}

/// Why this agency could not publish.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(#[from] RecordError),
    #[error("TLP {0} records need a sharing group (group:<id>)")]
    NeedsGroup(Tlp),
    #[error("TLP {0} records go to the whole network; do not name a group")]
    NoGroupAllowed(Tlp),
    #[error("TLP RED stays on this node: keep it in a case, not in a shared record")]
    Red,
    #[error("no such record: {0}")]
    UnknownTarget(RecordId),
    #[error("record {0} was written by another agency; only its author may revise or retract it")]
    NotOwnTarget(RecordId),
    #[error("record {0} is not an indicator, typology or technique")]
    NotContent(RecordId),
    #[error("this agency is not a member of sharing group {0}")]
    NotInGroup(GroupId),
    #[error("one erasure names records of one channel: erase the others in another")]
    MixedChannels,
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Ingests one envelope received from a peer; returns once it is durable.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Ingested, IngestError> {
        self.ingest_batch(&[bytes.to_vec()]).pop().unwrap_or(Err(IngestError::NoTrustList))
    }

    /// Ingests many envelopes with batch signature verification and a single
    /// durable write. Results are per record, in order: one bad record never
    /// stops the others.
    pub fn ingest_batch(&self, envelopes: &[Vec<u8>]) -> Vec<Result<Ingested, IngestError>> {
        self.ingest_batch_where(envelopes, |_| None)
    }

    /// [`Store::ingest_batch`], with one more rule of the caller's: a
    /// verified record `refuse` names a reason for is not written (its
    /// result is [`IngestError::Refused`]). The rule sees the header the
    /// store decoded anyway, so it costs no second decode (a bundle's
    /// channels, say).
    pub fn ingest_batch_where(
        &self,
        envelopes: &[Vec<u8>],
        refuse: impl Fn(&kawan_protocol::Header) -> Option<String>,
    ) -> Vec<Result<Ingested, IngestError>> {
        // Decode failures and records already stored keep their place; the
        // rest are opened as one batch. Duplicates are common (every peer
        // offers the same records) and cost a hash here, not a verification.
        let mut failed = Vec::with_capacity(envelopes.len());
        let mut good = Vec::with_capacity(envelopes.len());
        for bytes in envelopes {
            let outcome = match Envelope::from_bytes(bytes) {
                Ok(env) => match self.contains(&env.id()) {
                    Ok(true) => Some(Ok(Ingested::Duplicate(env.id()))),
                    Ok(false) => {
                        good.push(env);
                        None
                    }
                    Err(e) => Some(Err(IngestError::from(e))),
                },
                Err(e) => Some(Err(IngestError::from(e))),
            };
            failed.push(outcome);
        }
        let mut opened = open_parallel(good).into_iter();
        let mut known = Vec::with_capacity(failed.len());
        let mut verified = Vec::with_capacity(failed.iter().filter(|f| f.is_none()).count());
        for f in failed {
            match f {
                Some(outcome) => known.push(Some(outcome)),
                None => {
                    known.push(None);
                    let v = opened.next().unwrap_or(Err(RecordError::BadSignature)).map_err(IngestError::from);
                    verified.push(v.and_then(|v| match refuse(&v.record.header) {
                        Some(why) => Err(IngestError::Refused(why)),
                        None => Ok(v),
                    }));
                }
            }
        }
        let mut written = self.write(verified, Source::Peer).into_iter();
        known
            .into_iter()
            .map(|k| k.unwrap_or_else(|| written.next().unwrap_or(Err(IngestError::NoTrustList))))
            .collect()
    }

    /// Publishes `body` as this agency: next seq of the log, `prev` set,
    /// signed, stored durably. `group` is required for AMBER content and
    /// forbidden for CLEAR/GREEN; sightings and retractions follow their target.
    pub fn publish(
        &self,
        key: &Keypair,
        network: &NetworkId,
        body: Body,
        group: Option<GroupId>,
    ) -> Result<Verified, PublishError> {
        self.publish_batch(key, network, vec![(body, group)])
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("publish wrote nothing".into()).into()))
    }

    /// Publishes many bodies in one durable write (one flush), each on its
    /// log in order. Results are per body, in order.
    pub fn publish_batch(
        &self,
        key: &Keypair,
        network: &NetworkId,
        items: Vec<(Body, Option<GroupId>)>,
    ) -> Vec<Result<Verified, PublishError>> {
        let n = items.len();
        let me = key.public();
        // Channels are decided first: that reads targets from the store.
        let staged: Vec<Result<(Channel, Body), PublishError>> =
            items.into_iter().map(|(body, group)| self.channel_for(&me, &body, group).map(|c| (c, body))).collect();
        let (key, network) = (key.clone(), network.clone());
        // Seqs are assigned and records signed inside the commit: concurrent
        // publishes never reuse a seq, and a failed commit leaves no hole.
        let committed = self.group_commit(move |store, pending| {
            let mut tails: HashMap<Channel, (u64, Option<RecordId>)> = HashMap::new();
            staged
                .into_iter()
                .map(|staged| {
                    let (channel, body) = staged?;
                    let (seq, prev) = match tails.get(&channel) {
                        Some(tail) => *tail,
                        None => store.log_tail(&channel, &me, pending)?,
                    };
                    let header = Header {
                        v: kawan_protocol::record::VERSION,
                        network: network.clone(),
                        channel: channel.clone(),
                        author: me,
                        seq: seq + 1,
                        prev,
                        created_ms: store.now_ms(),
                    };
                    let verified = Record { header, body }.sign(&key)?;
                    store.stage(&verified, Source::Local, pending)?;
                    tails.insert(channel, (seq + 1, Some(verified.id)));
                    Ok(verified)
                })
                .collect::<Vec<Result<Verified, PublishError>>>()
        });
        match committed {
            Ok(results) => results,
            Err(e) => {
                let msg = e.to_string();
                (0..n).map(|_| Err(StoreError::Write(msg.clone()).into())).collect()
            }
        }
    }

    /// The last (seq, id) of this agency's log on `channel`, (0, None) if
    /// empty, counting what the pending batch already holds.
    fn log_tail(&self, channel: &Channel, me: &AgencyKey, p: &Pending) -> Result<(u64, Option<RecordId>), StoreError> {
        let max = match p.logs.get(&(channel.clone(), *me)) {
            Some(state) => state.max,
            None => self.log_state(channel, me)?.max,
        };
        if max == 0 {
            return Ok((0, None));
        }
        let slot = keys::log(channel, me, max);
        let id = self.read(p, &slot)?.ok_or_else(|| super::corrupt("log slot below the head is missing"))?;
        let id = RecordId(id.as_slice().try_into().map_err(|_| super::corrupt("log value"))?);
        Ok((max, Some(id)))
    }

    /// The channel a body of this agency goes on.
    fn channel_for(&self, me: &AgencyKey, body: &Body, group: Option<GroupId>) -> Result<Channel, PublishError> {
        if let Body::Erasure(e) = body {
            return self.erasure_channel(me, e);
        }
        let target = match body {
            Body::Sighting(s) => Some(s.target),
            Body::Retraction(r) => Some(r.target),
            Body::Revision(r) => Some(r.supersedes),
            _ => None,
        };
        if let Some(target) = target {
            let t = self.get(&target)?.ok_or(PublishError::UnknownTarget(target))?;
            let own_only = !matches!(body, Body::Sighting(_));
            if own_only && t.record.header.author != *me {
                return Err(PublishError::NotOwnTarget(target));
            }
            if t.record.body.content().is_none() || matches!(t.record.body, Body::Revision(_)) {
                return Err(PublishError::NotContent(target));
            }
            if !matches!(body, Body::Revision(_)) {
                return Ok(t.record.header.channel);
            }
        }
        let tlp = body.tlp().unwrap_or(Tlp::Green);
        match (tlp, group) {
            (Tlp::Red, _) => Err(PublishError::Red),
            (Tlp::Clear | Tlp::Green, None) => Ok(Channel::Network),
            (Tlp::Clear | Tlp::Green, Some(_)) => Err(PublishError::NoGroupAllowed(tlp)),
            (Tlp::Amber | Tlp::AmberStrict, None) => Err(PublishError::NeedsGroup(tlp)),
            (Tlp::Amber | Tlp::AmberStrict, Some(g)) => {
                if let Some(list) = self.trust()
                    && !list.in_group(&g, me)
                {
                    return Err(PublishError::NotInGroup(g));
                }
                Ok(Channel::Group(g))
            }
        }
    }

    /// An erasure goes on its targets' channel (all one channel, all this
    /// agency's), or, from a coordinator erasing the records of an agency no
    /// longer in the network, on the network channel.
    fn erasure_channel(&self, me: &AgencyKey, e: &kawan_protocol::Erasure) -> Result<Channel, PublishError> {
        let mut channel = None;
        for t in &e.targets {
            let r = self.get(t)?.ok_or(PublishError::UnknownTarget(*t))?;
            let own = self.membership().is_some_and(|m| m.same_agency(me, &r.record.header.author));
            let c = if own { r.record.header.channel.clone() } else { Channel::Network };
            if !self.may_erase(me, &c, &r.record) {
                return Err(PublishError::NotOwnTarget(*t));
            }
            if channel.as_ref().is_some_and(|x| *x != c) {
                return Err(PublishError::MixedChannels);
            }
            channel = Some(c);
        }
        channel.ok_or(PublishError::Invalid(RecordError::EmptyField("targets")))
    }

    /// Stages verified records (or passes their errors through) into the
    /// next group commit; returns once they are durable.
    fn write(&self, records: Vec<Result<Verified, IngestError>>, source: Source) -> Vec<Result<Ingested, IngestError>> {
        let n = records.len();
        let committed = self.group_commit(move |store, pending| {
            records.into_iter().map(|r| r.and_then(|v| store.stage(&v, source, pending))).collect::<Vec<_>>()
        });
        match committed {
            Ok(results) => results,
            Err(e) => {
                let msg = e.to_string();
                (0..n).map(|_| Err(IngestError::Store(StoreError::Write(msg.clone())))).collect()
            }
        }
    }

    /// The checks that need the store and the trust list (docs/protocol.md
    /// §2.7 step 5, the key windows of §3, one record per log slot of §2.2),
    /// then the record's keys, staged into `p`.
    pub(super) fn stage(&self, v: &Verified, source: Source, p: &mut Pending) -> Result<Ingested, IngestError> {
        let h = &v.record.header;
        let log = (h.channel.clone(), h.author);
        let mut state = match p.logs.get(&log) {
            Some(s) => *s,
            None => self.log_state(&h.channel, &h.author)?,
        };
        // The common case is the next record of a log: nothing at or after
        // its seq is stored yet, so it cannot be a duplicate or take an
        // occupied slot, and no store read is needed.
        let fresh = h.seq > state.max;
        if !fresh && (p.ids.contains(&v.id) || self.will_contain(p, &keys::record(&v.id))?) {
            return Ok(Ingested::Duplicate(v.id));
        }
        // The slot's holder may be only a peer's claim that its record is
        // gone (the record itself then decides, below, whatever id the
        // claim named); a tombstone of this node's own in the record's
        // own slot means it went here: nothing to do.
        let holder = if fresh { None } else { self.slot_id(&h.channel, &h.author, h.seq, p)? };
        let claimed = match holder {
            Some(held) => {
                self.read(p, &keys::gone(&held))?.is_some_and(|t| super::expiry::is_claim(&t))
                    && self.read(p, &keys::record(&held))?.is_none()
            }
            None => false,
        };
        if holder == Some(v.id) && !claimed {
            return Ok(Ingested::Duplicate(v.id));
        }
        if source == Source::Peer {
            self.check_member(&v.record)?;
            // A retired key's log that its rotation anchored is checked
            // against the chain it named instead (anchor.rs).
            if let Some(anchor) = self.membership().and_then(|m| m.anchor(&h.author, &h.channel)) {
                let outcome = self.stage_anchored(v, anchor, &mut state, p);
                p.logs.insert(log, state);
                return outcome;
            }
        }
        if source == Source::Local {
            // This node's own account of what it signed: a rotation's log
            // ends come from here, never from a store a thief can reach.
            p.insert(keys::own(&h.channel, &h.author, h.seq), v.id.0.to_vec());
        }
        // Whether a reference (revision, retraction, sighting) is valid
        // depends on its target, which may arrive later: it is stored either
        // way, and queries apply the rules. A record's fate never depends on
        // arrival order, so no log stalls behind it.
        if let Some(held) = holder.filter(|_| claimed) {
            // A peer said the slot's record was gone; the record is here,
            // and is or is not gone by this node's own rules.
            p.remove(keys::gone(&held));
            if let Some(gone) = self.gone_on_arrival(v, p)? {
                self.stage_arrived_gone(v, gone, &mut state, p)?;
                p.logs.insert(log, state);
                return Ok(Ingested::Gone(v.id));
            }
            p.insert(keys::log(&h.channel, &h.author, h.seq), v.id.0.to_vec());
            self.put_record(v, p);
            // A claim held the head; the record does not.
            self.advance_head(&h.channel, &h.author, &mut state, p)?;
            p.logs.insert(log, state);
            self.stage_erasure(&v.id, &v.record, p)?;
            return Ok(Ingested::New(v.id));
        }
        let slot = keys::log(&h.channel, &h.author, h.seq);
        let occupied = !fresh && self.will_contain(p, &slot)?;
        if let Some(gone) = self.gone_on_arrival(v, p)? {
            // A fork that is gone keeps nothing, and never takes the slot
            // from the record that holds it.
            if !occupied {
                self.stage_arrived_gone(v, gone, &mut state, p)?;
                p.logs.insert(log, state);
            }
            return Ok(Ingested::Gone(v.id));
        }
        if occupied && self.has_equivocation_proof(&h.channel, &h.author, h.seq, p)? {
            return Ok(Ingested::Ignored(v.id));
        }
        self.put_record(v, p);

        // The log slot: first record wins the slot; a second is an equivocation.
        if occupied {
            p.insert(keys::equivocation(&h.channel, &h.author, h.seq, &v.id), Vec::new());
            p.index(keys::flagged(&h.author));
            return Ok(Ingested::Equivocation(v.id));
        }
        // A record whose `prev` is not the record this node holds one slot
        // below proves that the author signed two records for that slot.
        if let (Some(prev), Some(below)) = (h.prev, h.seq.checked_sub(1).filter(|s| *s > 0))
            && let Some(held) = self.slot_id(&h.channel, &h.author, below, p)?
            && held != prev
            && !self.read(p, &keys::gone(&held))?.is_some_and(|t| super::expiry::is_claim(&t))
        {
            p.index(keys::flagged(&h.author));
        }
        p.insert(slot, v.id.0.to_vec());
        state.max = state.max.max(h.seq);
        self.advance_head(&h.channel, &h.author, &mut state, p)?;
        p.logs.insert(log, state);
        self.stage_erasure(&v.id, &v.record, p)?;
        Ok(Ingested::New(v.id))
    }

    /// Moves a log's head over every slot now filled.
    pub(super) fn advance_head(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        state: &mut LogState,
        p: &Pending,
    ) -> Result<(), StoreError> {
        while state.head < state.max {
            // A slot filled by one peer's unconfirmed claim holds the head.
            match self.read(p, &keys::log(channel, author, state.head + 1))? {
                Some(id) if !self.holds_unconfirmed_claim(p, &id)? => state.head += 1,
                _ => break,
            }
        }
        Ok(())
    }

    /// Whether the slot value `id` (raw) names an unconfirmed claim.
    fn holds_unconfirmed_claim(&self, p: &Pending, id: &[u8]) -> Result<bool, StoreError> {
        let Ok(id) = <[u8; 32]>::try_from(id).map(RecordId) else { return Ok(false) };
        // The common case: the record was just stored in this batch.
        if p.ids.contains(&id) {
            return Ok(false);
        }
        Ok(self.read(p, &keys::gone(&id))?.is_some_and(|t| super::expiry::is_unconfirmed_claim(&t)))
    }

    /// Stages a record's bytes, its indices and its count (not its slot).
    pub(super) fn put_record(&self, v: &Verified, p: &mut Pending) {
        let mut value = Vec::with_capacity(8 + v.envelope.signed.len() + 96);
        value.extend_from_slice(&p.added_ms.to_be_bytes());
        value.extend_from_slice(&v.envelope.to_bytes());
        p.insert(keys::record(&v.id), value);
        p.ids.insert(v.id);
        p.added.extend_from_slice(&v.id.0);
        let (index, count) = derived_keys(v, &self.retention());
        for k in index {
            p.index(k);
        }
        for (target, ref_type) in refs_of(&v.record.body) {
            p.refs.entry(target).or_default().push((ref_type, v.id));
        }
        *p.counts.entry(count).or_default() += 1;
    }

    /// Removes a void record entirely: its bytes, indices, count, its slot
    /// if it holds one, and its fork proof if it is one. The log's head
    /// drops below a freed slot, so sync fetches the genuine record again.
    pub(super) fn purge(&self, id: &RecordId, state: &mut LogState, p: &mut Pending) -> Result<(), StoreError> {
        let Some(v) = self.read(p, &keys::record(id))? else { return Ok(()) };
        let r = super::decode_stored(*id, &v)?.record;
        self.unstage_body(id, &r, p);
        let h = &r.header;
        if self.slot_id(&h.channel, &h.author, h.seq, p)? == Some(*id) {
            p.remove(keys::log(&h.channel, &h.author, h.seq));
            state.head = state.head.min(h.seq.saturating_sub(1));
        }
        Ok(())
    }

    /// A peer's record must come from a current member, signed inside its
    /// key's window (rotation, compromise cutoff), on a channel its agency
    /// may use.
    fn check_member(&self, r: &Record) -> Result<(), IngestError> {
        let list = self.membership().ok_or(IngestError::NoTrustList)?;
        let h = &r.header;
        if list.network.as_ref() != Some(&h.network) {
            let expected = list.network.clone().ok_or(IngestError::NoTrustList)?;
            return Err(IngestError::WrongNetwork { expected, got: h.network.clone() });
        }
        match list.vouches(h, self.now_ms()) {
            Ok(()) => {}
            Err(Void::NotMember | Void::Lapsed) => return Err(IngestError::NotMember(h.author)),
            Err(reason) => return Err(IngestError::Void { author: h.author, reason }),
        }
        if let Channel::Group(g) = &h.channel
            && !list.in_group(g, &h.author)
        {
            return Err(IngestError::NotInGroup { author: h.author, group: g.clone() });
        }
        Ok(())
    }

    /// Whether a fork of this slot is already kept as proof.
    fn has_equivocation_proof(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
        p: &Pending,
    ) -> Result<bool, StoreError> {
        let mut prefix = keys::equivocation(channel, author, seq, &RecordId([0; 32]));
        prefix.truncate(prefix.len() - 32);
        let staged = p.staged_with_prefix(&prefix);
        if staged.iter().any(|(_, written)| *written) {
            return Ok(true);
        }
        for item in self.scan_prefix(&prefix, false) {
            let (k, _) = item?;
            if !staged.iter().any(|(s, _)| *s == k) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The id of the record in one log slot, counting the pending batch.
    pub(super) fn slot_id(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        seq: u64,
        p: &Pending,
    ) -> Result<Option<RecordId>, StoreError> {
        let v = self.read(p, &keys::log(channel, author, seq))?;
        Ok(v.and_then(|v| v.as_slice().try_into().ok().map(RecordId)))
    }
}

/// What storing `v` derives from it alone (and the retention policy in
/// force): its index keys (each with an empty value) and the count key it
/// adds one to. Restore rebuilds these from the verified records instead of
/// taking an archive's word (`keys::is_derived`).
pub(crate) fn derived_keys(v: &Verified, policy: &Retention) -> (Vec<Vec<u8>>, Vec<u8>) {
    (index_keys(&v.id, &v.record, policy), keys::count(type_label(&v.record.body), &v.record.header.channel))
}

/// The index keys of a record (`keys.rs`): what its family is found by, and
/// when it is due for review.
pub(super) fn index_keys(id: &RecordId, r: &Record, policy: &Retention) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> =
        refs_of(&r.body).into_iter().map(|(target, ref_type)| keys::reference(&target, ref_type, id)).collect();
    match &r.body {
        Body::Erasure(_) => out.push(keys::listing(keys::LIST_ERASURE, r.header.created_ms, id)),
        Body::Checkpoint(_) => out.push(keys::listing(keys::LIST_CHECKPOINT, r.header.created_ms, id)),
        _ => {}
    }
    out.extend(r.body.attachments().iter().map(|a| keys::attached(&a.hash, id)));
    let content = r.body.content();
    match &content {
        Some(Content::Indicator(i)) => {
            out.push(keys::value(i.kind, &i.value, id));
            out.extend(i.typologies.iter().map(|t| keys::typology(t, id)));
        }
        Some(Content::Referral(x)) => out.extend(x.subjects.iter().map(|s| keys::referred(s.kind, &s.value, id))),
        Some(Content::Typology(_) | Content::Technique(_) | Content::Request(_) | Content::Answer(_)) | None => {}
    }
    if let Some(due) = super::expiry::due_of(r, policy) {
        out.push(keys::review(due, id));
    }
    // Revisions are listed too; queries resolve them to their root.
    if let Some(tag) = content.and_then(|c| keys::listing_of(c.family())) {
        out.push(keys::listing(tag, r.header.created_ms, id));
    }
    out
}

/// The records `body` is about, with the kind of reference (`F` keys).
pub(super) fn refs_of(body: &Body) -> Vec<(RecordId, u8)> {
    match body {
        Body::Sighting(s) => vec![(s.target, keys::REF_SIGHTING)],
        Body::Retraction(x) => vec![(x.target, keys::REF_RETRACTION)],
        Body::Revision(x) => vec![(x.supersedes, keys::REF_REVISION)],
        Body::Erasure(e) => e.targets.iter().map(|t| (*t, keys::REF_ERASURE)).collect(),
        Body::Answer(a) => vec![(a.request, keys::REF_ANSWER)],
        Body::Checkpoint(_)
        | Body::Indicator(_)
        | Body::Typology(_)
        | Body::Technique(_)
        | Body::Referral(_)
        | Body::Request(_)
        | Body::Unknown(_) => Vec::new(),
    }
}

/// Opens a batch on every core: verification is most of the cost of ingest,
/// and the pieces are independent.
fn open_parallel(envelopes: Vec<Envelope>) -> Vec<Result<Verified, RecordError>> {
    const MIN_PER_THREAD: usize = 32;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(envelopes.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return open_batch(envelopes);
    }
    let per = envelopes.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = envelopes;
    while rest.len() > per {
        let tail = rest.split_off(per);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts.into_iter().map(|part| scope.spawn(move || open_batch(part))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| vec![Err(RecordError::BadSignature)])).collect()
    })
}

/// What a record is, for the per-type counters: an indicator's kind, or the body type.
pub fn type_label(body: &Body) -> &'static str {
    match body {
        Body::Indicator(i) => i.kind.as_str(),
        other => other.type_name(),
    }
}
