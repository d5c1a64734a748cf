//! Attachments (issue #28): a 25 MB file fetched from a peer on loopback,
//! and how much each node's memory grows. Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench attachments
//!
//! Two real `kawan run` processes. The author uploads three different 25 MB
//! files (`POST /api/v1/attachments`, streamed) and names each in a request;
//! the reader fetches each (`POST /api/v1/attachments/{hash}/fetch`: the
//! manifest, then 100 chunks of 256 KiB, each checked before it is
//! written). Memory is the processes' peak resident set (VmHWM) before the
//! first upload and after the last fetch. The baseline, in the same run: the
//! same 25 MB over a plain loopback TCP socket in this process (no
//! encryption, no multiplexing, no hashing, no disk).

use std::{
    io::{Read as _, Write as _},
    time::Instant,
};

use kawan_tests::TestNetwork;
use serde_json::json;

const MB25: usize = 25 * 1024 * 1024;

fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB");
    kb.trim().parse::<u64>().unwrap() * 1024
}

fn bytes(seed: u32) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    let mut x = seed.wrapping_mul(2_654_435_761);
    while v.len() < MB25 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push((x >> 24) as u8);
    }
    v
}

/// MB/s of 25 MB over a plain loopback socket.
fn loopback_baseline(data: &[u8]) -> f64 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0;
        while n < MB25 {
            n += s.read(&mut buf).unwrap();
        }
    });
    let start = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(data).unwrap();
    reader.join().unwrap();
    25.0 / start.elapsed().as_secs_f64()
}

fn main() {
    println!("# Kawan attachments benchmark");
    let net = TestNetwork::start(2, &[]);
    net.wait_for(60, "connected", |net| (0..2).all(|i| net.node(i).connected_peers() == 1));
    let (author, reader) = (net.node(0), net.node(1));
    let before = (peak_rss(author.pid()), peak_rss(reader.pid()));
    let work = tempfile::tempdir().unwrap();
    let (mut fetch_mbs, mut upload_mbs, mut baseline_mbs) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=3 {
        let data = bytes(seed);
        baseline_mbs.push(loopback_baseline(&data));
        let path = work.path().join(format!("reply-{seed}.pdf"));
        std::fs::write(&path, &data).unwrap();
        let start = Instant::now();
        let out = author.cli().arg("--json").arg("attach").arg(&path).output().unwrap();
        upload_mbs.push(25.0 / start.elapsed().as_secs_f64());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let hash = reference["hash"].as_str().unwrap().to_string();
        let asked = author.post_ok(
            "/api/v1/requests",
            json!({"question": format!("Bench file {seed}"), "tlp": "green", "attachments": [reference]}),
        );
        let rid = asked["id"].as_str().unwrap();
        net.wait_for(30, "the reader has the request", |_| {
            reader.get(&format!("/api/v1/requests/{rid}")).status == 200
        });
        let start = Instant::now();
        let fetched = reader.post_ok(&format!("/api/v1/attachments/{hash}/fetch"), json!(null));
        fetch_mbs.push(25.0 / start.elapsed().as_secs_f64());
        assert_eq!(fetched["held"], false);
    }
    let after = (peak_rss(author.pid()), peak_rss(reader.pid()));
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (f, u, b) = (median(&mut fetch_mbs), median(&mut upload_mbs), median(&mut baseline_mbs));
    let mb = |x: u64| x as f64 / (1024.0 * 1024.0);
    println!("| measure | median of 3 × 25 MB | ratio to baseline |");
    println!("|---|---|---|");
    println!("| baseline: plain loopback TCP | {b:.0} MB/s | 1 |");
    println!("| fetched from a peer (`/kawan/attach/1`) | {f:.0} MB/s | {:.3} |", f / b);
    println!("| uploaded (`kawan attach`, streamed) | {u:.0} MB/s | {:.3} |", u / b);
    println!(
        "| peak memory growth over the run | author {:.1} MB, reader {:.1} MB | |",
        mb(after.0.saturating_sub(before.0)),
        mb(after.1.saturating_sub(before.1))
    );
}
