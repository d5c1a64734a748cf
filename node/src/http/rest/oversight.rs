//! Oversight: `GET /api/v1/oversight/report` (signed, JSON or HTML) and
//! `GET /api/v1/consultations` — for operators and auditor tokens, the only
//! routes an auditor may call.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    http::ApiError,
    i18n::Lang,
    local::consultations::Consultation,
    service::{Caller, Service, ServiceError, SignedReport},
};

type Svc = State<Arc<Service>>;

/// A period, in Unix ms: `[from, to)`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Start (Unix ms; default 0).
    pub from: Option<u64>,
    /// End, excluded (Unix ms; default now).
    pub to: Option<u64>,
    /// `json` (default) or `html` (report only).
    pub format: Option<String>,
    /// `en`, `id` or `th` (the HTML report's language).
    pub lang: Option<String>,
    /// Most consultations listed (default 1000).
    pub limit: Option<usize>,
}

impl Period {
    fn bounds(&self, svc: &Service) -> (u64, u64) {
        (self.from.unwrap_or(0), self.to.unwrap_or_else(|| svc.now_ms().saturating_add(1)))
    }
}

#[utoipa::path(get, path = "/api/v1/oversight/report", tag = "oversight", params(Period),
    responses((status = 200, body = SignedReport), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn report(State(svc): Svc, caller: Caller, Query(p): Query<Period>) -> Result<Response, ApiError> {
    let (from, to) = p.bounds(&svc);
    let lang = match p.lang.as_deref() {
        None => Lang::En,
        Some(code) => Lang::from_code(code)
            .ok_or_else(|| ServiceError::bad_request("invalid_value", format!("lang: {code:?} is not en, id or th")))?,
    };
    let signed = svc.oversight_report(caller, from, to, lang).await?;
    match p.format.as_deref() {
        None | Some("json") => Ok(axum::Json(signed).into_response()),
        Some("html") => Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], signed.to_html()).into_response()),
        Some(other) => {
            Err(ServiceError::bad_request("invalid_value", format!("format: {other:?} is not json or html")).into())
        }
    }
}

#[utoipa::path(get, path = "/api/v1/consultations", tag = "oversight", params(Period),
    responses((status = 200, body = Vec<Consultation>), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn consultations(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<Period>,
) -> Result<axum::Json<Vec<Consultation>>, ApiError> {
    let (from, to) = p.bounds(&svc);
    Ok(axum::Json(svc.consultations(caller, from, to, p.limit.unwrap_or(1000).min(100_000)).await?))
}
