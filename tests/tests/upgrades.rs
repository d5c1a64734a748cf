//! Rolling upgrades (docs/protocol.md, "Evolving the protocol"): real nodes
//! relay and serve records of a family none of them knows, exactly as
//! signed, show them as of a newer kind, and say what each peer runs.

use std::time::Duration;

use kawan_node::identity;
use kawan_protocol::Envelope;
use kawan_tests::{TestNetwork, fixtures, peer};

#[test]
fn nodes_relay_and_serve_records_of_a_family_none_of_them_knows() {
    let mut net = TestNetwork::start(3, &[]);
    net.wait_for(30, "connected", |net| {
        net.node(0).get("/api/v1/peers").json().as_array().is_some_and(|ps| {
            ps.iter().filter(|p| p["connected"] == true).count() == 2
                && ps.iter().filter(|p| p["me"] == false).all(|p| p["agent"].as_str().is_some())
        })
    });
    // Each peer says what it runs.
    let peers = net.node(0).get("/api/v1/peers").json();
    for p in peers.as_array().unwrap().iter().filter(|p| p["me"] == false) {
        let agent = p["agent"].as_str().unwrap();
        assert!(agent.starts_with("kawan/") && agent.contains("protocol 1; reads indicator"), "{agent}");
        assert_eq!(p["cannot_read"], serde_json::json!([]), "{p}");
    }

    // Agency 2 upgrades first (played by a raw peer with its key) and
    // writes a record of a new family.
    net.stop(2);
    let newer_node = identity::load(&net.dir(2).join("agency.key")).unwrap();
    let bytes = fixtures::future_record(&newer_node, 1, None);
    let id = Envelope::from_bytes(&bytes).unwrap().id();
    let sent = peer::push_as(&newer_node, net.dir(0), std::slice::from_ref(&bytes), Duration::from_secs(2));
    assert!(sent.connected && !sent.cut_off, "an upgraded member is not penalised for it: {sent:?}");

    // Node 0 keeps it and node 1 gets it from node 0: both serve it exactly
    // as signed, as a record of a newer kind.
    net.wait_for(30, "both older nodes hold it", |net| {
        (0..2).all(|i| net.node(i).get(&format!("/api/v1/records/{id}")).status == 200)
    });
    for i in 0..2 {
        let r = net.node(i).get(&format!("/api/v1/records/{id}")).json();
        assert_eq!(r["type"], "newer", "{r}");
        assert_eq!(r["body"]["family"], "future_family", "{r}");
        assert!(r["body"]["note"].as_str().unwrap().contains("upgrade to read it"), "{r}");
        assert_eq!(
            r["envelope"].as_str().unwrap(),
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "node {i} keeps the exact bytes"
        );
        let out = net.node(i).cli().args(["record", &id.to_string()]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("upgrade to read it") && text.contains("future_family"),
            "{text}"
        );
        let status = net.node(i).get("/api/v1/status").json();
        assert!(status["warnings"].to_string().contains("newer kind"), "{status}");
        // Nothing that reads records breaks on it.
        for path in ["/api/v1/search?type=indicator", "/api/v1/export/csv", "/api/v1/export/stix", "/taxii2/"] {
            let r = net.node(i).request("GET", path, Some(&net.node(i).token)).call();
            assert!(r.status < 400, "node {i} {path}: {} {}", r.status, r.body);
        }
    }

    // The web page names it too, and the network page says to upgrade.
    let browser = kawan_tests::web::Browser::login(net.node(1));
    let (status, html) = browser.get(&format!("/record/{id}"));
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("upgrade to read it") && html.contains("future_family"), "{html}");
    let (_, html) = browser.get("/network");
    assert!(html.contains("newer kind") && html.contains("kawan/"), "{html}");

    // When agency 2's node comes back it is served its own record too.
    net.restart(2);
    net.wait_for(30, "agency 2 holds it", |net| net.node(2).get(&format!("/api/v1/records/{id}")).status == 200);
}
