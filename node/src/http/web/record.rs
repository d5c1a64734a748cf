//! Any stored record by id: indicators open their own page; a record of a
//! newer kind than this node reads is named, never interpreted.

use axum::{
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::Body;
use maud::html;

use super::{
    Session,
    layout::{self, date},
};
use crate::http::rest::views::NEWER_KIND;

pub(super) async fn page(s: Session, Path(id): Path<String>) -> Response {
    let (record, current) = match s.svc.record(s.caller.clone(), &id).await {
        Ok(found) => found,
        Err(e) => return s.failed("Record", e),
    };
    let h = &record.record.header;
    match (&record.record.body, &current) {
        (Body::Unknown(u), _) => layout::page(&s.svc, Some(&s), "Record", html! {
            div.error { (NEWER_KIND) }
            table {
                tr { th { "Record" } td { code { (record.id) } } }
                tr { th { "Kind" } td { (u.family) " — " (u.newer) } }
                tr { th { "Agency" } td { (s.svc.author_name(&h.author, s.svc.trust().ok().as_deref())) } }
                tr { th { "Channel" } td { (h.channel) } }
                tr { th { "Signed" } td { (date(Some(h.created_ms))) } }
            }
            p.muted { "This node keeps and passes on the record exactly as signed; a newer version of Kawan shows what it says." }
        })
        .into_response(),
        (_, Some(found)) if matches!(found.hit.content, kawan_protocol::Content::Indicator(_)) => {
            Redirect::to(&format!("/indicator/{}", found.hit.id)).into_response()
        }
        _ => Redirect::to("/library").into_response(),
    }
}
