//! The MISP feed export, loaded with PyMISP; the CLI's exports.

use kawan_tests::TestNode;
use serde_json::{Value, json};

fn python() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(venv.exists(), "{} missing: run scripts/test", venv.display());
    venv
}

#[test]
fn pymisp_loads_the_exported_feed_with_values_and_tlp_tags() {
    let n = TestNode::start("Example Agency", "GB");
    let publish = |b: Value| {
        let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&b);
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    };
    publish(
        json!({"kind": "phone", "value": "+447700900601", "role": "recruiter_contact", "tlp": "green", "tags": ["fake-job"]}),
    );
    publish(json!({"kind": "domain", "value": "jobs-abroad.example", "role": "job_ad", "tlp": "clear"}));
    publish(json!({"kind": "bank_account", "value": "GB82 WEST 1234 5698 7654 32", "role": "payment", "tlp": "green"}));
    let gone = publish(json!({"kind": "ip", "value": "198.51.100.9", "role": "infrastructure", "tlp": "green"}));
    let r = n
        .request("POST", "/api/v1/retractions", Some(&n.token))
        .json(&json!({"target": gone, "reason": "shared hosting"}));
    assert_eq!(r.status, 201);

    let dir = n.dir.path().join("feed");
    let out = n.cli().args(["export", "misp-feed", "--out"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = std::process::Command::new(python())
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ecosystem/misp_feed_check.py"))
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let found: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(found["events"], 1, "one event per agency and day");
    assert_eq!(found["hashes"], 3);
    let attrs = found["attributes"].as_array().unwrap();
    let by_value =
        |v: &str| attrs.iter().find(|a| a["value"] == v).unwrap_or_else(|| panic!("{v} missing from {attrs:?}"));
    assert_eq!(by_value("+447700900601")["type"], "phone-number");
    assert_eq!(by_value("+447700900601")["tags"], json!(["fake-job", "tlp:green"]));
    assert_eq!(by_value("jobs-abroad.example")["type"], "domain");
    assert_eq!(by_value("jobs-abroad.example")["tags"], json!(["tlp:clear"]));
    assert_eq!(by_value("GB82WEST12345698765432")["type"], "iban");
    assert!(attrs.iter().all(|a| a["value"] != "198.51.100.9"), "retracted indicators are not exported");

    let csv = n.cli().args(["export", "csv"]).output().unwrap();
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("kind,value,tlp,"), "{text}");
    assert_eq!(text.lines().count(), 4, "header and three current indicators: {text}");
    let stix = n.cli().args(["export", "stix"]).output().unwrap();
    let bundle: Value = serde_json::from_slice(&stix.stdout).unwrap();
    assert_eq!(bundle["type"], "bundle");
    assert!(
        bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["pattern"] == "[domain-name:value = 'jobs-abroad.example']")
    );
    assert_eq!(n.request("GET", "/api/v1/export/misp/nope.json", Some(&n.token)).call().status, 404);
}

#[test]
fn a_stix2_bundle_and_a_pymisp_event_import_and_are_found() {
    let n = TestNode::start("Example Agency", "GB");
    let dir = n.dir.path();
    let out = std::process::Command::new(python())
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ecosystem/make_inputs.py"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let stix = n.cli().args(["--json", "import"]).arg(dir.join("bundle.json")).output().unwrap();
    let report: Value = serde_json::from_slice(&stix.stdout).unwrap();
    assert_eq!(report["imported"], 3, "{report}");
    let misp = n.cli().args(["--json", "import"]).arg(dir.join("event.json")).output().unwrap();
    let report: Value = serde_json::from_slice(&misp.stdout).unwrap();
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(report["skipped"], json!([{"type": "malware-sample", "count": 1}]));

    let has = |kind: &str, value: &str| {
        let r = n
            .request("GET", &format!("/api/v1/search?kind={kind}&value={}", value.replace('+', "%2B")), Some(&n.token))
            .call();
        r.json()["hits"].as_array().is_some_and(|h| !h.is_empty())
    };
    assert!(has("domain", "stix-jobs.example"));
    assert!(has("url", "https://stix-jobs.example/apply"));
    assert!(has("ip", "203.0.113.77"));
    assert!(has("phone", "+447700900888"));
    assert!(has("bank_account", "GB82WEST12345698765432"));
    let r = n.request("GET", "/api/v1/search?kind=domain&value=misp-jobs.example", Some(&n.token)).call();
    assert_eq!(r.json()["hits"][0]["tlp"], "green", "the event's tlp:green tag carried over");
}
