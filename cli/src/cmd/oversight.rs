//! `kawan oversight`: the signed oversight report for a period (operators,
//! auditors) and its verification; `kawan consultations`: the log of who
//! consulted shared data, when and why.

use anyhow::Context as _;
use clap::Subcommand;

use super::{Ctx, key::parse_time};
use crate::{i18n::t, output};

#[derive(Subcommand)]
pub enum OversightCmd {
    /// The oversight report for a period, signed by the node's key: what
    /// was shared and received, consultations per user and purpose,
    /// disclosures, erasures, review compliance, the audit log's state.
    ///
    /// Example: kawan oversight report --from 2026-01-01 --to 2026-07-01 --out h1.html --lang id
    Report {
        /// Start: a date (UTC), an RFC 3339 time, or Unix ms (default: the beginning).
        #[arg(long)]
        from: Option<String>,
        /// End, excluded (default: now).
        #[arg(long)]
        to: Option<String>,
        /// Write the report here: F.html (a page) or F.json; default: JSON on stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Language of the HTML page: en, id or th.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Checks a report file (HTML or JSON): its signature, and that the
    /// page is exactly what its signed figures render to. Works offline.
    Verify {
        /// The report file.
        file: std::path::PathBuf,
    },
}

pub fn run(c: OversightCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match c {
        OversightCmd::Report { from, to, out, lang } => {
            let mut query = format!("/api/v1/oversight/report?lang={}", output::urlencode(&lang));
            if let Some(from) = from {
                query.push_str(&format!("&from={}", parse_time(&from)?));
            }
            if let Some(to) = to {
                query.push_str(&format!("&to={}", parse_time(&to)?));
            }
            if out.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "html" || e == "htm")) {
                query.push_str("&format=html");
            }
            // Written exactly as the node signed it: verification compares.
            let body = ctx.client()?.get_text(&query)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, body.as_bytes())
                        .with_context(|| t!("oversight-write-failed", file = path.display().to_string()))?;
                    println!("{}", t!("oversight-written", file = path.display().to_string()));
                }
                None => println!("{body}"),
            }
            Ok(true)
        }
        OversightCmd::Verify { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| t!("oversight-read-failed", file = file.display().to_string()))?;
            match kawan_node::service::SignedReport::verify_file(&bytes) {
                Ok(signed) => {
                    if ctx.json {
                        output::json(
                            &serde_json::json!({"valid": true, "signer": signed.signer, "agency": signed.report.agency}),
                        );
                    } else {
                        println!(
                            "{}",
                            t!("oversight-valid", agency = signed.report.agency.clone(), key = signed.signer.clone())
                        );
                    }
                    Ok(true)
                }
                Err(e) => {
                    if ctx.json {
                        output::json(&serde_json::json!({"valid": false, "error": e.to_string()}));
                    } else {
                        println!("{}", t!("oversight-invalid", error = e.to_string()));
                    }
                    Ok(false)
                }
            }
        }
    }
}
