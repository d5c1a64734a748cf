//! Typologies and techniques.

use axum::extract::Query;
use kawan_protocol::Content;
use maud::{Markup, html};

use super::{
    Session,
    layout::{agency, page, tlp_badge},
    search::SearchQuery,
};

pub(super) async fn library(s: Session, Query(q): Query<SearchQuery>) -> Markup {
    let text = q.q.clone().filter(|t| !t.trim().is_empty());
    let body = match s.svc.library(s.caller.clone(), text).await {
        Ok(library) => html! {
            h2 { "Typologies" }
            @for f in &library.typologies { @if let Content::Typology(t) = &f.hit.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.summary) } p.muted { (agency(f)) " · " (format!("{:?}", t.stage)) } }
            } }
            h2 { "Techniques" }
            @for f in &library.techniques { @if let Content::Technique(t) = &f.hit.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.objective) } ol { @for step in &t.steps { li { (step) } } } }
            } }
        },
        Err(e) => html! { div.error { (e.message) } },
    };
    page(
        &s.svc,
        Some(&s),
        "Typologies and techniques",
        html! {
            form.row method="get" action="/library" {
                input type="text" name="q" value=(q.q.unwrap_or_default()) placeholder="search titles and summaries" aria-label="search";
                button type="submit" { "Search" }
            }
            (body)
        },
    )
}
