//! The test vectors published in docs/protocol.md. If the wire format drifts,
//! these fail: the document is the specification a second implementation
//! is written from.
//!
//! To regenerate after a *deliberate* format change (bump `v` first):
//! `KAWAN_PRINT_VECTORS=1 cargo test -p kawan-protocol --test vectors -- --nocapture`

use std::collections::BTreeMap;

use ciborium::Value;
use kawan_protocol::*;

const SPEC: &str = include_str!("../../docs/protocol.md");

fn secret() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn key() -> Keypair {
    Keypair::from_secret_bytes(secret())
}

fn network() -> NetworkId {
    NetworkId::new("kawan-example").unwrap()
}

fn header(seq: u64, prev: Option<RecordId>) -> Header {
    Header {
        v: 1,
        network: network(),
        channel: Channel::Network,
        author: key().public(),
        seq,
        prev,
        created_ms: 1_764_547_200_000,
    }
}

fn record_1() -> Record {
    Record {
        header: header(1, None),
        body: Body::Indicator(Indicator {
            evaluation: None,
            handling: None,
            review_ms: None,
            kind: Kind::Phone,
            value: "+447700900123".into(),
            role: IndicatorRole::RecruiterContact,
            subject: Subject::Suspect,
            confidence: 80,
            basis: Basis::Fact,
            tlp: Tlp::Green,
            first_seen: Some(1_764_460_800_000),
            last_seen: None,
            valid_until: None,
            platform: Some("whatsapp".into()),
            countries: vec!["KH".parse().unwrap()],
            typologies: vec![],
            tags: vec!["fake-job".into()],
            description: None,
        }),
    }
}

fn record_2(prev: RecordId) -> Record {
    Record {
        header: header(2, Some(prev)),
        body: Body::Retraction(Retraction { target: prev, reason: "number reassigned".into() }),
    }
}

fn trust_list() -> TrustList {
    TrustList {
        attachment_max_bytes: None,
        retention: None,
        decay: None,
        network: network(),
        version: 1,
        issued_ms: 1_764_547_200_000,
        threshold: 1,
        members: vec![Member {
            id: MemberId::new("uk-example").unwrap(),
            name: "Example Agency".into(),
            country: "GB".parse().unwrap(),
            key: key().public(),
            roles: vec![MemberRole::Coordinator],
            addrs: vec![],
            expires_ms: None,
            key_from_ms: None,
            retired_keys: vec![],
        }],
        groups: vec![],
    }
}

/// A record written by a newer node: built as raw CBOR, as this
/// implementation can read but never write it.
fn future(seq: u64, prev: RecordId, v: u64, extra_header: &[(&str, Value)], body: Value) -> Envelope {
    let text = |s: &str| Value::Text(s.into());
    let mut header = vec![
        (text("v"), Value::Integer(v.into())),
        (text("network"), text("kawan-example")),
        (text("channel"), text("network")),
        (text("author"), Value::Bytes(key().public().0.to_vec())),
        (text("seq"), Value::Integer(seq.into())),
        (text("prev"), Value::Bytes(prev.0.to_vec())),
        (text("created_ms"), Value::Integer(1_764_547_200_000u64.into())),
    ];
    header.extend(extra_header.iter().map(|(k, v)| (text(k), v.clone())));
    let record = Value::Map(vec![(text("header"), Value::Map(header)), (text("body"), body)]);
    let signed = cbor::encode(&record).unwrap();
    let sig = key().sign(RECORD_DOMAIN, &signed);
    Envelope { signed, sig }
}

/// The three future records of the spec, after `record-2` (whose id is `prev`).
fn futures(prev: RecordId) -> [(&'static str, Envelope, &'static str, Newer); 3] {
    let text = |s: &str| Value::Text(s.into());
    let map = |entries: Vec<(&str, Value)>| Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect());
    let family = future(
        3,
        prev,
        1,
        &[],
        map(vec![("future_family", map(vec![("platform", text("example")), ("note", text("from a newer node"))]))]),
    );
    let indicator = |extra: Vec<(&str, Value)>| {
        let mut fields = vec![
            ("kind", text("domain")),
            ("value", text("jobs-abroad.example")),
            ("role", text("job_ad")),
            ("subject", text("suspect")),
            ("confidence", Value::Integer(70.into())),
            ("basis", text("fact")),
            ("tlp", text("green")),
        ];
        fields.extend(extra);
        map(vec![("indicator", map(fields))])
    };
    let fields = future(4, family.id(), 1, &[], indicator(vec![("risk_score", Value::Integer(7.into()))]));
    let version = future(5, fields.id(), 2, &[("lane", text("priority"))], indicator(vec![]));
    [
        ("future-family", family, "future_family", Newer::Family),
        ("future-fields", fields, "indicator", Newer::Fields(vec!["risk_score".into()])),
        ("future-version", version, "indicator", Newer::Version(2)),
    ]
}

/// `name -> (field -> value)` from every ```vector block of the spec.
fn spec_vectors() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for block in SPEC.split("```vector").skip(1) {
        let body = block.split("```").next().unwrap_or("");
        let fields: BTreeMap<String, String> = body
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        out.insert(fields["name"].clone(), fields);
    }
    out
}

fn computed() -> BTreeMap<String, BTreeMap<String, String>> {
    let k = key();
    let mut out = BTreeMap::new();
    let v1 = record_1().sign(&k).unwrap();
    let v2 = record_2(v1.id).sign(&k).unwrap();
    for (name, v) in [("record-1", &v1), ("record-2", &v2)] {
        let f = BTreeMap::from([
            ("name".to_string(), name.to_string()),
            ("secret_key".into(), hex::encode(secret())),
            ("public_key".into(), k.public().to_string()),
            ("signed".into(), hex::encode(&v.envelope.signed)),
            ("id".into(), v.id.to_string()),
            ("sig".into(), v.envelope.sig.to_string()),
            ("envelope".into(), hex::encode(v.envelope.to_bytes())),
        ]);
        out.insert(name.to_string(), f);
    }
    for (name, e, family, newer) in futures(v2.id) {
        let f = BTreeMap::from([
            ("name".to_string(), name.to_string()),
            ("secret_key".into(), hex::encode(secret())),
            ("signed".into(), hex::encode(&e.signed)),
            ("id".into(), e.id().to_string()),
            ("envelope".into(), hex::encode(e.to_bytes())),
            ("reads_as".into(), format!("{family}: {newer}")),
        ]);
        out.insert(name.to_string(), f);
    }
    let mut t = SignedTrustList::new(&trust_list()).unwrap();
    t.sign(&k);
    out.insert(
        "trust-1".into(),
        BTreeMap::from([
            ("name".to_string(), "trust-1".to_string()),
            ("secret_key".into(), hex::encode(secret())),
            ("body".into(), hex::encode(&t.body)),
            ("sig".into(), t.sigs[0].sig.to_string()),
            ("signed_list".into(), hex::encode(t.to_bytes())),
        ]),
    );
    out
}

#[test]
fn spec_vectors_match_this_implementation() {
    let computed = computed();
    if std::env::var_os("KAWAN_PRINT_VECTORS").is_some() {
        for fields in computed.values() {
            println!("```vector\nname: {}", fields["name"]);
            for (k, v) in fields.iter().filter(|(k, _)| *k != "name") {
                println!("{k}: {v}");
            }
            println!("```\n");
        }
    }
    let spec = spec_vectors();
    assert_eq!(spec.keys().collect::<Vec<_>>(), computed.keys().collect::<Vec<_>>(), "vector names");
    for (name, fields) in &computed {
        assert_eq!(&spec[name], fields, "vector {name} differs from docs/protocol.md");
    }
}

#[test]
fn spec_envelopes_open_and_decode_to_the_documented_records() {
    let spec = spec_vectors();
    let v1 = Envelope::from_bytes(&hex::decode(&spec["record-1"]["envelope"]).unwrap()).unwrap().open().unwrap();
    assert_eq!(v1.record, record_1());
    assert_eq!(v1.id.to_string(), spec["record-1"]["id"]);
    let v2 = Envelope::from_bytes(&hex::decode(&spec["record-2"]["envelope"]).unwrap()).unwrap().open().unwrap();
    assert_eq!(v2.record, record_2(v1.id));
    let t = SignedTrustList::from_bytes(&hex::decode(&spec["trust-1"]["signed_list"]).unwrap()).unwrap();
    assert_eq!(t.verify_genesis().unwrap(), trust_list());
}

#[test]
fn future_records_open_as_of_a_newer_kind_and_keep_their_bytes() {
    let spec = spec_vectors();
    let v2 = record_2(record_1().sign(&key()).unwrap().id).sign(&key()).unwrap();
    for (name, _, family, newer) in futures(v2.id) {
        let bytes = hex::decode(&spec[name]["envelope"]).unwrap();
        let v = Envelope::from_bytes(&bytes).unwrap().open().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.record.body, Body::Unknown(Unknown { family: family.into(), newer }), "{name}");
        assert_eq!(v.id.to_string(), spec[name]["id"], "{name}");
        assert_eq!(v.envelope.to_bytes(), bytes, "{name}: kept exactly as signed");
        assert!(v.record.sign(&key()).is_err(), "{name}: never signed here");
    }
}

#[test]
fn malformed_records_are_not_mistaken_for_newer_ones() {
    let text = |s: &str| Value::Text(s.into());
    let prev = record_1().sign(&key()).unwrap().id;
    // A known family missing a required field, even with a new field beside it.
    let missing = Value::Map(vec![(
        text("indicator"),
        Value::Map(vec![(text("kind"), text("domain")), (text("risk_score"), Value::Integer(7.into()))]),
    )]);
    // A body that is not a one-entry map, and a version-0 header.
    for (what, e) in [
        ("missing field", future(2, prev, 1, &[], missing)),
        ("two families", future(2, prev, 1, &[], Value::Map(vec![(text("a"), text("x")), (text("b"), text("y"))]))),
        ("version 0", future(2, prev, 0, &[], Value::Map(vec![(text("future_family"), text("x"))]))),
    ] {
        assert!(e.clone().open().is_err(), "{what} was accepted");
    }
}

#[test]
fn a_value_no_node_knows_reads_as_newer() {
    let text = |s: &str| Value::Text(s.into());
    let prev = record_1().sign(&key()).unwrap().id;
    let fields = [
        ("kind", text("domain")),
        ("value", text("jobs-abroad.example")),
        ("role", text("recruiter_bot")),
        ("subject", text("suspect")),
        ("confidence", Value::Integer(70.into())),
        ("basis", text("fact")),
        ("tlp", text("green")),
    ];
    let body =
        Value::Map(vec![(text("indicator"), Value::Map(fields.into_iter().map(|(k, v)| (text(k), v)).collect()))]);
    let v = future(2, prev, 1, &[], body).open().unwrap();
    assert_eq!(v.record.body, Body::Unknown(Unknown { family: "indicator".into(), newer: Newer::Value }));
}
