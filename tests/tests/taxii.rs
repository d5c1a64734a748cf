//! The TAXII 2.1 read side, walked the way a TAXII client walks it.

use base64::Engine as _;
use kawan_tests::{TestNetwork, TestNode};
use serde_json::{Value, json};

/// HTTP Basic header value for `user:pass`.
fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

/// A TAXII GET as the operator: status, body as JSON (null if it is not), content type.
fn taxii_get(n: &TestNode, path: &str) -> (u16, Value, String) {
    let r = n.get(path);
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null), r.content_type)
}

#[test]
fn a_taxii_client_walks_the_collections_and_pages_through_objects() {
    let net = TestNetwork::start(2, &[("mekong", &[0, 1])]);
    let n = net.node(0);
    let publish = |path: &str, body: Value| {
        let r = n.request("POST", path, Some(&n.token)).json(&body);
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let ind = |v: &str, tlp: &str| json!({"kind": "phone", "value": v, "role": "recruiter_contact", "tlp": tlp});
    let kept = publish("/api/v1/indicators", ind("+447700900401", "green"));
    let retracted = publish("/api/v1/indicators", ind("+447700900402", "green"));
    publish("/api/v1/retractions", json!({"target": retracted, "reason": "wrong number"}));
    publish(
        "/api/v1/indicators",
        json!({"kind": "domain", "value": "jobs-abroad.example", "role": "job_ad", "tlp": "clear"}),
    );
    publish(
        "/api/v1/typologies",
        json!({"content": {"title": "Fake jobs", "stage": "recruitment", "tlp": "green", "summary": "Fake job ads."}}),
    );
    let mut amber = ind("+447700900403", "amber");
    amber["group"] = "mekong".into();
    publish("/api/v1/indicators", amber);
    let mut strict = ind("+447700900404", "amber+strict");
    strict["group"] = "mekong".into();
    publish("/api/v1/indicators", strict);

    // Unauthenticated: 401 with a TAXII error body; HTTP Basic with the token works.
    let r = n.request("GET", "/taxii2/", None).call();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["http_status"], "401");
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let resp =
        agent.get(format!("{}/taxii2/", n.base)).header("Authorization", &basic("taxii", &n.token)).call().unwrap();
    assert_eq!(resp.status(), 200);

    let (s, discovery, ct) = taxii_get(n, "/taxii2/");
    assert_eq!(s, 200);
    assert_eq!(ct, "application/taxii+json;version=2.1");
    assert_eq!(discovery["api_roots"][0], "/taxii2/api/");
    let (_, root, _) = taxii_get(n, "/taxii2/api/");
    assert_eq!(root["versions"][0], "application/taxii+json;version=2.1");
    let (_, cols, _) = taxii_get(n, "/taxii2/api/collections/");
    let cols = cols["collections"].as_array().unwrap().clone();
    assert_eq!(cols.len(), 2, "the network and the group this node is in");

    let mut all = Vec::new();
    for c in &cols {
        let id = c["id"].as_str().unwrap();
        let (s, one, _) = taxii_get(n, &format!("/taxii2/api/collections/{id}/"));
        assert_eq!((s, one["id"].as_str()), (200, Some(id)));
        // Page through with limit=2 and the server's `next`.
        let mut path = format!("/taxii2/api/collections/{id}/objects/?limit=2");
        loop {
            let (s, page, _) = taxii_get(n, &path);
            assert_eq!(s, 200, "{page}");
            all.extend(page["objects"].as_array().unwrap().iter().cloned());
            if page["more"] != true {
                break;
            }
            path = format!("/taxii2/api/collections/{id}/objects/?limit=2&next={}", page["next"].as_str().unwrap());
        }
        let (_, manifest, _) = taxii_get(n, &format!("/taxii2/api/collections/{id}/manifest/"));
        assert!(!manifest["objects"].as_array().unwrap().is_empty());
    }
    let text = serde_json::to_string(&all).unwrap();
    assert!(text.contains("x-kawan-phone:value = '+447700900401'"));
    assert!(text.contains("[domain-name:value = 'jobs-abroad.example']"));
    assert!(text.contains("\"attack-pattern\""));
    assert!(text.contains("+447700900403"), "AMBER is served in its group's collection");
    assert!(!text.contains("+447700900404"), "AMBER+STRICT is never exported");
    let revoked: Vec<&Value> = all.iter().filter(|o| o["revoked"] == true).collect();
    assert_eq!(revoked.len(), 1, "the retracted indicator is revoked");
    assert!(all.iter().all(|o| o["spec_version"] == "2.1"));
    assert!(
        all.iter()
            .filter(|o| o["type"] == "indicator")
            .all(|o| o["object_marking_refs"][0].as_str().unwrap().starts_with("marking-definition--")),
        "every indicator carries its TLP marking"
    );

    // One object and its versions; unknown ones are 404.
    let sid = kawan_node::interop::stix::object_id("indicator", &kept.parse().unwrap());
    let net_id = cols[0]["id"].as_str().unwrap();
    let (s, obj, _) = taxii_get(n, &format!("/taxii2/api/collections/{net_id}/objects/{sid}/"));
    assert_eq!((s, obj["objects"][0]["id"].as_str()), (200, Some(sid.as_str())));
    let (s, v, _) = taxii_get(n, &format!("/taxii2/api/collections/{net_id}/objects/{sid}/versions/"));
    assert_eq!((s, v["versions"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, _, _) = taxii_get(n, "/taxii2/api/collections/00000000-0000-4000-8000-000000000000/objects/");
    assert_eq!(s, 404);
    let (s, _, _) = taxii_get(n, &format!("/taxii2/api/collections/{net_id}/objects/?added_after=yesterday"));
    assert_eq!(s, 400);
    // match[type] filters.
    let (_, only, _) = taxii_get(n, &format!("/taxii2/api/collections/{net_id}/objects/?match[type]=attack-pattern"));
    assert!(only["objects"].as_array().unwrap().iter().all(|o| o["type"] == "attack-pattern"));
}

/// The repository's Python venv, made by `scripts/test`.
fn python() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        venv.exists(),
        "{} missing: run scripts/test, which creates it with the ecosystem's clients",
        venv.display()
    );
    venv
}

#[test]
fn taxii2_client_and_the_stix_validator_accept_everything_served() {
    let net = TestNetwork::start(2, &[("mekong", &[0, 1])]);
    let n = net.node(0);
    let bodies = [
        json!({"kind": "phone", "value": "+447700900501", "role": "recruiter_contact", "tlp": "green", "description": "fake job", "tags": ["fake-job"]}),
        json!({"kind": "domain", "value": "jobs-abroad.example", "role": "job_ad", "tlp": "clear"}),
        json!({"kind": "url", "value": "https://apply.jobs-abroad.example/form", "role": "job_ad", "tlp": "green"}),
        json!({"kind": "ip", "value": "192.0.2.10", "role": "infrastructure", "tlp": "green"}),
        json!({"kind": "ip", "value": "2001:db8::7", "role": "infrastructure", "tlp": "green"}),
        json!({"kind": "email", "value": "hr@jobs-abroad.example", "role": "recruiter_contact", "tlp": "green"}),
        json!({"kind": "telegram_handle", "value": "@brightfuture_hr", "role": "recruiter_contact", "tlp": "green"}),
        json!({"kind": "company_name", "value": "O'Brien \\ Partners", "role": "job_ad", "tlp": "green"}),
        json!({"kind": "phone", "value": "+447700900502", "role": "recruiter_contact", "tlp": "amber", "group": "mekong"}),
    ];
    let mut first = String::new();
    for b in bodies {
        let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&b);
        assert_eq!(r.status, 201, "{}", r.body);
        if first.is_empty() {
            first = r.json()["id"].as_str().unwrap().to_string();
        }
    }
    let t = n.request("POST", "/api/v1/typologies", Some(&n.token)).json(&json!({"content": {
        "title": "Fake jobs", "stage": "recruitment", "tlp": "green", "summary": "Fake job ads.", "aliases": ["typing job"]}}));
    assert_eq!(t.status, 201);
    let c = n.request("POST", "/api/v1/techniques", Some(&n.token)).json(&json!({"content": {
        "title": "Pivot a phone", "objective": "Find accounts", "difficulty": "basic", "tlp": "green", "steps": ["a", "b"]}}));
    assert_eq!(c.status, 201);
    let s = n
        .request("POST", "/api/v1/sightings", Some(&n.token))
        .json(&json!({"target": first, "verdict": "corroborates"}));
    assert_eq!(s.status, 201);
    // A referral to a platform travels as a STIX note with Kawan's extension.
    let r = n.request("POST", "/api/v1/referrals", Some(&n.token)).json(&json!({
        "platform": "telegram", "request": "takedown", "tlp": "green", "reference": "TG-7",
        "subjects": [{"kind": "phone", "value": "+447700900501", "record": first}]}));
    assert_eq!(r.status, 201, "{}", r.body);
    // A request for information and an answer on the group: notes too.
    let q = n.request("POST", "/api/v1/requests", Some(&n.token)).json(&json!({
        "question": "Who has seen this recruiter?", "tlp": "green", "priority": "high",
        "values": [{"value": "+44 7700 900 599"}], "records": [first], "platform": "telegram",
        "deadline_ms": 1_900_000_000_000u64}));
    assert_eq!(q.status, 201, "{}", q.body);
    let q = q.json()["id"].as_str().unwrap().to_string();
    let a = n.request("POST", &format!("/api/v1/requests/{q}/answers"), Some(&n.token)).json(&json!({
        "text": "Seen on three ads.", "tlp": "amber", "group": "mekong", "cites": [first],
        "values": [{"kind": "telegram_handle", "value": "@brightfuture_hr"}]}));
    assert_eq!(a.status, 201, "{}", a.body);

    let out = std::process::Command::new(python())
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ecosystem/taxii_walk.py"))
        .arg(&n.base)
        .arg(&n.token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["collections"], 2);
    assert_eq!(summary["invalid"], json!([]));
    for t in [
        "indicator",
        "attack-pattern",
        "course-of-action",
        "sighting",
        "note",
        "identity",
        "marking-definition",
        "extension-definition",
    ] {
        assert!(summary["types"][t].as_u64().unwrap_or(0) >= 1, "no {t} in {summary}");
    }
    assert_eq!(summary["types"]["indicator"], 9, "8 network indicators and 1 group indicator");
    assert_eq!(summary["add"], json!({"success": 1, "failure": 1, "status": "complete"}));
    let r = n.request("GET", "/api/v1/search?kind=domain&value=pushed-by-taxii.example", Some(&n.token)).call();
    assert_eq!(r.json()["hits"][0]["tlp"], "green", "the pushed indicator was published with its TLP");
}

/// TAXII 2.1 content negotiation and `limit`: a server never answers more
/// objects than asked, and refuses media types it does not speak.
#[test]
fn taxii_negotiates_media_types_and_honours_limit_exactly() {
    let n = TestNode::start("Example Agency", "GB");
    for i in 0..12 {
        let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(
            &json!({"kind": "domain", "value": format!("recruit-{i}.jobs-abroad.example"), "role": "job_ad", "tlp": "green"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (_, cols, _) = taxii_get(&n, "/taxii2/api/collections/");
    let id = cols["collections"][0]["id"].as_str().unwrap().to_string();
    let objects = format!("/taxii2/api/collections/{id}/objects/");

    // Accept: what TAXII 2.1 clients send, or anything that includes it.
    for ok in ["application/taxii+json;version=2.1", "application/taxii+json", "*/*", "text/html, */*;q=0.1"] {
        let r = n.request("GET", &objects, Some(&n.token)).header("Accept", ok).call();
        assert_eq!(r.status, 200, "Accept: {ok}: {}", r.body);
    }
    for refused in ["text/html", "application/taxii+json;version=2.0", "application/json"] {
        let r = n.request("GET", &objects, Some(&n.token)).header("Accept", refused).call();
        assert_eq!(r.status, 406, "Accept: {refused}: {}", r.body);
        assert_eq!(r.content_type, "application/taxii+json;version=2.1");
        assert_eq!(r.json()["http_status"], "406");
    }
    let r = n.request("POST", &objects, Some(&n.token)).raw("text/plain", b"{}".to_vec());
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.json()["http_status"], "415");
    // axum's own refusals under /taxii2/ take the TAXII error shape too.
    let r = n.request("DELETE", &objects, Some(&n.token)).call();
    assert_eq!((r.status, r.content_type.as_str()), (405, "application/taxii+json;version=2.1"));

    // limit is exact on every page, the preamble included, and a walk with
    // `next` sees every object once.
    let (_, everything, _) = taxii_get(&n, &format!("{objects}?limit=1000"));
    let total = everything["objects"].as_array().unwrap().len();
    assert!(total > 12, "the preamble and 12 indicators: {total}");
    for limit in [1, 5, 7] {
        let mut seen = Vec::new();
        let mut path = format!("{objects}?limit={limit}");
        loop {
            let (s, page, _) = taxii_get(&n, &path);
            assert_eq!(s, 200, "{page}");
            let got = page["objects"].as_array().unwrap();
            assert!(got.len() <= limit, "limit={limit} answered {} objects", got.len());
            seen.extend(got.iter().map(|o| o["id"].as_str().unwrap().to_string()));
            if page["more"] != true {
                break;
            }
            path = format!("{objects}?limit={limit}&next={}", page["next"].as_str().unwrap());
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (total, total), "limit={limit}: each object once");
        let (_, manifest, _) = taxii_get(&n, &format!("/taxii2/api/collections/{id}/manifest/?limit={limit}"));
        assert_eq!(manifest["objects"].as_array().unwrap().len(), limit, "manifest limit={limit}");
    }
}
