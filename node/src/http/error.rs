//! HTTP errors, one type for every adapter: JSON `{code, message, details}`
//! under `/api/` and the TAXII error body (with its media type) under
//! `/taxii2/`, each with a status that says whose fault it was. Anything a
//! client sent gets a 4xx, never a 500. axum's own rejections (bad query
//! strings and path ids, bodies over the limit, wrong methods) are reshaped
//! by [`uniform_errors`] so clients meet one shape whatever refused them.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

use crate::service::{Fault, ServiceError};

/// The TAXII 2.1 media type.
pub const TAXII: &str = "application/taxii+json;version=2.1";

/// The body of every REST error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `invalid_json`, `invalid_value`…
    pub code: &'static str,
    /// For people.
    pub message: String,
    #[schema(value_type = Object)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code, message: message.into(), details: None } }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The same error in TAXII's shape.
    pub fn taxii(self) -> TaxiiError {
        TaxiiError(self)
    }
}

/// The HTTP status of a service fault.
pub fn status_of(fault: Fault) -> StatusCode {
    match fault {
        Fault::BadRequest => StatusCode::BAD_REQUEST,
        Fault::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Fault::Unauthorized => StatusCode::UNAUTHORIZED,
        Fault::Forbidden => StatusCode::FORBIDDEN,
        Fault::NotFound => StatusCode::NOT_FOUND,
        Fault::Conflict => StatusCode::CONFLICT,
        Fault::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Fault::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Fault::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError {
            status: status_of(e.fault),
            body: ErrorBody { code: e.code, message: e.message, details: e.details },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// An error in TAXII 2.1's shape: `{title, description, http_status}` as
/// `application/taxii+json`.
#[derive(Debug)]
pub struct TaxiiError(pub ApiError);

impl TaxiiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> TaxiiError {
        TaxiiError(ApiError::new(status, "taxii", description))
    }
}

impl From<ServiceError> for TaxiiError {
    fn from(e: ServiceError) -> Self {
        TaxiiError(e.into())
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let body = serde_json::json!({
            "title": status.canonical_reason().unwrap_or("error"),
            "description": self.0.body.message,
            "http_status": status.as_u16().to_string(),
        });
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static(TAXII))], body.to_string()).into_response()
    }
}

/// `Json<T>` whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_json",
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    ApiError::new(status, code, rejection.body_text())
}

/// The machine-readable code of a status the router produced on its own.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Errors the router or an extractor produces on its own (a malformed
/// query string or path id, a body over the limit, a wrong method) answer
/// in the documented shape too: JSON under `/api/`, the TAXII body under
/// `/taxii2/`. Handlers' own errors already have it; web pages keep theirs.
pub async fn uniform_errors(req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    let taxii = path.starts_with("/taxii2/");
    let api = path.starts_with("/api/") || path == "/metrics";
    let resp = next.run(req).await;
    let status = resp.status();
    let shaped = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("application/taxii+json"));
    if !(status.is_client_error() || status.is_server_error()) || shaped || !(taxii || api) {
        return resp;
    }
    // axum's own rejections are short plain text; keep it as the message.
    let text = axum::body::to_bytes(resp.into_body(), 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let error = ApiError::new(status, code_of(status), message);
    if taxii { error.taxii().into_response() } else { error.into_response() }
}
