//! Handling codes, evaluations and review dates on signed records.

mod common;

use common::*;
use kawan_protocol::*;

fn with_processing(review_ms: Option<u64>, handling: Option<Handling>) -> Record {
    let mut i = phone_indicator("+447700900123");
    i.review_ms = review_ms;
    i.handling = handling;
    i.evaluation = Some("B2".parse().unwrap());
    record(&keypair(1), 1, None, Channel::Network, Body::Indicator(i))
}

#[test]
fn review_date_handling_and_evaluation_are_signed_and_read_back() {
    let handling = Handling { no_onward: true, other: Some("not for civil proceedings".into()), ..Handling::default() };
    let v = with_processing(Some(1_800_000_000_000), Some(handling.clone())).sign(&keypair(1)).unwrap();
    let back = Envelope::from_bytes(&v.envelope.to_bytes()).unwrap().open().unwrap();
    let c = back.record.body.content().unwrap();
    assert_eq!(c.review_ms(), Some(1_800_000_000_000));
    assert_eq!(c.handling(), Some(&handling));
    assert_eq!(c.evaluation().map(|e| e.to_string()).as_deref(), Some("B2"));
    assert_eq!(handling.codes(), ["H2", "H3"]);
}

#[test]
fn a_record_without_them_encodes_exactly_as_before() {
    // Older nodes (and this wave's vectors) read such a record unchanged:
    // the fields are omitted, not written empty.
    let mut r = with_processing(None, None);
    let Body::Indicator(i) = &mut r.body else { unreachable!() };
    i.evaluation = None;
    let bytes = r.to_signed_bytes().unwrap();
    for name in ["review_ms", "handling", "evaluation"] {
        assert!(!bytes.windows(name.len()).any(|w| w == name.as_bytes()), "{name} written while absent");
    }
}

#[test]
fn an_empty_handling_is_refused_rather_than_meaning_nothing_restricted() {
    let err = with_processing(None, Some(Handling::default())).sign(&keypair(1)).unwrap_err();
    assert_eq!(err, RecordError::EmptyField("handling"));
}

#[test]
fn an_evaluation_outside_the_four_by_four_is_malformed() {
    // Hand-build the CBOR a careless implementation might send: "b5".
    let v = with_processing(None, None).sign(&keypair(1)).unwrap();
    let mut signed = v.envelope.signed.clone();
    let at = signed.windows(2).position(|w| w == b"B2").unwrap();
    signed[at..at + 2].copy_from_slice(b"B5");
    let sig = keypair(1).sign(RECORD_DOMAIN, &signed);
    let env = Envelope { signed, sig };
    assert!(env.open().is_err(), "B5 is no evaluation");
}
