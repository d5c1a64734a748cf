//! Bulk check: many values at once, shown as a table or downloaded as CSV.

use axum::{
    Form,
    http::header,
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Session, i18n,
    layout::{agency, page},
};
use crate::service::{BulkItem, MAX_LOOKUP_VALUES};

#[derive(Deserialize)]
pub(super) struct BulkForm {
    csrf: String,
    values: String,
    format: Option<String>,
}

pub(super) async fn form(s: Session) -> Markup {
    page(&s.svc, Some(&s), &i18n::t(s.lang, "bulk-title"), input(&s, ""))
}

fn input(s: &Session, values: &str) -> Markup {
    let t = |id: &str| i18n::t(s.lang, id);
    html! {
        form method="post" action="/bulk" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="values" { (t("bulk-values")) }
            textarea id="values" name="values" rows="10" { (values) }
            label for="file" { (t("bulk-load")) }
            input id="file" type="file" accept=".txt,.csv,text/plain,text/csv";
            p { button type="submit" { (t("bulk-check")) } " " button type="submit" name="format" value="csv" { (t("bulk-download")) } }
        }
        form method="post" action="/bulk/file" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="upload" { (t("bulk-upload")) }
            input id="upload" type="file" name="file" accept=".txt,.csv,text/plain,text/csv" required;
            p { button type="submit" { (t("bulk-check-file")) } " " button type="submit" name="format" value="csv" { (t("bulk-check-download")) } }
        }
        script src="/static/bulk.js" {}
    }
}

pub(super) async fn check(s: Session, Form(f): Form<BulkForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let items = match crate::service::bulk_items(&f.values, None) {
        Ok(items) => items.into_iter().take(MAX_LOOKUP_VALUES).collect(),
        Err(e) => return s.failed("bulk-title", e),
    };
    results(&s, &f.values, items, f.format.as_deref()).await
}

/// A file uploaded without JavaScript (multipart): the same check.
pub(super) async fn upload(s: Session, mut form: axum::extract::Multipart) -> Response {
    let (mut csrf, mut text, mut format) = (String::new(), String::new(), None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let Ok(value) = field.text().await else {
                    return (axum::http::StatusCode::BAD_REQUEST, "the upload is not UTF-8 text").into_response();
                };
                match name.as_str() {
                    "csrf" => csrf = value,
                    "file" => text = value,
                    "format" => format = Some(value),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return (axum::http::StatusCode::BAD_REQUEST, format!("a malformed upload: {e}")).into_response(),
        }
    }
    if let Some(r) = s.refuses(&csrf) {
        return r;
    }
    let items = match crate::service::bulk_items(&text, None) {
        Ok(items) => items.into_iter().take(MAX_LOOKUP_VALUES).collect(),
        Err(e) => return s.failed("bulk-title", e),
    };
    results(&s, "", items, format.as_deref()).await
}

async fn results(s: &Session, values: &str, items: Vec<BulkItem>, format: Option<&str>) -> Response {
    let found = match s.svc.lookup(s.caller.clone(), items, false, true).await {
        Ok(found) => found,
        Err(e) => return s.failed("bulk-title", e),
    };
    let results = &found.results;
    if format == Some("csv") {
        let rows = results.iter().map(|r| {
            vec![
                r.input.clone(),
                r.kind.map(|k| k.to_string()).unwrap_or_default(),
                r.value.clone().unwrap_or_default(),
                r.status().to_string(),
                r.hits.len().to_string(),
                r.hits.first().map_or(0, |h| h.hit.agencies).to_string(),
                r.error.clone().unwrap_or_default(),
            ]
        });
        let header = ["input", "kind", "value", "status", "hits", "agencies", "error"];
        let csv = crate::interop::csv::document(&header, rows);
        return (
            [
                (header::CONTENT_TYPE, "text/csv"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"kawan-bulk-check.csv\""),
            ],
            csv,
        )
            .into_response();
    }
    let t = |id: &str| i18n::t(s.lang, id);
    let status = |st: &str| t(&format!("status-{}", st.replace(' ', "-")));
    page(&s.svc, Some(s), &t("bulk-title"), html! {
        p { strong { (found.values) } " " (t("bulk-sum-values")) " " strong { (found.with_hits) } " " (t("bulk-sum-hits")) " " strong { (found.invalid) } " " (t("bulk-sum-invalid")) }
        p {
            label for="show" { (t("bulk-show")) }
            select id="show" {
                option value="all" { (t("bulk-all")) } option value="hit" { (t("bulk-hits")) } option value="no hit" { (t("status-no-hit")) } option value="invalid" { (t("status-invalid")) }
            }
        }
        table {
            thead { tr { th { (t("bulk-col-input")) } th { (t("bulk-col-matched")) } th { (t("bulk-col-status")) } th { (t("bulk-col-hits")) } } }
            tbody {
                @for r in results {
                    tr data-status=(r.status()) {
                        td { code { (r.input) } }
                        td { (r.kind.map(|k| super::layout::kind_one(s.lang, k)).unwrap_or_default()) " " code { (r.value.clone().unwrap_or_default()) } }
                        td { (status(r.status())) @if let Some(e) = &r.error { br; span.muted lang="en" { (e) } } }
                        td { @for h in &r.hits { a href={"/indicator/" (h.hit.id)} { (agency(h)) } " " } }
                    }
                }
            }
        }
        (input(s, values))
    }).into_response()
}
