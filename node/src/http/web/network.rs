//! The network page (operators and coordinators): members, connections,
//! how far apart each peer is and their health, sharing groups, checking a
//! member or rotation card against the list in force (and the next version
//! it makes, to sign), and (operators) the audit log's integrity.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::{
    Session, i18n,
    layout::{date, page},
};
use crate::{
    local::tokens::Role,
    service::{CardReview, ServiceError},
};

pub(super) async fn network(s: Session) -> Response {
    render(&s, None).await
}

/// The page, with a checked card's review when there is one.
async fn render(s: &Session, review: Option<(Result<CardReview, ServiceError>, String)>) -> Response {
    render_with(s, review, None).await
}

/// The page, with a checked card's review or what became of a proposal.
async fn render_with(
    s: &Session,
    review: Option<(Result<CardReview, ServiceError>, String)>,
    done: Option<Result<String, ServiceError>>,
) -> Response {
    if !matches!(s.caller.role, Role::Operator | Role::Coordinator) {
        return s.failed(
            "net-title",
            ServiceError::forbidden("forbidden", "the network page is for operators and coordinators"),
        );
    }
    let trust = s.svc.trust().ok();
    let peers = match s.svc.peers().await {
        Ok(peers) => peers,
        Err(e) => return s.failed("net-title", e),
    };
    // The audit log is the operator's to verify.
    let audit = match s.caller.role {
        Role::Operator => match s.svc.verify_audit(s.caller.clone()).await {
            Ok(a) => Some(a),
            Err(e) => return s.failed("net-title", e),
        },
        _ => None,
    };
    let status = match (&review, &done) {
        (Some((Err(e), _)), _) | (_, Some(Err(e))) => crate::http::error::status_of(e.fault),
        _ => axum::http::StatusCode::OK,
    };
    // Proposals live on coordinators' nodes only.
    let proposals = s.svc.proposals(&s.caller).unwrap_or_default();
    let coordinator = s.caller.role == Role::Coordinator;
    let warnings = match s.svc.warnings() {
        Ok(w) => w,
        Err(e) => return s.failed("net-title", e),
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let on = |id: &str, ms: u64| i18n::t_args(lang, id, &[("date", date(&s.zone, Some(ms)).into())]);
    let now = s.svc.now_ms();
    let body = html! {
        @match &done {
            Some(Ok(m)) => p.notice role="status" { (m) },
            Some(Err(e)) => (super::layout::refusal(lang, e)),
            None => {},
        }
        @for w in &warnings { div.error { (super::layout::warning(s, w)) } }
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
                h2 id="proposals" { (t("net-proposals")) }
                @if proposals.is_empty() { p.muted { (t("net-proposals-none")) } }
                @for p in &proposals {
                    article.proposal {
                        p {
                            strong { (i18n::t_args(lang, "net-prop-head", &[("version", p.version.into()), ("proposer", p.proposer.clone().into())])) }
                            " · " (t(&format!("net-prop-{}", p.status)))
                            " · " (i18n::t_args(lang, "net-prop-signatures", &[("signed", p.signers.len().into()), ("needed", p.needed.into())]))
                        }
                        @if !p.note.is_empty() { blockquote { (p.note) } }
                        @if !p.changes.is_empty() { ul { @for c in &p.changes { li { (c) } } } }
                        @if !p.signers.is_empty() { p.muted { (t("net-prop-signed-by")) " " (p.signers.join(", ")) } }
                        @if !p.withdrawn.is_empty() { p.muted { (t("net-prop-withdrawn")) " " (p.withdrawn.join(", ")) } }
                        @if !p.competing.is_empty() { p { span.flag { (t("net-prop-competing")) } } }
                        @if coordinator && p.status == "pending" && !p.signed_here {
                            form method="post" action=(format!("/network/proposals/{}/sign", p.id)) {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { (i18n::t_args(lang, "net-prop-sign", &[("version", p.version.into())])) }
                            }
                        }
                    }
                }
                @if coordinator {
                    h3 { (t("net-prop-change")) }
                    form method="post" action="/network/proposals" {
                        input type="hidden" name="csrf" value=(s.csrf);
                        label for="action" { (t("net-prop-action")) }
                        select id="action" name="action" {
                            @for a in ["renew", "remove", "group_add", "group_drop"] { option value=(a) { (t(&format!("net-prop-{a}"))) } }
                        }
                        label for="member" { (t("net-prop-member")) }
                        select id="member" name="member" { @for m in &list.members { option value=(m.id) { (m.name) " (" (m.id) ")" } } }
                        label for="group" { (t("net-prop-group")) }
                        input type="text" id="group" name="group";
                        label for="until" { (t("net-prop-until")) }
                        input type="date" id="until" name="until";
                        label for="note" { (t("net-prop-note")) }
                        input type="text" id="note" name="note";
                        p { button type="submit" { (t("net-prop-submit")) } }
                    }
                }
            }
        }
        h2 id="cards" { (t("net-cards")) }
        p.muted { (t("net-cards-intro")) " " span lang="en" { code { "kawan card" } " · " code { "kawan key rotate" } } }
        @match &review {
            Some((Err(e), _)) => (super::layout::refusal(lang, e)),
            Some((Ok(r), card)) => {
                div.notice role="status" {
                    p { strong { (i18n::t_args(lang, "net-card-ok", &[("name", r.name.clone().into()), ("version", r.version.into())])) } }
                    ul { @for c in &r.changes { li { (c) } } }
                    @if coordinator {
                        form method="post" action="/network/proposals" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            input type="hidden" name="card" value=(card);
                            label for="card-note" { (t("net-prop-note")) }
                            input type="text" id="card-note" name="note";
                            button type="submit" { (i18n::t_args(lang, "net-prop-propose", &[("version", r.version.into())])) }
                        }
                    }
                    form method="post" action="/network/card/next" {
                        input type="hidden" name="csrf" value=(s.csrf);
                        input type="hidden" name="card" value=(card);
                        button type="submit" { (i18n::t_args(lang, "net-card-download", &[("version", r.version.into())])) }
                    }
                    p.muted { (t("net-card-then")) " " span lang="en" { code { "kawan trust sign FILE --key …" } " · " code { "kawan trust publish FILE" } } }
                }
            }
            None => {},
        }
        form method="post" action="/network/card" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="card" { (t("net-card-paste")) }
            textarea id="card" name="card" rows="6" required {}
            p { button type="submit" { (t("net-card-check")) } }
        }
        @if let Some(audit) = &audit {
            h2 { (t("net-audit")) }
            @match &audit.error {
                None => p { (i18n::t_args(lang, "net-intact", &[("n", audit.entries.into())])) },
                Some(e) => div.error role="alert" { (t("net-audit-broken")) br; span.muted { (t("err-detail")) " " span lang="en" { (e) } } },
            }
            @if let Some(w) = &audit.witnessed {
                p { (i18n::t_args(lang, "net-witnessed", &[("n", w.seq.into()), ("date", date(&s.zone, Some(w.time_ms)).into())])) }
            }
        }
    };
    (status, page(&s.svc, Some(s), &t("net-title"), body)).into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct CardForm {
    csrf: String,
    card: String,
}

/// Checks a pasted member or rotation card against the list in force.
pub(super) async fn card(s: Session, axum::Form(f): axum::Form<CardForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let review = s.svc.review_card(&s.caller, &f.card);
    render(&s, Some((review, f.card))).await
}

/// The next version a checked card makes, unsigned, as a file to sign.
pub(super) async fn card_next(s: Session, axum::Form(f): axum::Form<CardForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    match s.svc.review_card(&s.caller, &f.card) {
        Ok(r) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"trust-v{}.unsigned\"", r.version),
                ),
            ],
            r.next.to_bytes(),
        )
            .into_response(),
        Err(e) => render(&s, Some((Err(e), f.card))).await,
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ProposalForm {
    csrf: String,
    #[serde(default)]
    card: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    member: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    note: String,
}

/// Proposes the next version (a coordinator): from a checked card, or a
/// renewal, a removal or a group change.
pub(super) async fn propose(s: Session, axum::Form(f): axum::Form<ProposalForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let filled = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut new = crate::service::NewProposal { note: f.note.clone(), ..Default::default() };
    if let Some(card) = filled(&f.card) {
        new.card = Some(serde_json::Value::String(card));
    } else {
        let member = filled(&f.member);
        match f.action.as_deref().unwrap_or("") {
            "remove" => new.remove = member,
            "renew" => {
                new.renew = member;
                new.until_ms = match filled(&f.until).map(|d| super::requests::end_of(&s.zone, &d)).transpose() {
                    Ok(u) => u,
                    Err(e) => return render_with(&s, None, Some(Err(e))).await,
                };
            }
            "group_add" => (new.group, new.add) = (filled(&f.group), member),
            "group_drop" => (new.group, new.drop) = (filled(&f.group), member),
            _ => {}
        }
    }
    let done = s.svc.propose(s.caller.clone(), new).await.map(|p| {
        i18n::t_args(
            s.lang,
            "net-prop-done",
            &[("version", p.version.into()), ("signed", p.signers.len().into()), ("needed", p.needed.into())],
        )
    });
    render_with(&s, None, Some(done)).await
}

#[derive(serde::Deserialize)]
pub(super) struct SignForm {
    csrf: String,
}

/// Signs a pending proposal on this coordinator's node.
pub(super) async fn sign(
    s: Session,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::Form(f): axum::Form<SignForm>,
) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let done = s.svc.sign_proposal(s.caller.clone(), &id).await.map(|p| {
        let key = if p.status == "installed" { "net-prop-installed-now" } else { "net-prop-signed" };
        i18n::t_args(
            s.lang,
            key,
            &[("version", p.version.into()), ("signed", p.signers.len().into()), ("needed", p.needed.into())],
        )
    });
    render_with(&s, None, Some(done)).await
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
