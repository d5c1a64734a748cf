//! Publishing, reading, searching and bulk-checking shared records.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
};
use kawan_protocol::{
    Basis, Body, Content, Country, GroupId, Indicator, Kind, RecordId, Retraction, Revision, Role as IndicatorRole,
    Sighting, Subject, Technique, Tlp, Typology, normalize,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    ApiError, ApiJson, AppState, Caller,
    views::{HitView, LookupResult, RecordView},
};
use crate::store::{BulkItem, ContentType, Hit, PublishError};

/// A new indicator. The value may be written any way an analyst pastes it;
/// it is normalised before signing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishIndicator {
    /// phone, email, url, domain, ip, telegram_handle, line_id, wechat_id,
    /// social_profile, tron_address, evm_address, btc_address, bank_account,
    /// company_name, app_id, image_hash
    pub kind: String,
    pub value: String,
    /// recruiter_contact, job_ad, scam_platform, payment, laundering, infrastructure
    #[schema(value_type = String)]
    pub role: IndicatorRole,
    /// suspect, victim or unknown (default)
    #[schema(value_type = Option<String>)]
    pub subject: Option<Subject>,
    /// 0-100 (default 50)
    pub confidence: Option<u8>,
    /// fact or assessment (default)
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    /// clear, green, amber, amber+strict (red stays local: use a case)
    pub tlp: String,
    /// The sharing group, required for AMBER.
    pub group: Option<String>,
    pub platform: Option<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    /// Ids of typology records this indicator belongs to.
    #[serde(default)]
    pub typologies: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub first_seen: Option<u64>,
    pub last_seen: Option<u64>,
    pub valid_until: Option<u64>,
}

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

/// What publishing produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub id: String,
    pub channel: String,
    pub seq: u64,
    /// The normalised value, for indicators.
    pub value: Option<String>,
    pub warnings: Vec<String>,
}

fn publish_error(e: PublishError) -> ApiError {
    use PublishError as P;
    match e {
        P::Invalid(e) => ApiError::unprocessable("invalid_record", e.to_string()),
        P::Red => ApiError::unprocessable("tlp_red", e.to_string()),
        P::NeedsGroup(_) | P::NoGroupAllowed(_) => ApiError::unprocessable("wrong_channel", e.to_string()),
        P::UnknownTarget(_) => ApiError::not_found(e.to_string()),
        P::NotOwnTarget(_) => ApiError::new(StatusCode::FORBIDDEN, "not_author", e.to_string()),
        P::NotInGroup(_) => ApiError::new(StatusCode::FORBIDDEN, "not_in_group", e.to_string()),
        P::NotContent(_) => ApiError::unprocessable("not_content", e.to_string()),
        P::Ingest(e) => ApiError::internal(e),
        P::Store(e) => ApiError::internal(e),
    }
}

fn parse<T: std::str::FromStr>(field: &'static str, s: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| {
        ApiError::bad_request("invalid_value", format!("{field}: {e}"))
            .with_details(serde_json::json!({"field": field}))
    })
}

fn group(g: &Option<String>) -> Result<Option<GroupId>, ApiError> {
    GroupId::from_field(g.as_deref().unwrap_or("")).map_err(|e| {
        ApiError::bad_request("invalid_value", format!("group: {e}"))
            .with_details(serde_json::json!({"field": "group"}))
    })
}

impl AppState {
    pub fn publish(&self, caller: &Caller, body: Body, group: Option<GroupId>) -> Result<Published, ApiError> {
        let v = self.storage.store.publish(&self.key, &self.config.agency.network, body, group).map_err(|e| {
            self.metrics.publish_failed();
            publish_error(e)
        })?;
        self.metrics.published(&v.record.body, &v.record.header.channel);
        if let Some(net) = self.net.get() {
            net.send(crate::net::Command::Announce(Box::new(v.clone())));
        }
        self.audit(caller, "publish", &format!("{} {}", v.record.body.type_name(), v.id))?;
        let value = match &v.record.body {
            Body::Indicator(i) => Some(i.value.clone()),
            _ => None,
        };
        Ok(Published {
            id: v.id.to_string(),
            channel: v.record.header.channel.to_string(),
            seq: v.record.header.seq,
            value,
            warnings: vec![],
        })
    }

    /// Publishes many bodies in one durable write (TAXII POST); one audit
    /// entry for the lot, results per body.
    pub fn publish_many(
        &self,
        caller: &Caller,
        items: Vec<(Body, Option<GroupId>)>,
    ) -> Result<Vec<Result<Published, ApiError>>, ApiError> {
        let results = self.storage.store.publish_batch(&self.key, &self.config.agency.network, items);
        let ok = results.iter().filter(|r| r.is_ok()).count();
        self.audit(caller, "publish", &format!("{ok} records in one batch"))?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                Ok(v) => {
                    self.metrics.published(&v.record.body, &v.record.header.channel);
                    if let Some(net) = self.net.get() {
                        net.send(crate::net::Command::Announce(Box::new(v.clone())));
                    }
                    Ok(Published {
                        id: v.id.to_string(),
                        channel: v.record.header.channel.to_string(),
                        seq: v.record.header.seq,
                        value: None,
                        warnings: vec![],
                    })
                }
                Err(e) => {
                    self.metrics.publish_failed();
                    Err(publish_error(e))
                }
            })
            .collect())
    }

    /// Normalises an indicator submitted through the API.
    fn indicator(&self, r: &PublishIndicator) -> Result<(Indicator, Vec<String>), ApiError> {
        let kind: Kind = parse("kind", &r.kind)?;
        let n = normalize(kind, &r.value, &self.normalize_context()).map_err(|e| {
            ApiError::unprocessable("invalid_value", e.to_string())
                .with_details(serde_json::json!({"field": "value", "kind": kind.as_str()}))
        })?;
        let ind = Indicator {
            kind,
            value: n.value,
            role: r.role,
            subject: r.subject.unwrap_or(Subject::Unknown),
            confidence: r.confidence.unwrap_or(50),
            basis: r.basis.unwrap_or(Basis::Assessment),
            tlp: parse::<Tlp>("tlp", &r.tlp)?,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            valid_until: r.valid_until,
            platform: r.platform.as_ref().map(|p| p.trim().to_lowercase()),
            countries: r.countries.iter().map(|c| parse::<Country>("countries", c)).collect::<Result<_, _>>()?,
            typologies: r.typologies.iter().map(|t| parse::<RecordId>("typologies", t)).collect::<Result<_, _>>()?,
            tags: r.tags.clone(),
            description: r.description.clone(),
        };
        Ok((ind, n.warnings.iter().map(ToString::to_string).collect()))
    }

    pub(super) fn cases_of(&self, h: &Hit) -> Vec<u64> {
        self.storage.cases.cases_for(&h.id).unwrap_or_default()
    }
}

#[utoipa::path(post, path = "/api/v1/indicators", tag = "publish", request_body = PublishIndicator,
    responses((status = 201, body = Published), (status = 400, body = super::ErrorBody), (status = 422, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_indicator(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<PublishIndicator>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let (ind, warnings) = state.indicator(&req)?;
    let group = group(&req.group)?;
    let mut out = blocking(move || state.publish(&caller, Body::Indicator(ind), group)).await?;
    out.warnings = warnings;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/typologies", tag = "publish", request_body = PublishKnowledge<Object>,
    responses((status = 201, body = Published), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_typology(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<PublishKnowledge<Typology>>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let group = group(&req.group)?;
    let out = blocking(move || state.publish(&caller, Body::Typology(req.content), group)).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/techniques", tag = "publish", request_body = PublishKnowledge<Object>,
    responses((status = 201, body = Published), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_technique(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<PublishKnowledge<Technique>>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let group = group(&req.group)?;
    let out = blocking(move || state.publish(&caller, Body::Technique(req.content), group)).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/sightings", tag = "publish",
    request_body(content = Object, description = "{target, verdict: corroborates|false_positive, seen_ms?, countries?, comment?}"),
    responses((status = 201, body = Published), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_sighting(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<Sighting>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let out = blocking(move || state.publish(&caller, Body::Sighting(req), None)).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/revisions", tag = "publish", request_body = PublishRevision,
    responses((status = 201, body = Published), (status = 403, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_revision(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<PublishRevision>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let supersedes: RecordId = parse("supersedes", &req.supersedes)?;
    let group = group(&req.group)?;
    let mut content = req.content;
    if let Content::Indicator(i) = &mut content {
        let n = normalize(i.kind, &i.value, &state.normalize_context())
            .map_err(|e| ApiError::unprocessable("invalid_value", e.to_string()))?;
        i.value = n.value;
    }
    let body = Body::Revision(Revision { supersedes, content });
    let out = blocking(move || state.publish(&caller, body, group)).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(post, path = "/api/v1/retractions", tag = "publish",
    request_body(content = Object, description = "{target, reason}"),
    responses((status = 201, body = Published), (status = 403, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn publish_retraction(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<Retraction>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    let out = blocking(move || state.publish(&caller, Body::Retraction(req), None)).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "read", params(("id" = String, Path, description = "record id (hex)")),
    responses((status = 200, body = RecordView), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn get_record(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RecordView>, ApiError> {
    let id: RecordId = parse("id", &id)?;
    blocking(move || {
        let r = state
            .storage
            .store
            .get(&id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("no record {id}")))?;
        let trust = state.storage.store.trust();
        let current = state.storage.store.view(&id, trust.as_deref()).map_err(ApiError::internal)?;
        state.audit_read(&caller, "read", &id.to_string())?;
        Ok(axum::Json(RecordView::new(&r, current.map(|h| HitView::new(&h, state.cases_of(&h))))))
    })
    .await
}

/// Search filters; all optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Indicator kind.
    pub kind: Option<String>,
    /// A value (normalised with `kind`, which it requires).
    pub value: Option<String>,
    /// indicator, typology or technique.
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
    /// At most this many hits (default 100, at most 1000).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub hits: Vec<HitView>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "read", params(SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<axum::Json<SearchResult>, ApiError> {
    let q = crate::store::Query {
        kind: p.kind.as_deref().map(|k| parse::<Kind>("kind", k)).transpose()?,
        value: p.value.clone(),
        content: match p.r#type.as_deref() {
            None => None,
            Some("indicator") => Some(ContentType::Indicator),
            Some("typology") => Some(ContentType::Typology),
            Some("technique") => Some(ContentType::Technique),
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_value",
                    format!("type: {other:?} is not indicator, typology or technique"),
                ));
            }
        },
        typology: p.typology.as_deref().map(|t| parse::<RecordId>("typology", t)).transpose()?,
        author: p.author.as_deref().map(|a| parse("author", a)).transpose()?,
        since_ms: p.since,
        until_ms: p.until,
        text: p.text.clone(),
        include_retracted: p.include_retracted.unwrap_or(false),
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
    };
    if q.value.is_some() && q.kind.is_none() {
        return Err(ApiError::bad_request("invalid_value", "value: give kind= with value="));
    }
    blocking(move || {
        let ctx = state.normalize_context();
        let hits = state
            .storage
            .store
            .search(&q, &ctx)
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::unprocessable("invalid_value", e.to_string()))?;
        state.audit_read(&caller, "query", &format!("{q:?}"))?;
        Ok(axum::Json(SearchResult { hits: hits.iter().map(|h| HitView::new(h, state.cases_of(h))).collect() }))
    })
    .await
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

/// Most values one bulk lookup takes.
pub const MAX_LOOKUP_VALUES: usize = 200_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// Kind of every value of a text/plain body (guessed per value if absent).
    pub kind: Option<String>,
    /// List every value in `results`, not only those with hits or errors.
    pub all: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/lookup", tag = "read", params(LookupParams),
    request_body(content = LookupRequest, description = "JSON, or text/plain with one value per line"),
    responses((status = 200, body = LookupResponse), (status = 400, body = super::ErrorBody), (status = 413, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn lookup(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<LookupParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<LookupResponse>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let default_kind = params.kind.as_deref().map(|k| parse::<Kind>("kind", k)).transpose()?;
    let all = params.all.unwrap_or(false);
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
                    kind: kind.as_deref().map(|k| parse::<Kind>("kind", k)).transpose()?.or(default_kind),
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
    if items.len() > MAX_LOOKUP_VALUES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_values",
            format!("{} values; at most {MAX_LOOKUP_VALUES} per call", items.len()),
        ));
    }
    blocking(move || {
        let results = state
            .storage
            .store
            .bulk_lookup(&items, &state.normalize_context(), include_retracted)
            .map_err(ApiError::internal)?;
        let invalid = results.iter().filter(|r| r.error.is_some()).count();
        let with_hits = results.iter().filter(|r| !r.hits.is_empty()).count();
        let out: Vec<LookupResult> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| all || r.error.is_some() || !r.hits.is_empty())
            .map(|(i, r)| LookupResult::new(i, r, |h| state.cases_of(h)))
            .collect();
        state.audit_read(&caller, "bulk_lookup", &format!("{} values, {with_hits} with hits", results.len()))?;
        Ok(axum::Json(LookupResponse { values: results.len(), invalid, with_hits, results: out }))
    })
    .await
}

/// Runs store work off the async executor.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}
