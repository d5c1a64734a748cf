//! `kawan review`: this agency's records due for review (list, extend),
//! and `kawan erase`: erase records on every node.

use clap::{Args, Subcommand};
use serde_json::json;

use super::Ctx;
use crate::{
    i18n::{t, time},
    output,
};

#[derive(Subcommand)]
pub enum ReviewCmd {
    /// This agency's records due for review, soonest first. Past its review
    /// date (and a one-hour grace) a record expires on every node.
    List {
        /// How many days ahead.
        #[arg(long, default_value_t = 90)]
        days: u64,
    },
    /// Keep a record past its review date: a signed revision with the new
    /// date (at most the network's retention period from today).
    ///
    /// Example: kawan review extend 3f2a… --until 2027-06-30 --reason "OP-7 still open"
    Extend {
        /// The record id (hex).
        id: String,
        /// The new review date, YYYY-MM-DD (UTC midnight).
        #[arg(long)]
        until: String,
        /// Why it is still needed (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct EraseArgs {
    /// The records to erase (hex ids): this agency's own, or, for a
    /// coordinator, those of an agency no longer in the network.
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why (do not repeat what is erased: the erasure travels to every node).
    #[arg(long)]
    reason: String,
}

pub fn run(c: ReviewCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    match c {
        ReviewCmd::List { days } => {
            let items = ctx.client()?.get(&format!("/api/v1/review?days={days}"))?;
            if ctx.json {
                output::json(&items);
                return Ok(true);
            }
            let items = items.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("{}", t!("review-none", days = days.to_string()));
            }
            for i in items {
                let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
                println!(
                    "{}",
                    t!(
                        "review-item",
                        due = time(i["due_ms"].as_u64().unwrap_or(0)),
                        type = s("type"),
                        label = s("label"),
                        id = s("id")
                    )
                );
            }
            Ok(true)
        }
        ReviewCmd::Extend { id, until, reason } => {
            let until_ms = day_ms(&until)?;
            let r = ctx.client()?.post(
                &format!("/api/v1/review/{}/extend", output::urlencode(&id)),
                &json!({"until_ms": until_ms, "reason": reason}),
            )?;
            if ctx.json {
                output::json(&r);
            } else {
                println!(
                    "{}",
                    t!(
                        "review-extended",
                        id = id,
                        until = time(until_ms),
                        revision = r["id"].as_str().unwrap_or_default()
                    )
                );
            }
            Ok(true)
        }
    }
}

pub fn erase(a: EraseArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let r = ctx.client()?.post("/api/v1/erasures", &json!({"ids": a.ids, "reason": a.reason}))?;
    if ctx.json {
        output::json(&r);
        return Ok(true);
    }
    for e in r.as_array().cloned().unwrap_or_default() {
        println!(
            "{}",
            t!(
                "erase-done",
                id = e["id"].as_str().unwrap_or_default(),
                channel = e["channel"].as_str().unwrap_or_default()
            )
        );
    }
    Ok(true)
}

/// `YYYY-MM-DD` → Unix ms at UTC midnight.
pub(super) fn day_ms(day: &str) -> anyhow::Result<u64> {
    let date: jiff::civil::Date = day.parse().map_err(|_| anyhow::anyhow!("{day:?} is not a date YYYY-MM-DD"))?;
    let ts = date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp();
    u64::try_from(ts.as_millisecond()).map_err(|_| anyhow::anyhow!("{day:?} is before 1970"))
}
