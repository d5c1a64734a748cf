//! Files records carry: upload one (streamed; its reference goes in the
//! record being published), read one (fetched from members first if it is
//! not here), or fetch one now and see who served it.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use kawan_protocol::attachment::{Attachment, FileHash};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    http::ApiError,
    service::{Caller, Fetched, NewAttachment, Service, ServiceError},
};

type Svc = State<Arc<Service>>;

/// The upload route: its body is a file, bounded by the network's limit
/// rather than the API's (`app.rs`).
pub const ATTACHMENTS: &str = "/api/v1/attachments";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The file's name (no path), as analysts will see it.
    pub name: String,
    /// When the content was captured (a screenshot's moment), Unix ms.
    pub captured_ms: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/attachments", tag = "records", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the file; `Content-Type` names its type (image/png, image/jpeg, image/webp, image/gif, \
            application/pdf, text/plain, text/csv), or is read from its first bytes and name"),
    description = "Stores a file and returns the reference to put in a record's `attachments` (typology, \
        technique, sighting, referral, request, answer). A file no record names within a day is removed.",
    responses((status = 201, body = Object, description = "the reference: hash, size, name, media_type, sha256, captured_ms"),
        (status = 413, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload(
    State(svc): Svc,
    caller: Caller,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<Attachment>), ApiError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.starts_with("application/octet-stream") && !t.starts_with("application/x-www-form-urlencoded"))
        .map(str::to_string);
    let new = NewAttachment { name: params.name, media_type, captured_ms: params.captured_ms };
    let attachment = svc.attach_file(caller, new, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, axum::Json(attachment)))
}

fn hash_of(s: &str) -> Result<FileHash, ApiError> {
    Ok(ServiceError::parse::<FileHash>("hash", s)?)
}

#[utoipa::path(get, path = "/api/v1/attachments/{hash}", tag = "records",
    params(("hash" = String, Path, description = "the file's hash (hex), as a record names it")),
    description = "The file, fetched from members that may share it if it is not here yet. `X-Kawan-Sha256` \
        gives its SHA-256 as computed here; `X-Kawan-Sha256-Verified` whether that is what the record says. \
        The consultation is logged.",
    responses((status = 200, content_type = "application/octet-stream", description = "the file"),
        (status = 404, body = crate::http::ErrorBody), (status = 409, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(State(svc): Svc, caller: Caller, Path(hash): Path<String>) -> Result<Response, ApiError> {
    let hash = hash_of(&hash)?;
    Ok(crate::http::files::file_response(&svc, &caller, hash).await?)
}

#[utoipa::path(post, path = "/api/v1/attachments/{hash}/fetch", tag = "records",
    params(("hash" = String, Path, description = "the file's hash (hex)")),
    description = "Fetches the file from members now (if it is not here): who served it, and who was passed \
        over and why (not reachable, does not serve it, a chunk that did not match).",
    responses((status = 200, body = Fetched), (status = 404, body = crate::http::ErrorBody),
        (status = 409, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn fetch(State(svc): Svc, caller: Caller, Path(hash): Path<String>) -> Result<axum::Json<Fetched>, ApiError> {
    let hash = hash_of(&hash)?;
    Ok(axum::Json(svc.fetch_file(&caller, hash).await?))
}
