//! Typologies and techniques.

use axum::extract::Query;
use kawan_protocol::Content;
use maud::{Markup, html};

use super::{
    Session, i18n,
    layout::{agency, page, tlp_badge},
    search::SearchQuery,
};

pub(super) async fn library(s: Session, Query(q): Query<SearchQuery>) -> Markup {
    let text = q.q.clone().filter(|t| !t.trim().is_empty());
    let tr = |id: &str| i18n::t(s.lang, id);
    let body = match s.svc.library(s.caller.clone(), text).await {
        Ok(library) => html! {
            h2 { (tr("lib-typologies")) }
            @for f in &library.typologies { @if let Content::Typology(t) = &f.hit.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.summary) } (super::layout::files(s.lang, &s.zone, &t.attachments)) p.muted { (agency(f)) " · " (tr(&format!("stage-{}", serde_json::to_value(t.stage).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()))) } }
            } }
            h2 { (tr("lib-techniques")) }
            @for f in &library.techniques { @if let Content::Technique(t) = &f.hit.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.objective) } ol { @for step in &t.steps { li { (step) } } } (super::layout::files(s.lang, &s.zone, &t.attachments)) }
            } }
        },
        Err(e) => super::layout::refusal(s.lang, &e),
    };
    page(
        &s.svc,
        Some(&s),
        &tr("nav-library"),
        html! {
            form.row method="get" action="/library" {
                input type="text" name="q" value=(q.q.unwrap_or_default()) placeholder=(tr("lib-search")) aria-label=(tr("search-title"));
                button type="submit" { (tr("search-button")) }
            }
            (body)
        },
    )
}
