//! Bundle benchmark (issue #25). Run with:
//!
//!     cargo build --release --bins && cargo bench -p kawan-tests --bench bundle
//!
//! Two real `kawan run` processes that cannot reach each other. Node 1
//! holds 100k records; it exports a bundle for node 0 (`kawan bundle
//! export`), which imports it (`kawan bundle import`: upload, decryption,
//! every signature, ingest). Import is compared with ingesting the same
//! records in process, measured in the same run.

use std::time::Instant;

use kawan_node::{data_dir::DataDir, identity};
use kawan_tests::{TestNetwork, fixtures::job_ad_chain};

const RECORDS: usize = 100_000;

fn main() {
    println!("# Kawan bundle benchmark");
    let mut pair = TestNetwork::islands(2, &[]);
    pair.stop(1);
    let key = identity::load(&pair.dir(1).join("agency.key")).unwrap();
    let bytes: Vec<Vec<u8>> = job_ad_chain(&key, RECORDS).iter().map(|v| v.envelope.to_bytes()).collect();
    let genesis = kawan_node::coordinator::read(&pair.genesis).unwrap();
    let ingest = |dir: &std::path::Path| {
        let s = DataDir::open(dir, kawan_node::clock::Clock::system()).unwrap();
        s.store.install_genesis(&genesis).unwrap();
        let t = Instant::now();
        for c in bytes.chunks(256) {
            for r in s.store.ingest_batch(c) {
                r.unwrap();
            }
        }
        RECORDS as f64 / t.elapsed().as_secs_f64()
    };
    let scratch = tempfile::tempdir().unwrap();
    let local = ingest(scratch.path());
    ingest(&pair.dir(1).join("data"));
    pair.restart(1);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("to-agency-0.bundle");
    let t = Instant::now();
    let out = pair.node(1).cli().args(["bundle", "export", "--for", "agency-0", "--out"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let export = RECORDS as f64 / t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&file).unwrap().len();
    let t = Instant::now();
    let out = pair.node(0).cli().args(["bundle", "import"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let import = RECORDS as f64 / t.elapsed().as_secs_f64();
    assert_eq!(pair.node(0).records(), RECORDS as u64);
    let log = std::fs::read_to_string(pair.dir(0).join("node.log")).unwrap_or_default();
    for line in log.lines().filter(|l| l.contains("bundle imported")) {
        println!("node 0: {line}");
    }
    println!("\n## {RECORDS} records ({:.1} MB bundle)", size as f64 / 1e6);
    println!("local ingest of the same records (baseline): {local:.0} /s");
    println!("kawan bundle export                        : {export:.0} /s = {:.2} x local ingest", export / local);
    println!("kawan bundle import                        : {import:.0} /s = {:.2} x local ingest", import / local);
}
