//! Deconfliction benchmark, in process (issue #15). Run with:
//!
//!     cargo bench -p kawan-protocol --bench deconflict
//!
//! `KAWAN_BENCH_FILTER_N` sets the filter's size (default 1,000,000 values).
//! Every rate is printed beside bare ed25519 verification measured in the
//! same run. Values are fictional (UK 07700 900xxx-style numbers and
//! `.example` addresses).

use std::time::Instant;

use kawan_protocol::{
    Keypair, Kind, NetworkId,
    deconflict::{Blinded, Filter, HolderKey, oprf_input},
};
use rand_core::OsRng;

fn values(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| match i % 2 {
            0 => oprf_input(Kind::Phone, &format!("+4477{:09}", i)),
            _ => oprf_input(Kind::Email, &format!("recruiter{i}@jobs.example")),
        })
        .collect()
}

fn main() {
    let filter_n: usize = std::env::var("KAWAN_BENCH_FILTER_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    println!("# Kawan deconfliction benchmark (in process)");
    println!("cores: {}", std::thread::available_parallelism().map_or(1, |n| n.get()));

    // Baseline: ed25519 verification, one core.
    let key = Keypair::from_secret_bytes([9; 32]);
    let msg = b"kawan deconfliction baseline";
    let sig = key.sign(b"bench", msg);
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        assert!(key.public().verify(b"bench", msg, &sig));
    }
    let verify = n as f64 / t.elapsed().as_secs_f64();
    println!("ed25519 verification, one core (baseline): {verify:.0} /s");

    let network = NetworkId::new("kawan-bench").unwrap();
    let holder = HolderKey::derive(&[7; 32], &network, 20_000, 1).unwrap();
    let batch = values(1_000);

    // The asker: blinding a case's 1,000 values.
    let rounds = 20;
    let t = Instant::now();
    let mut blinded = Vec::new();
    for _ in 0..rounds {
        blinded.push(Blinded::new(&batch, &mut OsRng).unwrap());
    }
    let blind = (rounds * batch.len()) as f64 / t.elapsed().as_secs_f64();
    println!("asker: blind, one core: {blind:.0} values/s = {:.2} × verification", blind / verify);

    // The holder: evaluation with its proof, 1,000 values per request, one core.
    let t = Instant::now();
    let mut answers = Vec::new();
    for b in &blinded {
        answers.push(holder.evaluate(&b.elements, &mut OsRng).unwrap());
    }
    let eval = (rounds * batch.len()) as f64 / t.elapsed().as_secs_f64();
    println!(
        "holder: evaluate + prove, batches of 1,000, one core: {eval:.0} values/s = {:.2} × verification (target ≥ 15,000)",
        eval / verify
    );
    let t = Instant::now();
    for _ in 0..200 {
        let one = Blinded::new(&batch[..1], &mut OsRng).unwrap();
        holder.evaluate(&one.elements, &mut OsRng).unwrap();
    }
    let single = 200.0 / t.elapsed().as_secs_f64();
    println!("holder: one value per request (blind + evaluate + prove): {single:.0} requests/s");

    // The asker: verify the proof, unblind, look up.
    let t = Instant::now();
    for (b, (elements, proof)) in blinded.iter().zip(&answers) {
        b.finish(&batch, elements, proof, &holder.public()).unwrap();
    }
    let finish = (rounds * batch.len()) as f64 / t.elapsed().as_secs_f64();
    println!("asker: verify + unblind, one core: {finish:.0} values/s = {:.2} × verification", finish / verify);

    // The filter of a large deconflictable set.
    let big = values(filter_n);
    let t = Instant::now();
    let tags = holder.tags(&big).unwrap();
    let tag_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let filter = Filter::build(tags.clone()).unwrap();
    let build_s = t.elapsed().as_secs_f64();
    let bytes = filter.size_bytes();
    println!(
        "filter of {filter_n} values: PRF outputs {tag_s:.1} s (all cores) + build {build_s:.2} s = {:.1} s (target < 60 s); \
         {:.2} MB = {:.1} bits/value (target ≤ 1.5 MB)",
        tag_s + build_s,
        bytes as f64 / 1e6,
        bytes as f64 * 8.0 / filter_n as f64
    );
    assert!(tags.iter().all(|t| filter.contains(*t)), "no false negatives");
    let probes = 1_000_000u64;
    let fp = (0..probes).filter(|i| filter.contains(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555)).count();
    println!("false positives: {fp} of {probes} random probes ({:.3} %)", fp as f64 * 100.0 / probes as f64);
    let small = values(100_000);
    let small_filter = Filter::build(holder.tags(&small).unwrap()).unwrap();
    let fp = (0..probes).filter(|i| small_filter.contains(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555)).count();
    println!(
        "filter of 100,000 values (16-bit fingerprints): {:.2} MB, false positives {fp} of {probes}",
        small_filter.size_bytes() as f64 / 1e6
    );
}
