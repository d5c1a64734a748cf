//! The TAXII 2.1 read side, walked the way a TAXII client walks it.

use base64::Engine as _;
use kawan_tests::{TestNetwork, TestNode};
use serde_json::{Value, json};

/// HTTP Basic header value for `user:pass`.
fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

fn get(n: &TestNode, path: &str) -> (u16, Value, String) {
    let r = n.request("GET", path, Some(&n.token)).call();
    let ct = r.content_type.clone();
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null), ct)
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

    let (s, discovery, ct) = get(n, "/taxii2/");
    assert_eq!(s, 200);
    assert_eq!(ct, "application/taxii+json;version=2.1");
    assert_eq!(discovery["api_roots"][0], "/taxii2/api/");
    let (_, root, _) = get(n, "/taxii2/api/");
    assert_eq!(root["versions"][0], "application/taxii+json;version=2.1");
    let (_, cols, _) = get(n, "/taxii2/api/collections/");
    let cols = cols["collections"].as_array().unwrap().clone();
    assert_eq!(cols.len(), 2, "the network and the group this node is in");

    let mut all = Vec::new();
    for c in &cols {
        let id = c["id"].as_str().unwrap();
        let (s, one, _) = get(n, &format!("/taxii2/api/collections/{id}/"));
        assert_eq!((s, one["id"].as_str()), (200, Some(id)));
        // Page through with limit=2 and the server's `next`.
        let mut path = format!("/taxii2/api/collections/{id}/objects/?limit=2");
        loop {
            let (s, page, _) = get(n, &path);
            assert_eq!(s, 200, "{page}");
            all.extend(page["objects"].as_array().unwrap().iter().cloned());
            if page["more"] != true {
                break;
            }
            path = format!("/taxii2/api/collections/{id}/objects/?limit=2&next={}", page["next"].as_str().unwrap());
        }
        let (_, manifest, _) = get(n, &format!("/taxii2/api/collections/{id}/manifest/"));
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
    let (s, obj, _) = get(n, &format!("/taxii2/api/collections/{net_id}/objects/{sid}/"));
    assert_eq!((s, obj["objects"][0]["id"].as_str()), (200, Some(sid.as_str())));
    let (s, v, _) = get(n, &format!("/taxii2/api/collections/{net_id}/objects/{sid}/versions/"));
    assert_eq!((s, v["versions"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, _, _) = get(n, "/taxii2/api/collections/00000000-0000-4000-8000-000000000000/objects/");
    assert_eq!(s, 404);
    let (s, _, _) = get(n, &format!("/taxii2/api/collections/{net_id}/objects/?added_after=yesterday"));
    assert_eq!(s, 400);
    // match[type] filters.
    let (_, only, _) = get(n, &format!("/taxii2/api/collections/{net_id}/objects/?match[type]=attack-pattern"));
    assert!(only["objects"].as_array().unwrap().iter().all(|o| o["type"] == "attack-pattern"));
}
