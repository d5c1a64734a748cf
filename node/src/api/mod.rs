//! The HTTP API (DESIGN.md §7): `/api/v1/…` for analysts and operators,
//! `/metrics` for Prometheus. Bound to loopback by default.
//!
//! Routes and their OpenAPI description come from the same `#[utoipa::path]`
//! annotations (utoipa-axum), so the document cannot list a route that is
//! not served or miss one that is.

mod admin;
mod auth;
mod error;
mod export;
mod records;
mod taxii;
mod trust;
pub mod views;

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use kawan_protocol::{Context, Keypair};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use auth::Caller;
pub use error::{ApiError, ApiJson, ErrorBody};
pub use records::MAX_LOOKUP_VALUES;

use crate::{config::Config, metrics::Metrics, storage::Storage};

/// Everything a request handler may touch.
pub struct AppState {
    pub storage: Storage,
    pub key: Keypair,
    pub config: Config,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
    /// Set once the network task runs.
    pub net: std::sync::OnceLock<crate::net::NetHandle>,
    /// One-time web login codes: (code, token, expires_ms).
    pub login_links: std::sync::Mutex<Vec<(String, String, u64)>>,
    /// TAXII status resources of recent `POST`s, by id.
    pub taxii_status: std::sync::Mutex<std::collections::VecDeque<(String, serde_json::Value)>>,
}

impl AppState {
    pub fn normalize_context(&self) -> Context {
        Context { default_region: self.config.normalize.default_region }
    }

    /// Appends a change (publish, case, token) to the audit log and waits
    /// for the disk; a request whose audit entry cannot be written fails, so
    /// nothing happens unaudited.
    pub fn audit(&self, caller: &Caller, action: &str, detail: &str) -> Result<(), ApiError> {
        self.storage.audit.append(&caller.name, action, detail).map(|_| ()).map_err(ApiError::internal)
    }

    /// Appends a read (query, lookup, record or case access) to the audit
    /// log without waiting for the disk: the daemon persists buffered writes
    /// every 500 ms.
    pub fn audit_read(&self, caller: &Caller, action: &str, detail: &str) -> Result<(), ApiError> {
        self.storage.audit.append_buffered(&caller.name, action, detail).map(|_| ()).map_err(ApiError::internal)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kawan node API", description = "Publish, search and bulk-check shared scam-centre indicators, typologies and techniques; manage local cases and tokens."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and its OpenAPI document, built from the same handlers.
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(records::publish_indicator))
        .routes(routes!(records::publish_typology))
        .routes(routes!(records::publish_technique))
        .routes(routes!(records::publish_sighting))
        .routes(routes!(records::publish_revision))
        .routes(routes!(records::publish_retraction))
        .routes(routes!(records::get_record))
        .routes(routes!(records::search))
        .routes(routes!(records::lookup))
        .routes(routes!(admin::create_case, admin::list_cases))
        .routes(routes!(admin::get_case))
        .routes(routes!(admin::link_case))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::status))
        .routes(routes!(admin::verify_audit))
        .routes(routes!(admin::stats))
        .routes(routes!(admin::compact))
        .routes(routes!(admin::login_link))
        .routes(routes!(trust::get_trust, trust::install_trust))
        .routes(routes!(trust::peers))
        .routes(routes!(export::misp_feed))
        .routes(routes!(export::csv))
        .split_for_parts()
}

/// The whole HTTP application.
pub fn app(state: Arc<AppState>) -> Router {
    let (api, openapi) = routes();
    let openapi = Arc::new(openapi);
    let max_body = state.config.api.max_body_bytes;
    api.route("/api/v1/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/metrics", get(metrics))
        .merge(taxii::routes())
        .merge(crate::web::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(error::uniform_errors))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let text = records_blocking(move || state.metrics.render(&state.storage.store).map_err(ApiError::internal)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn records_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// Counts and times every request by its route template (not its raw path,
/// which would carry ids and values into the metrics).
async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    state.metrics.request(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}
