//! Watchlists and alerts: what an analyst watches, what matched, and a live
//! stream of new alerts (server-sent events).

use std::{convert::Infallible, sync::Arc};

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::sse::{Event, Sse},
};
use futures::Stream;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    http::{ApiError, ApiJson},
    local::watch::{Alert, Entry},
    service::{Caller, NewWatch, Service},
};

type Svc = State<Arc<Service>>;

#[utoipa::path(post, path = "/api/v1/watchlist", tag = "alerts", request_body = NewWatch,
    responses((status = 201, body = Entry), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn watch(
    State(svc): Svc,
    caller: Caller,
    ApiJson(new): ApiJson<NewWatch>,
) -> Result<(StatusCode, axum::Json<Entry>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.watch(caller, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/watchlist", tag = "alerts",
    responses((status = 200, body = Vec<Entry>, description = "the caller's entries (operators: everyone's)")), security(("bearer" = [])))]
pub async fn watchlist(State(svc): Svc, caller: Caller) -> Result<axum::Json<Vec<Entry>>, ApiError> {
    Ok(axum::Json(svc.watchlist(caller).await?))
}

#[utoipa::path(delete, path = "/api/v1/watchlist/{id}", tag = "alerts", params(("id" = u64, Path, description = "entry id")),
    responses((status = 200, body = Entry), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn unwatch(State(svc): Svc, caller: Caller, Path(id): Path<u64>) -> Result<axum::Json<Entry>, ApiError> {
    Ok(axum::Json(svc.unwatch(caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertParams),
    responses((status = 200, body = Vec<Alert>, description = "newest first: the caller's watch matches and every case match")),
    security(("bearer" = [])))]
pub async fn alerts(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<AlertParams>,
) -> Result<axum::Json<Vec<Alert>>, ApiError> {
    Ok(axum::Json(svc.alerts(caller, p.limit.unwrap_or(100)).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "alerts", params(("id" = u64, Path, description = "alert id")),
    responses((status = 200, body = Alert), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn acknowledge(State(svc): Svc, caller: Caller, Path(id): Path<u64>) -> Result<axum::Json<Alert>, ApiError> {
    Ok(axum::Json(svc.acknowledge_alert(caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "alerts",
    responses((status = 200, description = "text/event-stream: one `alert` event (the alert as JSON) per new alert for the caller")),
    security(("bearer" = [])))]
pub async fn stream(
    State(svc): Svc,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    Ok(crate::http::sse::alerts(&svc, caller)?)
}

#[utoipa::path(get, path = "/api/v1/alerts/dead-letters", tag = "alerts",
    responses((status = 200, body = Vec<crate::local::watch::DeadLetter>, description = "alerts the webhook could not deliver after its retries (operators)")),
    security(("bearer" = [])))]
pub async fn dead_letters(
    State(svc): Svc,
    caller: Caller,
) -> Result<axum::Json<Vec<crate::local::watch::DeadLetter>>, ApiError> {
    Ok(axum::Json(svc.dead_letters(caller).await?))
}
