//! The key compromise drill (docs/operations.md), run across real nodes: an
//! agency's key is stolen and used; the agency rotates with a cutoff at the
//! theft; every node withdraws the forgery, refuses what the thief signs
//! later (backdated or not), and the agency carries on under its new key
//! with its history intact.

use std::time::Duration;

use kawan_node::{clock::Clock, identity};
use kawan_protocol::*;
use kawan_tests::{TestNetwork, TestNode, fixtures, kawan, peer};
use serde_json::{Value, json};

/// The hit for a phone number on `n`, if it shows one.
fn hit(n: &TestNode, value: &str) -> Option<Value> {
    let q = format!("/api/v1/search?kind=phone&value={}", value.replace('+', "%2B"));
    let r = n.get(&q);
    // A failed search must not read as "no hit".
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.json()["hits"].as_array().and_then(|h| h.first().cloned())
}

fn trust_version(n: &TestNode) -> u64 {
    n.request("GET", "/api/v1/trust", Some(&n.token)).call().json()["version"].as_u64().unwrap_or(0)
}

/// A record by `key` continuing a log at `seq` after `prev`, claiming `created_ms`.
fn forge(key: &Keypair, seq: u64, prev: RecordId, created_ms: u64, value: &str) -> Verified {
    let body = Body::Indicator(fixtures::indicator(Kind::Phone, value, Tlp::Green));
    forge_body(key, seq, Some(prev), created_ms, body)
}

fn forge_body(key: &Keypair, seq: u64, prev: Option<RecordId>, created_ms: u64, body: Body) -> Verified {
    Record {
        header: Header {
            v: 1,
            network: fixtures::network(),
            channel: Channel::Network,
            author: key.public(),
            seq,
            prev,
            created_ms,
        },
        body,
    }
    .sign(key)
    .unwrap()
}

fn retraction_of(target: RecordId) -> Body {
    Body::Retraction(Retraction { target, reason: "withdrawn by the agency".into() })
}

fn revision_of(target: RecordId, value: &str) -> Body {
    let content = Content::Indicator(fixtures::indicator(Kind::Phone, value, Tlp::Green));
    Body::Revision(Revision { supersedes: target, content })
}

/// Whether `n` shows `value` as the agency's genuine, unrevised,
/// unretracted record, with the agency not flagged as equivocating.
fn genuine(n: &TestNode, value: &str) -> bool {
    hit(n, value).is_some_and(|h| {
        h["author_equivocating"] == false && h["revisions"] == 0 && h["retracted"].is_null() && h["value"] == value
    })
}

fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn key_compromise_drill() {
    let mut net = TestNetwork::start(3, &[]);
    net.wait_for(30, "connected", |net| {
        let peers = net.node(0).request("GET", "/api/v1/peers", Some(&net.node(0).token)).call().json();
        peers.as_array().is_some_and(|ps| ps.iter().filter(|p| p["connected"] == true).count() == 2)
    });

    // Agency 1's history: two records.
    let history = fixtures::phone(401);
    let first = net.node(1).publish(fixtures::green_phone(&history));
    let history2 = fixtures::phone(407);
    let second = net.node(1).publish(fixtures::green_phone(&history2));
    net.wait_for(30, "agency 1's records everywhere", |net| {
        (0..3).all(|i| genuine(net.node(i), &history) && genuine(net.node(i), &history2))
    });
    let first_id: RecordId = first["id"].as_str().unwrap().parse().unwrap();
    let second_id: RecordId = second["id"].as_str().unwrap().parse().unwrap();

    // The key file is copied off the host.
    let stolen = identity::load(&net.dir(1).join("agency.key")).unwrap();
    let theft_ms = Clock::system().now_ms();
    std::thread::sleep(Duration::from_millis(20));

    // While the agency's node is down for maintenance, the thief connects
    // as it and publishes in its name, continuing its log, and forks a slot
    // of its history to retract its first record (backdated, inside the
    // key's window). The forgery spreads like any record, back to the
    // agency's own node too; the fork spreads by announcement to the nodes
    // online, which keep it as proof only and flag the agency.
    net.stop(1);
    let forged_value = fixtures::phone(402);
    let forgery = forge(&stolen, 3, second_id, Clock::system().now_ms(), &forged_value);
    let fork = forge_body(&stolen, 2, Some(first_id), theft_ms - 1_000, retraction_of(first_id));
    let pushed = peer::push_as(
        &stolen,
        net.dir(2),
        &[forgery.envelope.to_bytes(), fork.envelope.to_bytes()],
        Duration::from_secs(1),
    );
    assert!(pushed.connected && pushed.sent == 2, "the thief got in while the key was valid: {pushed:?}");
    net.restart(1);
    net.wait_for(30, "the forgery everywhere, the agency flagged", |net| {
        (0..3).all(|i| hit(net.node(i), &forged_value).is_some())
            && [0, 2].iter().all(|i| hit(net.node(*i), &history).is_some_and(|h| h["author_equivocating"] == true))
    });

    // The agency rotates with a cutoff at the theft (its node keeps running).
    let card = net.dir(1).join("rotation.card");
    let agency1 = net.node(1);
    let out = agency1
        .cli()
        .args(["key", "rotate", "--compromised-at", &theft_ms.to_string(), "--out"])
        .arg(&card)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("ends at record 2 ({second_id})")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_key: Card = serde_json::from_str(&std::fs::read_to_string(&card).unwrap()).unwrap();
    assert!(new_key.old_key_sig.is_none(), "a compromised key does not co-sign its successor");

    // The coordinator (having confirmed by phone) rotates the key in the
    // list, signs with its own key only, and publishes.
    let list = net.genesis.clone();
    let shown = run_ok(kawan().args(["trust", "rotate-key"]).arg(&list).arg(&card));
    assert!(shown.contains("confirm it"), "{shown}");
    run_ok(kawan().args(["trust", "sign"]).arg(&list).arg("--key").arg(net.dir(0).join("agency.key")));
    let token = net.node(0).new_token("coordinator");
    run_ok(net.node(0).cli().env("KAWAN_TOKEN", token).args(["trust", "publish"]).arg(&list));
    net.wait_for(30, "every node has the rotation", |net| (0..3).all(|i| trust_version(net.node(i)) == 2));

    // Every node withdraws the forgery from views and exports, removes the
    // fork, and keeps the agency's history, no longer flagged.
    net.wait_for(30, "the fork gone everywhere", |net| {
        (0..3).all(|i| genuine(net.node(i), &history) && genuine(net.node(i), &history2))
    });
    for i in 0..3 {
        let n = net.node(i);
        assert!(hit(n, &forged_value).is_none(), "node {i} still shows the forgery");
        let r = n.request("GET", &format!("/api/v1/records/{}", forgery.id), Some(&n.token)).call();
        assert_eq!(r.status, 404, "node {i}: {}", r.body);
        assert!(r.body.contains("withdrawn") && r.body.contains("compromised"), "node {i}: {}", r.body);
        let kept = hit(n, &history).unwrap_or_else(|| panic!("node {i} lost agency 1's history"));
        assert_eq!(kept["author_name"], "Agency 1", "node {i}: {kept}");
        assert_eq!(kept["author_revoked"], false, "node {i}: {kept}");
        let csv = n.request("GET", "/api/v1/export/csv", Some(&n.token)).call().body;
        assert!(csv.contains(&history[1..]) && !csv.contains(&forged_value[1..]), "node {i} exports:\n{csv}");
    }
    let status = net.node(1).request("GET", "/api/v1/status", Some(&net.node(1).token)).call().json();
    assert!(status["warnings"].to_string().contains("restart the node"), "{status}");
    let body = json!({"kind": "phone", "value": fixtures::phone(406), "role": "recruiter_contact", "tlp": "green"});
    let r = net.node(1).request("POST", "/api/v1/indicators", Some(&net.node(1).token)).json(&body);
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("key_retired")), "{}", r.body);

    // The agency restarts: it signs and connects under its new key, and
    // its new records reach everyone under its name.
    net.stop(1);
    net.restart(1);
    let current = identity::load(&net.dir(1).join("agency.key")).unwrap();
    assert_eq!(current.public(), new_key.card.key);
    assert!(
        std::fs::read_dir(net.dir(1))
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with("agency.key.retired-") })
    );
    let after = fixtures::phone(403);
    net.node(1).publish(fixtures::green_phone(&after));
    net.wait_for(30, "the new key's record everywhere", |net| (0..3).all(|i| hit(net.node(i), &after).is_some()));
    assert_eq!(hit(net.node(0), &after).unwrap()["author_name"], "Agency 1");
    let audit = net.node(1).request("GET", "/api/v1/audit/verify", Some(&net.node(1).token)).call();
    assert_eq!(audit.json()["ok"], true, "checkpoints signed by the old key still verify: {}", audit.body);

    // The thief tries again: the stolen key is no longer let in at all.
    let late = forge(&stolen, 3, forgery.id, Clock::system().now_ms(), &fixtures::phone(404));
    let backdated = forge(&stolen, 3, forgery.id, theft_ms - 60_000, &fixtures::phone(405));
    let again = [late.envelope.to_bytes(), backdated.envelope.to_bytes()];
    let refused = peer::push_as(&stolen, net.dir(0), &again, Duration::from_secs(1));
    assert!(!refused.connected, "a retired key connected: {refused:?}");

    // An accomplice member relays them, with new forks of the history's
    // slots (retracting and rewriting it, backdated): every node refuses
    // them all (the log ends where the card said, at the record it named).
    net.stop(2);
    let accomplice = identity::load(&net.dir(2).join("agency.key")).unwrap();
    let rewrite =
        forge_body(&stolen, 2, Some(first_id), theft_ms - 2_000, revision_of(first_id, &fixtures::phone(408)));
    let retract = forge_body(&stolen, 1, None, theft_ms - 3_000, retraction_of(second_id));
    // Last, on the same connection, a record of the accomplice's own: once
    // node 0 shows it, everything pushed before it was judged.
    let marker = fixtures::phone(409);
    let own_body = Body::Indicator(fixtures::indicator(Kind::Phone, &marker, Tlp::Green));
    let own = forge_body(&accomplice, 1, None, Clock::system().now_ms(), own_body);
    let pushed: Vec<Vec<u8>> =
        [&late, &backdated, &rewrite, &retract, &fork, &own].iter().map(|v| v.envelope.to_bytes()).collect();
    let relayed = peer::push_as(&accomplice, net.dir(0), &pushed, Duration::from_secs(1));
    assert!(relayed.connected && relayed.sent == 6, "{relayed:?}");
    net.wait_for(30, "the accomplice's own record on node 0", |net| hit(net.node(0), &marker).is_some());
    for value in [fixtures::phone(404), fixtures::phone(405), fixtures::phone(408)] {
        assert!(hit(net.node(0), &value).is_none() && hit(net.node(1), &value).is_none(), "{value} got in");
    }
    for i in [0, 1] {
        assert!(genuine(net.node(i), &history) && genuine(net.node(i), &history2), "node {i} lost the history");
        for f in [&rewrite, &retract, &fork] {
            let r = net.node(i).request("GET", &format!("/api/v1/records/{}", f.id), Some(&net.node(i).token)).call();
            assert_eq!(r.status, 404, "node {i} stored fork {}: {}", f.id, r.body);
        }
    }
    let metrics = net.node(0).request("GET", "/metrics", Some(&net.node(0).token)).call().body;
    assert!(metrics.contains("reason=\"void\""), "void refusals are counted:\n{metrics}");
}
