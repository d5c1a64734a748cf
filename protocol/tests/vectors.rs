//! The test vectors published in docs/protocol.md. If the wire format drifts,
//! these fail: the document is the specification a second implementation
//! is written from.
//!
//! To regenerate after a *deliberate* format change (bump `v` first):
//! `KAWAN_PRINT_VECTORS=1 cargo test -p kawan-protocol --test vectors -- --nocapture`

use std::collections::BTreeMap;

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
