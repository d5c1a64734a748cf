//! `kawan case`: local cases, which never leave the node.

use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::output;

#[derive(Subcommand)]
pub enum CaseCmd {
    /// Create a case.
    Create {
        /// The agency's own case number.
        #[arg(long)]
        reference: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// List cases.
    List,
    /// Show one case.
    Show { id: u64 },
    /// Link a shared record to a case.
    Link { id: u64, record: String },
    /// Add a value the case holds locally (never shared; watched for alerts
    /// and deconflictable unless the case opts out).
    AddValue {
        id: u64,
        value: String,
        #[arg(long)]
        kind: Option<String>,
    },
    /// Keep a case's values out of deconfliction (e.g. a victim's number),
    /// or with --allow, let them in again.
    NoDeconfliction {
        id: u64,
        #[arg(long)]
        allow: bool,
    },
}

pub fn run(c: CaseCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    let out = match c {
        CaseCmd::Create { reference, title, notes } => {
            client.post("/api/v1/cases", &json!({"reference": reference, "title": title, "notes": notes}))?
        }
        CaseCmd::List => client.get("/api/v1/cases")?,
        CaseCmd::Show { id } => client.get(&format!("/api/v1/cases/{id}"))?,
        CaseCmd::Link { id, record } => {
            client.post(&format!("/api/v1/cases/{id}/links"), &json!({"record": record}))?
        }
        CaseCmd::AddValue { id, value, kind } => {
            client.post(&format!("/api/v1/cases/{id}/values"), &json!({"kind": kind, "value": value}))?
        }
        CaseCmd::NoDeconfliction { id, allow } => {
            client.post(&format!("/api/v1/cases/{id}/deconfliction"), &json!({"opt_out": !allow}))?
        }
    };
    output::json_or_text(&out, ctx.json);
    Ok(true)
}
