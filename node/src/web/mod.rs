//! The web page for analysts and operators (server-rendered with maud; no
//! JavaScript build, no external assets). The session is the API token in an
//! HttpOnly, SameSite=Strict cookie; every form carries a CSRF token derived
//! from the session; maud escapes all output.

use std::sync::Arc;

use axum::{
    Form, Router,
    extract::{FromRequestParts, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use kawan_protocol::{Body, Content, GroupId, Kind, RecordId, Sighting, Tlp, Verdict};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::{
    api::{AppState, Caller},
    store::{BulkItem, ContentType, Hit, Query as StoreQuery},
    tokens::Role,
};

const COOKIE: &str = "kawan_session";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(search))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/indicator/{id}", get(detail).post(sight))
        .route("/bulk", get(bulk_form).post(bulk))
        .route("/publish", get(publish_form).post(publish))
        .route("/publish/knowledge", axum::routing::post(publish_knowledge))
        .route("/login/once/{code}", get(login_once))
        .route("/library", get(library))
        .route("/cases", get(cases))
        .route("/cases/{id}", get(case_detail))
        .route("/network", get(network))
        .route("/static/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css")], include_str!("style.css")) }))
}

/// A logged-in browser: its token's owner, and the CSRF token for its forms.
struct Session {
    caller: Caller,
    csrf: String,
}

impl FromRequestParts<Arc<AppState>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let token = cookie(&parts.headers).ok_or_else(|| Redirect::to("/login").into_response())?;
        match state.storage.tokens.check(&token) {
            Ok(Some(info)) => {
                Ok(Session { csrf: csrf(state, &token), caller: Caller { name: info.name, role: info.role } })
            }
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")).map(String::from))
}

/// The CSRF token of a session: a keyed hash of the session token, so it
/// needs no server state and differs per session.
fn csrf(state: &AppState, token: &str) -> String {
    let key = blake3::derive_key("kawan web csrf v1", &state.key.secret_bytes());
    blake3::keyed_hash(&key, token.as_bytes()).to_hex().to_string()
}

/// The refusal for a form whose CSRF token is not the session's, if it is not.
fn csrf_refused(s: &Session, given: &str) -> Option<Response> {
    (given != s.csrf).then(|| (StatusCode::FORBIDDEN, "invalid form token; reload the page").into_response())
}

fn page(state: &AppState, s: Option<&Session>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Kawan" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header {
                    strong { "Kawan" }
                    @if let Some(s) = s {
                        a href="/" { "Search" }
                        a href="/bulk" { "Bulk check" }
                        a href="/publish" { "Publish" }
                        a href="/library" { "Typologies & techniques" }
                        a href="/cases" { "Cases" }
                        @if s.caller.role == Role::Operator { a href="/network" { "Network" } }
                        span.who {
                            (state.config.agency.name) " · " (s.caller.name)
                            form method="post" action="/logout" style="display:inline" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                " " button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The sharing group chosen in a form ("" means the whole network).
fn group_field(g: &Option<String>) -> Result<Option<GroupId>, String> {
    GroupId::from_field(g.as_deref().unwrap_or("")).map_err(|e| e.to_string())
}

/// Sends a browser to the search page holding the session cookie for `token`.
fn logged_in(token: &str) -> Response {
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200");
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

fn tlp_badge(tlp: Tlp) -> Markup {
    html! { span class={"tlp tlp-" (tlp.as_str())} { (tlp) } }
}

fn flags(h: &Hit) -> Markup {
    html! {
        @if h.retracted.is_some() { span.flag { "retracted" } }
        @if h.revisions > 0 { span.flag { "revised ×" (h.revisions) } }
        @if h.author_revoked { span.flag { "author revoked" } }
        @if h.author_equivocating { span.flag { "equivocating author" } }
        @if !h.false_positive_by.is_empty() { span.flag { "false positive ×" (h.false_positive_by.len()) } }
    }
}

/// Runs store work (lookups of up to 200k values, publishes that wait for
/// the disk, audit verification) on a blocking thread, never on the async
/// workers that serve every other request.
async fn off_worker<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "web worker failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the node's log").into_response()
    })
}

/// Publishes as the session's caller, off the async workers.
async fn publish_as(state: &Arc<AppState>, s: &Session, body: Body, group: Option<GroupId>) -> Result<String, String> {
    let (state, caller) = (state.clone(), s.caller.clone());
    off_worker(move || state.publish(&caller, body, group).map(|p| p.id).map_err(|e| e.body.message))
        .await
        .unwrap_or_else(|_| Err("internal error; see the node's log".into()))
}

fn author(state: &AppState, h: &Hit) -> String {
    h.author_name.clone().unwrap_or_else(|| {
        if h.author == state.key.public() {
            state.config.agency.name.clone()
        } else {
            h.author.to_string()[..12].to_string()
        }
    })
}

fn date(ms: Option<u64>) -> String {
    ms.map(|m| crate::interop::stix::timestamp(m)[..10].to_string()).unwrap_or_else(|| "—".into())
}

fn hits_table(state: &AppState, hits: &[Hit]) -> Markup {
    html! {
        table {
            thead { tr { th { "Value" } th { "TLP" } th { "Agency" } th { "Confidence" } th { "First / last seen" } th { "Sightings" } th { "Flags" } } }
            tbody {
                @for h in hits {
                    @if let Content::Indicator(i) = &h.content {
                        tr {
                            td { a href={"/indicator/" (h.id)} { code { (i.value) } } br; span.muted { (i.kind) } }
                            td { (tlp_badge(i.tlp)) }
                            td { (author(state, h)) }
                            td { (i.confidence) }
                            td { (date(i.first_seen)) " / " (date(i.last_seen)) }
                            td { (h.sighted_by.len()) " ✓ · " (h.false_positive_by.len()) " ✗" }
                            td { (flags(h)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login_form(State(state): State<Arc<AppState>>) -> Markup {
    page(
        &state,
        None,
        "Log in",
        html! {
            form method="post" action="/login" {
                label for="token" { "API token" }
                input id="token" type="password" name="token" autocomplete="current-password" required;
                p { button type="submit" { "Log in" } }
            }
            p.muted { "Ask your node operator for a token (kawan token create NAME --role analyst)." }
        },
    )
}

async fn login(State(state): State<Arc<AppState>>, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.trim();
    match state.storage.tokens.check(token) {
        Ok(Some(_)) if token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => logged_in(token),
        _ => (
            StatusCode::UNAUTHORIZED,
            page(
                &state,
                None,
                "Log in",
                html! {
                    div.error { "Unknown or revoked token." }
                    form method="post" action="/login" {
                        label for="token" { "API token" }
                        input id="token" type="password" name="token" required;
                        p { button type="submit" { "Log in" } }
                    }
                },
            ),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(s: Session, Form(f): Form<CsrfForm>) -> Response {
    if let Some(r) = csrf_refused(&s, &f.csrf) {
        return r;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("kawan_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
}

async fn search(State(state): State<Arc<AppState>>, s: Session, Query(q): Query<SearchQuery>) -> Markup {
    let raw = q.q.unwrap_or_default();
    let chosen: Option<Kind> = q.kind.as_deref().filter(|k| !k.is_empty()).and_then(|k| k.parse().ok());
    let mut outcome = html! {};
    if !raw.trim().is_empty() {
        let item = BulkItem { kind: chosen, value: raw.clone() };
        let ctx = state.normalize_context();
        let _ = state.audit_read(&s.caller, "query", "web search");
        outcome = match state.storage.store.bulk_lookup(std::slice::from_ref(&item), &ctx, true) {
            Ok(mut r) => match r.pop() {
                Some(r) if r.error.is_some() => {
                    html! { div.error { "Not a valid value: " (r.error.unwrap_or_default()) } }
                }
                Some(r) => html! {
                    p { "Matched as " strong { (r.kind.map(|k| k.to_string()).unwrap_or_default()) } " " code { (r.value.clone().unwrap_or_default()) }
                        @for w in &r.warnings { " " span.flag { (w) } } }
                    @if r.hits.is_empty() { p { "No agency has shared this value." } } @else { (hits_table(&state, &r.hits)) }
                },
                None => html! {},
            },
            Err(e) => html! { div.error { (e) } },
        };
    }
    page(
        &state,
        Some(&s),
        "Search",
        html! {
            form.row method="get" action="/" {
                input type="text" name="q" value=(raw) placeholder="a phone number, t.me link, wallet, URL…" aria-label="value" autofocus;
                select name="kind" aria-label="kind" {
                    option value="" { "any kind" }
                    @for k in Kind::ALL { option value=(k) selected[chosen == Some(k)] { (k) } }
                }
                button type="submit" { "Search" }
            }
            (outcome)
        },
    )
}

async fn detail(State(state): State<Arc<AppState>>, s: Session, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<RecordId>() else { return (StatusCode::NOT_FOUND, "no such record").into_response() };
    let store = &state.storage.store;
    let trust = store.trust();
    let Ok(Some(h)) = store.view(&id, trust.as_deref()) else {
        return (StatusCode::NOT_FOUND, "no such record").into_response();
    };
    let _ = state.audit_read(&s.caller, "read", &id.to_string());
    let versions = store.versions(&h.id).unwrap_or_default();
    let name = |k: &kawan_protocol::AgencyKey| {
        trust
            .as_ref()
            .and_then(|t| t.member_by_key(k).map(|m| m.name.clone()))
            .unwrap_or_else(|| k.to_string()[..12].to_string())
    };
    let Content::Indicator(i) = &h.content else { return Redirect::to("/library").into_response() };
    page(&state, Some(&s), "Indicator", html! {
        p { code { (i.value) } " " span.muted { (i.kind) } " " (tlp_badge(i.tlp)) " " (flags(&h)) }
        table {
            tr { th { "Agency" } td { (author(&state, &h)) } }
            tr { th { "Role / subject" } td { (format!("{:?}", i.role)) " / " (format!("{:?}", i.subject)) } }
            tr { th { "Confidence" } td { (i.confidence) " (" (format!("{:?}", i.basis)) ")" } }
            tr { th { "First / last seen" } td { (date(i.first_seen)) " / " (date(i.last_seen)) } }
            tr { th { "Platform / countries" } td { (i.platform.clone().unwrap_or_default()) " " (i.countries.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")) } }
            tr { th { "Description" } td { (i.description.clone().unwrap_or_default()) } }
            tr { th { "Agencies saying so" } td { (h.agencies) } }
            tr { th { "Typologies" } td { @for t in &i.typologies {
                @if let Ok(Some(th)) = store.view(t, trust.as_deref()) { @if let Content::Typology(ty) = &th.content { (ty.title) br; } }
            } } }
            @if let Some(r) = &h.retracted { tr { th { "Retracted" } td { (r) } } }
        }
        h2 { "Sightings" }
        @if h.sighted_by.is_empty() && h.false_positive_by.is_empty() { p.muted { "None yet." } }
        ul {
            @for a in &h.sighted_by { li { (name(a)) " corroborates" } }
            @for a in &h.false_positive_by { li { (name(a)) " calls it a false positive" } }
        }
        h2 { "History" }
        ol { @for v in &versions { li { (crate::interop::stix::timestamp(v.record.header.created_ms)) " — " (v.record.body.type_name()) " " code { (v.id.to_string()[..16]) } } } }
        @if h.author != state.key.public() {
            form method="post" action={"/indicator/" (h.id)} {
                input type="hidden" name="csrf" value=(s.csrf);
                button type="submit" name="verdict" value="corroborates" { "We saw it too" }
                " "
                button type="submit" name="verdict" value="false_positive" { "Mark false positive" }
            }
        }
    }).into_response()
}

#[derive(Deserialize)]
struct SightForm {
    csrf: String,
    verdict: String,
}

async fn sight(
    State(state): State<Arc<AppState>>,
    s: Session,
    Path(id): Path<String>,
    Form(f): Form<SightForm>,
) -> Response {
    if let Some(r) = csrf_refused(&s, &f.csrf) {
        return r;
    }
    let (Ok(target), Some(verdict)) = (
        id.parse::<RecordId>(),
        match f.verdict.as_str() {
            "corroborates" => Some(Verdict::Corroborates),
            "false_positive" => Some(Verdict::FalsePositive),
            _ => None,
        },
    ) else {
        return (StatusCode::BAD_REQUEST, "bad sighting").into_response();
    };
    let body = Body::Sighting(Sighting {
        target,
        verdict,
        seen_ms: Some(crate::clock::now_ms()),
        countries: vec![],
        comment: None,
    });
    match publish_as(&state, &s, body, None).await {
        Ok(_) => Redirect::to(&format!("/indicator/{id}")).into_response(),
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
    }
}

#[derive(Deserialize)]
struct BulkForm {
    csrf: String,
    values: String,
    format: Option<String>,
}

async fn bulk_form(State(state): State<Arc<AppState>>, s: Session) -> Markup {
    page(&state, Some(&s), "Bulk check", bulk_input(&s, ""))
}

fn bulk_input(s: &Session, values: &str) -> Markup {
    html! {
        form method="post" action="/bulk" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="values" { "Values, one per line (kinds are recognised; write kind,value to force one)" }
            textarea id="values" name="values" rows="10" { (values) }
            label for="file" { "…or load a text or CSV file" }
            input id="file" type="file" accept=".txt,.csv,text/plain,text/csv" onchange="const f=this.files[0]; if (f) f.text().then(t => document.getElementById('values').value = t);";
            p { button type="submit" { "Check" } " " button type="submit" name="format" value="csv" { "Download CSV" } }
        }
    }
}

async fn bulk(State(state): State<Arc<AppState>>, s: Session, Form(f): Form<BulkForm>) -> Response {
    if let Some(r) = csrf_refused(&s, &f.csrf) {
        return r;
    }
    let items: Vec<BulkItem> = f
        .values
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(',').and_then(|(k, v)| k.trim().parse::<Kind>().ok().map(|k| (k, v))) {
            Some((k, v)) => BulkItem { kind: Some(k), value: v.trim().to_string() },
            None => BulkItem { kind: None, value: l.to_string() },
        })
        .take(crate::api::MAX_LOOKUP_VALUES)
        .collect();
    let results = {
        let (st, ctx) = (state.clone(), state.normalize_context());
        match off_worker(move || st.storage.store.bulk_lookup(&items, &ctx, false)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "bulk lookup failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the node's log").into_response();
            }
            Err(refused) => return refused,
        }
    };
    let _ = state.audit_read(&s.caller, "bulk_lookup", &format!("web, {} values", results.len()));
    let status = |r: &crate::store::BulkResult| {
        if r.error.is_some() {
            "invalid"
        } else if r.hits.is_empty() {
            "no hit"
        } else {
            "hit"
        }
    };
    if f.format.as_deref() == Some("csv") {
        let rows = results.iter().map(|r| {
            vec![
                r.input.clone(),
                r.kind.map(|k| k.to_string()).unwrap_or_default(),
                r.value.clone().unwrap_or_default(),
                status(r).to_string(),
                r.hits.len().to_string(),
                r.hits.first().map_or(0, |h| h.agencies).to_string(),
                r.error.clone().unwrap_or_default(),
            ]
        });
        let header = ["input", "kind", "value", "status", "hits", "agencies", "error"];
        let csv = crate::interop::csv::document(&header, rows);
        return (
            [
                (header::CONTENT_TYPE, "text/csv"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"kawan-bulk-check.csv\""),
            ],
            csv,
        )
            .into_response();
    }
    let hits = results.iter().filter(|r| !r.hits.is_empty()).count();
    let invalid = results.iter().filter(|r| r.error.is_some()).count();
    page(&state, Some(&s), "Bulk check", html! {
        p { strong { (results.len()) } " values: " strong { (hits) } " with hits, " strong { (invalid) } " invalid." }
        p {
            label for="show" { "Show" }
            select id="show" onchange="for (const r of document.querySelectorAll('tr[data-status]')) r.hidden = this.value !== 'all' && r.dataset.status !== this.value;" {
                option value="all" { "all values" } option value="hit" { "hits" } option value="no hit" { "no hit" } option value="invalid" { "invalid" }
            }
        }
        table {
            thead { tr { th { "Input" } th { "Matched as" } th { "Status" } th { "Hits" } } }
            tbody {
                @for r in &results {
                    tr data-status=(status(r)) {
                        td { code { (r.input) } }
                        td { (r.kind.map(|k| k.to_string()).unwrap_or_default()) " " code { (r.value.clone().unwrap_or_default()) } }
                        td { (status(r)) @if let Some(e) = &r.error { br; span.muted { (e) } } }
                        td { @for h in &r.hits { a href={"/indicator/" (h.id)} { (author(&state, h)) } " " } }
                    }
                }
            }
        }
        (bulk_input(&s, &f.values))
    }).into_response()
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
    kind: String,
    value: String,
    role: String,
    tlp: String,
    group: Option<String>,
    confidence: Option<u8>,
    description: Option<String>,
}

fn publish_page(state: &AppState, s: &Session, message: Option<Markup>) -> Markup {
    let groups = state
        .storage
        .store
        .trust()
        .map(|t| t.groups_of(&state.key.public()).into_iter().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    page(
        state,
        Some(s),
        "Publish an indicator",
        html! {
            @if let Some(m) = message { (m) }
            form method="post" action="/publish" {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="kind" { "Kind" }
                select id="kind" name="kind" { @for k in Kind::ALL { option value=(k) { (k) } } }
                label for="value" { "Value (any form; it is normalised)" }
                input id="value" type="text" name="value" required;
                label for="role" { "Role" }
                select id="role" name="role" { @for r in ["recruiter_contact", "job_ad", "scam_platform", "payment", "laundering", "infrastructure"] { option value=(r) { (r) } } }
                label for="tlp" { "TLP" }
                select id="tlp" name="tlp" { @for t in ["green", "clear", "amber", "amber+strict"] { option value=(t) { (t) } } }
                label for="group" { "Sharing group (for AMBER)" }
                select id="group" name="group" { option value="" { "— whole network —" } @for g in &groups { option value=(g) { (g) } } }
                label for="confidence" { "Confidence (0-100)" }
                input id="confidence" type="text" name="confidence" value="50" inputmode="numeric";
                label for="description" { "Description" }
                textarea id="description" name="description" rows="3" {}
                p { button type="submit" { "Sign and publish" } }
            }
            p.muted { "TLP RED never leaves this node: record it in a case instead." }
            h2 { "Publish a typology or technique" }
            form method="post" action="/publish/knowledge" {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="what" { "What" }
                select id="what" name="what" { option value="typology" { "typology (how a pattern works)" } option value="technique" { "technique (how to find and evidence it)" } }
                label for="title" { "Title" }
                input id="title" type="text" name="title" required;
                label for="text" { "Summary (typology) or objective (technique)" }
                textarea id="text" name="text" rows="3" required {}
                label for="stage" { "Stage (typology)" }
                select id="stage" name="stage" { @for st in ["recruitment", "transit", "exploitation", "scam", "monetisation"] { option value=(st) { (st) } } }
                label for="steps" { "Steps (technique), one per line" }
                textarea id="steps" name="steps" rows="4" {}
                label for="ktlp" { "TLP" }
                select id="ktlp" name="tlp" { @for t in ["green", "clear", "amber", "amber+strict"] { option value=(t) { (t) } } }
                label for="kgroup" { "Sharing group (for AMBER)" }
                select id="kgroup" name="group" { option value="" { "— whole network —" } @for g in &groups { option value=(g) { (g) } } }
                p { button type="submit" { "Sign and publish" } }
            }
        },
    )
}

#[derive(Deserialize)]
struct KnowledgeForm {
    csrf: String,
    what: String,
    title: String,
    text: String,
    stage: String,
    steps: String,
    tlp: String,
    group: Option<String>,
}

async fn publish_knowledge(State(state): State<Arc<AppState>>, s: Session, Form(f): Form<KnowledgeForm>) -> Response {
    if let Some(r) = csrf_refused(&s, &f.csrf) {
        return r;
    }
    let staged = (|| -> Result<(Body, Option<GroupId>), String> {
        let tlp: Tlp = f.tlp.parse().map_err(|e: kawan_protocol::tlp::UnknownTlp| e.to_string())?;
        let group = group_field(&f.group)?;
        let body = if f.what == "technique" {
            Body::Technique(kawan_protocol::Technique {
                title: f.title.clone(),
                objective: f.text.clone(),
                difficulty: kawan_protocol::Difficulty::Basic,
                tlp,
                applies_to: vec![],
                steps: f.steps.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
                tools: vec![],
                requirements: vec![],
                limitations: None,
                legal_notes: None,
                ethical_notes: None,
                opsec_risks: None,
                evidence_handling: None,
            })
        } else {
            let stage = serde_json::from_value(serde_json::Value::String(f.stage.clone()))
                .map_err(|_| format!("unknown stage {:?}", f.stage))?;
            Body::Typology(kawan_protocol::Typology {
                title: f.title.clone(),
                stage,
                summary: f.text.clone(),
                tlp,
                aliases: vec![],
                lures: vec![],
                platforms: vec![],
                control_methods: vec![],
                route: vec![],
                red_flags: vec![],
                mappings: vec![],
                references: vec![],
            })
        };
        Ok((body, group))
    })();
    let result = match staged {
        Ok((body, group)) => publish_as(&state, &s, body, group).await,
        Err(message) => Err(message),
    };
    match result {
        Ok(_) => Redirect::to("/library").into_response(),
        Err(message) => {
            (StatusCode::UNPROCESSABLE_ENTITY, publish_page(&state, &s, Some(html! { div.error { (message) } })))
                .into_response()
        }
    }
}

/// A one-time login link (`kawan demo` prints one): the code is good once,
/// for five minutes, and is exchanged for the session cookie.
async fn login_once(State(state): State<Arc<AppState>>, Path(code): Path<String>) -> Response {
    let token = {
        let mut links = state.login_links.lock().unwrap_or_else(|e| e.into_inner());
        let now = crate::clock::now_ms();
        links.retain(|(_, _, expires)| *expires > now);
        let pos = links.iter().position(|(c, _, _)| *c == code);
        pos.map(|i| links.remove(i).1)
    };
    match token {
        Some(token) => logged_in(&token),
        None => (StatusCode::NOT_FOUND, "this login link was used or has expired").into_response(),
    }
}

async fn publish_form(State(state): State<Arc<AppState>>, s: Session) -> Markup {
    publish_page(&state, &s, None)
}

async fn publish(State(state): State<Arc<AppState>>, s: Session, Form(f): Form<PublishForm>) -> Response {
    if let Some(r) = csrf_refused(&s, &f.csrf) {
        return r;
    }
    let staged = (|| -> Result<(Body, Option<GroupId>), String> {
        let kind: Kind = f.kind.parse().map_err(|e: kawan_protocol::normalize::UnknownKind| e.to_string())?;
        let value =
            kawan_protocol::normalize(kind, &f.value, &state.normalize_context()).map_err(|e| e.to_string())?.value;
        let role = serde_json::from_value(serde_json::Value::String(f.role.clone()))
            .map_err(|_| format!("unknown role {:?}", f.role))?;
        let tlp: Tlp = f.tlp.parse().map_err(|e: kawan_protocol::tlp::UnknownTlp| e.to_string())?;
        let group = group_field(&f.group)?;
        let mut ind = kawan_protocol::Indicator::new(kind, value, role, tlp);
        ind.confidence = f.confidence.unwrap_or(50);
        ind.description = f.description.clone().filter(|d| !d.trim().is_empty());
        Ok((Body::Indicator(ind), group))
    })();
    let result = match staged {
        Ok((body, group)) => publish_as(&state, &s, body, group).await,
        Err(message) => Err(message),
    };
    match result {
        Ok(id) => Redirect::to(&format!("/indicator/{id}")).into_response(),
        Err(message) => {
            (StatusCode::UNPROCESSABLE_ENTITY, publish_page(&state, &s, Some(html! { div.error { (message) } })))
                .into_response()
        }
    }
}

async fn library(State(state): State<Arc<AppState>>, s: Session, Query(q): Query<SearchQuery>) -> Markup {
    let text = q.q.clone().filter(|t| !t.trim().is_empty());
    let ctx = state.normalize_context();
    let find = |content| {
        let query = StoreQuery { content: Some(content), text: text.clone(), limit: 200, ..Default::default() };
        state.storage.store.search(&query, &ctx).ok().and_then(Result::ok).unwrap_or_default()
    };
    let (typologies, techniques) = (find(ContentType::Typology), find(ContentType::Technique));
    page(
        &state,
        Some(&s),
        "Typologies and techniques",
        html! {
            form.row method="get" action="/library" {
                input type="text" name="q" value=(q.q.unwrap_or_default()) placeholder="search titles and summaries" aria-label="search";
                button type="submit" { "Search" }
            }
            h2 { "Typologies" }
            @for h in &typologies { @if let Content::Typology(t) = &h.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.summary) } p.muted { (author(&state, h)) " · " (format!("{:?}", t.stage)) } }
            } }
            h2 { "Techniques" }
            @for h in &techniques { @if let Content::Technique(t) = &h.content {
                article { h3 { (t.title) " " (tlp_badge(t.tlp)) } p { (t.objective) } ol { @for step in &t.steps { li { (step) } } } }
            } }
        },
    )
}

async fn cases(State(state): State<Arc<AppState>>, s: Session) -> Markup {
    let list = state.storage.cases.list().unwrap_or_default();
    let _ = state.audit_read(&s.caller, "case.list", "web");
    page(
        &state,
        Some(&s),
        "Cases",
        html! {
            div.note { "Cases stay on this node. Nothing here is ever sent to another agency." }
            table {
                thead { tr { th { "Reference" } th { "Title" } th { "Linked records" } } }
                tbody { @for c in &list { tr { td { a href={"/cases/" (c.id)} { (c.reference) } } td { (c.title) } td { @for l in &c.links { a href={"/indicator/" (l)} { code { (l[..12]) } } " " } } } } }
            }
        },
    )
}

async fn case_detail(State(state): State<Arc<AppState>>, s: Session, Path(id): Path<u64>) -> Response {
    let Ok(case) = state.storage.cases.get(id) else { return (StatusCode::NOT_FOUND, "no such case").into_response() };
    let _ = state.audit_read(&s.caller, "case.read", &id.to_string());
    let store = &state.storage.store;
    let trust = store.trust();
    let linked: Vec<Hit> = case
        .links
        .iter()
        .filter_map(|l| l.parse::<RecordId>().ok())
        .filter_map(|r| store.view(&r, trust.as_deref()).ok().flatten())
        .collect();
    page(&state, Some(&s), &format!("Case {}", case.reference), html! {
        div.note { "This case stays on this node. Nothing here is ever sent to another agency." }
        p { strong { (case.title) } }
        @if !case.notes.is_empty() { p { (case.notes) } }
        @if !case.details.is_null() { pre { code { (serde_json::to_string_pretty(&case.details).unwrap_or_default()) } } }
        h2 { "Linked shared records" }
        @if linked.is_empty() { p.muted { "None." } } @else { (hits_table(&state, &linked)) }
    })
    .into_response()
}

async fn network(State(state): State<Arc<AppState>>, s: Session) -> Response {
    if s.caller.role != Role::Operator {
        return (StatusCode::FORBIDDEN, "operators only").into_response();
    }
    let trust = state.storage.store.trust();
    let table = state.net.get().map(|n| n.peers.read().map(|t| t.clone()).unwrap_or_default()).unwrap_or_default();
    let (audit, ours) = {
        let st = state.clone();
        match off_worker(move || (st.storage.audit.verify(), st.storage.store.heads(None).unwrap_or_default())).await {
            Ok(found) => found,
            Err(refused) => return refused,
        }
    };
    page(&state, Some(&s), "Network", html! {
        @match &trust {
            None => p { "No trust list installed." },
            Some(t) => {
                p { "Network " code { (t.network) } ", trust list version " (t.version) ", " (t.threshold) " coordinator signature(s) needed." }
                table {
                    thead { tr { th { "Member" } th { "Country" } th { "State" } th { "Last seen" } th { "We lack / they lack (last exchange)" } } }
                    tbody { @for m in &t.members {
                        @let pid = crate::identity::peer_id(&m.key).map(|p| p.to_string()).unwrap_or_default();
                        @let info = table.peers.get(&pid);
                        tr {
                            td { (m.name) br; span.muted { (m.id) } }
                            td { (m.country) }
                            td { @if m.key == state.key.public() { "this node" } @else if info.is_some_and(|i| i.connected) { "connected" } @else { "offline" } }
                            td { (date(info.and_then(|i| i.last_seen_ms))) }
                            td { (lag(&ours, info.map(|i| i.heads.as_slice()).unwrap_or(&[]))) }
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

/// "channel: we lack N / they lack M" from the peer's last heads.
fn lag(ours: &[kawan_protocol::Head], theirs: &[kawan_protocol::Head]) -> String {
    let per = kawan_protocol::sync::lag(ours, theirs);
    if per.is_empty() {
        return "—".into();
    }
    per.iter().map(|(c, (we, they))| format!("{c}: {we} / {they}")).collect::<Vec<_>>().join("; ")
}
