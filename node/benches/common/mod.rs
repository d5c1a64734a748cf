//! Data and helpers shared by the benchmarks. All data is fictional:
//! `.example` domains under generated agency keys.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use kawan_node::store::Store;
use kawan_protocol::*;

pub const AGENCIES: u8 = 100;
pub const BATCH: usize = 256;

pub fn agency_keys() -> Vec<Keypair> {
    (1..=AGENCIES).map(|n| Keypair::from_secret_bytes([n; 32])).collect()
}

pub fn ingest_all(store: &Store, bytes: &[Vec<u8>]) {
    for chunk in bytes.chunks(BATCH) {
        for r in store.ingest_batch(chunk) {
            r.unwrap();
        }
    }
}

/// Records per second of `f` over `n` records.
pub fn rate(n: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    n as f64 / t.elapsed().max(Duration::from_nanos(1)).as_secs_f64()
}

/// The stored form of indicator `i`: a domain under `.example`.
pub fn value(i: usize) -> String {
    format!("recruit-{i}.jobs-abroad.example")
}

/// How an analyst might paste it.
pub fn raw_value(i: usize) -> String {
    format!("Recruit-{i}.JOBS-ABROAD[.]example.")
}

pub fn make_records(keys: &[Keypair], n: usize) -> Vec<Verified> {
    let per = n.div_ceil(keys.len());
    let mut out = Vec::with_capacity(n);
    let mut prev: Vec<Option<RecordId>> = vec![None; keys.len()];
    for i in 0..n {
        let a = i % keys.len();
        let seq = (i / keys.len()) as u64 + 1;
        let mut ind = Indicator {
            subject: Subject::Suspect,
            basis: Basis::Fact,
            first_seen: Some(1_764_000_000_000),
            countries: vec!["KH".parse().unwrap()],
            tags: vec!["fake-job".into()],
            ..Indicator::new(Kind::Domain, value(i), IndicatorRole::JobAd, Tlp::Green)
        };
        ind.confidence = (i % 100) as u8;
        let rec = Record {
            header: Header {
                v: 1,
                network: NetworkId::new("bench").unwrap(),
                channel: Channel::Network,
                author: keys[a].public(),
                seq,
                prev: prev[a],
                created_ms: 1_764_000_000_000 + i as u64,
            },
            body: Body::Indicator(ind),
        };
        let v = rec.sign(&keys[a]).unwrap();
        prev[a] = Some(v.id);
        out.push(v);
    }
    let _ = per;
    out
}

pub fn trust_list(keys: &[Keypair]) -> SignedTrustList {
    let list = TrustList {
        attachment_max_bytes: None,
        retention: Some(kawan_protocol::Retention { rules: vec![] }), // fixed dates: nothing reviewed
        decay: None,
        network: NetworkId::new("bench").unwrap(),
        version: 1,
        issued_ms: 0,
        threshold: 1,
        members: keys
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                id: MemberId::new(format!("agency-{i}")).unwrap(),
                name: format!("Agency {i}"),
                country: "TH".parse().unwrap(),
                key: k.public(),
                roles: vec![if i == 0 { MemberRole::Coordinator } else { MemberRole::Member }],
                addrs: vec![],
                expires_ms: None,
                key_from_ms: None,
                retired_keys: vec![],
            })
            .collect(),
        groups: vec![],
    };
    let mut s = SignedTrustList::new(&list).unwrap();
    s.sign(&keys[0]);
    s
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

pub fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The `kawan` binary benchmarks drive: `$KAWAN_BIN`, else the release
/// build next to the bench.
pub fn kawan_bin() -> std::path::PathBuf {
    let kawan = std::env::var_os("KAWAN_BIN").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.parent().and_then(|d| d.parent()).unwrap().join("kawan")
    });
    assert!(kawan.exists(), "{} missing: cargo build --release -p kawan-cli first", kawan.display());
    kawan
}

/// `kawan init` in `dir` (API and p2p on free loopback ports), with the
/// bench network's genesis trust list; the list, for the store to install.
pub fn init_node(kawan: &std::path::Path, dir: &std::path::Path) -> SignedTrustList {
    let status = std::process::Command::new(kawan)
        .arg("--dir")
        .arg(dir)
        .args(["init", "--name", "Bench Agency", "--country", "TH", "--network", "bench", "--api", "127.0.0.1:0"])
        .args(["--p2p", "/ip4/127.0.0.1/tcp/0"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let trust = trust_list(&agency_keys());
    std::fs::write(dir.join("genesis.trust"), trust.to_bytes()).unwrap();
    trust
}

/// `kawan run` in `dir`, once its API listens: the process, the API's base
/// URL and the operator token.
pub fn run_node(kawan: &std::path::Path, dir: &std::path::Path) -> (std::process::Child, String, String) {
    let node = std::process::Command::new(kawan)
        .arg("--dir")
        .arg(dir)
        .arg("run")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr_file = dir.join("api.addr");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&addr_file).is_ok_and(|a| a.ends_with('\n')) {
        assert!(Instant::now() < deadline, "node did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let base = format!("http://{}", std::fs::read_to_string(&addr_file).unwrap().trim());
    let token = std::fs::read_to_string(dir.join("operator.token")).unwrap().trim().to_string();
    (node, base, token)
}
