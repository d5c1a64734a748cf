//! Publishing, reading, searching and bulk-checking shared records.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
};
use kawan_protocol::{Body, Content, Family, Kind, RecordId, Retraction, Sighting, Technique, Typology};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::{HitView, LookupResult, RecordView};
use crate::{
    http::{ApiError, ApiJson},
    service::{BulkItem, Caller, NewIndicator, Published, Service, ServiceError, group_field},
};

type Svc = State<Arc<Service>>;

/// A new typology or technique, and the group it goes to (for AMBER).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishKnowledge<T> {
    pub group: Option<String>,
    #[schema(value_type = Object)]
    pub content: T,
}

/// A new version of one of this agency's records.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRevision {
    /// Id of the original record.
    pub supersedes: String,
    pub group: Option<String>,
    /// `{"indicator": {...}}`, `{"typology": {...}}` or `{"technique": {...}}`.
    #[schema(value_type = Object)]
    pub content: Content,
}

#[utoipa::path(post, path = "/api/v1/indicators", tag = "publish", request_body = NewIndicator,
    responses((status = 201, body = Published), (status = 400, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_indicator(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<NewIndicator>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.publish_indicator(caller, req).await?)))
}

#[utoipa::path(post, path = "/api/v1/typologies", tag = "publish", request_body = PublishKnowledge<Object>,
    responses((status = 201, body = Published), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_typology(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<PublishKnowledge<Typology>>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let group = group_field(req.group.as_deref())?;
    Ok((StatusCode::CREATED, axum::Json(svc.publish(caller, Body::Typology(req.content), group).await?)))
}

#[utoipa::path(post, path = "/api/v1/techniques", tag = "publish", request_body = PublishKnowledge<Object>,
    responses((status = 201, body = Published), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_technique(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<PublishKnowledge<Technique>>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let group = group_field(req.group.as_deref())?;
    Ok((StatusCode::CREATED, axum::Json(svc.publish(caller, Body::Technique(req.content), group).await?)))
}

#[utoipa::path(post, path = "/api/v1/sightings", tag = "publish",
    request_body(content = Object, description = "{target, verdict: corroborates|false_positive|referred_too|still_online, seen_ms?, countries?, comment?}"),
    responses((status = 201, body = Published), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_sighting(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<Sighting>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.publish(caller, Body::Sighting(req), None).await?)))
}

#[utoipa::path(post, path = "/api/v1/revisions", tag = "publish", request_body = PublishRevision,
    responses((status = 201, body = Published), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_revision(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<PublishRevision>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let out = svc.publish_revision(caller, &req.supersedes, req.group.as_deref(), req.content).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/retractions", tag = "publish",
    request_body(content = Object, description = "{target, reason}"),
    responses((status = 201, body = Published), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_retraction(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<Retraction>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.publish(caller, Body::Retraction(req), None).await?)))
}

#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "read", params(("id" = String, Path, description = "record id (hex)")),
    responses((status = 200, body = RecordView), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn get_record(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RecordView>, ApiError> {
    let (record, current) = svc.record(caller, &id).await?;
    Ok(axum::Json(RecordView::new(&record, current.as_ref().map(HitView::new))))
}

/// Search filters; all optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Indicator kind.
    pub kind: Option<String>,
    /// A value (normalised with `kind`, which it requires).
    pub value: Option<String>,
    /// Record type: indicator, typology, technique or referral; or sighting,
    /// revision or retraction for the knowledge others sighted, its author
    /// revised, or its author retracted.
    pub r#type: Option<String>,
    /// Typology record id: indicators linked to it.
    pub typology: Option<String>,
    /// Author agency key (hex).
    pub author: Option<String>,
    /// Created at or after (Unix ms).
    pub since: Option<u64>,
    /// Created at or before (Unix ms).
    pub until: Option<u64>,
    /// Text in typology/technique titles and summaries, indicator descriptions and tags.
    pub text: Option<String>,
    pub include_retracted: Option<bool>,
    /// Include indicators whose confidence decayed below the network's
    /// floor (default: left out, unless pinned).
    pub include_decayed: Option<bool>,
    /// At most this many hits (default 100, at most 1000).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub hits: Vec<HitView>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "read", params(SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn search(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<axum::Json<SearchResult>, ApiError> {
    let q = crate::service::Query {
        kind: p.kind.as_deref().map(|k| ServiceError::parse::<Kind>("kind", k)).transpose()?,
        value: p.value.clone(),
        family: p.r#type.as_deref().map(|t| ServiceError::parse::<Family>("type", t)).transpose()?,
        typology: p.typology.as_deref().map(|t| ServiceError::parse::<RecordId>("typology", t)).transpose()?,
        author: p.author.as_deref().map(|a| ServiceError::parse("author", a)).transpose()?,
        since_ms: p.since,
        until_ms: p.until,
        text: p.text.clone(),
        include_retracted: p.include_retracted.unwrap_or(false),
        // The service fills in now and the pins.
        decayed_at: (!p.include_decayed.unwrap_or(false)).then_some(0),
        pinned: vec![],
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
    };
    let hits = svc.search(caller, q).await?;
    Ok(axum::Json(SearchResult { hits: hits.iter().map(HitView::new).collect() }))
}

/// One value to check; without a kind, the kind is guessed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LookupValue {
    Raw(String),
    Typed { kind: Option<String>, value: String },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub values: Vec<LookupValue>,
    #[serde(default)]
    pub include_retracted: bool,
}

/// The answer to a bulk lookup. `results` holds the values with hits or
/// errors (every value with `all=true`); the counts cover every value.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub values: usize,
    pub invalid: usize,
    pub with_hits: usize,
    pub results: Vec<LookupResult>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// Kind of every value of a text/plain body (guessed per value if absent).
    pub kind: Option<String>,
    /// List every value in `results`, not only those with hits or errors.
    pub all: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/lookup/file", tag = "read", params(LookupParams),
    request_body(content_type = "multipart/form-data", description = "a `file` field: text, one value per line (`kind,value` forces a kind), or CSV whose header names a `value` column (and optionally `kind`); up to 200,000 values"),
    responses((status = 200, body = LookupResponse), (status = 400, body = crate::http::ErrorBody), (status = 413, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn lookup_file(
    State(svc): Svc,
    caller: Caller,
    Query(params): Query<LookupParams>,
    mut form: axum::extract::Multipart,
) -> Result<axum::Json<LookupResponse>, ApiError> {
    let default_kind = params.kind.as_deref().map(|k| ServiceError::parse::<Kind>("kind", k)).transpose()?;
    let mut text = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request("invalid_body", format!("a malformed upload: {e}")))?
    {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
            let t = String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::bad_request("invalid_body", "the file is not UTF-8 text"))?;
            text = Some(t);
        }
    }
    let text = text.ok_or_else(|| ApiError::bad_request("invalid_body", "no `file` field in the upload"))?;
    let items = crate::service::bulk_items(&text, default_kind)?;
    let found = svc.lookup(caller, items, false, params.all.unwrap_or(false)).await?;
    Ok(axum::Json(LookupResponse {
        values: found.values,
        invalid: found.invalid,
        with_hits: found.with_hits,
        results: found.results.iter().map(LookupResult::new).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/lookup", tag = "read", params(LookupParams),
    request_body(content = LookupRequest, description = "JSON, or text/plain with one value per line"),
    responses((status = 200, body = LookupResponse), (status = 400, body = crate::http::ErrorBody), (status = 413, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn lookup(
    State(svc): Svc,
    caller: Caller,
    Query(params): Query<LookupParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<LookupResponse>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let default_kind = params.kind.as_deref().map(|k| ServiceError::parse::<Kind>("kind", k)).transpose()?;
    let (items, include_retracted) = if content_type.starts_with("text/plain") {
        let text =
            std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("invalid_body", "body is not UTF-8"))?;
        let items: Vec<BulkItem> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| BulkItem { kind: default_kind, value: l.to_string() })
            .collect();
        (items, false)
    } else if content_type.starts_with("application/json") {
        let req: LookupRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid lookup request: {e}")))?;
        let mut items = Vec::with_capacity(req.values.len());
        for v in req.values {
            items.push(match v {
                LookupValue::Raw(value) => BulkItem { kind: default_kind, value },
                LookupValue::Typed { kind, value } => BulkItem {
                    kind: kind.as_deref().map(|k| ServiceError::parse::<Kind>("kind", k)).transpose()?.or(default_kind),
                    value,
                },
            });
        }
        (items, req.include_retracted)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json or text/plain",
        ));
    };
    let found = svc.lookup(caller, items, include_retracted, params.all.unwrap_or(false)).await?;
    Ok(axum::Json(LookupResponse {
        values: found.values,
        invalid: found.invalid,
        with_hits: found.with_hits,
        results: found.results.iter().map(LookupResult::new).collect(),
    }))
}
