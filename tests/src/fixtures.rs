//! Fictional agencies, networks and indicators for tests. Phone numbers come
//! from the UK's 07700 900xxx drama range; domains end in `.example`.

use kawan_protocol::*;

pub const NETWORK: &str = "kawan-test";

pub fn network() -> NetworkId {
    NetworkId::new(NETWORK).expect("valid id")
}

/// Agency `n`'s key (deterministic, for tests only).
pub fn agency(n: u8) -> Keypair {
    Keypair::from_secret_bytes([n; 32])
}

/// A UK drama-range number, `+447700900000 + n`.
pub fn phone(n: u16) -> String {
    format!("+447700900{:03}", n % 1000)
}

pub fn indicator(kind: Kind, value: &str, tlp: Tlp) -> Indicator {
    Indicator {
        subject: Subject::Suspect,
        confidence: 70,
        basis: Basis::Fact,
        ..Indicator::new(kind, value, IndicatorRole::RecruiterContact, tlp)
    }
}

pub fn phone_body(n: u16) -> Body {
    Body::Indicator(indicator(Kind::Phone, &phone(n), Tlp::Green))
}

/// The API's JSON body for a GREEN recruiter-contact phone number (for
/// [`crate::TestNode::publish`]).
pub fn green_phone(value: &str) -> serde_json::Value {
    serde_json::json!({"kind": "phone", "value": value, "role": "recruiter_contact", "tlp": "green"})
}

/// A member entry for agency `n`.
pub fn member(n: u8, coordinator: bool) -> Member {
    Member {
        id: MemberId::new(format!("agency-{n}")).expect("valid id"),
        name: format!("Agency {n}"),
        country: "TH".parse().expect("country"),
        key: agency(n).public(),
        roles: if coordinator { vec![MemberRole::Coordinator] } else { vec![MemberRole::Member] },
        addrs: vec![],
        expires_ms: None,
        key_from_ms: None,
        retired_keys: vec![],
    }
}

/// A trust list of `members` (agency 1 is the sole coordinator, threshold 1)
/// with the given groups of agency numbers, signed by agency 1. Its
/// retention policy reviews nothing: these fixtures sign records at fixed
/// dates in the past, which the default policy would expire by now (tests
/// of expiry name their policy: [`trust_list_with`]).
pub fn trust_list(version: u64, members: &[u8], groups: &[(&str, &[u8])]) -> SignedTrustList {
    trust_list_with(version, members, groups, Retention { rules: vec![] })
}

/// [`trust_list`] with a retention policy.
pub fn trust_list_with(
    version: u64,
    members: &[u8],
    groups: &[(&str, &[u8])],
    retention: Retention,
) -> SignedTrustList {
    trust_list_full(version, members, groups, retention, DecayPolicy::never())
}

/// [`trust_list_with`] with a decay policy too (the others: scores that
/// never count as decayed, so fixtures signed long ago stay in searches).
pub fn trust_list_full(
    version: u64,
    members: &[u8],
    groups: &[(&str, &[u8])],
    retention: Retention,
    decay: DecayPolicy,
) -> SignedTrustList {
    let list = TrustList {
        attachment_max_bytes: None,
        retention: Some(retention),
        decay: Some(decay),
        network: network(),
        version,
        issued_ms: 1_764_000_000_000,
        threshold: 1,
        members: members.iter().map(|n| member(*n, *n == 1)).collect(),
        groups: groups
            .iter()
            .map(|(id, ms)| Group {
                id: GroupId::new(*id).expect("valid id"),
                name: id.to_string(),
                members: ms.iter().map(|n| member(*n, false).id).collect(),
            })
            .collect(),
    };
    let mut signed = SignedTrustList::new(&list).expect("well-formed list");
    signed.sign(&agency(1));
    signed
}

/// Signs a record by `key` at `seq` of its log on `channel`.
pub fn signed(key: &Keypair, channel: Channel, seq: u64, prev: Option<RecordId>, body: Body) -> Verified {
    signed_at(key, channel, seq, prev, body, 1_764_000_000_000 + seq)
}

/// [`signed`], made now by the wall clock: for nodes that run on it under
/// the default retention policy (which would expire the fixed dates).
pub fn signed_now(key: &Keypair, channel: Channel, seq: u64, prev: Option<RecordId>, body: Body) -> Verified {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    signed_at(key, channel, seq, prev, body, now)
}

/// [`signed`] at a chosen creation time (Unix ms).
pub fn signed_at(
    key: &Keypair,
    channel: Channel,
    seq: u64,
    prev: Option<RecordId>,
    body: Body,
    created_ms: u64,
) -> Verified {
    Record { header: Header { v: 1, network: network(), channel, author: key.public(), seq, prev, created_ms }, body }
        .sign(key)
        .expect("valid record")
}

/// A chain of `n` phone indicators by `key` on the network channel.
pub fn chain(key: &Keypair, n: u16, first_phone: u16) -> Vec<Verified> {
    let mut out: Vec<Verified> = Vec::new();
    for i in 0..n {
        let prev = out.last().map(|v| v.id);
        out.push(signed(key, Channel::Network, u64::from(i) + 1, prev, phone_body(first_phone + i)));
    }
    out
}

/// A record of a body family no node knows (`future_family`), signed by
/// `key` at `seq` of its network log, as a newer node would write it: raw
/// CBOR, since this implementation never encodes one.
pub fn future_record(key: &Keypair, seq: u64, prev: Option<RecordId>) -> Vec<u8> {
    use ciborium::Value;
    let t = |s: &str| Value::Text(s.into());
    let header = Value::Map(vec![
        (t("v"), Value::Integer(1.into())),
        (t("network"), t(NETWORK)),
        (t("channel"), t("network")),
        (t("author"), Value::Bytes(key.public().0.to_vec())),
        (t("seq"), Value::Integer(seq.into())),
        (t("prev"), prev.map_or(Value::Null, |p| Value::Bytes(p.0.to_vec()))),
        (t("created_ms"), Value::Integer(1_764_000_000_000u64.into())),
    ]);
    let body = Value::Map(vec![(
        t("future_family"),
        Value::Map(vec![(t("platform"), t("example")), (t("note"), t("written by a newer node"))]),
    )]);
    let signed = cbor::encode(&Value::Map(vec![(t("header"), header), (t("body"), body)])).expect("encodes");
    let sig = key.sign(RECORD_DOMAIN, &signed);
    Envelope { signed, sig }.to_bytes()
}

/// One log of `n` GREEN job-ad domains by `key` (benchmarks' bulk data).
pub fn job_ad_chain(key: &Keypair, n: usize) -> Vec<Verified> {
    let mut out: Vec<Verified> = Vec::with_capacity(n);
    for i in 0..n {
        let rec = Record {
            header: Header {
                v: 1,
                network: network(),
                channel: Channel::Network,
                author: key.public(),
                seq: i as u64 + 1,
                prev: out.last().map(|v| v.id),
                created_ms: 1_764_000_000_000 + i as u64,
            },
            body: Body::Indicator(Indicator {
                subject: Subject::Suspect,
                confidence: 60,
                basis: Basis::Fact,
                ..Indicator::new(
                    Kind::Domain,
                    format!("recruit-{i}.jobs-abroad.example"),
                    IndicatorRole::JobAd,
                    Tlp::Green,
                )
            }),
        };
        out.push(rec.sign(key).unwrap());
    }
    out
}
