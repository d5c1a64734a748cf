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
    layout::{agency, date, page},
};
use crate::service::{Found, NewReferral, NewSubject, PlatformFigures, ReferralFilter, ServiceError, StatusUpdate};

const REQUESTS: [(&str, &str); 4] = [
    ("takedown", "Content takedown"),
    ("suspension", "Account suspension"),
    ("preservation", "Preservation"),
    ("disclosure", "Disclosure (evidence request)"),
];

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
    message: Option<Result<String, String>>,
    already: &[Found],
) -> Response {
    let all = match s.svc.referrals(s.caller.clone(), ReferralFilter::default()).await {
        Ok(r) => r,
        Err(e) => return s.failed("Referrals", e),
    };
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
    page(&s.svc, Some(s), "Referrals", html! {
        @match &message {
            Some(Ok(m)) => p.notice { (m) },
            Some(Err(e)) => div.error { (e) },
            None => {},
        }
        @for f in already {
            @if let Content::Referral(r) = &f.hit.content {
                p.notice { "Already referred by " (f.author) " on " (date(Some(r.submitted_ms))) " (" (crate::interop::stix::request_name(r.request)) " to " (r.platform) ", " (r.status.as_str()) ")" }
            }
        }
        p {
            "Platform: "
            a href="/referrals" { "all" }
            @for fig in &figures { " · " a href=(format!("/referrals?platform={}", fig.platform)) { (fig.platform) } }
        }
        @for fig in figures.iter().filter(|f| platform.as_ref().is_none_or(|p| *p == f.platform)) {
            (platform_section(s, fig, &shown, &me))
        }
        @if figures.is_empty() { p.muted { "No referrals yet." } }
        h2 { "Figures" }
        (figures_section(&figures))
        h2 { "File a referral" }
        form method="post" action="/referrals" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="platform" { "Platform" }
            select id="platform" name="platform" {
                @for p in &platforms { option value=(p) { (p) } }
                option value="other" { "other (name it below)" }
            }
            label for="other" { "Other platform's name" }
            input id="other" type="text" name="other";
            label for="request" { "Request" }
            select id="request" name="request" { @for (v, l) in REQUESTS { option value=(v) { (l) } } }
            label for="kind" { "Subject kind" }
            select id="kind" name="kind" { @for k in kawan_protocol::Kind::ALL { option value=(k) { (k) } } }
            label for="value" { "Subject (an account, URL, channel, ad)" }
            input id="value" type="text" name="value" required;
            label for="tlp" { "TLP" }
            select id="tlp" name="tlp" { @for t in ["green", "clear", "amber", "amber+strict"] { option value=(t) { (t) } } }
            label for="group" { "Sharing group (for AMBER)" }
            select id="group" name="group" { option value="" { "— whole network —" } @for g in &groups { option value=(g) { (g) } } }
            label for="reference" { "Platform's reference number" }
            input id="reference" type="text" name="reference";
            label for="portal" { "Filed through (portal, address)" }
            input id="portal" type="text" name="portal";
            label for="note" { "Note" }
            textarea id="note" name="note" rows="2" {}
            p { button type="submit" { "Sign and file" } }
        }
    })
    .into_response()
}

fn platform_section(s: &Session, fig: &PlatformFigures, shown: &[&Found], me: &kawan_protocol::AgencyKey) -> Markup {
    let rows: Vec<&&Found> =
        shown.iter().filter(|f| matches!(&f.hit.content, Content::Referral(r) if r.platform == fig.platform)).collect();
    html! {
        h2 { (fig.platform) }
        p { (fig.pending) " pending · " (fig.actioned) " actioned · " (fig.declined) " declined · " (fig.no_response) " no response" }
        table {
            thead { tr { th { "Filed" } th { "Agency" } th { "Request" } th { "Subjects" } th { "Status" } th { "Others" } th {} } }
            tbody { @for f in rows {
                @if let Content::Referral(r) = &f.hit.content {
                    tr {
                        td { (date(Some(r.submitted_ms))) }
                        td { (agency(f)) }
                        td { (crate::interop::stix::request_name(r.request)) @if let Some(x) = &r.reference { br; span.muted { "ref " (x) } } }
                        td { @for sub in &r.subjects { code { (sub.value) } br; } }
                        td { (r.status.as_str()) @if let Some(t) = r.status_ms { br; span.muted { (date(Some(t))) } } }
                        td {
                            @for a in &f.hit.referred_too_by { "referred too: " (s.svc.author_name(a, None)) br; }
                            @for (a, at) in &f.hit.still_online { "still online " (date(Some(*at))) " (" (s.svc.author_name(a, None)) ")" br; }
                        }
                        td {
                            @if f.hit.author == *me && r.status.stage() < 2 {
                                form method="post" action=(format!("/referrals/{}/status", f.hit.id)) {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    select name="status" aria-label="new status" {
                                        @for st in ReferralStatus::ALL.iter().filter(|st| st.stage() > r.status.stage()) {
                                            option value=(st.as_str()) { (st.as_str()) }
                                        }
                                    }
                                    input type="text" name="reference" placeholder="reference" aria-label="platform reference";
                                    button type="submit" { "Update" }
                                }
                            }
                        }
                    }
                }
            } }
        }
        p { a href=(format!("/api/v1/referrals/package?platform={}&format=csv", fig.platform)) { "Takedown package (CSV)" } " · " a href=(format!("/api/v1/referrals/package?platform={}&format=json", fig.platform)) { "JSON" } }
    }
}

fn figures_section(figures: &[PlatformFigures]) -> Markup {
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
    let days = [
        Series { name: "median", values: figures.iter().map(|f| f.median_days_to_action.unwrap_or(0.0)).collect() },
        Series {
            name: "90th percentile",
            values: figures.iter().map(|f| f.p90_days_to_action.unwrap_or(0.0)).collect(),
        },
    ];
    let share = [Series {
        name: "declined or unanswered",
        values: figures.iter().map(|f| f.share_declined_or_unanswered.unwrap_or(0.0) * 100.0).collect(),
    }];
    let one = |v: Option<f64>| v.map_or("—".to_string(), |d| format!("{d:.1}"));
    html! {
        div.chart id="chart-per-month" { @if let Some(svg) = bars("Referrals per month", &months, &per_month, "referrals") { (PreEscaped(svg)) } }
        div.chart id="chart-days" { @if let Some(svg) = bars("Days to action", &platforms, &days, "days") { (PreEscaped(svg)) } }
        div.chart id="chart-declined" { @if let Some(svg) = bars("Declined or unanswered (%)", &platforms, &share, "%") { (PreEscaped(svg)) } }
        table id="figures" {
            thead { tr { th { "Platform" } th { "Referrals" } th { "Per month" } th { "Median days to action" } th { "90th percentile" } th { "Declined or unanswered" } } }
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
    };
    match s.svc.create_referral(s.caller.clone(), new).await {
        Ok(filed) => {
            render(&s, None, Some(Ok(format!("Filed referral {}.", filed.published.id))), &filed.already).await
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
    let page = render(s, None, Some(Err(e.message)), &[]).await;
    (status, page).into_response()
}
