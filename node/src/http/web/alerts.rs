//! The Alerts page: what arrived that matches what this agency watches or
//! holds in its cases, acknowledging it, and the caller's watchlist.

use axum::{
    Form,
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    Session,
    home::channel_label,
    i18n,
    layout::{page, time},
};
use crate::service::{NewWatch, ServiceError};

#[derive(Deserialize)]
pub(super) struct WatchForm {
    csrf: String,
    kind: String,
    value: String,
    note: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct AckForm {
    csrf: String,
}

pub(super) async fn list(s: Session) -> Response {
    render(&s, None).await
}

async fn render(s: &Session, error: Option<&ServiceError>) -> Response {
    let (alerts, entries) = match (s.svc.alerts(s.caller.clone(), 200).await, s.svc.watchlist(s.caller.clone()).await) {
        (Ok(a), Ok(e)) => (a, e),
        (Err(e), _) | (_, Err(e)) => return s.failed("alerts-title", e),
    };
    let unread = alerts.iter().filter(|a| a.acknowledged_by.is_none()).count();
    let dead = if s.caller.role == crate::local::tokens::Role::Operator {
        s.svc.dead_letters(s.caller.clone()).await.unwrap_or_default()
    } else {
        vec![]
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let with = |id: &str, k: &str, v: String| i18n::t_args(lang, id, &[(k, v.into())]);
    page(&s.svc, Some(s), &t("alerts-title"), html! {
        @if let Some(e) = error { (super::layout::refusal(lang, e)) }
        p { (i18n::t_args(lang, "alerts-intro", &[("n", unread.into())])) }
        table id="alerts" data-words=(live_words(s)) {
            thead { tr { th { (t("alerts-col-when")) } th { (t("alerts-col-who")) } th { (t("alerts-col-value")) } th { (t("alerts-col-matched")) } th {} } }
            tbody { @for a in &alerts {
                tr class=(if a.acknowledged_by.is_none() { "unread" } else { "read" }) {
                    td { (time(&s.zone, a.created_ms)) }
                    td { (a.author_name) br; span.muted { (i18n::t_args(lang, "alerts-type-on", &[("type", t(&format!("alerts-type-{}", a.r#type)).into()), ("channel", channel_label(lang, &a.channel).into())])) } }
                    td {
                        @if a.r#type.starts_with("contact") {
                            a href=(format!("/deconflict#contact-{}", a.root)) { code { (a.value) } }
                        } @else {
                            a href=(format!("/record/{}", a.root)) { code { (a.value) } }
                        }
                        br; span.muted { (super::layout::kind_one(lang, a.kind)) }
                    }
                    td {
                        @for w in &a.watches { (with("alerts-watch-entry", "id", w.to_string())) br; }
                        @for c in &a.cases { a href=(format!("/cases/{c}")) { (with("alerts-case", "id", c.to_string())) } br; }
                        @for r in &a.ours { a href=(format!("/record/{r}")) { (t("alerts-ours")) } br; }
                    }
                    td {
                        @match &a.acknowledged_by {
                            Some(by) => span.muted { (with("alerts-seen-by", "name", by.clone())) },
                            None => form method="post" action=(format!("/alerts/{}/ack", a.id)) {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { (t("alerts-mark-seen")) }
                            },
                        }
                    }
                }
            } }
        }
        @if alerts.is_empty() { p.muted id="no-alerts" { (t("alerts-none")) } }
        script src="/static/alerts.js" {}
        @if !dead.is_empty() {
            div.error { (i18n::t_args(lang, "alerts-dead", &[("n", dead.len().into())])) }
            ul { @for d in &dead { li {
                (i18n::t_args(lang, "alerts-dead-one", &[("id", d.alert.into()), ("attempts", d.attempts.into()), ("date", time(&s.zone, d.failed_ms).into())]))
                " " span lang="en" { (d.error) }
            } } }
        }
        h2 { (t("alerts-watchlist")) }
        ul { @for e in &entries { li { code { (e.value) } " " span.muted { (super::layout::kind_one(lang, e.kind)) } @if let Some(n) = &e.note { " — " (n) } } } }
        form method="post" action="/alerts/watch" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="kind" { (t("alerts-kind")) }
            select id="kind" name="kind" { @for k in kawan_protocol::Kind::ALL { option value=(k) { (super::layout::kind_one(lang, k)) } } }
            label for="value" { (t("alerts-value-any")) }
            input id="value" type="text" name="value" required;
            label for="note" { (t("alerts-note")) }
            input id="note" type="text" name="note";
            p { button type="submit" { (t("alerts-watch")) } }
        }
    })
    .into_response()
}

pub(super) async fn watch(s: Session, Form(f): Form<WatchForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let new = NewWatch { kind: f.kind, value: f.value, note: f.note, expires_ms: None };
    match s.svc.watch(s.caller.clone(), new).await {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => refused(&s, e).await,
    }
}

pub(super) async fn acknowledge(s: Session, Path(id): Path<u64>, Form(f): Form<AckForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    match s.svc.acknowledge_alert(s.caller.clone(), id).await {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => refused(&s, e).await,
    }
}

async fn refused(s: &Session, e: ServiceError) -> Response {
    let status = crate::http::error::status_of(e.fault);
    (status, render(s, Some(&e)).await).into_response()
}

/// The words alerts.js needs for rows that arrive live, in the reader's
/// language: `{id}` stands for a watch entry's or case's number.
fn live_words(s: &Session) -> String {
    let lang = s.lang;
    let families = kawan_protocol::Family::ALL.map(kawan_protocol::Family::as_str);
    let types = families.iter().copied().chain(["contact_request", "contact_answer"]);
    let mut channels: Vec<String> = s.svc.groups().into_iter().map(|g| format!("group:{g}")).collect();
    channels.push("network".into());
    serde_json::json!({
        "watch": i18n::t_args(lang, "alerts-watch-entry", &[("id", "{id}".into())]),
        "case": i18n::t_args(lang, "alerts-case", &[("id", "{id}".into())]),
        "on": i18n::t_args(lang, "alerts-type-on", &[("type", "{type}".into()), ("channel", "{channel}".into())]),
        "fresh": i18n::t(lang, "alerts-live-new"),
        "ours": i18n::t(lang, "alerts-ours"),
        "types": types.map(|t| (t.to_string(), i18n::t(lang, &format!("alerts-type-{t}")).into())).collect::<serde_json::Map<_, _>>(),
        "kinds": kawan_protocol::Kind::ALL.iter().map(|k| (k.to_string(), super::layout::kind_one(lang, *k).into())).collect::<serde_json::Map<_, _>>(),
        "channels": channels.iter().map(|c| (c.clone(), channel_label(lang, c).into())).collect::<serde_json::Map<_, _>>(),
    })
    .to_string()
}

/// The page's live feed: the same events as `/api/v1/alerts/stream`, for
/// the session's caller.
pub(super) async fn stream(s: Session) -> Response {
    match crate::http::sse::alerts(&s.svc, s.caller.clone()) {
        Ok(events) => events.into_response(),
        Err(e) => s.failed("alerts-title", e),
    }
}
