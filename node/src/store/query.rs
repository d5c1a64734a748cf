//! Reading: exact and bulk lookups, searches, the `added_after` feed, and the
//! provenance every hit carries.
//!
//! A *hit* is one piece of knowledge (an indicator, typology or technique) as
//! it stands now: the latest revision by its author, unless retracted, with
//! who said it, who corroborated or disputed it, and whether its author is
//! still trusted. History stays queryable through `include_retracted` and
//! [`Store::versions`].

use std::{collections::BTreeSet, fmt, ops::Bound, str::FromStr};

use kawan_protocol::{
    AgencyKey, Body, Channel, Content, Context, Family, Kind, Membership, NormalizeError, RecordId, ReferralStatus,
    TrustList, Verdict, Warning, attachment::FileHash, normalize,
};

use super::{Store, StoreError, StoredRecord, corrupt, keys};

/// One piece of shared knowledge as it stands, with provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The original record; every version points at it.
    pub id: RecordId,
    /// The version shown (the latest revision, or the original).
    pub version: RecordId,
    pub content: Content,
    pub author: AgencyKey,
    /// The author's name in the trust list, if still listed.
    pub author_name: Option<String>,
    /// The author is no longer an active member: keep, but flag.
    pub author_revoked: bool,
    /// The author signed two records for one log slot.
    pub author_equivocating: bool,
    pub channel: Channel,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub added_ms: u64,
    /// Number of revisions after the original.
    pub revisions: u32,
    /// The retraction's reason, if the author withdrew it.
    pub retracted: Option<String>,
    /// Other agencies that corroborated it.
    pub sighted_by: Vec<AgencyKey>,
    /// Other agencies that called it a false positive.
    pub false_positive_by: Vec<AgencyKey>,
    /// (Referrals) agencies that referred the same subjects too.
    pub referred_too_by: Vec<AgencyKey>,
    /// (Referrals) agencies that found the subjects still online, and when.
    pub still_online: Vec<(AgencyKey, u64)>,
    /// Distinct agencies that published or corroborated the same value
    /// (indicators) or this record (typologies, techniques).
    pub agencies: u32,
    /// (Indicators) what its decaying score is computed from
    /// (`kawan_protocol::decay`), and when it falls below the network's
    /// floor: `Some(0)` already, `None` never.
    pub evidence: Option<kawan_protocol::Evidence>,
    pub decays_at_ms: Option<u64>,
}

impl Hit {
    /// Whether its score is below the network's floor at `now_ms` (pins
    /// aside: they are the agency's, not the store's).
    pub fn is_decayed(&self, now_ms: u64) -> bool {
        self.decays_at_ms.is_some_and(|t| t <= now_ms)
    }
}

/// A search. Empty fields do not filter; results are newest first.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub kind: Option<Kind>,
    /// A raw value; normalised with `kind` (required with it).
    pub value: Option<String>,
    /// Knowledge of this family; for sighting, revision and retraction:
    /// knowledge that other agencies sighted, that its author revised, or
    /// that its author retracted (which includes retracted records).
    pub family: Option<Family>,
    pub typology: Option<RecordId>,
    pub author: Option<AgencyKey>,
    /// On the original's `created_ms`, inclusive.
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
    /// Case-insensitive text in typology/technique titles, summaries and
    /// aliases, or in indicator descriptions and tags.
    pub text: Option<String>,
    pub include_retracted: bool,
    /// Leave out indicators whose score fell below the network's floor by
    /// this instant (Unix ms), except those in `pinned`.
    pub decayed_at: Option<u64>,
    pub pinned: Vec<RecordId>,
    /// 0 means the default of 100.
    pub limit: usize,
}

/// One value of a bulk lookup; without a kind, the kind is guessed.
#[derive(Debug, Clone)]
pub struct BulkItem {
    pub kind: Option<Kind>,
    pub value: String,
}

/// The answer for one bulk item. An invalid value has an `error` and no hits;
/// it never fails the whole lookup.
#[derive(Debug, Clone)]
pub struct BulkResult {
    pub input: String,
    pub kind: Option<Kind>,
    pub value: Option<String>,
    pub warnings: Vec<Warning>,
    pub error: Option<String>,
    pub hits: Vec<Hit>,
}

/// Position in the receive-order feed (`added_after`): the last record seen
/// is record `index` of ingest batch `batch`, added at `added_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub added_ms: u64,
    pub batch: u64,
    pub index: u64,
}

impl Cursor {
    /// Everything added strictly after `ms`.
    pub fn after_ms(ms: u64) -> Cursor {
        Cursor { added_ms: ms, batch: u64::MAX, index: u64::MAX }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.added_ms, self.batch, self.index)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid cursor {s:?}");
        let mut parts = s.splitn(3, '-').map(|p| p.parse::<u64>().map_err(|_| bad()));
        let mut next = || parts.next().unwrap_or_else(|| Err(bad()));
        Ok(Cursor { added_ms: next()?, batch: next()?, index: next()? })
    }
}

const DEFAULT_LIMIT: usize = 100;

impl Store {
    /// Hits for one value: normalised, then answered from the value index.
    pub fn lookup(
        &self,
        kind: Kind,
        raw: &str,
        ctx: &Context,
        include_retracted: bool,
    ) -> Result<Result<Vec<Hit>, NormalizeError>, StoreError> {
        match normalize(kind, raw, ctx) {
            Ok(n) => self.lookup_normal(kind, &n.value, include_retracted).map(Ok),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Many values of mixed kinds at once; each is reported on its own.
    /// Large lists are split across cores: every value is independent.
    pub fn bulk_lookup(
        &self,
        items: &[BulkItem],
        ctx: &Context,
        include_retracted: bool,
    ) -> Result<Vec<BulkResult>, StoreError> {
        const MIN_PER_THREAD: usize = 1024;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(items.len() / MIN_PER_THREAD).max(1);
        if threads == 1 {
            return items.iter().map(|item| self.bulk_one(item, ctx, include_retracted)).collect();
        }
        let per = items.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = items
                .chunks(per)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk.iter().map(|item| self.bulk_one(item, ctx, include_retracted)).collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(items.len());
            for part in parts {
                let results = part.join().map_err(|_| StoreError::Worker("a bulk lookup"))?;
                for r in results {
                    out.push(r?);
                }
            }
            Ok(out)
        })
    }

    fn bulk_one(&self, item: &BulkItem, ctx: &Context, include_retracted: bool) -> Result<BulkResult, StoreError> {
        let mut out = BulkResult {
            input: item.value.clone(),
            // A phone-shaped value is a phone number: normalising it once,
            // below, also says whether it is one (phone parsing is slow).
            kind: item.kind.or_else(|| {
                if normalize::looks_like_phone(&item.value) {
                    Some(Kind::Phone)
                } else {
                    normalize::guess_kind(&item.value)
                }
            }),
            value: None,
            warnings: vec![],
            error: None,
            hits: vec![],
        };
        let Some(kind) = out.kind else {
            out.error = Some("cannot tell the kind of this value; give it explicitly".into());
            return Ok(out);
        };
        match normalize(kind, &item.value, ctx) {
            Ok(n) => {
                out.hits = self.lookup_normal(kind, &n.value, include_retracted)?;
                out.value = Some(n.value);
                out.warnings = n.warnings;
            }
            Err(e) => out.error = Some(e.reason.to_string()),
        }
        Ok(out)
    }

    /// Every audit checkpoint record held (any author), oldest first.
    pub fn checkpoints(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&[keys::KIND, keys::LIST_CHECKPOINT], false) {
            let (k, _) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("listing key"))?;
            if let Some(r) = self.get(&id)?
                && !self.is_withdrawn(&r)?
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Ids of the records (originals and revisions) carrying `value` (normal form).
    pub fn ids_with_value(&self, kind: Kind, value: &str) -> Result<Vec<RecordId>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&keys::value_prefix(kind, value), false) {
            let (k, _) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("value key"))?;
            // Forks, void records and unchecked ones carry nothing.
            if let Some(r) = self.get(&id)?
                && !self.is_withdrawn(&r)?
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn lookup_normal(&self, kind: Kind, value: &str, include_retracted: bool) -> Result<Vec<Hit>, StoreError> {
        let mut ids = Vec::new();
        for item in self.scan_prefix(&keys::value_prefix(kind, value), false) {
            let (k, _) = item?;
            ids.push(keys::trailing_id(&k).ok_or_else(|| corrupt("value key"))?);
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits = self.hits(ids.into_iter().map(Ok), include_retracted, usize::MAX, |_| true)?;
        // Agencies that said the same thing, counted once each across all hits.
        let live = hits.iter().filter(|h| h.retracted.is_none());
        let agencies: BTreeSet<AgencyKey> =
            live.flat_map(|h| std::iter::once(h.author).chain(h.sighted_by.iter().copied())).collect();
        for h in &mut hits {
            h.agencies = agencies.len() as u32;
        }
        Ok(hits)
    }

    /// Searches with the most selective index available, then filters.
    pub fn search(&self, q: &Query, ctx: &Context) -> Result<Result<Vec<Hit>, NormalizeError>, StoreError> {
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        let include_retracted = q.include_retracted || q.family == Some(Family::Retraction);
        if let (Some(kind), Some(raw)) = (q.kind, &q.value) {
            let hits = match self.lookup(kind, raw, ctx, include_retracted)? {
                Ok(h) => h,
                Err(e) => return Ok(Err(e)),
            };
            return Ok(Ok(hits.into_iter().filter(|h| q.matches(h)).take(limit).collect()));
        }
        let (since, until) = (q.since_ms.unwrap_or(0), q.until_ms.unwrap_or(u64::MAX));
        type Entries<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + 'a>;
        let entries: Entries<'_> = if let Some(t) = &q.typology {
            self.scan_prefix(&keys::cat(keys::TYPOLOGY, &[&t.0]), true)
        } else if let Some(a) = q.author {
            // An author's records are its logs, newest first.
            let logs: Vec<Channel> =
                self.heads(None)?.into_iter().filter(|h| h.author == a).map(|h| h.channel).collect();
            let scans = logs.into_iter().map(move |c| self.scan_prefix(&keys::log_of(&c, &a), true));
            Box::new(scans.flatten().map(|item| item.map(|(_, id)| (id.clone(), id))))
        } else if let Some(kind) = q.kind
            && q.family.is_none_or(|f| f == Family::Indicator || !f.is_knowledge())
        {
            // All values of one kind, in value order.
            self.scan_prefix(&keys::cat(keys::VALUE, &[&[keys::kind_byte(kind)]]), false)
        } else if q.text.is_some() && q.family.is_none() && q.kind.is_none() {
            // Text searches look at typologies and techniques first: both listings.
            self.scan_prefix(&[keys::KIND], true)
        } else if let Some(tag) = q.listing() {
            let lo = keys::listing(tag, since, &RecordId([0; 32]));
            let hi = keys::listing(tag, until, &RecordId([0xff; 32]));
            self.scan((Bound::Included(lo), Bound::Included(hi)), true)
        } else {
            // Newest received first; filters apply as hits are built. An
            // `A` value holds a whole batch of ids.
            Box::new(self.scan_prefix(&[keys::ADDED], true).flat_map(|item| {
                let ids = match item {
                    Ok((_, ids)) => ids.chunks(32).rev().map(|id| Ok((id.to_vec(), Vec::new()))).collect(),
                    Err(e) => vec![Err(e)],
                };
                ids.into_iter()
            }))
        };
        let ids = entries.map(|item| {
            let (k, _) = item?;
            keys::trailing_id(&k).ok_or_else(|| corrupt("index key"))
        });
        self.hits(ids, include_retracted, limit, |h| q.matches(h)).map(Ok)
    }

    /// The current view of each distinct root among `ids`, in order.
    fn hits(
        &self,
        ids: impl IntoIterator<Item = Result<RecordId, StoreError>>,
        include_retracted: bool,
        limit: usize,
        keep: impl Fn(&Hit) -> bool,
    ) -> Result<Vec<Hit>, StoreError> {
        let trust = self.trust();
        let mut seen = BTreeSet::new();
        let mut hits = Vec::new();
        for id in ids {
            if hits.len() >= limit {
                break;
            }
            let id = id?;
            let Some(hit) = self.view(&id, trust.as_deref())? else {
                continue;
            };
            if !seen.insert(hit.id) || (hit.retracted.is_some() && !include_retracted) || !keep(&hit) {
                continue;
            }
            hits.push(hit);
        }
        Ok(hits)
    }

    /// The current view of the knowledge record `id` belongs to.
    pub fn view(&self, id: &RecordId, trust: Option<&TrustList>) -> Result<Option<Hit>, StoreError> {
        let Some(first) = self.get(id)? else {
            return Ok(None);
        };
        let root_id = match &first.record.body {
            Body::Revision(r) => r.supersedes,
            Body::Indicator(_)
            | Body::Typology(_)
            | Body::Technique(_)
            | Body::Referral(_)
            | Body::Request(_)
            | Body::Answer(_) => *id,
            Body::Sighting(_) | Body::Retraction(_) | Body::Checkpoint(_) | Body::Erasure(_) | Body::Unknown(_) => {
                return Ok(None);
            }
        };
        let root = if root_id == *id { Some(first.clone()) } else { self.get(&root_id)? };
        // Records a key signed outside its window (after a rotation or a
        // compromise cutoff) are withdrawn from every view and export.
        let membership = self.membership();
        // So are forks kept only as proof of equivocation.
        for r in [Some(&first), root.as_ref()].into_iter().flatten() {
            if self.is_withdrawn(r)? {
                return Ok(None);
            }
        }
        let author = root.as_ref().map_or(first.record.header.author, |r| r.record.header.author);
        let versions = self.versions_of(&root_id, root.clone(), &author)?;
        let Some(latest) = versions.last() else {
            return Ok(None);
        };
        let Some(content) = latest.record.body.content() else {
            return Ok(None);
        };
        // Past its review date (the latest version's: an extension keeps it)
        // it is in no view on any node, even before the sweep erases it.
        if self.is_past_review(&latest.record) {
            return Ok(None);
        }
        let original = versions.first().unwrap_or(latest);

        let mut retracted = None;
        let mut sighted = BTreeSet::new();
        let mut disputed = BTreeSet::new();
        let mut referred_too = BTreeSet::new();
        let mut still_online = Vec::new();
        // The latest evidence that the value is in use: the latest version,
        // corroborating sightings and still-online reports, by any agency.
        let mut evidence_ms = latest.record.header.created_ms;
        for v in &versions {
            for (ref_type, r) in self.references(&v.id)? {
                let by = r.record.header.author;
                // A sighting or retraction counts only on its target's
                // channel: elsewhere it would split the record's provenance
                // between audiences. (Stored either way: whether it counts
                // cannot depend on which arrived first.)
                if r.record.header.channel != v.record.header.channel {
                    continue;
                }
                match (&r.record.body, ref_type) {
                    (Body::Retraction(x), keys::REF_RETRACTION) if same_agency(membership.as_deref(), &by, &author) => {
                        retracted.get_or_insert_with(|| x.reason.clone());
                    }
                    (Body::Sighting(s), keys::REF_SIGHTING) if !same_agency(membership.as_deref(), &by, &author) => {
                        // Evidence counts from when the sighting was signed at
                        // the latest: a `seen_ms` in the future would keep a
                        // value alive for ever.
                        if matches!(s.verdict, Verdict::Corroborates | Verdict::StillOnline) {
                            let signed = r.record.header.created_ms;
                            evidence_ms = evidence_ms.max(s.seen_ms.unwrap_or(signed).min(signed));
                        }
                        match s.verdict {
                            Verdict::Corroborates => sighted.insert(by),
                            Verdict::FalsePositive => disputed.insert(by),
                            Verdict::ReferredToo => referred_too.insert(by),
                            Verdict::StillOnline => {
                                still_online.push((by, s.seen_ms.unwrap_or(r.record.header.created_ms)));
                                true
                            }
                        };
                    }
                    _ => {}
                }
            }
        }
        let member = trust.and_then(|t| t.member_by_any_key(&author));
        let agencies = 1 + sighted.len() as u32;
        let evidence = match &content {
            Content::Indicator(i) => {
                // A platform's confirmed removal or suspension (a referral
                // naming the value) makes it decay faster from then on.
                // Only referrals on the indicator's own channel count (every
                // node that holds the indicator holds them), from when the
                // status was signed: every node computes the same.
                let removed_ms = self
                    .referrals_naming(i.kind, &i.value, trust)?
                    .iter()
                    .filter(|h| h.channel == latest.record.header.channel)
                    .filter_map(|h| match &h.content {
                        Content::Referral(r)
                            if matches!(r.status, ReferralStatus::Removed | ReferralStatus::Suspended) =>
                        {
                            Some(h.updated_ms)
                        }
                        _ => None,
                    })
                    .min();
                Some(kawan_protocol::Evidence {
                    kind: i.kind,
                    confidence: i.confidence,
                    latest_ms: evidence_ms,
                    removed_ms,
                    retracted: retracted.is_some(),
                })
            }
            _ => None,
        };
        let decays_at_ms = evidence.as_ref().and_then(|e| trust.map(|t| t.decay()).unwrap_or_default().decays_at_ms(e));
        Ok(Some(Hit {
            id: root_id,
            version: latest.id,
            content,
            author,
            author_name: member.map(|m| m.name.clone()),
            author_revoked: trust.is_some() && !member.is_some_and(|m| m.is_active(self.now_ms())),
            author_equivocating: self.is_equivocator(&author)?,
            channel: latest.record.header.channel.clone(),
            created_ms: original.record.header.created_ms,
            updated_ms: latest.record.header.created_ms,
            added_ms: original.added_ms,
            revisions: versions.len().saturating_sub(1) as u32,
            retracted,
            sighted_by: sighted.into_iter().collect(),
            false_positive_by: disputed.into_iter().collect(),
            referred_too_by: referred_too.into_iter().collect(),
            still_online,
            agencies,
            evidence,
            decays_at_ms,
        }))
    }

    /// Every version of a record by its author, oldest first: the original
    /// (if stored) and the revisions that supersede it.
    pub fn versions(&self, root_id: &RecordId) -> Result<Vec<StoredRecord>, StoreError> {
        let root = self.get(root_id)?;
        let Some(author) = root.as_ref().map(|r| r.record.header.author) else {
            return Ok(Vec::new());
        };
        self.versions_of(root_id, root, &author)
    }

    pub(super) fn versions_of(
        &self,
        root_id: &RecordId,
        root: Option<StoredRecord>,
        author: &AgencyKey,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let mut versions: Vec<StoredRecord> = root.into_iter().collect();
        let membership = self.membership();
        for (ref_type, r) in self.references(root_id)? {
            // Only the author's agency may revise (under its current or an
            // earlier key): a revision by anyone else is ignored even if it
            // got stored before its target arrived.
            if ref_type == keys::REF_REVISION && same_agency(membership.as_deref(), &r.record.header.author, author) {
                versions.push(r);
            }
        }
        let original = versions.first().map(|v| v.id);
        versions[usize::from(original == Some(*root_id))..]
            .sort_by_key(|v| (v.record.header.created_ms, v.record.header.seq));
        Ok(versions)
    }

    /// Records that refer to `target`, with the kind of reference.
    fn references(&self, target: &RecordId) -> Result<Vec<(u8, StoredRecord)>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&keys::cat(keys::REF, &[&target.0]), false) {
            let (k, _) = item?;
            let ref_type = *k.get(33).ok_or_else(|| corrupt("ref key"))?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("ref key"))?;
            if let Some(r) = self.get(&id)?
                && !self.is_withdrawn(&r)?
            {
                out.push((ref_type, r));
            }
        }
        Ok(out)
    }

    /// The answers to the request `request` (its original record), as they
    /// stand, oldest first. Each is its own record on its own channel: the
    /// caller decides who may see which.
    pub fn answers_to(&self, request: &RecordId, trust: Option<&TrustList>) -> Result<Vec<Hit>, StoreError> {
        let mut out = Vec::new();
        for (ref_type, r) in self.references(request)? {
            if ref_type == keys::REF_ANSWER
                && let Some(hit) = self.view(&r.id, trust)?
                && matches!(&hit.content, Content::Answer(a) if a.request == *request)
            {
                out.push(hit);
            }
        }
        out.sort_by_key(|h| h.created_ms);
        Ok(out)
    }

    /// Referrals naming `value` (normal form) as a subject, as they stand
    /// now, newest first: "already referred by Agency X on DATE".
    /// Stored records that carry the file `hash` (any version, any
    /// channel): who may fetch it is decided per record by the policy.
    pub fn naming_file(&self, hash: &FileHash) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.scan_prefix(&keys::attached_prefix(hash), false) {
            let (k, _) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("attached key"))?;
            if let Some(r) = self.get(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub fn referrals_naming(&self, kind: Kind, value: &str, trust: Option<&TrustList>) -> Result<Vec<Hit>, StoreError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for item in self.scan_prefix(&keys::referred_prefix(kind, value), false) {
            let (k, _) = item?;
            let id = keys::trailing_id(&k).ok_or_else(|| corrupt("referred key"))?;
            if let Some(hit) = self.view(&id, trust)?
                && seen.insert(hit.id)
                && hit.retracted.is_none()
                && matches!(&hit.content, Content::Referral(r) if r.subjects.iter().any(|s| s.kind == kind && s.value == value))
            {
                out.push(hit);
            }
        }
        out.sort_by_key(|h| std::cmp::Reverse(h.created_ms));
        Ok(out)
    }

    /// Records in the order this node received them, strictly after `after`,
    /// optionally only those of one channel. Returns the cursor to continue
    /// from (the last record examined, whether or not it matched `channel`).
    pub fn added_after(
        &self,
        after: Option<Cursor>,
        channel: Option<&Channel>,
        limit: usize,
    ) -> Result<(Vec<StoredRecord>, Option<Cursor>), StoreError> {
        let start = match after {
            Some(c) if c.batch == u64::MAX => keys::added(c.added_ms.saturating_add(1), 0),
            Some(c) => keys::added(c.added_ms, c.batch),
            None => keys::added(0, 0),
        };
        let mut out = Vec::new();
        let mut last = after;
        'batches: for item in
            self.scan((Bound::Included(start), Bound::Excluded(keys::added(u64::MAX, u64::MAX))), false)
        {
            let (k, ids) = item?;
            let added_ms = keys::u64_be(&k[1..]).ok_or_else(|| corrupt("added key"))?;
            let batch = keys::u64_be(&k[9..]).ok_or_else(|| corrupt("added key"))?;
            for (index, id) in ids.chunks(32).enumerate() {
                let here = Cursor { added_ms, batch, index: index as u64 };
                if after.is_some_and(|a| here <= a) {
                    continue;
                }
                if out.len() >= limit {
                    break 'batches;
                }
                last = Some(here);
                let id = RecordId(id.try_into().map_err(|_| corrupt("added value"))?);
                let Some(r) = self.get(&id)? else { continue };
                if channel.is_none_or(|c| *c == r.record.header.channel) {
                    out.push(r);
                }
            }
        }
        Ok((out, last))
    }
}

impl Query {
    /// The `K` listing that answers this query, if one does.
    fn listing(&self) -> Option<u8> {
        self.kind.is_none().then_some(self.family?).and_then(keys::listing_of)
    }

    fn matches(&self, h: &Hit) -> bool {
        let ind = match &h.content {
            Content::Indicator(i) => Some(i),
            _ => None,
        };
        let family_ok = self.family.is_none_or(|f| match f {
            Family::Indicator
            | Family::Typology
            | Family::Technique
            | Family::Referral
            | Family::Request
            | Family::Answer => h.content.family() == f,
            Family::Sighting => {
                !(h.sighted_by.is_empty()
                    && h.false_positive_by.is_empty()
                    && h.referred_too_by.is_empty()
                    && h.still_online.is_empty())
            }
            Family::Revision => h.revisions > 0,
            Family::Retraction => h.retracted.is_some(),
            Family::Checkpoint | Family::Erasure => false,
        });
        let text_ok = self.text.as_deref().is_none_or(|t| {
            let t = t.to_lowercase();
            let has = |s: &str| s.to_lowercase().contains(&t);
            match &h.content {
                Content::Typology(x) => has(&x.title) || has(&x.summary) || x.aliases.iter().any(|a| has(a)),
                Content::Technique(x) => has(&x.title) || has(&x.objective),
                Content::Indicator(i) => {
                    has(&i.value) || i.description.as_deref().is_some_and(has) || i.tags.iter().any(|a| has(a))
                }
                Content::Request(r) => {
                    has(&r.question) || r.platform.as_deref().is_some_and(has) || r.values.iter().any(|v| has(&v.value))
                }
                Content::Answer(a) => has(&a.text) || a.values.iter().any(|v| has(&v.value)),
                Content::Referral(r) => {
                    has(&r.platform)
                        || r.reference.as_deref().is_some_and(has)
                        || r.note.as_deref().is_some_and(has)
                        || r.subjects.iter().any(|s| has(&s.value))
                }
            }
        });
        family_ok
            && text_ok
            && self.kind.is_none_or(|k| ind.is_some_and(|i| i.kind == k))
            && self.typology.is_none_or(|t| ind.is_some_and(|i| i.typologies.contains(&t)))
            && self.author.is_none_or(|a| a == h.author)
            && self.since_ms.is_none_or(|s| h.created_ms >= s)
            && self.until_ms.is_none_or(|u| h.created_ms <= u)
            // (Retracted knowledge is `include_retracted`'s to show or hide.)
            && !self.decayed_at.is_some_and(|now| {
                h.retracted.is_none() && h.is_decayed(now) && !self.pinned.contains(&h.id)
            })
    }
}

/// Whether two keys are one agency's (without a trust list: the same key).
fn same_agency(trust: Option<&Membership>, a: &AgencyKey, b: &AgencyKey) -> bool {
    trust.map_or(a == b, |t| t.same_agency(a, b))
}
