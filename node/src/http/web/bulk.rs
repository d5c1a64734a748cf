//! Bulk check: many values at once, shown as a table or downloaded as CSV.

use axum::{
    Form,
    http::header,
    response::{IntoResponse, Response},
};
use kawan_protocol::Kind;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Session,
    layout::{agency, page},
};
use crate::{service::MAX_LOOKUP_VALUES, store::BulkItem};

#[derive(Deserialize)]
pub(super) struct BulkForm {
    csrf: String,
    values: String,
    format: Option<String>,
}

pub(super) async fn form(s: Session) -> Markup {
    page(&s.svc, Some(&s), "Bulk check", input(&s, ""))
}

fn input(s: &Session, values: &str) -> Markup {
    html! {
        form method="post" action="/bulk" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="values" { "Values, one per line (kinds are recognised; write kind,value to force one)" }
            textarea id="values" name="values" rows="10" { (values) }
            label for="file" { "…or load a text or CSV file" }
            input id="file" type="file" accept=".txt,.csv,text/plain,text/csv";
            p { button type="submit" { "Check" } " " button type="submit" name="format" value="csv" { "Download CSV" } }
        }
        script src="/static/bulk.js" {}
    }
}

pub(super) async fn check(s: Session, Form(f): Form<BulkForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let items: Vec<BulkItem> = f
        .values
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(',').and_then(|(k, v)| k.trim().parse::<Kind>().ok().map(|k| (k, v))) {
            Some((k, v)) => BulkItem { kind: Some(k), value: v.trim().to_string() },
            None => BulkItem { kind: None, value: l.to_string() },
        })
        .take(MAX_LOOKUP_VALUES)
        .collect();
    let found = match s.svc.lookup(s.caller.clone(), items, false, true).await {
        Ok(found) => found,
        Err(e) => return s.failed("Bulk check", e),
    };
    let results = &found.results;
    if f.format.as_deref() == Some("csv") {
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
    page(&s.svc, Some(&s), "Bulk check", html! {
        p { strong { (found.values) } " values: " strong { (found.with_hits) } " with hits, " strong { (found.invalid) } " invalid." }
        p {
            label for="show" { "Show" }
            select id="show" {
                option value="all" { "all values" } option value="hit" { "hits" } option value="no hit" { "no hit" } option value="invalid" { "invalid" }
            }
        }
        table {
            thead { tr { th { "Input" } th { "Matched as" } th { "Status" } th { "Hits" } } }
            tbody {
                @for r in results {
                    tr data-status=(r.status()) {
                        td { code { (r.input) } }
                        td { (r.kind.map(|k| k.to_string()).unwrap_or_default()) " " code { (r.value.clone().unwrap_or_default()) } }
                        td { (r.status()) @if let Some(e) = &r.error { br; span.muted { (e) } } }
                        td { @for h in &r.hits { a href={"/indicator/" (h.hit.id)} { (agency(h)) } " " } }
                    }
                }
            }
        }
        (input(&s, &f.values))
    }).into_response()
}
