//! Online backup and restore, the way an operator meets them: `kawan backup`
//! while the node serves and ingests, `kawan restore` into a new directory,
//! and the restored node rejoining its network and catching up.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use kawan_tests::{TestNetwork, TestNode, fixtures::phone, kawan};
use serde_json::{Value, json};

/// Publishes an email address with `token` at the API at `base` (from a
/// writer thread); whether it was accepted. Under load a refusal is counted,
/// not fatal.
fn try_publish_email(base: &str, token: &str, value: &str) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    agent
        .post(format!("{base}/api/v1/indicators"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"kind": "email", "value": value, "role": "recruiter_contact", "tlp": "green"}))
        .is_ok_and(|r| r.status() == 201)
}

fn out(cmd: &mut std::process::Command) -> (i32, String, String) {
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn a_node_backed_up_under_write_load_restores_verified_and_rejoins() {
    let mut net = TestNetwork::start(2, &[]);
    let a = net.node(0);
    let case = a.post_ok("/api/v1/cases", json!({"reference": "OP-BK-1", "title": "Backed-up case"}));
    a.post_ok(&format!("/api/v1/cases/{}/values", case["id"]), json!({"value": phone(951)}));
    a.post_ok("/api/v1/watchlist", json!({"kind": "phone", "value": phone(952)}));
    for i in 0..40 {
        assert!(try_publish_email(&a.base, &a.token, &format!("before{i}@jobs.example")));
    }

    // Both nodes keep writing while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = [0, 1]
        .into_iter()
        .map(|i| {
            let (base, token, stop, written) =
                (net.node(i).base.clone(), net.node(i).token.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    if try_publish_email(&base, &token, &format!("load{i}-{k}@jobs.example")) {
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                    k += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = a.records();
    let work = tempfile::tempdir().unwrap();
    let pass = work.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let file = work.path().join("node0.kawan-backup");

    // A backup is always encrypted, unless the operator says otherwise in
    // so many words (and never with the key).
    for args in [&["backup", "--out"][..], &["backup", "--include-key", "--unencrypted-i-understand", "--out"]] {
        let (code, _, err) = out(kawan().arg("--dir").arg(a.dir.path()).args(args).arg(&file));
        assert_eq!(code, 2, "{args:?} wrote a plaintext backup");
        assert!(err.contains("needs --passphrase-file or --recipient"), "{err}");
        assert!(!file.exists());
    }
    let plain = work.path().join("plain.tar");
    let (code, stdout, err) =
        out(kawan().arg("--dir").arg(a.dir.path()).args(["backup", "--unencrypted-i-understand", "--out"]).arg(&plain));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("in the clear"), "{stdout}");
    let (code, stdout, err) = out(kawan()
        .arg("--dir")
        .arg(a.dir.path())
        .args(["backup", "--include-key", "--out"])
        .arg(&file)
        .arg("--passphrase-file")
        .arg(&pass));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("encrypted with age") && stdout.contains("the agency key"), "{stdout}");
    let signer =
        a.request("GET", "/api/v1/status", Some(&a.token)).call().json()["agency_key"].as_str().unwrap().to_string();
    assert!(stdout.contains(&format!("--signer {signer}")), "{stdout}");
    let after = a.records();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    assert!(written.load(Ordering::Relaxed) > 10, "the nodes were writing during the backup");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "encrypted");
    let title = b"Backed-up case";
    assert!(!bytes.windows(title.len()).any(|w| w == title), "the case title is readable in the backup");
    let plain_bytes = std::fs::read(&plain).unwrap();
    assert!(plain_bytes.windows(title.len()).any(|w| w == title), "the check above can see a title");
    let (code, _, _) = out(kawan().arg("--dir").arg(a.dir.path()).args(["backup", "--out"]).arg(&file));
    assert_eq!(code, 2, "an existing file is never overwritten");

    // A wrong passphrase, then the right one; never over an existing node.
    let wrong = work.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase at all\n").unwrap();
    let target = tempfile::tempdir().unwrap();
    let restore = |dir: &std::path::Path, pass: &std::path::Path| {
        let mut cmd = kawan();
        cmd.arg("--dir").arg(dir).arg("restore").arg(&file).arg("--passphrase-file").arg(pass);
        cmd
    };
    let (code, _, err) = out(restore(target.path(), &wrong).args(["--signer", &signer]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot decrypt"), "{err}");
    // The archive is not trusted to say who made it.
    let (code, _, err) = out(&mut restore(target.path(), &pass));
    assert_eq!(code, 2);
    assert!(err.contains("say who made the backup"), "{err}");
    let someone = kawan_protocol::Keypair::from_secret_bytes([7; 32]).public().to_string();
    let (code, _, err) = out(restore(target.path(), &pass).args(["--signer", &someone]));
    assert_eq!(code, 2);
    assert!(err.contains("not by a key you named"), "{err}");
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0, "a refused restore leaves nothing");
    let (code, stdout, err) = out(restore(target.path(), &pass).arg("--json").args(["--signer", &signer]));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let restored = report["records"].as_u64().unwrap();
    assert!(
        before <= restored && restored <= after,
        "a snapshot taken during the backup: {before} ≤ {restored} ≤ {after}"
    );
    assert_eq!(report["records"], report["manifest"]["entries"]["records/records"], "{report}");
    assert!(report["audit_entries"].as_u64().unwrap() > 40, "{report}");
    assert_eq!((report["cases"].as_u64(), report["key_restored"].as_bool()), (Some(1), Some(true)), "{report}");
    assert_eq!(report["operator_token_restored"], true, "{report}");
    let (code, _, err) = out(restore(a.dir.path(), &pass).args(["--signer", &signer]));
    assert_eq!(code, 2);
    assert!(err.contains("is not empty"), "{err}");
    // A plain file is refused where an encrypted one was expected (a swap)…
    let target2 = tempfile::tempdir().unwrap();
    let (code, _, err) = out(kawan()
        .arg("--dir")
        .arg(target2.path())
        .arg("restore")
        .arg(&plain)
        .arg("--passphrase-file")
        .arg(&pass)
        .args(["--signer", &signer]));
    assert_eq!(code, 2);
    assert!(err.contains("is not encrypted"), "{err}");
    // …and restores when the operator says so, against the network's
    // genesis and the agency's member id.
    let (code, stdout, err) = out(kawan()
        .arg("--dir")
        .arg(target2.path())
        .arg("restore")
        .arg(&plain)
        .arg("--unencrypted-i-understand")
        .arg("--genesis")
        .arg(&net.genesis)
        .args(["--agency", "agency-0"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("chain from the genesis verified") && stdout.contains("operator token not in the backup"),
        "{stdout}"
    );

    // The restored node takes the original's place, and catches up.
    net.stop(0);
    let restored_node = TestNode::run(target);
    let b = net.node(1);
    assert!(try_publish_email(&b.base, &b.token, "after-restore@jobs.example"));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let search = "/api/v1/search?kind=email&value=after-restore%40jobs.example";
    while restored_node.request("GET", search, Some(&restored_node.token)).call().json()["hits"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(std::time::Instant::now() < deadline, "the restored node did not catch up");
        std::thread::sleep(Duration::from_millis(200));
    }
    // And on everything written after the snapshot, its own records included
    // (the partner holds them): the same count as the partner.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while restored_node.records() != b.records() {
        assert!(std::time::Instant::now() < deadline, "{} vs {}", restored_node.records(), b.records());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(restored_node.records() > after);
    // Publishing from the restored node never forks its log: until it holds
    // its own records back from the partner, it is refused with a reason.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = restored_node.request("POST", "/api/v1/indicators", Some(&restored_node.token)).json(
            &json!({"kind": "email", "value": "from-restored@jobs.example", "role": "recruiter_contact", "tlp": "green"}),
        );
        if r.status == 201 {
            break;
        }
        assert_eq!((r.status, r.json()["code"].as_str()), (409, Some("own_log_behind")), "{}", r.body);
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let status = b.request("GET", "/api/v1/status", Some(&b.token)).call().json();
    assert_eq!(status["equivocating_authors"], 0, "no fork: {status}");
    let cases = restored_node.request("GET", "/api/v1/cases", Some(&restored_node.token)).call().json();
    assert_eq!(cases[0]["reference"], "OP-BK-1");
    let watch = restored_node.request("GET", "/api/v1/watchlist", Some(&restored_node.token)).call().json();
    assert_eq!(watch[0]["value"], phone(952));
    let audit = restored_node.request("GET", "/api/v1/audit/verify", Some(&restored_node.token)).call().json();
    assert_eq!(audit["ok"], true, "{audit}");
}
