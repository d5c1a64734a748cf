//! The search page: one value, any kind, with its hits.

use axum::extract::Query;
use kawan_protocol::Kind;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Session,
    layout::{hits_table, page},
};
use crate::service::BulkItem;

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    pub q: Option<String>,
    kind: Option<String>,
}

pub(super) async fn search(s: Session, Query(q): Query<SearchQuery>) -> Markup {
    let raw = q.q.unwrap_or_default();
    let chosen: Option<Kind> = q.kind.as_deref().filter(|k| !k.is_empty()).and_then(|k| k.parse().ok());
    let mut outcome = html! {};
    if !raw.trim().is_empty() {
        let item = BulkItem { kind: chosen, value: raw.clone() };
        outcome = match s.svc.lookup(s.caller.clone(), vec![item], true, true).await {
            Ok(mut found) => match found.results.pop() {
                Some(r) if r.error.is_some() => {
                    html! { div.error { (super::i18n::t(s.lang, "search-invalid")) " " span lang="en" { (r.error.unwrap_or_default()) } } }
                }
                Some(r) => html! {
                    p { (super::i18n::t(s.lang, "search-matched")) " " strong { (r.kind.map(|k| super::layout::kind_one(s.lang, k)).unwrap_or_default()) } " " code { (r.value.clone().unwrap_or_default()) }
                        @for w in &r.warnings { " " span.flag { (super::layout::value_warning(s.lang, w)) } } }
                    @if r.hits.is_empty() { p { (super::i18n::t(s.lang, "search-no-hit")) } } @else { (hits_table(&s, &r.hits)) }
                },
                None => html! {},
            },
            Err(e) => super::layout::refusal(s.lang, &e),
        };
    }
    // The home page: what changed and what waits, when nothing was searched.
    let home = if raw.trim().is_empty() { s.svc.home(s.caller.clone()).await.ok() } else { None };
    let unread = match &home {
        Some(h) => h.unread_alerts.len(),
        None => s.svc.unread_alerts(s.caller.clone()).await.unwrap_or(0),
    };
    page(
        &s.svc,
        Some(&s),
        &super::i18n::t(s.lang, if home.is_some() { "home-title" } else { "search-title" }),
        html! {
            @if unread > 0 { p.notice { a href="/alerts" { (super::i18n::t_args(s.lang, "home-unread", &[("n", unread.into())])) } ": " (super::i18n::t(s.lang, "home-unread-why")) } }
            form.row method="get" action="/" {
                input type="text" name="q" value=(raw) placeholder=(super::i18n::t(s.lang, "search-placeholder")) aria-label=(super::i18n::t(s.lang, "search-title")) autofocus;
                select name="kind" aria-label=(super::i18n::t(s.lang, "search-kind")) {
                    option value="" { (super::i18n::t(s.lang, "search-any-kind")) }
                    @for k in Kind::ALL { option value=(k) selected[chosen == Some(k)] { (super::home::kind_label(s.lang, k.as_str())) } }
                }
                button type="submit" { (super::i18n::t(s.lang, "search-button")) }
            }
            (outcome)
            @if let Some(h) = &home { (super::home::dashboard(&s, h)) }
        },
    )
}
