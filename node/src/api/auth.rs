//! Token authentication and role checks, for every adapter: the REST API,
//! TAXII and the web page's login all read a token the same way.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use base64::Engine as _;

use super::{ApiError, AppState};
use crate::tokens::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller's role covers `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs the {} role; token {:?} is {}", needed.as_str(), self.name, self.role.as_str()),
            ))
        }
    }
}

/// The token a request presents: `Authorization: Bearer <token>`, or HTTP
/// Basic with the token as the password (what TAXII clients, MISP and
/// OpenCTI speak). The error says what was wrong, for a 401.
pub fn presented_token(headers: &HeaderMap) -> Result<String, &'static str> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
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

impl Caller {
    /// The caller a request's token names.
    pub fn from_headers(headers: &HeaderMap, state: &AppState) -> Result<Caller, ApiError> {
        let unauthorized = |msg: &str| ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "unauthorized", msg);
        let token = presented_token(headers).map_err(unauthorized)?;
        match state.storage.tokens.check(&token).map_err(ApiError::internal)? {
            Some(info) => Ok(Caller { name: info.name, role: info.role }),
            None => Err(unauthorized("unknown or revoked token")),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        Caller::from_headers(&parts.headers, state)
    }
}
