//! The whole HTTP application: the three adapters' routes, `/metrics`, the
//! body limit, error shaping and per-route request metrics.

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRef, MatchedPath, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};

use super::{
    error::{self, ApiError},
    rest, taxii, web,
};
use crate::service::Service;

/// What handlers extract: the service, and TAXII's recent POST statuses.
#[derive(Clone)]
pub struct AppState {
    pub svc: Arc<Service>,
    pub taxii: Arc<taxii::Statuses>,
}

impl FromRef<AppState> for Arc<Service> {
    fn from_ref(s: &AppState) -> Arc<Service> {
        s.svc.clone()
    }
}

impl FromRef<AppState> for Arc<taxii::Statuses> {
    fn from_ref(s: &AppState) -> Arc<taxii::Statuses> {
        s.taxii.clone()
    }
}

/// The whole HTTP application over `svc`.
pub fn app(svc: Arc<Service>) -> Router {
    let (api, openapi) = rest::routes();
    let openapi = Arc::new(openapi);
    let max_body = svc.config().api.max_body_bytes;
    let state = AppState { svc, taxii: Arc::default() };
    api.route("/api/v1/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/metrics", get(metrics))
        .merge(taxii::routes())
        .merge(web::routes())
        .fallback(|| async { ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(move |req, next| limit_declared_body(max_body, req, next)))
        .layer(middleware::from_fn(limit_uri))
        .layer(middleware::from_fn(error::uniform_errors))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Longest request target the node reads, as common servers do (nginx: 8 KiB).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Refuses an over-long URI with a 414 that [`error::uniform_errors`] shapes
/// like any error. (Beyond 64 KiB the HTTP parser refuses it before any of
/// this runs, with a bare 414.)
async fn limit_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        let message = format!("the URI is {len} bytes; at most {MAX_URI_BYTES}");
        return (axum::http::StatusCode::URI_TOO_LONG, message).into_response();
    }
    next.run(req).await
}

/// Refuses a body whose declared length is over the limit at once, before
/// reading any of it (the body limit above still bounds bodies sent without
/// a length). [`error::uniform_errors`] shapes the 413.
async fn limit_declared_body(max: usize, req: Request, next: Next) -> Response {
    // A bundle file may be far larger than any other body (every record a
    // member may receive): its route reads it with a limit of its own.
    // So may a file for a record: the network's limit bounds it as it
    // streams in (`Service::attach_file`).
    let max = match req.uri().path() {
        rest::BUNDLE_IMPORT => rest::MAX_BUNDLE_FILE_BYTES,
        rest::ATTACHMENTS => kawan_protocol::attachment::ABSOLUTE_MAX_BYTES as usize,
        _ => max,
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > max as u64) {
        let message = format!("the body is {len} bytes; at most {max} ([api] max_body_bytes)");
        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    next.run(req).await
}

/// Prometheus text, for any token holder: the figures name sharing groups
/// and peers, which are not for anyone who can reach the port.
async fn metrics(State(svc): State<Arc<Service>>, _caller: crate::service::Caller) -> Result<Response, ApiError> {
    let text = svc.metrics_text().await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// Counts and times every request by its route template (not its raw path,
/// which would carry ids and values into the metrics).
async fn track(State(svc): State<Arc<Service>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    svc.metrics().request(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}
