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

/// A node of agency 2 in a network of agencies 1–3, with a group of 2 and 3.
fn member_node() -> App {
    let app = App::named("Agency 2", "TH", fixtures::agency(2));
    let list = fixtures::trust_list(1, &[1, 2, 3], &[("mekong", &[2, 3])]);
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

fn request(question: &str, values: Vec<NamedValue>) -> InfoRequest {
    InfoRequest {
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
    let asked = app.post_ok(
        "/api/v1/requests",
        json!({"question": "Has anyone seen this recruiter's number?\nIt posts typing jobs in Bangkok.",
            "values": [{"value": "+44 7700 900150"}], "platform": "telegram", "priority": "urgent",
            "tlp": "green", "deadline_ms": deadline}),
    );
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

    // Agency 3 answers, to the group of agencies 2 and 3 only.
    let answer = Answer {
        request: id.parse().unwrap(),
        text: "Same number on three ads; the account is @kh_jobs_example.".into(),
        cites: vec![],
        values: vec![NamedValue { kind: Kind::TelegramHandle, value: "kh_jobs_example".into() }],
        tlp: Tlp::Amber,
        review_ms: None,
        handling: None,
        evaluation: None,
    };
    let mekong = Channel::Group(GroupId::new("mekong").unwrap());
    let answer_id = from_agency_3(&app, 1, None, mekong, Body::Answer(answer)).to_string();
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    assert_eq!(thread["answers"][0]["id"], answer_id.as_str(), "{thread}");
    assert_eq!(thread["answers"][0]["channel"], "group:mekong");
    assert_eq!(thread["overdue"], false, "answered: no longer overdue");
    let found = app.get_json("/api/v1/search?type=answer");
    assert_eq!(found["hits"][0]["id"], answer_id.as_str(), "answers are searchable: {found}");

    // The asker marks it useful: the request becomes answered (a revision).
    let r = app.post(&format!("/api/v1/requests/{id}/status"), json!({"useful": [answer_id]}));
    assert_eq!(r.status, 201, "{}", r.body);
    let thread = app.get_json(&format!("/api/v1/requests/{id}"));
    let r = &thread["request"]["content"]["request"];
    assert_eq!((r["status"].as_str(), r["useful"][0].as_str()), (Some("answered"), Some(answer_id.as_str())));
    let not_an_answer = app.post(&format!("/api/v1/requests/{id}/status"), json!({"useful": [id]}));
    assert_eq!(not_an_answer.status, 400, "{}", not_an_answer.body);

    // Closed: no more answers.
    app.post_ok(&format!("/api/v1/requests/{id}/status"), json!({"status": "closed"}));
    let late = app.post(&format!("/api/v1/requests/{id}/answers"), json!({"text": "Late", "tlp": "green"}));
    assert_eq!((late.status.as_u16(), late.json()["code"].as_str()), (409, Some("request_closed")), "{}", late.body);
    assert_eq!(app.get_json("/api/v1/requests?status=closed").as_array().map(Vec::len), Some(1));
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
    // Answering it is ours to do.
    let a = app.post(
        &format!("/api/v1/requests/{rid}/answers"),
        json!({"text": "We hold the e-mail in a case; call our desk.", "tlp": "amber", "group": "mekong"}),
    );
    assert_eq!(a.status, 201, "{}", a.body);
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
    assert_eq!(app.get_json("/api/v1/requests").as_array().map(Vec::len), Some(0), "nothing was published");
}
