//! Watchlists and alerts across real nodes: a partner publishes a value an
//! analyst watches, or that sits in one of the agency's cases, and the
//! analyst is told — in the API, on a live event stream, on the web page —
//! while nothing about the match leaves the node.

use std::{io::BufRead as _, sync::mpsc, time::Duration};

use kawan_tests::{TestNetwork, TestNode, fixtures::phone, web::Browser};
use serde_json::{Value, json};

fn post(n: &TestNode, path: &str, body: Value) -> kawan_tests::http::Response {
    n.request("POST", path, Some(&n.token)).json(&body)
}

fn alerts(n: &TestNode) -> Vec<Value> {
    n.request("GET", "/api/v1/alerts", Some(&n.token)).call().json().as_array().cloned().unwrap_or_default()
}

fn publish(n: &TestNode, value: &str) -> String {
    let r = post(
        n,
        "/api/v1/indicators",
        json!({"kind": "phone", "value": value, "role": "recruiter_contact", "tlp": "green"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

/// The `data:` of the first `alert` event on the node's stream, read on a
/// thread (the stream never ends by itself).
fn first_streamed_alert(n: &TestNode) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    let (url, token) = (format!("{}/api/v1/alerts/stream", n.base), n.token.clone());
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let Ok(resp) = agent.get(&url).header("Authorization", &format!("Bearer {token}")).call() else { return };
        let mut lines = std::io::BufReader::new(resp.into_body().into_reader()).lines();
        let mut alert = false;
        while let Some(Ok(line)) = lines.next() {
            if line == "event: alert" {
                alert = true;
            } else if let (true, Some(data)) = (alert, line.strip_prefix("data: ")) {
                let _ = tx.send(serde_json::from_str(data).unwrap_or(Value::Null));
                return;
            }
        }
    });
    rx
}

#[test]
fn partners_publishing_watched_or_case_values_raise_alerts_here_only() {
    let net = TestNetwork::start(3, &[]);
    let (a, b, c) = (net.node(0), net.node(1), net.node(2));
    let watched = phone(771);
    let in_case = phone(772);

    // Agency 0 watches a number (written loosely), and holds another in a case.
    let w = post(
        a,
        "/api/v1/watchlist",
        json!({"kind": "phone", "value": format!("+44 (0) {}", &watched[3..]), "note": "recruiter in case 17"}),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.json()["value"], watched, "watched in normal form");
    let entry = w.json()["id"].as_u64().unwrap();
    let own = publish(a, &in_case);
    let case = post(a, "/api/v1/cases", json!({"reference": "CASE-17", "title": "Recruitment ring"}));
    let case_id = case.json()["id"].as_u64().unwrap();
    assert_eq!(post(a, &format!("/api/v1/cases/{case_id}/links"), json!({"record": own})).status, 200);
    let bad = post(a, "/api/v1/watchlist", json!({"kind": "phone", "value": "call me"}));
    assert_eq!((bad.status, bad.json()["code"].as_str()), (422, Some("invalid_value")), "{}", bad.body);

    // A live stream is open when agency 1 publishes the watched number.
    let streamed = first_streamed_alert(a);
    std::thread::sleep(Duration::from_millis(300));
    publish(b, &watched);
    let event = streamed.recv_timeout(Duration::from_secs(30)).expect("an alert event on the stream");
    assert_eq!(
        (event["value"].as_str(), event["author_name"].as_str()),
        (Some(watched.as_str()), Some("Agency 1")),
        "{event}"
    );
    assert_eq!(event["watches"], json!([entry]), "{event}");

    // Agency 2 publishes the number agency 0 holds in its case.
    publish(c, &in_case);
    net.wait_for(30, "the case alert", |_| alerts(a).iter().any(|x| x["value"] == in_case));
    let case_alert = alerts(a).into_iter().find(|x| x["value"] == in_case).unwrap();
    assert_eq!((case_alert["cases"].clone(), case_alert["author_name"].clone()), (json!([case_id]), json!("Agency 2")));

    // The watch owner publishing the number itself is not news to it.
    let before = alerts(a).len();
    publish(a, &watched);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(alerts(a).len(), before, "{:?}", alerts(a));

    // Seen, on the API and the web page; the case page says who else is on it.
    let id = event["id"].as_u64().unwrap();
    let ack = post(a, &format!("/api/v1/alerts/{id}/ack"), json!({}));
    assert!(ack.json()["acknowledged_by"].as_str().is_some(), "{}", ack.body);
    let browser = Browser::login(a);
    let (status, html) = browser.get("/alerts");
    assert_eq!(status, 200);
    assert!(html.contains(&in_case) && html.contains("1 unread alert"), "{html}");
    let (_, html) = browser.get(&format!("/cases/{case_id}"));
    assert!(html.contains("Agency 2 published"), "{html}");

    // Nothing about the match left the node: the partners hold no alert.
    for n in [b, c] {
        assert!(alerts(n).is_empty(), "{:?}", alerts(n));
    }
}
