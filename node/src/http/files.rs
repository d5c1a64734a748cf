//! A file a record carries, as an HTTP response: shared by the REST API
//! (`GET /api/v1/attachments/{hash}`) and the web page (`/files/{hash}`).

use std::sync::Arc;

use axum::{
    body::Body,
    http::header,
    response::{IntoResponse as _, Response},
};
use kawan_protocol::attachment::FileHash;

use crate::service::{Caller, Service, ServiceError};

/// The file as a response: its type as its record gives it, never sniffed
/// by the browser, shown inline only if it is an image, and sandboxed.
pub async fn file_response(svc: &Arc<Service>, caller: &Caller, hash: FileHash) -> Result<Response, ServiceError> {
    let held = svc.read_file(caller, hash).await?;
    let (reference, verified, file) = (&held.reference, held.verified, held.file);
    let inline = reference.media_type.starts_with("image/");
    let name: String =
        reference.name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| *c != '"').collect();
    let disposition = format!("{}; filename=\"{name}\"", if inline { "inline" } else { "attachment" });
    let stream = tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 64 * 1024);
    Ok((
        [
            (header::CONTENT_TYPE, reference.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, held.size.to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".into()),
            (header::HeaderName::from_static("x-kawan-sha256"), held.sha256.to_string()),
            (header::HeaderName::from_static("x-kawan-sha256-verified"), verified.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
