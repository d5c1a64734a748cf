//! Deconfliction: ask the network privately whether anyone holds something
//! on values, follow up on hits with contact requests, answer partners'.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    http::{ApiError, ApiJson},
    local::deconflict::{Contact, Query as Question},
    service::{Caller, ContactReply, NewContact, NewDeconfliction, Service},
};

type Svc = State<Arc<Service>>;

#[utoipa::path(post, path = "/api/v1/deconflict", tag = "deconfliction", request_body = NewDeconfliction,
    responses((status = 201, body = Question, description = "each member's hits (indexes into values), its contact point, or why it gave no answer"),
        (status = 400, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ask(
    State(svc): Svc,
    caller: Caller,
    ApiJson(new): ApiJson<NewDeconfliction>,
) -> Result<(StatusCode, axum::Json<Question>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.deconflict(caller, new).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// At most this many (default 50).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/deconflict", tag = "deconfliction", params(ListParams),
    responses((status = 200, body = Vec<Question>, description = "questions this agency asked, newest first")),
    security(("bearer" = [])))]
pub async fn list(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Vec<Question>>, ApiError> {
    Ok(axum::Json(svc.deconflictions(caller, p.limit.unwrap_or(50)).await?))
}

#[utoipa::path(get, path = "/api/v1/deconflict/{id}", tag = "deconfliction", params(("id" = u64, Path, description = "question id")),
    responses((status = 200, body = Question), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(svc): Svc, caller: Caller, Path(id): Path<u64>) -> Result<axum::Json<Question>, ApiError> {
    Ok(axum::Json(svc.deconfliction(caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "deconfliction", request_body = NewContact,
    responses((status = 201, body = Contact, description = "the holder received it (the value is disclosed to that holder only)"),
        (status = 409, body = crate::http::ErrorBody, description = "not delivered")),
    security(("bearer" = [])))]
pub async fn request(
    State(svc): Svc,
    caller: Caller,
    ApiJson(new): ApiJson<NewContact>,
) -> Result<(StatusCode, axum::Json<Contact>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.request_contact(caller, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "deconfliction",
    responses((status = 200, body = Vec<Contact>, description = "contact requests both ways, newest first")),
    security(("bearer" = [])))]
pub async fn contacts(State(svc): Svc, caller: Caller) -> Result<axum::Json<Vec<Contact>>, ApiError> {
    Ok(axum::Json(svc.contacts(caller).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/answer", tag = "deconfliction", request_body = ContactReply,
    params(("id" = String, Path, description = "contact request id")),
    responses((status = 200, body = Contact), (status = 404, body = crate::http::ErrorBody), (status = 409, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(reply): ApiJson<ContactReply>,
) -> Result<axum::Json<Contact>, ApiError> {
    Ok(axum::Json(svc.answer_contact(caller, id, reply).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOut {
    /// true: keep the case's values out of deconfliction.
    pub opt_out: bool,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/deconfliction", tag = "deconfliction", request_body = OptOut,
    params(("id" = u64, Path, description = "case id")),
    responses((status = 200, description = "the case"), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn case_opt_out(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(o): ApiJson<OptOut>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let case = svc.case_deconfliction(caller, id, o.opt_out).await?;
    Ok(axum::Json(serde_json::to_value(case).unwrap_or_default()))
}
