//! Cases: they stay on this node, and the page says so.

use axum::{
    Form,
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    Session,
    layout::{hits_table, page},
};

pub(super) async fn list(s: Session) -> Response {
    let cases = match s.svc.cases(s.caller.clone()).await {
        Ok(cases) => cases,
        Err(e) => return s.failed("Cases", e),
    };
    page(&s.svc, Some(&s), "Cases", html! {
        div.note { "Cases stay on this node. Nothing here is ever sent to another agency." }
        table {
            thead { tr { th { "Reference" } th { "Title" } th { "Linked records" } } }
            tbody { @for c in &cases { tr { td { a href={"/cases/" (c.id)} { (c.reference) } } td { (c.title) } td { @for l in &c.links { a href={"/indicator/" (l)} { code { (l.get(..12).unwrap_or(l)) } } " " } } } } }
        }
    })
    .into_response()
}

pub(super) async fn case(s: Session, Path(id): Path<u64>) -> Response {
    let (case, linked) = match s.svc.case(s.caller.clone(), id).await {
        Ok(found) => found,
        Err(e) => return s.failed("Case", e),
    };
    let alerts: Vec<_> = s
        .svc
        .alerts(s.caller.clone(), 1000)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.cases.contains(&id))
        .collect();
    page(&s.svc, Some(&s), &format!("Case {}", case.reference), html! {
        div.note { "This case stays on this node. Nothing here is ever sent to another agency." }
        p { strong { (case.title) } }
        @if !case.notes.is_empty() { p { (case.notes) } }
        @if !case.details.is_null() { pre { code { (serde_json::to_string_pretty(&case.details).unwrap_or_default()) } } }
        h2 { "Values this case holds" }
        p.muted { "Kept on this node. Watched: an alert is raised when a partner publishes one. "
            @if case.deconfliction_opt_out { "This case is kept out of deconfliction: partners asking about its values get no hit from it." }
            @else { "Deconflictable: a partner asking about one learns only that this agency holds something on it." } }
        ul { @for v in &case.values { li { code { (v.value) } " " span.muted { (v.kind) } } } }
        form method="post" action=(format!("/cases/{id}/values")) {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="case-value" { "Add a value (any form; its kind is recognised)" }
            input id="case-value" type="text" name="value" required;
            " " button type="submit" { "Add" }
        }
        form method="post" action=(format!("/cases/{id}/deconflict")) {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="dc-purpose" { "Ask the network who else holds this case's values (purpose, logged by each member)" }
            input id="dc-purpose" type="text" name="purpose" value=(format!("case {}", case.reference)) required;
            " " button type="submit" { "Deconflict this case" }
        }
        h2 { "Linked shared records" }
        @if linked.is_empty() { p.muted { "None." } } @else { (hits_table(&linked)) }
        h2 { "Others on the same values" }
        @if alerts.is_empty() { p.muted { "No other agency has published a value this case holds." } }
        ul { @for a in &alerts {
            li { (super::layout::date(Some(a.created_ms))) ": " (a.author_name) " published " code { (a.value) } " (" (a.r#type) " on " (a.channel) ") " a href=(format!("/record/{}", a.root)) { "see it" } }
        } }
    })
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct ValueForm {
    csrf: String,
    value: String,
}

pub(super) async fn add_value(s: Session, Path(id): Path<u64>, Form(f): Form<ValueForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    match s.svc.add_case_value(s.caller.clone(), id, None, f.value).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => s.failed("Case", e),
    }
}
