//! `POST /api/v1/extract` and `POST /api/v1/screen`: the indicators in
//! free text, and screening against this node. Either a JSON body
//! (`{text, region}`) or an upload (`multipart/form-data`: a `file` field,
//! optional `region` and `format` fields) of a web page, e-mail, PDF, CSV,
//! WhatsApp or Telegram export; for a file, the answer carries the text it
//! was read as, which the offsets index.

use std::sync::Arc;

use axum::{
    extract::{FromRequest, Multipart, Request, State},
    http::header,
};
use kawan_protocol::{Country, extract::Flagged};
use kawan_read::{Document, Format};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http::{ApiError, rest::views::HitView},
    service::{Caller, Service, ServiceError},
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

/// The input, from JSON or an upload.
struct Input {
    text: String,
    region: Option<Country>,
    /// Set for an uploaded file: what it was read as.
    document: Option<Format>,
}

impl Input {
    async fn from_request(req: Request, svc: &Arc<Service>) -> Result<Input, ApiError> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if !content_type.starts_with("multipart/form-data") {
            let crate::http::ApiJson(r) = crate::http::ApiJson::<ExtractRequest>::from_request(req, svc).await?;
            return Ok(Input { text: r.text, region: r.region, document: None });
        }
        let mut form = Multipart::from_request(req, svc)
            .await
            .map_err(|e| ApiError::bad_request("invalid_body", format!("a malformed upload: {e}")))?;
        let (mut file, mut region, mut format) = (None, None, None);
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("invalid_body", format!("a malformed upload: {e}")))?
        {
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
            let text = || String::from_utf8_lossy(&bytes).trim().to_string();
            match name.as_str() {
                "file" => file = Some((file_name, bytes.clone())),
                "region" if !text().is_empty() => region = Some(ServiceError::parse::<Country>("region", &text())?),
                "format" if !text().is_empty() => format = Some(ServiceError::parse::<Format>("format", &text())?),
                _ => {}
            }
        }
        let (name, bytes) =
            file.ok_or_else(|| ApiError::bad_request("invalid_body", "no `file` field in the upload"))?;
        // Parsing a file is CPU work: off the async threads.
        let read = tokio::task::spawn_blocking(move || kawan_read::read(name.as_deref(), &bytes, format))
            .await
            .map_err(|_| ApiError::bad_request("unreadable_file", "file: the reader failed"))?;
        let Document { format, text } =
            read.map_err(|e| ApiError::bad_request("unreadable_file", format!("file: {e}")))?;
        Ok(Input { text, region, document: Some(format) })
    }
}

/// What a text holds.
#[derive(Debug, Serialize)]
pub struct ExtractResponse {
    pub indicators: Vec<kawan_protocol::extract::Found>,
    pub red_flags: Vec<Flagged>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentView>,
}

/// For an uploaded file: what it was read as, and the text the offsets index.
#[derive(Debug, Serialize)]
pub struct DocumentView {
    pub format: Format,
    pub text: String,
}

#[utoipa::path(post, path = "/api/v1/extract", tag = "records",
    request_body(content = ExtractRequest, description = "JSON `{text, region}`, or multipart/form-data with a `file` (text, HTML, .eml, PDF, CSV, WhatsApp .txt, Telegram result.json) and optional `region` and `format` fields"),
    responses((status = 200, description = "`{indicators: [{kind, value, text, start, end, defanged}], red_flags: [{flag, lang, phrase, text, start, end}]}`, and for a file its `format` and the `text` the offsets index", body = Object),
        (status = 400, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn extract(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    req: Request,
) -> Result<axum::Json<ExtractResponse>, ApiError> {
    let input = Input::from_request(req, &svc).await?;
    let x = svc.extract(caller, input.text.clone(), input.region).await?;
    Ok(axum::Json(ExtractResponse {
        indicators: x.indicators,
        red_flags: x.red_flags,
        document: input.document.map(|format| DocumentView { format, text: input.text }),
    }))
}

/// What screening found.
#[derive(Debug, Serialize)]
pub struct ScreenResponse {
    /// Each value found: the extractor's fields, then whether the network
    /// knows it, its shared records, this agency's watchlist entries and
    /// cases.
    pub indicators: Vec<ScreenedView>,
    pub red_flags: Vec<Flagged>,
    pub typologies: Vec<TypologyView>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentView>,
}

#[derive(Debug, Serialize)]
pub struct ScreenedView {
    #[serde(flatten)]
    pub found: kawan_protocol::extract::Found,
    pub known: bool,
    pub hits: Vec<HitView>,
    pub watched: Vec<WatchedView>,
    pub cases: Vec<u64>,
}

#[derive(Debug, Serialize)]
pub struct WatchedView {
    pub id: u64,
    pub owner: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TypologyView {
    pub typology: String,
    pub title: String,
    pub phrase: String,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

#[utoipa::path(post, path = "/api/v1/screen", tag = "read",
    request_body(content = ExtractRequest, description = "as for /api/v1/extract: JSON `{text, region}` or a file upload"),
    responses((status = 200, description = "`{indicators: [{kind, value, text, start, end, defanged, known, hits, watched, cases}], red_flags, typologies: [{typology, title, phrase, text, start, end}]}`", body = Object),
        (status = 400, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn screen(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    req: Request,
) -> Result<axum::Json<ScreenResponse>, ApiError> {
    let input = Input::from_request(req, &svc).await?;
    let s = svc.screen(caller, input.text.clone(), input.region).await?;
    Ok(axum::Json(ScreenResponse {
        indicators: s
            .values
            .into_iter()
            .map(|v| ScreenedView {
                known: !v.hits.is_empty(),
                hits: v.hits.iter().map(HitView::new).collect(),
                watched: v
                    .watched
                    .into_iter()
                    .map(|e| WatchedView { id: e.id, owner: e.owner, note: e.note })
                    .collect(),
                cases: v.cases,
                found: v.found,
            })
            .collect(),
        red_flags: s.red_flags,
        typologies: s
            .typologies
            .into_iter()
            .map(|t| TypologyView {
                typology: t.typology,
                title: t.title,
                phrase: t.found.phrase,
                text: t.found.text,
                start: t.found.start,
                end: t.found.end,
            })
            .collect(),
        document: input.document.map(|format| DocumentView { format, text: input.text }),
    }))
}
