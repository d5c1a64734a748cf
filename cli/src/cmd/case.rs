//! `kawan case`: local cases, which never leave the node.

use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::{
    i18n::{t, time},
    output::{self, pad},
};

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
    if ctx.json {
        output::json(&out);
    } else if let Some(list) = out.as_array() {
        print_list(list);
    } else {
        print_case(&out);
    }
    Ok(true)
}

/// One line per case, newest activity last as the node lists them.
fn print_list(cases: &[Value]) {
    if cases.is_empty() {
        println!("{}", t!("none"));
        return;
    }
    let cols = [
        t!("col-id"),
        t!("case-col-reference"),
        t!("case-col-title"),
        t!("case-col-values"),
        t!("case-col-links"),
        t!("case-col-updated"),
    ];
    println!(
        "{} {} {} {} {} {}",
        pad(&cols[0], 5),
        pad(&cols[1], 16),
        pad(&cols[2], 32),
        pad(&cols[3], 7),
        pad(&cols[4], 7),
        cols[5]
    );
    for c in cases {
        let count = |k: &str| c[k].as_array().map_or(0, Vec::len).to_string();
        println!(
            "{} {} {} {} {} {}",
            pad(&c["id"].to_string(), 5),
            pad(c["reference"].as_str().unwrap_or(""), 16),
            pad(c["title"].as_str().unwrap_or(""), 32),
            pad(&count("values"), 7),
            pad(&count("links"), 7),
            time(c["updated_ms"].as_u64().unwrap_or(0)),
        );
    }
}

/// Every fact of one case, labelled in words.
fn print_case(c: &Value) {
    let line = |label: String, text: String| println!("  {} {text}", pad(&label, 14));
    println!(
        "{}",
        t!(
            "case-head",
            id = c["id"].as_u64().unwrap_or(0),
            reference = c["reference"].as_str().unwrap_or(""),
            title = c["title"].as_str().unwrap_or("")
        )
    );
    line(t!("case-created"), time(c["created_ms"].as_u64().unwrap_or(0)));
    line(t!("case-updated"), time(c["updated_ms"].as_u64().unwrap_or(0)));
    if let Some(notes) = c["notes"].as_str().filter(|n| !n.is_empty()) {
        line(t!("case-notes"), notes.to_string());
    }
    if !c["details"].is_null() {
        line(t!("case-details"), c["details"].to_string());
    }
    let values = c["values"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for (i, v) in values.iter().enumerate() {
        let label = if i == 0 { t!("case-values") } else { String::new() };
        line(label, format!("{} {}", v["kind"].as_str().unwrap_or(""), v["value"].as_str().unwrap_or("")));
    }
    let links = c["links"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for (i, l) in links.iter().enumerate() {
        let label = if i == 0 { t!("case-links") } else { String::new() };
        line(label, l.as_str().unwrap_or("").to_string());
    }
    let deconfliction =
        if c["deconfliction_opt_out"] == true { t!("case-deconfliction-out") } else { t!("case-deconfliction-in") };
    line(t!("case-deconfliction"), deconfliction);
}
