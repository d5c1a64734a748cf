//! Bearer-token authentication and role checks.

use std::sync::Arc;

use axum::{extract::FromRequestParts, http::request::Parts};

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

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let unauthorized = |msg: &str| ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "unauthorized", msg);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token> header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("Authorization header must be 'Bearer <token>'"))?;
        match state.storage.tokens.check(token.trim()).map_err(ApiError::internal)? {
            Some(info) => Ok(Caller { name: info.name, role: info.role }),
            None => Err(unauthorized("unknown or revoked token")),
        }
    }
}
