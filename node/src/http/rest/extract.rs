//! `POST /api/v1/extract`: the indicators in free text.

use std::sync::Arc;

use axum::extract::State;
use kawan_protocol::{Country, extract::Extraction};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    http::{ApiError, ApiJson},
    service::{Caller, Service},
};

/// Text to read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequest {
    /// Plain text in any language (a job ad, a chat, a report).
    pub text: String,
    /// Region for national phone numbers (ISO 3166-1, e.g. TH; default:
    /// the node's).
    #[schema(value_type = Option<String>)]
    pub region: Option<Country>,
}

#[utoipa::path(post, path = "/api/v1/extract", tag = "records", request_body = ExtractRequest,
    responses((status = 200, description = "`{indicators: [{kind, value, text, start, end, defanged}]}`: each hit with its normal form, the text as written and its byte offsets", body = Object)),
    security(("bearer" = [])))]
pub async fn extract(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    ApiJson(req): ApiJson<ExtractRequest>,
) -> Result<axum::Json<Extraction>, ApiError> {
    Ok(axum::Json(svc.extract(caller, req.text, req.region).await?))
}
