//! Trust-list proposals (issue #29): from a proposal to the list installed
//! at every node, 2-of-3 coordinators, 10 nodes, the second signature
//! given as soon as the proposal reaches its coordinator's node. Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench proposals
//!
//! Each round: coordinator 0 proposes a renewal (`POST
//! /api/v1/trust/proposals`), coordinator 1's node is polled until it holds
//! it and signs (`POST …/sign`: its node installs it), and every node is
//! polled until it runs the new version; the time is from the proposal to
//! the last node. The baseline, in the same run: an indicator published at
//! node 0 until it is stored at every node.

use std::time::{Duration, Instant};

use kawan_tests::{TestNetwork, TestNode};
use serde_json::json;

const N: usize = 10;
const ROUNDS: u64 = 8;

fn version(node: &TestNode) -> u64 {
    node.request("GET", "/api/v1/trust", Some(&node.token)).call().json()["version"].as_u64().unwrap_or(0)
}

fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn main() {
    println!("# Kawan proposals benchmark");
    let net = TestNetwork::start_governed(N, &[], (3, 2), |_| vec![], |_, _| {});
    net.wait_for(60, "a connected network", |net| (0..N).all(|i| net.node(i).connected_peers() == N - 1));
    std::thread::sleep(Duration::from_secs(2));
    let (c0, c1) = (net.node(0).new_token("coordinator"), net.node(1).new_token("coordinator"));
    let (mut proposals, mut records) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Baseline: an indicator from node 0 to every node.
        let value = format!("+447700900{:03}", 100 + round);
        let start = Instant::now();
        net.node(0).publish(kawan_tests::fixtures::green_phone(&value));
        wait("the indicator everywhere", || {
            (0..N).all(|i| {
                let hits =
                    net.node(i).get_json(&format!("/api/v1/search?kind=phone&value={}", value.replace('+', "%2B")));
                hits["hits"].as_array().is_some_and(|h| !h.is_empty())
            })
        });
        records.push(start.elapsed().as_secs_f64() * 1000.0);

        let before = version(net.node(0));
        let start = Instant::now();
        let body = json!({"renew": "agency-5", "until_ms": 1_800_000_000_000u64 + round, "note": "bench"});
        let r = net.node(0).request("POST", "/api/v1/trust/proposals", Some(&c0)).json(&body);
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_str().unwrap().to_string();
        wait("coordinator 1's node has it", || {
            let r = net.node(1).request("GET", "/api/v1/trust/proposals", Some(&c1)).call();
            r.json().as_array().is_some_and(|a| a.iter().any(|p| p["id"] == id.as_str()))
        });
        let r = net.node(1).request("POST", &format!("/api/v1/trust/proposals/{id}/sign"), Some(&c1)).call();
        assert_eq!(r.status, 200, "{}", r.body);
        wait("the new version everywhere", || (0..N).all(|i| version(net.node(i)) == before + 1));
        proposals.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = (pct(&mut proposals.clone(), 0.5), pct(&mut proposals, 0.99));
    let (b50, b99) = (pct(&mut records.clone(), 0.5), pct(&mut records, 0.99));
    println!("| measure ({ROUNDS} rounds, {N} nodes) | p50 | max | ratio (p50) |");
    println!("|---|---|---|---|");
    println!("| indicator published → at every node (baseline) | {b50:.0} ms | {b99:.0} ms | 1 |");
    println!(
        "| proposal → second signature → installed at every node | {p50:.0} ms | {p99:.0} ms | {:.1} |",
        p50 / b50
    );
}
