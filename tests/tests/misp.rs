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
