//! Requests for information: ask (after a private check of the values),
//! list, show with answers, answer, and the asker's status changes.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
};
use kawan_protocol::RequestStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::HitView;
use crate::{
    http::{ApiError, ApiJson},
    local::deconflict::MemberAnswer,
    service::{
        Asked, Caller, Fault, NewAnswer, NewRequest, Published, RequestScope, RequestThread, RequestUpdate, Service,
        ServiceError,
    },
};

type Svc = State<Arc<Service>>;

/// A request with the answers the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadView {
    pub request: HitView,
    pub answers: Vec<HitView>,
    /// Open, past its deadline, and no answer yet.
    pub overdue: bool,
    /// This agency asked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<bool>,
}

impl ThreadView {
    pub fn new(t: &RequestThread) -> ThreadView {
        ThreadView {
            request: HitView::new(&t.request),
            answers: t.answers.iter().map(HitView::new).collect(),
            overdue: t.overdue,
            ours: None,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewRequest,
    description = "Values it names are first checked privately (deconfliction). If members hold any, nothing is \
        published: 409 `holders_found` (or `check_incomplete` when a member could not be asked), with the check in \
        `details` (who holds which value; send them a contact request). To broadcast anyway, send the request again with `checked` = the check's id. A value recorded \
        here as a victim's is refused (422 `victim_value`).",
    responses((status = 201, body = Published), (status = 409, body = crate::http::ErrorBody),
        (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(svc): Svc,
    caller: Caller,
    ApiJson(new): ApiJson<NewRequest>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    match svc.create_request(caller, new).await? {
        Asked::Published(p) => Ok((StatusCode::CREATED, axum::Json(p))),
        Asked::Held(check) => {
            let names = |f: fn(&MemberAnswer) -> bool| {
                check.answers.iter().filter(|a| f(a)).map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            };
            let (holders, unasked) = (names(|a| !a.hits.is_empty()), names(|a| a.error.is_some()));
            let (code, why) = if holders.is_empty() {
                ("check_incomplete", format!("{unasked} could not be asked, so may hold values of this request"))
            } else {
                ("holders_found", format!("{holders} already hold(s) values of this request"))
            };
            Err(ServiceError::new(
                Fault::Conflict,
                code,
                format!(
                    "{why}: nothing was broadcast. Ask holders directly (a contact request discloses a value to \
                     its holder alone), or send the request again with \"checked\": {} to broadcast it anyway",
                    check.id
                ),
            )
            .with_details(serde_json::to_value(&check).unwrap_or_default())
            .into())
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// all (default), ours, or to_us (other agencies' open requests)
    pub scope: Option<RequestScope>,
    /// open, answered or closed
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListParams),
    responses((status = 200, body = Vec<ThreadView>)), security(("bearer" = [])))]
pub async fn list(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Vec<ThreadView>>, ApiError> {
    let status = p
        .status
        .as_deref()
        .map(|st| {
            RequestStatus::ALL.into_iter().find(|x| x.as_str() == st).ok_or_else(|| {
                ServiceError::field("status", format!("unknown status {st:?}: open, answered or closed"))
            })
        })
        .transpose()?;
    let threads = svc.requests(caller, p.scope.unwrap_or_default(), status).await?;
    Ok(axum::Json(threads.iter().map(ThreadView::new).collect()))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = String, Path, description = "the request's record id")),
    responses((status = 200, body = ThreadView), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(svc): Svc, caller: Caller, Path(id): Path<String>) -> Result<axum::Json<ThreadView>, ApiError> {
    let (thread, ours) = svc.request_thread(caller, &id).await?;
    Ok(axum::Json(ThreadView { ours: Some(ours), ..ThreadView::new(&thread) }))
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/answers", tag = "requests", request_body = NewAnswer,
    params(("id" = String, Path, description = "the request's record id")),
    responses((status = 201, body = Published), (status = 404, body = crate::http::ErrorBody),
        (status = 409, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn answer(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewAnswer>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.answer_request(caller, &id, new).await?)))
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/status", tag = "requests", request_body = RequestUpdate,
    params(("id" = String, Path, description = "the request's record id")),
    responses((status = 201, body = Published), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<RequestUpdate>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.update_request(caller, &id, update).await?)))
}
