//! The Deconfliction page: ask every member privately whether it holds
//! anything on values, see who answered hit, ask a holder to get in touch,
//! and answer partners' contact requests.

use axum::{
    Form,
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Session,
    i18n::{self, Lang},
    layout::{page, time},
};
use crate::{
    local::deconflict::{Contact, ContactStatus, Direction, Query},
    service::{AskValue, ContactReply, NewContact, NewDeconfliction, ServiceError},
};

#[derive(Deserialize)]
pub(super) struct AskForm {
    csrf: String,
    values: String,
    purpose: String,
}

#[derive(Deserialize)]
pub(super) struct CaseForm {
    csrf: String,
    purpose: String,
}

#[derive(Deserialize)]
pub(super) struct ContactForm {
    csrf: String,
    holder: String,
    kind: String,
    value: String,
    query: u64,
    message: String,
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    csrf: String,
    accept: String,
    contact: Option<String>,
    message: Option<String>,
}

pub(super) async fn page_(s: Session) -> Response {
    render(&s, None).await
}

/// Values pasted one per line; kinds guessed.
pub(super) async fn ask(s: Session, Form(f): Form<AskForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let values = f
        .values
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|v| AskValue { kind: None, value: v.to_string() })
        .collect();
    let ask = NewDeconfliction { values, purpose: f.purpose, case: None, group: None };
    match s.svc.deconflict(s.caller.clone(), ask).await {
        Ok(q) => Redirect::to(&format!("/deconflict#q-{}", q.id)).into_response(),
        Err(e) => refused(&s, e).await,
    }
}

/// Every value a case holds, in one question.
pub(super) async fn case(s: Session, Path(id): Path<u64>, Form(f): Form<CaseForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let ask = NewDeconfliction { values: vec![], purpose: f.purpose, case: Some(id), group: None };
    match s.svc.deconflict(s.caller.clone(), ask).await {
        Ok(q) => Redirect::to(&format!("/deconflict#q-{}", q.id)).into_response(),
        Err(e) => refused(&s, e).await,
    }
}

pub(super) async fn contact(s: Session, Form(f): Form<ContactForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let new =
        NewContact { holder: f.holder, kind: Some(f.kind), value: f.value, message: f.message, query: Some(f.query) };
    match s.svc.request_contact(s.caller.clone(), new).await {
        Ok(c) => Redirect::to(&format!("/deconflict#contact-{}", c.id)).into_response(),
        Err(e) => refused(&s, e).await,
    }
}

pub(super) async fn answer(s: Session, Path(id): Path<String>, Form(f): Form<AnswerForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let reply = ContactReply {
        accept: f.accept == "yes",
        contact: f.contact.filter(|c| !c.trim().is_empty()),
        message: f.message.unwrap_or_default(),
    };
    match s.svc.answer_contact(s.caller.clone(), id.clone(), reply).await {
        Ok(_) => Redirect::to(&format!("/deconflict#contact-{id}")).into_response(),
        Err(e) => refused(&s, e).await,
    }
}

async fn refused(s: &Session, e: ServiceError) -> Response {
    let status = crate::http::error::status_of(e.fault);
    (status, render(s, Some(&e)).await).into_response()
}

async fn render(s: &Session, error: Option<&ServiceError>) -> Response {
    let (questions, contacts) =
        match (s.svc.deconflictions(s.caller.clone(), 20).await, s.svc.contacts(s.caller.clone()).await) {
            (Ok(q), Ok(c)) => (q, c),
            (Err(e), _) | (_, Err(e)) => return s.failed("dc-title", e),
        };
    let (incoming, outgoing): (Vec<&Contact>, Vec<&Contact>) =
        contacts.iter().partition(|c| c.direction == Direction::Incoming);
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    page(&s.svc, Some(s), &t("dc-title"), html! {
        @if let Some(e) = error { (super::layout::refusal(lang, e)) }
        p { (t("dc-intro")) }
        form method="post" action="/deconflict" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="dc-values" { (t("dc-values")) }
            textarea id="dc-values" name="values" rows="4" required {}
            label for="dc-purpose" { (t("dc-purpose")) }
            input id="dc-purpose" type="text" name="purpose" required;
            p { button type="submit" { (t("dc-ask")) } }
        }
        @if !incoming.is_empty() {
            h2 { (t("dc-partners-asking")) }
            @for c in &incoming { (incoming_row(s, c)) }
        }
        h2 { (t("dc-asked")) }
        @if questions.is_empty() { p.muted { (t("dc-none")) } }
        @for q in &questions { (question(s, q)) }
        @if !outgoing.is_empty() {
            h2 { (t("dc-sent")) }
            ul { @for c in &outgoing {
                li id=(format!("contact-{}", c.id)) {
                    (time(&s.zone, c.created_ms)) ": " (i18n::t_args(lang, "dc-to", &[("agency", c.peer_name.clone().into())])) " " code { (c.value) } " — " strong { (status(lang, c.status)) }
                    @if let Some(p) = &c.answer_contact { " — " (i18n::t_args(lang, "dc-talk-to", &[("contact", p.clone().into())])) }
                    @if let Some(m) = c.answer_message.as_ref().filter(|m| !m.is_empty()) { " — “" (m) "”" }
                }
            } }
        }
    })
    .into_response()
}

fn status(lang: Lang, s: ContactStatus) -> String {
    i18n::t(
        lang,
        match s {
            ContactStatus::Pending => "dc-status-pending",
            ContactStatus::Accepted => "dc-status-accepted",
            ContactStatus::Declined => "dc-status-declined",
        },
    )
}

fn question(s: &Session, q: &Query) -> Markup {
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    html! {
        section.question id=(format!("q-{}", q.id)) {
            h3 { (time(&s.zone, q.created_ms)) " · " (q.values.len()) " · " (q.purpose) @if let Some(c) = &q.case_ref { " · " (i18n::t_args(lang, "dc-case-ref", &[("reference", c.clone().into())])) } }
            table {
                thead { tr { th { (t("dc-col-member")) } th { (t("dc-col-answer")) } } }
                tbody { @for a in &q.answers {
                    tr {
                        td { (a.name) }
                        td {
                            @if let Some(e) = &a.error { span.muted { (i18n::t_args(lang, "dc-no-answer", &[("error", e.clone().into())])) } }
                            @else if a.hits.is_empty() { (t("dc-no-hit")) }
                            @else {
                                strong { (i18n::t_args(lang, "dc-hit", &[("n", a.hits.len().into())])) }
                                @if let Some(c) = &a.contact { " — " (i18n::t_args(lang, "dc-contact", &[("contact", c.clone().into())])) }
                                ul { @for i in &a.hits { @if let Some(v) = q.values.get(*i) {
                                    li {
                                        code { (v.value) } " "
                                        form.inline method="post" action="/contacts" {
                                            input type="hidden" name="csrf" value=(s.csrf);
                                            input type="hidden" name="holder" value=(a.member);
                                            input type="hidden" name="kind" value=(v.kind);
                                            input type="hidden" name="value" value=(v.value);
                                            input type="hidden" name="query" value=(q.id);
                                            input type="text" name="message" aria-label=(t("dc-message-label")) placeholder=(t("dc-message-placeholder")) required;
                                            " " button type="submit" { (t("dc-get-in-touch")) }
                                        }
                                    }
                                } } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn incoming_row(s: &Session, c: &Contact) -> Markup {
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let with = |id: &str, k: &str, v: String| i18n::t_args(lang, id, &[(k, v.into())]);
    html! {
        div.card id=(format!("contact-{}", c.id)) {
            p { strong { (c.peer_name) } " " (with("dc-asks-about", "analyst", c.analyst.clone())) " " code { (c.value) } " — " (with("dc-their-purpose", "purpose", c.purpose.clone()))
                @if let Some(r) = &c.case_ref { ", " (with("dc-their-case", "reference", r.clone())) } }
            @if !c.message.is_empty() { p { "“" (c.message) "”" } }
            p { @if c.cases.is_empty() { span.muted { (t("dc-no-case-here")) } }
                @for id in &c.cases { a href=(format!("/cases/{id}")) { (with("alerts-case", "id", id.to_string())) } " " } }
            @if c.status == ContactStatus::Pending {
                form method="post" action=(format!("/contacts/{}/answer", c.id)) {
                    input type="hidden" name="csrf" value=(s.csrf);
                    label for=(format!("contact-point-{}", c.id)) { (t("dc-contact-point")) }
                    input id=(format!("contact-point-{}", c.id)) type="text" name="contact";
                    label for=(format!("message-{}", c.id)) { (t("dc-answer-message")) }
                    input id=(format!("message-{}", c.id)) type="text" name="message";
                    p { button type="submit" name="accept" value="yes" { (t("dc-accept")) } " " button type="submit" name="accept" value="no" { (t("dc-decline")) } }
                }
            } @else {
                p { strong { (status(lang, c.status)) } @if let Some(by) = &c.answered_by { " " (with("dc-answered-by", "name", by.clone())) } }
            }
        }
    }
}
