//! Sync over a file between real `kawan run` processes that cannot reach
//! each other (issue #25): a bundle carries what sync would, both ways, and
//! nothing else; it is taken in once; a damaged, forged, foreign or
//! misaddressed bundle is refused with a reason and changes nothing.

use kawan_tests::{
    TestNetwork, TestNode,
    fixtures::{green_phone, phone},
};
use serde_json::json;

fn has(n: &TestNode, value: &str) -> bool {
    let q = format!("/api/v1/search?kind=phone&value={}", value.replace('+', "%2B"));
    let r = n.get(&q);
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    !r.json()["hits"].as_array().is_none_or(Vec::is_empty)
}

fn kawan(node: &TestNode, args: &[&str], file: &std::path::Path) -> std::process::Output {
    node.cli().args(args).arg(file).output().unwrap()
}

/// Three members whose nodes never connect; agencies 0 and 2 share "mekong".
fn islands() -> TestNetwork {
    TestNetwork::islands(3, &[("mekong", &[0, 2])])
}

#[test]
fn a_bundle_carries_what_sync_would_both_ways_and_only_once() {
    let net = islands();
    let (a, b) = (net.node(0), net.node(1));
    for i in 0..5 {
        a.publish(green_phone(&phone(800 + i)));
    }
    // A group record agency 1 is not entitled to, and a case: neither travels.
    let secret = phone(850);
    a.publish(
        json!({"kind": "phone", "value": secret, "role": "recruiter_contact", "tlp": "amber", "group": "mekong"}),
    );
    let case = a
        .request("POST", "/api/v1/cases", Some(&a.token))
        .json(&json!({"reference": "CASE-BUNDLE-1", "title": "Victim statement"}));
    assert_eq!(case.status, 201, "{}", case.body);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("to-agency-1.bundle");
    let out = a.cli().args(["bundle", "export", "--for", "agency-1", "--out"]).arg(&file).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("5 records and 1 trust lists"), "{said}");
    let bytes = std::fs::read(&file).unwrap();
    for plain in [b"447700900".as_slice(), b"CASE-BUNDLE", b"recruiter_contact"] {
        assert!(
            !bytes.windows(plain.len()).any(|w| w == plain),
            "the file is encrypted: {:?} readable",
            String::from_utf8_lossy(plain)
        );
    }

    // Damaged in transit: refused, nothing stored.
    let damaged = dir.path().join("damaged.bundle");
    let mut copy = bytes.clone();
    let middle = copy.len() / 2;
    copy[middle] ^= 0x40;
    std::fs::write(&damaged, &copy).unwrap();
    let out = kawan(b, &["bundle", "import"], &damaged);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("damaged"), "{err}");
    assert!(!has(b, &phone(800)), "nothing from a damaged bundle");

    // Carried across the gap: imported once.
    let out = kawan(b, &["bundle", "import"], &file);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("5 new records, 0 already here, 0 refused"), "{said}");
    assert!((0..5).all(|i| has(b, &phone(800 + i))));
    assert!(!has(b, &secret), "a group record never reaches a non-member");
    let out = kawan(b, &["bundle", "import"], &file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("already imported"), "replayed: {err}");

    // Sealed for agency 2: agency 1's node cannot open it.
    let other = dir.path().join("to-agency-2.bundle");
    assert!(a.cli().args(["bundle", "export", "--for", "agency-2", "--out"]).arg(&other).status().unwrap().success());
    let out = kawan(b, &["bundle", "import"], &other);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("sealed for another agency"), "{err}");
    // Agency 2 is in the group: its bundle carries the group record too.
    let c = net.node(2);
    let out = kawan(c, &["bundle", "import"], &other);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(has(c, &secret), "the group record reaches the group's member");

    // And back the other way, with --since leaving older records out.
    b.publish(green_phone(&phone(860)));
    let back = dir.path().join("to-agency-0.bundle");
    let out = b
        .cli()
        .args(["bundle", "export", "--for", "agency-0", "--since", "2020-01-01", "--out"])
        .arg(&back)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kawan(a, &["bundle", "import"], &back);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("1 new records, 5 already here"), "the five it made come back as held: {said}");
    assert!(has(a, &phone(860)));
    let late = dir.path().join("late.bundle");
    let out = b
        .cli()
        .args(["bundle", "export", "--for", "agency-0", "--since", "2999-01-01", "--out"])
        .arg(&late)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 records"), "{}", String::from_utf8_lossy(&out.stdout));

    // Audited on both sides; the nodes never connected.
    let audit = |n: &TestNode, action: &str| {
        n.request("GET", &format!("/api/v1/audit?action={action}"), Some(&n.token))
            .call()
            .json()
            .as_array()
            .map_or(0, Vec::len)
    };
    assert!(audit(a, "bundle.export") >= 2 && audit(b, "bundle.import") >= 1);
    assert!((0..3).all(|i| net.node(i).connected_peers() == 0), "the islands stayed islands");
}

#[test]
fn a_forged_or_foreign_bundle_is_refused() {
    use kawan_protocol::{Bundle, Keypair, NetworkId};
    let net = islands();
    let b = net.node(1);
    let key_of = |i: usize| kawan_node::identity::load(&net.dir(i).join("agency.key")).unwrap().public();
    let (a_key, b_key) = (key_of(0), key_of(1));
    let stranger = Keypair::from_secret_bytes([9; 32]);
    let dir = tempfile::tempdir().unwrap();
    let import = |name: &str, bundle: &Bundle, signer: &Keypair| {
        let (signed, _) = bundle.sign(signer).unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, kawan_node::bundle::seal(&signed, &b_key).unwrap()).unwrap();
        let out = kawan(b, &["bundle", "import"], &path);
        assert!(!out.status.success(), "{name} was accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let bundle = |from| Bundle {
        network: NetworkId::new(kawan_tests::fixtures::NETWORK).unwrap(),
        from,
        to: b_key,
        created_ms: 1_800_000_000_000,
        since_ms: None,
        lists: vec![],
        records: vec![],
    };
    // Anyone can encrypt to a public key: the signature says who made it.
    let err = import("forged.bundle", &bundle(a_key), &stranger);
    assert!(err.contains("signature does not match"), "claims agency 0, signed by a stranger: {err}");
    let err = import("stranger.bundle", &bundle(stranger.public()), &stranger);
    assert!(err.contains("no active member"), "made by a stranger: {err}");
    let elsewhere = Bundle { network: NetworkId::new("kawan-elsewhere").unwrap(), ..bundle(stranger.public()) };
    let err = import("elsewhere.bundle", &elsewhere, &stranger);
    assert!(err.contains("is for network kawan-elsewhere"), "{err}");
    // A forged trust list inside: refused as one from a peer would be.
    let list = kawan_protocol::TrustList {
        attachment_max_bytes: None,
        retention: Some(kawan_protocol::Retention { rules: vec![] }), // fixed dates: nothing reviewed
        decay: None,
        network: NetworkId::new(kawan_tests::fixtures::NETWORK).unwrap(),
        version: 99,
        issued_ms: 1_800_000_000_000,
        threshold: 1,
        members: vec![kawan_protocol::Member {
            id: kawan_protocol::MemberId::new("usurper").unwrap(),
            name: "Usurper".into(),
            country: "TH".parse().unwrap(),
            key: stranger.public(),
            roles: vec![kawan_protocol::MemberRole::Coordinator],
            addrs: vec![],
            expires_ms: None,
            key_from_ms: None,
            retired_keys: vec![],
        }],
        groups: vec![],
    };
    let mut forged_list = kawan_protocol::SignedTrustList::new(&list).unwrap();
    forged_list.sign(&stranger);
    let carrying =
        Bundle { lists: vec![serde_bytes::ByteBuf::from(forged_list.to_bytes())], ..bundle(stranger.public()) };
    let err = import("usurper.bundle", &carrying, &stranger);
    assert!(err.contains("trust list 1 of the bundle was refused"), "{err}");
    let trust = b.request("GET", "/api/v1/trust", Some(&b.token)).call().json();
    assert_ne!(trust["version"], 99, "the list in force is untouched");
    // A member's own bundle carrying a record of a group the importer is
    // not in (a buggy or malicious exporter): that record is refused, as
    // sync refuses it, and the rest of the bundle stands.
    let member = kawan_node::identity::load(&net.dir(0).join("agency.key")).unwrap();
    let mekong = kawan_protocol::Channel::Group(kawan_protocol::GroupId::new("mekong").unwrap());
    let secret = phone(870);
    let body = |tlp| {
        kawan_protocol::Body::Indicator(kawan_tests::fixtures::indicator(kawan_protocol::Kind::Phone, &secret, tlp))
    };
    let group_record = kawan_tests::fixtures::signed_now(&member, mekong, 1, None, body(kawan_protocol::Tlp::Amber));
    let public = phone(871);
    let green = kawan_protocol::Body::Indicator(kawan_tests::fixtures::indicator(
        kawan_protocol::Kind::Phone,
        &public,
        kawan_protocol::Tlp::Green,
    ));
    let network_record = kawan_tests::fixtures::signed_now(&member, kawan_protocol::Channel::Network, 1, None, green);
    let smuggling = Bundle {
        records: [group_record, network_record]
            .iter()
            .map(|v| serde_bytes::ByteBuf::from(v.envelope.to_bytes()))
            .collect(),
        ..bundle(a_key)
    };
    let (signed, _) = smuggling.sign(&member).unwrap();
    let path = dir.path().join("smuggling.bundle");
    std::fs::write(&path, kawan_node::bundle::seal(&signed, &b_key).unwrap()).unwrap();
    let out = kawan(b, &["bundle", "import"], &path);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("1 new records, 0 already here, 1 refused") && said.contains("do not share"), "{said}");
    assert!(has(b, &public) && !has(b, &secret), "the group record was refused, the network one kept");

    let readdressed = Bundle { to: a_key, ..bundle(stranger.public()) };
    let err = import("readdressed.bundle", &readdressed, &stranger);
    assert!(err.contains("names another agency's key"), "{err}");
    let err = {
        let path = dir.path().join("plain.bundle");
        std::fs::write(&path, b"hello").unwrap();
        String::from_utf8_lossy(&kawan(b, &["bundle", "import"], &path).stderr).to_string()
    };
    assert!(err.contains("not a Kawan bundle file"), "{err}");
    // An analyst may not import.
    let analyst = b.new_token("analyst");
    let path = dir.path().join("any.bundle");
    std::fs::write(&path, b"x").unwrap();
    let out = b.cli().env("KAWAN_TOKEN", analyst).args(["bundle", "import"]).arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"), "{}", String::from_utf8_lossy(&out.stderr));
}
