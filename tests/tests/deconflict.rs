//! Deconfliction between real nodes: an agency asks every member, privately,
//! whether it holds anything on values. Each property of docs/protocol.md §7
//! is checked on the bytes peers actually received (`KAWAN_WIRE_LOG`), and
//! every refusal a hostile member can provoke is a clear answer.

use std::time::Duration;

use kawan_node::identity;
use kawan_protocol::{
    Kind,
    deconflict::{
        Blinded, EvalRequest, FilterBytes, FilterNotice, Refusal, Request, Response, Signed, epoch_of, oprf_input,
    },
};
use kawan_tests::{TestNetwork, TestNode, fixtures::phone, peer::Session};
use serde_json::{Value, json};

const CONTACT: &str = "Agency 1 duty desk, osint-desk@agency1.example";

fn key_of(n: &TestNode) -> String {
    n.get_json("/api/v1/status")["agency_key"].as_str().unwrap().to_string()
}

fn case_with(n: &TestNode, reference: &str, title: &str, value: &str) -> u64 {
    let case =
        n.post("/api/v1/cases", json!({"reference": reference, "title": title, "details": {"victim": "VICTIM-7c1e"}}));
    assert_eq!(case.status, 201, "{}", case.body);
    let id = case.json()["id"].as_u64().unwrap();
    let r = n.post(&format!("/api/v1/cases/{id}/values"), json!({"value": value}));
    assert_eq!(r.status, 200, "{}", r.body);
    id
}

/// The answer of the member named `name` in a question.
fn answer<'a>(q: &'a Value, name: &str) -> &'a Value {
    q["answers"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("{name} in {q}"))
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn audit(n: &TestNode, action: &str) -> Vec<Value> {
    n.get_json(&format!("/api/v1/audit?limit=1000&action={action}")).as_array().cloned().unwrap_or_default()
}

#[test]
fn a_member_learns_who_holds_a_value_and_nothing_else_and_no_one_learns_the_value() {
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("wire-{i}.bin"));
    let net = TestNetwork::start_configured(
        4,
        &[],
        |i| vec![("KAWAN_WIRE_LOG", log_of(i))],
        |i, toml| {
            if i == 1 {
                *toml = toml.replace(
                    "# contact = \"Duty desk, +44 7700 900123, osint-desk@agency.example\"",
                    &format!("contact = \"{CONTACT}\""),
                );
            }
        },
    );
    let (asker, holder, opted_out, none) = (net.node(0), net.node(1), net.node(2), net.node(3));
    net.wait_for(30, "all connected", |_| asker.connected_peers() >= 3);

    // Agency 1 holds a recruiter's number only in a local case; agency 2
    // holds the same number in a case it keeps out of deconfliction (a
    // victim's); agency 3 holds nothing. A second value no one holds.
    let held = phone(901);
    let case = case_with(holder, "CASE-DC-SECRET-41", "Recruiter ring", &held);
    let victim_case = case_with(opted_out, "VICTIM-CASE-88", "Victim", &held);
    let r = opted_out.post(&format!("/api/v1/cases/{victim_case}/deconfliction"), json!({"opt_out": true}));
    assert_eq!(r.status, 200, "{}", r.body);
    let nobody = phone(902);
    // The asker's own case: its reference goes to no one (each holder gets
    // a keyed tag of it, different per holder).
    let asker_case = asker.post_ok("/api/v1/cases", json!({"reference": "OP-ASKER-REF-55", "title": "Asker's case"}));

    // Asked as an analyst would paste it, with a purpose.
    let loosely = format!("+44 (0) 7700 900 {}", &held[10..]);
    let r = asker.post(
        "/api/v1/deconflict",
        json!({"values": [{"value": loosely}, {"kind": "phone", "value": nobody}], "purpose": "OP-7 recruiter", "case": asker_case["id"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let q = r.json();
    assert_eq!(q["values"][0]["value"], held, "asked in normal form");
    let hit = answer(&q, "Agency 1");
    assert_eq!((hit["hits"].clone(), hit["contact"].as_str()), (json!([0]), Some(CONTACT)), "{q}");
    for quiet in ["Agency 2", "Agency 3"] {
        let a = answer(&q, quiet);
        assert_eq!((a["hits"].clone(), a["error"].clone()), (json!([]), Value::Null), "{quiet}: {a}");
    }

    // 1 and 2: no other node received the value, in any form; non-holders
    // and the holder alike received only blinded elements.
    let received = |i: usize| std::fs::read(log_of(i)).unwrap_or_default();
    for i in 1..4 {
        let bytes = received(i);
        assert!(!bytes.is_empty(), "node {i} received traffic");
        for form in [held.as_str(), &held[1..], &held[5..], "7700 900", nobody.as_str(), "OP-ASKER-REF-55"] {
            assert!(!contains(&bytes, form), "node {i} received {form:?}");
        }
    }
    // 3: the asker received neither the holder's case nor anything it holds.
    let asker_got = received(0);
    for secret in ["CASE-DC-SECRET-41", "Recruiter ring", "VICTIM-7c1e", "VICTIM-CASE-88"] {
        assert!(!contains(&asker_got, secret), "the asker received {secret:?}");
    }
    assert!(contains(&asker_got, CONTACT), "the asker received the holder's contact point");
    assert_eq!(asker.get_json(&format!("/api/v1/search?kind=phone&value=%2B{}", &held[1..]))["hits"], json!([]));

    // 4: each holder logged who asked, why, and how many — not what.
    let logged = audit(holder, "deconflict.evaluate");
    assert_eq!(logged.len(), 1, "{logged:?}");
    let detail = logged[0]["detail"].as_str().unwrap();
    assert!(detail.contains("2 value(s)") && detail.contains("OP-7 recruiter"), "{detail}");
    let tag = |n: &TestNode| {
        let d = audit(n, "deconflict.evaluate")[0]["detail"].as_str().unwrap().to_string();
        d.split("case tag ").nth(1).map(|t| t[..32].to_string()).unwrap_or_else(|| panic!("no case tag: {d}"))
    };
    assert_ne!(tag(holder), tag(none), "two holders cannot link their logs by the tag");
    assert!(!audit(holder, "deconflict.filter").is_empty(), "filter fetches are logged");
    assert!(logged[0]["actor"].as_str().unwrap().contains("Agency 0"), "{}", logged[0]);
    assert!(!detail.contains(&held[5..]));
    assert_eq!(audit(none, "deconflict.evaluate").len(), 1, "non-holders log requests too");
    assert!(!audit(asker, "deconflict").is_empty(), "the asker logged its question");

    // Bulk: a case's worth of values in one call.
    let mut values: Vec<Value> =
        (0..999).map(|n| json!({"kind": "email", "value": format!("recruiter{n}@jobs.example")})).collect();
    values.insert(500, json!({"value": held}));
    let r = asker.post("/api/v1/deconflict", json!({"values": values, "purpose": "OP-7 bulk"}));
    assert_eq!(r.status, 201, "{}", r.body);
    // A filter answers "maybe" for 1 value in 65,536 it does not hold
    // (docs/protocol.md): across these 2,000 lookups, ~0.03 false hits are
    // expected, so one may appear (about one run in 30); three would be a fault.
    let hits = |name| answer(&r.json(), name)["hits"].as_array().cloned().unwrap();
    let (held_hits, none_hits) = (hits("Agency 1"), hits("Agency 3"));
    assert!(held_hits.contains(&json!(500)), "{held_hits:?}");
    let false_hits = held_hits.len() - 1 + none_hits.len();
    assert!(false_hits <= 2, "{false_hits} false hits in 2,000 lookups: {held_hits:?} {none_hits:?}");
    let too_many: Vec<Value> =
        (0..1001).map(|n| json!({"kind": "email", "value": format!("r{n}@jobs.example")})).collect();
    let r = asker.post("/api/v1/deconflict", json!({"values": too_many, "purpose": "x"}));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = asker.post("/api/v1/deconflict", json!({"values": [{"value": "call me maybe"}], "purpose": "x"}));
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("invalid_value")), "{}", r.body);
    let r = asker.post("/api/v1/deconflict", json!({"values": [{"value": held}], "purpose": " "}));
    assert_eq!(r.status, 400, "a purpose is required: {}", r.body);

    // Follow-up: the asker discloses the value to the holder alone.
    let question = q["id"].as_u64().unwrap();
    let r = asker.post("/api/v1/contacts",
        json!({"holder": hit["member"], "value": held, "message": "We hold the same recruiter; call us.", "query": question}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let contact_id = r.json()["id"].as_str().unwrap().to_string();
    let incoming = holder.get_json("/api/v1/contacts");
    let incoming = &incoming[0];
    assert_eq!(
        (incoming["direction"].as_str(), incoming["value"].as_str(), incoming["cases"].clone()),
        (Some("incoming"), Some(held.as_str()), json!([case]))
    );
    assert_eq!(incoming["purpose"], "OP-7 recruiter");
    let alerts = holder.get_json("/api/v1/alerts");
    assert!(
        alerts.as_array().unwrap().iter().any(|a| a["type"] == "contact_request" && a["author_name"] == "Agency 0")
    );
    for i in [2, 3] {
        assert!(!contains(&received(i), &held), "only the holder learns the value from a follow-up");
    }

    // The holder's analyst accepts; the asker's analyst is told.
    let r = holder
        .post(&format!("/api/v1/contacts/{contact_id}/answer"), json!({"accept": true, "message": "Call the desk."}));
    assert_eq!(r.status, 200, "{}", r.body);
    let again = holder.post(&format!("/api/v1/contacts/{contact_id}/answer"), json!({"accept": false}));
    assert_eq!(again.status, 409, "answered once: {}", again.body);
    let mine = &asker.get_json("/api/v1/contacts")[0];
    assert_eq!((mine["status"].as_str(), mine["answer_contact"].as_str()), (Some("accepted"), Some(CONTACT)), "{mine}");
    let alerts = asker.get_json("/api/v1/alerts");
    assert!(alerts.as_array().unwrap().iter().any(|a| a["type"] == "contact_answer"), "{alerts}");
    assert_eq!(audit(asker, "contact.request").len(), 2, "pending and done");
    assert!(audit(holder, "contact.received").len() == 1 && audit(holder, "contact.answer").len() == 2);

    // On the web page: the case page asks the network about its values; a
    // partner's contact request is answered with a button.
    let web = kawan_tests::web::Browser::login(holder);
    let (status, html) = web.get(&format!("/cases/{case}"));
    assert_eq!(status, 200);
    assert!(html.contains(&held) && html.contains("Deconflict this case"), "{html}");
    let csrf = web.csrf();
    let (status, _) = web.post(&format!("/cases/{case}/deconflict"), &[("csrf", &csrf), ("purpose", "CASE-DC web")]);
    assert_eq!(status, 303);
    let (_, html) = web.get("/deconflict");
    assert!(html.contains("CASE-DC web") && html.contains("no hit"), "{html}");
    let r =
        asker.post("/api/v1/contacts", json!({"holder": key_of(holder), "value": held, "message": "second follow-up"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.json()["id"].as_str().unwrap().to_string();
    let (_, html) = web.get("/deconflict");
    assert!(html.contains("Partners asking to talk") && html.contains("second follow-up"), "{html}");
    let (status, _) = web.post(
        &format!("/contacts/{second}/answer"),
        &[("csrf", &csrf), ("accept", "no"), ("message", "Not ours to share")],
    );
    assert_eq!(status, 303);
    let mine = asker.get_json("/api/v1/contacts");
    let declined = mine.as_array().unwrap().iter().find(|c| c["id"] == second.as_str()).unwrap();
    assert_eq!((declined["status"].as_str(), declined["answer_contact"].clone()), (Some("declined"), Value::Null));

    // The CLI says the same for a person.
    let out = asker.cli().args(["deconflict", &held, "--purpose", "OP-7 CLI"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Agency 1: HIT on 1 value(s)") && text.contains("Agency 3: no hit"), "{text}");
}

fn eval_request(
    from: &kawan_protocol::Keypair,
    holder: kawan_protocol::AgencyKey,
    (epoch, version): (u64, u64),
    created_ms: u64,
) -> EvalRequest {
    let blinded = Blinded::new(&[oprf_input(Kind::Phone, &phone(903))], &mut rand_core::OsRng).unwrap();
    EvalRequest {
        network: kawan_protocol::NetworkId::new(kawan_tests::fixtures::NETWORK).unwrap(),
        asker: from.public(),
        holder,
        epoch,
        created_ms,
        nonce: serde_bytes::ByteBuf::from(rand_nonce().to_vec()),
        version,
        purpose: "raw peer".into(),
        case_tag: None,
        analyst: "mallory".into(),
        blinded: serde_bytes::ByteBuf::from(blinded.elements),
    }
}

fn rand_nonce() -> [u8; 16] {
    let mut n = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut n);
    n
}

#[test]
fn forged_replayed_stale_and_greedy_requests_and_bad_filters_are_refused_clearly() {
    // Agency 1 allows 5 values an hour per agency and turns its key every 2 s.
    let mut net = TestNetwork::start_configured(
        3,
        &[],
        |_| vec![],
        |i, toml| {
            if i == 1 {
                *toml = toml
                    .replace("rate_per_hour = 10000", "rate_per_hour = 5")
                    .replace("epoch_secs = 86400", "epoch_secs = 2");
            }
            if i == 0 {
                *toml = toml
                    .replace("filters_per_hour = 30", "filters_per_hour = 4")
                    .replace("contacts_per_hour = 20", "contacts_per_hour = 2");
            }
        },
    );
    net.wait_for(30, "all connected", |net| net.node(0).connected_peers() >= 2);
    let holder_key: kawan_protocol::AgencyKey = key_of(net.node(1)).parse().unwrap();
    let held = phone(904);
    case_with(net.node(1), "CASE-RL", "Rate limited", &held);

    // Epochs turn during questions: every answer stays right.
    for _ in 0..4 {
        let r = net.node(0).post("/api/v1/deconflict", json!({"values": [{"value": held}], "purpose": "epochs"}));
        assert_eq!(answer(&r.json(), "Agency 1")["hits"], json!([0]), "{}", r.body);
        std::thread::sleep(Duration::from_millis(1500));
    }
    // The fifth value of the hour is the last.
    let r = net
        .node(0)
        .post("/api/v1/deconflict", json!({"values": [{"value": held}, {"value": phone(905)}], "purpose": "greedy"}));
    let refused = answer(&r.json(), "Agency 1")["error"].as_str().unwrap_or_default().to_string();
    assert!(refused.contains("rate limit: at most 5 values an hour"), "{}", r.body);
    assert_eq!(answer(&r.json(), "Agency 2")["error"], Value::Null, "limits are per holder");
    assert!(
        audit(net.node(1), "deconflict.refused").iter().any(|e| e["detail"].as_str().unwrap().contains("rate_limited"))
    );
    // A question larger than the hourly allowance can never be answered:
    // the asker is told to split it, not to wait.
    let six: Vec<Value> = (910..916).map(|n| json!({"value": phone(n)})).collect();
    let r = net.node(0).post("/api/v1/deconflict", json!({"values": six, "purpose": "too many"}));
    let refused = answer(&r.json(), "Agency 1")["error"].as_str().unwrap_or_default().to_string();
    assert!(refused.contains("split it") && !refused.contains("try again"), "{}", r.body);

    // Agency 2's key in a raw peer: a member that writes its own bytes.
    net.stop(2);
    let mallory = identity::load(&net.dir(2).join("agency.key")).unwrap();
    let mut raw = Session::connect(&mallory, net.dir(0));
    let now = kawan_node::clock::Clock::system().now_ms();
    let epoch = epoch_of(now, 86_400_000);
    let node0_key: kawan_protocol::AgencyKey = key_of(net.node(0)).parse().unwrap();
    let refusal = |r: Result<Response, String>| match r {
        Ok(Response::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };

    // The filter first (fetches are metered: agency 0 allows 4 an hour).
    let version = match raw.ask(Request::Filter) {
        Ok(Response::Filter(signed)) => signed.open::<FilterNotice>().unwrap().version,
        other => panic!("no filter: {other:?}"),
    };
    let at = (epoch, version);
    // A valid request is answered once; its replay is refused.
    let signed = Signed::sign(&eval_request(&mallory, node0_key, at, now), &mallory).unwrap();
    assert!(matches!(raw.ask(Request::Evaluate(signed.clone())), Ok(Response::Evaluated { .. })));
    assert_eq!(refusal(raw.ask(Request::Evaluate(signed))), Refusal::Replayed);
    // Forged: claims to come from agency 0 (signed by mallory).
    let mut forged = eval_request(&mallory, node0_key, at, now);
    forged.asker = holder_key;
    let forged = Signed::sign(&forged, &mallory).unwrap();
    assert!(matches!(refusal(raw.ask(Request::Evaluate(forged))), Refusal::BadRequest(m) if m.contains("signature")));
    // Stale, from an old epoch, malformed elements.
    let stale = Signed::sign(&eval_request(&mallory, node0_key, at, now - 3_600_000), &mallory).unwrap();
    assert_eq!(refusal(raw.ask(Request::Evaluate(stale))), Refusal::Stale);
    for other in [epoch - 5, epoch - 1, epoch + 1] {
        let old = Signed::sign(&eval_request(&mallory, node0_key, (other, version), now), &mallory).unwrap();
        assert_eq!(refusal(raw.ask(Request::Evaluate(old))), Refusal::EpochExpired { asked: other, current: epoch });
    }
    // Only the current filter's key evaluates: answers for an older filter
    // would let the asker re-test its values against every new one unseen.
    let older = Signed::sign(&eval_request(&mallory, node0_key, (epoch, version - 1), now), &mallory).unwrap();
    assert_eq!(refusal(raw.ask(Request::Evaluate(older))), Refusal::FilterChanged { version });
    let mut junk = eval_request(&mallory, node0_key, at, now);
    junk.blinded = serde_bytes::ByteBuf::from(vec![7u8; 33]);
    let junk = Signed::sign(&junk, &mallory).unwrap();
    assert!(matches!(refusal(raw.ask(Request::Evaluate(junk))), Refusal::BadRequest(m) if m.contains("whole number")));
    let to_other = Signed::sign(&eval_request(&mallory, holder_key, at, now), &mallory).unwrap();
    assert!(matches!(refusal(raw.ask(Request::Evaluate(to_other))), Refusal::BadRequest(m) if m.contains("addressed")));
    // Filter fetches: 4 an hour from one agency, each logged.
    for _ in 0..3 {
        assert!(matches!(raw.ask(Request::Filter), Ok(Response::Filter(_))));
    }
    assert!(matches!(refusal(raw.ask(Request::Filter)), Refusal::TooOften { per_hour: 4, .. }));
    assert_eq!(audit(net.node(0), "deconflict.filter").len(), 4);
    // Contact requests: 2 an hour from one agency (docs/security.md D10).
    let contact = |n: u16| {
        let req = kawan_protocol::deconflict::ContactRequest {
            network: kawan_protocol::NetworkId::new(kawan_tests::fixtures::NETWORK).unwrap(),
            asker: mallory.public(),
            holder: node0_key,
            id: rand_nonce().iter().map(|b| format!("{b:02x}")).collect(),
            created_ms: now,
            kind: Kind::Phone,
            value: phone(n),
            purpose: "raw peer".into(),
            case_ref: None,
            analyst: "mallory".into(),
            message: "who holds this?".into(),
        };
        Request::Contact(Signed::sign(&req, &mallory).unwrap())
    };
    for n in [921, 922] {
        assert!(matches!(raw.ask(contact(n)), Ok(Response::Received)));
    }
    assert!(matches!(
        refusal(raw.ask(contact(923))),
        Refusal::TooOften { per_hour: 2, ref what, .. } if what == "contact requests"
    ));
    assert_eq!(audit(net.node(0), "contact.received").len(), 2, "the refused request was not taken");
    // Every refusal is in the holder's log, by its code.
    let refused = audit(net.node(0), "deconflict.refused");
    for code in ["replayed", "bad_request", "stale", "epoch_expired", "filter_changed", "too_often"] {
        assert!(
            refused.iter().any(|e| e["detail"].as_str().unwrap().starts_with(code)),
            "{code} not logged: {refused:?}"
        );
    }

    // A hostile holder answers agency 0's question with a filter that would
    // index out of bounds (and an evaluation claiming a newer filter, so a
    // filter agency 0 already holds is fetched again): agency 0 says so,
    // and goes on.
    let (node0, keypair) = (net.node(0).base.clone(), mallory);
    let asker = std::thread::spawn({
        let token = net.node(0).token.clone();
        move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let mut resp = agent
                .post(&format!("{node0}/api/v1/deconflict"))
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(json!({"values": [{"value": phone(906)}], "purpose": "hostile filter"}))
                .unwrap();
            resp.body_mut().read_json::<Value>().unwrap()
        }
    });
    let served = raw.serve(Duration::from_secs(4), |req| match req {
        Request::Filter => {
            let notice = FilterNotice {
                network: kawan_protocol::NetworkId::new(kawan_tests::fixtures::NETWORK).unwrap(),
                holder: keypair.public(),
                epoch,
                epoch_ms: 86_400_000,
                public: serde_bytes::ByteBuf::from(vec![0u8; 32]),
                version: 1,
                contact: "mallory".into(),
                filter: FilterBytes {
                    bits: 8,
                    seed: 1,
                    segment_length: 1 << 16,
                    segment_length_mask: (1 << 16) - 1,
                    segment_count_length: 1 << 20,
                    fingerprints: serde_bytes::ByteBuf::from(vec![0u8; 16]),
                },
            };
            Response::Filter(Signed::sign(&notice, &keypair).unwrap())
        }
        Request::Evaluate(_) => Response::Evaluated {
            epoch,
            elements: serde_bytes::ByteBuf::from(vec![0u8; 32]),
            proof: serde_bytes::ByteBuf::from(vec![0u8; 64]),
            version: 99,
        },
        _ => Response::Received,
    });
    let q = asker.join().unwrap();
    assert!(served >= 1, "agency 0 asked the raw peer for its filter");
    let error = answer(&q, "Agency 2")["error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("malformed filter"), "{q}");
    assert!(net.node(0).get_json("/api/v1/status")["agency_key"].is_string(), "agency 0 still serves");
}
