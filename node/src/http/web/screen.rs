//! Paste or drop a file: the text (or the file, read by its format) with
//! every value and red flag highlighted where it stands, each value's
//! standing on this node, and one step from there to action — watch the
//! selected values, add them to a case, ask the network privately
//! whether anyone holds them, or — after a review page where the analyst
//! sees and edits what would leave the node — publish them as indicators
//! (kind, platform and the line they came from filled in) or refer them to
//! their platform.

use axum::{
    Form,
    extract::Multipart,
    response::{IntoResponse, Response},
};
use kawan_protocol::{Country, Kind, extract::Flagged};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Session, i18n, layout::page};
use crate::service::{AskValue, NewDeconfliction, NewIndicator, NewReferral, NewSubject, Screening, ServiceError};

#[derive(Deserialize)]
pub(super) struct ScreenForm {
    csrf: String,
    text: String,
    region: Option<String>,
}

pub(super) async fn form(s: Session) -> Markup {
    page(&s.svc, Some(&s), &i18n::t(s.lang, "screen-title"), input(&s, ""))
}

fn input(s: &Session, text: &str) -> Markup {
    let t = |id: &str| i18n::t(s.lang, id);
    html! {
        p { (t("screen-intro")) }
        form method="post" action="/screen" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="text" { (t("screen-paste")) }
            textarea id="text" name="text" rows="10" { (text) }
            (region_field(s, "region"))
            p { button type="submit" { (t("screen-check")) } }
        }
        form method="post" action="/screen/file" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.csrf);
            label for="file" { (t("screen-file")) }
            input id="file" type="file" name="file" required;
            (region_field(s, "file-region"))
            p { button type="submit" { (t("screen-check-file")) } }
        }
    }
}

fn region_field(s: &Session, id: &str) -> Markup {
    html! {
        label for=(id) { (i18n::t(s.lang, "screen-region")) }
        input id=(id) type="text" name="region" size="2" maxlength="2" placeholder="TH" autocomplete="off";
    }
}

fn region(raw: Option<&str>) -> Result<Option<Country>, ServiceError> {
    raw.map(str::trim).filter(|r| !r.is_empty()).map(|r| ServiceError::parse::<Country>("region", r)).transpose()
}

pub(super) async fn check(s: Session, Form(f): Form<ScreenForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let region = match region(f.region.as_deref()) {
        Ok(r) => r,
        Err(e) => return s.failed("screen-title", e),
    };
    results(&s, f.text, region, None).await
}

/// A file, read by its format (web page, e-mail, PDF, CSV, chat exports).
pub(super) async fn upload(s: Session, mut form: Multipart) -> Response {
    let (mut csrf, mut file, mut region_raw) = (String::new(), None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(str::to_string);
                let Ok(bytes) = field.bytes().await else {
                    return s.failed("screen-title", ServiceError::bad_request("invalid_body", "a broken upload"));
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "region" => region_raw = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "file" => file = Some((file_name, bytes)),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                return s.failed(
                    "screen-title",
                    ServiceError::bad_request("invalid_body", format!("a malformed upload: {e}")),
                );
            }
        }
    }
    if let Some(r) = s.refuses(&csrf) {
        return r;
    }
    let Some((name, bytes)) = file else {
        return s.failed("screen-title", ServiceError::bad_request("invalid_body", "no file in the upload"));
    };
    let region = match region(region_raw.as_deref()) {
        Ok(r) => r,
        Err(e) => return s.failed("screen-title", e),
    };
    // Parsing a file is CPU work: off the async threads.
    match tokio::task::spawn_blocking(move || kawan_read::read(name.as_deref(), &bytes, None)).await {
        Ok(Ok(doc)) => results(&s, doc.text, region, Some(doc.format.as_str())).await,
        Ok(Err(e)) => s.failed("screen-title", ServiceError::bad_request("unreadable_file", format!("file: {e}"))),
        Err(_) => s.failed("screen-title", ServiceError::bad_request("unreadable_file", "file: the reader failed")),
    }
}

/// A span to highlight: where, the class, and what to say about it.
struct Mark {
    start: usize,
    end: usize,
    class: &'static str,
    title: String,
}

async fn results(s: &Session, text: String, region: Option<Country>, format: Option<&str>) -> Response {
    let screening = match s.svc.screen(s.caller.clone(), text.clone(), region).await {
        Ok(x) => x,
        Err(e) => return s.failed("screen-title", e),
    };
    let cases = s.svc.cases(s.caller.clone()).await.unwrap_or_default();
    let t = |id: &str| i18n::t(s.lang, id);
    let Screening { values, red_flags, typologies } = &screening;
    let mut marks: Vec<Mark> = values
        .iter()
        .map(|v| Mark {
            start: v.found.start,
            end: v.found.end,
            class: if v.hits.is_empty() { "hit" } else { "hit known" },
            title: format!("{}: {}", super::layout::kind_one(s.lang, v.found.kind), v.found.value),
        })
        .collect();
    marks.extend(red_flags.iter().map(|f| flag_mark(f, &t(&format!("flag-{}", f.flag)))));
    marks.extend(typologies.iter().map(|ty| flag_mark(&ty.found, &ty.title)));
    page(&s.svc, Some(s), &t("screen-title"), html! {
        @if let Some(f) = format { p.muted { (t("screen-read-as")) " " strong { (f) } } }
        p {
            strong { (values.len()) } " " (t("screen-sum-values")) " "
            strong { (values.iter().filter(|v| !v.hits.is_empty()).count()) } " " (t("screen-sum-known")) " "
            strong { (red_flags.len()) } " " (t("screen-sum-flags"))
        }
        div.screened lang="" { (highlighted(&text, marks)) }
        @if !values.is_empty() {
            form method="post" action="/screen/act" {
                input type="hidden" name="csrf" value=(s.csrf);
                table {
                    caption { (t("screen-values")) }
                    thead { tr { th { (t("screen-pick")) } th { (t("bulk-col-matched")) } th { (t("screen-written")) } th { (t("screen-standing")) } } }
                    tbody {
                        @for (i, v) in values.iter().enumerate() {
                            tr {
                                td {
                                    input type="checkbox" id={"pick" (i)} name="pick" value=(i) checked[v.hits.is_empty()];
                                    input type="hidden" name={"kind" (i)} value=(v.found.kind);
                                    input type="hidden" name={"value" (i)} value=(v.found.value);
                                    input type="hidden" name={"context" (i)} value=(context(&text, v.found.start, v.found.end));
                                }
                                td { label for={"pick" (i)} { (super::layout::kind_one(s.lang, v.found.kind)) " " code { (v.found.value) } } }
                                td { code { (v.found.text) } @if v.found.defanged { " " span.muted { (t("screen-defanged")) } } }
                                td {
                                    @if v.hits.is_empty() { (t("screen-unknown")) }
                                    @for h in &v.hits {
                                        a href={"/indicator/" (h.hit.id)} { (super::layout::agency(h)) } " "
                                        span.muted {
                                            "TLP:" (h.hit.content.tlp().as_str().to_uppercase()) " · " (h.hit.sighted_by.len()) " " (t("screen-sightings"))
                                            @if let Some(sc) = &h.score { " · " (t("ind-score")) " " (sc.now) @if sc.decayed { " " (t("ind-score-decayed")) } }
                                        }
                                        br;
                                    }
                                    @for w in &v.watched { (t("screen-watched")) " " (w.owner) br; }
                                    @for c in &v.cases { a href={"/cases/" (c)} { (t("screen-in-case")) " " (c) } br; }
                                }
                            }
                        }
                    }
                }
                fieldset {
                    legend { (t("screen-act")) }
                    p { button type="submit" name="action" value="watch" { (t("screen-act-watch")) } }
                    p {
                        label for="case" { (t("screen-case")) }
                        select id="case" name="case" { @for c in &cases { option value=(c.id) { (c.reference) " — " (c.title) } } }
                        " " button type="submit" name="action" value="case" disabled[cases.is_empty()] { (t("screen-act-case")) }
                    }
                    p {
                        label for="purpose" { (t("screen-purpose")) }
                        input id="purpose" type="text" name="purpose";
                        " " button type="submit" name="action" value="deconflict" { (t("screen-act-deconflict")) }
                    }
                    p {
                        button type="submit" name="action" value="publish" { (t("screen-act-publish")) }
                        " " button type="submit" name="action" value="refer" { (t("screen-act-refer")) }
                        br; span.muted { (t("screen-act-review")) }
                    }
                }
            }
        }
        @if !red_flags.is_empty() {
            h2 { (t("screen-flags")) }
            ul { @for f in red_flags { li { mark.flag { (f.text) } " — " (t(&format!("flag-{}", f.flag))) } } }
        }
        @if !typologies.is_empty() {
            h2 { (t("screen-typologies")) }
            ul { @for ty in typologies { li { a href={"/record/" (ty.typology)} { (ty.title) } ": " mark.flag { (ty.found.text) } } } }
        }
        (input(s, if format.is_none() { &text } else { "" }))
    })
    .into_response()
}

fn flag_mark(f: &Flagged, title: &str) -> Mark {
    Mark { start: f.start, end: f.end, class: "flag", title: title.to_string() }
}

/// The text, each span marked; a span overlapping an earlier one is left out.
fn highlighted(text: &str, mut marks: Vec<Mark>) -> Markup {
    marks.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut pieces: Vec<(&str, Option<&Mark>)> = Vec::new();
    let mut at = 0;
    for m in &marks {
        let fits = m.start >= at && m.end <= text.len();
        if fits && text.is_char_boundary(m.start) && text.is_char_boundary(m.end) {
            pieces.push((&text[at..m.start], None));
            pieces.push((&text[m.start..m.end], Some(m)));
            at = m.end;
        }
    }
    pieces.push((&text[at..], None));
    html! {
        @for (piece, mark) in pieces {
            @match mark {
                Some(m) => mark class=(m.class) title=(m.title) { (piece) },
                None => (piece),
            }
        }
    }
}

/// The line a value stands in, for an indicator's description.
fn context(text: &str, start: usize, end: usize) -> String {
    let from = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let to = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line = text[from..to].trim();
    let mut out: String = line.chars().take(300).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// The selected values and what to do with them.
pub(super) async fn act(s: Session, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    // One map of the fields (the first of each name), each pick once.
    let mut fields: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (n, v) in &pairs {
        fields.entry(n.as_str()).or_insert(v.as_str());
    }
    let get = |k: &str| fields.get(k).copied();
    if let Some(r) = s.refuses(get("csrf").unwrap_or("")) {
        return r;
    }
    let mut picks: Vec<&str> = pairs.iter().filter(|(n, _)| n == "pick").map(|(_, i)| i.as_str()).collect();
    picks.sort_unstable();
    picks.dedup();
    let picked: Vec<Pick> = picks
        .into_iter()
        .filter_map(|i| {
            Some(Pick {
                i: i.to_string(),
                kind: get(&format!("kind{i}"))?.parse().ok()?,
                value: get(&format!("value{i}"))?.to_string(),
                context: get(&format!("context{i}")).unwrap_or("").to_string(),
            })
        })
        .collect();
    let t = |id: &str| i18n::t(s.lang, id);
    if picked.is_empty() {
        return s.failed("screen-title", ServiceError::bad_request("nothing_selected", t("screen-none-picked")));
    }
    // What leaves the node is reviewed first: the values, the line each
    // came from (which may name a victim), the TLP.
    let action = get("action").unwrap_or("");
    if matches!(action, "publish" | "refer") && get("confirmed") != Some("yes") {
        return review(&s, action, &picked, get("tlp"));
    }
    let optional = |k: &str| get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut done: Vec<(String, Result<Option<String>, ServiceError>)> = Vec::new();
    match action {
        "watch" => {
            for Pick { kind, value, .. } in &picked {
                let new = crate::service::NewWatch {
                    kind: kind.to_string(),
                    value: value.clone(),
                    note: None,
                    expires_ms: None,
                };
                done.push((
                    value.clone(),
                    s.svc.watch(s.caller.clone(), new).await.map(|_| Some("/alerts".to_string())),
                ));
            }
        }
        "case" => {
            let Some(id) = get("case").and_then(|c| c.parse::<u64>().ok()) else {
                return s.failed("screen-title", ServiceError::bad_request("invalid_value", "case: choose a case"));
            };
            for Pick { kind, value, .. } in &picked {
                let r = s.svc.add_case_value(s.caller.clone(), id, Some(kind.to_string()), value.clone()).await;
                done.push((value.clone(), r.map(|_| Some(format!("/cases/{id}")))));
            }
        }
        "deconflict" => {
            let values =
                picked.iter().map(|p| AskValue { kind: Some(p.kind.to_string()), value: p.value.clone() }).collect();
            let ask =
                NewDeconfliction { values, purpose: get("purpose").unwrap_or("").to_string(), case: None, group: None };
            let r = s.svc.deconflict(s.caller.clone(), ask).await.map(|q| Some(format!("/deconflict#q-{}", q.id)));
            done.push((values_of(&picked), r));
        }
        "publish" => {
            let role_raw = get("role").unwrap_or("recruiter_contact");
            let Ok(role) = serde_json::from_value::<kawan_protocol::IndicatorRole>(serde_json::json!(role_raw)) else {
                return s.failed("screen-title", ServiceError::field("role", format!("unknown role {role_raw:?}")));
            };
            for Pick { kind, value, context, .. } in &picked {
                let new = NewIndicator {
                    kind: kind.to_string(),
                    value: value.clone(),
                    role,
                    subject: None,
                    confidence: None,
                    basis: None,
                    tlp: get("tlp").unwrap_or("green").to_string(),
                    group: optional("group"),
                    platform: platform_of(*kind, value),
                    countries: vec![],
                    typologies: vec![],
                    tags: vec![],
                    // As the analyst left it on the review page.
                    description: Some(context.trim().to_string()).filter(|d| !d.is_empty()),
                    first_seen: None,
                    last_seen: None,
                    valid_until: None,
                    review_ms: None,
                    handling: None,
                    handling_other: None,
                    evaluation: None,
                };
                let r =
                    s.svc.publish_indicator(s.caller.clone(), new).await.map(|p| Some(format!("/indicator/{}", p.id)));
                done.push((value.clone(), r));
            }
        }
        "refer" => {
            let platform = match get("platform").unwrap_or("") {
                "other" => format!("other:{}", get("other").unwrap_or("").trim().to_lowercase()),
                p => p.to_string(),
            };
            let request_raw = get("request").unwrap_or("");
            let Ok(request) = serde_json::from_value(serde_json::json!(request_raw)) else {
                return s.failed(
                    "screen-title",
                    ServiceError::field("request", format!("unknown request {request_raw:?}")),
                );
            };
            let new = NewReferral {
                platform,
                request,
                subjects: picked
                    .iter()
                    .map(|p| NewSubject { kind: p.kind.to_string(), value: p.value.clone(), record: None })
                    .collect(),
                tlp: get("tlp").unwrap_or("green").to_string(),
                group: optional("group"),
                submitted_ms: None,
                reference: optional("reference"),
                portal: optional("portal"),
                legal_basis: None,
                note: optional("note"),
                attachments: vec![],
            };
            let r = s.svc.create_referral(s.caller.clone(), new).await.map(|_| Some("/referrals".to_string()));
            done.push((values_of(&picked), r));
        }
        _ => return s.failed("screen-title", ServiceError::bad_request("invalid_value", "action")),
    }
    page(
        &s.svc,
        Some(&s),
        &t("screen-title"),
        html! {
            h2 { (t("screen-done")) }
            ul {
                @for (what, r) in &done {
                    li {
                        code { (what) } " — "
                        @match r {
                            Ok(Some(link)) => a href=(link) { (t("screen-ok")) },
                            Ok(None) => (t("screen-ok")),
                            Err(e) => span.error { (e.message) },
                        }
                    }
                }
            }
            p { a href="/screen" { (t("screen-again")) } }
        },
    )
    .into_response()
}

/// One selected value, by its row on the results page.
struct Pick {
    i: String,
    kind: Kind,
    value: String,
    context: String,
}

fn values_of(picked: &[Pick]) -> String {
    picked.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join(", ")
}

/// Before anything leaves the node: each value with the text that would go
/// with it (editable), and the channel; nothing is sent until confirmed.
fn review(s: &Session, action: &str, picked: &[Pick], tlp: Option<&str>) -> Response {
    let t = |id: &str| i18n::t(s.lang, id);
    let publish = action == "publish";
    let groups = s.svc.groups();
    let platforms: Vec<&str> = kawan_protocol::normalize::platforms().collect();
    let likely = picked.iter().find_map(|p| platform_of(p.kind, &p.value));
    let tlp = tlp.unwrap_or("green");
    page(&s.svc, Some(s), &t("screen-title"), html! {
        h2 { (t(if publish { "screen-review-publish" } else { "screen-review-refer" })) }
        p.notice { (t("screen-review-intro")) }
        form method="post" action="/screen/act" {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="confirmed" value="yes";
            @for p in picked {
                input type="hidden" name="pick" value=(p.i);
                input type="hidden" name={"kind" (p.i)} value=(p.kind);
                input type="hidden" name={"value" (p.i)} value=(p.value);
                @if publish {
                    label for={"context" (p.i)} { (super::layout::kind_one(s.lang, p.kind)) " " code { (p.value) } " — " (t("screen-review-description")) }
                    textarea id={"context" (p.i)} name={"context" (p.i)} rows="2" {
                        (t("screen-found-in")) " «" (p.context) "»"
                    }
                } @else {
                    p { (super::layout::kind_one(s.lang, p.kind)) " " code { (p.value) } }
                }
            }
            @if publish {
                label for="role" { (t("pub-role")) }
                select id="role" name="role" { @for r in ROLES { option value=(r) { (t(&format!("role-{r}"))) } } }
            } @else {
                label for="platform" { (t("ref-platform")) }
                select id="platform" name="platform" {
                    @for p in &platforms { option value=(p) selected[likely.as_deref() == Some(*p)] { (p) } }
                    option value="other" { (t("ref-other-option")) }
                }
                label for="other" { (t("ref-other")) }
                input id="other" type="text" name="other";
                label for="request" { (t("ref-request")) }
                select id="request" name="request" { @for v in super::referrals::REQUESTS { option value=(v) { (t(&format!("ref-req-{v}"))) } } }
                label for="reference" { (t("ref-reference")) }
                input id="reference" type="text" name="reference";
                label for="note" { (t("ref-note")) }
                textarea id="note" name="note" rows="2" {}
            }
            label for="tlp" { "TLP" }
            select id="tlp" name="tlp" { @for v in TLPS { option value=(v) selected[v == tlp] { (v.to_uppercase()) } } }
            label for="group" { (t("ref-group")) }
            select id="group" name="group" { option value="" { (t("ref-whole-network")) } @for g in &groups { option value=(g) { (g) } } }
            p {
                button type="submit" name="action" value=(action) { (t(if publish { "screen-act-publish" } else { "screen-act-refer" })) }
                " " a href="/screen" { (t("screen-review-cancel")) }
            }
        }
    })
    .into_response()
}

/// What an extracted value can be published as, and at which TLP (RED
/// never leaves the node, so it is not offered).
const ROLES: [&str; 6] = ["recruiter_contact", "job_ad", "scam_platform", "payment", "laundering", "infrastructure"];
const TLPS: [&str; 4] = ["green", "clear", "amber", "amber+strict"];

/// The platform a value belongs to, where its kind says.
fn platform_of(kind: Kind, value: &str) -> Option<String> {
    match kind {
        Kind::TelegramHandle => Some("telegram".into()),
        Kind::LineId => Some("line".into()),
        Kind::WechatId => Some("wechat".into()),
        Kind::SocialProfile => value.split_once('/').map(|(p, _)| p.to_string()),
        _ => None,
    }
}
