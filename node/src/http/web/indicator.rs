//! An indicator's page: provenance, sightings, history; and sighting it.

use axum::{
    Form,
    extract::Path,
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::{Body, Content, RecordId, Sighting, Verdict};
use maud::html;
use serde::Deserialize;

use super::{
    Session, i18n,
    layout::{self, agency, date, flags, tlp_badge},
};
use crate::service::ServiceError;

pub(super) async fn page(s: Session, Path(id): Path<String>) -> Response {
    let not_found = || s.failed("ind-title", ServiceError::not_found("no such record"));
    let Ok(id) = id.parse::<RecordId>() else { return not_found() };
    let p = match s.svc.indicator_page(s.caller.clone(), id).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(),
        Err(e) => return s.failed("ind-title", e),
    };
    let h = &p.found.hit;
    let Content::Indicator(i) = &h.content else { return Redirect::to("/library").into_response() };
    let subject = kawan_protocol::ReferralSubject { kind: i.kind, value: i.value.clone(), record: None };
    let referred = s.svc.already_referred(s.caller.clone(), vec![subject]).await.unwrap_or_default();
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let who = |id: &str, a: &str| i18n::t_args(lang, id, &[("agency", a.to_string().into())]);
    // An enumeration's value by its wire name (`recruiter_contact`), in words.
    let word = |prefix: &str, v: serde_json::Value| t(&format!("{prefix}-{}", v.as_str().unwrap_or_default()));
    layout::page(&s.svc, Some(&s), &t("ind-title"), html! {
        p { code { (i.value) } " " span.muted { (layout::kind_one(s.lang, i.kind)) } " " (tlp_badge(i.tlp)) " " (flags(s.lang, &p.found)) }
        table {
            tr { th { (t("ind-agency")) } td { (agency(&p.found)) } }
            tr { th { (t("ind-role-subject")) } td { (word("role", serde_json::to_value(i.role).unwrap_or_default())) " / " (word("subject", serde_json::to_value(i.subject).unwrap_or_default())) } }
            tr { th { (t("ind-confidence")) } td { (i.confidence) " (" (word("basis", serde_json::to_value(i.basis).unwrap_or_default())) ")" } }
            @if let Some(sc) = &p.found.score {
                tr { th { (t("ind-score")) } td {
                    strong { (sc.now) }
                    @if let Some(pin) = &sc.pin { " " (t("ind-score-pinned")) " " (pin.by) " " (pin.note.clone().unwrap_or_default()) }
                    @else if sc.decayed { " " strong { (t("ind-score-decayed")) } }
                    " " span.muted {
                        (t("ind-score-evidence")) " " (date(&s.zone, Some(sc.evidence.latest_ms))) " · "
                        (t("ind-score-half-life")) " " (sc.half_life_days) " · "
                        @if let Some(at) = sc.decays_at_ms.filter(|at| *at > 0) { (t("ind-score-decays")) " " (date(&s.zone, Some(at))) }
                    }
                } }
            }
            tr { th { (t("ind-seen")) } td { (date(&s.zone, i.first_seen)) " / " (date(&s.zone, i.last_seen)) } }
            tr { th { (t("ind-platform")) } td { (i.platform.clone().unwrap_or_default()) " " (i.countries.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")) } }
            tr { th { (t("ind-description")) } td { (i.description.clone().unwrap_or_default()) } }
            tr { th { (t("ind-handling")) } td {
                @match &i.handling {
                    Some(hd) if !hd.is_open() => {
                        @for code in hd.codes() { (code) ": " (t(&format!("hnd-{}", code.to_lowercase()))) br; }
                        @if let Some(o) = &hd.other { span.muted { (o) } }
                    }
                    _ => { "H0: " (t("hnd-h0")) }
                }
            } }
            tr { th { (t("ind-evaluation")) } td { (i.evaluation.map(|e| e.to_string()).unwrap_or_else(|| "—".into())) } }
            tr { th { (t("ind-agencies")) } td { (h.agencies) } }
            tr { th { (t("ind-typologies")) } td { @for ty in &p.typologies { (ty) br; } } }
            @if let Some(r) = &h.retracted { tr { th { (t("ind-retracted")) } td { (r) } } }
            tr { th { (t("ind-referred")) } td {
                @for f in &referred { @if let Content::Referral(r) = &f.hit.content {
                    (i18n::t_args(lang, "ind-referred-by", &[("agency", f.author.clone().into()), ("date", date(&s.zone, Some(r.submitted_ms)).into())])) " "
                    (crate::interop::stix::request_name(r.request)) " → " (r.platform) ", " (r.status.as_str()) br;
                } }
                @if referred.is_empty() { (t("ind-not-yet")) " " }
                a href="/referrals" { (t("ind-file")) }
            } }
        }
        h2 { (t("ind-sightings")) }
        @if p.sighted_by.is_empty() && p.false_positive_by.is_empty() { p.muted { (t("ind-none")) } }
        ul {
            @for a in &p.sighted_by { li { (who("ind-corroborates", a)) } }
            @for a in &p.false_positive_by { li { (who("ind-false-positive", a)) } }
        }
        h2 { (t("ind-history")) }
        ol { @for v in &p.versions { li { (super::layout::time(&s.zone, v.record.header.created_ms)) " — " (t(&format!("alerts-type-{}", v.record.body.type_name()))) " " code { (v.id.to_string()[..16]) } } } }
        @if !p.ours {
            form method="post" action={"/indicator/" (h.id)} {
                input type="hidden" name="csrf" value=(s.csrf);
                button type="submit" name="verdict" value="corroborates" { (t("ind-saw")) }
                " "
                button type="submit" name="verdict" value="false_positive" { (t("ind-mark-fp")) }
            }
        }
    }).into_response()
}

#[derive(Deserialize)]
pub(super) struct SightForm {
    csrf: String,
    verdict: String,
}

pub(super) async fn sight(s: Session, Path(id): Path<String>, Form(f): Form<SightForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let verdict = match f.verdict.as_str() {
        "corroborates" => Some(Verdict::Corroborates),
        "false_positive" => Some(Verdict::FalsePositive),
        _ => None,
    };
    let (Ok(target), Some(verdict)) = (id.parse::<RecordId>(), verdict) else {
        return s.failed("ind-title", ServiceError::bad_request("invalid_value", "bad sighting"));
    };
    let body = Body::Sighting(Sighting {
        target,
        verdict,
        seen_ms: Some(s.svc.now_ms()),
        countries: vec![],
        comment: None,
        attachments: vec![],
    });
    match s.svc.publish(s.caller.clone(), body, None).await {
        Ok(_) => Redirect::to(&format!("/indicator/{id}")).into_response(),
        Err(e) => s.failed("ind-title", e),
    }
}
