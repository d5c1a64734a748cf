//! Exports: the MISP feed, served live so a MISP instance can pull it by URL
//! (with the token in an `Authorization` header), and written to files by
//! `kawan export misp-feed`.

use std::{collections::HashSet, sync::Arc};

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};

use super::{ApiError, AppState, Caller, records::blocking};
use crate::{interop::misp::Feed, store::Hit};

impl AppState {
    /// Every current piece of knowledge this node may export, once each.
    pub fn exportable_hits(&self) -> Result<Vec<Hit>, ApiError> {
        let store = &self.storage.store;
        let trust = store.trust();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (records, next) = store.added_after(after, None, 1000).map_err(ApiError::internal)?;
            for r in &records {
                if r.record.body.content().is_none() {
                    continue;
                }
                if let Some(h) = store.view(&r.id, trust.as_deref()).map_err(ApiError::internal)?
                    && h.content.tlp().exportable()
                    && seen.insert(h.id)
                {
                    out.push(h);
                }
            }
            if records.len() < 1000 {
                return Ok(out);
            }
            after = next;
        }
    }

    fn misp_feed(&self) -> Result<Feed, ApiError> {
        let hits = self.exportable_hits()?;
        let trust = self.storage.store.trust();
        Ok(Feed::build(&hits, |key| {
            trust.as_ref().and_then(|t| t.member_by_key(key).map(|m| m.name.clone())).unwrap_or_else(|| {
                if *key == self.key.public() { self.config.agency.name.clone() } else { key.to_string() }
            })
        }))
    }
}

#[utoipa::path(get, path = "/api/v1/export/misp/{file}", tag = "export",
    params(("file" = String, Path, description = "manifest.json, hashes.csv or <event uuid>.json")),
    responses((status = 200, description = "a file of the MISP feed"), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn misp_feed(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let feed = state.misp_feed()?;
        state.audit_read(&caller, "export.misp", &file)?;
        let json =
            |v: &serde_json::Value| ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response();
        match file.as_str() {
            "manifest.json" => Ok(json(&feed.manifest())),
            "hashes.csv" => Ok(([(header::CONTENT_TYPE, "text/csv")], feed.hashes()).into_response()),
            other => {
                let uuid = other.strip_suffix(".json").unwrap_or(other);
                feed.events
                    .get(uuid)
                    .map(json)
                    .ok_or_else(|| ApiError::not_found(format!("no event {uuid} in the feed")))
            }
        }
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/export/csv", tag = "export",
    responses((status = 200, description = "kind,value,tlp,role,subject,confidence,author,first_seen,last_seen,id per current indicator")),
    security(("bearer" = [])))]
pub async fn csv(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Response, ApiError> {
    blocking(move || {
        let hits = state.exportable_hits()?;
        let trust = state.storage.store.trust();
        let mut rows = Vec::new();
        for h in &hits {
            let kawan_protocol::Content::Indicator(i) = &h.content else { continue };
            if h.retracted.is_some() {
                continue;
            }
            let author = trust
                .as_ref()
                .and_then(|t| t.member_by_key(&h.author).map(|m| m.name.clone()))
                .unwrap_or_else(|| h.author.to_string());
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let role = serde_json::to_value(i.role).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            let subject =
                serde_json::to_value(i.subject).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            rows.push(vec![
                i.kind.to_string(),
                i.value.clone(),
                h.content.tlp().as_str().to_string(),
                role,
                subject,
                i.confidence.to_string(),
                author,
                opt(i.first_seen),
                opt(i.last_seen),
                h.id.to_string(),
            ]);
        }
        state.audit_read(&caller, "export.csv", &format!("{} indicators", rows.len()))?;
        let header =
            ["kind", "value", "tlp", "role", "subject", "confidence", "author", "first_seen", "last_seen", "id"];
        let out = crate::interop::csv::document(&header, rows);
        Ok(([(header::CONTENT_TYPE, "text/csv")], out).into_response())
    })
    .await
}
