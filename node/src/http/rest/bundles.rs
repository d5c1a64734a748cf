//! Bundles: sync over a file (operators and coordinators).

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::header,
    response::{IntoResponse as _, Response},
};
use serde::Deserialize;
use utoipa::ToSchema;

use kawan_protocol::bundle::MAX_BUNDLE_BYTES;

use crate::{
    http::{ApiError, ApiJson},
    service::{BundleImported, Caller, Service},
};

type Svc = State<Arc<Service>>;

pub const BUNDLE_IMPORT: &str = "/api/v1/bundles/import";
/// Largest bundle file accepted: the largest bundle, plus age's framing
/// (16 bytes a 64 KiB chunk) and header.
pub const MAX_BUNDLE_FILE_BYTES: usize = MAX_BUNDLE_BYTES + MAX_BUNDLE_BYTES / 4096 + 64 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBundle {
    /// The member id (in the trust list) the bundle is for.
    pub member: String,
    /// Leave out records this node stored before this time (ms since the epoch).
    pub since_ms: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/bundles/export", tag = "trust", request_body = ExportBundle,
    responses((status = 200, content_type = "application/octet-stream",
        description = "the bundle, age-encrypted to the member's key; `X-Kawan-Bundle` gives its id, `X-Kawan-Records` its record count"),
        (status = 404, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<ExportBundle>,
) -> Result<Response, ApiError> {
    let made = svc.export_bundle(caller, req.member, req.since_ms).await?;
    let name = format!("attachment; filename=\"kawan-{}.bundle\"", &made.id[..16]);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, name),
            (header::HeaderName::from_static("x-kawan-bundle"), made.id),
            (header::HeaderName::from_static("x-kawan-records"), made.records.to_string()),
            (header::HeaderName::from_static("x-kawan-trust-lists"), made.lists.to_string()),
        ],
        made.file,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/bundles/import", tag = "trust",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "a bundle file made for this node"),
    responses((status = 200, body = BundleImported), (status = 409, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody), (status = 403, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(State(svc): Svc, caller: Caller, body: Body) -> Result<axum::Json<BundleImported>, ApiError> {
    // The role first: only then is up to half a gigabyte read.
    caller.require_admin("import a bundle")?;
    // Read here, not by the `Bytes` extractor, which the node-wide body limit bounds.
    let file = axum::body::to_bytes(body, MAX_BUNDLE_FILE_BYTES).await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "bundle_too_large",
            format!("a bundle file is at most {MAX_BUNDLE_FILE_BYTES} bytes"),
        )
    })?;
    Ok(axum::Json(svc.import_bundle(caller, Vec::from(file)).await?))
}
