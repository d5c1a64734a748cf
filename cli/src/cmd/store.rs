//! `kawan store`: the node's databases (operator).

use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::output;

#[derive(Subcommand)]
pub enum StoreCmd {
    /// Records stored, bytes on disk per keyspace, journal size.
    Stats,
    /// Rewrite the tables to reclaim space (safe while the node runs).
    Compact,
}

pub fn run(s: StoreCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let out = match s {
        StoreCmd::Stats => ctx.client()?.get("/api/v1/store/stats")?,
        StoreCmd::Compact => ctx.client()?.post("/api/v1/store/compact", &json!({}))?,
    };
    if ctx.json {
        output::json(&out);
    } else {
        output::store_stats(&out);
    }
    Ok(true)
}
