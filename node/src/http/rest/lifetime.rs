//! Review dates and erasure: `GET /api/v1/review`, `POST
//! /api/v1/review/{id}/extend`, `POST /api/v1/erasures`.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use std::sync::Arc;

use crate::{
    http::{ApiError, ApiJson},
    service::{Caller, Published, ReviewItem, Service},
};

type Svc = State<Arc<Service>>;

/// How far ahead the review queue looks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewParams {
    /// Days ahead (default 90).
    pub days: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/review", tag = "lifetime", params(ReviewParams),
    responses((status = 200, body = Vec<ReviewItem>)), security(("bearer" = [])))]
pub async fn review_queue(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<ReviewParams>,
) -> Result<axum::Json<Vec<ReviewItem>>, ApiError> {
    Ok(axum::Json(svc.review_queue(caller, p.days.unwrap_or(90)).await?))
}

/// A new review date and why the record is still needed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    /// The new review date (Unix ms).
    pub until_ms: u64,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/review/{id}/extend", tag = "lifetime",
    params(("id" = String, Path, description = "record id (hex)")), request_body = Extend,
    responses((status = 201, body = Published), (status = 400, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn extend_review(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Extend>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.extend_review(caller, &id, req.until_ms, &req.reason).await?)))
}

/// Records to erase on every node, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewErasure {
    pub ids: Vec<String>,
    /// Why (without repeating what is erased).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/erasures", tag = "lifetime", request_body = NewErasure,
    responses((status = 201, body = Vec<Published>), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn erase(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<NewErasure>,
) -> Result<(StatusCode, axum::Json<Vec<Published>>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.erase(caller, &req.ids, &req.reason).await?)))
}
