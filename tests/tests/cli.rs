//! The `kawan` binary as an operator and an analyst use it.

use std::process::Output;

use kawan_tests::{TestNode, kawan};

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subcommands a `--help` page lists in its "Commands:" section (clap's
/// layout: two spaces, the name, then its summary), without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(|name| name.trim_end_matches(',').to_string()))
        .filter(|name| name != "help")
        .collect()
}

/// Every subcommand the binary has, found by walking its own help from the
/// top: `--help` at each level must succeed and show that level's Usage.
#[test]
fn help_runs_for_every_subcommand() {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = todo.pop() {
        let text = ok(kawan().args(&path).arg("--help").output().unwrap());
        let usage = std::iter::once("kawan").chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
        assert!(
            text.lines().any(|l| l.starts_with(&format!("Usage: {usage} ")) || l == format!("Usage: {usage}")),
            "{path:?}: no `Usage: {usage}` line in\n{text}"
        );
        for sub in subcommands(&text) {
            todo.push(path.iter().cloned().chain([sub]).collect());
        }
        found.push(path);
    }
    // The walk really walked: every command known when this was written is
    // among what it found (a command may be added; none may vanish unseen).
    let known: &[&[&str]] = &[
        &[],
        &["init"],
        &["run"],
        &["normalize"],
        &["publish"],
        &["publish", "indicator"],
        &["publish", "typology"],
        &["publish", "technique"],
        &["publish", "sighting"],
        &["publish", "retraction"],
        &["search"],
        &["lookup"],
        &["import"],
        &["case"],
        &["case", "create"],
        &["case", "list"],
        &["case", "show"],
        &["case", "link"],
        &["token"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["status"],
        &["audit"],
        &["audit", "verify"],
        &["store"],
        &["store", "stats"],
        &["store", "compact"],
        &["demo"],
        &["peers"],
        &["export"],
        &["trust"],
        &["trust", "new-network"],
        &["trust", "add-member"],
        &["trust", "remove-member"],
        &["trust", "group"],
        &["trust", "group", "create"],
        &["trust", "group", "add"],
        &["trust", "group", "remove"],
        &["trust", "sign"],
        &["trust", "show"],
        &["trust", "publish"],
        &["trust", "join"],
        &["trust", "chain"],
        &["trust", "rotate-key"],
        &["card"],
        &["record"],
        &["key"],
        &["key", "rotate"],
        &["publish", "revision"],
        &["referral"],
        &["referral", "create"],
        &["referral", "update"],
        &["referral", "list"],
        &["referral", "export"],
        &["deconflict"],
        &["contact"],
        &["contact", "request"],
        &["contact", "answer"],
        &["contact", "list"],
        &["backup"],
        &["bundle"],
        &["bundle", "export"],
        &["bundle", "import"],
        &["restore"],
        &["completions"],
    ];
    for k in known {
        let k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        assert!(found.contains(&k), "the walk did not find {k:?}; it found {found:?}");
    }
}

#[test]
fn an_analyst_publishes_searches_and_bulk_checks_from_the_cli() {
    let n = TestNode::start("Example Agency", "AU");
    let out = ok(n
        .cli()
        .args(["--json", "publish", "indicator", "--kind", "phone", "--value", "0491 570 156", "--tlp", "green"])
        .args(["--role", "recruiter_contact", "--platform", "telegram", "--country", "KH", "--tag", "fake-job"])
        .output()
        .unwrap());
    let published: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(published["value"], "+61491570156");

    let table = ok(n.cli().args(["search", "--kind", "phone"]).output().unwrap());
    assert!(table.contains("+61491570156"), "{table}");

    // A revision from the CLI: the current content with the fields changed.
    let id = published["id"].as_str().unwrap();
    let out = ok(n
        .cli()
        .args(["publish", "revision", id, "--set", "confidence=95", "--set", "basis=fact"])
        .output()
        .unwrap());
    assert!(out.starts_with("published "), "{out}");
    let hit = ok(n.cli().args(["--json", "search", "--kind", "phone", "--value", "+61491570156"]).output().unwrap());
    let hit: serde_json::Value = serde_json::from_str(&hit).unwrap();
    let hit = &hit["hits"][0];
    assert_eq!((hit["confidence"].as_u64(), hit["revisions"].as_u64()), (Some(95), Some(1)), "{hit}");
    let bad = n.cli().args(["publish", "revision", id, "--set", "confidence"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("FIELD=VALUE"));

    let list = n.dir.path().join("values.txt");
    std::fs::write(&list, "+61 491 570 156\njobs-abroad.example\n").unwrap();
    let out = ok(n.cli().arg("lookup").arg(&list).output().unwrap());
    assert!(out.contains("+61491570156") && out.contains("2 values: 1 with hits, 0 invalid"), "{out}");

    let status = ok(n.cli().args(["--json", "status"]).output().unwrap());
    assert!(status.contains("\"records\": 1"), "{status}");
    // For a person: one line per fact, no raw key dump.
    let status = ok(n.cli().args(["status"]).output().unwrap());
    assert!(
        status.contains("records     2 stored")
            && status.contains("1  Phone numbers")
            && status.contains("1  Revisions"),
        "{status}"
    );
    assert!(!status.contains("records_by_type") && !status.contains("  - "), "{status}");
    assert!(ok(n.cli().args(["audit", "verify"]).output().unwrap()).contains("intact"));
    // The same in Thai or Indonesian, with times in the terminal's zone.
    let th = ok(n.cli().args(["status"]).env("KAWAN_LANG", "th").output().unwrap());
    assert!(th.contains("เครือข่าย") && th.contains("เก็บไว้ 2 รายการ") && th.contains("ทำงานมา"), "{th}");
    let id = ok(n.cli().args(["audit", "verify"]).env("KAWAN_LANG", "id_ID.UTF-8").output().unwrap());
    assert!(id.starts_with("log audit utuh"), "{id}");
    let tail = ok(n.cli().args(["audit", "tail", "--limit", "1"]).env("TZ", "Asia/Bangkok").output().unwrap());
    assert!(tail.contains(" +07 "), "{tail}");

    let typology = n.dir.path().join("typology.toml");
    std::fs::write(
        &typology,
        "title = \"Crypto 'investment' romance\"\nstage = \"scam\"\ntlp = \"green\"\nsummary = \"Victims met on dating apps are moved to a fake trading platform.\"\n",
    )
    .unwrap();
    let out = ok(n.cli().args(["publish", "typology", "--file"]).arg(&typology).output().unwrap());
    assert!(out.starts_with("published "), "{out}");

    let case =
        ok(n.cli().args(["--json", "case", "create", "--reference", "OP-1", "--title", "Ring"]).output().unwrap());
    let case: serde_json::Value = serde_json::from_str(&case).unwrap();
    let id = case["id"].to_string();
    ok(n.cli().args(["case", "link", &id, published["id"].as_str().unwrap()]).output().unwrap());
    let shown = ok(n.cli().args(["case", "show", &id]).output().unwrap());
    assert!(shown.contains("OP-1 — Ring") && shown.contains("linked records") && !shown.contains("_ms"), "{shown}");
    let listed = ok(n.cli().args(["case", "list"]).output().unwrap());
    assert!(listed.starts_with("ID ") && listed.contains("OP-1") && !listed.contains("created_ms"), "{listed}");

    let token = ok(n.cli().args(["--json", "token", "create", "analyst-2"]).output().unwrap());
    assert!(token.contains("kawan_"));
    assert!(ok(n.cli().args(["token", "list"]).output().unwrap()).contains("analyst-2"));
    ok(n.cli().args(["token", "revoke", "analyst-2"]).output().unwrap());
}

#[test]
fn import_reports_bad_rows_by_line_and_imports_the_rest() {
    let n = TestNode::start("Example Agency", "GB");
    let csv = n.dir.path().join("indicators.csv");
    std::fs::write(
        &csv,
        "kind,value,tlp,confidence,tags\n\
         phone,+447700900101,green,80,fake-job;telegram\n\
         phone,not a number,green,80,\n\
         domain,jobs-abroad.example,green,60,\n\
         phone,+447700900102,red,80,\n\
         wallet,0x00,green,10,\n\
         url,hxxps://apply.jobs-abroad[.]example/form,clear,,\n",
    )
    .unwrap();
    let out = n.cli().arg("import").arg(&csv).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "some rows failed");
    let err = String::from_utf8_lossy(&out.stderr);
    for line in [":3:", ":5:", ":6:"] {
        assert!(err.contains(line), "line {line} not reported: {err}");
    }
    assert!(err.contains("RED"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 3 indicators, 3 failed"));

    let bundle = n.dir.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"type":"bundle","id":"bundle--1","objects":[
            {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value = 'pay.jobs-abroad.example']","pattern_type":"stix",
             "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"labels":["payment"]},
            {"type":"indicator","id":"indicator--2","pattern":"[file:hashes.MD5 = 'abc']","pattern_type":"stix"},
            {"type":"identity","id":"identity--1","name":"x"}
        ]}"#,
    )
    .unwrap();
    let out = n.cli().args(["--json", "import"]).arg(&bundle).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imported"], 1);
    assert_eq!(report["failed"][0]["line"], 2);
    let hits = ok(n.cli().args(["search", "--kind", "domain", "--value", "pay.jobs-abroad.example"]).output().unwrap());
    assert!(hits.contains("pay.jobs-abroad.example"), "{hits}");
}

#[test]
fn the_node_refuses_to_start_with_a_clear_reason() {
    let n = TestNode::start("Example Agency", "GB");
    // The store is locked by the running node.
    let out = n.cli().arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store") && err.contains("another"), "{err}");

    let dir = n.stop();
    // A busy port.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = dir.path().join("kawan.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let port_line = text.lines().find(|l| l.starts_with("listen = \"127.0.0.1")).unwrap().to_string();
    std::fs::write(&config, text.replace(&port_line, &format!("listen = \"{}\"", busy.local_addr().unwrap()))).unwrap();
    let out = kawan().arg("--dir").arg(dir.path()).arg("run").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && err.contains("cannot listen"), "{err}");

    // A bad config.
    std::fs::write(&config, "[agency]\nname = 42\n").unwrap();
    let out = kawan().arg("--dir").arg(dir.path()).arg("run").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kawan.toml"), "{err}");

    // An agency key others can read.
    let fresh = tempfile::tempdir().unwrap();
    ok(kawan().arg("--dir").arg(fresh.path()).args(["init", "--name", "A", "--country", "GB"]).output().unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(fresh.path().join("agency.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = kawan().arg("--dir").arg(fresh.path()).arg("run").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(fresh.path().join("agency.key"), std::fs::Permissions::from_mode(0o600)).unwrap();

    // A node directory other users can enter (cases live there).
    let mode = std::fs::metadata(fresh.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "kawan init makes the directory private");
    std::fs::set_permissions(fresh.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = kawan().arg("--dir").arg(fresh.path()).arg("run").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && err.contains("chmod 700"), "{err}");
    std::fs::set_permissions(fresh.path(), std::fs::Permissions::from_mode(0o700)).unwrap();

    // Initialising twice is refused.
    let out = kawan().arg("--dir").arg(fresh.path()).args(["init", "--name", "A", "--country", "GB"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds"));
}

#[test]
fn client_commands_without_a_node_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = kawan().arg("--dir").arg(dir.path()).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    // In the terminal's language.
    let out =
        kawan().env_remove("KAWAN_LANG").env("LANG", "th_TH.UTF-8").arg("--dir").arg(dir.path()).arg("status").output();
    let err = String::from_utf8_lossy(&out.unwrap().stderr).to_string();
    assert!(err.starts_with("ข้อผิดพลาด: "), "{err}");
}

#[test]
fn operators_see_and_reclaim_disk_space() {
    let n = TestNode::start("Example Agency", "GB");
    for i in 0..5 {
        ok(n.cli()
            .args(["publish", "indicator", "--kind", "domain", "--value", &format!("recruit-{i}.jobs-abroad.example")])
            .args(["--tlp", "green", "--role", "job_ad"])
            .output()
            .unwrap());
    }
    let text = ok(n.cli().args(["store", "stats"]).output().unwrap());
    assert!(text.contains("records: 5"), "{text}");
    for keyspace in ["records", "logs", "heads", "index", "cases", "audit"] {
        assert!(text.contains(keyspace), "{keyspace} missing: {text}");
    }
    let stats: serde_json::Value =
        serde_json::from_str(&ok(n.cli().args(["--json", "store", "compact"]).output().unwrap())).unwrap();
    assert_eq!(stats["records"], 5);
    assert_eq!(stats["databases"][0]["database"], "records");
    assert!(stats["databases"][0]["bytes_on_disk"].as_u64().unwrap() > 0);
    // Still serving after compaction.
    let hits =
        ok(n.cli().args(["search", "--kind", "domain", "--value", "recruit-3.jobs-abroad.example"]).output().unwrap());
    assert!(hits.contains("recruit-3.jobs-abroad.example"), "{hits}");
    // Analysts may not.
    let r =
        n.request("POST", "/api/v1/tokens", Some(&n.token)).json(&serde_json::json!({"name": "a1", "role": "analyst"}));
    let analyst = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(n.request("GET", "/api/v1/store/stats", Some(&analyst)).call().status, 403);
    assert_eq!(n.request("POST", "/api/v1/store/compact", Some(&analyst)).call().status, 403);
}

#[test]
fn a_node_directory_from_the_sled_era_is_refused_in_one_line() {
    let n = TestNode::start("Example Agency", "GB");
    let dir = n.stop();
    let data = dir.path().join("data");
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("conf"), b"segment_size: 524288\n").unwrap();
    std::fs::write(data.join("db"), [0u8; 64]).unwrap();
    let out = kawan().arg("--dir").arg(dir.path()).arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sled") && err.contains("format 1"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_closed_output_pipe_ends_a_command_quietly() {
    let n = TestNode::start("Example Agency", "GB");
    ok(n.cli()
        .args(["publish", "indicator", "--kind", "domain", "--value", "recruit.jobs-abroad.example"])
        .args(["--tlp", "green", "--role", "job_ad"])
        .output()
        .unwrap());
    // As `kawan search --json … | head -c 0`: the reader is gone before the write.
    let mut child = n
        .cli()
        .args(["--json", "search", "--kind", "domain"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic exits with 101");
}

/// Lawful processing from the command line, against a real node: handling
/// codes, an evaluation and a review date at publishing; a purpose stated
/// with `--justify` (in Thai) logged with the search; the signed oversight
/// report written to a file and verified.
#[test]
fn an_analyst_publishes_with_handling_codes_and_consults_with_a_stated_purpose() {
    let n = TestNode::start("Example Agency", "AU");
    let review = "2099-01-01";
    let bad = n
        .cli()
        .args(["publish", "indicator", "--kind", "phone", "--value", "0491 570 157", "--tlp", "green"])
        .args(["--role", "recruiter_contact", "--review", review])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "a review date beyond the network's period is refused");
    let out = ok(n
        .cli()
        .args(["--json", "publish", "indicator", "--kind", "phone", "--value", "0491 570 157", "--tlp", "green"])
        .args(["--role", "recruiter_contact", "--handling", "H1,H2", "--evaluation", "B2"])
        .output()
        .unwrap());
    let published: serde_json::Value = serde_json::from_str(&out).unwrap();
    let purpose = "OP-7 ขบวนการจัดหางาน, case AU-2026-0042";
    let hit = ok(n
        .cli()
        .args(["--json", "--justify", purpose, "search", "--kind", "phone", "--value", "+61491570157"])
        .output()
        .unwrap());
    let hit: serde_json::Value = serde_json::from_str(&hit).unwrap();
    let content = &hit["hits"][0];
    assert_eq!(content["id"], published["id"], "{hit}");
    let shown = hit.to_string();
    assert!(shown.contains("\"no_evidence\":true") && shown.contains("\"no_onward\":true"), "{shown}");
    assert!(shown.contains("\"B2\""), "{shown}");
    // The H2 record does not leave in the CSV export.
    let csv = ok(n.cli().args(["export", "csv"]).output().unwrap());
    assert!(!csv.contains("+61491570157"), "{csv}");

    let log = n.get_json("/api/v1/consultations");
    let search = log.as_array().unwrap().iter().find(|c| c["action"] == "search").expect("the search is logged");
    assert_eq!(search["purpose"], purpose);
    assert_eq!(search["records"][0], published["id"]);

    let report = n.dir.path().join("report.html");
    ok(n.cli().args(["oversight", "report", "--lang", "id", "--out"]).arg(&report).output().unwrap());
    let out = ok(n.cli().args(["oversight", "verify"]).arg(&report).output().unwrap());
    assert!(out.contains("Valid"), "{out}");
}
