//! Single-node behaviour through the whole HTTP application, in process
//! (`kawan_tests::app::App`: `http::app` over in-memory databases and a
//! manual clock, driven with tower's `oneshot`).

use std::time::Duration;

use kawan_protocol::{Body, Channel, Family, Sighting, Verdict};
use kawan_tests::{app::App, fixtures};
use serde_json::json;

/// A node of agency 2 in a network of agencies 1–3 (agency 1 coordinates).
fn member_node() -> App {
    let app = App::named("Agency 2", "TH", fixtures::agency(2));
    app.svc.data().store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
    app
}

fn ids(answer: &serde_json::Value) -> Vec<String> {
    answer["hits"].as_array().expect("hits").iter().map(|h| h["id"].as_str().unwrap_or_default().to_string()).collect()
}

/// `GET /api/v1/search?type=F` answers for every family the node reads,
/// with the knowledge of that family (or, for the families that are about
/// other records, the knowledge they are about) and nothing else. The list
/// of families comes from `Family::ALL`: a new family without search fails
/// here.
#[test]
fn search_and_listing_work_for_every_family() {
    let app = member_node();
    let indicator = app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900101"))["id"].clone();
    let typology = app.post_ok(
        "/api/v1/typologies",
        json!({"content": {
        "title": "Fake customer-service jobs abroad", "stage": "recruitment", "tlp": "green",
        "summary": "Recruiters promise high pay abroad; passports are taken on arrival."}}),
    )["id"]
        .clone();
    let technique = app.post_ok(
        "/api/v1/techniques",
        json!({"content": {
        "title": "Pivot from a phone to handles", "objective": "Find linked accounts",
        "difficulty": "basic", "tlp": "green", "applies_to": ["phone"], "steps": ["Search the number"]}}),
    )["id"]
        .clone();
    let referral = app.post_ok(
        "/api/v1/referrals",
        json!({"platform": "facebook", "request": "takedown",
        "tlp": "green", "subjects": [{"kind": "url", "value": "https://jobs.example/ad"}]}),
    )["id"]
        .clone();
    let request = app.post_ok(
        "/api/v1/requests",
        json!({"question": "Who has seen recruiters on jobs.example?", "tlp": "green", "platform": "facebook"}),
    )["id"]
        .clone();
    let answer = app.post_ok(
        &format!("/api/v1/requests/{}/answers", request.as_str().unwrap()),
        json!({"text": "We saw three ads there in May.", "tlp": "green"}),
    )["id"]
        .clone();
    // The technique is revised, the typology retracted.
    app.post_ok(
        "/api/v1/revisions",
        json!({"supersedes": technique, "content": {"technique": {
        "title": "Pivot from a phone to handles and groups", "objective": "Find linked accounts",
        "difficulty": "basic", "tlp": "green", "applies_to": ["phone"], "steps": ["Search the number"]}}}),
    );
    app.post_ok("/api/v1/retractions", json!({"target": typology, "reason": "duplicate"}));
    // Agency 3 corroborates the indicator (a sighting counts only from
    // another agency), arriving as a peer's record would.
    let target = indicator.as_str().unwrap().parse().unwrap();
    let sighting = Body::Sighting(Sighting {
        attachments: vec![],
        target,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    });
    let signed = fixtures::signed(&fixtures::agency(3), Channel::Network, 1, None, sighting);
    app.svc.data().store.ingest(&signed.envelope.to_bytes()).expect("the sighting is stored");

    for family in Family::ALL {
        let found = ids(&app.get_json(&format!("/api/v1/search?type={family}")));
        let expected = match family {
            Family::Indicator => vec![&indicator],
            Family::Typology => vec![], // retracted: only with include_retracted
            Family::Technique => vec![&technique],
            Family::Referral => vec![&referral],
            Family::Sighting => vec![&indicator],
            Family::Revision => vec![&technique],
            Family::Retraction => vec![&typology],
            Family::Checkpoint => vec![], // audit checkpoints are no knowledge
            Family::Erasure => vec![],    // erased knowledge is in no view
            Family::Request => vec![&request],
            Family::Answer => vec![&answer],
        };
        let expected: Vec<String> = expected.iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(found, expected, "type={family}");
    }
    let all = ids(&app.get_json("/api/v1/search?type=typology&include_retracted=true"));
    assert_eq!(all, vec![typology.as_str().unwrap().to_string()]);

    let bad = app.get("/api/v1/search?type=newer");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("referral") && bad.body.contains("sighting"), "the error lists the types: {}", bad.body);
}

/// Time is the node's clock, not the wall's: moving it by days changes
/// what the node says without anyone waiting.
#[test]
fn the_node_reads_time_from_its_clock() {
    let app = member_node();
    let before = app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900102"));
    app.clock.advance(Duration::from_secs(10 * 86_400));
    let after = app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900103"));
    let created = |v: &serde_json::Value| {
        let id = v["id"].as_str().unwrap().to_string();
        app.get_json(&format!("/api/v1/records/{id}"))["created_ms"].as_u64().unwrap()
    };
    assert_eq!(created(&before), kawan_tests::app::START_MS);
    assert_eq!(created(&after), kawan_tests::app::START_MS + 10 * 86_400_000);
}

/// Expired web sessions are swept by a job that acts as the system, and
/// its audit entry says so; a live session stays. Days pass on the node's
/// clock, not the wall's.
#[test]
fn expired_sessions_are_swept_by_the_system_and_audited_as_such() {
    let app = App::new();
    let sessions = &app.svc.data().sessions;
    let old = sessions.create(&app.analyst).unwrap();
    app.clock.advance(Duration::from_secs(2 * 86_400));
    let fresh = sessions.create(&app.analyst).unwrap();
    // A row that does not read is swept too (and logged), not left to fail
    // every later sweep.
    let mut batch = kawan_node::store::engine::Batch::default();
    batch.insert("sessions", b"damaged".to_vec(), b"{not json".to_vec());
    app.svc.data().local().commit(batch).unwrap();
    let swept = app.block_on(app.svc.sweep_sessions(kawan_node::service::Caller::system("session sweep"))).unwrap();
    assert_eq!(swept, 2);
    let tokens = &app.svc.data().tokens;
    assert!(sessions.check(&old, tokens).unwrap().is_none(), "the idle session is gone");
    assert!(sessions.check(&fresh, tokens).unwrap().is_some(), "the live one stays");
    let last = app.svc.data().audit.tail(1).unwrap().remove(0);
    assert_eq!((last.actor.as_str(), last.action.as_str()), ("system: session sweep", "session.sweep"));
    assert!(last.detail.contains("2 expired session(s) removed (via system)"), "{}", last.detail);
}

/// A TAXII object and its versions are found by id — a revised indicator
/// (the object as it stands), another agency's sighting, a preamble
/// identity — and an unknown id is 404.
#[test]
fn taxii_finds_one_object_and_its_versions_by_id() {
    use kawan_node::interop::stix;
    let app = member_node();
    let id =
        app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900104"))["id"].as_str().unwrap().to_string();
    app.clock.advance(Duration::from_secs(60));
    app.post_ok(
        "/api/v1/revisions",
        json!({"supersedes": id, "content": {"indicator": {
        "kind": "phone", "value": "07700 900104", "role": "recruiter_contact", "subject": "suspect",
        "confidence": 95, "basis": "fact", "tlp": "green"}}}),
    );
    let target = id.parse().unwrap();
    let sighting = Body::Sighting(Sighting {
        attachments: vec![],
        target,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    });
    let signed = fixtures::signed(&fixtures::agency(3), Channel::Network, 1, None, sighting);
    app.svc.data().store.ingest(&signed.envelope.to_bytes()).unwrap();

    let cols = app.get_json("/taxii2/api/collections/");
    let net = cols["collections"][0]["id"].as_str().unwrap().to_string();
    let object = |sid: &str| app.get(&format!("/taxii2/api/collections/{net}/objects/{sid}/"));
    let versions = |sid: &str| app.get_json(&format!("/taxii2/api/collections/{net}/objects/{sid}/versions/"));

    let sid = stix::object_id("indicator", &target);
    let found = object(&sid).json();
    assert_eq!(found["objects"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["objects"][0]["confidence"], 95, "the latest version: {found}");
    // A collection holds each object once, as it stands now (an earlier
    // version is superseded, not served), so its versions are that one.
    assert_eq!(versions(&sid)["versions"], json!([found["objects"][0]["modified"]]));

    let seen = stix::object_id("sighting", &signed.id);
    assert_eq!(object(&seen).json()["objects"][0]["sighting_of_ref"], sid.as_str());
    let agency = stix::identity_id(&fixtures::agency(3).public());
    assert_eq!(object(&agency).json()["objects"][0]["type"], "identity");

    let unknown = object("indicator--00000000-0000-4000-8000-000000000000");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

/// An operator's request, as JSON (failing loudly otherwise).
fn op(app: &App, method: &str, path: &str) -> serde_json::Value {
    let body = (method == "POST").then(|| json!({}));
    let a = app.send(method, path, Some(&app.operator), body.as_ref());
    assert!(a.status.is_success(), "{method} {path}: {} {}", a.status, a.body);
    a.json()
}

/// The audit log is witnessed: each checkpoint goes to the network as a
/// record of the agency's log, which every partner keeps. Someone with the
/// node's files who rolls the log back (the tail cut, its checkpoints with
/// it, the head rewritten: consistent, so the chain alone cannot tell) no
/// longer matches what was published, and `verify` says where.
#[test]
fn a_rolled_back_audit_log_is_caught_by_its_published_checkpoint() {
    let app = member_node();
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900111"));
    let before: Vec<serde_json::Value> =
        op(&app, "GET", "/api/v1/audit?limit=1000").as_array().expect("entries").iter().rev().cloned().collect();
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900112"));
    let signed = op(&app, "POST", "/api/v1/audit/checkpoint");
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900113"));

    let v = op(&app, "GET", "/api/v1/audit/verify");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["witnessed"]["seq"], signed["seq"], "{v}");
    // The witness is a record of the agency's own log: what partners receive.
    let record = app.get_json(&format!("/api/v1/records/{}", v["witnessed"]["record"].as_str().unwrap()));
    assert!(record.to_string().contains(signed["hash"].as_str().unwrap()), "{record}");

    // Roll back to the first indicator's entries, behind the node's back.
    let last = before.last().expect("an entry");
    let (keep, hash) = (last["seq"].as_u64().unwrap(), last["hash"].as_str().unwrap());
    let newest = op(&app, "GET", "/api/v1/audit?limit=1")[0]["seq"].as_u64().unwrap();
    let mut cut = kawan_node::store::engine::Batch::default();
    for seq in keep + 1..=newest + 10 {
        let mut e = vec![b'e'];
        e.extend_from_slice(&seq.to_be_bytes());
        cut.remove("audit", e);
        let mut c = vec![b'c'];
        c.extend_from_slice(&seq.to_be_bytes());
        cut.remove("audit", c);
    }
    let mut head = keep.to_be_bytes().to_vec();
    head.extend_from_slice(hash.as_bytes());
    cut.insert("audit", b"head".to_vec(), head);
    app.svc.data().local().import(cut).expect("tampered");

    let v = op(&app, "GET", "/api/v1/audit/verify");
    assert_eq!(v["ok"], false, "a rolled-back log passed: {v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("differs from the checkpoint this agency published"), "{error}");
}

/// docs/security.md R4, R5, M4: a record whose author was removed, or
/// signed two records for one slot, carries the flag on every way out:
/// the API, the web page, CSV, STIX (and so TAXII) and MISP.
#[test]
fn provenance_flags_reach_the_web_page_and_every_export() {
    let app = App::named("Agency 2", "TH", fixtures::agency(2));
    let store = &app.svc.data().store;
    store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3, 4], &[])).expect("genesis");
    // Agency 3 equivocates; agency 4 is removed from the network later.
    let equivocating = fixtures::signed(&fixtures::agency(3), Channel::Network, 1, None, fixtures::phone_body(931));
    let fork = fixtures::signed(&fixtures::agency(3), Channel::Network, 1, None, fixtures::phone_body(932));
    let revoked = fixtures::signed(&fixtures::agency(4), Channel::Network, 1, None, fixtures::phone_body(941));
    for v in [&equivocating, &fork, &revoked] {
        store.ingest(&v.envelope.to_bytes()).expect("ingested");
    }
    let list = fixtures::trust_list(2, &[1, 2, 3], &[]);
    store.apply_trust_update(&list).expect("version 2");
    let (eq, rev) = (fixtures::phone(931), fixtures::phone(941));

    let page = app.web_get(&format!("/?q={}", eq.replace('+', "%2B")));
    assert!(page.body.contains(&eq) && page.body.contains("equivocating author"), "{}", page.body);
    let page = app.web_get(&format!("/?q={}", rev.replace('+', "%2B")));
    assert!(page.body.contains(&rev) && page.body.contains("author revoked"), "{}", page.body);

    let get = |path: &str| app.get(path).body;
    let csv = get("/api/v1/export/csv");
    let row = |value: &str| csv.lines().find(|l| l.contains(value)).unwrap_or_else(|| panic!("{csv}")).to_string();
    // `flags`, then the (empty) `handling` and `evaluation` columns.
    assert!(row(&eq).ends_with(",kawan:author-equivocating,,"), "{csv}");
    assert!(row(&rev).ends_with(",kawan:author-revoked,,"), "{csv}");
    let stix = get("/api/v1/export/stix");
    assert!(stix.contains("kawan:author-equivocating") && stix.contains("kawan:author-revoked"), "{stix}");
    let manifest: serde_json::Value = serde_json::from_str(&get("/api/v1/export/misp/manifest.json")).unwrap();
    let events: String =
        manifest.as_object().unwrap().keys().map(|uuid| get(&format!("/api/v1/export/misp/{uuid}.json"))).collect();
    assert!(events.contains("kawan:author-equivocating") && events.contains("kawan:author-revoked"), "{events}");
}

/// docs/security.md D7: deconfliction allowances belong to the member, not
/// its key: rotating to a new key brings no fresh allowance.
#[test]
fn a_members_allowance_survives_its_key_rotation() {
    use kawan_protocol::deconflict::{Refusal, Request, Response};
    let app = member_node();
    let (old, new) = (fixtures::agency(3), fixtures::agency(33));
    let fetch = |key: &kawan_protocol::Keypair| app.svc.answer_question(key.public(), Request::Filter);
    for _ in 0..30 {
        assert!(matches!(fetch(&old), Response::Filter(_)));
    }
    assert!(matches!(fetch(&old), Response::Refused(Refusal::TooOften { per_hour: 30, .. })));

    let mut list = fixtures::trust_list(2, &[1, 2, 3], &[]).list().expect("list");
    let member = list.members.iter_mut().find(|m| m.id.as_str() == "agency-3").expect("agency 3");
    member.retired_keys.push(kawan_protocol::RetiredKey {
        key: old.public(),
        from_ms: None,
        until_ms: kawan_tests::app::START_MS,
        last_seqs: vec![],
        compromised: false,
    });
    member.key = new.public();
    member.key_from_ms = Some(kawan_tests::app::START_MS);
    let mut signed = kawan_protocol::SignedTrustList::new(&list).expect("list");
    signed.sign(&fixtures::agency(1));
    app.svc.data().store.apply_trust_update(&signed).expect("rotation installed");

    assert!(
        matches!(fetch(&new), Response::Refused(Refusal::TooOften { per_hour: 30, .. })),
        "the new key brought a fresh allowance"
    );
    assert!(matches!(fetch(&fixtures::agency(1)), Response::Filter(_)), "another member's allowance is its own");
}

/// docs/security.md D16: `[deconfliction]` decides what is deconflictable
/// at all: the agency's own records, case values, watchlists, each apart.
#[test]
fn the_operator_chooses_what_is_deconflictable() {
    let (published, in_case, watched) = (fixtures::phone(961), fixtures::phone(962), fixtures::phone(963));
    let choices = [(true, true, true), (false, true, true), (true, false, true), (true, true, false)];
    for (own_records, case_values, watchlist) in choices {
        let app = App::configured("Agency 2", "TH", fixtures::agency(2), |c| {
            c.deconfliction.own_records = own_records;
            c.deconfliction.case_values = case_values;
            c.deconfliction.watchlist = watchlist;
        });
        app.svc.data().store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
        app.post_ok("/api/v1/indicators", fixtures::green_phone(&published));
        let case = app.post_ok("/api/v1/cases", json!({"reference": "OP-D16", "title": "Choices"}));
        app.post_ok(&format!("/api/v1/cases/{}/values", case["id"]), json!({"value": in_case}));
        app.post_ok("/api/v1/watchlist", json!({"kind": "phone", "value": watched}));
        let values: Vec<String> = app.svc.deconflictable().expect("values").into_iter().map(|(_, v)| v).collect();
        let expected = [(own_records, &published), (case_values, &in_case), (watchlist, &watched)];
        for (chosen, value) in expected {
            assert_eq!(
                values.contains(value),
                chosen,
                "{value} with {own_records}/{case_values}/{watchlist}: {values:?}"
            );
        }
    }
}

/// A coordinator checks an agency's member card before anyone signs: a
/// good card gives the next version (unsigned) with the member added; a
/// forged signature, a key a member already holds, a taken id and a
/// rotation of a key that is not the member's current one are refused,
/// each naming why; an analyst may not check cards.
#[test]
fn a_member_card_is_checked_against_the_list_in_force() {
    use kawan_protocol::{Card, CardBody, MemberId, Replaces};
    let app = member_node();
    let coordinator =
        app.send("POST", "/api/v1/tokens", Some(&app.operator), Some(&json!({"name": "coord", "role": "coordinator"})));
    let coordinator = coordinator.json()["token"].as_str().unwrap().to_string();
    let check =
        |card: &Card| app.send("POST", "/api/v1/trust/cards/check", Some(&coordinator), Some(&json!({"card": card})));
    let body = |n: u8, id: &str| CardBody {
        id: MemberId::new(id).unwrap(),
        name: format!("Agency {n}"),
        country: "KH".parse().unwrap(),
        key: fixtures::agency(n).public(),
        addrs: vec![],
        replaces: None,
    };
    let new = Card::sign(body(4, "agency-4"), &fixtures::agency(4), None).unwrap();
    let ok = check(&new);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let review = ok.json();
    assert_eq!((review["version"].as_u64(), review["rotation"].as_bool()), (Some(2), Some(false)), "{review}");
    assert!(review["changes"][0].as_str().unwrap().contains("adds Agency 4 (agency-4, KH)"), "{review}");
    let hex = review["next"].as_str().unwrap();
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let next = kawan_protocol::SignedTrustList::from_bytes(&bytes).unwrap();
    let list = next.list().unwrap();
    assert!(next.sigs.is_empty() && list.members.iter().any(|m| m.id.as_str() == "agency-4"));

    let refused = |card: &Card, code: &str, words: &str| {
        let r = check(card);
        assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (422, Some(code)), "{}", r.body);
        assert!(r.body.contains(words), "{}", r.body);
    };
    let mut forged = new.clone();
    forged.card.name = "Agency 4 (edited)".into();
    refused(&forged, "card_refused", "signature");
    refused(&Card::sign(body(3, "agency-9"), &fixtures::agency(3), None).unwrap(), "duplicate_key", "Agency 3");
    refused(&Card::sign(body(4, "agency-3"), &fixtures::agency(4), None).unwrap(), "duplicate_id", "agency-3");
    let mut rotation = body(5, "agency-3");
    rotation.replaces = Some(Replaces {
        key: fixtures::agency(1).public(),
        until_ms: kawan_tests::app::START_MS,
        last_seqs: vec![],
        compromised: false,
    });
    refused(
        &Card::sign(rotation, &fixtures::agency(5), Some(&fixtures::agency(1))).unwrap(),
        "card_refused",
        "current key",
    );
    let analyst = app.post("/api/v1/trust/cards/check", json!({"card": new}));
    assert_eq!(analyst.status, 403, "{}", analyst.body);
    assert_eq!(app.svc.data().store.trust().unwrap().version, 1, "nothing installed");
}
