//! `kawan store`: the node's databases (operator).

use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Subcommand)]
pub enum StoreCmd {
    /// Records stored, bytes on disk per keyspace, journal size.
    Stats,
    /// Rewrite the tables to reclaim space (safe while the node runs).
    Compact,
    /// With the node stopped: rewrite both databases into fresh files so
    /// that nothing erased or expired survives on disk, not even in the
    /// write-ahead journal (run after an erasure a supervisor asks about).
    Purge,
}

pub fn run(s: StoreCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let out = match s {
        StoreCmd::Stats => ctx.client()?.get("/api/v1/store/stats")?,
        StoreCmd::Compact => ctx.client()?.post("/api/v1/store/compact", &json!({}))?,
        StoreCmd::Purge => {
            let config = kawan_node::config::Config::load(&ctx.dir)?;
            let data = ctx.dir.join(&config.paths.data);
            let copied = kawan_node::data_dir::purge(&data)?;
            println!("{}", t!("store-purged", dir = data.display().to_string(), pairs = copied.to_string()));
            return Ok(true);
        }
    };
    if ctx.json {
        output::json(&out);
    } else {
        output::store_stats(&out);
    }
    Ok(true)
}
