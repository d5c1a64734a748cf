//! Exports: the MISP feed, served live so a MISP instance can pull it by URL
//! (with the token in an `Authorization` header) and written to files by
//! `kawan export misp-feed`; CSV; and the network collection as one STIX
//! bundle (`kawan export stix`).

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};

use crate::{
    http::ApiError,
    service::{Caller, Service, ServiceError},
};

#[utoipa::path(get, path = "/api/v1/export/misp/{file}", tag = "export",
    params(("file" = String, Path, description = "manifest.json, hashes.csv or <event uuid>.json")),
    responses((status = 200, description = "a file of the MISP feed"), (status = 404, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn misp_feed(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let feed = svc.misp_feed(caller, file.clone()).await?;
    let json = |v: &serde_json::Value| ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response();
    match file.as_str() {
        "manifest.json" => Ok(json(&feed.manifest())),
        "hashes.csv" => Ok(([(header::CONTENT_TYPE, "text/csv")], feed.hashes()).into_response()),
        other => {
            let uuid = other.strip_suffix(".json").unwrap_or(other);
            let event =
                feed.events.get(uuid).ok_or_else(|| ServiceError::not_found(format!("no event {uuid} in the feed")))?;
            Ok(json(event))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/export/csv", tag = "export",
    responses((status = 200, description = "kind,value,tlp,role,subject,confidence,author,first_seen,last_seen,id,flags,handling,evaluation per current indicator that may leave the network (flags: kawan:author-revoked, kawan:author-equivocating; handling: H1 H2 H3 codes; evaluation: B2)")),
    security(("bearer" = [])))]
pub async fn csv(State(svc): State<Arc<Service>>, caller: Caller) -> Result<Response, ApiError> {
    Ok(([(header::CONTENT_TYPE, "text/csv")], svc.csv_export(caller).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/export/stix", tag = "export",
    responses((status = 200, description = "the network collection as one STIX 2.1 bundle, as TAXII serves it")),
    security(("bearer" = [])))]
pub async fn stix(State(svc): State<Arc<Service>>, caller: Caller) -> Result<Response, ApiError> {
    let bundle = svc.stix_bundle(caller).await?;
    Ok(([(header::CONTENT_TYPE, "application/stix+json;version=2.1")], bundle.to_string()).into_response())
}
