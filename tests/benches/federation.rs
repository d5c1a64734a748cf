//! Federation benchmark (issues #5, #10). Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench federation
//!
//! Real `kawan run` processes on loopback. Propagation is measured from each
//! record's `created_ms` (set by the author when it signs) to its `added_ms`
//! at every other node (set when that node stored it): one clock, no polling
//! error. Catch-up is compared with ingesting the same records in process.
//!
//! With `KAWAN_BENCH_PIN=1` (needs `taskset`, two cores), the catch-up runs
//! with the sender on core 0 and the receiver on core 1, and the in-process
//! baseline on one core: the figure the receiver's own core allows.

use std::time::{Duration, Instant};

use kawan_node::{data_dir::DataDir, identity, store::Query};
use kawan_protocol::*;
use kawan_tests::{TestNetwork, fixtures::job_ad_chain};
use serde_json::json;

const N: usize = 10;
const RECORDS: usize = 200;
const CATCH_UP: usize = 100_000;

fn main() {
    println!("# Kawan federation benchmark");
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("wire-{i}.bin"));
    let net = TestNetwork::start_with(N, &[], |i| vec![("KAWAN_WIRE_LOG", log_of(i))]);
    net.wait_for(60, "a connected network", |net| {
        let n = net.node(0);
        let peers = n.request("GET", "/api/v1/peers", Some(&n.token)).call().json();
        peers.as_array().is_some_and(|ps| ps.iter().filter(|p| p["connected"] == true).count() == N - 1)
    });
    std::thread::sleep(Duration::from_secs(2)); // let connections settle
    let wire_before: u64 = (0..N).map(|i| std::fs::metadata(log_of(i)).map_or(0, |m| m.len())).sum();

    let mut delays = Vec::new();
    let mut envelope_bytes = 0usize;
    for r in 0..RECORDS {
        let author = net.node(r % N);
        let value = format!("+447700{:06}", 900000 + r);
        let p = author.request("POST", "/api/v1/indicators", Some(&author.token)).json(&json!({
            "kind": "phone", "value": value, "role": "recruiter_contact", "tlp": "green"
        }));
        assert_eq!(p.status, 201, "{}", p.body);
        let id = p.json()["id"].as_str().unwrap().to_string();
        for i in (0..N).filter(|i| *i != r % N) {
            let n = net.node(i);
            let deadline = Instant::now() + Duration::from_secs(30);
            let rec = loop {
                let resp = n.request("GET", &format!("/api/v1/records/{id}"), Some(&n.token)).call();
                if resp.status == 200 {
                    break resp.json();
                }
                assert!(Instant::now() < deadline, "record never reached node {i}");
                std::thread::sleep(Duration::from_millis(5));
            };
            envelope_bytes = rec["envelope"].as_str().unwrap().len() / 2;
            delays.push(rec["added_ms"].as_u64().unwrap() - rec["created_ms"].as_u64().unwrap());
        }
    }
    delays.sort();
    let pct = |p: f64| delays[((delays.len() as f64 * p) as usize).min(delays.len() - 1)];
    let wire_after: u64 = (0..N).map(|i| std::fs::metadata(log_of(i)).map_or(0, |m| m.len())).sum();
    let per_record = (wire_after - wire_before) as f64 / RECORDS as f64;
    println!("\n## Propagation to all of N = {N} nodes ({RECORDS} records, authors rotating)");
    println!(
        "publish → stored at each other node : p50 {} ms, p99 {} ms, max {} ms",
        pct(0.5),
        pct(0.99),
        delays[delays.len() - 1]
    );
    println!(
        "payload bytes received per record   : {per_record:.0} across {} nodes = {:.2} x (envelope {envelope_bytes} B x {})",
        N - 1,
        per_record / (envelope_bytes * (N - 1)) as f64,
        N - 1
    );
    drop(net);

    // Catch-up: node 1 holds 100k records; node 0 starts empty and syncs them.
    let pin = std::env::var_os("KAWAN_BENCH_PIN").is_some();
    let pin_to = |pid: u32, core: &str| {
        let ok = std::process::Command::new("taskset")
            .args(["-a", "-cp", core, &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "taskset could not pin process {pid} to core {core}");
    };
    if pin {
        pin_to(std::process::id(), "0");
    }
    let mut pair = TestNetwork::start(2, &[]);
    pair.stop(0);
    pair.stop(1);
    let key = identity::load(&pair.dir(1).join("agency.key")).unwrap();
    let records = job_ad_chain(&key, CATCH_UP);
    let bytes: Vec<Vec<u8>> = records.iter().map(|v| v.envelope.to_bytes()).collect();
    let local = {
        let scratch = tempfile::tempdir().unwrap();
        let s = DataDir::open(scratch.path(), kawan_node::clock::Clock::system()).unwrap();
        s.store.install_genesis(&kawan_node::coordinator::read(&pair.genesis).unwrap()).unwrap();
        let t = Instant::now();
        for c in bytes.chunks(256) {
            for r in s.store.ingest_batch(c) {
                r.unwrap();
            }
        }
        CATCH_UP as f64 / t.elapsed().as_secs_f64()
    };
    {
        let s = DataDir::open(&pair.dir(1).join("data"), kawan_node::clock::Clock::system()).unwrap();
        s.store.install_genesis(&kawan_node::coordinator::read(&pair.genesis).unwrap()).unwrap();
        for c in bytes.chunks(256) {
            for r in s.store.ingest_batch(c) {
                r.unwrap();
            }
        }
    }
    pair.restart(1);
    if pin {
        pin_to(pair.node(1).pid(), "0");
    }
    let t = Instant::now();
    pair.restart(0);
    if pin {
        pin_to(pair.node(0).pid(), "1");
    }
    pair.wait_for(600, "catch-up", |p| {
        let n = p.node(0);
        n.request("GET", "/api/v1/status", Some(&n.token)).call().json()["records"].as_u64() == Some(CATCH_UP as u64)
    });
    let synced = CATCH_UP as f64 / t.elapsed().as_secs_f64();
    // The sync itself, from the node's own clock: first record stored to
    // last record stored (process start, dialing and polling left out).
    pair.stop(0);
    let sync_only = {
        let s = DataDir::open(&pair.dir(0).join("data"), kawan_node::clock::Clock::system()).unwrap();
        let (first, _) = s.store.added_after(None, None, 1).unwrap();
        let newest = s.store.search(&Query { limit: 1, ..Query::default() }, &Context::default()).unwrap().unwrap();
        let span_ms = newest[0].added_ms.saturating_sub(first[0].added_ms).max(1);
        CATCH_UP as f64 / (span_ms as f64 / 1000.0)
    };
    let how = if pin { "sender on core 0, receiver on core 1, baseline on one core" } else { "both on the same cores" };
    println!("\n## Catch-up of {CATCH_UP} missing records from one peer ({how})");
    println!("local ingest of the same records     : {local:.0} /s");
    println!("catch-up, first to last record stored: {sync_only:.0} /s = {:.2} x local ingest", sync_only / local);
    println!(
        "catch-up, end to end                 : {synced:.0} /s = {:.2} x local ingest (includes node start, dialing, 100 ms polling)",
        synced / local
    );
}
