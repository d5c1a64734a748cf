//! Signed envelopes: what a receiver accepts and, above all, what it refuses.

mod common;

use common::*;
use kawan_protocol::{limits::MAX_ENVELOPE_BYTES, *};
use proptest::prelude::*;

#[test]
fn a_signed_record_round_trips_through_bytes() {
    let key = keypair(1);
    let v = signed_phone(&key);
    let bytes = v.envelope.to_bytes();
    let opened = Envelope::from_bytes(&bytes).unwrap().open().unwrap();
    assert_eq!(opened, v);
    assert_eq!(opened.id, RecordId::of(&opened.envelope.signed));
    assert_eq!(opened.envelope.to_bytes(), bytes, "stored bytes are the received bytes");
}

#[test]
fn peeking_reads_the_header_a_full_decode_reads_and_refuses_garbage() {
    let v = signed_phone(&keypair(1));
    assert_eq!(v.envelope.peek_header().unwrap(), v.record.header);
    let garbage = Envelope { signed: b"\xa1\x63foo\x01".to_vec(), sig: v.envelope.sig };
    assert!(garbage.peek_header().is_err());
    let truncated = Envelope { signed: v.envelope.signed[..v.envelope.signed.len() / 2].to_vec(), sig: v.envelope.sig };
    assert!(truncated.peek_header().is_err());
}

#[test]
fn flipping_any_byte_of_an_envelope_is_rejected() {
    let bytes = signed_phone(&keypair(1)).envelope.to_bytes();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            let res = Envelope::from_bytes(&b).and_then(Envelope::open);
            assert!(res.is_err(), "flip {mask:#04x} at byte {i} of {} was accepted", bytes.len());
        }
    }
}

#[test]
fn a_record_signed_by_someone_else_is_rejected() {
    let (alice, mallory) = (keypair(1), keypair(2));
    let mut env = signed_phone(&alice).envelope;
    env.sig = mallory.sign(RECORD_DOMAIN, &env.signed);
    assert_eq!(env.open().unwrap_err(), RecordError::BadSignature);
    // And signing a record whose header names another author is refused up front.
    let rec = record(&alice, 1, None, Channel::Network, Body::Indicator(phone_indicator("+447700900123")));
    assert_eq!(rec.sign(&mallory).unwrap_err(), RecordError::BadSignature);
}

#[test]
fn a_signature_from_another_domain_is_rejected() {
    let key = keypair(1);
    let mut env = signed_phone(&key).envelope;
    env.sig = key.sign(b"kawan/trust/v1", &env.signed);
    assert_eq!(env.open().unwrap_err(), RecordError::BadSignature);
}

#[test]
fn red_and_mismatched_channels_are_rejected() {
    let key = keypair(1);
    let mekong = Channel::Group(GroupId::new("mekong").unwrap());
    let mut ind = phone_indicator("+447700900123");
    ind.tlp = Tlp::Red;
    let rec = record(&key, 1, None, Channel::Network, Body::Indicator(ind.clone()));
    assert_eq!(rec.sign(&key).unwrap_err(), RecordError::Red);
    ind.tlp = Tlp::Amber;
    let rec = record(&key, 1, None, Channel::Network, Body::Indicator(ind.clone()));
    assert!(matches!(rec.sign(&key).unwrap_err(), RecordError::TlpChannel { .. }));
    let ok = record(&key, 1, None, mekong.clone(), Body::Indicator(ind.clone()));
    ok.sign(&key).unwrap();
    ind.tlp = Tlp::Green;
    let rec = record(&key, 1, None, mekong, Body::Indicator(ind));
    assert!(matches!(rec.sign(&key).unwrap_err(), RecordError::TlpChannel { .. }));
}

#[test]
fn a_victims_number_is_never_shared_below_amber() {
    let key = keypair(1);
    let mut ind = phone_indicator("+447700900123");
    ind.subject = Subject::Victim;
    let rec = record(&key, 1, None, Channel::Network, Body::Indicator(ind));
    assert_eq!(rec.sign(&key).unwrap_err(), RecordError::VictimNotAmber);
}

#[test]
fn values_must_already_be_normalised() {
    let key = keypair(1);
    let rec = record(&key, 1, None, Channel::Network, Body::Indicator(phone_indicator("+44 7700 900123")));
    assert!(matches!(rec.sign(&key).unwrap_err(), RecordError::NotNormal(_)));
}

#[test]
fn log_links_are_checked() {
    let key = keypair(1);
    let body = Body::Indicator(phone_indicator("+447700900123"));
    let bad = [(0, None), (1, Some(RecordId([1; 32]))), (2, None)];
    for (seq, prev) in bad {
        assert!(record(&key, seq, prev, Channel::Network, body.clone()).sign(&key).is_err(), "seq {seq}");
    }
    record(&key, 2, Some(RecordId([1; 32])), Channel::Network, body).sign(&key).unwrap();
}

#[test]
fn field_rules_are_enforced() {
    let key = keypair(1);
    let mut ind = phone_indicator("+447700900123");
    ind.confidence = 101;
    assert_eq!(
        record(&key, 1, None, Channel::Network, Body::Indicator(ind)).sign(&key).unwrap_err(),
        RecordError::Confidence(101)
    );
    let mut ind = phone_indicator("+447700900123");
    (ind.first_seen, ind.last_seen) = (Some(2), Some(1));
    assert_eq!(
        record(&key, 1, None, Channel::Network, Body::Indicator(ind)).sign(&key).unwrap_err(),
        RecordError::SeenOrder
    );
    let mut ind = phone_indicator("+447700900123");
    ind.tags = vec!["t".into(); 65];
    assert!(matches!(
        record(&key, 1, None, Channel::Network, Body::Indicator(ind)).sign(&key).unwrap_err(),
        RecordError::ListTooLong { .. }
    ));
    let mut ind = phone_indicator("+447700900123");
    ind.platform = Some("myspace".into());
    assert!(matches!(
        record(&key, 1, None, Channel::Network, Body::Indicator(ind)).sign(&key).unwrap_err(),
        RecordError::Platform(_)
    ));
}

#[test]
fn oversized_envelopes_are_rejected_before_decoding() {
    let huge = vec![0u8; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(Envelope::from_bytes(&huge).unwrap_err(), RecordError::Envelope(CborError::TooLarge { .. })));
}

#[test]
fn an_oversized_string_inside_the_signed_part_is_rejected() {
    let key = keypair(1);
    let mut ind = phone_indicator("+447700900123");
    ind.description = Some("x".repeat(9000));
    let rec = record(&key, 1, None, Channel::Network, Body::Indicator(ind));
    // The author's own check refuses it…
    assert!(matches!(rec.sign(&key).unwrap_err(), RecordError::FieldTooLong { .. }));
    // …and so does a receiver facing a hand-made envelope carrying it.
    let signed = rec.to_signed_bytes().unwrap();
    let env = Envelope { sig: key.sign(RECORD_DOMAIN, &signed), signed };
    let err = Envelope::from_bytes(&env.to_bytes()).unwrap().open().unwrap_err();
    assert!(matches!(err, RecordError::Signed(CborError::StringTooLong { .. })), "{err}");
}

#[test]
fn unknown_fields_and_non_canonical_encodings_are_rejected() {
    let key = keypair(1);
    let v = signed_phone(&key);
    // Re-encode the signed part through a generic value with an extra field.
    let mut value: ciborium::Value = ciborium::from_reader(v.envelope.signed.as_slice()).unwrap();
    if let ciborium::Value::Map(entries) = &mut value {
        entries.push((ciborium::Value::Text("case_ref".into()), ciborium::Value::Text("CASE-1".into())));
    }
    let mut signed = Vec::new();
    ciborium::into_writer(&value, &mut signed).unwrap();
    let env = Envelope { sig: key.sign(RECORD_DOMAIN, &signed), signed };
    assert!(matches!(env.open().unwrap_err(), RecordError::Signed(_)));

    // An envelope framed with a non-minimal length is refused even though its
    // contents are fine: one record, one encoding, one id.
    let good = v.envelope.to_bytes();
    assert_eq!(good[0], 0xa2, "a map of two entries");
    let mut padded = vec![0xb8, 0x02]; // map(2) with a one-byte length
    padded.extend_from_slice(&good[1..]);
    assert!(Envelope::from_bytes(&padded).is_err());
}

#[test]
fn revisions_sightings_and_retractions_sign_and_open() {
    let key = keypair(1);
    let first = signed_phone(&key);
    let mut ind = phone_indicator("+447700900123");
    ind.confidence = 95;
    let rev = Body::Revision(Revision { supersedes: first.id, content: Content::Indicator(ind) });
    let rev = record(&key, 2, Some(first.id), Channel::Network, rev).sign(&key).unwrap();
    let ret = Body::Retraction(Retraction { target: first.id, reason: "number reassigned".into() });
    let ret = record(&key, 3, Some(rev.id), Channel::Network, ret).sign(&key).unwrap();
    let other = keypair(2);
    let sight = Body::Sighting(Sighting {
        attachments: vec![],
        target: first.id,
        verdict: Verdict::Corroborates,
        seen_ms: Some(1_764_000_000_000),
        countries: vec!["MM".parse().unwrap()],
        comment: None,
    });
    let sight = record(&other, 1, None, Channel::Network, sight).sign(&other).unwrap();
    for v in [rev, ret, sight] {
        let again = Envelope::from_bytes(&v.envelope.to_bytes()).unwrap().open().unwrap();
        assert_eq!(again, v);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Envelope::from_bytes(&bytes).and_then(Envelope::open);
        let _ = Message::from_bytes(&bytes);
        let _ = SignedTrustList::from_bytes(&bytes);
    }

    #[test]
    fn every_truncation_is_rejected(cut in 0usize..10_000) {
        let bytes = signed_phone(&keypair(1)).envelope.to_bytes();
        let cut = cut % bytes.len();
        prop_assert!(Envelope::from_bytes(&bytes[..cut]).and_then(Envelope::open).is_err());
    }

    #[test]
    fn arbitrary_signed_parts_with_a_valid_signature_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        // A real member signing garbage must not crash its peers either.
        let key = keypair(1);
        let env = Envelope { sig: key.sign(RECORD_DOMAIN, &bytes), signed: bytes };
        prop_assert!(env.open().is_err());
    }

    #[test]
    fn mutated_envelopes_never_panic(pos in 0usize..10_000, byte in any::<u8>()) {
        let mut bytes = signed_phone(&keypair(1)).envelope.to_bytes();
        let pos = pos % bytes.len();
        let changed = bytes[pos] != byte;
        bytes[pos] = byte;
        let res = Envelope::from_bytes(&bytes).and_then(Envelope::open);
        prop_assert!(!changed || res.is_err());
    }
}

#[test]
fn batch_opening_isolates_the_bad_record() {
    let keys: Vec<_> = (1..=8).map(keypair).collect();
    let mut envs: Vec<Envelope> = keys.iter().map(|k| signed_phone(k).envelope).collect();
    let all = open_batch(envs.clone());
    assert!(all.iter().all(Result::is_ok));
    envs[5].sig = keys[0].sign(RECORD_DOMAIN, &envs[5].signed); // forged
    envs[2].signed.push(0); // trailing byte
    let res = open_batch(envs.clone());
    for (i, r) in res.iter().enumerate() {
        match i {
            5 => assert_eq!(r.as_ref().unwrap_err(), &RecordError::BadSignature),
            2 => assert!(matches!(r, Err(RecordError::Signed(_)))),
            _ => assert_eq!(r.as_ref().unwrap().envelope, envs[i], "record {i} survives"),
        }
    }
    assert!(open_batch(vec![]).is_empty());
}
