//! The Requests page: ask the network (or a sharing group) a question —
//! values it names are checked privately first, and where members hold
//! them the page says who and why nothing was sent, with the way to ask
//! them directly or to broadcast anyway — partners' open requests to us,
//! ours with their answers (overdue ones marked), and one request's thread
//! with the answer form, useful marks and closing for the asker.

use axum::{
    Form,
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::{Content, Priority, RequestStatus};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Session,
    i18n::{self, Lang},
    layout::{agency, date, page, refusal},
};
use crate::{
    local::deconflict::Query as Check,
    service::{AskValue, Asked, NewAnswer, NewRequest, RequestScope, RequestThread, RequestUpdate, ServiceError},
};

#[derive(Debug, Clone, Deserialize)]
pub(super) struct AskForm {
    csrf: String,
    question: String,
    #[serde(default)]
    values: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    priority: String,
    tlp: String,
    #[serde(default)]
    group: String,
    /// YYYY-MM-DD, in the reader's time zone: needed by the end of that day.
    #[serde(default)]
    deadline: String,
    /// The private check's id, when the analyst broadcasts anyway.
    checked: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    csrf: String,
    text: String,
    #[serde(default)]
    values: String,
    #[serde(default)]
    tlp: String,
    #[serde(default)]
    group: String,
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    csrf: String,
    status: Option<String>,
    useful: Option<String>,
}

fn status_label(lang: Lang, st: RequestStatus) -> String {
    i18n::t(lang, &format!("req-status-{}", st.as_str()))
}

fn priority_label(lang: Lang, p: Priority) -> String {
    i18n::t(lang, &format!("req-priority-{}", p.as_str()))
}

pub(super) async fn list(s: Session) -> Response {
    render(&s, None).await
}

/// The page, with what became of an ask if there was one.
async fn render(s: &Session, outcome: Option<Result<Option<(Check, AskForm)>, ServiceError>>) -> Response {
    let (to_us, ours) = match (
        s.svc.requests(s.caller.clone(), RequestScope::ToUs, None).await,
        s.svc.requests(s.caller.clone(), RequestScope::Ours, None).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return s.failed("req-title", e),
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let groups = s.svc.groups();
    let platforms: Vec<&str> = kawan_protocol::normalize::platforms().collect();
    let status = match &outcome {
        Some(Err(e)) => crate::http::error::status_of(e.fault),
        _ => axum::http::StatusCode::OK,
    };
    let body = html! {
        @match &outcome {
            Some(Err(e)) => (refusal(lang, e)),
            Some(Ok(Some((check, form)))) => (held(s, check, form)),
            Some(Ok(None)) => p.notice role="status" { (t("req-sent")) },
            None => {},
        }
        h2 { (t("req-to-us")) }
        @if to_us.is_empty() { p.muted { (t("req-none")) } } @else { (table(s, &to_us)) }
        h2 { (t("req-ours")) }
        @if ours.is_empty() { p.muted { (t("req-none")) } } @else { (table(s, &ours)) }
        h2 { (t("req-ask")) }
        p.muted { (t("req-ask-intro")) }
        form method="post" action="/requests" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="question" { (t("req-question")) }
            textarea id="question" name="question" rows="3" required {}
            label for="values" { (t("req-values")) }
            textarea id="values" name="values" rows="3" {}
            label for="platform" { (t("req-platform")) }
            select id="platform" name="platform" {
                option value="" { (t("req-no-platform")) }
                @for p in &platforms { option value=(p) { (p) } }
            }
            label for="priority" { (t("req-priority")) }
            select id="priority" name="priority" { @for p in Priority::ALL { option value=(p.as_str()) { (priority_label(lang, p)) } } }
            label for="deadline" { (t("req-deadline")) }
            input id="deadline" type="date" name="deadline";
            label for="tlp" { "TLP" }
            select id="tlp" name="tlp" { @for v in ["green", "clear", "amber", "amber+strict"] { option value=(v) { (v.to_uppercase()) } } }
            label for="group" { (t("ref-group")) }
            select id="group" name="group" { option value="" { (t("ref-whole-network")) } @for g in &groups { option value=(g) { (g) } } }
            p { button type="submit" { (t("req-submit")) } }
        }
    };
    (status, page(&s.svc, Some(s), &t("req-title"), body)).into_response()
}

/// Why nothing was sent: who holds which value, and the two ways on.
fn held(s: &Session, check: &Check, form: &AskForm) -> Markup {
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    html! {
        div.notice role="alert" {
            p { strong { (t("req-held")) } }
            ul {
                @for a in check.answers.iter().filter(|a| !a.hits.is_empty()) {
                    @for i in &a.hits {
                        @if let Some(v) = check.values.get(*i) {
                            li { (a.name) " — " code { (v.value) } }
                        }
                    }
                }
            }
            @let unasked: Vec<&str> = check.answers.iter().filter(|a| a.error.is_some()).map(|a| a.name.as_str()).collect();
            @if !unasked.is_empty() { p { (t("req-unasked")) " " (unasked.join(", ")) } }
            p { a href=(format!("/deconflict#q-{}", check.id)) { (t("req-held-contact")) } }
            form method="post" action="/requests" {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="checked" value=(check.id);
                @for (name, value) in [("question", &form.question), ("values", &form.values), ("platform", &form.platform),
                    ("priority", &form.priority), ("tlp", &form.tlp), ("group", &form.group), ("deadline", &form.deadline)] {
                    input type="hidden" name=(name) value=(value);
                }
                button type="submit" { (t("req-held-broadcast")) }
            }
        }
    }
}

fn table(s: &Session, threads: &[RequestThread]) -> Markup {
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    html! {
        table {
            thead { tr { th { (t("req-col-question")) } th { (t("ref-col-agency")) } th { (t("req-col-status")) } th { (t("req-col-deadline")) } th { (t("req-col-answers")) } } }
            tbody { @for th in threads {
                @if let Content::Request(r) = &th.request.hit.content {
                    tr {
                        td { a href=(format!("/requests/{}", th.request.hit.id)) { (crate::service::first_line(&r.question)) } }
                        td { (agency(&th.request)) }
                        td { (status_label(lang, r.status)) " · " (priority_label(lang, r.priority)) }
                        td { (date(&s.zone, r.deadline_ms)) @if th.overdue { " " strong.overdue { (t("req-overdue")) } } }
                        td { (th.answers.len()) }
                    }
                }
            } }
        }
    }
}

/// Values as typed, one per line; the node guesses each kind.
fn values_of(raw: &str) -> Vec<AskValue> {
    raw.lines()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| AskValue { kind: None, value: v.to_string() })
        .collect()
}

fn optional(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

pub(super) async fn ask(s: Session, Form(f): Form<AskForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let deadline_ms = match optional(&f.deadline).map(|d| end_of(&s.zone, &d)).transpose() {
        Ok(d) => d,
        Err(e) => return render(&s, Some(Err(e))).await,
    };
    let new = NewRequest {
        question: f.question.clone(),
        values: values_of(&f.values),
        records: vec![],
        platform: optional(&f.platform),
        priority: optional(&f.priority),
        tlp: f.tlp.clone(),
        group: optional(&f.group),
        deadline_ms,
        review_ms: None,
        checked: f.checked,
        attachments: vec![],
    };
    match s.svc.create_request(s.caller.clone(), new).await {
        Ok(Asked::Published(p)) => Redirect::to(&format!("/requests/{}", p.id)).into_response(),
        Ok(Asked::Held(check)) => render(&s, Some(Ok(Some((check, f))))).await,
        Err(e) => render(&s, Some(Err(e))).await,
    }
}

/// The end of day `raw` (YYYY-MM-DD) in the reader's zone, as Unix ms.
pub(super) fn end_of(zone: &jiff::tz::TimeZone, raw: &str) -> Result<u64, ServiceError> {
    let bad = || ServiceError::field("deadline", format!("{raw:?} is not a date YYYY-MM-DD"));
    let day: jiff::civil::Date = raw.parse().map_err(|_| bad())?;
    let next = day.tomorrow().map_err(|_| bad())?.to_zoned(zone.clone()).map_err(|_| bad())?;
    u64::try_from(next.timestamp().as_millisecond() - 1).map_err(|_| bad())
}

pub(super) async fn thread(s: Session, Path(id): Path<String>) -> Response {
    show(&s, &id, None).await
}

async fn show(s: &Session, id: &str, message: Option<Result<String, ServiceError>>) -> Response {
    let (th, ours) = match s.svc.request_thread(s.caller.clone(), id).await {
        Ok(x) => x,
        Err(e) => return s.failed("req-title", e),
    };
    let Content::Request(r) = &th.request.hit.content else {
        return s.failed("req-title", ServiceError::not_found(format!("no request {id}")));
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let groups = s.svc.groups();
    let status = match &message {
        Some(Err(e)) => crate::http::error::status_of(e.fault),
        _ => axum::http::StatusCode::OK,
    };
    let body = html! {
        @match &message {
            Some(Ok(m)) => p.notice role="status" { (m) },
            Some(Err(e)) => (refusal(lang, e)),
            None => {},
        }
        p {
            (agency(&th.request)) " · " (status_label(lang, r.status)) " · " (priority_label(lang, r.priority))
            " · " (th.request.hit.channel.to_string()) " · TLP:" (r.tlp.as_str().to_uppercase())
            @if let Some(d) = r.deadline_ms { " · " (t("req-col-deadline")) " " (date(&s.zone, Some(d))) }
            @if th.overdue { " " strong.overdue { (t("req-overdue")) } }
        }
        blockquote.question { @for line in r.question.lines() { (line) br; } }
        @if !r.values.is_empty() {
            ul { @for v in &r.values { li { (super::layout::kind_one(lang, v.kind)) " " code { (v.value) } } } }
        }
        @if let Some(p) = &r.platform { p { (t("req-platform")) ": " (p) } }
        (super::layout::files(lang, &s.zone, &r.attachments))
        h2 { (t("req-answers")) }
        @if th.answers.is_empty() { p.muted { (t("req-no-answers")) } }
        @for a in &th.answers {
            @if let Content::Answer(ans) = &a.hit.content {
                article.answer {
                    p {
                        strong { (agency(a)) } " · " (date(&s.zone, Some(a.hit.created_ms))) " · " (a.hit.channel.to_string())
                        @if r.useful.contains(&a.hit.id) { " · " strong { (t("req-useful")) } }
                    }
                    p { @for line in ans.text.lines() { (line) br; } }
                    @if !ans.values.is_empty() {
                        ul { @for v in &ans.values { li { (super::layout::kind_one(lang, v.kind)) " " code { (v.value) } } } }
                    }
                    (super::layout::files(lang, &s.zone, &ans.attachments))
                    @if ours && !r.useful.contains(&a.hit.id) && r.status != RequestStatus::Closed && a.hit.channel == th.request.hit.channel {
                        form method="post" action=(format!("/requests/{}/status", th.request.hit.id)) {
                            input type="hidden" name="csrf" value=(s.csrf);
                            input type="hidden" name="useful" value=(a.hit.id.to_string());
                            button type="submit" { (t("req-mark-useful")) }
                        }
                    }
                }
            }
        }
        @if r.status != RequestStatus::Closed {
            h2 { (t("req-answer")) }
            form method="post" action=(format!("/requests/{}/answers", th.request.hit.id)) {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="text" { (t("req-answer-text")) }
                textarea id="text" name="text" rows="4" required {}
                label for="values" { (t("req-values")) }
                textarea id="values" name="values" rows="2" {}
                label for="tlp" { "TLP" }
                select id="tlp" name="tlp" { @for v in ["green", "clear", "amber", "amber+strict"] { option value=(v) selected[v == r.tlp.as_str()] { (v.to_uppercase()) } } }
                label for="group" { (t("req-answer-group")) }
                select id="group" name="group" {
                    option value="" { (t("req-same-audience")) }
                    @for g in &groups { option value=(g) { (g) } }
                }
                p { button type="submit" { (t("req-answer-submit")) } }
            }
            @if ours {
                form method="post" action=(format!("/requests/{}/status", th.request.hit.id)) {
                    input type="hidden" name="csrf" value=(s.csrf);
                    input type="hidden" name="status" value="closed";
                    button type="submit" { (t("req-close")) }
                }
            }
        }
        p { a href="/requests" { (t("req-back")) } }
    };
    (status, page(&s.svc, Some(s), &crate::service::first_line(&r.question), body)).into_response()
}

pub(super) async fn answer(s: Session, Path(id): Path<String>, Form(f): Form<AnswerForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let new = NewAnswer {
        text: f.text,
        values: values_of(&f.values),
        cites: vec![],
        tlp: optional(&f.tlp),
        group: optional(&f.group),
        review_ms: None,
        attachments: vec![],
    };
    let done = s.svc.answer_request(s.caller.clone(), &id, new).await.map(|_| i18n::t(s.lang, "req-answer-sent"));
    show(&s, &id, Some(done)).await
}

pub(super) async fn update(s: Session, Path(id): Path<String>, Form(f): Form<StatusForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let update = RequestUpdate { status: f.status, useful: f.useful.into_iter().collect() };
    let done = s.svc.update_request(s.caller.clone(), &id, update).await.map(|_| i18n::t(s.lang, "req-updated"));
    show(&s, &id, Some(done)).await
}
