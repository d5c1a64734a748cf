//! Permissions to pass H2 records outside the network: `POST
//! /api/v1/permissions`, `GET /api/v1/permissions`, `DELETE
//! /api/v1/permissions/{id}`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};

use std::sync::Arc;

use crate::{
    http::{ApiError, ApiJson},
    local::permissions::Permission,
    service::{Caller, NewPermission, Service},
};

type Svc = State<Arc<Service>>;

#[utoipa::path(post, path = "/api/v1/permissions", tag = "permissions", request_body = NewPermission,
    responses((status = 201, body = Permission, description = "recorded: the record may now leave the network over the scope's paths"),
        (status = 400, body = crate::http::ErrorBody, description = "no such record here, or it does not carry H2")),
    security(("bearer" = [])))]
pub async fn grant(
    State(svc): Svc,
    caller: Caller,
    ApiJson(req): ApiJson<NewPermission>,
) -> Result<(StatusCode, axum::Json<Permission>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.grant_permission(caller, req).await?)))
}

#[utoipa::path(get, path = "/api/v1/permissions", tag = "permissions",
    responses((status = 200, body = Vec<Permission>, description = "every permission recorded, newest first")),
    security(("bearer" = [])))]
pub async fn list(State(svc): Svc, caller: Caller) -> Result<axum::Json<Vec<Permission>>, ApiError> {
    Ok(axum::Json(svc.permissions(caller).await?))
}

#[utoipa::path(delete, path = "/api/v1/permissions/{id}", tag = "permissions",
    params(("id" = String, Path, description = "record id (hex)")),
    responses((status = 200, body = Permission, description = "the permission removed: the record is withheld from exports again"),
        (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Permission>, ApiError> {
    Ok(axum::Json(svc.revoke_permission(caller, id).await?))
}
