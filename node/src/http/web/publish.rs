//! Publishing from the browser: an indicator, or a typology or technique.

use axum::{
    Form,
    response::{IntoResponse, Redirect, Response},
};
use kawan_protocol::{Body, Kind, Tlp};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Session, i18n, layout::page};
use crate::service::{NewIndicator, ServiceError, group_field};

const TLPS: [&str; 4] = ["green", "clear", "amber", "amber+strict"];

#[derive(Deserialize)]
pub(super) struct IndicatorForm {
    csrf: String,
    kind: String,
    value: String,
    role: String,
    tlp: String,
    group: Option<String>,
    confidence: Option<u8>,
    description: Option<String>,
    /// Handling code checkboxes ("on" when ticked) and H3's words.
    h1: Option<String>,
    h2: Option<String>,
    handling_other: Option<String>,
    /// "B2", or empty for none.
    evaluation: Option<String>,
}

/// Every evaluation, A1 … X4.
fn evaluations() -> impl Iterator<Item = String> {
    ['A', 'B', 'C', 'X'].into_iter().flat_map(|r| ('1'..='4').map(move |a| format!("{r}{a}")))
}

#[derive(Deserialize)]
pub(super) struct KnowledgeForm {
    csrf: String,
    what: String,
    title: String,
    text: String,
    stage: String,
    steps: String,
    tlp: String,
    group: Option<String>,
}

pub(super) async fn form(s: Session) -> Markup {
    publish_page(&s, None)
}

fn publish_page(s: &Session, error: Option<&ServiceError>) -> Markup {
    let groups = s.svc.groups();
    let t = |id: &str| i18n::t(s.lang, id);
    page(
        &s.svc,
        Some(s),
        &t("pub-title"),
        html! {
            @if let Some(e) = error { (super::layout::refusal(s.lang, e)) }
            form method="post" action="/publish" {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="kind" { (t("pub-kind")) }
                select id="kind" name="kind" { @for k in Kind::ALL { option value=(k) { (super::layout::kind_one(s.lang, k)) } } }
                label for="value" { (t("pub-value")) }
                input id="value" type="text" name="value" required;
                label for="role" { (t("pub-role")) }
                select id="role" name="role" { @for r in ["recruiter_contact", "job_ad", "scam_platform", "payment", "laundering", "infrastructure"] { option value=(r) { (t(&format!("role-{r}"))) } } }
                label for="tlp" { "TLP" }
                select id="tlp" name="tlp" { @for tlp in TLPS { option value=(tlp) { (tlp.to_uppercase()) } } }
                label for="group" { (t("pub-group")) }
                select id="group" name="group" { option value="" { (t("pub-whole-network")) } @for g in &groups { option value=(g) { (g) } } }
                label for="confidence" { (t("pub-confidence")) }
                input id="confidence" type="text" name="confidence" value="50" inputmode="numeric";
                label for="description" { (t("pub-description")) }
                textarea id="description" name="description" rows="3" {}
                fieldset {
                    legend { (t("pub-handling")) }
                    label { input type="checkbox" name="h1" value="on"; " H1: " (t("hnd-h1")) }
                    label { input type="checkbox" name="h2" value="on"; " H2: " (t("hnd-h2")) }
                    label for="handling_other" { "H3: " (t("pub-h3")) }
                    input id="handling_other" type="text" name="handling_other";
                }
                label for="evaluation" { (t("pub-evaluation")) }
                select id="evaluation" name="evaluation" {
                    option value="" { (t("pub-evaluation-none")) }
                    @for e in evaluations() { option value=(e) { (e) } }
                }
                p { button type="submit" { (t("pub-sign")) } }
            }
            p.muted { (t("pub-red")) }
            h2 { (t("pub-knowledge")) }
            form method="post" action="/publish/knowledge" {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="what" { (t("pub-what")) }
                select id="what" name="what" { option value="typology" { (t("pub-what-typology")) } option value="technique" { (t("pub-what-technique")) } }
                label for="title" { (t("pub-field-title")) }
                input id="title" type="text" name="title" required;
                label for="text" { (t("pub-summary")) }
                textarea id="text" name="text" rows="3" required {}
                label for="stage" { (t("pub-stage")) }
                select id="stage" name="stage" { @for st in ["recruitment", "transit", "exploitation", "scam", "monetisation"] { option value=(st) { (t(&format!("stage-{st}"))) } } }
                label for="steps" { (t("pub-steps")) }
                textarea id="steps" name="steps" rows="4" {}
                label for="ktlp" { "TLP" }
                select id="ktlp" name="tlp" { @for tlp in TLPS { option value=(tlp) { (tlp.to_uppercase()) } } }
                label for="kgroup" { (t("pub-group")) }
                select id="kgroup" name="group" { option value="" { (t("pub-whole-network")) } @for g in &groups { option value=(g) { (g) } } }
                p { button type="submit" { (t("pub-sign")) } }
            }
        },
    )
}

/// The form again, with what went wrong, under the error's status.
fn refused(s: &Session, e: ServiceError) -> Response {
    (crate::http::error::status_of(e.fault), publish_page(s, Some(&e))).into_response()
}

pub(super) async fn indicator(s: Session, Form(f): Form<IndicatorForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let role = match serde_json::from_value(serde_json::Value::String(f.role.clone())) {
        Ok(role) => role,
        Err(_) => return refused(&s, ServiceError::field("role", format!("unknown role {:?}", f.role))),
    };
    let other = f.handling_other.map(|o| o.trim().to_string()).filter(|o| !o.is_empty());
    let codes: Vec<&str> = [(f.h1.is_some(), "H1"), (f.h2.is_some(), "H2"), (other.is_some(), "H3")]
        .into_iter()
        .filter_map(|(on, code)| on.then_some(code))
        .collect();
    let new = NewIndicator {
        review_ms: None,
        handling: (!codes.is_empty()).then(|| codes.join(",")),
        handling_other: other,
        evaluation: f.evaluation.filter(|e| !e.trim().is_empty()),
        kind: f.kind,
        value: f.value,
        role,
        subject: None,
        confidence: f.confidence,
        basis: None,
        tlp: f.tlp,
        group: f.group,
        platform: None,
        countries: vec![],
        typologies: vec![],
        tags: vec![],
        description: f.description,
        first_seen: None,
        last_seen: None,
        valid_until: None,
    };
    match s.svc.publish_indicator(s.caller.clone(), new).await {
        Ok(p) => Redirect::to(&format!("/indicator/{}", p.id)).into_response(),
        Err(e) => refused(&s, e),
    }
}

pub(super) async fn knowledge(s: Session, Form(f): Form<KnowledgeForm>) -> Response {
    if let Some(r) = s.refuses(&f.csrf) {
        return r;
    }
    let staged = (|| -> Result<_, ServiceError> {
        let tlp: Tlp = ServiceError::parse("tlp", &f.tlp)?;
        let group = group_field(f.group.as_deref())?;
        let body = if f.what == "technique" {
            Body::Technique(kawan_protocol::Technique {
                evaluation: None,
                handling: None,
                review_ms: None,
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
                attachments: vec![],
            })
        } else {
            let stage = serde_json::from_value(serde_json::Value::String(f.stage.clone()))
                .map_err(|_| ServiceError::field("stage", format!("unknown stage {:?}", f.stage)))?;
            Body::Typology(kawan_protocol::Typology {
                evaluation: None,
                handling: None,
                review_ms: None,
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
                attachments: vec![],
            })
        };
        Ok((body, group))
    })();
    let published = match staged {
        Ok((body, group)) => s.svc.publish(s.caller.clone(), body, group).await,
        Err(e) => Err(e),
    };
    match published {
        Ok(_) => Redirect::to("/library").into_response(),
        Err(e) => refused(&s, e),
    }
}
