//! Confidence that decays with evidence, on the injected clock: a phone
//! number's score halves every 90 days; below the network's floor it
//! leaves default searches and alerts (still shown, marked, when asked
//! for or looked up); another agency's sighting restarts it; a pin holds
//! it; and every node computes the same score from the same records.

use std::time::Duration;

use kawan_protocol::{Body, Channel, DecayPolicy, Retention, Sighting, Verdict};
use kawan_tests::{
    app::{App, START_MS},
    fixtures,
};
use serde_json::json;

const DAY: Duration = Duration::from_secs(86_400);

/// Agency `n`'s node in a network of agencies 1–3 under the default decay
/// policy, its clock at `START_MS`.
fn node(n: u8) -> App {
    let app = App::named(&format!("Agency {n}"), "TH", fixtures::agency(n));
    let list = fixtures::trust_list_full(1, &[1, 2, 3], &[], Retention { rules: vec![] }, DecayPolicy::default());
    app.svc.data().store.install_genesis(&list).expect("genesis");
    app
}

fn phones(app: &App, extra: &str) -> Vec<serde_json::Value> {
    app.get_json(&format!("/api/v1/search?kind=phone{extra}"))["hits"].as_array().expect("hits").clone()
}

#[test]
fn scores_decay_sightings_restart_them_pins_hold_them_and_every_node_agrees() {
    let a = node(2);
    let published = a.post_ok(
        "/api/v1/indicators",
        json!({"kind": "phone", "value": "+44 7700 900181", "role": "recruiter_contact", "tlp": "green", "confidence": 80}),
    );
    let id = published["id"].as_str().unwrap().to_string();
    let hits = phones(&a, "");
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0]["score"]["now"].as_u64(), hits[0]["score"]["decayed"].as_bool()), (Some(80), Some(false)));
    assert_eq!(hits[0]["score"]["half_life_days"], 90);

    // 90 days: half. 181 days: below the floor of 20, out of default searches.
    a.clock.advance(90 * DAY);
    assert_eq!(phones(&a, "")[0]["score"]["now"], 40);
    a.clock.advance(91 * DAY);
    assert!(phones(&a, "").is_empty(), "a decayed value leaves default searches");
    let asked = phones(&a, "&include_decayed=true");
    assert_eq!((asked.len(), asked[0]["score"]["decayed"].as_bool()), (1, Some(true)), "{asked:?}");
    assert!(asked[0]["score"]["now"].as_u64().unwrap() < 20);
    // A lookup still answers, marked decayed: an analyst checking a value must know.
    let looked = a.post_ok("/api/v1/lookup", json!({"values": [{"kind": "phone", "value": "+447700900181"}]}));
    assert_eq!(looked["results"][0]["hits"][0]["score"]["decayed"], true, "{looked}");

    // Agency 3 sights it now: the clock restarts on every node.
    let target = id.parse().unwrap();
    let sighting = Body::Sighting(Sighting {
        attachments: vec![],
        target,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    });
    let now = START_MS + 181 * 86_400_000;
    let signed = fixtures::signed_at(&fixtures::agency(3), Channel::Network, 1, None, sighting, now);
    a.svc.data().store.ingest(&signed.envelope.to_bytes()).expect("the sighting is stored");
    let hits = phones(&a, "");
    assert_eq!((hits.len(), hits[0]["score"]["now"].as_u64()), (1, Some(80)), "a sighting restarts it: {hits:?}");

    // A hostile sighting dated at the end of time neither hangs the node
    // nor keeps the value alive: evidence counts from when it was signed.
    let forever = Body::Sighting(Sighting {
        attachments: vec![],
        target,
        verdict: Verdict::StillOnline,
        seen_ms: Some(u64::MAX),
        countries: vec![],
        comment: None,
    });
    let hostile = fixtures::signed_at(&fixtures::agency(3), Channel::Network, 2, Some(signed.id), forever, START_MS);
    a.svc.data().store.ingest(&hostile.envelope.to_bytes()).expect("stored");
    assert_eq!(phones(&a, "")[0]["score"]["latest_evidence_ms"], now, "the later, honest sighting stands");

    // Every node computes the same score from the same records.
    let b = node(3);
    b.clock.set(START_MS);
    let original = a.svc.data().store.get(&target).unwrap().expect("stored");
    b.svc.data().store.ingest(&original.envelope.to_bytes()).expect("the indicator reaches B");
    b.svc.data().store.ingest(&signed.envelope.to_bytes()).expect("the sighting reaches B");
    b.svc.data().store.ingest(&hostile.envelope.to_bytes()).expect("and the hostile one");
    for days in [0u64, 45, 200, 400] {
        let at = now + days * 86_400_000;
        a.clock.set(at);
        b.clock.set(at);
        let (sa, sb) = (phones(&a, "&include_decayed=true"), phones(&b, "&include_decayed=true"));
        assert_eq!(sa[0]["score"], sb[0]["score"], "day {days}: both nodes agree");
    }

    // 400 days after the sighting it has decayed; a pin holds it, and is the agency's own.
    assert!(phones(&a, "").is_empty());
    let pin = a.send(
        "PUT",
        &format!("/api/v1/indicators/{id}/pin"),
        Some(&a.analyst),
        Some(&json!({"score": 70, "note": "seen in case 17"})),
    );
    assert_eq!(pin.status.as_u16(), 200, "{}", pin.body);
    let hits = phones(&a, "");
    assert_eq!(
        (hits.len(), hits[0]["score"]["now"].as_u64(), hits[0]["score"]["decayed"].as_bool()),
        (1, Some(70), Some(false))
    );
    assert!(phones(&b, "").is_empty(), "a pin is not shared");
    let unpinned = a.send("DELETE", &format!("/api/v1/indicators/{id}/pin"), Some(&a.analyst), None);
    assert_eq!(unpinned.status.as_u16(), 200, "{}", unpinned.body);
    assert!(phones(&a, "").is_empty(), "without the pin, decay applies again");
    // Bad pins are refused clearly.
    let bad = a.send("PUT", &format!("/api/v1/indicators/{id}/pin"), Some(&a.analyst), Some(&json!({"score": 101})));
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);
    let none = a.send("PUT", "/api/v1/indicators/00/pin", Some(&a.analyst), Some(&json!({})));
    assert_eq!(none.status.as_u16(), 400, "{}", none.body);
}

/// A value that decayed raises no alert for its watchers; a live one does.
#[test]
fn decayed_values_raise_no_alerts() {
    let a = node(2);
    a.post_ok("/api/v1/watchlist", json!({"kind": "phone", "value": "+447700900182"}));
    a.post_ok("/api/v1/watchlist", json!({"kind": "phone", "value": "+447700900183"}));
    let indicator = |value: &str, confidence: u8| {
        Body::Indicator(kawan_protocol::Indicator {
            confidence,
            ..match fixtures::phone_body(1) {
                Body::Indicator(mut i) => {
                    i.value = value.to_string();
                    i
                }
                _ => unreachable!(),
            }
        })
    };
    // Agency 3 publishes one below the floor and one above it.
    let weak =
        fixtures::signed_at(&fixtures::agency(3), Channel::Network, 1, None, indicator("+447700900182", 10), START_MS);
    let strong = fixtures::signed_at(
        &fixtures::agency(3),
        Channel::Network,
        2,
        Some(weak.id),
        indicator("+447700900183", 60),
        START_MS,
    );
    a.svc.data().store.ingest(&weak.envelope.to_bytes()).unwrap();
    a.svc.data().store.ingest(&strong.envelope.to_bytes()).unwrap();
    a.svc.look_at(&kawan_node::service::Caller::system("test"), &[weak.id, strong.id]).unwrap();
    let alerts = a.get_json("/api/v1/alerts");
    let values: Vec<String> =
        alerts.as_array().unwrap().iter().map(|a| a["value"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(values, vec!["+447700900183".to_string()], "{alerts}");
}
