//! Any stored record by id: indicators open their own page; a record of a
//! newer kind than this node reads is named, never interpreted.

use axum::{
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::Body;
use maud::html;

use super::{
    Session, i18n,
    layout::{self, date},
};

pub(super) async fn page(s: Session, Path(id): Path<String>) -> Response {
    let (record, current) = match s.svc.record(s.caller.clone(), &id).await {
        Ok(found) => found,
        Err(e) => return s.failed("rec-title", e),
    };
    let h = &record.record.header;
    match (&record.record.body, &current) {
        (Body::Unknown(u), _) => layout::page(&s.svc, Some(&s), &i18n::t(s.lang, "rec-title"), html! {
            div.error { (i18n::t(s.lang, "rec-newer-kind")) }
            table {
                tr { th { (i18n::t(s.lang, "rec-record")) } td { code { (record.id) } } }
                tr { th { (i18n::t(s.lang, "rec-kind")) } td { (u.family) " — " (u.newer) } }
                tr { th { (i18n::t(s.lang, "rec-agency")) } td { (s.svc.author_name(&h.author, s.svc.trust().ok().as_deref())) } }
                tr { th { (i18n::t(s.lang, "rec-channel")) } td { (h.channel) } }
                tr { th { (i18n::t(s.lang, "rec-signed")) } td { (date(&s.zone, Some(h.created_ms))) } }
            }
            p.muted { (i18n::t(s.lang, "rec-newer")) }
        })
        .into_response(),
        (_, Some(found)) if matches!(found.hit.content, kawan_protocol::Content::Indicator(_)) => {
            Redirect::to(&format!("/indicator/{}", found.hit.id)).into_response()
        }
        _ => Redirect::to("/library").into_response(),
    }
}

/// A file a record carries, for the page (fetched from members first if
/// need be): see `http::files::file_response` for how it is served.
pub(super) async fn file(s: Session, Path(hash): Path<String>) -> Response {
    let served = match crate::service::ServiceError::parse("hash", &hash) {
        Ok(hash) => crate::http::files::file_response(&s.svc, &s.caller, hash).await,
        Err(e) => Err(e),
    };
    served.unwrap_or_else(|e| s.failed("rec-title", e))
}
