//! Builders shared by the protocol tests.
#![allow(dead_code)]

use kawan_protocol::*;

pub fn keypair(n: u8) -> Keypair {
    Keypair::from_secret_bytes([n; 32])
}

pub fn network() -> NetworkId {
    NetworkId::new("kawan-test").unwrap()
}

pub fn phone_indicator(value: &str) -> Indicator {
    Indicator {
        evaluation: None,
        handling: None,
        review_ms: None,
        kind: Kind::Phone,
        value: value.into(),
        role: IndicatorRole::RecruiterContact,
        subject: Subject::Suspect,
        confidence: 80,
        basis: Basis::Fact,
        tlp: Tlp::Green,
        first_seen: None,
        last_seen: None,
        valid_until: None,
        platform: Some("whatsapp".into()),
        countries: vec!["TH".parse().unwrap(), "KH".parse().unwrap()],
        typologies: vec![],
        tags: vec!["fake-job".into()],
        description: Some("Fictional recruiter number.".into()),
    }
}

pub fn record(key: &Keypair, seq: u64, prev: Option<RecordId>, channel: Channel, body: Body) -> Record {
    Record {
        header: Header {
            v: 1,
            network: network(),
            channel,
            author: key.public(),
            seq,
            prev,
            created_ms: 1_764_000_000_000,
        },
        body,
    }
}

pub fn signed_phone(key: &Keypair) -> Verified {
    record(key, 1, None, Channel::Network, Body::Indicator(phone_indicator("+447700900123"))).sign(key).unwrap()
}
