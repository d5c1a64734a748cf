//! The web page for analysts and operators (server-rendered with maud; no
//! JavaScript build, no external assets), one module per page. The session
//! is the API token in an HttpOnly, SameSite=Strict cookie; every form
//! carries a CSRF token derived from the session; maud escapes all output.

mod alerts;
mod bulk;
mod cases;
mod charts;
mod deconflict;
mod home;
mod i18n;
mod indicator;
mod layout;
mod library;
mod login;
mod network;
mod publish;
mod record;
mod referrals;
mod requests;
mod screen;
mod search;

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{auth, error::status_of};
use crate::{
    policy::Path,
    service::{Caller, Service, ServiceError},
};

pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/", get(search::search))
        .route("/login", get(login::form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/purpose", post(login::purpose))
        .route("/login/once/{code}", get(login::once))
        .route("/login/once", post(login::once_post))
        .route("/indicator/{id}", get(indicator::page).post(indicator::sight))
        .route("/record/{id}", get(record::page))
        .route("/files/{hash}", get(record::file))
        .route("/alerts", get(alerts::list))
        .route("/alerts/stream", get(alerts::stream))
        .route("/alerts/watch", post(alerts::watch))
        .route("/alerts/{id}/ack", post(alerts::acknowledge))
        .route("/referrals", get(referrals::list).post(referrals::create))
        .route("/referrals/{id}/status", post(referrals::update))
        .route("/requests", get(requests::list).post(requests::ask))
        .route("/requests/{id}", get(requests::thread))
        .route("/requests/{id}/answers", post(requests::answer))
        .route("/requests/{id}/status", post(requests::update))
        .route("/bulk", get(bulk::form).post(bulk::check))
        .route("/bulk/file", post(bulk::upload))
        .route("/screen", get(screen::form).post(screen::check))
        .route("/screen/file", post(screen::upload))
        .route("/screen/act", post(screen::act))
        .route("/publish", get(publish::form).post(publish::indicator))
        .route("/publish/knowledge", post(publish::knowledge))
        .route("/library", get(library::library))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::case))
        .route("/cases/{id}/values", post(cases::add_value))
        .route("/cases/{id}/deconflict", post(deconflict::case))
        .route("/deconflict", get(deconflict::page_).post(deconflict::ask))
        .route("/contacts", post(deconflict::contact))
        .route("/contacts/{id}/answer", post(deconflict::answer))
        .route("/network", get(network::network))
        .route("/network/card", post(network::card))
        .route("/network/card/next", post(network::card_next))
        .route("/network/proposals", post(network::propose))
        .route("/network/proposals/{id}/sign", post(network::sign))
        .route("/lang/{code}", get(switch_language))
        .route("/static/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css")], include_str!("style.css")) }))
        .route(
            "/static/bulk.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], include_str!("bulk.js")) }),
        )
        .route(
            "/static/zone.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], include_str!("zone.js")) }),
        )
        .route(
            "/static/alerts.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], include_str!("alerts.js")) }),
        )
        .layer(axum::middleware::from_fn(security_headers))
}

/// A logged-in browser: its session id, its token's owner, the CSRF token
/// for its forms, and the service (for the page header).
struct Session {
    id: String,
    /// The language the page speaks to this browser.
    lang: i18n::Lang,
    /// The reader's time zone, for every date on the page.
    zone: jiff::tz::TimeZone,
    caller: Caller,
    csrf: String,
    svc: Arc<Service>,
}

impl<S> FromRequestParts<S> for Session
where
    Arc<Service>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let svc = Arc::<Service>::from_ref(state);
        let to_login = || Redirect::to("/login").into_response();
        let id = auth::session_token(&parts.headers).ok_or_else(to_login)?;
        let caller = auth::caller(&parts.headers, &svc, Path::Web).await.map_err(|_| to_login())?;
        let accept = parts.headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let lang = i18n::negotiate(auth::cookie(&parts.headers, i18n::COOKIE).as_deref(), accept);
        let zone = reader_zone(&parts.headers);
        Ok(Session { csrf: csrf(&id), id, lang, zone, caller, svc })
    }
}

impl Session {
    /// The refusal for a form whose CSRF token is not the session's
    /// (compared in constant time).
    fn refuses(&self, given: &str) -> Option<Response> {
        (!crate::service::same(given, &self.csrf)).then(|| {
            let body = maud::html! { div.error role="alert" { (i18n::t(self.lang, "err-csrf")) } };
            (StatusCode::FORBIDDEN, layout::page(&self.svc, Some(self), &i18n::t(self.lang, "err-title"), body))
                .into_response()
        })
    }

    /// A failed action as a page (titled by message `title`) with the
    /// error, under the right status.
    fn failed(&self, title: &str, e: ServiceError) -> Response {
        let page = layout::page(&self.svc, Some(self), &i18n::t(self.lang, title), layout::refusal(self.lang, &e));
        (status_of(e.fault), page).into_response()
    }
}

/// The cookie in which the page's script (`zone.js`) tells the server the
/// browser's time zone: the server cannot know where its reader sits.
const ZONE_COOKIE: &str = "kawan_tz";

/// The time zone the browser named, if the time zone database knows it,
/// else UTC (no script ran yet, or a name we do not know).
fn reader_zone(headers: &axum::http::HeaderMap) -> jiff::tz::TimeZone {
    auth::cookie(headers, ZONE_COOKIE)
        .filter(|name| name.len() <= 64)
        .and_then(|name| jiff::tz::db().get(&name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The language switch: remembered in a cookie, then back to the page the
/// browser came from (on this site only).
async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(lang) = i18n::Lang::from_code(&code) else {
        return (StatusCode::NOT_FOUND, "no such language").into_response();
    };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/lang/"))
        .unwrap_or_else(|| "/".into());
    let cookie = format!("{}={}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly", i18n::COOKIE, lang.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

/// The CSRF token of a session: derived from the session id (a secret
/// only the browser's HttpOnly cookie holds), so it needs no server state,
/// differs per session, and does not reveal the id. No key of the node is
/// involved (the agency key signs, it is not a MAC key for the web page).
fn csrf(session: &str) -> String {
    hex::encode(blake3::derive_key("kawan web csrf v2", session.as_bytes()))
}

/// Headers every page carries: no framing, no sniffing, no referrer, and a
/// Content-Security-Policy that allows only this origin's stylesheet,
/// scripts (no inline script at all) and connections (the alert stream).
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, axum::http::HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    r
}

#[cfg(test)]
mod tests {
    /// docs/security.md W7: a CSRF token is a function of the session id
    /// alone (a known answer: mixing any node key in changes it), differs
    /// per session, and does not carry the id.
    #[test]
    fn a_csrf_token_depends_on_the_session_alone() {
        let session = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        assert_eq!(super::csrf(session), "36e454e3862360697a684aa8edc96ac8e1af7ea3b3921c1d0212b8eb55ce7c62");
        assert_ne!(super::csrf(session), super::csrf("another session"));
        assert!(!super::csrf(session).contains(&session[..16]));
    }
}
