//! The HTTP adapters over the service (docs/api.md; docs/architecture.md,
//! "One application core"): the REST API under `/api/v1/`, TAXII 2.1 under
//! `/taxii2/`, the web page at `/`, and `/metrics`. They only adapt — parse a request, call the service, shape
//! the answer — and never import each other.
//!
//! - `app`: the whole router, request metrics, body limits
//! - `error`: the one error type and its JSON and TAXII shapes
//! - `auth`: bearer, Basic and cookie tokens → the service's `Caller`
//! - `sse`: the live alert feed as server-sent events (REST and web)
//! - `rest/`, `taxii/`, `web/`: the three adapters

mod app;
pub mod auth;
pub mod error;
pub mod files;
pub mod rest;
mod sse;
pub mod taxii;
pub mod web;

pub use app::{AppState, app};
pub use error::{ApiError, ApiJson, ErrorBody};
