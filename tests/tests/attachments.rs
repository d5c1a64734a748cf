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

mod in_process {
    //! The API's answers to each bad upload or reference, on one node in
    //! this process; the sweep.

    use kawan_tests::app::App;
    use serde_json::{Value, json};

    use super::file_bytes;

    fn upload(app: &App, query: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let bearer = format!("Bearer {}", app.analyst);
        let mut headers = vec![("Authorization", bearer.as_str())];
        if let Some(t) = content_type {
            headers.push(("Content-Type", t));
        }
        let (status, _, bytes) = app.send_bytes("POST", &format!("/api/v1/attachments?{query}"), &headers, body);
        (status.as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn held(app: &App) -> usize {
        app.svc.data().attachments.held().unwrap().len()
    }

    #[test]
    fn each_bad_upload_is_refused_by_name_and_leaves_nothing() {
        let app = App::new();
        let png = file_bytes(b"\x89PNG\r\n\x1a\n", 5000, 1);
        let pdf = file_bytes(b"%PDF-1.7\n", 5000, 2);
        // (query, declared type, body, status, code)
        type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
        let cases: [Case; 6] = [
            ("name=shot.png", Some("image/png"), pdf.clone(), 422, "media_type_mismatch"),
            ("name=notes.txt", Some("text/plain"), png.clone(), 422, "media_type_mismatch"),
            ("name=tool.exe", None, b"MZ\x90\0 not a type records carry".to_vec(), 422, "media_type"),
            ("name=payload.html", Some("text/html"), b"<script>alert(1)</script>".to_vec(), 422, "bad_attachment"),
            ("name=..%2F..%2Fetc%2Fpasswd", Some("text/plain"), b"x".to_vec(), 422, "bad_attachment"),
            ("name=empty.txt", Some("text/plain"), vec![], 422, "bad_attachment"),
        ];
        for (query, content_type, body, status, code) in cases {
            let (got, answer) = upload(&app, query, content_type, body);
            assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{query}: {answer}");
        }
        let (got, _) = upload(&app, "captured_ms=1", Some("image/png"), png.clone());
        assert_eq!(got, 400, "a file needs a name");
        // Larger than the network takes (25 MB by default): refused as it
        // streams in, and nothing is kept.
        let big = file_bytes(b"%PDF-1.7\n", 25 * 1024 * 1024 + 1, 3);
        let (got, answer) = upload(&app, "name=big.pdf", None, big);
        assert_eq!((got, answer["code"].as_str()), (413, Some("too_large")), "{answer}");
        assert_eq!(held(&app), 0, "nothing a record could not carry was kept");
        let parts = std::fs::read_dir(app.svc.data().attachments.dir()).unwrap().count();
        assert_eq!(parts, 0, "no partial file left");
    }

    #[test]
    fn a_typology_carries_a_screenshot_the_page_shows_with_its_hash_and_the_sweep_follows_its_record() {
        let app = App::named("Agency 2", "TH", kawan_tests::fixtures::agency(2));
        app.svc.data().store.install_genesis(&kawan_tests::fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
        let png = file_bytes(b"\x89PNG\r\n\x1a\n", 3000, 4);
        let (got, reference) = upload(&app, "name=job-ad.png&captured_ms=1767225600000", None, png.clone());
        assert_eq!(got, 201, "{reference}");
        let hash = reference["hash"].as_str().unwrap().to_string();
        // Not named by any record yet: not readable, but kept for a day.
        assert_eq!(app.get(&format!("/api/v1/attachments/{hash}")).status, 404);
        assert_eq!(app.svc.sweep_attachments().unwrap(), 0);
        assert_eq!(held(&app), 1);

        // References a record cannot carry.
        let typology = |attachments: Value| {
            json!({"content": {"title": "Fake casino jobs", "stage": "recruitment", "summary": "Ads for casino work.",
                                "tlp": "green", "attachments": attachments}})
        };
        let mut forged = reference.clone();
        forged["sha256"] = json!("11".repeat(32));
        let r = app.post("/api/v1/typologies", typology(json!([forged])));
        assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (422, Some("bad_attachment")), "{}", r.body);
        let mut unheld = reference.clone();
        unheld["hash"] = json!("22".repeat(32));
        let r = app.post("/api/v1/typologies", typology(json!([unheld])));
        assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (422, Some("attachment_not_held")), "{}", r.body);
        let r = app.post("/api/v1/typologies", typology(json!(vec![reference.clone(); 9])));
        assert_eq!(r.status.as_u16(), 422, "at most 8 files a record: {}", r.body);

        let published = app.post_ok("/api/v1/typologies", typology(json!([reference])));
        let id = published["id"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {}", app.analyst);
        let (status, headers, bytes) = app.send_bytes(
            "GET",
            &format!("/api/v1/attachments/{hash}"),
            &[("Authorization", &bearer), ("Kawan-Purpose", "OP-7")],
            vec![],
        );
        assert_eq!(status.as_u16(), 200);
        assert_eq!(bytes, png);
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(header("content-type"), "image/png");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-security-policy").starts_with("sandbox"), "{headers:?}");
        assert_eq!(header("x-kawan-sha256"), reference["sha256"].as_str().unwrap());
        assert_eq!(header("x-kawan-sha256-verified"), "true");
        let log = app.send("GET", "/api/v1/consultations", Some(&app.operator), None).json();
        let entry = log.as_array().unwrap().iter().find(|c| c["action"] == "read a file").expect("logged");
        assert_eq!(entry["records"], json!([id]), "{entry}");

        // The library shows it inline with its hash and capture time.
        let page = app.web_get("/library");
        assert!(page.body.contains(&format!("src=\"/files/{hash}\"")), "{}", page.body);
        assert!(page.body.contains(reference["sha256"].as_str().unwrap()));
        assert!(page.body.contains("captured"));
        assert_eq!(app.web_get(&format!("/files/{hash}")).status.as_u16(), 200);
        assert_eq!(app.get("/api/v1/attachments/not-a-hash").status.as_u16(), 400);

        // Erased: the sweep takes the file.
        app.post_ok("/api/v1/erasures", json!({"ids": [id], "reason": "published in error"}));
        assert_eq!(app.svc.sweep_attachments().unwrap(), 1);
        assert_eq!(held(&app), 0);
        assert_eq!(std::fs::read_dir(app.svc.data().attachments.dir()).unwrap().count(), 0, "no bytes left");

        // An upload no record named for a day goes too.
        let (_, other) = upload(&app, "name=draft.txt", None, b"a draft".to_vec());
        let _ = other;
        app.clock.advance(std::time::Duration::from_secs(23 * 3600));
        assert_eq!(app.svc.sweep_attachments().unwrap(), 0, "kept within a day");
        app.clock.advance(std::time::Duration::from_secs(2 * 3600));
        assert_eq!(app.svc.sweep_attachments().unwrap(), 1);
        assert_eq!(held(&app), 0);
    }

    #[test]
    fn a_file_goes_no_further_than_the_narrowest_record_naming_it_as_it_stands() {
        use kawan_protocol::{
            Body, Channel, Content, GroupId, Revision, Stage, Tlp, Typology,
            attachment::{Attachment, Fetch, Served},
        };
        use kawan_tests::{app::START_MS, fixtures};
        let app = App::named("Agency 2", "TH", fixtures::agency(2));
        let list = fixtures::trust_list(1, &[1, 2, 3], &[("mekong", &[1, 2])]);
        app.svc.data().store.install_genesis(&list).expect("genesis");
        let (_, reference) = upload(&app, "name=compound.png", None, file_bytes(b"\x89PNG\r\n\x1a\n", 4000, 9));
        let file: Attachment = serde_json::from_value(reference).unwrap();
        let typology = |tlp, attachments: Vec<Attachment>| Typology {
            title: "Compound transfer route".into(),
            stage: Stage::Transit,
            summary: "Victims moved across the river at night.".into(),
            tlp,
            aliases: vec![],
            lures: vec![],
            platforms: vec![],
            control_methods: vec![],
            route: vec![],
            red_flags: vec![],
            mappings: vec![],
            references: vec![],
            review_ms: None,
            handling: None,
            evaluation: None,
            attachments,
        };
        let ingest = |v: kawan_protocol::Verified| app.svc.data().store.ingest(&v.envelope.to_bytes()).expect("stored");
        let mekong = Channel::Group(GroupId::new("mekong").unwrap());
        let (one, three) = (fixtures::agency(1), fixtures::agency(3));
        let served = |to: &kawan_protocol::Keypair| {
            matches!(app.svc.serve_file(to.public(), Fetch::Manifest { hash: file.hash }), Served::Manifest { .. })
        };

        // Agency 1's group record names the file: agency 3 is not in the group.
        let group_record = fixtures::signed_at(
            &one,
            mekong.clone(),
            1,
            None,
            Body::Typology(typology(Tlp::Amber, vec![file.clone()])),
            START_MS,
        );
        ingest(group_record.clone());
        assert!(served(&one) && !served(&three));
        // Agency 3 names the hash in a network record of its own: the file
        // still goes no further than the group's record.
        let widening = fixtures::signed_at(
            &three,
            Channel::Network,
            1,
            None,
            Body::Typology(typology(Tlp::Green, vec![file.clone()])),
            START_MS,
        );
        ingest(widening);
        assert!(!served(&three), "a record of one's own cannot widen who gets a group's file");
        // Agency 1 revises its record without the file: the old version no
        // longer counts, and only the network record names it now.
        let revision = Body::Revision(Revision {
            supersedes: group_record.id,
            content: Content::Typology(typology(Tlp::Amber, vec![])),
        });
        ingest(fixtures::signed_at(&one, mekong, 2, Some(group_record.id), revision, START_MS + 1));
        assert!(served(&three), "as the records stand, only the network record names the file");
    }
}
