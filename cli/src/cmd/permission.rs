//! `kawan permission`: permissions to pass a record carrying handling code
//! H2 outside the network (exports, platform referral packages), as the
//! provider gave them. Recorded locally; today the provider's answer is
//! copied in as text (a signed request/answer between agencies will
//! replace `--by` and `--reference`).

use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::{
    i18n::{t, time},
    output,
};

#[derive(Subcommand)]
pub enum PermissionCmd {
    /// Record the provider's permission to disseminate an H2 record outside
    /// the network.
    ///
    /// Example: kawan permission grant 3f2a… --by "Duty officer, Agency 2" --reference "SIENA 2026-0042" --scope export
    Grant {
        /// The record id (hex).
        id: String,
        /// Who at the author's agency gave permission.
        #[arg(long)]
        by: String,
        /// Their message or SIENA reference.
        #[arg(long)]
        reference: String,
        /// What it covers: export (TAXII, MISP, CSV, STIX), referral
        /// (platform referral packages) or all.
        #[arg(long, default_value = "all", value_parser = ["export", "referral", "all"])]
        scope: String,
        /// A note kept with the permission.
        #[arg(long)]
        note: Option<String>,
    },
    /// Every permission recorded, newest first.
    List,
    /// Remove a permission: the record is withheld from exports again.
    Revoke {
        /// The record id (hex).
        id: String,
    },
}

pub fn run(c: PermissionCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match c {
        PermissionCmd::Grant { id, by, reference, scope, note } => {
            let p = ctx.client()?.post(
                "/api/v1/permissions",
                &json!({"id": id, "granted_by": by, "reference": reference, "scope": scope, "note": note}),
            )?;
            if ctx.json {
                output::json(&p);
            } else {
                println!("{}", t!("permission-granted", id = s(&p, "id"), scope = s(&p, "scope")));
            }
            Ok(true)
        }
        PermissionCmd::List => {
            let list = ctx.client()?.get("/api/v1/permissions")?;
            if ctx.json {
                output::json(&list);
                return Ok(true);
            }
            let list = list.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("{}", t!("permission-none"));
            }
            for p in list {
                println!(
                    "{}",
                    t!(
                        "permission-item",
                        at = time(p["at_ms"].as_u64().unwrap_or(0)),
                        id = s(&p, "id"),
                        scope = s(&p, "scope"),
                        by = s(&p, "granted_by"),
                        reference = s(&p, "reference"),
                        recorder = s(&p, "recorded_by")
                    )
                );
            }
            Ok(true)
        }
        PermissionCmd::Revoke { id } => {
            let p = ctx.client()?.delete(&format!("/api/v1/permissions/{}", output::urlencode(&id)))?;
            if ctx.json {
                output::json(&p);
            } else {
                println!("{}", t!("permission-revoked", id = s(&p, "id")));
            }
            Ok(true)
        }
    }
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}
