//! Exports into other tools: TAXII collections, the MISP feed, CSV and a
//! STIX bundle. Every object goes through the policy for its path first, so
//! AMBER+STRICT, RED and case data never leave through an export, nor a
//! record whose latest version carries H2 without a recorded permission
//! (`permissions`). Each export's audit entry says how many records were
//! withheld for their handling ("3 withheld (H2)").

use std::{collections::HashSet, sync::Arc};

use kawan_protocol::{Body, Channel, Content, RecordId, TrustList};
use serde_json::Value;

use super::{Caller, Service, ServiceError};
use crate::{
    interop::{misp::Feed, stix},
    policy::{Item, Onward, Path, Policy, Recipient},
    store::{Cursor, Hit, StoredRecord},
};

/// Records read per step when walking the receive-order feed.
const WALK: usize = 1000;

/// Where a TAXII page starts: inside the collection's preamble (an offset),
/// or in the records, after a cursor (none: from the first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaxiiStart {
    Preamble(usize),
    Records(Option<Cursor>),
}

/// `next` tokens: `p<offset>` inside the preamble, else a record cursor.
impl std::str::FromStr for TaxiiStart {
    type Err = String;
    fn from_str(s: &str) -> Result<TaxiiStart, String> {
        match s.strip_prefix('p') {
            Some(n) => n.parse().map(TaxiiStart::Preamble).map_err(|_| format!("invalid next token {s:?}")),
            None => s.parse().map(|c| TaxiiStart::Records(Some(c))),
        }
    }
}

/// One TAXII page: at most `limit` STIX objects with the receive time of
/// each (0 for the preamble), and where to continue.
#[derive(Debug)]
pub struct TaxiiPage {
    pub objects: Vec<(Value, u64)>,
    pub next: Option<String>,
    pub more: bool,
}

/// The policy's answer for exporting one piece of knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// It may go.
    Out,
    /// Only its handling (H2, no permission recorded) keeps it in.
    Withheld,
    /// Its label or channel keeps it in.
    Refused,
}

/// What a stored record contributes to a STIX export.
enum Stixed {
    Object(Value),
    /// The knowledge (root id) is withheld for its handling.
    Withheld(RecordId),
    Nothing,
}

/// The shared objects among exported STIX objects, for the consultation
/// log: their ids, and whether each is about a victim (Kawan's extension
/// carries the subject). The preamble (markings, identities, the extension's
/// definition) discloses no one.
fn consulted<'a>(objects: impl Iterator<Item = &'a Value> + 'a) -> impl Iterator<Item = (String, bool)> + 'a {
    objects
        .filter(|o| !matches!(o["type"].as_str(), Some("marking-definition" | "identity" | "extension-definition")))
        .map(|o| {
            let victim = o["extensions"][stix::EXTENSION_ID]["subject"] == "victim";
            (o["id"].as_str().unwrap_or_default().to_string(), victim)
        })
}

/// ", N withheld (H2)" for an export's audit entry; empty when none were.
pub(super) fn withheld_note(n: usize) -> String {
    if n == 0 { String::new() } else { format!(", {n} withheld (H2)") }
}

/// The TAXII side of the service: collections are channels.
pub struct Taxii;

impl Taxii {
    /// A collection's id: stable, derived from its channel.
    pub fn collection_id(channel: &Channel) -> String {
        stix::derived_id("x", channel.to_string().as_bytes()).trim_start_matches("x--").to_string()
    }
}

impl Service {
    /// TAXII collections: the channels the policy lets a reader list.
    pub fn collections(&self) -> Vec<Channel> {
        let membership = self.data.store.membership();
        Policy::new(membership.as_deref(), self.key.public(), self.now_ms()).readable_channels()
    }

    /// The channel of a collection id; not found if the caller may not list it.
    pub fn collection(&self, id: &str) -> Result<Channel, ServiceError> {
        self.collections()
            .into_iter()
            .find(|c| Taxii::collection_id(c) == id)
            .ok_or_else(|| ServiceError::not_found(format!("no collection {id}")))
    }

    /// One page of a collection, audited.
    pub async fn taxii_page(
        self: &Arc<Self>,
        caller: Caller,
        collection: String,
        start: TaxiiStart,
        limit: usize,
    ) -> Result<TaxiiPage, ServiceError> {
        let channel = self.collection(&collection)?;
        self.run(move |s| {
            let (page, withheld) = s.page(&channel, start, limit)?;
            let detail =
                format!("collection {collection}, {} objects{}", page.objects.len(), withheld_note(withheld.len()));
            s.audit_read(&caller, "export.taxii", &detail)?;
            s.consult_ids(&caller, "export.taxii", consulted(page.objects.iter().map(|(o, _)| o)))?;
            Ok(page)
        })
        .await
    }

    /// Every version of one object of a collection (TAXII's object and
    /// versions endpoints), oldest first; empty if there is none. Only the
    /// records whose derived id is the object's are converted and viewed:
    /// the others cost a hash each, not a STIX conversion.
    pub async fn taxii_object(
        self: &Arc<Self>,
        caller: Caller,
        collection: String,
        object: String,
    ) -> Result<Vec<Value>, ServiceError> {
        let channel = self.collection(&collection)?;
        self.run(move |s| {
            let (versions, withheld) = s.versions_of(&channel, &object)?;
            let detail = format!("collection {collection}, object {object}{}", withheld_note(withheld.len()));
            s.audit_read(&caller, "export.taxii", &detail)?;
            s.consult_ids(&caller, "export.taxii", consulted(versions.iter()))?;
            Ok(versions)
        })
        .await
    }

    /// The network collection as one STIX 2.1 bundle (`kawan export stix`).
    pub async fn stix_bundle(self: &Arc<Self>, caller: Caller) -> Result<Value, ServiceError> {
        self.run(move |s| {
            let caller = Caller { via: Path::Stix, ..caller };
            let (objects, withheld) = s.all_for(&Channel::Network, Path::Stix)?;
            let objects: Vec<Value> = objects.into_iter().map(|(o, _)| o).collect();
            let detail = format!("{} objects{}", objects.len(), withheld_note(withheld.len()));
            s.audit_read(&caller, "export.stix", &detail)?;
            s.consult_ids(&caller, "export.stix", consulted(objects.iter()))?;
            let id = Taxii::collection_id(&Channel::Network);
            let bundle_id = stix::derived_id("bundle", id.as_bytes());
            Ok(serde_json::json!({"type": "bundle", "id": bundle_id, "objects": objects}))
        })
        .await
    }

    /// The MISP feed of what may be exported.
    pub async fn misp_feed(self: &Arc<Self>, caller: Caller, file: String) -> Result<Feed, ServiceError> {
        self.run(move |s| {
            let trust = s.data.store.trust();
            let (hits, withheld) = s.exportable_hits(Path::MispFeed, trust.as_deref())?;
            let feed = Feed::build(&hits, |key| s.author_name(key, trust.as_deref()));
            let caller = Caller { via: Path::MispFeed, ..caller };
            let attributes =
                feed.events.values().map(|e| e["Event"]["Attribute"].as_array().map_or(0, Vec::len)).sum::<usize>();
            let withheld =
                withheld.iter().filter(|h| matches!(h.content, Content::Indicator(_)) && h.retracted.is_none()).count();
            s.audit_read(
                &caller,
                "export.misp",
                &format!("{file}: {attributes} indicators{}", withheld_note(withheld)),
            )?;
            s.consult(&caller, "export.misp", hits.iter().filter(|h| h.retracted.is_none()))?;
            Ok(feed)
        })
        .await
    }

    /// Current indicators that may be exported, as CSV rows under `header`.
    pub async fn csv_export(self: &Arc<Self>, caller: Caller) -> Result<String, ServiceError> {
        self.run(move |s| {
            let trust = s.data.store.trust();
            let (hits, withheld) = s.exportable_hits(Path::Csv, trust.as_deref())?;
            fn name(v: &impl serde::Serialize) -> String {
                serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
            }
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let rows: Vec<Vec<String>> = hits
                .iter()
                .filter(|h| h.retracted.is_none())
                .filter_map(|h| match &h.content {
                    Content::Indicator(i) => Some(vec![
                        i.kind.to_string(),
                        i.value.clone(),
                        i.tlp.as_str().to_string(),
                        name(&i.role),
                        name(&i.subject),
                        i.confidence.to_string(),
                        s.author_name(&h.author, trust.as_deref()),
                        opt(i.first_seen),
                        opt(i.last_seen),
                        h.id.to_string(),
                        crate::interop::stix::provenance_flags(h).join(" "),
                        i.handling.as_ref().map(|h| h.codes().join(" ")).unwrap_or_default(),
                        i.evaluation.map(|e| e.to_string()).unwrap_or_default(),
                    ]),
                    _ => None,
                })
                .collect();
            let caller = Caller { via: Path::Csv, ..caller };
            let withheld =
                withheld.iter().filter(|h| matches!(h.content, Content::Indicator(_)) && h.retracted.is_none()).count();
            s.audit_read(&caller, "export.csv", &format!("{} indicators{}", rows.len(), withheld_note(withheld)))?;
            s.consult(
                &caller,
                "export.csv",
                hits.iter().filter(|h| h.retracted.is_none() && matches!(h.content, Content::Indicator(_))),
            )?;
            let header = [
                "kind",
                "value",
                "tlp",
                "role",
                "subject",
                "confidence",
                "author",
                "first_seen",
                "last_seen",
                "id",
                "flags",
                "handling",
                "evaluation",
            ];
            Ok(crate::interop::csv::document(&header, rows))
        })
        .await
    }

    /// Every current piece of knowledge the policy lets out over `path`,
    /// once each, and those only their handling (H2) keeps in.
    fn exportable_hits(&self, path: Path, trust: Option<&TrustList>) -> Result<(Vec<Hit>, Vec<Hit>), ServiceError> {
        let mut seen = HashSet::new();
        let (mut out, mut withheld) = (Vec::new(), Vec::new());
        self.walk(None, |r| {
            if r.record.body.content().is_some()
                && let Some(h) = self.data.store.view(&r.id, trust)?
                && seen.insert(h.id)
            {
                match self.gate(&h, path)? {
                    Gate::Out => out.push(h),
                    Gate::Withheld => withheld.push(h),
                    Gate::Refused => {}
                }
            }
            Ok(())
        })?;
        Ok((out, withheld))
    }

    /// Whether `h` may be exported over `path`, and if not, whether only
    /// its handling keeps it in. One counted policy decision.
    pub(super) fn gate(&self, h: &Hit, path: Path) -> Result<Gate, ServiceError> {
        let onward = self.onward(h, path)?;
        let item = Item::Record { channel: &h.channel, tlp: Some(h.content.tlp()), onward };
        let membership = self.data.store.membership();
        let policy = Policy::new(membership.as_deref(), self.key.public(), self.now_ms());
        Ok(if policy.allows(item, Recipient::Client, path) {
            Gate::Out
        } else if onward == Onward::Withheld && policy.withheld_for_handling(item, Recipient::Client, path) {
            Gate::Withheld
        } else {
            Gate::Refused
        })
    }

    /// Calls `each` on every record of `channel` (all channels: `None`) in
    /// receive order: the one walk over the feed.
    fn walk(
        &self,
        channel: Option<&Channel>,
        mut each: impl FnMut(&StoredRecord) -> Result<(), ServiceError>,
    ) -> Result<(), ServiceError> {
        let mut after = None;
        loop {
            let (records, next) = self.data.store.added_after(after, channel, WALK)?;
            for r in &records {
                each(r)?;
            }
            if records.len() < WALK {
                return Ok(());
            }
            after = next;
        }
    }

    /// The versions of the STIX object `object` in `channel`, and the
    /// knowledge withheld for its handling.
    fn versions_of(&self, channel: &Channel, object: &str) -> Result<(Vec<Value>, HashSet<RecordId>), ServiceError> {
        let trust = self.data.store.trust();
        let preamble = self.preamble(trust.as_deref());
        let mut withheld = HashSet::new();
        if let Some(o) = preamble.into_iter().find(|o| o["id"] == object) {
            return Ok((vec![o], withheld));
        }
        let Some((_, uuid)) = object.split_once("--") else { return Ok((vec![], withheld)) };
        let wanted = format!("--{uuid}");
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.walk(Some(channel), |r| {
            // The record the object's id is derived from: a sighting's own,
            // else the knowledge's original.
            let root = match &r.record.body {
                Body::Revision(x) => x.supersedes,
                // A peer's retraction may name a revision: its original.
                Body::Retraction(x) => match self.data.store.get(&x.target)? {
                    Some(t) => match t.record.body {
                        Body::Revision(rev) => rev.supersedes,
                        _ => x.target,
                    },
                    None => x.target,
                },
                _ => r.id,
            };
            if stix::object_id("", &root) == wanted {
                match self.to_stix(r, trust.as_deref(), Path::Taxii)? {
                    Stixed::Object(o) if o["id"] == object && seen.insert(o["modified"].to_string()) => out.push(o),
                    Stixed::Withheld(id) => {
                        withheld.insert(id);
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
        Ok((out, withheld))
    }

    /// Every object of a collection as `path` exports it: the preamble,
    /// then each record's object; and the knowledge withheld for its
    /// handling.
    #[allow(clippy::type_complexity)]
    fn all_for(&self, channel: &Channel, path: Path) -> Result<(Vec<(Value, u64)>, HashSet<RecordId>), ServiceError> {
        let trust = self.data.store.trust();
        let mut out: Vec<(Value, u64)> = self.preamble(trust.as_deref()).into_iter().map(|o| (o, 0)).collect();
        let mut seen = HashSet::new();
        let mut withheld = HashSet::new();
        self.walk(Some(channel), |r| {
            match self.to_stix(r, trust.as_deref(), path)? {
                Stixed::Object(o) => {
                    if seen.insert((o["id"].to_string(), o["modified"].to_string())) {
                        out.push((o, r.added_ms));
                    }
                }
                Stixed::Withheld(id) => {
                    withheld.insert(id);
                }
                Stixed::Nothing => {}
            }
            Ok(())
        })?;
        Ok((out, withheld))
    }

    /// Every collection starts with the Kawan identity, extension
    /// definition, TLP markings and the agencies' identities.
    fn preamble(&self, trust: Option<&TrustList>) -> Vec<Value> {
        let mut preamble = stix::preamble();
        if let Some(list) = trust {
            preamble.extend(list.members.iter().map(|m| stix::identity(&m.key, &m.name, Some(m.country.as_str()))));
        }
        preamble
    }

    /// One page (the preamble's objects count against the limit like any),
    /// and the knowledge its records withheld for its handling.
    fn page(
        &self,
        channel: &Channel,
        start: TaxiiStart,
        limit: usize,
    ) -> Result<(TaxiiPage, HashSet<RecordId>), ServiceError> {
        let mut withheld = HashSet::new();
        let trust = self.data.store.trust();
        let mut objects = Vec::new();
        let (after, room) = match start {
            TaxiiStart::Records(after) => (after, limit),
            TaxiiStart::Preamble(offset) => {
                let preamble = self.preamble(trust.as_deref());
                let end = (offset + limit).min(preamble.len());
                objects.extend(preamble.into_iter().take(end).skip(offset).map(|o| (o, 0)));
                let room = limit - objects.len();
                if room == 0 {
                    return Ok((TaxiiPage { objects, next: Some(format!("p{end}")), more: true }, withheld));
                }
                (None, room)
            }
        };
        let (records, next) = self.data.store.added_after(after, Some(channel), room)?;
        let more = records.len() == room;
        let mut seen = HashSet::new();
        for r in records {
            match self.to_stix(&r, trust.as_deref(), Path::Taxii)? {
                Stixed::Object(o) => {
                    if seen.insert((o["id"].to_string(), o["modified"].to_string())) {
                        objects.push((o, r.added_ms));
                    }
                }
                Stixed::Withheld(id) => {
                    withheld.insert(id);
                }
                Stixed::Nothing => {}
            }
        }
        Ok((TaxiiPage { objects, next: next.map(|c| c.to_string()), more }, withheld))
    }

    /// The STIX object a stored record contributes, if the policy lets it
    /// out over `path` (a sighting goes out only with its target).
    fn to_stix(&self, r: &StoredRecord, trust: Option<&TrustList>, path: Path) -> Result<Stixed, ServiceError> {
        let store = &self.data.store;
        if store.is_withdrawn(r)? {
            return Ok(Stixed::Nothing);
        }
        let may = |h: &Hit, object: &dyn Fn() -> Value| -> Result<Stixed, ServiceError> {
            Ok(match self.gate(h, path)? {
                Gate::Out => Stixed::Object(object()),
                Gate::Withheld => Stixed::Withheld(h.id),
                Gate::Refused => Stixed::Nothing,
            })
        };
        let target = match &r.record.body {
            Body::Sighting(s) => {
                let Some(hit) = store.view(&s.target, trust)? else { return Ok(Stixed::Nothing) };
                let h = &r.record.header;
                return may(&hit, &|| stix::sighting(&r.id, &hit, &h.author, s.verdict, h.created_ms));
            }
            Body::Retraction(x) => x.target,
            _ => r.id,
        };
        // Content, revisions and retractions all export the knowledge as it
        // stands, once: at the record that made it so (the latest version,
        // or the retraction), so a full walk holds each object once, in its
        // final state, and an incremental walk receives each change when it
        // arrives.
        let Some(hit) = store.view(&target, trust)? else { return Ok(Stixed::Nothing) };
        let is_latest = match &r.record.body {
            Body::Retraction(_) => hit.retracted.is_some(),
            _ => hit.version == r.id && hit.retracted.is_none(),
        };
        if !is_latest {
            return Ok(Stixed::Nothing);
        }
        may(&hit, &|| stix::object(&hit))
    }
}
