//! `kawan request`: requests for information to the network or a sharing
//! group, their answers, and the asker's status changes.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::{
    i18n::t,
    output::{self, Col, row},
};

#[derive(Subcommand)]
pub enum RequestCmd {
    /// Ask the members of the network (or of a sharing group) a question.
    /// Values it names are first checked privately: if members hold any,
    /// nothing is sent and the holders are named (ask them with
    /// `kawan contact`), unless --checked gives that check's id.
    Create {
        /// The question.
        question: String,
        /// A value it is about, as KIND=VALUE or VALUE (repeatable).
        #[arg(long = "value")]
        values: Vec<String>,
        /// A record it is about (a typology, a technique, an indicator; repeatable).
        #[arg(long = "record")]
        records: Vec<String>,
        /// A platform it is about (facebook, telegram, jobstreet, … or other:<name>).
        #[arg(long)]
        platform: Option<String>,
        /// routine, high or urgent
        #[arg(long, default_value = "routine")]
        priority: String,
        /// clear, green, amber or amber+strict
        #[arg(long, default_value = "green")]
        tlp: String,
        /// Ask this sharing group only (required for AMBER).
        #[arg(long)]
        group: Option<String>,
        /// Needed by this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        deadline: Option<String>,
        /// Broadcast the values although members hold some: the private
        /// check's id, as the refusal printed it.
        #[arg(long)]
        checked: Option<u64>,
        /// A file the request carries (a screenshot, a PDF; repeatable):
        /// uploaded first, as `kawan attach` does.
        #[arg(long = "attach")]
        attach: Vec<std::path::PathBuf>,
    },
    /// Requests, newest first.
    List {
        /// all, ours, or to_us (other agencies' open requests)
        #[arg(long, default_value = "all")]
        scope: String,
        /// open, answered or closed
        #[arg(long)]
        status: Option<String>,
    },
    /// A request and its answers.
    Show { id: String },
    /// Answer a request (to its audience, or to fewer members with --group).
    Answer {
        id: String,
        text: String,
        /// A value the answer gives, as KIND=VALUE or VALUE (repeatable).
        #[arg(long = "value")]
        values: Vec<String>,
        /// A record the answer rests on (repeatable).
        #[arg(long = "cite")]
        cites: Vec<String>,
        /// clear, green, amber or amber+strict (default: the request's)
        #[arg(long)]
        tlp: Option<String>,
        /// A sharing group within the request's audience that includes the
        /// asking agency (default: the request's audience).
        #[arg(long)]
        group: Option<String>,
        /// A file the answer carries (a screenshot, a PDF; repeatable):
        /// uploaded first, as `kawan attach` does.
        #[arg(long = "attach")]
        attach: Vec<std::path::PathBuf>,
    },
    /// Mark answers useful (the asking agency); the request becomes answered.
    Useful {
        id: String,
        /// The answers' ids.
        #[arg(required = true)]
        answers: Vec<String>,
    },
    /// Close a request (the asking agency).
    Close { id: String },
}

/// Uploads the files a request or an answer carries: their references.
fn uploads(ctx: &Ctx, files: &[std::path::PathBuf]) -> anyhow::Result<Vec<Value>> {
    files.iter().map(|f| super::attach::upload(ctx, f, None, None, None)).collect()
}

pub fn run(cmd: RequestCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    match cmd {
        RequestCmd::Create { question, values, records, platform, priority, tlp, group, deadline, checked, attach } => {
            let deadline_ms = deadline
                .map(|d| super::review::day_ms(&d).with_context(|| t!("request-bad-deadline", day = d.as_str())))
                .transpose()?;
            let body = json!({
                "question": question, "values": values.iter().map(|v| value(v)).collect::<Vec<_>>(),
                "records": records, "platform": platform, "priority": priority, "tlp": tlp, "group": group,
                "deadline_ms": deadline_ms, "checked": checked, "attachments": uploads(ctx, &attach)?,
            });
            match client.post("/api/v1/requests", &body) {
                Ok(out) if ctx.json => output::json(&out),
                Ok(out) => println!("{}", t!("request-sent", id = out["id"].as_str().unwrap_or(""))),
                Err(e) => {
                    // Members hold values of it: name them, send nothing.
                    let details = |code| crate::client::details_of(&e, code);
                    let Some(check) = details("holders_found").or_else(|| details("check_incomplete")) else {
                        return Err(e);
                    };
                    if ctx.json {
                        output::json(&check);
                        return Ok(false);
                    }
                    eprintln!("{}", t!("request-held", check = check["id"].as_u64().unwrap_or(0).to_string()));
                    let asked = check["values"].as_array().cloned().unwrap_or_default();
                    for a in check["answers"].as_array().into_iter().flatten() {
                        if a["error"].is_string() {
                            eprintln!("  {} — {}", a["name"].as_str().unwrap_or(""), t!("request-unasked"));
                        }
                        for i in a["hits"].as_array().into_iter().flatten().filter_map(Value::as_u64) {
                            let v = asked.get(i as usize).map(|v| v["value"].as_str().unwrap_or("")).unwrap_or("");
                            eprintln!("  {} — {v}", a["name"].as_str().unwrap_or(""));
                        }
                    }
                    return Ok(false);
                }
            }
        }
        RequestCmd::List { scope, status } => {
            let mut q = vec![format!("scope={}", output::urlencode(&scope))];
            if let Some(s) = status {
                q.push(format!("status={}", output::urlencode(&s)));
            }
            let out = client.get(&format!("/api/v1/requests?{}", q.join("&")))?;
            if ctx.json {
                output::json(&out);
            } else {
                const COLS: [Col; 6] = [Col::L(10), Col::L(9), Col::L(9), Col::R(7), Col::L(16), Col::L(0)];
                let head = ["col-id", "col-status", "col-priority", "col-answers", "col-agency", "col-question"];
                println!("{}", row(&COLS, &head.map(|id| crate::i18n::text(id, &[]))));
                for th in out.as_array().into_iter().flatten() {
                    let h = &th["request"];
                    let r = &h["content"]["request"];
                    let mut status = r["status"].as_str().unwrap_or("").to_string();
                    if th["overdue"] == true {
                        status.push('!');
                    }
                    let cells = [
                        h["id"].as_str().unwrap_or("").chars().take(8).collect::<String>(),
                        status,
                        r["priority"].as_str().unwrap_or("").to_string(),
                        th["answers"].as_array().map_or(0, Vec::len).to_string(),
                        h["author_name"].as_str().unwrap_or("").to_string(),
                        h["title"].as_str().unwrap_or("").to_string(),
                    ];
                    println!("{}", row(&COLS, &cells));
                }
            }
        }
        RequestCmd::Show { id } => {
            let out = client.get(&format!("/api/v1/requests/{}", output::urlencode(&id)))?;
            if ctx.json {
                output::json(&out);
            } else {
                let h = &out["request"];
                let r = &h["content"]["request"];
                let s = |v: &Value| v.as_str().unwrap_or("").to_string();
                println!("{} ({}, {}) — {}", s(&h["id"]), s(&r["status"]), s(&r["priority"]), s(&h["author_name"]));
                println!("{}", s(&r["question"]));
                for v in r["values"].as_array().into_iter().flatten() {
                    println!("  {} {}", s(&v["kind"]), s(&v["value"]));
                }
                if let Some(d) = r["deadline_ms"].as_u64() {
                    println!(
                        "{}",
                        t!("request-deadline", day = crate::i18n::time(d).chars().take(10).collect::<String>())
                    );
                }
                let useful: Vec<&str> =
                    r["useful"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                for a in out["answers"].as_array().into_iter().flatten() {
                    let mark = if useful.contains(&a["id"].as_str().unwrap_or("")) { " ★" } else { "" };
                    println!("\n{} — {} ({}){mark}", s(&a["id"]), s(&a["author_name"]), s(&a["channel"]));
                    println!("{}", s(&a["content"]["answer"]["text"]));
                    for v in a["content"]["answer"]["values"].as_array().into_iter().flatten() {
                        println!("  {} {}", s(&v["kind"]), s(&v["value"]));
                    }
                }
            }
        }
        RequestCmd::Answer { id, text, values, cites, tlp, group, attach } => {
            let body = json!({
                "text": text, "values": values.iter().map(|v| value(v)).collect::<Vec<_>>(),
                "cites": cites, "tlp": tlp, "group": group, "attachments": uploads(ctx, &attach)?,
            });
            let out = client.post(&format!("/api/v1/requests/{}/answers", output::urlencode(&id)), &body)?;
            if ctx.json {
                output::json(&out);
            } else {
                println!("{}", t!("request-answered", id = out["id"].as_str().unwrap_or("")));
            }
        }
        RequestCmd::Useful { id, answers } => {
            let out = client
                .post(&format!("/api/v1/requests/{}/status", output::urlencode(&id)), &json!({"useful": answers}))?;
            if ctx.json {
                output::json(&out);
            } else {
                println!("{}", t!("request-updated", id = id.as_str()));
            }
        }
        RequestCmd::Close { id } => {
            let out = client
                .post(&format!("/api/v1/requests/{}/status", output::urlencode(&id)), &json!({"status": "closed"}))?;
            if ctx.json {
                output::json(&out);
            } else {
                println!("{}", t!("request-updated", id = id.as_str()));
            }
        }
    }
    Ok(true)
}

/// `KIND=VALUE` or a bare value (its kind guessed by the node).
fn value(v: &str) -> Value {
    match v.split_once('=') {
        Some((kind, value)) if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
            json!({"kind": kind, "value": value})
        }
        _ => json!({"value": v}),
    }
}
