//! The REST API under `/api/v1/`: publish, read, search, bulk-check, cases,
//! tokens, trust, peers, status and exports, for analysts, operators and
//! the `kawan` CLI.
//!
//! Routes and their OpenAPI description come from the same `#[utoipa::path]`
//! annotations (utoipa-axum), so the document cannot list a route that is
//! not served or miss one that is.

mod admin;
pub mod alerts;
pub mod attachments;
mod bundles;

pub use attachments::ATTACHMENTS;
pub use bundles::{BUNDLE_IMPORT, MAX_BUNDLE_FILE_BYTES};
mod cases;
mod deconflict;
mod export;
mod extract;
mod lifetime;
mod oversight;
mod permissions;
mod pins;
mod records;
mod referrals;
mod requests;
mod trust;
pub mod views;

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AppState, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(title = "Kawan node API", description = "Publish, search and bulk-check shared scam-centre indicators, typologies and techniques; manage local cases and tokens."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and its OpenAPI document, built from the same handlers.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(records::publish_indicator))
        .routes(routes!(records::publish_typology))
        .routes(routes!(records::publish_technique))
        .routes(routes!(records::publish_sighting))
        .routes(routes!(records::publish_revision))
        .routes(routes!(records::publish_retraction))
        .routes(routes!(lifetime::review_queue))
        .routes(routes!(lifetime::extend_review))
        .routes(routes!(lifetime::erase))
        .routes(routes!(oversight::report))
        .routes(routes!(oversight::consultations))
        .routes(routes!(permissions::grant, permissions::list))
        .routes(routes!(permissions::revoke))
        .routes(routes!(pins::pin, pins::unpin))
        .routes(routes!(records::get_record))
        .routes(routes!(records::search))
        .routes(routes!(records::lookup))
        .routes(routes!(records::lookup_file))
        .routes(routes!(extract::extract))
        .routes(routes!(extract::screen))
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::link_case))
        .routes(routes!(cases::add_case_value))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::status))
        .routes(routes!(admin::verify_audit))
        .routes(routes!(admin::audit_entries))
        .routes(routes!(admin::backup))
        .routes(routes!(admin::audit_checkpoint))
        .routes(routes!(admin::stats))
        .routes(routes!(admin::compact))
        .routes(routes!(admin::login_link))
        .routes(routes!(trust::get_trust, trust::install_trust))
        .routes(routes!(trust::trust_chain))
        .routes(routes!(trust::check_card))
        .routes(routes!(trust::proposals, trust::propose))
        .routes(routes!(trust::sign_proposal))
        .routes(routes!(bundles::export))
        .routes(routes!(bundles::import))
        .routes(routes!(trust::peers))
        .routes(routes!(trust::log_ends))
        .routes(routes!(export::misp_feed))
        .routes(routes!(export::csv))
        .routes(routes!(export::stix))
        .routes(routes!(alerts::watch, alerts::watchlist))
        .routes(routes!(alerts::unwatch))
        .routes(routes!(alerts::alerts))
        .routes(routes!(alerts::acknowledge))
        .routes(routes!(alerts::stream))
        .routes(routes!(alerts::dead_letters))
        .routes(routes!(referrals::create, referrals::list))
        .routes(routes!(referrals::update))
        .routes(routes!(referrals::naming))
        .routes(routes!(referrals::figures))
        .routes(routes!(referrals::package))
        .routes(routes!(attachments::upload))
        .routes(routes!(attachments::download))
        .routes(routes!(attachments::fetch))
        .routes(routes!(requests::create, requests::list))
        .routes(routes!(requests::get))
        .routes(routes!(requests::answer))
        .routes(routes!(requests::update))
        .routes(routes!(deconflict::ask, deconflict::list))
        .routes(routes!(deconflict::get))
        .routes(routes!(deconflict::request, deconflict::contacts))
        .routes(routes!(deconflict::answer))
        .routes(routes!(deconflict::case_opt_out))
        .split_for_parts()
}
