//! The network page (operators): members, connections, how far apart each
//! peer is, sharing groups, and the audit log's integrity.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::{
    Session,
    layout::{date, page},
};
use crate::tokens::Role;

pub(super) async fn network(s: Session) -> Response {
    if let Err(e) = s.caller.require(Role::Operator) {
        return s.failed("Network", e);
    }
    let trust = s.svc.trust().ok();
    let (peers, audit) = match (s.svc.peers().await, s.svc.verify_audit(s.caller.clone()).await) {
        (Ok(peers), Ok(audit)) => (peers, audit),
        (Err(e), _) | (_, Err(e)) => return s.failed("Network", e),
    };
    let warnings = s.svc.warnings().unwrap_or_else(|e| vec![e.message]);
    page(&s.svc, Some(&s), "Network", html! {
        @for w in &warnings { div.error { (w) } }
        @match &trust {
            None => p { "No trust list installed." },
            Some(t) => {
                p { "Network " code { (t.network) } ", trust list version " (t.version) ", " (t.threshold) " coordinator signature(s) needed." }
                table {
                    thead { tr { th { "Member" } th { "Country" } th { "State" } th { "Last seen" } th { "We lack / they lack (last exchange)" } th { "Runs" } } }
                    tbody { @for p in &peers {
                        tr {
                            td {
                                (p.member.name) br; span.muted { (p.member.id) }
                                @for r in &p.member.retired_keys {
                                    br;
                                    span.flag { @if r.compromised { "key cut off as compromised at " } @else { "key rotated at " } (date(Some(r.until_ms))) }
                                }
                            }
                            td { (p.member.country) }
                            td { @if p.me { "this node" } @else if p.connected { "connected" } @else { "offline" } }
                            td { (date(p.last_seen_ms)) }
                            td { (lag_text(p)) }
                            td {
                                (p.agent.as_deref().and_then(|a| a.split(';').next()).unwrap_or("—"))
                                @if !p.cannot_read.is_empty() {
                                    br; span.flag { "cannot read " (p.cannot_read.join(", ")) " records: should upgrade" }
                                }
                            }
                        }
                    } }
                }
                h2 { "Sharing groups" }
                ul { @for g in &t.groups { li { (g.name) " (" (g.id) "): " (g.members.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ")) } } }
            }
        }
        h2 { "Audit log" }
        @match audit { Ok(n) => p { "Intact: " (n) " entries." }, Err(e) => div.error { (e) } }
    }).into_response()
}

/// A peer's lag for people: per channel, what it has that we lack and what
/// we have that it lacks; "in sync"; or, before it showed any log, why not.
fn lag_text(p: &crate::service::PeerState) -> String {
    if p.me {
        return String::new();
    }
    if p.lag.is_empty() {
        return if p.connected { "not compared yet".into() } else { "—".into() };
    }
    if p.lag.values().all(|(a, b)| *a == 0 && *b == 0) {
        return "in sync".into();
    }
    p.lag
        .iter()
        .map(|(c, (theirs, ours))| format!("{c}: it has {theirs} we lack, we have {ours} it lacks"))
        .collect::<Vec<_>>()
        .join("; ")
}
