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
        Err(e) => return s.failed("cases-title", e),
    };
    let t = |id: &str| super::i18n::t(s.lang, id);
    page(&s.svc, Some(&s), &t("cases-title"), html! {
        div.note { (t("cases-stay")) }
        table {
            thead { tr { th { (t("cases-col-reference")) } th { (t("cases-col-title")) } th { (t("cases-col-linked")) } } }
            tbody { @for c in &cases { tr { td { a href={"/cases/" (c.id)} { (c.reference) } } td { (c.title) } td { @for l in &c.links { a href={"/indicator/" (l)} { code { (l.get(..12).unwrap_or(l)) } } " " } } } } }
        }
    })
    .into_response()
}

pub(super) async fn case(s: Session, Path(id): Path<u64>) -> Response {
    let (case, linked) = match s.svc.case(s.caller.clone(), id).await {
        Ok(found) => found,
        Err(e) => return s.failed("case-title-plain", e),
    };
    let alerts: Vec<_> = s
        .svc
        .alerts(s.caller.clone(), 1000)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.cases.contains(&id))
        .collect();
    let t = |id: &str| super::i18n::t(s.lang, id);
    let title = super::i18n::t_args(s.lang, "case-title", &[("reference", case.reference.clone().into())]);
    page(&s.svc, Some(&s), &title, html! {
        div.note { (t("case-stays")) }
        p { strong { (case.title) } }
        @if !case.notes.is_empty() { p { (case.notes) } }
        @if !case.details.is_null() { pre { code { (serde_json::to_string_pretty(&case.details).unwrap_or_default()) } } }
        h2 { (t("case-values")) }
        p.muted { (t("case-values-note")) " "
            @if case.deconfliction_opt_out { (t("case-opted-out")) }
            @else { (t("case-deconflictable")) } }
        ul { @for v in &case.values { li { code { (v.value) } " " span.muted { (super::layout::kind_one(s.lang, v.kind)) } } } }
        form method="post" action=(format!("/cases/{id}/values")) {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="case-value" { (t("case-add-value")) }
            input id="case-value" type="text" name="value" required;
            " " button type="submit" { (t("case-add")) }
        }
        form method="post" action=(format!("/cases/{id}/deconflict")) {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="dc-purpose" { (t("case-ask")) }
            input id="dc-purpose" type="text" name="purpose" value=(format!("case {}", case.reference)) required;
            " " button type="submit" { (t("case-deconflict")) }
        }
        h2 { (t("case-linked")) }
        @if linked.is_empty() { p.muted { (t("case-none")) } } @else { (hits_table(&s, &linked)) }
        h2 { (t("case-others")) }
        @if alerts.is_empty() { p.muted { (t("case-no-others")) } }
        ul { @for a in &alerts {
            li { (super::layout::time(&s.zone, a.created_ms)) ": " (super::i18n::t_args(s.lang, "case-published", &[("agency", a.author_name.clone().into())])) " " code { (a.value) } " " a href=(format!("/record/{}", a.root)) { (t("case-see")) } }
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
        Err(e) => s.failed("case-title-plain", e),
    }
}
