//! Logging in with a token, out again, and one-time login links. A login
//! starts a server-side session: the browser's cookie holds a random session
//! id, never the token. The login forms carry their own CSRF token (a
//! double-submit cookie), so no other site can log a browser in; a login
//! link only shows a form naming whom it logs in as (opening it logs
//! nobody in), so another token holder's link cannot silently swap a
//! browser's identity.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{Session, layout::public_page};
use crate::{
    http::auth::{COOKIE, cookie},
    service::{Service, same},
};

/// The login form's CSRF cookie.
const LOGIN_COOKIE: &str = "kawan_login";
/// Sessions last at most this long in the browser too (the server ends them sooner when idle).
const MAX_AGE_S: u64 = crate::local::sessions::ABSOLUTE_MS / 1000;

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
    login_csrf: String,
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    code: String,
    login_csrf: String,
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// Whether the browser reached us over TLS (through a reverse proxy).
fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn set_cookie(r: &mut Response, name: &str, value: &str, max_age: u64, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&text) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A fresh login CSRF nonce, or the response that says there is none.
fn nonce() -> Result<String, Box<Response>> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map(|()| hex::encode(nonce)).map_err(|_| {
        Box::new((StatusCode::INTERNAL_SERVER_ERROR, "no random source; see the node's log").into_response())
    })
}

fn lang_of(headers: &HeaderMap) -> super::i18n::Lang {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    super::i18n::negotiate(cookie(headers, super::i18n::COOKIE).as_deref(), accept)
}

/// The login page, with a fresh login CSRF token in a cookie and the form.
fn login_page(svc: &Service, headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = match nonce() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let lang = lang_of(headers);
    let t = |id: &str| super::i18n::t(lang, id);
    let body = public_page(
        svc,
        lang,
        &t("login-title"),
        html! {
            @if let Some(e) = error { div.error { (t(e)) } }
            form method="post" action="/login" {
                input type="hidden" name="login_csrf" value=(nonce);
                label for="token" { (t("login-token")) }
                input id="token" type="password" name="token" autocomplete="current-password" required;
                p { button type="submit" { (t("login-button")) } }
            }
            p.muted { (t("login-help")) }
        },
    );
    let mut r = (status, body).into_response();
    set_cookie(&mut r, LOGIN_COOKIE, &nonce, 600, over_tls(headers));
    r
}

pub(super) async fn form(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    login_page(&svc, &headers, StatusCode::OK, None)
}

pub(super) async fn login(State(svc): State<Arc<Service>>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(&expected, &f.login_csrf) {
        return (StatusCode::FORBIDDEN, "invalid login form; reload the login page").into_response();
    }
    match svc.start_session(f.token.trim().to_string()).await {
        Ok(session) => logged_in(&session, over_tls(&headers)),
        Err(_) => login_page(&svc, &headers, StatusCode::UNAUTHORIZED, Some("login-unknown")),
    }
}

pub(super) async fn logout(s: Session, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    if let Err(e) = s.svc.end_session(s.caller.clone(), s.id.clone()).await {
        return s.failed("log-out", e);
    }
    let mut r = Redirect::to("/login").into_response();
    set_cookie(&mut r, COOKIE, "", 0, over_tls(&headers));
    r
}

/// The purpose box in the header: the session's stated purpose.
#[derive(Deserialize)]
pub(super) struct PurposeForm {
    csrf: String,
    purpose: String,
}

/// States (or, blank, clears) the session's purpose, then goes back to the
/// page the form was on. The purpose is logged with every consultation
/// made in this session until it changes.
pub(super) async fn purpose(s: Session, headers: HeaderMap, Form(f): Form<PurposeForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let purpose = Some(f.purpose).filter(|p| !p.trim().is_empty());
    if let Err(e) = s.svc.set_session_purpose(s.caller.clone(), s.id.clone(), purpose).await {
        return s.failed("purpose-set", e);
    }
    Redirect::to(&back_to(&headers)).into_response()
}

/// The local page a form was posted from (its `Referer`), else home: only
/// a path on this node, never another site.
fn back_to(headers: &HeaderMap) -> String {
    let referer = headers.get(axum::http::header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("/");
    let path = match referer.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => referer,
    };
    if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') { path.to_string() } else { "/".into() }
}

/// A one-time login link (`kawan demo` prints one): the code is good once,
/// for five minutes. Opening it shows whom it logs in as and a button.
pub(super) async fn once(State(svc): State<Arc<Service>>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let Some(name) = svc.login_link_holder(&code) else {
        return login_page(&svc, &headers, StatusCode::NOT_FOUND, Some("login-link-used"));
    };
    let nonce = match nonce() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let lang = lang_of(&headers);
    let t = |id: &str| super::i18n::t_args(lang, id, &[("name", fluent_bundle::FluentValue::from(name.as_str()))]);
    let body = public_page(
        &svc,
        lang,
        &t("login-link-title"),
        html! {
            p { (t("login-link-as")) }
            form method="post" action="/login/once" {
                input type="hidden" name="code" value=(code);
                input type="hidden" name="login_csrf" value=(nonce);
                p { button type="submit" { (t("login-link-button")) } }
            }
        },
    );
    let mut r = (StatusCode::OK, body).into_response();
    set_cookie(&mut r, LOGIN_COOKIE, &nonce, 600, over_tls(&headers));
    r
}

/// The login link's button: uses the link up and starts a session.
pub(super) async fn once_post(
    State(svc): State<Arc<Service>>,
    headers: HeaderMap,
    Form(f): Form<LinkForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(&expected, &f.login_csrf) {
        return (StatusCode::FORBIDDEN, "invalid login form; open the link again").into_response();
    }
    let started = match svc.redeem_login_link(&f.code) {
        Some(token) => svc.start_session(token).await.ok(),
        None => None,
    };
    match started {
        Some(session) => logged_in(&session, over_tls(&headers)),
        None => login_page(&svc, &headers, StatusCode::NOT_FOUND, Some("login-link-used")),
    }
}

/// Sends a browser to the search page holding the session cookie.
fn logged_in(session: &str, secure: bool) -> Response {
    let mut r = Redirect::to("/").into_response();
    set_cookie(&mut r, COOKIE, session, MAX_AGE_S, secure);
    r
}
