//! `kawan bundle`: sync over a file, for air-gapped and intermittent nodes.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::i18n::t;

#[derive(Subcommand)]
pub enum BundleCmd {
    /// Write a bundle for one member (operator): every record sync would
    /// send it and the trust-list chain, signed by this node and encrypted
    /// to that member's key, so only its node can open the file.
    Export {
        /// The member id in the trust list (`kawan peers` lists them).
        #[arg(long = "for", value_name = "MEMBER")]
        member: String,
        /// Leave out records this node stored before this (RFC 3339, a date, or
        /// Unix ms): the time of the last bundle for the member, say.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a bundle made for this node (operator): checks who made it and
    /// for whom, every trust list and every record's signature, then stores
    /// what is new as sync would. The same bundle is taken in once.
    Import { file: PathBuf },
}

pub fn run(cmd: BundleCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match cmd {
        BundleCmd::Export { member, since, out } => {
            let since_ms = since.as_deref().map(super::key::parse_time).transpose()?;
            let (bytes, headers) = ctx
                .client()?
                .post_for_bytes("/api/v1/bundles/export", &json!({"member": member, "since_ms": since_ms}))?;
            kawan_node::files::write_atomic(&out, &bytes, 0o600)
                .with_context(|| t!("cannot-write", path = out.display().to_string()))?;
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
            if ctx.json {
                crate::output::json(&json!({
                    "file": out, "bytes": bytes.len(), "member": member, "bundle": header("x-kawan-bundle"),
                    "records": header("x-kawan-records").parse::<u64>().ok(),
                    "trust_lists": header("x-kawan-trust-lists").parse::<u64>().ok(),
                }));
            } else {
                println!(
                    "{}",
                    t!(
                        "bundle-exported",
                        path = out.display().to_string(),
                        member = member.as_str(),
                        records = header("x-kawan-records"),
                        lists = header("x-kawan-trust-lists"),
                        bytes = bytes.len()
                    )
                );
            }
        }
        BundleCmd::Import { file } => {
            let bytes = std::fs::read(&file).with_context(|| t!("cannot-read", path = file.display().to_string()))?;
            let out = ctx.client()?.post_bytes("/api/v1/bundles/import", &bytes)?;
            if ctx.json {
                crate::output::json(&out);
            } else {
                let n = |k: &str| out[k].as_u64().unwrap_or(0);
                println!(
                    "{}",
                    t!(
                        "bundle-imported",
                        from = out["from"].as_str().unwrap_or("?"),
                        new = n("new"),
                        duplicates = n("duplicates"),
                        refused = n("refused"),
                        lists = n("trust_lists")
                    )
                );
                for reason in out["reasons"].as_array().into_iter().flatten() {
                    println!("  {}", reason.as_str().unwrap_or_default());
                }
            }
        }
    }
    Ok(true)
}
