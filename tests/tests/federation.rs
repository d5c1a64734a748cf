//! The federation between real `kawan run` processes on loopback: records
//! propagate, offline nodes catch up (also from relays), sharing-group records
//! reach only group members, and case details never leave a node.

use kawan_tests::{
    TestNetwork, TestNode,
    fixtures::{green_phone, phone},
};
use serde_json::{Value, json};

fn has(n: &TestNode, kind: &str, value: &str) -> bool {
    let q = format!("/api/v1/search?kind={kind}&value={}", value.replace('+', "%2B"));
    let r = n.get(&q);
    // A failed search must not read as "absent".
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    !r.json()["hits"].as_array().is_none_or(Vec::is_empty)
}

#[test]
fn a_record_published_at_one_node_reaches_all_five() {
    let net = TestNetwork::start(5, &[]);
    net.wait_for(30, "all nodes connected", |net| net.node(0).connected_peers() == 4);
    let value = phone(301);
    net.node(2).publish(green_phone(&value));
    net.wait_for(30, "the record at every node", |net| (0..5).all(|i| has(net.node(i), "phone", &value)));
    let hit =
        &net.node(4).request("GET", "/api/v1/search?kind=phone", Some(&net.node(4).token)).call().json()["hits"][0];
    assert_eq!(hit["author_name"], "Agency 2", "provenance travels with the record");
}

#[test]
fn an_offline_node_catches_up_even_from_a_relay_when_the_author_is_offline() {
    let mut net = TestNetwork::start(3, &[]);
    net.wait_for(30, "connected", |net| net.node(0).records() == 0 && net.node(0).connected_peers() >= 2);
    net.stop(2);
    let author = net.node(0);
    for i in 0..1000 {
        author.publish(green_phone(&format!("+447700{:06}", 900000 + i)));
    }
    // (1000 audited publishes also make the author publish an audit
    // checkpoint: a record beside the thousand. So "node 1 holds 1000" is
    // not "node 1 holds everything": it could miss one in the middle, which
    // no one could then relay. It must hold what the author holds.)
    net.wait_for(60, "node 1 has everything the author published", |net| {
        let held = net.node(1).records();
        held >= 1000 && held == net.node(0).records()
    });
    // The author goes offline; node 2 comes back and must get everything from node 1.
    net.stop(0);
    let relay_holds = net.node(1).records();
    net.restart(2);
    net.wait_for(90, "node 2 caught up from the relay", |net| net.node(2).records() == relay_holds);
    assert!(has(net.node(2), "phone", "+447700900999"));
}

#[test]
fn group_records_and_case_details_never_reach_those_not_entitled() {
    // Nodes 0 and 1 are in group "mekong"; node 2 is a member of the network
    // but not of the group. Every message nodes 1 and 2 receive is logged.
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("wire-{i}.bin"));
    let net = TestNetwork::start_with(3, &[("mekong", &[0, 1])], |i| vec![("KAWAN_WIRE_LOG", log_of(i))]);
    // Everyone connected to everyone: the outsider is a peer of both nodes
    // that will hold the group record, so each must decide not to send it.
    net.wait_for(30, "all connected", |net| (0..3).all(|i| net.node(i).connected_peers() >= 2));

    let secret_value = "+447700900777";
    let amber = json!({"kind": "phone", "value": secret_value, "role": "recruiter_contact", "tlp": "amber", "group": "mekong",
                       "description": "GROUP-ONLY-MARKER-5a1f"});
    net.node(0).publish(amber);
    let case = net.node(0).request("POST", "/api/v1/cases", Some(&net.node(0).token)).json(&json!({
        "reference": "CASE-SECRET-9f3c", "title": "Victim statement", "details": {"victim": "VICTIM-NAME-71be"}
    }));
    assert_eq!(case.status, 201);
    // A public record afterwards, from the same author: a marker (see below).
    let marker = phone(778);
    let green = net.node(0).publish(green_phone(&marker));
    let case_id = case.json()["id"].as_u64().unwrap();
    net.node(0)
        .request("POST", &format!("/api/v1/cases/{case_id}/links"), Some(&net.node(0).token))
        .json(&json!({"record": green["id"]}));

    net.wait_for(30, "the group member got the group record", |net| has(net.node(1), "phone", secret_value));
    // The group record had its chance to reach the outsider, on each path
    // that spreads a new record: its author's push and the member's relay
    // both asked the policy about the outsider and were refused (the only
    // group record here, and the outsider their only peer outside the group).
    net.wait_for(30, "the author's push to the outsider refused", |net| {
        net.node(0).policy_decisions("push", "refused") >= 1
    });
    net.wait_for(30, "the member's relay to the outsider refused", |net| {
        net.node(1).policy_decisions("relay", "refused") >= 1
    });
    // And both holders' later traffic has reached the outsider: a public
    // record from each, published after it held the group record.
    //
    // No marker can *prove* the absence here the way a later record of the
    // same log could (docs/protocol.md §4: pulls and batches go in log
    // order): the outsider may receive nothing on the group's channel, so
    // any marker it can receive is on another log, and messages about
    // different logs, each on its own stream, carry no order between them.
    // The refusals above are the evidence that the record was considered
    // for the outsider and held back; the markers, that what the holders
    // sent it around then has been processed. Anti-entropy never offers it
    // a group log (heads cover the channels both sides may see).
    let marker_1 = phone(779);
    net.node(1).publish(green_phone(&marker_1));
    net.wait_for(30, "the outsider got both public records", |net| {
        has(net.node(2), "phone", &marker) && has(net.node(2), "phone", &marker_1)
    });
    assert!(!has(net.node(2), "phone", secret_value), "the outsider's store never has the group record");

    let received = |i: usize| std::fs::read(log_of(i)).unwrap_or_default();
    let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    let outsider = received(2);
    assert!(!outsider.is_empty(), "node 2 received traffic");
    assert!(contains(&outsider, &marker), "the log really holds what node 2 received");
    assert!(!contains(&outsider, secret_value), "a group record's value reached a non-member");
    assert!(!contains(&outsider, "GROUP-ONLY-MARKER-5a1f"));
    assert!(contains(&received(1), secret_value), "the group member received it");
    for i in [1, 2] {
        for secret in ["CASE-SECRET-9f3c", "VICTIM-NAME-71be", "Victim statement"] {
            assert!(!contains(&received(i), secret), "case detail {secret:?} reached node {i}");
        }
    }
}

#[test]
fn strangers_cannot_join_and_removed_members_are_cut_off() {
    let mut net = TestNetwork::start(3, &[]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 2);

    // A node whose key is not on the trust list, pointed at node 0. A token
    // cannot install a genesis over the API: it comes from the pinned file.
    let stranger = TestNode::start("Stranger", "GB");
    let genesis = std::fs::read(&net.genesis).unwrap();
    let token = stranger.new_token("coordinator");
    let r = stranger.request("POST", "/api/v1/trust", Some(&token)).json(&json!({"signed_list": hex(&genesis)}));
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("no_genesis")), "{}", r.body);
    let dir = stranger.stop();
    std::fs::copy(&net.genesis, dir.path().join("genesis.trust")).unwrap();
    let stranger = TestNode::run(dir);
    assert_eq!(stranger.request("GET", "/api/v1/trust", Some(&stranger.token)).call().status, 200);
    stranger.publish(green_phone(&phone(901)));
    // No marker can show this record had its chance: whatever the stranger
    // sends is refused by the very rule under test (members do not complete
    // a connection with a key on no trust list), so a later record of its
    // own, the marker per-log order would allow (docs/protocol.md §4), never
    // arrives either. Hence a bounded watch, longer than a push, or a
    // connection's digest exchange and the pull two seconds after it.
    net.assert_never(4, "a stranger's record got in", |net| has(net.node(0), "phone", &phone(901)));
    assert_eq!(stranger.connected_peers(), 0, "a stranger connected");

    // Installing trust lists takes a coordinator token (the role table);
    // an operator's is refused, and an update signed by nobody the current
    // list trusts is refused whoever sends it.
    let forged =
        kawan_node::coordinator::next_version(&kawan_node::coordinator::read(&net.genesis).unwrap(), 0, |_| Ok(()))
            .unwrap();
    let install = |token: &str, bytes: &[u8]| {
        net.node(1).request("POST", "/api/v1/trust", Some(token)).json(&json!({"signed_list": hex(bytes)}))
    };
    let r = install(&net.node(1).token, &forged.to_bytes());
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("forbidden")), "{}", r.body);
    let coordinator = net.node(1).new_token("coordinator");
    let r = install(&coordinator, &forged.to_bytes());
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("trust_list_refused")), "{}", r.body);

    // Agency 2 shares a record while still a member.
    net.node(2).publish(green_phone(&phone(903)));
    net.wait_for(30, "node 0 has agency 2's record", |net| has(net.node(0), "phone", &phone(903)));

    // The coordinator removes agency 2.
    let file = net.genesis.clone();
    let k = kawan_tests::kawan;
    assert!(k().args(["trust", "remove-member"]).arg(&file).arg("agency-2").status().unwrap().success());
    assert!(
        k().args(["trust", "sign"]).arg(&file).arg("--key").arg(net.node(0).dir.path()).status().unwrap().success()
    );
    let token = net.node(0).new_token("coordinator");
    let out = net.node(0).cli().env("KAWAN_TOKEN", token).args(["trust", "publish"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    net.wait_for(30, "node 1 follows the update", |net| {
        net.node(1).request("GET", "/api/v1/trust", Some(&net.node(1).token)).call().json()["members"]
            .as_array()
            .is_some_and(|m| m.len() == 2)
    });
    // The way in is closed: node 1 has dropped its connection to agency 2.
    net.wait_for(30, "node 1 cut agency 2 off", |net| net.node(1).connected_peers() == 1);
    net.node(2).publish(green_phone(&phone(902)));
    // As for the stranger, no marker can show this record had its chance:
    // any later record of agency 2 is refused by the same rule. A bounded
    // watch, longer than a push or a reconnection's digest, heads and pull.
    net.assert_never(4, "a removed member's new record was accepted", |net| has(net.node(1), "phone", &phone(902)));
    net.stop(2);

    // Its old record stays, flagged, and every export says so.
    net.wait_for(30, "node 0 follows the update", |net| {
        net.node(0).request("GET", "/api/v1/trust", Some(&net.node(0).token)).call().json()["members"]
            .as_array()
            .is_some_and(|m| m.len() == 2)
    });
    let a = net.node(0);
    let get = |path: &str| a.request("GET", path, Some(&a.token)).call().body;
    let csv = get("/api/v1/export/csv");
    let row = csv.lines().find(|l| l.contains(&phone(903))).unwrap_or_else(|| panic!("{csv}"));
    assert!(row.ends_with(",kawan:author-revoked,,"), "`flags`, then empty `handling` and `evaluation`: {row}");
    assert!(get("/api/v1/export/stix").contains("kawan:author-revoked"), "STIX labels carry the flag");
    let manifest: Value = serde_json::from_str(&get("/api/v1/export/misp/manifest.json")).unwrap();
    let events: String =
        manifest.as_object().unwrap().keys().map(|uuid| get(&format!("/api/v1/export/misp/{uuid}.json"))).collect();
    assert!(events.contains("kawan:author-revoked"), "MISP tags carry the flag");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest(n: &TestNode) -> String {
    n.request("GET", "/api/v1/status", Some(&n.token)).call().json()["heads_digest"].as_str().unwrap_or("").to_string()
}

#[test]
fn both_sides_of_a_partition_converge_after_it_heals() {
    let mut net = TestNetwork::start(3, &[]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 2);
    // Side A = {0}, side B = {1, 2}: each publishes while the other is away.
    net.stop(0);
    for i in 0..20 {
        net.node(1 + i % 2).publish(green_phone(&phone(400 + i as u16)));
    }
    net.stop(1);
    net.stop(2);
    net.restart(0);
    for i in 0..20 {
        net.node(0).publish(green_phone(&phone(500 + i as u16)));
    }
    net.restart(1);
    net.restart(2);
    net.wait_for(60, "all three converge", |net| {
        let d: Vec<String> = (0..3).map(|i| digest(net.node(i))).collect();
        net.node(0).records() == 40 && d[0] == d[1] && d[1] == d[2]
    });
}

/// Every output path asks the policy: after data has left through each of
/// them, every path the node's `/metrics` names has counted decisions. A new
/// output path that does not ask (or that this test does not exercise)
/// fails here.
#[test]
fn every_output_path_asks_the_policy() {
    // Agencies 0 and 1 coordinate, both signing each version: a proposal
    // waits, and is sent to coordinators' nodes only.
    let mut net = TestNetwork::start_governed(3, &[("mekong", &[0, 1, 2])], (2, 2), |_| vec![], |_, _| {});
    net.wait_for(30, "connected", |net| (0..3).all(|i| net.node(i).connected_peers() >= 2));
    let (a, token) = (net.node(0), net.node(0).token.clone());
    // Gossip (green), push and relay (amber: node 1 passes it on to node 2).
    a.publish(green_phone(&phone(811)));
    let amber =
        json!({"kind": "phone", "value": phone(812), "role": "recruiter_contact", "tlp": "amber", "group": "mekong"});
    a.publish(amber);
    net.wait_for(30, "both records everywhere", |net| (0..3).all(|i| has(net.node(i), "phone", &phone(812))));
    // Pull answers: node 2 comes back to records it lacks. It comes back
    // with a webhook to its case system (nothing listens there: the gate
    // decides before any delivery is tried).
    net.stop(2);
    net.node(0).publish(green_phone(&phone(813)));
    let config = net.dir(2).join("kawan.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "# webhook = \"https://cases.agency.example/kawan-alerts\"",
            "webhook = \"http://127.0.0.1:9/kawan-alerts\"",
        )
        .replace(
            "# webhook_secret = \"a long random string shared with the case system\"",
            "webhook_secret = \"a-long-shared-secret-for-the-case-system\"",
        );
    std::fs::write(&config, text).unwrap();
    net.restart(2);
    net.wait_for(60, "node 2 caught up", |net| has(net.node(2), "phone", &phone(813)));
    // An alert on node 2 goes to its webhook through the gate.
    let c = net.node(2);
    assert_eq!(c.post("/api/v1/watchlist", json!({"kind": "phone", "value": phone(814)})).status, 201);
    net.node(0).publish(green_phone(&phone(814)));
    net.wait_for(60, "node 2's webhook asked the policy", |net| net.node(2).policy_decisions("webhook", "allowed") > 0);

    // REST, the web page, TAXII and the exports.
    let a = net.node(0);
    let get = |path: &str| {
        let r = a.request("GET", path, Some(&token)).call();
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r
    };
    get("/api/v1/search?kind=phone");
    let link = a.request("POST", "/api/v1/login-links", Some(&token)).call().json();
    let agent = kawan_tests::web::agent();
    let login = kawan_tests::web::follow_login_link(&agent, &a.base, link["path"].as_str().unwrap()).1.unwrap();
    let session = login.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let mut web = agent.get(format!("{}/?q=%2B447700900811", a.base)).header("Cookie", &session).call().unwrap();
    let html = web.body_mut().read_to_string().unwrap();
    assert!(web.status() == 200 && html.contains("+447700900811"), "{html}");
    let cols = get("/taxii2/api/collections/").json();
    get(&format!("/taxii2/api/collections/{}/objects/", cols["collections"][0]["id"].as_str().unwrap()));
    get("/api/v1/export/misp/manifest.json");
    get("/api/v1/export/csv");
    get("/api/v1/export/stix");
    // A platform referral package.
    let r = a.request("POST", "/api/v1/referrals", Some(&token)).json(&json!({
        "platform": "facebook", "request": "suspension", "tlp": "green",
        "subjects": [{"kind": "phone", "value": phone(811)}]
    }));
    assert_eq!(r.status, 201, "{}", r.body);
    get("/api/v1/referrals/package?platform=facebook");
    // A bundle for node 1.
    let r = a.request("POST", "/api/v1/bundles/export", Some(&token)).json(&json!({"member": "agency-1"}));
    assert_eq!(r.status, 200, "{}", r.body);
    // Deconfliction answers: node 1 asks; nodes 0 and 2 answer.
    let q = net.node(1).request("POST", "/api/v1/deconflict", Some(&net.node(1).token)).json(&json!({
        "values": [{"kind": "phone", "value": phone(811)}], "purpose": "policy test"
    }));
    assert_eq!(q.status, 201, "{}", q.body);
    // A file a record carries, fetched by node 1 from node 0.
    let file = a
        .request("POST", "/api/v1/attachments?name=ad.txt", Some(&token))
        .raw("text/plain", "Casino jobs, visa paid, jobs.example".as_bytes().to_vec());
    assert_eq!(file.status, 201, "{}", file.body);
    let r = a.request("POST", "/api/v1/requests", Some(&token)).json(&json!({
        "question": "Who has seen this ad?", "tlp": "green", "attachments": [file.json()]
    }));
    assert_eq!(r.status, 201, "{}", r.body);
    let rid = r.json()["id"].as_str().unwrap().to_string();
    let b = net.node(1);
    net.wait_for(30, "node 1 has the request", |_| b.get(&format!("/api/v1/requests/{rid}")).status == 200);
    let hash = file.json()["hash"].as_str().unwrap().to_string();
    let r = b.request("POST", &format!("/api/v1/attachments/{hash}/fetch"), Some(&b.token)).call();
    assert_eq!(r.status, 200, "{}", r.body);
    // A proposal, sent by coordinator 1's node to coordinator 0's only.
    let coordinator = b.new_token("coordinator");
    let r = b
        .request("POST", "/api/v1/trust/proposals", Some(&coordinator))
        .json(&json!({"renew": "agency-2", "until_ms": 1_900_000_000_000u64}));
    assert_eq!(r.status, 201, "{}", r.body);
    net.wait_for(30, "node 0 holds the proposal", |net| {
        let r = net.node(0).request("GET", "/api/v1/trust/proposals", Some(&net.node(0).token)).call();
        r.json().as_array().is_some_and(|a| !a.is_empty())
    });

    let mut decisions: std::collections::BTreeMap<String, u64> = Default::default();
    for i in 0..3 {
        let metrics = net.node(i).request("GET", "/metrics", Some(&net.node(i).token)).call().body;
        for line in metrics.lines().filter(|l| l.starts_with("kawan_policy_decisions_total{")) {
            let path = line.split("path=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
            let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *decisions.entry(path).or_default() += n;
        }
    }
    assert_eq!(decisions.len(), kawan_node::policy::Path::ALL.len(), "every output path is reported: {decisions:?}");
    for (path, n) in &decisions {
        assert!(*n > 0, "output path {path} sent or showed data without asking the policy: {decisions:?}");
    }
}

/// Regression (issue #12, defect 1): pull answers used to be bounded by
/// count only; 256 records of ~60 KB exceed the codec limit, the answer
/// never decoded and the node that was away stayed behind for good.
#[test]
fn a_node_that_was_away_catches_up_on_large_records() {
    let mut net = TestNetwork::start(2, &[]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 1);
    net.stop(1);
    publish_large_techniques(net.node(0), 300, None);
    net.restart(1);
    net.wait_for(60, "node 1 holds all 300 large records", |net| net.node(1).records() == 300);
}

/// Publishes `n` techniques of ~56 KB each (seven long steps), GREEN to the
/// network or AMBER to `group`.
fn publish_large_techniques(node: &TestNode, n: usize, group: Option<&str>) {
    let step = |i: usize, n: usize| {
        format!("{n}. {}", "Check the advert's registrant, hosting and reuse across job boards. ".repeat(115))
            + &i.to_string()
    };
    for i in 0..n {
        let body = json!({"content": {
            "title": format!("Tracing a recruitment advert, write-up {i}"),
            "objective": "Find who is behind a fake overseas job advert",
            "difficulty": "basic", "tlp": if group.is_some() { "amber" } else { "green" },
            "steps": (1..=7).map(|n| step(i, n)).collect::<Vec<_>>(),
        }, "group": group});
        let r = node.request("POST", "/api/v1/techniques", Some(&node.token)).json(&body);
        assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(300)]);
    }
}

/// Signs the coordinator's edited list with node 0's key (the coordinator's)
/// and installs it there, as docs/operations.md shows.
fn sign_and_publish(net: &TestNetwork) {
    let k = kawan_tests::kawan;
    kawan_tests::run_ok(k().args(["trust", "sign"]).arg(&net.genesis).arg("--key").arg(net.node(0).dir.path()));
    let token = net.node(0).new_token("coordinator");
    kawan_tests::run_ok(net.node(0).cli().env("KAWAN_TOKEN", token).args(["trust", "publish"]).arg(&net.genesis));
}

fn trust_version(node: &TestNode) -> u64 {
    node.request("GET", "/api/v1/trust", Some(&node.token)).call().json()["version"].as_u64().unwrap_or(0)
}

/// Issue #25: a trust-list change starts sync with the peers it concerns at
/// once. Node 0 joins group "mekong", where node 1 already holds 300 large
/// records: they must arrive within seconds of the update, not at the next
/// anti-entropy round (every ~30 s; the last one ran as the nodes connected,
/// so without the exchange the change starts, the wait here is over 15 s).
#[test]
fn a_member_added_to_a_group_gets_its_records_as_soon_as_the_list_is_installed() {
    let net = TestNetwork::start(2, &[("mekong", &[1])]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 1);
    publish_large_techniques(net.node(1), 300, Some("mekong"));
    let held = net.node(1).records();
    assert_eq!(net.node(0).records(), 0, "not in the group yet");

    let k = kawan_tests::kawan;
    kawan_tests::run_ok(k().args(["trust", "group", "add"]).arg(&net.genesis).args(["mekong", "agency-0"]));
    sign_and_publish(&net);
    let installed = std::time::Instant::now();
    net.wait_for(60, "node 0 holds the group's records", |net| net.node(0).records() == held);
    let took = installed.elapsed();
    eprintln!("300 records of ~56 KB stored {:.1} s after the update was installed", took.as_secs_f64());
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}: the change did not start an exchange");
}

/// Issue #25: an agency added a year after the network was founded joins
/// as docs/operations.md says: its card to the coordinators, the version
/// that adds it published, the chain from any member's node, `kawan trust
/// join`; every version is checked from the genesis, and a chain with a
/// version nobody entitled signed is refused before anything is written.
#[test]
fn an_agency_added_later_joins_from_the_chain_and_catches_up() {
    let net = TestNetwork::start(2, &[]);
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() >= 1);
    publish_large_techniques(net.node(1), 40, None);
    let files = tempfile::tempdir().unwrap();
    let genesis = files.path().join("genesis.trust");
    std::fs::copy(&net.genesis, &genesis).unwrap();

    let k = kawan_tests::kawan;
    let newcomer = kawan_tests::init_dir("Agency 9", kawan_tests::free_port());
    let card = files.path().join("agency-9.card");
    kawan_tests::run_ok(k().arg("--dir").arg(newcomer.path()).args(["card", "--id", "agency-9", "--out"]).arg(&card));
    let join = |files: &[&std::path::Path]| {
        k().arg("--dir").arg(newcomer.path()).args(["trust", "join"]).args(files).output().unwrap()
    };

    // The genesis alone does not name it, and says what to ask for.
    let out = join(&[&genesis]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("kawan trust chain"), "{err}");

    // A version signed by someone who is not a coordinator: refused.
    let forged = files.path().join("forged.trust");
    std::fs::copy(&genesis, &forged).unwrap();
    kawan_tests::run_ok(k().args(["trust", "add-member"]).arg(&forged).arg(&card));
    kawan_tests::run_ok(k().args(["trust", "sign"]).arg(&forged).arg("--key").arg(newcomer.path()));
    let out = join(&[&genesis, &forged]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not follow version 1"), "{err}");
    assert!(!newcomer.path().join("genesis.trust").exists(), "nothing pinned after a refusal");

    // The coordinators add it; any member's node exports the chain.
    kawan_tests::run_ok(k().args(["trust", "add-member"]).arg(&net.genesis).arg(&card));
    sign_and_publish(&net);
    net.wait_for(30, "node 1 follows the update", |net| trust_version(net.node(1)) == 2);
    let chain = files.path().join("network.trust");
    let out = net.node(1).cli().args(["trust", "chain", "--out"]).arg(&chain).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("wrote 2 trust lists"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = join(&[&chain]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("trust list v2 (3 members)"), "{said}");
    assert_eq!(
        std::fs::read(newcomer.path().join("genesis.trust")).unwrap(),
        std::fs::read(&genesis).unwrap(),
        "the genesis is what is pinned"
    );

    let newcomer = TestNode::run(newcomer);
    assert_eq!(trust_version(&newcomer), 2);
    let held = net.node(1).records();
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_secs(60);
    while newcomer.records() < held {
        assert!(std::time::Instant::now() < deadline, "the newcomer holds {} of {held}", newcomer.records());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!("the newcomer held {held} records {:.1} s after it started", started.elapsed().as_secs_f64());
}
