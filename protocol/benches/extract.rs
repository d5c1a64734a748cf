//! Extraction throughput (issue #27). Run with:
//!
//!     cargo bench -p kawan-protocol --bench extract
//!
//! Over ~4 MB of the test corpus's texts (job ads, chats, reports in seven
//! languages, each repeated with its values varied), one core: the whole
//! extractor, and as the baseline measured in the same run, splitting the
//! same text on whitespace and checking each token's kind by its shape
//! (what whitespace-token extractors do, without their misses).

use std::time::Instant;

use kawan_protocol::{Context, extract};

const CORPUS: &str = include_str!("../../tests/fixtures/extract/corpus.json");

fn main() {
    let corpus: serde_json::Value = serde_json::from_str(CORPUS).expect("corpus");
    let texts: Vec<&str> = corpus.as_array().unwrap().iter().filter_map(|c| c["text"].as_str()).collect();
    let mut text = String::new();
    let mut i = 0usize;
    while text.len() < 4 * 1024 * 1024 {
        text.push_str(texts[i % texts.len()]);
        text.push_str("\n\n");
        i += 1;
    }
    let mb = text.len() as f64 / 1e6;
    let ctx = Context { default_region: "TH".parse().ok() };
    println!("# Extraction throughput ({mb:.1} MB of corpus text, one core)");

    let time = |f: &mut dyn FnMut() -> usize| {
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..3 {
            let t = Instant::now();
            n = f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        (mb / best, n)
    };
    let (base, tokens) = time(&mut || {
        text.split_whitespace()
            .filter(|t| t.contains(['.', '@']) || t.chars().filter(char::is_ascii_digit).count() >= 8)
            .count()
    });
    let (full, hits) = time(&mut || extract::extract(&text, &ctx).indicators.len());
    let (flags, n_flags) = time(&mut || extract::red_flags(&text).len());
    println!("baseline, whitespace tokens by shape : {base:>7.1} MB/s ({tokens} candidate tokens)");
    println!(
        "extractor (every pass, red flags)    : {full:>7.1} MB/s = {:.3} x baseline ({hits} distinct hits)",
        full / base
    );
    println!(
        "red flags alone                      : {flags:>7.1} MB/s = {:.3} x baseline ({n_flags} phrases)",
        flags / base
    );
}
