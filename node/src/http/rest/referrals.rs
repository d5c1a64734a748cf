//! Referrals to platforms: file, update, list, who already referred a
//! value, per-platform takedown packages, and the coordinators' figures.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use kawan_protocol::{Kind, ReferralStatus, ReferralSubject};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::HitView;
use crate::{
    http::{ApiError, ApiJson},
    service::{
        Caller, Found, NewReferral, PackageRow, PlatformFigures, Published, ReferralFilter, Service, ServiceError,
        StatusUpdate,
    },
};

type Svc = State<Arc<Service>>;

/// A filed referral, and who had already referred any of its subjects.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiledView {
    #[serde(flatten)]
    pub published: Published,
    pub already_referred: Vec<PriorReferral>,
}

/// "Already referred by Agency X on DATE".
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorReferral {
    pub id: String,
    pub agency: String,
    pub platform: String,
    pub request: String,
    pub status: String,
    pub submitted_ms: u64,
}

impl PriorReferral {
    fn of(f: &Found) -> Option<PriorReferral> {
        let kawan_protocol::Content::Referral(r) = &f.hit.content else { return None };
        Some(PriorReferral {
            id: f.hit.id.to_string(),
            agency: f.author.clone(),
            platform: r.platform.clone(),
            request: crate::interop::stix::request_name(r.request).to_string(),
            status: r.status.as_str().to_string(),
            submitted_ms: r.submitted_ms,
        })
    }
}

#[utoipa::path(post, path = "/api/v1/referrals", tag = "referrals", request_body = NewReferral,
    responses((status = 201, body = FiledView), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(svc): Svc,
    caller: Caller,
    ApiJson(new): ApiJson<NewReferral>,
) -> Result<(StatusCode, axum::Json<FiledView>), ApiError> {
    let filed = svc.create_referral(caller, new).await?;
    let already_referred = filed.already.iter().filter_map(PriorReferral::of).collect();
    Ok((StatusCode::CREATED, axum::Json(FiledView { published: filed.published, already_referred })))
}

#[utoipa::path(post, path = "/api/v1/referrals/{id}/status", tag = "referrals", request_body = StatusUpdate,
    params(("id" = String, Path, description = "the referral's record id")),
    responses((status = 201, body = Published), (status = 403, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(svc): Svc,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> Result<(StatusCode, axum::Json<Published>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(svc.update_referral(caller, &id, update).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only this platform.
    pub platform: Option<String>,
    /// Only this status.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", params(ListParams),
    responses((status = 200, body = Vec<HitView>)), security(("bearer" = [])))]
pub async fn list(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Vec<HitView>>, ApiError> {
    let status = p.status.as_deref().map(parse_status).transpose()?;
    let filter = ReferralFilter { platform: p.platform.map(|x| x.trim().to_lowercase()), status };
    Ok(axum::Json(svc.referrals(caller, filter).await?.iter().map(HitView::new).collect()))
}

fn parse_status(s: &str) -> Result<ReferralStatus, ServiceError> {
    ReferralStatus::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
        let all: Vec<&str> = ReferralStatus::ALL.iter().map(|x| x.as_str()).collect();
        ServiceError::field("status", format!("unknown status {s:?}: one of {}", all.join(", ")))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ValueParams {
    pub kind: String,
    pub value: String,
}

#[utoipa::path(get, path = "/api/v1/referrals/for", tag = "referrals", params(ValueParams),
    responses((status = 200, body = Vec<PriorReferral>, description = "referrals naming this value, newest first")),
    security(("bearer" = [])))]
pub async fn naming(
    State(svc): Svc,
    caller: Caller,
    Query(p): Query<ValueParams>,
) -> Result<axum::Json<Vec<PriorReferral>>, ApiError> {
    let kind: Kind = ServiceError::parse("kind", &p.kind)?;
    let value = svc.normalize(kind, &p.value)?;
    let found = svc.already_referred(caller, vec![ReferralSubject { kind, value, record: None }]).await?;
    Ok(axum::Json(found.iter().filter_map(PriorReferral::of).collect()))
}

#[utoipa::path(get, path = "/api/v1/referrals/figures", tag = "referrals",
    responses((status = 200, body = Vec<PlatformFigures>, description = "per platform: referrals per month, pending/actioned/declined/no response, median and p90 days to action, share declined or unanswered")),
    security(("bearer" = [])))]
pub async fn figures(State(svc): Svc, caller: Caller) -> Result<axum::Json<Vec<PlatformFigures>>, ApiError> {
    Ok(axum::Json(svc.referral_figures(caller).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PackageParams {
    pub platform: String,
    /// csv (default) or json
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/referrals/package", tag = "referrals", params(PackageParams),
    responses((status = 200, body = Vec<PackageRow>, description = "a takedown package: one row per subject referred to the platform, with URL, first/last seen and the signed provenance (CSV or JSON)")),
    security(("bearer" = [])))]
pub async fn package(State(svc): Svc, caller: Caller, Query(p): Query<PackageParams>) -> Result<Response, ApiError> {
    let rows = svc.referral_package(caller, p.platform.trim().to_lowercase()).await?;
    match p.format.as_deref().unwrap_or("csv") {
        "json" => Ok(axum::Json(rows).into_response()),
        "csv" => Ok(([(header::CONTENT_TYPE, "text/csv")], package_csv(&rows)).into_response()),
        other => Err(ServiceError::field("format", format!("{other:?}: csv or json")).into()),
    }
}

/// The package as CSV (formula-safe, like every CSV Kawan writes).
pub fn package_csv(rows: &[PackageRow]) -> String {
    let header = [
        "referral",
        "request",
        "status",
        "kind",
        "value",
        "url",
        "first_seen",
        "last_seen",
        "submitted",
        "reference",
        "agency",
        "agency_key",
        "envelope",
    ];
    let time = |t: Option<u64>| t.map(crate::interop::stix::timestamp).unwrap_or_default();
    crate::interop::csv::document(
        &header,
        rows.iter().map(|r| {
            vec![
                r.referral.clone(),
                r.request.clone(),
                r.status.clone(),
                r.kind.clone(),
                r.value.clone(),
                r.url.clone().unwrap_or_default(),
                time(r.first_seen_ms),
                time(r.last_seen_ms),
                time(Some(r.submitted_ms)),
                r.reference.clone().unwrap_or_default(),
                r.agency.clone(),
                r.agency_key.clone(),
                r.envelope.clone(),
            ]
        }),
    )
}
