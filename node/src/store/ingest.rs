//! Getting records in: from peers (verified against the trust list) and from
//! this agency (next seq, signed with the agency key).

use std::collections::{HashMap, HashSet};

use kawan_protocol::{
    AgencyKey, Body, Channel, Content, Envelope, GroupId, Header, Keypair, NetworkId, Record, RecordError, RecordId,
    Tlp, Verified, open_batch,
};

use super::{LogState, Store, StoreError, keys, now_ms};

/// Where a record came from; decides which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Published by this agency through [`Store::publish`].
    Local,
    /// Received from a peer (gossip, sync, import).
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
    /// now flagged as equivocating.
    Equivocation(RecordId),
}

impl Ingested {
    pub fn id(&self) -> RecordId {
        match self {
            Ingested::New(id) | Ingested::Duplicate(id) | Ingested::Equivocation(id) => *id,
        }
    }

    /// Whether this record was not here before (and so should be relayed).
    pub fn is_new(&self) -> bool {
        !matches!(self, Ingested::Duplicate(_))
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
    #[error("{kind} targets record {target}, which another agency wrote")]
    NotOwnTarget { kind: &'static str, target: RecordId },
    #[error("revision supersedes {0}, which is itself a revision (point at the original)")]
    RevisionOfRevision(RecordId),
    #[error("sighting or retraction travels on channel {got}, its target is on {expected}")]
    TargetChannel { expected: Channel, got: Channel },
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
            IngestError::NotOwnTarget { .. } => "not_own_target",
            IngestError::RevisionOfRevision(_) => "revision_of_revision",
            IngestError::TargetChannel { .. } => "target_channel",
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
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes pending in one batch, visible to later records of the same batch.
struct Pending {
    batch: sled::Batch,
    written: HashMap<Vec<u8>, Vec<u8>>,
    ids: HashSet<RecordId>,
    /// Logs touched by the batch; their `H` keys are written once, at the end.
    logs: HashMap<(Channel, AgencyKey), LogState>,
    /// Records added per (type, channel) count key.
    counts: HashMap<Vec<u8>, u64>,
    /// Ids of the records new in this batch, in order: one `A` key for all.
    added: Vec<u8>,
    added_ms: u64,
}

impl Pending {
    /// Stages a key that later records of the batch may read back.
    fn insert(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.batch.insert(k.clone(), v.clone());
        self.written.insert(k, v);
    }

    /// Stages an index key nothing reads during ingest.
    fn index(&mut self, k: Vec<u8>) {
        self.batch.insert(k, &[][..]);
    }
}

impl Store {
    /// Ingests one envelope received from a peer; returns once it is durable.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Ingested, IngestError> {
        let verified = Envelope::from_bytes(bytes)?.open()?;
        self.write(vec![Ok(verified)], Source::Peer).pop().unwrap_or(Err(IngestError::NoTrustList))
    }

    /// Ingests many envelopes with batch signature verification and a single
    /// flush. Results are per record, in order: one bad record never stops
    /// the others.
    pub fn ingest_batch(&self, envelopes: &[Vec<u8>]) -> Vec<Result<Ingested, IngestError>> {
        // Decode failures keep their place; the rest are opened as one batch.
        let mut failed = Vec::with_capacity(envelopes.len());
        let mut good = Vec::with_capacity(envelopes.len());
        for bytes in envelopes {
            match Envelope::from_bytes(bytes) {
                Ok(env) => {
                    good.push(env);
                    failed.push(None);
                }
                Err(e) => failed.push(Some(IngestError::from(e))),
            }
        }
        let mut opened = open_parallel(good).into_iter();
        let verified = failed
            .into_iter()
            .map(|f| match f {
                Some(e) => Err(e),
                None => opened.next().unwrap_or(Err(RecordError::BadSignature)).map_err(IngestError::from),
            })
            .collect();
        self.write(verified, Source::Peer)
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
        let me = key.public();
        // Channels are decided first: that reads targets from the store.
        let staged: Vec<Result<(Channel, Body), PublishError>> =
            items.into_iter().map(|(body, group)| self.channel_for(&me, &body, group).map(|c| (c, body))).collect();
        // Held across seq assignment, signing and writing: concurrent
        // publishes never reuse a seq.
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut tails: HashMap<Channel, (u64, Option<RecordId>)> = HashMap::new();
        let signed: Vec<Result<Verified, PublishError>> = staged
            .into_iter()
            .map(|staged| {
                let (channel, body) = staged?;
                let (seq, prev) = match tails.get(&channel) {
                    Some(tail) => *tail,
                    None => self.log_tail(&channel, &me)?,
                };
                let header = Header {
                    v: kawan_protocol::record::VERSION,
                    network: network.clone(),
                    channel: channel.clone(),
                    author: me,
                    seq: seq + 1,
                    prev,
                    created_ms: now_ms(),
                };
                let verified = Record { header, body }.sign(key)?;
                tails.insert(channel, (seq + 1, Some(verified.id)));
                Ok(verified)
            })
            .collect();
        let to_write = signed.iter().filter_map(|r| r.as_ref().ok().map(|v| Ok(v.clone()))).collect();
        let mut written = self.write_locked(to_write, Source::Local).into_iter();
        drop(guard);
        let flushed = self.flush().map_err(|e| e.to_string());
        signed
            .into_iter()
            .map(|r| {
                let v = r?;
                match (written.next(), &flushed) {
                    (Some(Ok(_)), Ok(())) => Ok(v),
                    (Some(Err(e)), _) => Err(e.into()),
                    (_, Err(e)) => Err(StoreError::Corrupt(format!("flush failed: {e}")).into()),
                    (None, _) => Err(StoreError::Corrupt("publish wrote nothing".into()).into()),
                }
            })
            .collect()
    }

    /// The last (seq, id) of this agency's log on `channel`, (0, None) if empty.
    fn log_tail(&self, channel: &Channel, me: &AgencyKey) -> Result<(u64, Option<RecordId>), StoreError> {
        let last = self.records.scan_prefix(keys::log_of(channel, me)).next_back().transpose()?;
        match last {
            Some((k, v)) => {
                let seq = keys::u64_be(&k[k.len() - 8..]).ok_or_else(|| super::corrupt("log key"))?;
                let id = RecordId(v.as_ref().try_into().map_err(|_| super::corrupt("log value"))?);
                Ok((seq, Some(id)))
            }
            None => Ok((0, None)),
        }
    }

    /// The channel a body of this agency goes on.
    fn channel_for(&self, me: &AgencyKey, body: &Body, group: Option<GroupId>) -> Result<Channel, PublishError> {
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

    /// Writes verified records (or passes their errors through), then flushes.
    fn write(&self, records: Vec<Result<Verified, IngestError>>, source: Source) -> Vec<Result<Ingested, IngestError>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let results = self.write_locked(records, source);
        drop(guard);
        if let Err(e) = self.flush() {
            // Nothing may be acknowledged that is not on disk.
            let msg = e.to_string();
            return results
                .into_iter()
                .map(|r| r.and_then(|_| Err(IngestError::Store(StoreError::Corrupt(format!("flush failed: {msg}"))))))
                .collect();
        }
        results
    }

    /// Checks and stages each record, then applies them in one atomic batch.
    fn write_locked(
        &self,
        records: Vec<Result<Verified, IngestError>>,
        source: Source,
    ) -> Vec<Result<Ingested, IngestError>> {
        let mut next_counter = self.next_counter.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending = Pending {
            batch: sled::Batch::default(),
            written: HashMap::new(),
            ids: HashSet::new(),
            logs: HashMap::new(),
            added: Vec::new(),
            added_ms: now_ms(),
            counts: HashMap::new(),
        };
        let mut results: Vec<Result<Ingested, IngestError>> =
            records.into_iter().map(|r| r.and_then(|v| self.stage(&v, source, &mut pending))).collect();
        for ((channel, author), state) in &pending.logs {
            pending.batch.insert(keys::head(channel, author), state.to_bytes().to_vec());
        }
        for (key, n) in &pending.counts {
            let before = self.records.get(key).ok().flatten().and_then(|v| keys::u64_be(&v)).unwrap_or(0);
            pending.batch.insert(key.clone(), &(before + n).to_be_bytes()[..]);
        }
        let batch_no = *next_counter;
        if !pending.added.is_empty() {
            pending.batch.insert(keys::added(pending.added_ms, batch_no), std::mem::take(&mut pending.added));
        }
        if let Err(e) = self.records.apply_batch(pending.batch) {
            let msg = e.to_string();
            results = results
                .into_iter()
                .map(|r| r.and_then(|_| Err(IngestError::Store(StoreError::Corrupt(format!("write failed: {msg}"))))))
                .collect();
        } else {
            *next_counter = batch_no + 1;
        }
        results
    }

    /// The checks of DESIGN.md §2 that need the store and the trust list, then
    /// the record's keys, staged into `p`.
    fn stage(&self, v: &Verified, source: Source, p: &mut Pending) -> Result<Ingested, IngestError> {
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
        if !fresh
            && (p.ids.contains(&v.id) || self.records.contains_key(keys::record(&v.id)).map_err(StoreError::from)?)
        {
            return Ok(Ingested::Duplicate(v.id));
        }
        if source == Source::Peer {
            self.check_member(&v.record)?;
        }
        self.check_target(&v.record, p)?;

        let added_ms = p.added_ms;
        let mut value = Vec::with_capacity(8 + v.envelope.signed.len() + 96);
        value.extend_from_slice(&added_ms.to_be_bytes());
        value.extend_from_slice(&v.envelope.to_bytes());
        p.insert(keys::record(&v.id), value);
        p.ids.insert(v.id);
        p.added.extend_from_slice(&v.id.0);
        self.stage_indices(v, p);

        // The log slot: first record wins the slot; a second is an equivocation.
        let slot = keys::log(&h.channel, &h.author, h.seq);
        let occupied =
            !fresh && (p.written.contains_key(&slot) || self.records.contains_key(&slot).map_err(StoreError::from)?);
        if occupied {
            p.index(keys::equivocation(&h.channel, &h.author, h.seq, &v.id));
            p.index(keys::flagged(&h.author));
            return Ok(Ingested::Equivocation(v.id));
        }
        p.insert(slot, v.id.0.to_vec());
        state.max = state.max.max(h.seq);
        // Move the contiguous head over every slot now filled.
        while state.head < state.max {
            let next = keys::log(&h.channel, &h.author, state.head + 1);
            if p.written.contains_key(&next) || self.records.contains_key(&next).map_err(StoreError::from)? {
                state.head += 1;
            } else {
                break;
            }
        }
        p.logs.insert(log, state);
        *p.counts.entry(keys::count(type_label(&v.record.body), &h.channel)).or_default() += 1;
        Ok(Ingested::New(v.id))
    }

    fn stage_indices(&self, v: &Verified, p: &mut Pending) {
        let created = v.record.header.created_ms;
        match &v.record.body {
            Body::Sighting(s) => p.index(keys::reference(&s.target, keys::REF_SIGHTING, &v.id)),
            Body::Retraction(r) => p.index(keys::reference(&r.target, keys::REF_RETRACTION, &v.id)),
            Body::Revision(r) => p.index(keys::reference(&r.supersedes, keys::REF_REVISION, &v.id)),
            _ => {}
        }
        match v.record.body.content() {
            Some(Content::Indicator(i)) => {
                p.index(keys::value(i.kind, &i.value, &v.id));
                for t in &i.typologies {
                    p.index(keys::typology(t, &v.id));
                }
            }
            Some(Content::Typology(_)) => p.index(keys::listing(keys::LIST_TYPOLOGY, created, &v.id)),
            Some(Content::Technique(_)) => p.index(keys::listing(keys::LIST_TECHNIQUE, created, &v.id)),
            None => {}
        }
    }

    /// A peer's record must come from a current member allowed on its channel.
    fn check_member(&self, r: &Record) -> Result<(), IngestError> {
        let list = self.trust().ok_or(IngestError::NoTrustList)?;
        let h = &r.header;
        if h.network != list.network {
            return Err(IngestError::WrongNetwork { expected: list.network.clone(), got: h.network.clone() });
        }
        if !list.is_active(&h.author, now_ms()) {
            return Err(IngestError::NotMember(h.author));
        }
        if let Channel::Group(g) = &h.channel
            && !list.in_group(g, &h.author)
        {
            return Err(IngestError::NotInGroup { author: h.author, group: g.clone() });
        }
        Ok(())
    }

    /// Revisions and retractions must target the author's own content; all
    /// references must stay on the target's channel. Checked when the target
    /// is already here; if it arrives later, queries apply the same rule.
    fn check_target(&self, r: &Record, p: &Pending) -> Result<(), IngestError> {
        let (target, kind) = match &r.body {
            Body::Revision(rev) => (rev.supersedes, "revision"),
            Body::Retraction(x) => (x.target, "retraction"),
            Body::Sighting(s) => (s.target, "sighting"),
            _ => return Ok(()),
        };
        let stored = match p.written.get(&keys::record(&target)) {
            Some(v) => Some(super::decode_stored(target, v)?),
            None => self.get(&target)?,
        };
        let Some(t) = stored else { return Ok(()) };
        if kind != "sighting" && t.record.header.author != r.header.author {
            return Err(IngestError::NotOwnTarget { kind, target });
        }
        if matches!(t.record.body, Body::Revision(_)) {
            return Err(IngestError::RevisionOfRevision(target));
        }
        if kind != "revision" && t.record.header.channel != r.header.channel {
            return Err(IngestError::TargetChannel {
                expected: t.record.header.channel,
                got: r.header.channel.clone(),
            });
        }
        Ok(())
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
