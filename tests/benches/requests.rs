//! Requests for information (issue #28). Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench requests
//!
//! Ten real `kawan run` processes on loopback. Each request names a number
//! that one other node (rotating) holds in a local case, and is measured
//! from its `created_ms` (set by the asker when it signs) to the `created_ms`
//! of the alert that node raised: one clock, no polling error. The cases
//! keep out of deconfliction (as a victim's case would), so the asker's
//! private check finds no holder and the request goes out. The baseline, in
//! the same run: an indicator published the same way, from its `created_ms`
//! to its `added_ms` at the same node.

use std::time::{Duration, Instant};

use kawan_tests::{TestNetwork, TestNode};
use serde_json::{Value, json};

const N: usize = 10;
const REQUESTS: usize = 40;

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pct(v: &mut [u64], p: f64) -> u64 {
    v.sort();
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn main() {
    println!("# Kawan requests benchmark");
    let net = TestNetwork::start(N, &[]);
    net.wait_for(60, "a connected network", |net| (0..N).all(|i| net.node(i).connected_peers() == N - 1));
    std::thread::sleep(Duration::from_secs(2)); // let connections settle

    // Node i's case holds the numbers of requests r with r % N == i.
    for i in 0..N {
        let n = net.node(i);
        let case = n.post_ok("/api/v1/cases", json!({"reference": format!("BENCH-{i}"), "title": "Victim"}));
        let id = case["id"].as_u64().unwrap();
        n.post_ok(&format!("/api/v1/cases/{id}/deconfliction"), json!({"opt_out": true}));
        for r in (0..REQUESTS).filter(|r| r % N == i) {
            n.post_ok(&format!("/api/v1/cases/{id}/values"), json!({"value": format!("+447700{:06}", 900000 + r)}));
        }
    }

    let (mut alerts, mut stored) = (Vec::new(), Vec::new());
    for r in 0..REQUESTS {
        let holder: &TestNode = net.node(r % N);
        let asker: &TestNode = net.node((r + 1) % N);
        let value = format!("+447700{:06}", 900000 + r);
        // The baseline: an indicator, asker → holder.
        let p = asker.post_ok(
            "/api/v1/indicators",
            json!({"kind": "phone", "value": format!("+447700{:06}", 901000 + r), "role": "recruiter_contact", "tlp": "green"}),
        );
        let id = p["id"].as_str().unwrap().to_string();
        let rec: Value = wait("the indicator at the holder", || {
            let resp = holder.get(&format!("/api/v1/records/{id}"));
            (resp.status == 200).then(|| resp.json())
        });
        stored.push(rec["added_ms"].as_u64().unwrap() - rec["created_ms"].as_u64().unwrap());

        let q = asker.post_ok(
            "/api/v1/requests",
            json!({"question": format!("Bench request {r}"), "tlp": "green", "values": [{"value": value}]}),
        );
        let rid = q["id"].as_str().unwrap().to_string();
        let created = wait("the request's record", || {
            let resp = asker.get(&format!("/api/v1/records/{rid}"));
            (resp.status == 200).then(|| resp.json()["created_ms"].as_u64().unwrap())
        });
        let raised = wait("the holder's alert", || {
            let alerts = holder.get_json("/api/v1/alerts?limit=50");
            alerts.as_array()?.iter().find(|a| a["record"] == rid.as_str()).map(|a| a["created_ms"].as_u64().unwrap())
        });
        alerts.push(raised.saturating_sub(created));
    }
    let (a50, a99, amax) = (pct(&mut alerts, 0.5), pct(&mut alerts, 0.99), *alerts.iter().max().unwrap());
    let (s50, s99) = (pct(&mut stored, 0.5), pct(&mut stored, 0.99));
    println!("\n## A request names a value another node's case holds (N = {N}, {REQUESTS} requests)");
    println!("indicator published → stored at that node (baseline) : p50 {s50} ms, p99 {s99} ms");
    println!(
        "request published → alert at that node               : p50 {a50} ms, p99 {a99} ms, max {amax} ms ({:.2} x baseline p99)",
        a99 as f64 / s99.max(1) as f64
    );
}
