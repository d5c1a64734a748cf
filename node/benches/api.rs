//! API benchmark (issues #4, #10). Run with:
//!
//!     cargo build --release -p kawan-cli && cargo bench -p kawan-node --bench api
//!
//! Builds a node directory with `KAWAN_BENCH_N` indicators (default
//! 1,000,000), measures a 100k-value bulk lookup straight through the store,
//! then starts the real `kawan run` binary and measures, from this process
//! over loopback: the same bulk lookup through `POST /api/v1/lookup`, and
//! single lookups (`GET /api/v1/search?kind=&value=`) under load.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kawan_node::{data_dir::DataDir, store::BulkItem};
use kawan_protocol::*;

const CLIENTS: usize = 4;
const LOAD_SECONDS: u64 = 10;

fn main() {
    let big_n: usize = std::env::var("KAWAN_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let kawan = kawan_bin();
    println!("# Kawan API benchmark");
    println!("machine: {} cores, {}", cores(), cpu_model());

    let dir = tempfile::tempdir().unwrap();
    let trust = init_node(&kawan, dir.path());
    let keys = agency_keys();

    let t = Instant::now();
    let items: Vec<BulkItem> = (0..100_000usize)
        .map(|i| BulkItem {
            kind: Some(Kind::Domain),
            value: if i % 10 == 0 { raw_value(i * 7 % big_n) } else { raw_value(big_n + i) },
        })
        .collect();
    let direct = {
        let storage = DataDir::open(&dir.path().join("data"), kawan_node::clock::Clock::system()).unwrap();
        storage.store.install_genesis(&trust).unwrap();
        let records = make_records(&keys, big_n);
        let bytes: Vec<Vec<u8>> = records.iter().map(|v| v.envelope.to_bytes()).collect();
        drop(records);
        ingest_all(&storage.store, &bytes);
        println!("store of {big_n} indicators built in {:.0}s (setup)", t.elapsed().as_secs_f64());
        let ctx = Context::default();
        let mut hits = 0;
        let r = rate(items.len(), || {
            hits = storage.store.bulk_lookup(&items, &ctx, false).unwrap().iter().filter(|r| !r.hits.is_empty()).count()
        });
        assert_eq!(hits, 10_000);
        // Closed as `kawan run` closes it: the node then opens without
        // replaying a journal or compacting under the measurement.
        storage.close().unwrap();
        r
    };

    let (mut node, base, token) = run_node(&kawan, dir.path());
    let agent = || ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();

    // Bulk lookup through the API: the same 100k raw values, one request.
    let body: String = items.iter().map(|i| format!("{}\n", i.value)).collect();
    let a = agent();
    let mut with_hits = 0;
    let api = rate(items.len(), || {
        let mut resp = a
            .post(format!("{base}/api/v1/lookup?kind=domain"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "text/plain")
            .send(body.as_str())
            .unwrap();
        let out: serde_json::Value =
            serde_json::from_str(&resp.body_mut().with_config().limit(1 << 30).read_to_string().unwrap()).unwrap();
        with_hits = out["with_hits"].as_u64().unwrap_or(0);
    });
    assert_eq!(with_hits, 10_000);

    // Bulk lookup of 100k phone numbers as analysts paste them (fictional UK
    // drama range, four spellings), with the kind given and guessed.
    let phones: String = (0..100_000usize)
        .map(|i| {
            let n = i % 1000;
            match i % 4 {
                0 => format!("+44 7700 900{n:03}\n"),
                1 => format!("+447700900{n:03}\n"),
                2 => format!("0044 7700-900-{n:03}\n"),
                _ => format!("+44 (0)7700 900{n:03}\n"),
            }
        })
        .collect();
    let phone_rate = |query: &str| {
        let a = agent();
        let mut invalid = u64::MAX;
        let r = rate(100_000, || {
            let mut resp = a
                .post(format!("{base}/api/v1/lookup{query}"))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Content-Type", "text/plain")
                .send(phones.as_str())
                .unwrap();
            let out: serde_json::Value =
                serde_json::from_str(&resp.body_mut().with_config().limit(1 << 30).read_to_string().unwrap()).unwrap();
            invalid = out["invalid"].as_u64().unwrap_or(u64::MAX);
        });
        assert_eq!(invalid, 0, "every phone spelling normalises");
        r
    };
    let phones_given = phone_rate("?kind=phone");
    let phones_guessed = phone_rate("");

    // Single lookups under load: CLIENTS keep-alive connections, half hits.
    let stop = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (base, token) = (&base, &token);
                s.spawn(move || {
                    let a = agent();
                    let mut lat = Vec::new();
                    let mut i = c * 7919;
                    while Instant::now() < stop {
                        i = (i * 1_103_515_245 + 12_345) % (2 * big_n);
                        let t = Instant::now();
                        let resp = a
                            .get(format!("{base}/api/v1/search?kind=domain&value=recruit-{i}.jobs-abroad.example"))
                            .header("Authorization", &format!("Bearer {token}"))
                            .call()
                            .unwrap();
                        assert_eq!(resp.status(), 200);
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    // SAFETY: kill(2) on a pid this process spawned and has not reaped.
    unsafe { libc::kill(node.id() as i32, libc::SIGTERM) };
    let _ = node.wait();

    let mut lat = latencies;
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!("\n## Bulk lookup of 100k values (10% hits) against {big_n} indicators");
    println!("store, in process     : {:>9.0} values/s", direct);
    println!("HTTP API, one request : {:>9.0} values/s  = {:.2} x the store", api, api / direct);
    println!("\n## Bulk lookup of 100k phone numbers over HTTP (four spellings, one request)");
    println!("kind=phone given      : {:>9.0} values/s  = {:.2} x domains over HTTP", phones_given, phones_given / api);
    println!(
        "kind guessed          : {:>9.0} values/s  = {:.2} x domains over HTTP",
        phones_guessed,
        phones_guessed / api
    );
    println!(
        "\n## Single lookups over HTTP ({CLIENTS} keep-alive clients in a second process, {LOAD_SECONDS}s, half hits)"
    );
    println!(
        "throughput            : {:>9.0} requests/s, p50 {:?}, p99 {:?} ({} requests; every request is audited)",
        lat.len() as f64 / LOAD_SECONDS as f64,
        pct(0.5),
        pct(0.99),
        lat.len()
    );
}
