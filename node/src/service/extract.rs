//! Free text to indicators, and screening: the protocol crate's extractor
//! (`POST /api/v1/extract`, no consultation: it reads nothing shared) and
//! every value it finds checked at once against this node — the shared
//! records about it, the agency's watchlists and cases — with the text's
//! red flags and the phrases of the network's typologies
//! (`POST /api/v1/screen`, a consultation like any lookup).

use std::sync::Arc;

use kawan_protocol::{
    Content, Context, Country, Family,
    extract::{self, Extraction, Flagged, MAX_TEXT, PhraseSet},
};

use super::{Caller, Found, Service, ServiceError};
use crate::{
    local::{tokens::Role, watch::Entry},
    policy::Item,
    store::{BulkItem, Query},
};

/// What screening found in a text.
#[derive(Debug)]
pub struct Screening {
    /// Each value found, with what this node knows about it.
    pub values: Vec<Screened>,
    pub red_flags: Vec<Flagged>,
    /// Phrases of typologies (their aliases, lures and red flags) in the
    /// text; `flag` is the typology's id.
    pub typologies: Vec<TypologySignal>,
}

/// One extracted value and what this node knows about it.
#[derive(Debug)]
pub struct Screened {
    pub found: extract::Found,
    /// Shared knowledge about it (indicators, referrals, sightings…).
    pub hits: Vec<Found>,
    /// The caller's own watchlist entries for it (an operator's: all).
    pub watched: Vec<Entry>,
    /// This agency's cases that hold it (never shared).
    pub cases: Vec<u64>,
}

/// A typology phrase found in the text.
#[derive(Debug)]
pub struct TypologySignal {
    pub typology: String,
    pub title: String,
    pub found: Flagged,
}

impl Service {
    /// The indicators in `text`, national phone numbers read in `region`
    /// (default: the node's).
    pub async fn extract(
        self: &Arc<Self>,
        caller: Caller,
        text: String,
        region: Option<Country>,
    ) -> Result<Extraction, ServiceError> {
        caller.require(Role::Analyst)?;
        let ctx = self.extract_context(&text, region)?;
        self.run(move |_| Ok(extract::extract(&text, &ctx))).await
    }

    /// `text` extracted and every value checked against this node.
    pub async fn screen(
        self: &Arc<Self>,
        caller: Caller,
        text: String,
        region: Option<Country>,
    ) -> Result<Screening, ServiceError> {
        caller.require(Role::Analyst)?;
        self.require_purpose(&caller)?;
        let ctx = self.extract_context(&text, region)?;
        self.run(move |s| {
            let extraction = extract::extract(&text, &ctx);
            // The bulk lookup's cap holds here too.
            if extraction.indicators.len() > super::MAX_LOOKUP_VALUES {
                let message = format!(
                    "{} values in the text; at most {} are screened per call",
                    extraction.indicators.len(),
                    super::MAX_LOOKUP_VALUES
                );
                return Err(ServiceError::new(super::Fault::TooLarge, "too_many_values", message));
            }
            let items: Vec<BulkItem> =
                extraction.indicators.iter().map(|f| BulkItem { kind: Some(f.kind), value: f.value.clone() }).collect();
            let looked = s.data.store.bulk_lookup(&items, &ctx, false)?;
            let trust = s.data.store.trust();
            let local = s.allows(Item::Case, caller.recipient(), caller.via);
            let now = s.now_ms();
            let mut values = Vec::with_capacity(looked.len());
            for (found, r) in extraction.indicators.into_iter().zip(looked) {
                // Watch entries are their owners' (operators see all), as
                // the watchlist itself is.
                let own = |e: &Entry| caller.role == Role::Operator || e.owner == caller.name;
                let (watched, cases) = if local {
                    let watched =
                        s.data.watch.watching(found.kind, &found.value, now)?.into_iter().filter(own).collect();
                    (watched, s.cases_with(found.kind, &found.value, None)?)
                } else {
                    (Vec::new(), Vec::new())
                };
                values.push(Screened { hits: s.visible(&caller, r.hits, trust.as_deref()), watched, cases, found });
            }
            let typologies = s.typology_signals(&caller, &text)?;
            let known = values.iter().filter(|v| !v.hits.is_empty()).count();
            s.audit_read(&caller, "screen", &format!("{} values, {known} known", values.len()))?;
            // What the analyst was shown: the records about the values and
            // the typologies whose phrases the text holds.
            let records = values.iter().flat_map(|v| v.hits.iter().map(|f| &f.hit));
            let shown = records
                .map(|h| (h.id.to_string(), h.content.subject() == Some(kawan_protocol::Subject::Victim)))
                .chain(typologies.iter().map(|t| (t.typology.clone(), false)));
            let mut seen = std::collections::HashSet::new();
            s.consult_ids(&caller, "screen", shown.filter(|(id, _)| seen.insert(id.clone())))?;
            Ok(Screening { values, red_flags: extraction.red_flags, typologies })
        })
        .await
    }

    fn extract_context(&self, text: &str, region: Option<Country>) -> Result<Context, ServiceError> {
        if text.len() > MAX_TEXT {
            return Err(ServiceError::bad_request(
                "too_large",
                format!("text: {} bytes; at most {MAX_TEXT} per call", text.len()),
            ));
        }
        Ok(Context { default_region: region.or(self.config().normalize.default_region) })
    }

    /// The phrases of the typologies this caller may see, found in `text`.
    fn typology_signals(&self, caller: &Caller, text: &str) -> Result<Vec<TypologySignal>, ServiceError> {
        let trust = self.data.store.trust();
        let query = Query { family: Some(Family::Typology), limit: 10_000, ..Default::default() };
        let hits = self.data.store.search(&query, &self.normalize_context())?.unwrap_or_default();
        let typologies = self.visible(caller, hits, trust.as_deref());
        let mut titles = std::collections::HashMap::new();
        let mut phrases = Vec::new();
        for f in &typologies {
            let Content::Typology(t) = &f.hit.content else { continue };
            let id = f.hit.id.to_string();
            titles.insert(id.clone(), t.title.clone());
            // Short phrases ("job") would fire everywhere.
            for p in t.aliases.iter().chain(&t.lures).chain(&t.red_flags).filter(|p| p.chars().count() >= 6) {
                phrases.push((id.clone(), String::new(), p.clone()));
            }
        }
        if phrases.is_empty() {
            return Ok(Vec::new());
        }
        Ok(PhraseSet::new(phrases)
            .find(text)
            .into_iter()
            .map(|found| TypologySignal {
                title: titles.get(&found.flag).cloned().unwrap_or_default(),
                typology: found.flag.clone(),
                found,
            })
            .collect())
    }
}
