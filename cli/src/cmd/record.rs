//! `kawan record ID`: one stored record, exactly as signed, with the
//! current view of the knowledge it belongs to.

use clap::Args;
use serde_json::Value;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct RecordArgs {
    /// The record id (hex).
    id: String,
}

pub fn run(a: RecordArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let r = ctx.client()?.get(&format!("/api/v1/records/{}", output::urlencode(&a.id)))?;
    if ctx.json {
        output::json(&r);
        return Ok(true);
    }
    let s = |k: &str| r[k].as_str().map(String::from).unwrap_or_else(|| r[k].to_string());
    println!(
        "{}",
        t!("record-head", type = s("type"), id = s("id"), author = s("author"), channel = s("channel"), seq = s("seq"))
    );
    if r["type"] == "newer" {
        // Never interpreted here: say what it is and what to do.
        println!(
            "{}: {} ({})",
            r["body"]["note"].as_str().unwrap_or(""),
            s_of(&r["body"], "family"),
            s_of(&r["body"], "newer")
        );
    } else {
        output::json_or_text(&r["body"], false);
    }
    Ok(true)
}

fn s_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}
