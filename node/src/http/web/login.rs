//! Logging in with a token, out again, and one-time login links.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Session, layout::page};
use crate::{http::auth::COOKIE, policy, service::Service};

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

fn login_page(svc: &Service, error: Option<&str>) -> Markup {
    page(
        svc,
        None,
        "Log in",
        html! {
            @if let Some(e) = error { div.error { (e) } }
            form method="post" action="/login" {
                label for="token" { "API token" }
                input id="token" type="password" name="token" autocomplete="current-password" required;
                p { button type="submit" { "Log in" } }
            }
            p.muted { "Ask your node operator for a token (kawan token create NAME --role analyst)." }
        },
    )
}

pub(super) async fn form(State(svc): State<Arc<Service>>) -> Markup {
    login_page(&svc, None)
}

pub(super) async fn login(State(svc): State<Arc<Service>>, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.trim().to_string();
    // Only token characters go into the cookie header.
    let well_formed = token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match svc.authenticate(token.clone(), policy::Path::Web).await {
        Ok(_) if well_formed => logged_in(&token),
        _ => (StatusCode::UNAUTHORIZED, login_page(&svc, Some("Unknown or revoked token."))).into_response(),
    }
}

pub(super) async fn logout(s: Session, Form(f): Form<CsrfForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let mut r = Redirect::to("/login").into_response();
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A one-time login link (`kawan demo` prints one): the code is good once,
/// for five minutes, and is exchanged for the session cookie.
pub(super) async fn once(State(svc): State<Arc<Service>>, Path(code): Path<String>) -> Response {
    match svc.redeem_login_link(&code) {
        Some(token) => logged_in(&token),
        None => {
            (StatusCode::NOT_FOUND, login_page(&svc, Some("This login link was used or has expired."))).into_response()
        }
    }
}

/// Sends a browser to the search page holding the session cookie for `token`.
fn logged_in(token: &str) -> Response {
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200");
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
