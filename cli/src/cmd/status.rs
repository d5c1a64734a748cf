//! `kawan status`: the node's agency, network, record counts and store
//! size, written for a person (`--json` for programs).

use serde_json::Value;

use super::Ctx;
use crate::{i18n::t, output};

pub fn run(ctx: &Ctx) -> anyhow::Result<bool> {
    let s = ctx.client()?.get("/api/v1/status")?;
    if ctx.json {
        output::json(&s);
        return Ok(true);
    }
    let str_of = |k: &str| s[k].as_str().unwrap_or("?").to_string();
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    println!("{} ({}) — Kawan {}", str_of("agency"), str_of("country"), str_of("version"));
    let line = |label: String, text: String| println!("  {} {text}", output::pad(&label, 11));
    match s["trust_version"].as_u64() {
        Some(v) => line(
            t!("status-network"),
            t!("status-network-listed", network = str_of("network"), version = v, members = n("members")),
        ),
        None => line(t!("status-network"), t!("status-network-none", network = str_of("network"))),
    }
    let restarts = n("network_restarts");
    let net = match (s["network_running"] == true, restarts) {
        (false, _) => t!("status-p2p-down"),
        (true, 0) => t!("status-p2p-running"),
        (true, r) => t!("status-p2p-restarted", n = r),
    };
    line("p2p".into(), t!("status-p2p", state = net, peer = str_of("peer_id")));
    line(t!("status-records"), t!("status-records-stored", n = n("records"), size = output::bytes(n("store_bytes"))));
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
        println!("              {count:>8}  {}", crate::i18n::kind(&t));
    }
    line(t!("status-up"), output::duration(n("uptime_s")));
    if n("equivocating_authors") > 0 {
        line(t!("status-warning"), t!("status-equivocating", n = n("equivocating_authors")));
    }
    for w in s["warnings"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        line(t!("status-warning"), w.to_string());
    }
    Ok(true)
}
