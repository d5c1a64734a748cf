//! `kawan publish`: sign and share a record as this agency.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use kawan_protocol::Kind;
use serde_json::{Value, json};

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Subcommand)]
pub enum Publish {
    /// An indicator (phone number, handle, URL, wallet…).
    Indicator(Box<IndicatorArgs>),
    /// A typology, from a TOML file of its fields.
    Typology {
        #[arg(long)]
        file: PathBuf,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
    },
    /// An investigative technique, from a TOML file of its fields.
    Technique {
        #[arg(long)]
        file: PathBuf,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
    },
    /// Corroborate (or dispute) another agency's record.
    Sighting {
        #[arg(long)]
        target: String,
        /// corroborates or false_positive; on a referral, referred_too or
        /// still_online (the subjects were still up when you looked)
        #[arg(long, default_value = "corroborates")]
        verdict: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// A new version of one of this agency's records: the current content
    /// with the fields you change. Replicates like any record.
    ///
    /// Example: kawan publish revision ID --set confidence=95 --set basis=fact
    Revision {
        /// The record to revise (its id, or any of its versions').
        id: String,
        /// A field to change, as FIELD=VALUE (repeatable). VALUE is read as
        /// JSON when it parses (numbers, lists, true/false), else as text.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
        /// A TOML file of fields to change.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
    },
    /// Withdraw one of this agency's records, everywhere it replicated.
    Retraction {
        #[arg(long)]
        target: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct IndicatorArgs {
    #[arg(long)]
    kind: Kind,
    #[arg(long)]
    value: String,
    /// clear, green, amber or amber+strict (RED stays local: use a case).
    #[arg(long)]
    tlp: String,
    /// recruiter_contact, job_ad, scam_platform, payment, laundering, infrastructure
    #[arg(long)]
    role: String,
    /// suspect, victim or unknown
    #[arg(long)]
    subject: Option<String>,
    /// 0-100
    #[arg(long)]
    confidence: Option<u8>,
    /// fact or assessment
    #[arg(long)]
    basis: Option<String>,
    /// Sharing group (required for AMBER).
    #[arg(long)]
    group: Option<String>,
    /// facebook, instagram, tiktok, x, whatsapp…
    #[arg(long)]
    platform: Option<String>,
    /// ISO country (repeatable).
    #[arg(long = "country")]
    countries: Vec<String>,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Typology record id (repeatable).
    #[arg(long = "typology")]
    typologies: Vec<String>,
    #[arg(long)]
    description: Option<String>,
    /// Handling codes, comma-separated: H1 (not as evidence without this
    /// agency's permission), H2 (not outside the network without it), H3
    /// (other restrictions, in --handling-other). Default: H0, none.
    #[arg(long)]
    handling: Option<String>,
    /// The restrictions of H3, in words.
    #[arg(long)]
    handling_other: Option<String>,
    /// Evaluation: source reliability A/B/C/X and information assessment
    /// 1-4, e.g. B2.
    #[arg(long)]
    evaluation: Option<String>,
    /// Review date, YYYY-MM-DD (default and latest: the network's retention
    /// period from today). Past it the record expires on every node.
    #[arg(long)]
    review: Option<String>,
}

pub fn run(p: Publish, ctx: &Ctx) -> anyhow::Result<bool> {
    let c = ctx.client()?;
    let (path, body) = match p {
        Publish::Revision { id, set, file, group } => ("/api/v1/revisions", revision(&c, &id, &set, file, group)?),
        other => request(other)?,
    };
    let out = c.post(path, &body)?;
    if ctx.json {
        output::json(&out);
    } else {
        let (id, channel) = (out["id"].as_str().unwrap_or("?"), out["channel"].as_str().unwrap_or("?"));
        println!("{}", t!("published", id = id, seq = out["seq"].as_u64().unwrap_or(0), channel = channel));
        if let Some(v) = out["value"].as_str() {
            println!("  {}", t!("published-value", value = v));
        }
        for w in out["warnings"].as_array().into_iter().flatten() {
            println!("  {}", t!("published-warning", warning = w.as_str().unwrap_or("")));
        }
    }
    Ok(true)
}

/// The API path and body that publish `p`.
fn request(p: Publish) -> anyhow::Result<(&'static str, Value)> {
    Ok(match p {
        Publish::Indicator(a) => (
            "/api/v1/indicators",
            json!({
                "kind": a.kind, "value": a.value, "tlp": a.tlp, "role": a.role, "subject": a.subject,
                "confidence": a.confidence, "basis": a.basis, "group": a.group, "platform": a.platform,
                "countries": a.countries, "tags": a.tags, "typologies": a.typologies, "description": a.description,
                "handling": a.handling, "handling_other": a.handling_other, "evaluation": a.evaluation,
                "review_ms": a.review.as_deref().map(super::review::day_ms).transpose()?,
            }),
        ),
        Publish::Typology { file, group } => {
            ("/api/v1/typologies", json!({"group": group, "content": read_toml(&file)?}))
        }
        Publish::Technique { file, group } => {
            ("/api/v1/techniques", json!({"group": group, "content": read_toml(&file)?}))
        }
        Publish::Sighting { target, verdict, comment } => {
            ("/api/v1/sightings", json!({"target": target, "verdict": verdict, "comment": comment}))
        }
        Publish::Retraction { target, reason } => ("/api/v1/retractions", json!({"target": target, "reason": reason})),
        Publish::Revision { .. } => anyhow::bail!(t!("revision-from-current")),
    })
}

/// The body of a revision: the record's current content with `set` and
/// `file`'s fields changed.
fn revision(
    c: &crate::client::Client,
    id: &str,
    set: &[String],
    file: Option<PathBuf>,
    group: Option<String>,
) -> anyhow::Result<Value> {
    let record = c.get(&format!("/api/v1/records/{}", output::urlencode(id)))?;
    let root = record["current"]["id"].as_str().unwrap_or(id).to_string();
    let mut content = record["current"]["content"].clone();
    let Some((family, fields)) = content.as_object_mut().and_then(|m| m.iter_mut().next()) else {
        anyhow::bail!(t!("revision-no-content", id = id));
    };
    let family = family.clone();
    let fields =
        fields.as_object_mut().with_context(|| t!("revision-not-object", id = id, family = family.to_string()))?;
    let mut changes: Vec<(String, Value)> = Vec::new();
    if let Some(f) = file {
        let Value::Object(m) = read_toml(&f)? else {
            anyhow::bail!(t!("revision-not-table", path = f.display().to_string()))
        };
        changes.extend(m);
    }
    for pair in set {
        let (k, v) = pair.split_once('=').with_context(|| t!("revision-bad-set", pair = pair.as_str()))?;
        let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        changes.push((k.trim().to_string(), v));
    }
    if changes.is_empty() {
        anyhow::bail!(t!("revision-nothing"));
    }
    for (k, v) in changes {
        fields.insert(k, v);
    }
    Ok(json!({"supersedes": root, "group": group, "content": content}))
}

fn read_toml(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| t!("cannot-read", path = path.display().to_string()))?;
    let value: toml::Value =
        toml::from_str(&text).with_context(|| t!("not-toml", path = path.display().to_string()))?;
    Ok(serde_json::to_value(value)?)
}
