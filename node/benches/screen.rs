//! Screening benchmark (issue #27). Run with:
//!
//!     cargo build --release -p kawan-cli && cargo bench -p kawan-node --bench screen
//!
//! Starts the real `kawan run` binary over a store of `KAWAN_BENCH_N`
//! indicators (default 100,000; every hundredth is a phone number the
//! texts mention) and measures, from this process over loopback:
//! - a 10 KB pasted text (job ads and chats of the test corpus), extract
//!   only and extract + screen, 200 requests each: p50 and p99;
//! - a Telegram Desktop `result.json` of 100,000 messages, uploaded to
//!   `POST /api/v1/screen`, against reading the same file in process.

mod common;

use std::time::Instant;

use common::*;
use kawan_node::data_dir::DataDir;

const CORPUS: &str = include_str!("../../tests/fixtures/extract/corpus.json");

fn main() {
    let n: usize = std::env::var("KAWAN_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let kawan = kawan_bin();
    println!("# Kawan screening benchmark");
    println!("machine: {} cores, {}", cores(), cpu_model());

    let dir = tempfile::tempdir().unwrap();
    let trust = init_node(&kawan, dir.path());
    let keys = agency_keys();
    {
        let storage = DataDir::open(&dir.path().join("data"), kawan_node::clock::Clock::system()).unwrap();
        storage.store.install_genesis(&trust).unwrap();
        let bytes: Vec<Vec<u8>> = make_records(&keys, n).iter().map(|v| v.envelope.to_bytes()).collect();
        ingest_all(&storage.store, &bytes);
        storage.close().unwrap();
    }

    let (mut node, base, token) = run_node(&kawan, dir.path());
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();

    // 10 KB of the corpus's texts.
    let corpus: serde_json::Value = serde_json::from_str(CORPUS).unwrap();
    let texts: Vec<&str> = corpus.as_array().unwrap().iter().filter_map(|c| c["text"].as_str()).collect();
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 10 * 1024 {
        text.push_str(texts[i % texts.len()]);
        text.push('\n');
        i += 1;
    }
    let body = serde_json::json!({"text": text, "region": "TH"});
    let latencies = |path: &str| {
        let mut lat = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let resp = agent
                .post(format!("{base}{path}"))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Kawan-Purpose", "benchmark")
                .send_json(&body)
                .unwrap();
            assert_eq!(resp.status(), 200);
            lat.push(t.elapsed());
        }
        lat.sort();
        (lat[lat.len() / 2], lat[lat.len() * 99 / 100])
    };
    let (ex50, ex99) = latencies("/api/v1/extract");
    let (sc50, sc99) = latencies("/api/v1/screen");

    // A Telegram export of 100k messages: chat lines, one in ten with a value.
    let mut messages = Vec::with_capacity(100_000);
    for m in 0..100_000usize {
        let text = match m % 10 {
            0 => format!("call me on +44 7700 900{:03} or t.me/recruit_{}", m % 1000, m % 5000),
            1 => "the job is customer service in Sihanoukville, free visa and flight".to_string(),
            2 => format!("deposit to the company wallet, order {m}, due 12/01/2027 09:30"),
            _ => "ok, I will think about it and tell you tomorrow, thank you".to_string(),
        };
        messages.push(serde_json::json!({"id": m, "type": "message", "date": "2026-12-01T10:00:00", "from": "Recruiter", "text": text}));
    }
    let export =
        serde_json::to_vec(&serde_json::json!({"name": "Recruiter", "type": "personal_chat", "messages": messages}))
            .unwrap();
    let t = Instant::now();
    let doc = kawan_read::read(Some("result.json"), &export, None).unwrap();
    let read_in_process = t.elapsed();
    let boundary = "kawanbench";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"result.json\"\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&export);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let t = Instant::now();
    let mut resp = agent
        .post(format!("{base}/api/v1/screen"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Kawan-Purpose", "benchmark")
        .header("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
        .send(&form[..])
        .unwrap();
    let status = resp.status();
    let answer = resp.body_mut().with_config().limit(1 << 30).read_to_string().unwrap();
    let screened = t.elapsed();
    assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let values = answer["indicators"].as_array().map_or(0, Vec::len);

    // Searches with decayed values left out (the default) and included:
    // a page of the newest indicators, and single values (every hundredth
    // decayed or not, as it falls).
    let search = |query: &str| {
        let t = Instant::now();
        let mut hits = 0;
        for i in 0..300usize {
            let q = query.replace("{i}", &((i * 7919) % n).to_string());
            let mut resp = agent
                .get(format!("{base}/api/v1/search?{q}"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            let v: serde_json::Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
            hits += v["hits"].as_array().map_or(0, Vec::len);
        }
        (300.0 / t.elapsed().as_secs_f64(), hits)
    };
    let (page_in, _) = search("type=indicator&limit=100&include_decayed=true");
    let (page_out, _) = search("type=indicator&limit=100");
    let (one_in, found_in) = search("kind=domain&value=recruit-{i}.jobs-abroad.example&include_decayed=true");
    let (one_out, found_out) = search("kind=domain&value=recruit-{i}.jobs-abroad.example");

    // SAFETY: kill(2) on a pid this process spawned and has not reaped.
    unsafe { libc::kill(node.id() as i32, libc::SIGTERM) };
    let _ = node.wait();

    println!("\n## 10 KB pasted text over HTTP ({} bytes, 200 requests each, {n} indicators stored)", text.len());
    println!("extract (baseline)    : p50 {ex50:?}, p99 {ex99:?}");
    println!(
        "extract + screen      : p50 {sc50:?}, p99 {sc99:?} = {:.2} x the baseline's p99",
        sc99.as_secs_f64() / ex99.as_secs_f64()
    );
    println!(
        "\n## Telegram export of 100,000 messages ({:.1} MB, {} bytes of text)",
        export.len() as f64 / 1e6,
        doc.text.len()
    );
    println!("read in process (baseline) : {read_in_process:?}");
    println!(
        "upload, extract + screen   : {screened:?} = {:.1} x the baseline ({values} distinct values)",
        screened.as_secs_f64() / read_in_process.as_secs_f64()
    );
    println!("\n## Search with decayed values left out (default) vs included ({n} indicators, 300 requests each)");
    println!("newest 100, included (baseline)  : {page_in:>7.1} requests/s");
    println!("newest 100, decayed left out     : {page_out:>7.1} requests/s = {:.2} x", page_out / page_in);
    println!("one value, included (baseline)   : {one_in:>7.1} requests/s ({found_in} hits)");
    println!(
        "one value, decayed left out      : {one_out:>7.1} requests/s = {:.2} x ({found_out} hits)",
        one_out / one_in
    );
}
