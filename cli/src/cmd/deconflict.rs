//! `kawan deconflict` and `kawan contact`: ask every member privately
//! whether it holds anything on values (it never learns which), then follow
//! up on a hit.

use std::{io::Read as _, path::PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct DeconflictArgs {
    /// Values to ask about (kind guessed per value unless --kind).
    values: Vec<String>,
    /// Why you ask: every holder logs it with your request.
    #[arg(long)]
    purpose: String,
    /// Read values from FILE, one per line (`-` for stdin), up to 1,000.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Kind of every value.
    #[arg(long)]
    kind: Option<String>,
    /// A local case id: its reference goes with the request, and with no
    /// values given, the case's values are asked.
    #[arg(long)]
    case: Option<u64>,
    /// Ask only this sharing group's members.
    #[arg(long)]
    group: Option<String>,
}

pub fn run(a: DeconflictArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let mut values = a.values;
    if let Some(file) = &a.file {
        let mut text = String::new();
        if file.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text).context(t!("reading-stdin"))?;
        } else {
            text =
                std::fs::read_to_string(file).with_context(|| t!("cannot-read", path = file.display().to_string()))?;
        }
        values.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
    }
    let values: Vec<Value> = values.iter().map(|v| json!({"kind": a.kind, "value": v})).collect();
    let body = json!({"values": values, "purpose": a.purpose, "case": a.case, "group": a.group});
    let out = ctx.client()?.post("/api/v1/deconflict", &body)?;
    if ctx.json {
        output::json(&out);
    } else {
        print_question(&out);
    }
    Ok(true)
}

/// One line per member: hits (with the values) or no hit, or why no answer.
fn print_question(q: &Value) {
    let values = q["values"].as_array().cloned().unwrap_or_default();
    let purpose = q["purpose"].as_str().unwrap_or("");
    println!("{}", t!("dc-question", id = q["id"].as_u64().unwrap_or(0), n = values.len(), purpose = purpose));
    for a in q["answers"].as_array().into_iter().flatten() {
        let name = a["name"].as_str().unwrap_or("?");
        if let Some(e) = a["error"].as_str() {
            println!("  {}", t!("dc-no-answer", name = name, error = e));
            continue;
        }
        let hits: Vec<usize> =
            a["hits"].as_array().into_iter().flatten().filter_map(|h| h.as_u64()).map(|h| h as usize).collect();
        if hits.is_empty() {
            println!("  {}", t!("dc-no-hit", name = name));
        } else {
            println!("  {}", t!("dc-hit", name = name, n = hits.len(), contact = a["contact"].as_str().unwrap_or("-")));
            for i in hits {
                if let Some(v) = values.get(i) {
                    println!("      {} {}", v["kind"].as_str().unwrap_or(""), v["value"].as_str().unwrap_or(""));
                }
            }
            println!("    {}", t!("dc-follow-up", member = a["member"].as_str().unwrap_or("")));
        }
    }
}

#[derive(Subcommand)]
pub enum ContactCmd {
    /// Ask a holder with a hit to get in touch (discloses the value to it).
    Request {
        /// The holder's agency key (hex), as `kawan deconflict` prints it.
        holder: String,
        value: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        message: String,
        /// The question the hit came from (its purpose and case go along).
        #[arg(long)]
        question: Option<u64>,
    },
    /// Accept or decline a partner's contact request.
    Answer {
        id: String,
        #[arg(long, conflicts_with = "decline", required_unless_present = "decline")]
        accept: bool,
        #[arg(long)]
        decline: bool,
        /// Who the partner should talk to (default: the node's contact point).
        #[arg(long)]
        contact: Option<String>,
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Contact requests both ways, newest first.
    List,
}

pub fn contact(cmd: ContactCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    let out = match cmd {
        ContactCmd::Request { holder, value, kind, message, question } => client.post(
            "/api/v1/contacts",
            &json!({"holder": holder, "kind": kind, "value": value, "message": message, "query": question}),
        )?,
        ContactCmd::Answer { id, accept, decline: _, contact, message } => client.post(
            &format!("/api/v1/contacts/{}/answer", output::urlencode(&id)),
            &json!({"accept": accept, "contact": contact, "message": message}),
        )?,
        ContactCmd::List => client.get("/api/v1/contacts")?,
    };
    if ctx.json {
        output::json(&out);
        return Ok(true);
    }
    let list = match out.as_array() {
        Some(a) => a.clone(),
        None => vec![out],
    };
    for c in list {
        let peer = c["peer_name"].as_str().unwrap_or("");
        let whom =
            if c["direction"] == "incoming" { t!("contact-from", peer = peer) } else { t!("contact-to", peer = peer) };
        println!(
            "{}  {whom}  {} {}  {}{}",
            c["id"].as_str().unwrap_or(""),
            c["kind"].as_str().unwrap_or(""),
            c["value"].as_str().unwrap_or(""),
            c["status"].as_str().unwrap_or(""),
            c["answer_contact"]
                .as_str()
                .map(|x| format!(" — {}", t!("contact-point", contact = x)))
                .unwrap_or_default(),
        );
    }
    Ok(true)
}
