//! Getting records in: from peers (verified against the trust list) and from
//! this agency (next seq, signed with the agency key).

use std::collections::{HashMap, HashSet};

use kawan_protocol::{
    AgencyKey, Body, Channel, Envelope, GroupId, Header, Keypair, NetworkId, Record, RecordError,
    RecordId, Tlp, Verified, open_batch,
};

use super::{Store, StoreError, keys, now_ms};

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
    NotOwnTarget {
        kind: &'static str,
        target: RecordId,
    },
    #[error("revision supersedes {0}, which is itself a revision (point at the original)")]
    RevisionOfRevision(RecordId),
    #[error("sighting or retraction travels on channel {got}, its target is on {expected}")]
    TargetChannel { expected: Channel, got: Channel },
    #[error(transparent)]
    Store(#[from] StoreError),
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
#[derive(Default)]
struct Pending {
    batch: sled::Batch,
    written: HashMap<Vec<u8>, Vec<u8>>,
    ids: HashSet<RecordId>,
}

impl Pending {
    fn insert(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.batch.insert(k.clone(), v.clone());
        self.written.insert(k, v);
    }
}

impl Store {
    /// Ingests one envelope received from a peer; returns once it is durable.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Ingested, IngestError> {
        let verified = Envelope::from_bytes(bytes)?.open()?;
        self.write(vec![Ok(verified)], Source::Peer)
            .pop()
            .unwrap_or(Err(IngestError::NoTrustList))
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
        let mut opened = open_batch(good).into_iter();
        let verified = failed
            .into_iter()
            .map(|f| match f {
                Some(e) => Err(e),
                None => opened
                    .next()
                    .unwrap_or(Err(RecordError::BadSignature))
                    .map_err(IngestError::from),
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
        let me = key.public();
        let channel = self.channel_for(&me, &body, group)?;
        // Held across seq assignment, signing and writing: concurrent
        // publishes never reuse a seq.
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let last = self
            .records
            .scan_prefix(keys::log_of(&channel, &me))
            .next_back()
            .transpose()
            .map_err(StoreError::from)?;
        let (seq, prev) = match last {
            Some((k, v)) => {
                let seq =
                    keys::u64_be(&k[k.len() - 8..]).ok_or_else(|| super::corrupt("log key"))?;
                let id = RecordId(
                    v.as_ref()
                        .try_into()
                        .map_err(|_| super::corrupt("log value"))?,
                );
                (seq + 1, Some(id))
            }
            None => (1, None),
        };
        let header = Header {
            v: kawan_protocol::record::VERSION,
            network: network.clone(),
            channel,
            author: me,
            seq,
            prev,
            created_ms: now_ms(),
        };
        let verified = Record { header, body }.sign(key)?;
        let result = self.write_locked(vec![Ok(verified.clone())], Source::Local);
        drop(_guard);
        self.flush()?;
        match result.into_iter().next() {
            Some(Ok(_)) => Ok(verified),
            Some(Err(e)) => Err(e.into()),
            None => Err(StoreError::Corrupt("publish wrote nothing".into()).into()),
        }
    }

    /// The channel a body of this agency goes on.
    fn channel_for(
        &self,
        me: &AgencyKey,
        body: &Body,
        group: Option<GroupId>,
    ) -> Result<Channel, PublishError> {
        let target = match body {
            Body::Sighting(s) => Some(s.target),
            Body::Retraction(r) => Some(r.target),
            Body::Revision(r) => Some(r.supersedes),
            _ => None,
        };
        if let Some(target) = target {
            let t = self
                .get(&target)?
                .ok_or(PublishError::UnknownTarget(target))?;
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
    fn write(
        &self,
        records: Vec<Result<Verified, IngestError>>,
        source: Source,
    ) -> Vec<Result<Ingested, IngestError>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let results = self.write_locked(records, source);
        drop(guard);
        if let Err(e) = self.flush() {
            // Nothing may be acknowledged that is not on disk.
            let msg = e.to_string();
            return results
                .into_iter()
                .map(|r| {
                    r.and_then(|_| {
                        Err(IngestError::Store(StoreError::Corrupt(format!(
                            "flush failed: {msg}"
                        ))))
                    })
                })
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
        let mut pending = Pending::default();
        let mut results: Vec<Result<Ingested, IngestError>> = records
            .into_iter()
            .map(|r| r.and_then(|v| self.stage(&v, source, &mut pending)))
            .collect();
        if let Err(e) = self.records.apply_batch(pending.batch) {
            let msg = e.to_string();
            results = results
                .into_iter()
                .map(|r| {
                    r.and_then(|_| {
                        Err(IngestError::Store(StoreError::Corrupt(format!(
                            "write failed: {msg}"
                        ))))
                    })
                })
                .collect();
        }
        results
    }

    /// The checks of DESIGN.md §2 that need the store and the trust list, then
    /// the record's keys, staged into `p`.
    fn stage(
        &self,
        v: &Verified,
        source: Source,
        p: &mut Pending,
    ) -> Result<Ingested, IngestError> {
        let h = &v.record.header;
        if p.ids.contains(&v.id)
            || self
                .records
                .contains_key(keys::record(&v.id))
                .map_err(StoreError::from)?
        {
            return Ok(Ingested::Duplicate(v.id));
        }
        if source == Source::Peer {
            self.check_member(&v.record)?;
        }
        self.check_target(&v.record, p)?;

        let added_ms = now_ms();
        let counter = self.db.generate_id().map_err(StoreError::from)?;
        let mut value = added_ms.to_be_bytes().to_vec();
        value.extend_from_slice(&v.envelope.to_bytes());
        p.insert(keys::record(&v.id), value);
        p.ids.insert(v.id);
        p.insert(keys::added(added_ms, counter), v.id.0.to_vec());
        p.insert(keys::created(h.created_ms, &v.id), vec![]);
        p.insert(keys::author(&h.author, h.created_ms, &v.id), vec![]);
        self.stage_indices(v, p);

        // The log slot: first record wins the slot; a second is an equivocation.
        let slot = keys::log(&h.channel, &h.author, h.seq);
        let existing = match p.written.get(&slot) {
            Some(id) => Some(id.clone()),
            None => self
                .records
                .get(&slot)
                .map_err(StoreError::from)?
                .map(|v| v.to_vec()),
        };
        if existing.is_some() {
            p.insert(
                keys::equivocation(&h.channel, &h.author, h.seq, &v.id),
                vec![],
            );
            p.insert(keys::flagged(&h.author), vec![]);
            return Ok(Ingested::Equivocation(v.id));
        }
        p.insert(slot, v.id.0.to_vec());
        self.advance_head(&h.channel, &h.author, p)?;
        Ok(Ingested::New(v.id))
    }

    fn stage_indices(&self, v: &Verified, p: &mut Pending) {
        let created = v.record.header.created_ms;
        match &v.record.body {
            Body::Sighting(s) => p.insert(
                keys::reference(&s.target, keys::REF_SIGHTING, &v.id),
                vec![],
            ),
            Body::Retraction(r) => p.insert(
                keys::reference(&r.target, keys::REF_RETRACTION, &v.id),
                vec![],
            ),
            Body::Revision(r) => p.insert(
                keys::reference(&r.supersedes, keys::REF_REVISION, &v.id),
                vec![],
            ),
            _ => {}
        }
        if let Some(kawan_protocol::Content::Indicator(i)) = v.record.body.content() {
            p.insert(keys::value(i.kind, &i.value, &v.id), vec![]);
            p.insert(keys::kind(i.kind, created, &v.id), vec![]);
            for t in &i.typologies {
                p.insert(keys::typology(t, &v.id), vec![]);
            }
        }
    }

    /// Moves the contiguous head forward over every slot now filled.
    fn advance_head(
        &self,
        channel: &Channel,
        author: &AgencyKey,
        p: &mut Pending,
    ) -> Result<(), StoreError> {
        let head_key = keys::head(channel, author);
        let mut head = match p.written.get(&head_key) {
            Some(v) => keys::u64_be(v).unwrap_or(0),
            None => self.head(channel, author)?,
        };
        loop {
            let next = keys::log(channel, author, head + 1);
            if p.written.contains_key(&next) || self.records.contains_key(&next)? {
                head += 1;
            } else {
                break;
            }
        }
        p.insert(head_key, head.to_be_bytes().to_vec());
        Ok(())
    }

    /// A peer's record must come from a current member allowed on its channel.
    fn check_member(&self, r: &Record) -> Result<(), IngestError> {
        let list = self.trust().ok_or(IngestError::NoTrustList)?;
        let h = &r.header;
        if h.network != list.network {
            return Err(IngestError::WrongNetwork {
                expected: list.network.clone(),
                got: h.network.clone(),
            });
        }
        if !list.is_active(&h.author, now_ms()) {
            return Err(IngestError::NotMember(h.author));
        }
        if let Channel::Group(g) = &h.channel
            && !list.in_group(g, &h.author)
        {
            return Err(IngestError::NotInGroup {
                author: h.author,
                group: g.clone(),
            });
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
