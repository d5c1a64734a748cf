//! The network page (operators): members, connections, how far apart each
//! peer is, sharing groups, and the audit log's integrity.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::{
    Session, i18n,
    layout::{date, page},
};
use crate::local::tokens::Role;

pub(super) async fn network(s: Session) -> Response {
    if let Err(e) = s.caller.require(Role::Operator) {
        return s.failed("net-title", e);
    }
    let trust = s.svc.trust().ok();
    let (peers, audit) = match (s.svc.peers().await, s.svc.verify_audit(s.caller.clone()).await) {
        (Ok(peers), Ok(audit)) => (peers, audit),
        (Err(e), _) | (_, Err(e)) => return s.failed("net-title", e),
    };
    let warnings = match s.svc.warnings() {
        Ok(w) => w,
        Err(e) => return s.failed("net-title", e),
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let on = |id: &str, ms: u64| i18n::t_args(lang, id, &[("date", date(&s.zone, Some(ms)).into())]);
    let now = s.svc.now_ms();
    page(&s.svc, Some(&s), &t("net-title"), html! {
        @for w in &warnings { div.error { (super::layout::warning(&s, w)) } }
        @match &trust {
            None => p { (t("net-none")) },
            Some(list) => {
                p { (i18n::t_args(lang, "net-summary", &[("network", list.network.to_string().into()), ("version", list.version.into()), ("threshold", list.threshold.into())])) }
                table {
                    thead { tr { th { (t("net-col-member")) } th { (t("net-col-country")) } th { (t("net-col-state")) } th { (t("net-col-seen")) } th { (t("net-col-lag")) } th { (t("net-col-runs")) } th { (t("net-col-health")) } } }
                    tbody { @for p in &peers {
                        tr {
                            td {
                                (p.member.name) br; span.muted { (p.member.id) }
                                @for r in &p.member.retired_keys {
                                    br;
                                    span.flag { @if r.compromised { (on("net-compromised", r.until_ms)) } @else { (on("net-rotated", r.until_ms)) } }
                                }
                            }
                            td { (p.member.country) }
                            td { @if p.me { (t("net-me")) } @else if p.connected { (t("net-connected")) } @else { (t("net-offline")) } }
                            td { (date(&s.zone, p.last_seen_ms)) }
                            td { (lag_text(lang, p)) }
                            td {
                                (p.agent.as_deref().and_then(|a| a.split(';').next()).unwrap_or("—"))
                                @if !p.cannot_read.is_empty() {
                                    br; span.flag { (i18n::t_args(lang, "net-cannot-read", &[("families", p.cannot_read.join(", ").into())])) }
                                }
                            }
                            td {
                                @for (offence, n) in &p.offences { span.flag { (offence) " ×" (n) } br; }
                                @if let Some(k) = p.member.key_from_ms { (i18n::t_args(lang, "net-key-since", &[("date", date(&s.zone, Some(k)).into())])) br; }
                                @if let Some(e) = p.member.expires_ms {
                                    @let days = e.saturating_sub(now) / 86_400_000;
                                    @if e <= now { span.flag { (on("net-lapsed", e)) } }
                                    @else if days <= 30 { span.flag { (on("net-expires", e)) } }
                                    @else { (on("net-expires", e)) }
                                }
                            }
                        }
                    } }
                }
                h2 { (t("net-groups")) }
                ul { @for g in &list.groups { li { (g.name) " (" (g.id) "): " (g.members.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ")) } } }
            }
        }
        h2 { (t("net-audit")) }
        @match &audit.error {
            None => p { (i18n::t_args(lang, "net-intact", &[("n", audit.entries.into())])) },
            Some(e) => div.error role="alert" { (t("net-audit-broken")) br; span.muted { (t("err-detail")) " " span lang="en" { (e) } } },
        }
        @if let Some(w) = &audit.witnessed {
            p { (i18n::t_args(lang, "net-witnessed", &[("n", w.seq.into()), ("date", date(&s.zone, Some(w.time_ms)).into())])) }
        }
    }).into_response()
}

/// A peer's lag for people: per channel, what it has that we lack and what
/// we have that it lacks; "in sync"; or, before it showed any log, why not.
fn lag_text(lang: i18n::Lang, p: &crate::service::PeerState) -> String {
    if p.me {
        return String::new();
    }
    if p.lag.is_empty() {
        return if p.connected { i18n::t(lang, "net-not-compared") } else { "—".into() };
    }
    if p.lag.values().all(|(a, b)| *a == 0 && *b == 0) {
        return i18n::t(lang, "net-in-sync");
    }
    p.lag
        .iter()
        .map(|(c, (theirs, ours))| {
            let args = [("channel", c.clone().into()), ("theirs", (*theirs).into()), ("ours", (*ours).into())];
            i18n::t_args(lang, "net-lag", &args)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
