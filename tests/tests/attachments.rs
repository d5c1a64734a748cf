//! Files records carry, on real processes: uploaded with `kawan attach`,
//! named by a request for information, fetched on demand from any member
//! that may share them (the author offline, a corrupted copy passed over),
//! refused to a member outside the record's audience, erased with their
//! record, and a 25 MB file streamed with bounded memory.

use std::path::Path;

use kawan_protocol::attachment::{CHUNK, Fetch, FileHash, Served};
use kawan_tests::{TestNetwork, TestNode, peer::Session};
use serde_json::{Value, json};

fn key_of(n: &TestNode) -> String {
    n.get_json("/api/v1/status")["agency_key"].as_str().unwrap().to_string()
}

/// Fictional bytes of `len` behind a file type's signature.
fn file_bytes(magic: &[u8], len: usize, seed: u32) -> Vec<u8> {
    let mut v = magic.to_vec();
    let mut x = seed.wrapping_mul(2_654_435_761);
    while v.len() < len {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push((x >> 24) as u8);
    }
    v
}

fn cli_json(n: &TestNode, args: &[&str]) -> Value {
    let out = n.cli().arg("--json").args(args).output().unwrap();
    assert!(out.status.success(), "kawan {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `kawan attach` on node `n`: the reference to put in a record.
fn attach(n: &TestNode, path: &Path, extra: &[&str]) -> Value {
    let path = path.to_str().unwrap();
    cli_json(n, &[&["attach", path][..], extra].concat())
}

/// `kawan file` on node `n`: saves the file and says what was verified.
fn save(n: &TestNode, hash: &str, out: &Path) -> Value {
    cli_json(n, &["file", hash, "--out", out.to_str().unwrap()])
}

/// What of the file is on a node's disk: any name starting with its hash.
fn on_disk(dir: &Path, hash: &str) -> Vec<String> {
    std::fs::read_dir(dir.join(kawan_node::node_dir::DEFAULT_DATA).join("attachments"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with(hash) || n.ends_with(".part"))
        .collect()
}

#[test]
fn a_file_reaches_only_its_records_audience_from_any_member_that_holds_it_and_goes_with_its_record() {
    let mut net = TestNetwork::start(5, &[("mekong", &[0, 1, 2, 3])]);
    net.wait_for(30, "all connected", |net| (0..5).all(|i| net.node(i).connected_peers() >= 4));
    let work = tempfile::tempdir().unwrap();
    let original = file_bytes(b"\x89PNG\r\n\x1a\n", 5 * CHUNK + 1000, 7);
    let shot = work.path().join("job-ad jobs.example.png");
    std::fs::write(&shot, &original).unwrap();

    // The author stores the screenshot and names it in a request to the group.
    let reference = attach(net.node(0), &shot, &["--captured", "2026-05-01T10:22:00Z"]);
    let hash = reference["hash"].as_str().unwrap().to_string();
    assert_eq!(reference["media_type"], "image/png", "{reference}");
    assert_eq!(reference["captured_ms"], 1_777_630_920_000u64, "{reference}");
    assert_eq!(reference["size"], original.len() as u64);
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&original))
    };
    assert_eq!(reference["sha256"], sha.as_str());
    // A record cannot name a file its author does not hold.
    let mut unheld = reference.clone();
    unheld["hash"] = json!("00".repeat(32));
    let r = net
        .node(0)
        .post("/api/v1/requests", json!({"question": "q", "tlp": "amber", "group": "mekong", "attachments": [unheld]}));
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("attachment_not_held")), "{}", r.body);

    let asked = net.node(0).post_ok(
        "/api/v1/requests",
        json!({"question": "ATTACH-MARKER: who has seen this job ad?", "tlp": "amber", "group": "mekong",
               "attachments": [reference]}),
    );
    let rid = asked["id"].as_str().unwrap().to_string();
    net.wait_for(30, "the group has the request", |net| {
        (1..4).all(|i| net.node(i).get(&format!("/api/v1/requests/{rid}")).status == 200)
    });
    assert!(on_disk(net.dir(1), &hash).is_empty(), "files are fetched on demand, not pushed");

    // Two members read it while the author is online.
    for i in [1, 2] {
        let out = work.path().join(format!("from-{i}.png"));
        let saved = save(net.node(i), &hash, &out);
        assert_eq!(saved["sha256"], sha.as_str(), "{saved}");
        assert_eq!(saved["sha256_verified"], true, "{saved}");
        assert_eq!(std::fs::read(&out).unwrap(), original, "node {i} saved the file as the author stored it");
    }

    // A member outside the group asks the author's node directly for the
    // manifest and a chunk: refused, with the same answer a node gives for
    // a file it does not hold.
    let outsider = kawan_node::identity::load(&net.dir(4).join("agency.key")).unwrap();
    let file_hash: FileHash = hash.parse().unwrap();
    let mut session = Session::connect(&outsider, net.dir(0));
    assert_eq!(session.fetch(Fetch::Manifest { hash: file_hash }), Ok(Served::Unavailable));
    assert_eq!(session.fetch(Fetch::Chunk { hash: file_hash, index: 0 }), Ok(Served::Unavailable));
    drop(session);
    let r = net.node(4).get(&format!("/api/v1/attachments/{hash}"));
    assert_eq!(r.status, 404, "no record the outsider holds names the file: {}", r.body);

    // One member's copy rots on disk; the author goes offline. Another
    // member fetches: the bad chunk is caught and refetched elsewhere.
    let copy = net.dir(1).join(kawan_node::node_dir::DEFAULT_DATA).join("attachments").join(&hash);
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[2 * CHUNK + 5] ^= 0x40;
    std::fs::write(&copy, bytes).unwrap();
    net.stop(0);
    let (k1, k2) = (key_of(net.node(1)), key_of(net.node(2)));
    let fetched = net.node(3).post_ok(&format!("/api/v1/attachments/{hash}/fetch"), json!(null));
    let passed: Vec<&str> = fetched["passed_over"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(passed.iter().any(|p| p.starts_with(&k1) && p.contains("chunk 2 does not match")), "{fetched}");
    assert!(fetched["from"].as_array().unwrap().contains(&json!(k2)), "{fetched}");
    let out = work.path().join("from-3.png");
    save(net.node(3), &hash, &out);
    assert_eq!(std::fs::read(&out).unwrap(), original, "the corrupted chunk never reached the file");

    // The author erases the request: every member's copy goes with it.
    net.restart(0);
    net.wait_for(30, "the author reconnected", |net| net.node(0).connected_peers() >= 3);
    net.node(0).post_ok("/api/v1/erasures", json!({"ids": [rid], "reason": "the job ad was a test"}));
    net.wait_for(60, "the file is erased everywhere it was", |net| {
        (0..4).all(|i| on_disk(net.dir(i), &hash).is_empty())
    });
}

/// Peak resident memory of a process (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB");
    kb.trim().parse::<u64>().unwrap() * 1024
}

#[test]
fn a_25_mb_file_streams_through_both_nodes_with_bounded_memory() {
    let net = TestNetwork::start(2, &[]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 1 && net.node(1).connected_peers() >= 1);
    let (author, reader) = (net.node(0), net.node(1));
    let before = (peak_rss(author.pid()), peak_rss(reader.pid()));
    let work = tempfile::tempdir().unwrap();
    let original = file_bytes(b"%PDF-1.7\n", 25 * 1024 * 1024, 11);
    let pdf = work.path().join("platform-reply.pdf");
    std::fs::write(&pdf, &original).unwrap();
    let reference = attach(author, &pdf, &[]);
    let hash = reference["hash"].as_str().unwrap().to_string();
    let asked = author.post_ok(
        "/api/v1/requests",
        json!({"question": "Has anyone had this reply from the platform?", "tlp": "green", "attachments": [reference]}),
    );
    let rid = asked["id"].as_str().unwrap();
    net.wait_for(30, "the reader has the request", |_| reader.get(&format!("/api/v1/requests/{rid}")).status == 200);
    let start = std::time::Instant::now();
    let fetched = reader.post_ok(&format!("/api/v1/attachments/{hash}/fetch"), json!(null));
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(fetched["held"], false, "{fetched}");
    let after = (peak_rss(author.pid()), peak_rss(reader.pid()));
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "25 MB fetched in {secs:.2} s ({:.1} MB/s, debug build); peak memory growth: author {:.1} MB, reader {:.1} MB",
        25.0 / secs,
        mb(after.0.saturating_sub(before.0)),
        mb(after.1.saturating_sub(before.1))
    );
    for (who, b, a) in [("author (uploading, serving)", before.0, after.0), ("reader (fetching)", before.1, after.1)] {
        assert!(a.saturating_sub(b) < 64 * 1024 * 1024, "the {who} grew by {:.1} MB", mb(a - b));
    }
    let out = work.path().join("saved.pdf");
    let saved = save(reader, &hash, &out);
    assert_eq!(saved["sha256_verified"], true, "{saved}");
    assert!(std::fs::read(&out).unwrap() == original, "the saved file differs");
}
