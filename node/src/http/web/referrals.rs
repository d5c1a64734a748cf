//! The Referrals page: file a referral to a platform, see per platform what
//! is pending and what was actioned, by whom, move your own referrals'
//! status forward, and the coordinators' figures as charts.

use axum::{
    Form,
    extract::{Path, Query},
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::{Content, ReferralStatus, RequestType};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::{
    Session,
    charts::{Series, bars},
    i18n::{self, Lang},
    layout::{agency, date, page, refusal},
};
use crate::service::{Found, NewReferral, NewSubject, PlatformFigures, ReferralFilter, ServiceError, StatusUpdate};

/// What a referral asks of a platform, as the form offers it.
pub(super) const REQUESTS: [&str; 4] = ["takedown", "suspension", "preservation", "disclosure"];

fn request_label(lang: Lang, r: RequestType) -> String {
    let code = serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    i18n::t(lang, &format!("ref-req-{code}"))
}

fn status_label(lang: Lang, st: ReferralStatus) -> String {
    i18n::t(lang, &format!("ref-status-{}", st.as_str().replace('_', "-")))
}

#[derive(Deserialize)]
pub(super) struct Filter {
    platform: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct NewForm {
    csrf: String,
    platform: String,
    other: Option<String>,
    request: String,
    kind: String,
    value: String,
    tlp: String,
    group: Option<String>,
    reference: Option<String>,
    portal: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    csrf: String,
    status: String,
    reference: Option<String>,
}

pub(super) async fn list(s: Session, Query(f): Query<Filter>) -> Response {
    render(&s, f.platform.filter(|p| !p.is_empty()), None, &[]).await
}

async fn render(
    s: &Session,
    platform: Option<String>,
    message: Option<Result<String, ServiceError>>,
    already: &[Found],
) -> Response {
    let all = match s.svc.referrals(s.caller.clone(), ReferralFilter::default()).await {
        Ok(r) => r,
        Err(e) => return s.failed("ref-title", e),
    };
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let figures = crate::service::figures(&all);
    let shown: Vec<&Found> = all
        .iter()
        .filter(
            |f| matches!(&f.hit.content, Content::Referral(r) if platform.as_ref().is_none_or(|p| *p == r.platform)),
        )
        .collect();
    let me = s.svc.key().public();
    let groups = s.svc.groups();
    let platforms: Vec<&str> = kawan_protocol::normalize::platforms().collect();
    page(&s.svc, Some(s), &t("ref-title"), html! {
        @match &message {
            Some(Ok(m)) => p.notice { (m) },
            Some(Err(e)) => (refusal(lang, e)),
            None => {},
        }
        @for f in already {
            @if let Content::Referral(r) = &f.hit.content {
                p.notice { (i18n::t_args(lang, "ref-already", &[
                    ("agency", f.author.clone().into()),
                    ("date", date(&s.zone, Some(r.submitted_ms)).into()),
                    ("request", request_label(lang, r.request).into()),
                    ("platform", r.platform.clone().into()),
                    ("status", status_label(lang, r.status).into()),
                ])) }
            }
        }
        p {
            (t("ref-platform-filter")) " "
            a href="/referrals" { (t("ref-all")) }
            @for fig in &figures { " · " a href=(format!("/referrals?platform={}", fig.platform)) { (fig.platform) } }
        }
        @for fig in figures.iter().filter(|f| platform.as_ref().is_none_or(|p| *p == f.platform)) {
            (platform_section(s, fig, &shown, &me))
        }
        @if figures.is_empty() { p.muted { (t("ref-none")) } }
        h2 { (t("ref-figures")) }
        (figures_section(lang, &figures))
        h2 { (t("ref-file")) }
        form method="post" action="/referrals" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="platform" { (t("ref-platform")) }
            select id="platform" name="platform" {
                @for p in &platforms { option value=(p) { (p) } }
                option value="other" { (t("ref-other-option")) }
            }
            label for="other" { (t("ref-other")) }
            input id="other" type="text" name="other";
            label for="request" { (t("ref-request")) }
            select id="request" name="request" { @for v in REQUESTS { option value=(v) { (t(&format!("ref-req-{v}"))) } } }
            label for="kind" { (t("ref-subject-kind")) }
            select id="kind" name="kind" { @for k in kawan_protocol::Kind::ALL { option value=(k) { (super::layout::kind_one(lang, k)) } } }
            label for="value" { (t("ref-subject")) }
            input id="value" type="text" name="value" required;
            label for="tlp" { "TLP" }
            select id="tlp" name="tlp" { @for tlp in ["green", "clear", "amber", "amber+strict"] { option value=(tlp) { (tlp.to_uppercase()) } } }
            label for="group" { (t("ref-group")) }
            select id="group" name="group" { option value="" { (t("ref-whole-network")) } @for g in &groups { option value=(g) { (g) } } }
            label for="reference" { (t("ref-reference")) }
            input id="reference" type="text" name="reference";
            label for="portal" { (t("ref-portal")) }
            input id="portal" type="text" name="portal";
            label for="note" { (t("ref-note")) }
            textarea id="note" name="note" rows="2" {}
            p { button type="submit" { (t("ref-submit")) } }
        }
    })
    .into_response()
}

fn platform_section(s: &Session, fig: &PlatformFigures, shown: &[&Found], me: &kawan_protocol::AgencyKey) -> Markup {
    let rows: Vec<&&Found> =
        shown.iter().filter(|f| matches!(&f.hit.content, Content::Referral(r) if r.platform == fig.platform)).collect();
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let name = |a| s.svc.author_name(a, None);
    html! {
        h2 { (fig.platform) }
        p { (i18n::t_args(lang, "ref-counts", &[("pending", fig.pending.into()), ("actioned", fig.actioned.into()), ("declined", fig.declined.into()), ("none", fig.no_response.into())])) }
        table {
            thead { tr { th { (t("ref-col-filed")) } th { (t("ref-col-agency")) } th { (t("ref-col-request")) } th { (t("ref-col-subjects")) } th { (t("ref-col-status")) } th { (t("ref-col-others")) } th {} } }
            tbody { @for f in rows {
                @if let Content::Referral(r) = &f.hit.content {
                    tr {
                        td { (date(&s.zone, Some(r.submitted_ms))) }
                        td { (agency(f)) }
                        td { (request_label(lang, r.request)) @if let Some(x) = &r.reference { br; span.muted { (i18n::t_args(lang, "ref-ref", &[("reference", x.clone().into())])) } } }
                        td { @for sub in &r.subjects { code { (sub.value) } br; } }
                        td { (status_label(lang, r.status)) @if let Some(at) = r.status_ms { br; span.muted { (date(&s.zone, Some(at))) } } }
                        td {
                            @for a in &f.hit.referred_too_by { (i18n::t_args(lang, "ref-referred-too", &[("agency", name(a).into())])) br; }
                            @for (a, at) in &f.hit.still_online { (i18n::t_args(lang, "ref-still-online", &[("date", date(&s.zone, Some(*at)).into()), ("agency", name(a).into())])) br; }
                        }
                        td {
                            @if f.hit.author == *me && r.status.stage() < 2 {
                                form method="post" action=(format!("/referrals/{}/status", f.hit.id)) {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    select name="status" aria-label=(t("ref-new-status")) {
                                        @for st in ReferralStatus::ALL.iter().filter(|st| st.stage() > r.status.stage()) {
                                            option value=(st.as_str()) { (status_label(lang, *st)) }
                                        }
                                    }
                                    input type="text" name="reference" placeholder=(t("ref-reference-short")) aria-label=(t("ref-reference"));
                                    button type="submit" { (t("ref-update")) }
                                }
                            }
                        }
                    }
                }
            } }
        }
        p { a href=(format!("/api/v1/referrals/package?platform={}&format=csv", fig.platform)) { (t("ref-package-csv")) } " · " a href=(format!("/api/v1/referrals/package?platform={}&format=json", fig.platform)) { (t("ref-package-json")) } }
    }
}

fn figures_section(lang: Lang, figures: &[PlatformFigures]) -> Markup {
    let t = |id: &str| i18n::t(lang, id);
    let platforms: Vec<String> = figures.iter().map(|f| f.platform.clone()).collect();
    let months: Vec<String> = {
        let mut m: Vec<String> = figures.iter().flat_map(|f| f.per_month.keys().cloned()).collect();
        m.sort();
        m.dedup();
        m
    };
    let per_month: Vec<Series> = figures
        .iter()
        .map(|f| Series {
            name: &f.platform,
            values: months.iter().map(|m| f.per_month.get(m).copied().unwrap_or(0) as f64).collect(),
        })
        .collect();
    let (median, p90, declined) = (t("ref-median"), t("ref-p90"), t("ref-declined"));
    let days = [
        Series { name: &median, values: figures.iter().map(|f| f.median_days_to_action.unwrap_or(0.0)).collect() },
        Series { name: &p90, values: figures.iter().map(|f| f.p90_days_to_action.unwrap_or(0.0)).collect() },
    ];
    let share = [Series {
        name: &declined,
        values: figures.iter().map(|f| f.share_declined_or_unanswered.unwrap_or(0.0) * 100.0).collect(),
    }];
    let one = |v: Option<f64>| v.map_or("—".to_string(), |d| format!("{d:.1}"));
    html! {
        div.chart id="chart-per-month" { @if let Some(svg) = bars(&t("ref-chart-per-month"), &months, &per_month, &t("ref-unit-referrals")) { (PreEscaped(svg)) } }
        div.chart id="chart-days" { @if let Some(svg) = bars(&t("ref-chart-days"), &platforms, &days, &t("ref-unit-days")) { (PreEscaped(svg)) } }
        div.chart id="chart-declined" { @if let Some(svg) = bars(&t("ref-chart-declined"), &platforms, &share, "%") { (PreEscaped(svg)) } }
        table id="figures" {
            thead { tr { th { (t("ref-platform")) } th { (t("ref-fig-referrals")) } th { (t("ref-fig-per-month")) } th { (t("ref-fig-median")) } th { (t("ref-p90")) } th { (t("ref-fig-declined")) } } }
            tbody { @for f in figures {
                tr {
                    td { (f.platform) }
                    td { (f.referrals) }
                    td { (f.per_month.iter().map(|(m, n)| format!("{m}: {n}")).collect::<Vec<_>>().join(", ")) }
                    td.median { (one(f.median_days_to_action)) }
                    td.p90 { (one(f.p90_days_to_action)) }
                    td.share { (f.share_declined_or_unanswered.map_or("—".to_string(), |x| format!("{:.0}%", x * 100.0))) }
                }
            } }
        }
    }
}

pub(super) async fn create(s: Session, Form(f): Form<NewForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let platform = if f.platform == "other" {
        format!("other:{}", f.other.unwrap_or_default().trim().to_lowercase())
    } else {
        f.platform
    };
    let request: RequestType = match serde_json::from_value(serde_json::Value::String(f.request.clone())) {
        Ok(r) => r,
        Err(_) => return refused(&s, ServiceError::field("request", format!("unknown request {:?}", f.request))).await,
    };
    let new = NewReferral {
        platform,
        request,
        subjects: vec![NewSubject { kind: f.kind, value: f.value, record: None }],
        tlp: f.tlp,
        group: f.group,
        submitted_ms: None,
        reference: f.reference,
        portal: f.portal,
        legal_basis: None,
        note: f.note,
        attachments: vec![],
    };
    match s.svc.create_referral(s.caller.clone(), new).await {
        Ok(filed) => {
            let done = i18n::t_args(s.lang, "ref-filed", &[("id", filed.published.id.to_string().into())]);
            render(&s, None, Some(Ok(done)), &filed.already).await
        }
        Err(e) => refused(&s, e).await,
    }
}

pub(super) async fn update(s: Session, Path(id): Path<String>, Form(f): Form<StatusForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let status = match ReferralStatus::ALL.into_iter().find(|x| x.as_str() == f.status) {
        Some(st) => st,
        None => return refused(&s, ServiceError::field("status", format!("unknown status {:?}", f.status))).await,
    };
    let update = StatusUpdate { status, at_ms: None, reference: f.reference, note: None };
    match s.svc.update_referral(s.caller.clone(), &id, update).await {
        Ok(_) => Redirect::to("/referrals").into_response(),
        Err(e) => refused(&s, e).await,
    }
}

/// The page again with what went wrong, under the error's status.
async fn refused(s: &Session, e: ServiceError) -> Response {
    let status = crate::http::error::status_of(e.fault);
    let page = render(s, None, Some(Err(e)), &[]).await;
    (status, page).into_response()
}
