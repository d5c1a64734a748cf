//! `kawan audit`: the hash-chained audit log.

use clap::Subcommand;
use serde_json::Value;

use super::Ctx;
use crate::output;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain of the audit log.
    Verify,
}

pub fn run(a: AuditCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match a {
        AuditCmd::Verify => {
            let out = ctx.client()?.get("/api/v1/audit/verify")?;
            if ctx.json {
                output::json(&out);
            } else if out["ok"] == Value::Bool(true) {
                println!("audit log intact: {} entries", out["entries"]);
            } else {
                println!("audit log BROKEN: {}", out["error"].as_str().unwrap_or("?"));
            }
            Ok(out["ok"] == Value::Bool(true))
        }
    }
}
