//! Who is calling: one reader for every way a token arrives — a bearer
//! header, HTTP Basic with the token as the password (what TAXII clients,
//! MISP and OpenCTI speak), or the web page's session cookie — and the
//! service decides whom it names.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use base64::Engine as _;

use super::error::ApiError;
use crate::{
    local::tokens::Role,
    policy::Path,
    service::{Caller, Service, ServiceError},
};

/// The web page's session cookie, which holds a session id (never a token).
pub const COOKIE: &str = "kawan_session";

/// The token a request presents in its `Authorization` header. The error
/// says what was wrong, for a 401.
pub fn presented_token(headers: &HeaderMap) -> Result<String, &'static str> {
    let header = headers
        .get(header::AUTHORIZATION)
        .ok_or("missing Authorization: Bearer <token> header")?
        .to_str()
        .map_err(|_| "Authorization header is not text")?;
    if let Some(token) = header.strip_prefix("Bearer ") {
        return Ok(token.trim().to_string());
    }
    let basic = header.strip_prefix("Basic ").ok_or("Authorization header must be 'Bearer <token>' or Basic")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .map_err(|_| "Basic credentials are not base64")?;
    let text = String::from_utf8(raw).map_err(|_| "Basic credentials are not UTF-8")?;
    text.split_once(':').map(|(_, password)| password.to_string()).ok_or("Basic credentials need user:password")
}

/// The session id in the session cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{name}=")).map(String::from))
}

/// The header an API or CLI caller states its purpose in (percent-encoded
/// UTF-8, so any language fits in a header).
pub const PURPOSE: &str = "kawan-purpose";

/// The purpose a request states in its `Kawan-Purpose` header, if any.
pub fn stated_purpose(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(PURPOSE)?.as_bytes();
    let text = percent_encoding::percent_decode(raw).decode_utf8_lossy().into_owned();
    Some(text)
}

/// The caller of a request arriving through `via`: the web page's session
/// cookie names a server-side session (which holds the purpose the analyst
/// stated), every other path presents a token in the `Authorization`
/// header and its purpose in `Kawan-Purpose`.
pub async fn caller(headers: &HeaderMap, svc: &Arc<Service>, via: Path) -> Result<Caller, ServiceError> {
    let caller = any_caller(headers, svc, via).await?;
    // An auditor reads the oversight material over the API, nothing else:
    // no web page, no TAXII collection, no export.
    if caller.role == Role::Auditor && via != Path::Rest {
        return Err(auditor_refused());
    }
    Ok(caller)
}

/// The REST routes an auditor token may call.
pub const AUDITOR_ROUTES: [&str; 2] = ["/api/v1/oversight", "/api/v1/consultations"];

fn auditor_refused() -> ServiceError {
    ServiceError::forbidden(
        "forbidden",
        "an auditor token reads the oversight report and the consultation log only (/api/v1/oversight, \
         /api/v1/consultations)",
    )
}

async fn any_caller(headers: &HeaderMap, svc: &Arc<Service>, via: Path) -> Result<Caller, ServiceError> {
    match via {
        Path::Web => {
            let id = session_token(headers).ok_or_else(|| ServiceError::unauthorized("not logged in"))?;
            svc.session(id).await
        }
        _ => Ok(svc
            .authenticate(presented_token(headers).map_err(ServiceError::unauthorized)?, via)
            .await?
            .with_purpose(stated_purpose(headers))),
    }
}

/// REST handlers take the caller as an argument.
impl<S> FromRequestParts<S> for Caller
where
    Arc<Service>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let caller = caller(&parts.headers, &Arc::<Service>::from_ref(state), Path::Rest).await?;
        let path = parts.uri.path();
        if caller.role == Role::Auditor && !AUDITOR_ROUTES.iter().any(|r| path.starts_with(r)) {
            return Err(auditor_refused().into());
        }
        Ok(caller)
    }
}
