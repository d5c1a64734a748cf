//! Requests for information and their answers, as analysts meet them:
//! asked, answered by another agency, marked useful, closed; seen from the
//! agency that is asked (an alert when a request names a value its case
//! holds or it published, nothing sent back); refusals.

use std::time::Duration;

use kawan_protocol::{
    Answer, Body, Channel, GroupId, Indicator, IndicatorRole, InfoRequest, Kind, NamedValue, Priority, RecordId,
    RequestStatus, Subject, Tlp,
};
use kawan_tests::{app::App, fixtures};
use serde_json::json;

/// A node of agency 2 in a network of agencies 1–3, with groups of 2 and 3
/// ("mekong") and of 1 and 2 ("west").
fn member_node() -> App {
    let app = App::named("Agency 2", "TH", fixtures::agency(2));
    let list = fixtures::trust_list(1, &[1, 2, 3], &[("mekong", &[2, 3]), ("west", &[1, 2])]);
    app.svc.data().store.install_genesis(&list).expect("genesis");
    app
}

/// A record of agency 3's, arriving as a peer's would.
fn from_agency_3(app: &App, seq: u64, prev: Option<RecordId>, channel: Channel, body: Body) -> RecordId {
    let signed = fixtures::signed_at(&fixtures::agency(3), channel, seq, prev, body, kawan_tests::app::START_MS);
    app.svc.data().store.ingest(&signed.envelope.to_bytes()).expect("stored");
    app.block_on(async { app.svc.look_at(&kawan_node::service::Caller::system("test"), &[signed.id]) })
        .expect("looked at");
    signed.id
}

fn answer(request: &str, text: &str, tlp: Tlp, values: Vec<NamedValue>) -> Answer {
    Answer {
        attachments: vec![],
        request: request.parse().unwrap(),
        text: text.into(),
        cites: vec![],
        values,
        tlp,
        review_ms: None,
        handling: None,
        evaluation: None,
    }
}

fn request(question: &str, values: Vec<NamedValue>) -> InfoRequest {
    InfoRequest {
        attachments: vec![],
        question: question.into(),
        values,
        records: vec![],
        platform: None,
        priority: Priority::High,
        status: RequestStatus::Open,
        tlp: Tlp::Green,
        deadline_ms: None,
        useful: vec![],
        review_ms: None,
        handling: None,
    }
}

#[test]
fn a_request_is_asked_answered_marked_useful_and_closed() {
    let app = member_node();
    let deadline = kawan_tests::app::START_MS + 3 * 86_400_000;
    let mut ask = json!({"question": "Has anyone seen this recruiter's number?\nIt posts typing jobs in Bangkok.",
        "values": [{"value": "+44 7700 900150"}], "platform": "telegram", "priority": "urgent",
        "tlp": "green", "deadline_ms": deadline});
    // Agencies 1 and 3 cannot be asked here (no network): the private
    // check fails closed, and the analyst confirms with its id.
    let held = app.post("/api/v1/requests", ask.clone());
    assert_eq!((held.status.as_u16(), held.json()["code"].as_str()), (409, Some("check_incomplete")), "{}", held.body);
    assert_eq!(app.get_json("/api/v1/requests").as_array().map(Vec::len), Some(0), "nothing published");
    ask["checked"] = held.json()["details"]["id"].clone();
    let asked = app.post_ok("/api/v1/requests", ask.clone());
    let id = asked["id"].as_str().unwrap().to_string();
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    let r = &thread["request"]["content"]["request"];
    assert_eq!(
        (r["status"].as_str(), r["priority"].as_str(), r["values"][0]["value"].as_str(), thread["ours"].as_bool()),
        (Some("open"), Some("urgent"), Some("+447700900150"), Some(true)),
        "{thread}"
    );
    assert_eq!(thread["request"]["title"], "Has anyone seen this recruiter's number?");
    assert_eq!(app.get_json("/api/v1/requests?scope=ours").as_array().map(Vec::len), Some(1));
    assert_eq!(app.get_json("/api/v1/requests?scope=to_us").as_array().map(Vec::len), Some(0));

    // Past the deadline without an answer: overdue, for the asker to see.
    app.clock.advance(Duration::from_secs(4 * 86_400));
    assert_eq!(app.get_json("/api/v1/requests?scope=ours")[0]["overdue"], true);

    // A check is good for a day and for the audience it asked.
    let again = app.post("/api/v1/requests", ask.clone());
    assert_eq!(again.status.as_u16(), 400, "a four-day-old check: {}", again.body);
    ask["tlp"] = json!("amber");
    ask["group"] = json!("mekong");
    assert_eq!(app.post("/api/v1/requests", ask).status.as_u16(), 400, "checked on another audience");

    // Agency 3 answers on the network, and once more for the group of
    // agencies 2 and 3 only.
    let public = answer(&id, "Seen on a job board in May.", Tlp::Green, vec![]);
    let public_id = from_agency_3(&app, 1, None, Channel::Network, Body::Answer(public)).to_string();
    let narrower = answer(
        &id,
        "Same number on three ads; the account is @kh_jobs_example.",
        Tlp::Amber,
        vec![NamedValue { kind: Kind::TelegramHandle, value: "kh_jobs_example".into() }],
    );
    let mekong = Channel::Group(GroupId::new("mekong").unwrap());
    let answer_id = from_agency_3(&app, 1, None, mekong, Body::Answer(narrower)).to_string();
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    let answers: Vec<&str> = thread["answers"].as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(answers, [public_id.as_str(), answer_id.as_str()], "{thread}");
    assert_eq!(thread["answers"][1]["channel"], "group:mekong");
    assert_eq!(thread["overdue"], false, "answered: no longer overdue");
    let found = app.get_json("/api/v1/search?type=answer");
    assert_eq!(found["hits"].as_array().map(Vec::len), Some(2), "answers are searchable: {found}");

    // The asker marks the network's answer useful: the request becomes
    // answered (a revision). The group's answer cannot be named on a
    // request the whole network sees.
    let narrower = app.post(&format!("/api/v1/requests/{id}/status"), json!({"useful": [answer_id]}));
    assert_eq!(narrower.status, 400, "{}", narrower.body);
    let r = app.post(&format!("/api/v1/requests/{id}/status"), json!({"useful": [public_id]}));
    assert_eq!(r.status, 201, "{}", r.body);
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    let r = &thread["request"]["content"]["request"];
    assert_eq!((r["status"].as_str(), r["useful"][0].as_str()), (Some("answered"), Some(public_id.as_str())));
    let not_an_answer = app.post(&format!("/api/v1/requests/{id}/status"), json!({"useful": [id]}));
    assert_eq!(not_an_answer.status, 400, "{}", not_an_answer.body);

    // Closed: no more answers.
    app.post_ok(&format!("/api/v1/requests/{id}/status"), json!({"status": "closed"}));
    let late = app.post(&format!("/api/v1/requests/{id}/answers"), json!({"text": "Late", "tlp": "green"}));
    assert_eq!((late.status.as_u16(), late.json()["code"].as_str()), (409, Some("request_closed")), "{}", late.body);
    assert_eq!(app.get_json("/api/v1/requests?status=closed").as_array().map(Vec::len), Some(1));
    // An answer signed after the close is not part of it.
    let late = answer(&id, "Late news.", Tlp::Green, vec![]);
    app.clock.advance(Duration::from_secs(60));
    let prev = public_id.parse().ok();
    let signed =
        fixtures::signed_at(&fixtures::agency(3), Channel::Network, 2, prev, Body::Answer(late), app.clock.now_ms());
    app.svc.data().store.ingest(&signed.envelope.to_bytes()).expect("stored");
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    assert_eq!(thread["answers"].as_array().map(Vec::len), Some(2), "{thread}");
    // Requests change through their own route, not a generic revision.
    let revised = app.post(
        "/api/v1/revisions",
        json!({"supersedes": id, "content": {"request": {"question": "Q", "priority": "routine",
            "status": "open", "tlp": "green", "values": [{"kind": "phone", "value": "+447700900160"}]}}}),
    );
    assert_eq!(
        (revised.status.as_u16(), revised.json()["code"].as_str()),
        (422, Some("use_requests")),
        "{}",
        revised.body
    );
}

/// The asked agency's side: a request naming a value one of its cases
/// holds, or one it published, raises an alert for its analysts; nothing is
/// sent back. Only the asking agency changes a request.
#[test]
fn a_request_about_a_value_we_hold_alerts_our_analysts() {
    let app = member_node();
    let case = app.post_ok("/api/v1/cases", json!({"reference": "CASE-28", "title": "Recruiter ring"}));
    let case_id = case["id"].as_u64().unwrap();
    app.post_ok(&format!("/api/v1/cases/{case_id}/values"), json!({"kind": "email", "value": "hr@kh-jobs.example"}));
    let ours = app.post_ok("/api/v1/indicators", fixtures::green_phone("+44 7700 900151"))["id"].clone();
    let values = vec![
        NamedValue { kind: Kind::Email, value: "hr@kh-jobs.example".into() },
        NamedValue { kind: Kind::Phone, value: "+447700900151".into() },
        NamedValue { kind: Kind::Phone, value: "+447700900152".into() },
    ];
    let rid = from_agency_3(&app, 1, None, Channel::Network, Body::Request(request("Who knows these?", values)));
    let alerts = app.get_json("/api/v1/alerts");
    let about = |v: &str| alerts.as_array().unwrap().iter().find(|a| a["value"] == v).cloned();
    let by_case = about("hr@kh-jobs.example").expect("an alert for the case's value");
    assert_eq!((by_case["type"].as_str(), by_case["cases"].clone()), (Some("request"), json!([case_id])), "{alerts}");
    assert_eq!(by_case["record"], rid.to_string());
    let by_record = about("+447700900151").expect("an alert for the value we published");
    assert_eq!(by_record["ours"], json!([ours]), "{by_record}");
    assert!(about("+447700900152").is_none(), "a value we know nothing of raises nothing");
    // To us, open; not ours to close.
    assert_eq!(app.get_json("/api/v1/requests?scope=to_us")[0]["request"]["id"], rid.to_string());
    let r = app.post(&format!("/api/v1/requests/{rid}/status"), json!({"status": "closed"}));
    assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (403, Some("not_author")), "{}", r.body);
    // Answering it is ours to do: to its audience, or to a group that
    // includes the asking agency — not to one without it.
    let a = app.post(
        &format!("/api/v1/requests/{rid}/answers"),
        json!({"text": "We hold the e-mail in a case; call our desk.", "tlp": "amber", "group": "mekong"}),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let a = app.post(
        &format!("/api/v1/requests/{rid}/answers"),
        json!({"text": "Not for the asker's eyes.", "tlp": "amber", "group": "west"}),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("asking agency"), "{}", a.body);
    // Its author's later revisions (a status change) alert no one again.
    let before = app.get_json("/api/v1/alerts").as_array().map(Vec::len);
    let mut closed =
        request("Who knows these?", vec![NamedValue { kind: Kind::Email, value: "hr@kh-jobs.example".into() }]);
    closed.status = RequestStatus::Closed;
    let revision =
        Body::Revision(kawan_protocol::Revision { supersedes: rid, content: kawan_protocol::Content::Request(closed) });
    from_agency_3(&app, 2, Some(rid), Channel::Network, revision);
    assert_eq!(app.get_json("/api/v1/alerts").as_array().map(Vec::len), before, "no second alert");
}

/// What a request may not be: empty, an unknown priority or platform, or a
/// broadcast of a value this node records as a victim's.
#[test]
fn a_bad_request_is_refused_naming_what_is_wrong() {
    let app = member_node();
    let refused = |body: serde_json::Value| {
        let r = app.post("/api/v1/requests", body);
        assert!(r.status.is_client_error(), "{}", r.body);
        r.json()
    };
    let e = refused(json!({"question": "  ", "tlp": "green"}));
    assert!(e["message"].as_str().unwrap().contains("question"), "{e}");
    let e = refused(json!({"question": "Q", "tlp": "green", "priority": "asap"}));
    assert!(e["message"].as_str().unwrap().contains("routine, high or urgent"), "{e}");
    let e = refused(json!({"question": "Q", "tlp": "green", "platform": "myspace"}));
    assert_eq!(e["code"], "unknown_platform", "{e}");
    let e = refused(json!({"question": "Q", "tlp": "green", "values": [{"value": "call me maybe"}]}));
    assert_eq!(e["code"], "invalid_value", "{e}");
    let e = refused(json!({"question": "Q", "tlp": "red"}));
    assert!(e["message"].as_str().unwrap().to_lowercase().contains("tlp"), "{e}");

    // A victim's number, shared in the group as AMBER by agency 3: never in a request.
    let mut victim = Indicator::new(Kind::Phone, "+447700900160", IndicatorRole::RecruiterContact, Tlp::Amber);
    victim.subject = Subject::Victim;
    let mekong = Channel::Group(GroupId::new("mekong").unwrap());
    from_agency_3(&app, 1, None, mekong, Body::Indicator(victim));
    let e = refused(json!({"question": "Whose number?", "tlp": "amber", "group": "mekong",
        "values": [{"kind": "phone", "value": "+44 7700 900160"}]}));
    assert_eq!(e["code"], "victim_value", "{e}");
    // So is a number in a case kept out of deconfliction (a victim's case).
    let case = app.post_ok("/api/v1/cases", json!({"reference": "VICTIM-28", "title": "Victim statement"}));
    let case = case["id"].as_u64().unwrap();
    app.post_ok(&format!("/api/v1/cases/{case}/values"), json!({"value": "+44 7700 900161"}));
    app.post_ok(&format!("/api/v1/cases/{case}/deconfliction"), json!({"opt_out": true}));
    let e = refused(json!({"question": "Whose number?", "tlp": "green", "values": [{"value": "+44 7700 900161"}]}));
    assert_eq!(e["code"], "victim_value", "{e}");
    assert_eq!(app.get_json("/api/v1/requests").as_array().map(Vec::len), Some(0), "nothing was published");
}

/// Real nodes: agencies 0–2 share the group "mekong", agency 3 does not;
/// agencies 0 and 1 also share "pair". A request is checked privately
/// first (a value agency 1's case holds stops it, and the value reaches no
/// one); a request on the group reaches its members only; the member whose
/// case holds a requested value is alerted and sends nothing; an answer on
/// "pair" reaches the asker and not the rest of the group. Every message
/// nodes 1–3 received is logged.
#[test]
fn a_request_reaches_its_channel_only_and_is_checked_before_it_is_asked() {
    use kawan_tests::{TestNetwork, fixtures::phone};
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("wire-{i}.bin"));
    let net = TestNetwork::start_with(4, &[("mekong", &[0, 1, 2]), ("pair", &[0, 1])], |i| {
        vec![("KAWAN_WIRE_LOG", log_of(i))]
    });
    net.wait_for(30, "all connected", |net| (0..4).all(|i| net.node(i).connected_peers() >= 3));
    let (asker, holder, member, outsider) = (net.node(0), net.node(1), net.node(2), net.node(3));
    let received = |i: usize| std::fs::read(log_of(i)).unwrap_or_default();
    let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    let case_with = |n: &kawan_tests::TestNode, reference: &str, value: &str| {
        let c = n.post_ok("/api/v1/cases", json!({"reference": reference, "title": "Recruiter ring"}));
        let id = c["id"].as_u64().unwrap();
        n.post_ok(&format!("/api/v1/cases/{id}/values"), json!({"value": value}));
        id
    };

    // Check before asking: agency 1's case holds the number, so the
    // request is not published; the refusal names agency 1. The check is
    // private: its answers are in, so whatever it sent has been received,
    // and neither the number nor the question is in anyone's log.
    let held = phone(931);
    case_with(holder, "CASE-RFI-1", &held);
    let ask = json!({"question": "RFI-GROUP-MARKER: who knows this number?", "tlp": "amber", "group": "mekong",
        "values": [{"value": held}], "priority": "urgent"});
    let r = asker.post("/api/v1/requests", ask.clone());
    assert_eq!((r.status, r.json()["code"].as_str()), (409, Some("holders_found")), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("Agency 1"), "{}", r.body);
    assert_eq!(asker.get_json("/api/v1/requests").as_array().map(Vec::len), Some(0), "nothing published");
    for i in [1, 2, 3] {
        for secret in [held.as_str(), "RFI-GROUP-MARKER"] {
            assert!(!contains(&received(i), secret), "{secret:?} reached node {i} before anything was asked");
        }
    }

    // The same from the terminal: nothing sent, the holder named, exit 1.
    let out = asker
        .cli()
        .args(["request", "create", "RFI-GROUP-MARKER: who knows this number?", "--tlp", "amber"])
        .args(["--group", "mekong", "--value", &held])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("Nothing was sent") && err.contains("--checked"), "{err}");
    assert!(err.contains(&format!("Agency 1 — {held}")), "{err}");

    // The analyst broadcasts it anyway, to the group, naming the check.
    let mut ask = ask;
    ask["checked"] = r.json()["details"]["id"].clone();
    let sent = asker.post_ok("/api/v1/requests", ask);
    let rid = sent["id"].as_str().unwrap().to_string();
    let has_request = |n: &kawan_tests::TestNode| {
        let r = n.get(&format!("/api/v1/requests/{rid}"));
        assert!(matches!(r.status, 200 | 404), "{}", r.body);
        r.status == 200
    };
    net.wait_for(30, "the group's members have the request", |_| has_request(holder) && has_request(member));
    let listed = holder.cli().args(["request", "list", "--scope", "to_us"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(&rid[..8]) && listed.contains("RFI-GROUP-MARKER") && listed.contains("urgent"), "{listed}");
    net.wait_for(30, "the member whose case holds the value is alerted", |_| {
        let alerts = holder.get_json("/api/v1/alerts");
        alerts.as_array().unwrap().iter().any(|a| a["type"] == "request" && a["value"] == held.as_str())
    });

    // An answer only for "pair": the asker gets it, the rest of the group not.
    let answer = holder.post_ok(
        &format!("/api/v1/requests/{rid}/answers"),
        json!({"text": "RFI-ANSWER-MARKER: our desk knows it.", "tlp": "amber", "group": "pair"}),
    );
    net.wait_for(30, "the asker has the answer", |_| {
        asker.get_json(&format!("/api/v1/requests/{rid}"))["answers"][0]["id"] == answer["id"]
    });
    // Both were considered for those outside and held back (see
    // federation.rs on why refusals, then markers, are the evidence).
    net.wait_for(30, "the request's push to the outsider refused", |_| asker.policy_decisions("push", "refused") >= 1);
    net.wait_for(30, "the answer's push outside pair refused", |_| holder.policy_decisions("push", "refused") >= 1);
    let marker = phone(933);
    asker.publish(kawan_tests::fixtures::green_phone(&marker));
    let marker_1 = phone(934);
    holder.publish(
        json!({"kind": "phone", "value": marker_1, "role": "recruiter_contact", "tlp": "amber", "group": "mekong"}),
    );
    let has = |n: &kawan_tests::TestNode, v: &str| {
        let r = n.get(&format!("/api/v1/search?kind=phone&value={}", v.replace('+', "%2B")));
        assert_eq!(r.status, 200, "a failed search must not read as absent: {}", r.body);
        r.json()["hits"].as_array().is_some_and(|h| !h.is_empty())
    };
    net.wait_for(30, "the outsider has the network marker", |_| has(outsider, &marker));
    net.wait_for(30, "the member has the group marker", |_| has(member, &marker_1));
    assert!(!has_request(outsider), "the outsider never has the group's request");
    let seen_by_member = member.get_json(&format!("/api/v1/requests/{rid}"));
    assert_eq!(seen_by_member["answers"], json!([]), "no answer outside its audience");
    assert!(contains(&received(3), &marker), "the log really holds what node 3 received");
    for (i, secret) in [(3, "RFI-GROUP-MARKER"), (3, held.as_str()), (3, "RFI-ANSWER-MARKER"), (2, "RFI-ANSWER-MARKER")]
    {
        assert!(!contains(&received(i), secret), "{secret:?} reached node {i}");
    }
    assert!(contains(&received(2), "RFI-GROUP-MARKER"), "the group member received the request");
    // The holder's case stayed home: nothing about it reached the asker.
    assert!(!contains(&received(0), "CASE-RFI-1"));
}
