//! Local cases, tokens, status and the audit log.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use kawan_protocol::RecordId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiJson, AppState, Caller, records::blocking};
use crate::{
    cases::{Case, CaseError, NewCase},
    tokens::{Role, TokenError, TokenInfo},
};

fn case_error(e: CaseError) -> ApiError {
    match e {
        CaseError::NotFound(_) => ApiError::not_found(e.to_string()),
        CaseError::Empty(_) => ApiError::unprocessable("invalid_value", e.to_string()),
        other => ApiError::internal(other),
    }
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body(content = Object, description = "{reference, title, notes?, details?}"),
    responses((status = 201, body = Object), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn create_case(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(new): ApiJson<NewCase>,
) -> Result<(StatusCode, axum::Json<Case>), ApiError> {
    blocking(move || {
        let case = state.storage.cases.create(new).map_err(case_error)?;
        state.audit(&caller, "case.create", &case.id.to_string())?;
        Ok((StatusCode::CREATED, axum::Json(case)))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list_cases(State(state): State<Arc<AppState>>, caller: Caller) -> Result<axum::Json<Vec<Case>>, ApiError> {
    blocking(move || {
        let cases = state.storage.cases.list().map_err(case_error)?;
        state.audit_read(&caller, "case.list", &format!("{} cases", cases.len()))?;
        Ok(axum::Json(cases))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = u64, Path)),
    responses((status = 200, body = Object), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<axum::Json<Case>, ApiError> {
    blocking(move || {
        let case = state.storage.cases.get(id).map_err(case_error)?;
        state.audit_read(&caller, "case.read", &id.to_string())?;
        Ok(axum::Json(case))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Id of a shared record.
    pub record: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/links", tag = "cases", params(("id" = u64, Path)), request_body = LinkRequest,
    responses((status = 200, body = Object), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn link_case(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<axum::Json<Case>, ApiError> {
    let record: RecordId =
        req.record.parse().map_err(|e| ApiError::bad_request("invalid_value", format!("record: {e}")))?;
    blocking(move || {
        if !state.storage.store.contains(&record).map_err(ApiError::internal)? {
            return Err(ApiError::not_found(format!("no record {record}")));
        }
        let case = state.storage.cases.link(id, &record).map_err(case_error)?;
        state.audit(&caller, "case.link", &format!("{id} {record}"))?;
        Ok(axum::Json(case))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// analyst, operator or coordinator
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub name: String,
    pub role: String,
    /// Shown once: only a hash is stored.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub name: String,
    pub role: String,
    pub created_ms: u64,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> Self {
        TokenView { name: t.name, role: t.role.as_str().to_string(), created_ms: t.created_ms }
    }
}

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Exists(_) => ApiError::new(StatusCode::CONFLICT, "exists", e.to_string()),
        TokenError::NotFound(_) => ApiError::not_found(e.to_string()),
        TokenError::BadName => ApiError::unprocessable("invalid_value", e.to_string()),
        other => ApiError::internal(other),
    }
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    caller.require(Role::Operator)?;
    let role: Role = req.role.parse().map_err(|e: String| ApiError::bad_request("invalid_value", e))?;
    blocking(move || {
        let (token, info) = state.storage.tokens.create(&req.name, role).map_err(token_error)?;
        state.audit(&caller, "token.create", &format!("{} {}", info.name, role.as_str()))?;
        Ok((StatusCode::CREATED, axum::Json(CreatedToken { name: info.name, role: role.as_str().into(), token })))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<TokenView>)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    caller.require(Role::Operator)?;
    let tokens = state.storage.tokens.list().map_err(token_error)?;
    Ok(axum::Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Operator)?;
    blocking(move || {
        state.storage.tokens.revoke(&name).map_err(token_error)?;
        state.audit(&caller, "token.revoke", &name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub version: &'static str,
    pub agency: String,
    pub country: String,
    /// The agency key (hex), which is also the node's libp2p identity.
    pub agency_key: String,
    pub peer_id: String,
    pub network: String,
    pub trust_version: Option<u64>,
    pub members: usize,
    pub records: u64,
    pub records_by_type: Vec<Count>,
    pub store_bytes: u64,
    pub uptime_s: u64,
    pub equivocating_authors: usize,
    /// BLAKE3 over every log head this node holds: two nodes with the same
    /// digest hold the same logs.
    pub heads_digest: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    pub r#type: String,
    pub channel: String,
    pub records: u64,
}

#[utoipa::path(get, path = "/api/v1/status", tag = "admin", responses((status = 200, body = Status)), security(("bearer" = [])))]
pub async fn status(State(state): State<Arc<AppState>>, _caller: Caller) -> Result<axum::Json<Status>, ApiError> {
    blocking(move || {
        let store = &state.storage.store;
        let counts = store.counts().map_err(ApiError::internal)?;
        let trust = store.trust();
        Ok(axum::Json(Status {
            version: env!("CARGO_PKG_VERSION"),
            agency: state.config.agency.name.clone(),
            country: state.config.agency.country.to_string(),
            agency_key: state.key.public().to_string(),
            peer_id: crate::identity::peer_id(&state.key.public()).map(|p| p.to_string()).unwrap_or_default(),
            network: state.config.agency.network.to_string(),
            trust_version: trust.as_ref().map(|t| t.version),
            members: trust.as_ref().map_or(0, |t| t.members.len()),
            records: counts.iter().map(|(_, _, n)| n).sum(),
            records_by_type: counts
                .into_iter()
                .map(|(t, channel, records)| Count { r#type: t, channel, records })
                .collect(),
            store_bytes: store.size_on_disk().map_err(ApiError::internal)?,
            uptime_s: state.started.elapsed().as_secs(),
            equivocating_authors: store.equivocators().map_err(ApiError::internal)?.len(),
            heads_digest: {
                let mut heads = store.heads(None).map_err(ApiError::internal)?;
                heads.sort();
                let mut h = blake3::Hasher::new();
                for head in heads {
                    h.update(head.channel.to_string().as_bytes());
                    h.update(&head.author.0);
                    h.update(&head.seq.to_be_bytes());
                }
                h.finalize().to_hex().to_string()
            },
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditReport {
    pub ok: bool,
    pub entries: u64,
    pub error: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "admin", responses((status = 200, body = AuditReport)), security(("bearer" = [])))]
pub async fn verify_audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<axum::Json<AuditReport>, ApiError> {
    caller.require(Role::Operator)?;
    blocking(move || {
        Ok(axum::Json(match state.storage.audit.verify() {
            Ok(entries) => AuditReport { ok: true, entries, error: None },
            Err(e) => AuditReport { ok: false, entries: 0, error: Some(e.to_string()) },
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginLink {
    /// Open once within five minutes to log a browser in as the caller.
    pub path: String,
}

#[utoipa::path(post, path = "/api/v1/login-links", tag = "admin",
    responses((status = 201, body = LoginLink)), security(("bearer" = [])))]
pub async fn login_link(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
) -> Result<(StatusCode, axum::Json<LoginLink>), ApiError> {
    // The caller is authenticated, so its token is there to read.
    let token = super::auth::presented_token(&headers).unwrap_or_default();
    let mut code = [0u8; 16];
    getrandom::fill(&mut code).map_err(ApiError::internal)?;
    let code = hex::encode(code);
    state.audit(&caller, "login_link.create", "")?;
    let mut links = state.login_links.lock().unwrap_or_else(|e| e.into_inner());
    let now = crate::clock::now_ms();
    // Unused links expire; keep the list bounded either way.
    links.retain(|(_, _, expires)| *expires > now);
    if links.len() >= 1000 {
        links.remove(0);
    }
    links.push((code.clone(), token, now + 5 * 60 * 1000));
    Ok((StatusCode::CREATED, axum::Json(LoginLink { path: format!("/login/once/{code}") })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseStats {
    /// `records` (shared records) or `local` (cases, tokens, audit).
    pub database: &'static str,
    pub keyspaces: Vec<KeyspaceStats>,
    /// Write-ahead journal not yet folded into tables.
    pub journal_bytes: u64,
    pub journal_files: u64,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyspaceStats {
    pub name: &'static str,
    /// Approximate: the engine counts without reading every key.
    pub keys: u64,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreStats {
    /// Records stored (exact, from the store's counters).
    pub records: u64,
    pub databases: Vec<DatabaseStats>,
}

fn store_stats(state: &AppState) -> Result<StoreStats, ApiError> {
    let db = |database, s: crate::store::EngineStats| DatabaseStats {
        database,
        keyspaces: s
            .spaces
            .into_iter()
            .map(|k| KeyspaceStats { name: k.name, keys: k.keys, bytes_on_disk: k.bytes_on_disk })
            .collect(),
        journal_bytes: s.journal_bytes,
        journal_files: s.journal_files,
        bytes_on_disk: s.total_bytes_on_disk,
    };
    let store = &state.storage.store;
    Ok(StoreStats {
        records: store.counts().map_err(ApiError::internal)?.iter().map(|(_, _, n)| n).sum(),
        databases: vec![
            db("records", store.stats().map_err(ApiError::internal)?),
            db("local", state.storage.local().stats().map_err(ApiError::internal)?),
        ],
    })
}

#[utoipa::path(get, path = "/api/v1/store/stats", tag = "admin", responses((status = 200, body = StoreStats)), security(("bearer" = [])))]
pub async fn stats(State(state): State<Arc<AppState>>, caller: Caller) -> Result<axum::Json<StoreStats>, ApiError> {
    caller.require(Role::Operator)?;
    blocking(move || {
        let stats = store_stats(&state)?;
        state.audit_read(&caller, "store.stats", "")?;
        Ok(axum::Json(stats))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/store/compact", tag = "admin",
    responses((status = 200, body = StoreStats, description = "sizes after compaction")), security(("bearer" = [])))]
pub async fn compact(State(state): State<Arc<AppState>>, caller: Caller) -> Result<axum::Json<StoreStats>, ApiError> {
    caller.require(Role::Operator)?;
    blocking(move || {
        state.audit(&caller, "store.compact", "")?;
        state.storage.store.compact().map_err(ApiError::internal)?;
        state.storage.local().compact().map_err(ApiError::internal)?;
        Ok(axum::Json(store_stats(&state)?))
    })
    .await
}
