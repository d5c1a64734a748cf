//! `kawan referral`: referrals to platforms (takedown, suspension,
//! preservation, disclosure) and how they went.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::{
    i18n::t,
    output::{self, Col, row},
};

#[derive(Subcommand)]
pub enum ReferralCmd {
    /// File a referral; warns when another agency already referred a subject.
    Create {
        /// facebook, instagram, tiktok, telegram, whatsapp, line, wechat,
        /// linkedin, x, youtube, jobstreet, … or other:<name>
        #[arg(long)]
        platform: String,
        /// takedown, suspension, preservation or disclosure
        #[arg(long)]
        request: String,
        /// A subject as KIND=VALUE (repeatable), e.g. url=https://jobs.example/ad/7
        #[arg(long = "subject", required = true)]
        subjects: Vec<String>,
        /// clear, green, amber or amber+strict
        #[arg(long, default_value = "green")]
        tlp: String,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
        /// The platform's reference number.
        #[arg(long)]
        reference: Option<String>,
        /// Where it was filed (a portal URL, an address).
        #[arg(long)]
        portal: Option<String>,
        #[arg(long)]
        legal_basis: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Move a referral's status forward (only the agency that filed it).
    Update {
        id: String,
        /// acknowledged, removed, suspended, preserved, disclosed, declined or no_response
        #[arg(long)]
        status: String,
        #[arg(long)]
        reference: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Referrals as they stand, newest first.
    List {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
    /// A platform's takedown package: one row per subject with URL, first and
    /// last seen and the signed provenance, as CSV (default) or JSON.
    Export {
        #[arg(long)]
        platform: String,
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to FILE instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(cmd: ReferralCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    match cmd {
        ReferralCmd::Create { platform, request, subjects, tlp, group, reference, portal, legal_basis, note } => {
            let subjects = subjects
                .iter()
                .map(|s| {
                    let (kind, value) =
                        s.split_once('=').with_context(|| t!("referral-bad-subject", subject = s.as_str()))?;
                    Ok(json!({"kind": kind, "value": value}))
                })
                .collect::<anyhow::Result<Vec<Value>>>()?;
            let body = json!({
                "platform": platform, "request": request, "subjects": subjects, "tlp": tlp, "group": group,
                "reference": reference, "portal": portal, "legal_basis": legal_basis, "note": note,
            });
            let out = client.post("/api/v1/referrals", &body)?;
            if ctx.json {
                output::json(&out);
            } else {
                println!("{}", t!("referral-filed", id = out["id"].as_str().unwrap_or("")));
                for p in out["already_referred"].as_array().into_iter().flatten() {
                    let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
                    eprintln!(
                        "{}",
                        t!(
                            "referral-already",
                            agency = s("agency"),
                            date = day(p["submitted_ms"].as_u64()),
                            request = s("request"),
                            platform = s("platform"),
                            status = s("status")
                        )
                    );
                }
            }
        }
        ReferralCmd::Update { id, status, reference, note } => {
            let body = json!({"status": status, "reference": reference, "note": note});
            let out = client.post(&format!("/api/v1/referrals/{}/status", output::urlencode(&id)), &body)?;
            if ctx.json {
                output::json(&out);
            } else {
                println!(
                    "{}",
                    t!(
                        "referral-updated",
                        id = id.as_str(),
                        status = status.to_string(),
                        revision = out["id"].as_str().unwrap_or("")
                    )
                );
            }
        }
        ReferralCmd::List { platform, status } => {
            let mut q = Vec::new();
            if let Some(p) = platform {
                q.push(format!("platform={}", output::urlencode(&p)));
            }
            if let Some(s) = status {
                q.push(format!("status={}", output::urlencode(&s)));
            }
            let out = client.get(&format!("/api/v1/referrals?{}", q.join("&")))?;
            if ctx.json {
                output::json(&out);
            } else {
                const COLS: [Col; 6] = [Col::L(10), Col::L(14), Col::L(24), Col::L(13), Col::L(11), Col::L(0)];
                let head = ["col-id", "col-platform", "col-request", "col-status", "col-filed", "col-agency"];
                println!("{}", row(&COLS, &head.map(|id| crate::i18n::text(id, &[]))));
                for h in out.as_array().into_iter().flatten() {
                    let r = &h["content"]["referral"];
                    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
                    let cells = [
                        h["id"].as_str().unwrap_or("").chars().take(8).collect::<String>(),
                        s(&r["platform"]),
                        s(&r["request"]),
                        s(&r["status"]),
                        day(r["submitted_ms"].as_u64()),
                        s(&h["author_name"]),
                    ];
                    println!("{}", row(&COLS, &cells));
                }
            }
        }
        ReferralCmd::Export { platform, format, out } => {
            let path = format!(
                "/api/v1/referrals/package?platform={}&format={}",
                output::urlencode(&platform),
                output::urlencode(&format)
            );
            let text = client.get_text(&path)?;
            match out {
                Some(file) => std::fs::write(&file, text)
                    .with_context(|| t!("cannot-write", path = file.display().to_string()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(true)
}

/// `YYYY-MM-DD` of a Unix ms instant.
fn day(ms: Option<u64>) -> String {
    ms.map(|m| crate::i18n::time(m).chars().take(10).collect()).unwrap_or_default()
}
