//! `kawan status`: the node's agency, network, record counts and store
//! size, written for a person (`--json` for programs).

use serde_json::Value;

use super::Ctx;
use crate::output;

pub fn run(ctx: &Ctx) -> anyhow::Result<bool> {
    let s = ctx.client()?.get("/api/v1/status")?;
    if ctx.json {
        output::json(&s);
        return Ok(true);
    }
    let str_of = |k: &str| s[k].as_str().unwrap_or("?").to_string();
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    println!("{} ({}) — Kawan {}", str_of("agency"), str_of("country"), str_of("version"));
    match s["trust_version"].as_u64() {
        Some(v) => println!("  network     {}, trust list v{v}, {} member(s)", str_of("network"), n("members")),
        None => println!("  network     {}, no trust list yet (kawan trust join GENESIS)", str_of("network")),
    }
    let net = if s["network_running"] == true { "running" } else { "NOT RUNNING" };
    let restarts = n("network_restarts");
    println!(
        "  p2p         {net}{}; peer id {}",
        if restarts > 0 { format!(" (restarted {restarts} time(s))") } else { String::new() },
        str_of("peer_id")
    );
    println!("  records     {} stored, {} on disk", n("records"), output::bytes(n("store_bytes")));
    let mut by_type: Vec<(String, u64)> = Vec::new();
    for c in s["records_by_type"].as_array().into_iter().flatten() {
        let t = c["type"].as_str().unwrap_or("?").to_string();
        let count = c["records"].as_u64().unwrap_or(0);
        match by_type.iter_mut().find(|(name, _)| *name == t) {
            Some(e) => e.1 += count,
            None => by_type.push((t, count)),
        }
    }
    for (t, count) in by_type {
        println!("              {count:>8}  {t}");
    }
    println!("  up for      {}", output::duration(n("uptime_s")));
    if n("equivocating_authors") > 0 {
        println!("  WARNING     {} agency(ies) signed two records for one log slot", n("equivocating_authors"));
    }
    for w in s["warnings"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        println!("  WARNING     {w}");
    }
    Ok(true)
}
