//! Watchlist benchmark (issue #15). Run with:
//!
//!     cargo bench -p kawan-node --bench watch
//!
//! Ingest as the daemon does it — a batch stored, then its new records
//! looked at for watched and case-held values — with an empty watchlist
//! (the baseline) and with 100,000 watched values, 1,000 of which the
//! ingested records carry (so 1,000 alerts are raised). Runs alternate,
//! three each; medians reported.

use std::sync::Arc;

mod common;

use common::*;
use kawan_node::{config::Config, data_dir::DataDir, metrics::Metrics, service::Service};
use kawan_protocol::*;

const N: usize = 100_000;
const WATCHED: usize = 100_000;
const MATCHING: usize = 1_000;

fn run(records: &[Vec<u8>], trust: &SignedTrustList, watched: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
    data.store.install_genesis(trust).unwrap();
    if watched {
        let values: Vec<(Kind, String)> = (0..WATCHED)
            .map(|i| {
                // Every hundredth watched value is one the records carry.
                let v = if i % (WATCHED / MATCHING) == 0 { value(i) } else { value(10_000_000 + i) };
                (Kind::Domain, v)
            })
            .collect();
        data.watch.add_many("analyst", values).unwrap();
    }
    let config = Config::new("Bench Agency", "GB".parse().unwrap(), NetworkId::new("kawan-bench").unwrap());
    let svc = Service::new(data, Keypair::from_secret_bytes([200; 32]), config, Arc::new(Metrics::new()));
    let mut alerts = 0;
    let r = rate(records.len(), || {
        for chunk in records.chunks(BATCH) {
            let new: Vec<RecordId> =
                svc.data().store.ingest_batch(chunk).into_iter().map(|r| r.unwrap().id()).collect();
            alerts += svc.look_at(&kawan_node::service::Caller::system("alerts"), &new).unwrap().len();
        }
    });
    assert_eq!(alerts, if watched { MATCHING } else { 0 });
    r
}

fn main() {
    let keys = agency_keys();
    let trust = trust_list(&keys);
    println!("# Kawan watchlist benchmark");
    println!("machine: {} cores, {}", cores(), cpu_model());
    let records: Vec<Vec<u8>> = make_records(&keys, N).iter().map(|v| v.envelope.to_bytes()).collect();
    let (mut none, mut watched) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        none.push(run(&records, &trust, false));
        watched.push(run(&records, &trust, true));
    }
    none.sort_by(f64::total_cmp);
    watched.sort_by(f64::total_cmp);
    println!("ingest + matching, empty watchlist (baseline): {:.0} records/s (runs {:.0?})", none[1], none);
    println!(
        "ingest + matching, {WATCHED} watched values, {MATCHING} alerts: {:.0} records/s (runs {:.0?}) = {:.2} × baseline (target ≥ 0.95)",
        watched[1],
        watched,
        watched[1] / none[1]
    );
}
