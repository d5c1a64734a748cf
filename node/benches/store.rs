//! Store benchmark (issues #3, #10). Run with:
//!
//!     cargo bench -p kawan-node --bench store
//!
//! `KAWAN_BENCH_N` sets the size of the large store (default 1,000,000
//! indicators). Every figure is printed beside the baseline measured in the
//! same run: ingest is compared with bare ed25519 verification, which is the
//! physical limit of verified ingest. Data is fictional (`.example` domains,
//! generated EVM addresses).

use std::time::Instant;

mod common;

use common::*;
use kawan_node::{
    data_dir::DataDir,
    store::{BulkItem, Store, fjall::Compression},
};
use kawan_protocol::*;

const INGEST_N: usize = 100_000;

fn main() {
    let big_n: usize = std::env::var("KAWAN_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    if let Some(dir) = std::env::var_os("KAWAN_BENCH_SERVE") {
        return serve(std::path::Path::new(&dir), big_n);
    }
    let keys = agency_keys();
    let trust = trust_list(&keys);

    println!("# Kawan store benchmark");
    println!("machine: {} cores, {}", cores(), cpu_model());
    let t = Instant::now();
    let records = make_records(&keys, INGEST_N.max(big_n));
    println!("signed {} records in {:.1}s (setup, not measured)", records.len(), t.elapsed().as_secs_f64());

    // Baseline: bare ed25519 verification of the same records.
    let sample = &records[..INGEST_N];
    let single = rate(sample.len(), || {
        for v in sample {
            assert!(v.record.header.author.verify(RECORD_DOMAIN, &v.envelope.signed, &v.envelope.sig));
        }
    });
    let batch = rate(sample.len(), || {
        for chunk in sample.chunks(BATCH) {
            let msgs: Vec<Vec<u8>> = chunk.iter().map(|v| [RECORD_DOMAIN, &v.envelope.signed].concat()).collect();
            let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
            let sigs: Vec<_> = chunk.iter().map(|v| ed25519_dalek::Signature::from_bytes(&v.envelope.sig.0)).collect();
            let keys: Vec<_> = chunk.iter().map(|v| v.record.header.author.verifying_key().unwrap()).collect();
            ed25519_dalek::verify_batch(&refs, &sigs, &keys).unwrap();
        }
    });
    println!("\n## Verification baseline ({} records, one core)", sample.len());
    println!("ed25519 single verify : {:>9.0} /s", single);
    println!("ed25519 batch verify  : {:>9.0} /s  (batches of {BATCH})", batch);

    // Ingest of 100k records into a fresh store: one caller (one peer
    // syncing), then two callers at once (two peers), as a node sees them.
    let bytes: Vec<Vec<u8>> = sample.iter().map(|v| v.envelope.to_bytes()).collect();
    // Three runs into fresh stores; the median is reported, the spread too.
    let mut runs: Vec<f64> = (0..3)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let storage = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
            storage.store.install_genesis(&trust).unwrap();
            rate(bytes.len(), || ingest_all(&storage.store, &bytes))
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    let one = runs[1];
    let dir = tempfile::tempdir().unwrap();
    let storage = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
    storage.store.install_genesis(&trust).unwrap();
    // Split by author so each caller's logs arrive in order, as in sync.
    let (even, odd): (Vec<_>, Vec<_>) = sample.iter().partition(|v| v.record.header.author.0[0] % 2 == 0);
    let halves: Vec<Vec<Vec<u8>>> =
        [even, odd].iter().map(|h| h.iter().map(|v| v.envelope.to_bytes()).collect()).collect();
    let two = rate(bytes.len(), || {
        std::thread::scope(|s| {
            for half in &halves {
                let store = &storage.store;
                s.spawn(move || ingest_all(store, half));
            }
        })
    });
    drop(storage);
    let floor = rate(bytes.len(), || engine_floor(sample));
    println!("\n## Ingest ({} records, batches of {BATCH}, each batch durable before it is acknowledged)", bytes.len());
    println!(
        "ingest, one caller    : {:>9.0} /s  = {:.2} x batch verify, {:.2} x single verify (median of 3; {:.2}-{:.2})",
        one,
        one / batch,
        one / single,
        runs[0] / batch,
        runs[2] / batch
    );
    println!(
        "ingest, two callers   : {:>9.0} /s  = {:.2} x batch verify, {:.2} x single verify",
        two,
        two / batch,
        two / single
    );
    println!(
        "fjall alone, same keys: {:>9.0} /s  = {:.2} x batch verify (3 keys/record, no verification: the engine's floor)",
        floor,
        floor / batch
    );
    println!("ingest / engine floor : {:.2} (one caller)", one / floor);

    // Block compression, measured on the same 100k records after compaction.
    println!("\n## Compression ({} records, after `compact`)", bytes.len());
    for (name, compression) in [
        ("none", Compression::None),
        ("fjall default (LZ4 below L1)", Compression::Default),
        ("LZ4 everywhere", Compression::Lz4),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), compression, kawan_node::clock::Clock::system()).unwrap();
        store.install_genesis(&trust).unwrap();
        let r = rate(bytes.len(), || ingest_all(&store, &bytes));
        store.compact().unwrap();
        let size = store.size_on_disk().unwrap();
        println!(
            "{name:<29}: {:>6.0} bytes/record, ingest {:>7.0} /s = {:.2} x batch verify",
            size as f64 / bytes.len() as f64,
            r,
            r / batch
        );
    }

    // The large store.
    let dir = tempfile::tempdir().unwrap();
    let storage = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
    storage.store.install_genesis(&trust).unwrap();
    let t = Instant::now();
    let all: Vec<Vec<u8>> = records[..big_n].iter().map(|v| v.envelope.to_bytes()).collect();
    ingest_all(&storage.store, &all);
    let build = t.elapsed();
    drop(all);
    drop(records);
    let size = storage.store.size_on_disk().unwrap();
    println!("\n## Store of {big_n} indicators");
    println!("built in              : {:.1}s ({:.0} /s)", build.as_secs_f64(), big_n as f64 / build.as_secs_f64());
    println!(
        "size on disk          : {:.1} MiB ({:.0} bytes/indicator)",
        size as f64 / 1048576.0,
        size as f64 / big_n as f64
    );

    // Serving is measured in a fresh process that only opens the store, so
    // its memory is the node's, not this benchmark's test data. The store is
    // closed as `kawan run` closes it at shutdown.
    storage.close().unwrap();
    drop(storage);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("KAWAN_BENCH_SERVE", dir.path())
        .env("KAWAN_BENCH_N", big_n.to_string())
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
}

/// The serving half: lookups against an existing store, then memory.
fn serve(dir: &std::path::Path, big_n: usize) {
    let ctx = Context::default();
    let t = Instant::now();
    let storage = DataDir::open(dir, kawan_node::clock::Clock::system()).unwrap();
    let first = storage.store.lookup(Kind::Domain, &raw_value(big_n / 2), &ctx, false).unwrap().unwrap();
    assert_eq!(first.len(), 1);
    println!("open + first lookup   : {:?}", t.elapsed());
    // Exact lookups: half present, half absent, raw (un-normalised) input.
    let mut lat = Vec::with_capacity(20_000);
    for i in 0..20_000usize {
        let raw = if i % 2 == 0 { raw_value(i * 37 % big_n) } else { raw_value(big_n + i) };
        let t = Instant::now();
        let hits = storage.store.lookup(Kind::Domain, &raw, &ctx, false).unwrap().unwrap();
        lat.push(t.elapsed());
        assert_eq!(hits.is_empty(), i % 2 == 1, "{raw}");
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!("exact lookup          : p50 {:?}, p99 {:?} (20k lookups, half hits)", pct(0.50), pct(0.99));

    // Bulk lookup of 100k raw values, 10% hits, kinds given.
    let items: Vec<BulkItem> = (0..100_000usize)
        .map(|i| BulkItem {
            kind: Some(Kind::Domain),
            value: if i % 10 == 0 { raw_value(i * 7 % big_n) } else { raw_value(big_n + i) },
        })
        .collect();
    let mut results = Vec::new();
    let bulk = rate(items.len(), || results = storage.store.bulk_lookup(&items, &ctx, false).unwrap());
    let hits = results.iter().filter(|r| !r.hits.is_empty()).count();
    assert_eq!(hits, 10_000);
    println!("bulk lookup           : {:>9.0} values/s (100k values, 10% hits, one call)", bulk);
    println!(
        "peak RSS serving      : {:.0} MiB (a fresh process: open, 20k lookups, one 100k bulk lookup)",
        rss_kib("VmHWM") as f64 / 1024.0
    );
}

/// The same three keys per record that ingest writes (record, value index,
/// log slot), in three keyspaces, one atomic batch synced per 256 records,
/// with no decoding or verification: what fjall alone costs for this
/// workload, the floor under Kawan's ingest.
fn engine_floor(records: &[Verified]) {
    let dir = tempfile::tempdir().unwrap();
    let db = fjall::Database::builder(dir.path()).open().unwrap();
    let opts = fjall::KeyspaceCreateOptions::default;
    let (recs, values, logs) = (
        db.keyspace("records", opts).unwrap(),
        db.keyspace("index", opts).unwrap(),
        db.keyspace("logs", opts).unwrap(),
    );
    for chunk in records.chunks(BATCH) {
        let mut batch = db.batch().durability(Some(fjall::PersistMode::SyncData));
        for v in chunk {
            let h = &v.record.header;
            let Body::Indicator(i) = &v.record.body else { continue };
            batch.insert(&recs, [&b"R"[..], &v.id.0].concat(), v.envelope.to_bytes());
            batch.insert(&values, [&b"V"[..], i.value.as_bytes(), &[0], &v.id.0].concat(), &[][..]);
            batch.insert(&logs, [&b"Lnetwork\0"[..], &h.author.0, &h.seq.to_be_bytes()].concat(), &v.id.0[..]);
        }
        batch.commit().unwrap();
    }
}
