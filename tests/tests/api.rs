//! The HTTP API of a real `kawan run` process: every endpoint's happy path,
//! authentication and roles, and bad input of every sort.

use kawan_tests::{TestNode, fixtures::phone};
use serde_json::{Value, json};

fn node() -> TestNode {
    TestNode::start("Example Agency", "GB")
}

fn publish_phone(n: &TestNode, raw: &str) -> Value {
    let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": raw, "role": "recruiter_contact", "tlp": "green",
        "platform": "whatsapp", "countries": ["TH"], "tags": ["fake-job"], "confidence": 80
    }));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn analyst_token(n: &TestNode) -> String {
    let r = n.request("POST", "/api/v1/tokens", Some(&n.token)).json(&json!({"name": "analyst-1", "role": "analyst"}));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["token"].as_str().unwrap().to_string()
}

#[test]
fn publish_read_search_and_lookup() {
    let n = node();
    let p = publish_phone(&n, "07700 900123");
    assert_eq!(p["value"], "+447700900123", "national format read with the GB default region");
    assert_eq!(p["seq"], 1);
    let id = p["id"].as_str().unwrap();

    let r = n.request("GET", &format!("/api/v1/records/{id}"), Some(&n.token)).call();
    assert_eq!(r.status, 200);
    let rec = r.json();
    assert_eq!(rec["type"], "indicator");
    assert_eq!(rec["current"]["value"], "+447700900123");
    assert!(rec["envelope"].as_str().unwrap().len() > 100);

    let r = n.request("GET", "/api/v1/search?kind=phone&value=%2B44%207700%20900123", Some(&n.token)).call();
    assert_eq!(r.json()["hits"][0]["id"], id);
    let r = n.request("GET", "/api/v1/search?kind=phone", Some(&n.token)).call();
    assert_eq!(r.json()["hits"].as_array().unwrap().len(), 1);

    let r = n.request("POST", "/api/v1/lookup", Some(&n.token)).json(&json!({
        "values": ["+44 (0)7700 900123", {"kind": "phone", "value": "07700900999"}, {"kind": "phone", "value": "nope"}, "???"]
    }));
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    assert_eq!(
        (out["values"].as_u64(), out["with_hits"].as_u64(), out["invalid"].as_u64()),
        (Some(4), Some(1), Some(2))
    );
    assert_eq!(out["results"][0]["hits"][0]["id"], id);
    // Only values with hits or errors are listed, each with its position.
    let listed: Vec<u64> = out["results"].as_array().unwrap().iter().map(|r| r["index"].as_u64().unwrap()).collect();
    assert_eq!(listed, vec![0, 2, 3]);
    assert!(out["results"][1]["error"].as_str().unwrap().contains("phone"));
    let all = n.request("POST", "/api/v1/lookup?all=true", Some(&n.token)).json(&json!({"values": ["x.example"]}));
    assert_eq!(all.json()["results"].as_array().unwrap().len(), 1, "all=true lists values without hits too");

    let r = n.request("POST", "/api/v1/lookup?kind=phone", Some(&n.token)).raw("text/plain", "07700 900123\n\nbad\n");
    let out = r.json();
    assert_eq!(out["values"], 2);
    assert_eq!(out["results"][0]["hits"][0]["id"], id);
    assert!(out["results"][1]["error"].is_string());
}

#[test]
fn bulk_lookup_takes_100k_values_in_one_call() {
    let n = node();
    publish_phone(&n, &phone(42));
    let body: String = (0..100_000).map(|i| format!("+4477009{:05}\n", i)).collect();
    let r = n.request("POST", "/api/v1/lookup?kind=phone", Some(&n.token)).raw("text/plain", body);
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
    let out = r.json();
    assert_eq!(out["values"], 100_000);
    assert_eq!(out["with_hits"], 1);
}

/// A multipart/form-data body with one file field, as browsers and curl send it.
fn multipart(field: &str, filename: &str, content: &str) -> (String, String) {
    let boundary = "kawan-test-boundary-7f3a";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn bulk_lookup_takes_an_uploaded_text_or_csv_file() {
    let n = node();
    publish_phone(&n, &phone(43));
    // A CSV export from a case system: a header naming the value column.
    let csv = format!(
        "case,kind,value,note\nOP-1,phone,{},seen\nOP-1,domain,jobs-abroad.example,\nOP-2,,\"+44 7700 900999\",x\n",
        phone(43)
    );
    let (ct, body) = multipart("file", "selectors.csv", &csv);
    let r = n.request("POST", "/api/v1/lookup/file", Some(&n.token)).raw(&ct, body);
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    assert_eq!(
        (out["values"].as_u64(), out["with_hits"].as_u64(), out["invalid"].as_u64()),
        (Some(3), Some(1), Some(0)),
        "{out}"
    );
    // Plain text, one value per line, `kind,value` forcing a kind.
    let (ct, body) = multipart("file", "list.txt", &format!("{}\nphone,07700 900999\n\n", phone(43)));
    let r = n.request("POST", "/api/v1/lookup/file?kind=phone", Some(&n.token)).raw(&ct, body);
    assert_eq!(r.json()["values"], 2, "{}", r.body);
    // No file field, a bad kind column, not multipart: clear 4xx answers.
    let (ct, body) = multipart("other", "x.txt", "x");
    let r = n.request("POST", "/api/v1/lookup/file", Some(&n.token)).raw(&ct, body);
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("invalid_body")), "{}", r.body);
    let (ct, body) = multipart("file", "x.csv", "kind,value\nplanet,mars\n");
    let r = n.request("POST", "/api/v1/lookup/file", Some(&n.token)).raw(&ct, body);
    assert_eq!(r.status, 400, "{}", r.body);
    let r = n.request("POST", "/api/v1/lookup/file", Some(&n.token)).raw("text/plain", "x");
    assert!((400..500).contains(&r.status), "{}", r.body);
}

#[test]
fn typologies_techniques_sightings_revisions_and_retractions() {
    let n = node();
    let t = n.request("POST", "/api/v1/typologies", Some(&n.token)).json(&json!({"content": {
        "title": "Fake customer-service jobs abroad", "stage": "recruitment", "tlp": "green",
        "summary": "Recruiters on social media promise high pay abroad; passports are taken on arrival.",
        "route": ["TH", "MM"], "red_flags": ["salary far above market", "employer pays flights"]
    }}));
    assert_eq!(t.status, 201, "{}", t.body);
    let tech = n.request("POST", "/api/v1/techniques", Some(&n.token)).json(&json!({"content": {
        "title": "Pivot from a recruiter's phone to messaging handles", "objective": "Find linked accounts",
        "difficulty": "basic", "tlp": "green", "applies_to": ["phone"], "steps": ["Search the number in messaging apps"]
    }}));
    assert_eq!(tech.status, 201, "{}", tech.body);
    let r = n.request("GET", "/api/v1/search?text=customer-service", Some(&n.token)).call();
    assert_eq!(r.json()["hits"][0]["type"], "typology");
    let r = n.request("GET", "/api/v1/search?type=technique", Some(&n.token)).call();
    assert_eq!(r.json()["hits"][0]["title"], "Pivot from a recruiter's phone to messaging handles");

    let p = publish_phone(&n, &phone(5));
    let id = p["id"].as_str().unwrap();
    let s =
        n.request("POST", "/api/v1/sightings", Some(&n.token)).json(&json!({"target": id, "verdict": "corroborates"}));
    assert_eq!(s.status, 201, "{}", s.body);
    let rev = n.request("POST", "/api/v1/revisions", Some(&n.token)).json(
        &json!({"supersedes": id, "content": {"indicator": {
            "kind": "phone", "value": "07700 900005", "role": "recruiter_contact", "subject": "suspect",
            "confidence": 95, "basis": "fact", "tlp": "green"
        }}}),
    );
    assert_eq!(rev.status, 201, "{}", rev.body);
    let r = n.request("GET", &format!("/api/v1/search?kind=phone&value={}", "%2B447700900005"), Some(&n.token)).call();
    let hit = &r.json()["hits"][0];
    assert_eq!((hit["confidence"].as_u64(), hit["revisions"].as_u64()), (Some(95), Some(1)));
    let x =
        n.request("POST", "/api/v1/retractions", Some(&n.token)).json(&json!({"target": id, "reason": "reassigned"}));
    assert_eq!(x.status, 201, "{}", x.body);
    let r = n.request("GET", "/api/v1/search?kind=phone&value=%2B447700900005", Some(&n.token)).call();
    assert!(r.json()["hits"].as_array().unwrap().is_empty(), "retracted records leave the current view");
    let r = n
        .request("GET", "/api/v1/search?kind=phone&value=%2B447700900005&include_retracted=true", Some(&n.token))
        .call();
    assert_eq!(r.json()["hits"][0]["retracted"], "reassigned");

    // Revising a record that does not exist is a 404, not a 500.
    let missing = "00".repeat(32);
    let rev = n.request("POST", "/api/v1/retractions", Some(&n.token)).json(&json!({"target": missing, "reason": "x"}));
    assert_eq!(rev.status, 404);
}

#[test]
fn cases_stay_local_and_link_records() {
    let n = node();
    let p = publish_phone(&n, &phone(7));
    let c = n.request("POST", "/api/v1/cases", Some(&n.token)).json(&json!({
        "reference": "OP-LOTUS-17", "title": "Recruitment ring", "details": {"victims": 3}
    }));
    assert_eq!(c.status, 201, "{}", c.body);
    let case_id = c.json()["id"].as_u64().unwrap();
    let l =
        n.request("POST", &format!("/api/v1/cases/{case_id}/links"), Some(&n.token)).json(&json!({"record": p["id"]}));
    assert_eq!(l.status, 200, "{}", l.body);
    let g = n.request("GET", &format!("/api/v1/cases/{case_id}"), Some(&n.token)).call();
    assert_eq!(g.json()["links"][0], p["id"]);
    assert_eq!(n.request("GET", "/api/v1/cases", Some(&n.token)).call().json().as_array().unwrap().len(), 1);
    let rec = n.request("GET", &format!("/api/v1/records/{}", p["id"].as_str().unwrap()), Some(&n.token)).call().json();
    assert_eq!(rec["current"]["cases"][0], case_id, "the analyst sees the local link");
    assert!(!rec["envelope"].as_str().unwrap().contains(&hex_of("OP-LOTUS-17")), "the signed record does not");
    assert_eq!(n.request("GET", "/api/v1/cases/999", Some(&n.token)).call().status, 404);
    let bad =
        n.request("POST", &format!("/api/v1/cases/{case_id}/links"), Some(&n.token)).json(&json!({"record": "zz"}));
    assert_eq!(bad.status, 400);
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn tokens_roles_and_authentication() {
    let n = node();
    assert_eq!(n.request("GET", "/api/v1/status", None).call().status, 401);
    let r = n.request("GET", "/api/v1/status", Some("kawan_not-a-token")).call();
    assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("unauthorized")));

    let analyst = analyst_token(&n);
    assert_eq!(n.request("GET", "/api/v1/status", Some(&analyst)).call().status, 200);
    let r = n.request("POST", "/api/v1/tokens", Some(&analyst)).json(&json!({"name": "x", "role": "operator"}));
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(n.request("GET", "/api/v1/tokens", Some(&analyst)).call().status, 403);
    assert_eq!(n.request("GET", "/api/v1/audit/verify", Some(&analyst)).call().status, 403);
    // Analysts publish and search.
    let p = n.request("POST", "/api/v1/indicators", Some(&analyst)).json(&json!({
        "kind": "domain", "value": "jobs-abroad.example", "role": "job_ad", "tlp": "clear"
    }));
    assert_eq!(p.status, 201, "{}", p.body);

    let list = n.request("GET", "/api/v1/tokens", Some(&n.token)).call().json();
    assert!(list.as_array().unwrap().iter().all(|t| t.get("token").is_none()), "secrets are never listed");
    let dup =
        n.request("POST", "/api/v1/tokens", Some(&n.token)).json(&json!({"name": "analyst-1", "role": "analyst"}));
    assert_eq!(dup.status, 409);
    assert_eq!(n.request("DELETE", "/api/v1/tokens/analyst-1", Some(&n.token)).call().status, 204);
    assert_eq!(n.request("GET", "/api/v1/status", Some(&analyst)).call().status, 401, "revoked tokens stop working");
    assert_eq!(n.request("DELETE", "/api/v1/tokens/analyst-1", Some(&n.token)).call().status, 404);

    let audit = n.request("GET", "/api/v1/audit/verify", Some(&n.token)).call().json();
    assert_eq!(audit["ok"], true);
    // The head can be signed on demand, by operators, and the chain still verifies.
    let analyst = analyst_token(&n);
    assert_eq!(n.request("POST", "/api/v1/audit/checkpoint", Some(&analyst)).call().status, 403);
    let c = n.request("POST", "/api/v1/audit/checkpoint", Some(&n.token)).call().json();
    assert!(c["seq"].as_u64().unwrap() >= 3 && c["sig"].as_str().unwrap().len() == 128, "{c}");
    assert_eq!(n.request("GET", "/api/v1/audit/verify", Some(&n.token)).call().json()["ok"], true);
    assert!(audit["entries"].as_u64().unwrap() >= 3, "token and publish actions were audited");
}

/// Every file under `dir`, read whole.
fn every_file(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// docs/security.md N1: a thief of the node's files finds no API token in
/// them, only hashes (the operator token file aside, which the operator
/// is told to move away; docs/operations.md).
#[test]
fn api_tokens_are_stored_only_as_hashes() {
    let n = node();
    let analyst = analyst_token(&n);
    // Used once, so a session or cache would have had the chance to keep it.
    assert_eq!(n.request("GET", "/api/v1/status", Some(&analyst)).call().status, 200);
    publish_phone(&n, "07700 900145");
    let dir = n.stop();
    let files = every_file(dir.path());
    // The scan can see what the databases hold: the published value is there.
    assert!(
        files.iter().any(|(_, bytes)| contains(bytes, b"+447700900145")),
        "the scan reads the databases' bytes (a published value is found)"
    );
    let secret_hex = analyst.trim_start_matches("kawan_");
    let secret: Vec<u8> =
        (0..secret_hex.len() / 2).map(|i| u8::from_str_radix(&secret_hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    assert_eq!(secret.len(), 32, "a token is 256 random bits");
    for (path, bytes) in &files {
        for form in [analyst.as_bytes(), secret_hex.as_bytes(), &secret] {
            assert!(!contains(bytes, form), "{} holds an analyst token", path.display());
        }
    }
}

/// Method, path, content type, body, expected status and error code.
type BadRequest = (&'static str, &'static str, &'static str, Vec<u8>, u16, &'static str);

#[test]
fn bad_input_gets_a_4xx_with_a_code_never_a_500() {
    let n = node();
    let t = Some(n.token.as_str());
    let cases: Vec<BadRequest> = vec![
        ("POST", "/api/v1/indicators", "application/json", b"{not json".to_vec(), 400, "invalid_json"),
        ("POST", "/api/v1/indicators", "application/json", b"{\"kind\": \"phone\"}".to_vec(), 400, "invalid_json"),
        ("POST", "/api/v1/indicators", "text/plain", b"x".to_vec(), 415, "unsupported_media_type"),
        (
            "POST",
            "/api/v1/indicators",
            "application/json",
            br#"{"kind":"fax","value":"1","role":"job_ad","tlp":"green"}"#.to_vec(),
            400,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/indicators",
            "application/json",
            br#"{"kind":"phone","value":"call me","role":"job_ad","tlp":"green"}"#.to_vec(),
            422,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/indicators",
            "application/json",
            br#"{"kind":"phone","value":"+447700900001","role":"job_ad","tlp":"orange"}"#.to_vec(),
            400,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/indicators",
            "application/json",
            br#"{"kind":"phone","value":"+447700900001","role":"job_ad","tlp":"amber"}"#.to_vec(),
            422,
            "wrong_channel",
        ),
        (
            "POST",
            "/api/v1/indicators",
            "application/json",
            br#"{"kind":"phone","value":"+447700900001","role":"job_ad","tlp":"green","extra":1}"#.to_vec(),
            400,
            "invalid_json",
        ),
        ("POST", "/api/v1/lookup", "application/json", b"[1,2".to_vec(), 400, "invalid_json"),
        ("POST", "/api/v1/lookup", "application/xml", b"<x/>".to_vec(), 415, "unsupported_media_type"),
        ("POST", "/api/v1/lookup?kind=fax", "text/plain", b"1".to_vec(), 400, "invalid_value"),
        (
            "POST",
            "/api/v1/sightings",
            "application/json",
            br#"{"target":"abc","verdict":"corroborates"}"#.to_vec(),
            400,
            "invalid_json",
        ),
    ];
    for (method, path, ct, body, status, code) in cases {
        let r = n.request(method, path, t).raw(ct, body);
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.json()["code"], code, "{method} {path}: {}", r.body);
    }
}

/// What the router and axum's extractors refuse on their own answers in the
/// documented JSON error shape too, never as plain text or an empty body.
/// (method, path, extra header, content type, body, status, code)
type Refusal<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>, &'a str, Vec<u8>, u16, &'a str);

/// Every request the router, an extractor or a handler refuses answers in
/// the documented shape: JSON `{code, message}` under `/api/`, the TAXII
/// error body under `/taxii2/`.
#[test]
fn every_refusal_has_the_documented_error_shape() {
    let n = node();
    let t = Some(n.token.as_str());
    let long = format!("/api/v1/search?text={}", "a".repeat(9 * 1024));
    let cols = n.request("GET", "/taxii2/api/collections/", t).call().json();
    let objects = format!("/taxii2/api/collections/{}/objects/", cols["collections"][0]["id"].as_str().unwrap());
    let taxii_long = format!("{objects}?match[id]={}", "a".repeat(9 * 1024));
    let bad_limit = format!("{objects}?limit=many");
    let bad_next = format!("{}?next=zz", objects.replace("/objects/", "/manifest/"));
    // (method, path, extra header, content type, body, status, code; TAXII rows have no code)
    let json = "application/json";
    let cases: Vec<Refusal> = vec![
        ("GET", "/api/v1/search?kind=domain&limit=many", None, "", vec![], 400, "bad_request"),
        ("GET", "/api/v1/search?since=%ZZ", None, "", vec![], 400, "bad_request"),
        ("GET", "/api/v1/search?kind=fax", None, "", vec![], 400, "invalid_value"),
        ("GET", "/api/v1/search?value=x", None, "", vec![], 400, "invalid_value"),
        ("GET", "/api/v1/cases/not-a-number", None, "", vec![], 400, "bad_request"),
        ("GET", "/api/v1/records/%FF%FE", None, "", vec![], 400, "bad_request"),
        ("GET", "/api/v1/records/xyz", None, "", vec![], 400, "invalid_value"),
        ("DELETE", "/api/v1/status", None, "", vec![], 405, "method_not_allowed"),
        ("PUT", "/api/v1/indicators", None, json, b"{}".to_vec(), 405, "method_not_allowed"),
        ("GET", "/api/v1/lookup", None, "", vec![], 405, "method_not_allowed"),
        ("POST", "/api/v1/indicators", None, "text/plain", b"{}".to_vec(), 415, "unsupported_media_type"),
        ("POST", "/api/v1/lookup", None, "application/xml", b"<v/>".to_vec(), 415, "unsupported_media_type"),
        ("POST", "/api/v1/cases", None, json, b"{not json".to_vec(), 400, "invalid_json"),
        ("POST", "/api/v1/indicators", None, json, b"{\"kind\": 3}".to_vec(), 400, "invalid_json"),
        ("GET", "/api/v1/no-such-thing", None, "", vec![], 404, "not_found"),
        ("GET", &long, None, "", vec![], 414, "uri_too_long"),
        ("GET", "/api/v1/status", Some(("Authorization", "Bearer nope")), "", vec![], 401, "unauthorized"),
        ("GET", "/taxii2/api/collections/", Some(("Accept", "text/html")), "", vec![], 406, ""),
        ("GET", &objects, Some(("Accept", "application/taxii+json;version=2.0")), "", vec![], 406, ""),
        ("POST", &objects, None, "text/plain", b"{}".to_vec(), 415, ""),
        ("GET", &bad_limit, None, "", vec![], 400, ""),
        ("GET", &bad_next, None, "", vec![], 400, ""),
        ("GET", "/taxii2/api/collections/no-such-collection/", None, "", vec![], 404, ""),
        ("DELETE", &objects, None, "", vec![], 405, ""),
        ("GET", &taxii_long, None, "", vec![], 414, ""),
    ];
    for (method, path, header, ct, body, status, code) in cases {
        let short = &path[..path.len().min(80)];
        let own_auth = header.is_some_and(|(k, _)| k == "Authorization");
        let mut req = n.request(method, path, if own_auth { None } else { t });
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let r = if ct.is_empty() { req.call() } else { req.raw(ct, body) };
        assert_eq!(r.status, status, "{method} {short}: {}", &r.body[..r.body.len().min(300)]);
        let e = r.json();
        if path.starts_with("/taxii2/") {
            assert_eq!(r.content_type, "application/taxii+json;version=2.1", "{method} {short}");
            assert_eq!(e["http_status"], status.to_string(), "{method} {short}: {}", r.body);
            assert!(!e["description"].as_str().unwrap_or("").is_empty(), "{method} {short}: a description");
        } else {
            assert!(r.content_type.starts_with("application/json"), "{method} {short}: {}", r.content_type);
            assert_eq!(e["code"], code, "{method} {short}: {}", r.body);
            assert!(!e["message"].as_str().unwrap_or("").is_empty(), "{method} {short}: a message for people");
        }
    }
    // The node is still healthy afterwards.
    assert_eq!(n.request("GET", "/api/v1/status", t).call().status, 200);
    // A body over the limit (32 MiB by default) is refused from its declared
    // length, before it is read: a raw client that sends only the headers
    // gets the 413 at once (a client still writing the body may see the
    // connection close after it, as with any server).
    for (path, ct) in [("/api/v1/lookup", "text/plain"), ("/api/v1/indicators", json)] {
        use std::io::{Read as _, Write as _};
        let addr = n.base.trim_start_matches("http://");
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(
            sock,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            n.token,
            33 * 1024 * 1024
        )
        .unwrap();
        let mut answer = vec![0u8; 4096];
        let got = sock.read(&mut answer).expect("an answer before the body is sent");
        let answer = String::from_utf8_lossy(&answer[..got]);
        assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("body_too_large"), "{path}: {answer}");
    }
}

#[test]
fn red_records_never_enter_a_shared_channel() {
    let n = node();
    let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": "+447700900666", "role": "recruiter_contact", "tlp": "red"
    }));
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("tlp_red")));
    let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": "+447700900666", "role": "recruiter_contact", "tlp": "TLP:RED", "group": "mekong"
    }));
    assert_eq!(r.status, 422);
    let status = n.request("GET", "/api/v1/status", Some(&n.token)).call().json();
    assert_eq!(status["records"], 0, "nothing was signed or stored");
    let hits = n.request("POST", "/api/v1/lookup", Some(&n.token)).json(&json!({"values": ["+447700900666"]})).json();
    assert_eq!(hits["with_hits"], 0);
}

#[test]
fn openapi_lists_exactly_the_served_routes() {
    let n = node();
    let r = n.request("GET", "/api/v1/openapi.json", None).call();
    assert_eq!(r.status, 200);
    let doc = r.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 14, "{} paths", paths.len());
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1").replace("{name}", "nobody");
            let resp = n.request(&method.to_uppercase(), &concrete, None).raw("application/json", "{}");
            assert_eq!(resp.status, 401, "{method} {path} is documented and must be served (and need a token)");
        }
    }
    // And a route that is not documented is not served.
    assert_eq!(n.request("POST", "/api/v1/records", None).raw("application/json", "{}").status, 404);
}

#[test]
fn metrics_count_records_and_requests() {
    let n = node();
    publish_phone(&n, &phone(1));
    n.request("GET", "/api/v1/search?kind=phone", Some(&n.token)).call();
    let r = n.request("GET", "/metrics", None).call();
    assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("unauthorized")), "metrics need a token");
    let r = n.request("GET", "/metrics", Some(&n.token)).call();
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/plain"), "{}", r.content_type);
    for needle in [
        "kawan_records{type=\"phone\",channel=\"network\"} 1",
        "kawan_published_total{type=\"phone\",channel=\"network\"} 1",
        "kawan_api_requests_total{method=\"GET\",route=\"/api/v1/search\",status=\"200\"} 1",
        "kawan_api_request_duration_seconds_bucket",
        "kawan_store_bytes",
    ] {
        assert!(r.body.contains(needle), "missing {needle:?} in\n{}", r.body);
    }
}

#[test]
fn status_reports_the_agency_and_survives_a_restart() {
    let n = node();
    publish_phone(&n, &phone(3));
    let s = n.request("GET", "/api/v1/status", Some(&n.token)).call().json();
    assert_eq!((s["agency"].as_str(), s["records"].as_u64()), (Some("Example Agency"), Some(1)));
    assert!(s["peer_id"].as_str().unwrap().starts_with("12D3KooW"));
    let dir = n.stop();
    let n = TestNode::run(dir);
    let s = n.request("GET", "/api/v1/status", Some(&n.token)).call().json();
    assert_eq!(s["records"], 1, "a clean shutdown kept everything");
}
