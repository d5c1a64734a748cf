//! `kawan audit`: the hash-chained audit log.

use clap::Subcommand;
use serde_json::Value;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain of the audit log and its signed checkpoints.
    Verify,
    /// The newest entries (operators), newest first.
    Tail {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only actions starting with this, e.g. `deconflict` or `contact`.
        #[arg(long)]
        action: Option<String>,
    },
    /// Sign the audit log's head now and print the checkpoint: keep a copy
    /// off the node to detect a log cut back or rolled back later.
    Checkpoint,
}

pub fn run(a: AuditCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match a {
        AuditCmd::Verify => {
            let out = ctx.client()?.get("/api/v1/audit/verify")?;
            if ctx.json {
                output::json(&out);
            } else {
                if out["ok"] == Value::Bool(true) {
                    println!("{}", t!("audit-intact", n = out["entries"].as_u64().unwrap_or(0)));
                } else {
                    println!("{}", t!("audit-broken", error = out["error"].as_str().unwrap_or("?")));
                }
                let w = &out["witnessed"];
                if let Some(seq) = w["seq"].as_u64() {
                    let time = crate::i18n::time(w["time_ms"].as_u64().unwrap_or(0));
                    println!(
                        "{}",
                        t!("audit-witnessed", n = seq, time = time, record = w["record"].as_str().unwrap_or("?"))
                    );
                }
            }
            Ok(out["ok"] == Value::Bool(true))
        }
        AuditCmd::Tail { limit, action } => {
            let mut path = format!("/api/v1/audit?limit={limit}");
            if let Some(a) = action {
                path.push_str(&format!("&action={}", output::urlencode(&a)));
            }
            let out = ctx.client()?.get(&path)?;
            if ctx.json {
                output::json(&out);
            } else {
                for e in out.as_array().into_iter().flatten() {
                    println!(
                        "{:>6}  {}  {:<22} {}  {}",
                        e["seq"],
                        crate::i18n::time(e["time_ms"].as_u64().unwrap_or(0)),
                        e["action"].as_str().unwrap_or(""),
                        e["actor"].as_str().unwrap_or(""),
                        e["detail"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(true)
        }
        AuditCmd::Checkpoint => {
            let out = ctx.client()?.post("/api/v1/audit/checkpoint", &serde_json::json!({}))?;
            if ctx.json {
                output::json(&out);
            } else {
                let (hash, sig) = (out["hash"].as_str().unwrap_or("?"), out["sig"].as_str().unwrap_or("?"));
                println!("{}", t!("audit-checkpoint", seq = out["seq"].as_u64().unwrap_or(0), hash = hash, sig = sig));
            }
            Ok(true)
        }
    }
}
