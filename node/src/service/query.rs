//! Reading shared knowledge: one record, searches, bulk checks, an
//! indicator's page, the typology and technique library.

use std::sync::Arc;

use kawan_protocol::{AgencyKey, Content, Family, Kind, RecordId, TrustList};

use super::{Caller, Fault, Found, Service, ServiceError};
use crate::{
    policy::{Item, Onward},
    store::{BulkItem, Hit, Query, StoredRecord},
};

/// Most values one bulk check takes.
pub const MAX_LOOKUP_VALUES: usize = 200_000;

/// Values to check, from text as analysts bring it: one value per line
/// (`kind,value` forces a kind), or a CSV file whose header names a
/// `value` column (and optionally `kind`). Blank lines are skipped.
pub fn bulk_items(text: &str, default_kind: Option<Kind>) -> Result<Vec<crate::store::BulkItem>, ServiceError> {
    use crate::store::BulkItem;
    let text = text.trim_start_matches('\u{FEFF}');
    let header: Vec<String> =
        text.lines().next().unwrap_or("").split(',').map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).collect();
    if let Some(value_col) = header.iter().position(|c| c == "value") {
        let kind_col = header.iter().position(|c| c == "kind");
        let mut items = Vec::new();
        for (i, row) in csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes()).records().enumerate() {
            let row = row.map_err(|e| ServiceError::bad_request("invalid_csv", format!("CSV row {}: {e}", i + 2)))?;
            let Some(value) = row.get(value_col).map(str::trim).filter(|v| !v.is_empty()) else { continue };
            let kind = match kind_col.and_then(|k| row.get(k)).map(str::trim).filter(|k| !k.is_empty()) {
                Some(k) => Some(ServiceError::parse::<Kind>("kind", k)?),
                None => default_kind,
            };
            items.push(BulkItem { kind, value: value.to_string() });
        }
        return Ok(items);
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(',').and_then(|(k, v)| k.trim().parse::<Kind>().ok().map(|k| (k, v))) {
            Some((k, v)) => BulkItem { kind: Some(k), value: v.trim().to_string() },
            None => BulkItem { kind: default_kind, value: l.to_string() },
        })
        .collect())
}

/// A bulk check: counts over every value, and the answers.
#[derive(Debug)]
pub struct Lookup {
    pub values: usize,
    pub invalid: usize,
    pub with_hits: usize,
    /// Values with hits or errors; every value if asked for all.
    pub results: Vec<CheckedValue>,
}

/// The answer for one value of a bulk check.
#[derive(Debug)]
pub struct CheckedValue {
    /// Position in the request, from 0.
    pub index: usize,
    pub input: String,
    pub kind: Option<Kind>,
    /// The normal form the value was matched as.
    pub value: Option<String>,
    pub warnings: Vec<kawan_protocol::normalize::Warning>,
    /// Why the value could not be checked; the others are unaffected.
    pub error: Option<String>,
    pub hits: Vec<Found>,
}

impl CheckedValue {
    /// `hit`, `no hit` or `invalid`.
    pub fn status(&self) -> &'static str {
        match (&self.error, self.hits.is_empty()) {
            (Some(_), _) => "invalid",
            (None, true) => "no hit",
            (None, false) => "hit",
        }
    }
}

/// Everything an indicator's page shows.
#[derive(Debug)]
pub struct IndicatorPage {
    pub found: Found,
    /// Titles of the typologies it belongs to.
    pub typologies: Vec<String>,
    /// Who corroborated it, and who called it a false positive, by name.
    pub sighted_by: Vec<String>,
    pub false_positive_by: Vec<String>,
    /// Every version, oldest first.
    pub versions: Vec<StoredRecord>,
    /// Whether this agency wrote it (and so cannot sight it).
    pub ours: bool,
}

/// The typology and technique library.
#[derive(Debug)]
pub struct Library {
    pub typologies: Vec<Found>,
    pub techniques: Vec<Found>,
}

impl Service {
    /// One stored record exactly as signed, and the knowledge it belongs to.
    pub async fn record(
        self: &Arc<Self>,
        caller: Caller,
        id: &str,
    ) -> Result<(StoredRecord, Option<Found>), ServiceError> {
        let id: RecordId = ServiceError::parse("id", id)?;
        self.run(move |s| {
            let record = s.data.store.get(&id)?.ok_or_else(|| ServiceError::not_found(format!("no record {id}")))?;
            let trust = s.data.store.trust();
            if !s.shown(&caller, &record.record.header.channel, None) {
                return Err(ServiceError::not_found(format!("no record {id}")));
            }
            if let Some(reason) = s.withdrawn_reason(&record)? {
                return Err(ServiceError::not_found(format!("record {id} is withdrawn: {reason}")));
            }
            let current = s.data.store.view(&id, trust.as_deref())?;
            // A version of knowledge that is in no view (its latest version
            // is past review), or a record about such knowledge, is not
            // shown either: what expired is gone everywhere at once.
            let about = match &record.record.body {
                kawan_protocol::Body::Sighting(x) => Some(x.target),
                kawan_protocol::Body::Retraction(x) => Some(x.target),
                _ => None,
            };
            let hidden = match about {
                Some(target) => {
                    s.data.store.get(&target)?.is_some() && s.data.store.view(&target, trust.as_deref())?.is_none()
                }
                None => current.is_none() && record.record.body.content().is_some(),
            };
            if hidden {
                return Err(ServiceError::not_found(format!("record {id} is past its review date")));
            }
            s.audit_read(&caller, "read", &id.to_string())?;
            let victim = current.as_ref().is_some_and(|h| h.content.subject() == Some(kawan_protocol::Subject::Victim));
            s.consult_ids(&caller, "read", [(current.as_ref().map_or(id, |h| h.id).to_string(), victim)])?;
            Ok((record, s.visible(&caller, current.into_iter().collect(), trust.as_deref()).pop()))
        })
        .await
    }

    /// A search; newest first.
    pub async fn search(self: &Arc<Self>, caller: Caller, q: Query) -> Result<Vec<Found>, ServiceError> {
        if q.value.is_some() && q.kind.is_none() {
            return Err(ServiceError::bad_request("invalid_value", "value: give kind= with value="));
        }
        self.run(move |s| {
            let mut q = q;
            // Decayed values are left out unless asked for; pinned ones stay.
            if q.decayed_at.is_some() {
                q.decayed_at = Some(s.now_ms());
                q.pinned = s.data.pins.ids()?;
            }
            let hits = s
                .data
                .store
                .search(&q, &s.normalize_context())?
                .map_err(|e| ServiceError::invalid("invalid_value", e.to_string()))?;
            s.audit_read(&caller, "query", &format!("{q:?}"))?;
            let trust = s.data.store.trust();
            let found = s.visible(&caller, hits, trust.as_deref());
            s.consult(&caller, "search", found.iter().map(|f| &f.hit))?;
            Ok(found)
        })
        .await
    }

    /// Checks many raw values at once: each is normalised (its kind guessed
    /// if not given) and matched; a bad value fails only itself.
    pub async fn lookup(
        self: &Arc<Self>,
        caller: Caller,
        items: Vec<BulkItem>,
        include_retracted: bool,
        all: bool,
    ) -> Result<Lookup, ServiceError> {
        if items.len() > MAX_LOOKUP_VALUES {
            let message = format!("{} values; at most {MAX_LOOKUP_VALUES} per call", items.len());
            return Err(ServiceError::new(Fault::TooLarge, "too_many_values", message));
        }
        self.run(move |s| {
            let results = s.data.store.bulk_lookup(&items, &s.normalize_context(), include_retracted)?;
            let trust = s.data.store.trust();
            let mut checked: Vec<CheckedValue> = results
                .into_iter()
                .enumerate()
                .map(|(index, r)| CheckedValue {
                    index,
                    input: r.input,
                    kind: r.kind,
                    value: r.value,
                    warnings: r.warnings,
                    error: r.error,
                    hits: s.visible(&caller, r.hits, trust.as_deref()),
                })
                .collect();
            let values = checked.len();
            let invalid = checked.iter().filter(|r| r.error.is_some()).count();
            let with_hits = checked.iter().filter(|r| !r.hits.is_empty()).count();
            s.audit_read(&caller, "bulk_lookup", &format!("{values} values, {with_hits} with hits"))?;
            s.consult(&caller, "bulk_lookup", checked.iter().flat_map(|r| r.hits.iter().map(|f| &f.hit)))?;
            if !all {
                checked.retain(|r| r.error.is_some() || !r.hits.is_empty());
            }
            Ok(Lookup { values, invalid, with_hits, results: checked })
        })
        .await
    }

    /// An indicator with its sightings, typologies and history; `None` if
    /// there is no such knowledge.
    pub async fn indicator_page(
        self: &Arc<Self>,
        caller: Caller,
        id: RecordId,
    ) -> Result<Option<IndicatorPage>, ServiceError> {
        self.run(move |s| {
            let store = &s.data.store;
            let trust = store.trust();
            let Some(found) =
                s.visible(&caller, store.view(&id, trust.as_deref())?.into_iter().collect(), trust.as_deref()).pop()
            else {
                return Ok(None);
            };
            s.audit_read(&caller, "read", &id.to_string())?;
            s.consult(&caller, "read", [&found.hit])?;
            let mut typologies = Vec::new();
            if let Content::Indicator(i) = &found.hit.content {
                for t in &i.typologies {
                    if let Some(Content::Typology(ty)) = store.view(t, trust.as_deref())?.map(|h| h.content) {
                        typologies.push(ty.title);
                    }
                }
            }
            let names = |keys: &[AgencyKey]| keys.iter().map(|k| s.author_name(k, trust.as_deref())).collect();
            Ok(Some(IndicatorPage {
                sighted_by: names(&found.hit.sighted_by),
                false_positive_by: names(&found.hit.false_positive_by),
                versions: store.versions(&found.hit.id)?,
                ours: found.hit.author == s.key.public(),
                typologies,
                found,
            }))
        })
        .await
    }

    /// Typologies and techniques, optionally those whose text matches.
    pub async fn library(self: &Arc<Self>, caller: Caller, text: Option<String>) -> Result<Library, ServiceError> {
        self.run(move |s| {
            let trust = s.data.store.trust();
            let find = |family| -> Result<Vec<Found>, ServiceError> {
                let query = Query { family: Some(family), text: text.clone(), limit: 200, ..Default::default() };
                let hits = s.data.store.search(&query, &s.normalize_context())?.unwrap_or_default();
                Ok(s.visible(&caller, hits, trust.as_deref()))
            };
            let library = Library { typologies: find(Family::Typology)?, techniques: find(Family::Technique)? };
            s.audit_read(&caller, "query", "library")?;
            s.consult(&caller, "library", library.typologies.iter().chain(&library.techniques).map(|f| &f.hit))?;
            Ok(library)
        })
        .await
    }

    /// Whether the caller may see a record of `channel`: the policy's
    /// answer for the caller's path.
    pub(super) fn shown(
        &self,
        caller: &Caller,
        channel: &kawan_protocol::Channel,
        tlp: Option<kawan_protocol::Tlp>,
    ) -> bool {
        // Readers on this node are inside the network: H2 does not apply
        // (the export paths decide `onward` themselves).
        self.allows(Item::Record { channel, tlp, onward: Onward::Free }, caller.recipient(), caller.via)
    }

    /// The hits the caller may see, as shown, with their cases if the
    /// caller may see cases.
    pub(super) fn visible(&self, caller: &Caller, hits: Vec<Hit>, trust: Option<&TrustList>) -> Vec<Found> {
        let with_cases = self.allows(Item::Case, caller.recipient(), caller.via);
        hits.into_iter()
            .filter(|h| self.shown(caller, &h.channel, Some(h.content.tlp())))
            .map(|h| self.found(h, trust, with_cases))
            .collect()
    }
}
