//! Tokens, status, the audit log, store statistics and web login links.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http::{ApiError, ApiJson, auth::presented_token},
    local::tokens::TokenInfo,
    service::{Caller, Service, Status, StoreStats},
};

type Svc = State<Arc<Service>>;

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

#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn create_token(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    let (token, info) = svc.create_token(caller, req.name, &req.role).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedToken { name: info.name, role: info.role.as_str().into(), token })))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<TokenView>)), security(("bearer" = [])))]
pub async fn list_tokens(State(svc): Svc, caller: Caller) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    Ok(axum::Json(svc.tokens(caller).await?.into_iter().map(TokenView::from).collect()))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(State(svc): Svc, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    svc.revoke_token(caller, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/status", tag = "admin", responses((status = 200, body = Status)), security(("bearer" = [])))]
pub async fn status(State(svc): Svc, _caller: Caller) -> Result<axum::Json<Status>, ApiError> {
    Ok(axum::Json(svc.status().await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditReport {
    pub ok: bool,
    pub entries: u64,
    pub error: Option<String>,
    /// The newest checkpoint this agency published, which its partners keep.
    pub witnessed: Option<crate::service::Witness>,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "admin", responses((status = 200, body = AuditReport)), security(("bearer" = [])))]
pub async fn verify_audit(State(svc): Svc, caller: Caller) -> Result<axum::Json<AuditReport>, ApiError> {
    let v = svc.verify_audit(caller).await?;
    Ok(axum::Json(AuditReport { ok: v.error.is_none(), entries: v.entries, error: v.error, witnessed: v.witnessed }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// At most this many (default 100).
    pub limit: Option<usize>,
    /// Only actions starting with this, e.g. `deconflict` or `contact`.
    pub action: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams),
    responses((status = 200, body = Vec<Object>, description = "audit entries, newest first (operators)")), security(("bearer" = [])))]
pub async fn audit_entries(
    State(svc): Svc,
    caller: Caller,
    axum::extract::Query(p): axum::extract::Query<AuditParams>,
) -> Result<axum::Json<Vec<crate::local::audit::Entry>>, ApiError> {
    Ok(axum::Json(svc.audit_entries(caller, p.limit.unwrap_or(100), p.action).await?))
}

#[utoipa::path(get, path = "/api/v1/backup", tag = "admin",
    responses((status = 200, content_type = "application/x-tar", description = "a consistent backup of the running node (operators): manifest.json (every file's BLAKE3 hash), manifest.sig (the agency key's signature over it), kawan.toml, genesis.trust, local.kv, records.kv; never the agency key (`kawan backup` encrypts, and adds it with --include-key)")),
    security(("bearer" = [])))]
pub async fn backup(State(svc): Svc, caller: Caller) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let (file, manifest) = svc.backup(caller).await?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("attachment; filename=\"kawan-backup-{}.tar\"", manifest.created_ms);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/x-tar".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/audit/checkpoint", tag = "admin",
    responses((status = 200, body = Object, description = "{seq, hash, time_ms, sig}: the audit log's head, signed by the agency key")),
    security(("bearer" = [])))]
pub async fn audit_checkpoint(
    State(svc): Svc,
    caller: Caller,
) -> Result<axum::Json<crate::local::audit::Checkpoint>, ApiError> {
    Ok(axum::Json(svc.audit_checkpoint(caller).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginLink {
    /// Open once within five minutes to log a browser in as the caller.
    pub path: String,
}

#[utoipa::path(post, path = "/api/v1/login-links", tag = "admin",
    responses((status = 201, body = LoginLink)), security(("bearer" = [])))]
pub async fn login_link(
    State(svc): Svc,
    caller: Caller,
    headers: HeaderMap,
) -> Result<(StatusCode, axum::Json<LoginLink>), ApiError> {
    // The caller is authenticated, so its token is there to read.
    let token = presented_token(&headers).unwrap_or_default();
    let code = svc.create_login_link(caller, token).await?;
    Ok((StatusCode::CREATED, axum::Json(LoginLink { path: format!("/login/once/{code}") })))
}

#[utoipa::path(get, path = "/api/v1/store/stats", tag = "admin", responses((status = 200, body = StoreStats)), security(("bearer" = [])))]
pub async fn stats(State(svc): Svc, caller: Caller) -> Result<axum::Json<StoreStats>, ApiError> {
    Ok(axum::Json(svc.store_stats(caller).await?))
}

#[utoipa::path(post, path = "/api/v1/store/compact", tag = "admin",
    responses((status = 200, body = StoreStats, description = "sizes after compaction")), security(("bearer" = [])))]
pub async fn compact(State(svc): Svc, caller: Caller) -> Result<axum::Json<StoreStats>, ApiError> {
    Ok(axum::Json(svc.compact(caller).await?))
}
