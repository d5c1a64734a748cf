//! Local cases: never shared, visible to this agency's analysts only.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    http::{ApiError, ApiJson},
    local::cases::{Case, NewCase},
    service::{Caller, Service},
};

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body(content = Object, description = "{reference, title, notes?, details?}"),
    responses((status = 201, body = Object), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn create_case(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    ApiJson(new): ApiJson<NewCase>,
) -> Result<(StatusCode, axum::Json<Case>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.create_case(caller, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list_cases(State(svc): State<Arc<Service>>, caller: Caller) -> Result<axum::Json<Vec<Case>>, ApiError> {
    Ok(axum::Json(svc.cases(caller).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = u64, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn get_case(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<axum::Json<Case>, ApiError> {
    Ok(axum::Json(svc.case(caller, id).await?.0))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Id of a shared record.
    pub record: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/links", tag = "cases", params(("id" = u64, Path)), request_body = LinkRequest,
    responses((status = 200, body = Object), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn link_case(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<axum::Json<Case>, ApiError> {
    Ok(axum::Json(svc.link_case(caller, id, &req.record).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueRequest {
    /// Guessed from the value when absent.
    pub kind: Option<String>,
    pub value: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/values", tag = "cases", params(("id" = u64, Path)), request_body = ValueRequest,
    responses((status = 200, body = Object, description = "the case: the value is held locally, watched and (unless the case opts out) deconflictable"),
        (status = 404, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn add_case_value(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(req): ApiJson<ValueRequest>,
) -> Result<axum::Json<Case>, ApiError> {
    Ok(axum::Json(svc.add_case_value(caller, id, req.kind, req.value).await?))
}
