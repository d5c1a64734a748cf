//! Pins on indicators' scores: `PUT /api/v1/indicators/{id}/pin` and
//! `DELETE /api/v1/indicators/{id}/pin`.

use std::sync::Arc;

use axum::extract::{Path, State};

use crate::{
    http::{ApiError, ApiJson},
    local::pins::Pin,
    service::{Caller, NewPin, Service},
};

type Svc = State<Arc<Service>>;

#[utoipa::path(put, path = "/api/v1/indicators/{id}/pin", tag = "records", request_body = NewPin,
    params(("id" = String, Path, description = "indicator record id (hex), any version")),
    responses((status = 200, body = Pin, description = "pinned: decay no longer lowers its score here, and it stays in default searches and alerts"),
        (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn pin(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewPin>,
) -> Result<axum::Json<Pin>, ApiError> {
    Ok(axum::Json(svc.pin(caller, &id, req).await?))
}

#[utoipa::path(delete, path = "/api/v1/indicators/{id}/pin", tag = "records",
    params(("id" = String, Path, description = "indicator record id (hex)")),
    responses((status = 200, body = Pin, description = "the pin removed: decay applies again"), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unpin(State(svc): Svc, caller: Caller, Path(id): Path<String>) -> Result<axum::Json<Pin>, ApiError> {
    Ok(axum::Json(svc.unpin(caller, &id).await?))
}
