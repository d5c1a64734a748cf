//! Deconfliction and alert benchmark between real nodes (issue #15). Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench deconflict
//!
//! Eleven `kawan run` processes on loopback. Each of nodes 1–10 holds values in
//! a local case; node 0 asks. End to end = the API call at node 0, from
//! request to answer: filter fetch (when its copy is stale), blinding,
//! signed evaluation at all ten holders in parallel, proof checks, lookups.
//! Alert latency = a partner's `POST /api/v1/indicators` sent → the alert
//! event read from node 0's `/api/v1/alerts/stream`.

use std::{
    io::BufRead as _,
    sync::mpsc,
    time::{Duration, Instant},
};

use kawan_tests::{TestNetwork, TestNode, fixtures::phone};
use serde_json::{Value, json};

/// Node 0 asks; nodes 1–10 hold.
const N: usize = 11;
const SINGLE: usize = 200;
const ALERTS: usize = 200;

fn post(n: &TestNode, path: &str, body: Value) -> Value {
    let r = n.request("POST", path, Some(&n.token)).json(&body);
    assert!(r.status < 300, "{path}: {}", r.body);
    r.json()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn main() {
    println!("# Kawan deconfliction benchmark (real nodes)");
    let net = TestNetwork::start(N, &[]);
    net.wait_for(60, "a connected network", |net| {
        let n = net.node(0);
        let peers = n.request("GET", "/api/v1/peers", Some(&n.token)).call().json();
        peers.as_array().is_some_and(|ps| ps.iter().filter(|p| p["connected"] == true).count() >= 5)
    });
    // Replication keeps a few connections per node; a question dials the
    // holders it is not connected to (the first question pays for that).
    for i in 1..N {
        let case = post(net.node(i), "/api/v1/cases", json!({"reference": format!("CASE-{i}"), "title": "bench"}));
        let id = case["id"].as_u64().unwrap();
        post(net.node(i), &format!("/api/v1/cases/{id}/values"), json!({"kind": "phone", "value": phone(i as u16)}));
    }
    let asker = net.node(0);

    // Baseline: the same value checked locally (`POST /api/v1/lookup`).
    let mut local = Vec::new();
    for q in 0..SINGLE {
        let t = Instant::now();
        post(asker, "/api/v1/lookup", json!({"values": [{"kind": "phone", "value": phone((q % N) as u16)}]}));
        local.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let local_p50 = pct(&mut local, 0.5);
    println!("baseline: one value checked locally (POST /api/v1/lookup): p50 {local_p50:.2} ms");

    // One value, many times: the first question fetches every filter.
    let mut times = Vec::new();
    for q in 0..=SINGLE {
        let value = phone((q % N) as u16);
        let t = Instant::now();
        let out = post(
            asker,
            "/api/v1/deconflict",
            json!({"values": [{"kind": "phone", "value": value}], "purpose": "bench"}),
        );
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let answered = out["answers"].as_array().unwrap().iter().filter(|a| a["error"].is_null()).count();
        assert_eq!(answered, N - 1, "{out}");
        if q > 0 {
            times.push(ms);
        } else {
            println!("first question (fetches ten filters): {ms:.1} ms");
        }
    }
    let (p50, p99) = (pct(&mut times, 0.5), pct(&mut times, 0.99));
    println!(
        "one value against {} nodes, {SINGLE} questions: p50 {p50:.1} ms = {:.1} × local, p99 {p99:.1} ms (target p99 < 150 ms)",
        N - 1,
        p50 / local_p50
    );

    // A case's 1,000 values.
    for run in 0..3 {
        let values: Vec<Value> = (0..1000).map(|i| json!({"kind": "phone", "value": phone(i as u16)})).collect();
        let t = Instant::now();
        let out = post(asker, "/api/v1/deconflict", json!({"values": values, "purpose": "bench bulk"}));
        let s = t.elapsed().as_secs_f64();
        let hits: usize =
            out["answers"].as_array().unwrap().iter().map(|a| a["hits"].as_array().map_or(0, Vec::len)).sum();
        assert_eq!(hits, N - 1, "each holder holds one of them: {out}");
        println!("1,000 values against {} nodes, run {}: {s:.2} s (target < 5 s)", N - 1, run + 1);
    }

    // Alert latency: node 0 watches numbers its partners then publish.
    let (tx, rx) = mpsc::channel::<Instant>();
    {
        let (url, token) = (format!("{}/api/v1/alerts/stream", asker.base), asker.token.clone());
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let resp = agent.get(&url).header("Authorization", &format!("Bearer {token}")).call().unwrap();
            for line in std::io::BufReader::new(resp.into_body().into_reader()).lines() {
                if line.unwrap_or_default() == "event: alert" && tx.send(Instant::now()).is_err() {
                    return;
                }
            }
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut latencies = Vec::new();
    for k in 0..ALERTS {
        let value = phone(500 + k as u16);
        post(asker, "/api/v1/watchlist", json!({"kind": "phone", "value": value}));
        let author = net.node(1 + k % (N - 1));
        let t = Instant::now();
        post(
            author,
            "/api/v1/indicators",
            json!({"kind": "phone", "value": value, "role": "recruiter_contact", "tlp": "green"}),
        );
        let got = rx.recv_timeout(Duration::from_secs(10)).expect("an alert event");
        latencies.push((got - t).as_secs_f64() * 1000.0);
    }
    let (p50, p99) = (pct(&mut latencies, 0.5), pct(&mut latencies, 0.99));
    println!(
        "alert latency, published at a partner → SSE event at the watcher, {ALERTS} alerts: p50 {p50:.1} ms, p99 {p99:.1} ms (target p99 < 500 ms)"
    );
}
