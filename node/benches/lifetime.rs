//! Lawful-processing benchmark (issue #26). Run with:
//!
//!     cargo bench -p kawan-node --bench lifetime      # KAWAN_BENCH_N=100000 for a quick run
//!
//! Builds a store of `KAWAN_BENCH_N` indicators (default 1,000,000) under a
//! one-year review policy, 10,000 of them past their date, and measures:
//! - the review sweep (erasing those 10,000 and everything about them),
//!   beside a baseline in the same run: reading the same 10,000 records by
//!   their review keys (the least any sweep must do);
//! - a bulk lookup of 100,000 values with the consultation logged (an
//!   analyst) against the same lookup unlogged (the node's own job);
//! - the oversight report over the whole store and 1,000,000 consultations.

mod common;

use std::{sync::Arc, time::Instant};

use common::*;
use kawan_node::{
    clock::Clock,
    config::Config,
    data_dir::DataDir,
    i18n::Lang,
    local::{consultations::Consultation, tokens::Role},
    metrics::Metrics,
    policy::Path,
    service::{Caller, Service},
    store::{BulkItem, EXPIRY_GRACE_MS},
};
use kawan_protocol::*;

const DAY: u64 = 86_400_000;
const DUE: usize = 10_000;
const T0: u64 = 1_764_000_000_000;

fn main() {
    let n: usize = std::env::var("KAWAN_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    println!("# Kawan lifetime benchmark");
    println!("machine: {} cores, {}", cores(), cpu_model());
    let keys = agency_keys();
    let mut list = trust_list(&keys).list().unwrap();
    list.retention =
        Some(Retention { rules: vec![RetentionRule { family: "indicator".into(), subject: None, days: 365 }] });
    let mut trust = SignedTrustList::new(&list).unwrap();
    trust.sign(&keys[0]);

    // The first DUE records were made 100 days before the rest: at T0 +
    // 365 days + a day, only they are past review.
    let clock = Clock::manual(T0 + 101 * DAY);
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::open(dir.path(), clock.clone()).unwrap();
    data.store.install_genesis(&trust).unwrap();
    let t = Instant::now();
    let records = make_dated(&keys, n);
    let bytes: Vec<Vec<u8>> = records.iter().map(|v| v.envelope.to_bytes()).collect();
    drop(records);
    ingest_all(&data.store, &bytes);
    drop(bytes);
    println!("store of {n} indicators built in {:.0}s (setup)", t.elapsed().as_secs_f64());
    clock.set(T0 + 100 * DAY + 365 * DAY - DAY + EXPIRY_GRACE_MS);

    // Baseline: read the due records through their review keys.
    let until = clock.now_ms() - EXPIRY_GRACE_MS;
    let t = Instant::now();
    let due = data.store.due_between(0, until + 1, usize::MAX).unwrap();
    for (_, id) in &due {
        assert!(data.store.get(id).unwrap().is_some());
    }
    let baseline = t.elapsed();
    assert_eq!(due.len(), DUE, "due records");

    let t = Instant::now();
    let mut erased = 0;
    loop {
        let batch = data.store.expire_due(DUE).unwrap();
        if batch.is_empty() {
            break;
        }
        erased += batch.len();
    }
    let sweep = t.elapsed();
    assert_eq!(erased, DUE);
    println!(
        "review sweep, {DUE} due of {n}: {:.0} ms (baseline: reading them by their review keys {:.0} ms; {:.2} x baseline; target < 1 s)",
        sweep.as_secs_f64() * 1000.0,
        baseline.as_secs_f64() * 1000.0,
        sweep.as_secs_f64() / baseline.as_secs_f64()
    );

    // Bulk lookups, logged and unlogged, through the service.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let svc = Arc::new(Service::new(
        data,
        keys[1].clone(),
        Config::new("Bench Agency", "TH".parse().unwrap(), NetworkId::new("bench").unwrap()),
        Arc::new(Metrics::new()),
    ));
    let items: Vec<BulkItem> = (0..100_000usize)
        .map(|i| BulkItem {
            kind: Some(Kind::Domain),
            value: if i % 10 == 0 { raw_value(DUE + i * 7 % (n - DUE)) } else { raw_value(n + i) },
        })
        .collect();
    let analyst =
        Caller { name: "analyst".into(), role: Role::Analyst, via: Path::Rest, purpose: Some("bench".into()) };
    let lookup = |caller: Caller| {
        let items = items.clone();
        rate(items.len(), || {
            let found = rt.block_on(svc.lookup(caller, items, false, false)).unwrap();
            assert_eq!(found.with_hits, 10_000);
        })
    };
    // Alternated, best of three each: this machine's run-to-run spread is
    // larger than the difference measured.
    let (mut off, mut on) = (0f64, 0f64);
    for _ in 0..3 {
        off = off.max(lookup(Caller::system("bench")));
        on = on.max(lookup(analyst.clone()));
    }
    println!(
        "bulk lookup of 100k values: consultation logged {on:.0} /s, unlogged {off:.0} /s: {:.2} x (target >= 0.95)",
        on / off
    );

    // The oversight report over the store and a million consultations.
    let t = Instant::now();
    for i in 0..1_000_000u64 {
        svc.data()
            .consultations
            .log(&Consultation {
                at_ms: T0 + i,
                user: format!("analyst-{}", i % 20),
                via: "rest".into(),
                purpose: Some(format!("case TH-2026-{:04}", i % 500)),
                action: "search".into(),
                records: vec![format!("{i:064x}")],
                count: 1,
                victim: i % 1000 == 0,
            })
            .unwrap();
    }
    svc.data().local().persist().unwrap();
    println!("1,000,000 consultations logged in {:.1}s (setup)", t.elapsed().as_secs_f64());
    let operator = Caller { name: "dpo".into(), role: Role::Auditor, via: Path::Rest, purpose: None };
    let t = Instant::now();
    let report = rt.block_on(svc.oversight_report(operator, 0, u64::MAX, Lang::En)).unwrap();
    let took = t.elapsed();
    let html = report.to_html();
    println!(
        "oversight report over {} records and {} consultations: {:.2} s (target < 10 s); HTML {} KiB",
        report.report.shared.total + report.report.received.total,
        report.report.consultations.total,
        took.as_secs_f64(),
        html.len() / 1024
    );
}

/// `make_records`, dated: the first `DUE` were made 100 days before the
/// rest, so a year on only they are past review.
fn make_dated(keys: &[Keypair], n: usize) -> Vec<Verified> {
    let mut prev: Vec<Option<RecordId>> = vec![None; keys.len()];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let a = i % keys.len();
        let seq = (i / keys.len()) as u64 + 1;
        let created_ms = if i < DUE { T0 + i as u64 } else { T0 + 100 * DAY + i as u64 };
        let rec = Record {
            header: Header {
                v: 1,
                network: NetworkId::new("bench").unwrap(),
                channel: Channel::Network,
                author: keys[a].public(),
                seq,
                prev: prev[a],
                created_ms,
            },
            body: Body::Indicator(Indicator {
                subject: Subject::Suspect,
                ..Indicator::new(Kind::Domain, value(i), IndicatorRole::JobAd, Tlp::Green)
            }),
        };
        let v = rec.sign(&keys[a]).unwrap();
        prev[a] = Some(v.id);
        out.push(v);
    }
    out
}
