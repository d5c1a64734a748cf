//! Watchlists and alerts across real nodes: a partner publishes a value an
//! analyst watches, or that sits in one of the agency's cases, and the
//! analyst is told — in the API, on a live event stream, on the web page —
//! while nothing about the match leaves the node.

use std::{io::BufRead as _, sync::mpsc, time::Duration};

use kawan_tests::{
    TestNetwork, TestNode,
    fixtures::{green_phone, phone},
    web::Browser,
};
use serde_json::{Value, json};

fn alerts(n: &TestNode) -> Vec<Value> {
    // A failed request must not read as "no alerts".
    let r = n.get_json("/api/v1/alerts");
    r.as_array().cloned().unwrap_or_else(|| panic!("alerts: {r}"))
}

/// The `data:` of the first `alert` event on the node's stream, read on a
/// thread (the stream never ends by itself). Returns once the stream is
/// open: the node subscribes before it answers, so no alert raised after
/// this returns can be missed.
fn first_streamed_alert(n: &TestNode) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    let (open_tx, open_rx) = mpsc::channel();
    let (url, token) = (format!("{}/api/v1/alerts/stream", n.base), n.token.clone());
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let Ok(resp) = agent.get(&url).header("Authorization", &format!("Bearer {token}")).call() else { return };
        let _ = open_tx.send(resp.status().as_u16());
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
    let status = open_rx.recv_timeout(Duration::from_secs(30)).expect("the alert stream opens");
    assert_eq!(status, 200, "the alert stream");
    rx
}

#[test]
fn partners_publishing_watched_or_case_values_raise_alerts_here_only() {
    let net = TestNetwork::start(3, &[]);
    let (a, b, c) = (net.node(0), net.node(1), net.node(2));
    let watched = phone(771);
    let in_case = phone(772);

    // Agency 0 watches a number (written loosely), and holds another in a case.
    let w = a.post(
        "/api/v1/watchlist",
        json!({"kind": "phone", "value": format!("+44 (0) {}", &watched[3..]), "note": "recruiter in case 17"}),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.json()["value"], watched, "watched in normal form");
    let entry = w.json()["id"].as_u64().unwrap();
    let own = a.publish(green_phone(&in_case))["id"].clone();
    let case = a.post("/api/v1/cases", json!({"reference": "CASE-17", "title": "Recruitment ring"}));
    let case_id = case.json()["id"].as_u64().unwrap();
    assert_eq!(a.post(&format!("/api/v1/cases/{case_id}/links"), json!({"record": own})).status, 200);
    let bad = a.post("/api/v1/watchlist", json!({"kind": "phone", "value": "call me"}));
    assert_eq!((bad.status, bad.json()["code"].as_str()), (422, Some("invalid_value")), "{}", bad.body);

    // A live stream is open when agency 1 publishes the watched number.
    let streamed = first_streamed_alert(a);
    b.publish(green_phone(&watched));
    let event = streamed.recv_timeout(Duration::from_secs(30)).expect("an alert event on the stream");
    assert_eq!(
        (event["value"].as_str(), event["author_name"].as_str()),
        (Some(watched.as_str()), Some("Agency 1")),
        "{event}"
    );
    assert_eq!(event["watches"], json!([entry]), "{event}");

    // Agency 2 publishes the number agency 0 holds in its case.
    c.publish(green_phone(&in_case));
    net.wait_for(30, "the case alert", |_| alerts(a).iter().any(|x| x["value"] == in_case));
    let case_alert = alerts(a).into_iter().find(|x| x["value"] == in_case).unwrap();
    assert_eq!((case_alert["cases"].clone(), case_alert["author_name"].clone()), (json!([case_id]), json!("Agency 2")));

    // The watch owner publishing the number itself is not news to it. The
    // marker: a colleague at the same agency then publishes the same number
    // the same way (a publish here, looked at for watched values), which is
    // news to the owner. Once the colleague's alert is in, the owner's
    // earlier record has had its look too, and raised nothing.
    let before = alerts(a).len();
    let by_owner = a.publish(green_phone(&watched))["id"].clone();
    let colleague = a.new_token("analyst");
    let r = a.request("POST", "/api/v1/indicators", Some(&colleague)).json(&green_phone(&watched));
    assert_eq!(r.status, 201, "{}", r.body);
    let by_colleague = r.json()["id"].as_str().unwrap().to_string();
    net.wait_for(30, "the colleague's record alerts the owner", |_| {
        alerts(a).iter().any(|x| x["record"] == by_colleague)
    });
    let now = alerts(a);
    assert!(!now.iter().any(|x| x["record"] == by_owner), "the owner was alerted to its own record: {now:?}");
    assert_eq!(now.len(), before + 1, "only the colleague's record alerted: {now:?}");
    // Read, so that what follows counts as before.
    let marker = now.iter().find(|x| x["record"] == by_colleague).unwrap()["id"].as_u64().unwrap();
    let ack = a.post(&format!("/api/v1/alerts/{marker}/ack"), json!({}));
    assert!(ack.json()["acknowledged_by"].as_str().is_some(), "{}", ack.body);

    // Seen, on the API and the web page; the case page says who else is on it.
    let id = event["id"].as_u64().unwrap();
    let ack = a.post(&format!("/api/v1/alerts/{id}/ack"), json!({}));
    assert!(ack.json()["acknowledged_by"].as_str().is_some(), "{}", ack.body);
    let browser = Browser::login(a);
    let (status, html) = browser.get("/alerts");
    assert_eq!(status, 200);
    assert!(html.contains(&in_case) && html.contains("1 unread alert"), "{html}");
    let (_, home) = browser.get("/");
    assert!(home.contains("1 unread alert(s)"), "the home page says so: {home}");
    // The home page: partners' new records by agency and kind (in words),
    // what waits, the network, and charts drawn with their numbers.
    assert!(home.contains("In the last day") && home.contains("new record(s) from partners"), "{home}");
    assert!(home.contains("Agency 1: <strong>1</strong>") && home.contains("Agency 2: <strong>1</strong>"), "{home}");
    assert!(home.contains("Phone numbers: <strong>2</strong>") && home.contains("Whole network"), "{home}");
    assert!(home.contains("2 of 2 partner node(s) connected"), "{home}");
    assert_eq!(home.matches("<svg").count(), 2, "weekly charts (platforms and countries are empty): {home}");
    assert!(home.contains("Records per week, by kind") && !home.contains(">phone<"), "human labels only");
    let (_, again) = browser.get("/");
    assert!(again.contains("Since your last visit") && again.contains("No new records from partners"), "{again}");
    let (_, html) = browser.get(&format!("/cases/{case_id}"));
    assert!(html.contains("Agency 2 published"), "{html}");

    // Nothing about the match left the node: the partners hold no alert.
    for n in [b, c] {
        assert!(alerts(n).is_empty(), "{:?}", alerts(n));
    }
}

/// Requests a case system received: headers and body.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A stand-in for the agency's case system: records every request, answers
/// 500 to the first `flaky` requests and to any body holding `refuse`.
fn case_system(flaky: usize, refuse: String) -> (String, Requests) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/kawan-alerts", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then Content-Length bytes of body.
            let (head, body) = loop {
                let Ok(k) = s.read(&mut chunk) else { break (String::new(), Vec::new()) };
                buf.extend_from_slice(&chunk[..k]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let Ok(k) = s.read(&mut chunk) else { break };
                        if k == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    break (head, buf[end + 4..].to_vec());
                }
                if k == 0 {
                    break (String::new(), Vec::new());
                }
            };
            let fail = n < flaky || String::from_utf8_lossy(&body).contains(&refuse);
            log.lock().unwrap().push((head, body));
            let status = if fail { "500 Internal Server Error" } else { "204 No Content" };
            let _ =
                s.write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn alerts_reach_the_case_system_signed_with_retries_and_failures_are_kept() {
    let mut net = TestNetwork::start(2, &[]);
    let (delivered, refused) = (phone(781), phone(782));
    let (url, seen) = case_system(2, refused.clone());
    let secret = "a-long-shared-secret-for-the-case-system";
    // The operator configures the webhook and restarts the node.
    net.stop(0);
    let config = net.dir(0).join("kawan.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace("# webhook = \"https://cases.agency.example/kawan-alerts\"", &format!("webhook = \"{url}\""))
        .replace(
            "# webhook_secret = \"a long random string shared with the case system\"",
            &format!("webhook_secret = \"{secret}\""),
        );
    std::fs::write(&config, text).unwrap();
    net.restart(0);
    let (a, b) = (net.node(0), net.node(1));
    for v in [&delivered, &refused] {
        assert_eq!(a.post("/api/v1/watchlist", json!({"kind": "phone", "value": v})).status, 201);
    }

    // Delivered on the third attempt, signed over the exact body.
    b.publish(green_phone(&delivered));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !seen.lock().unwrap().iter().any(|(_, body)| String::from_utf8_lossy(body).contains(&delivered))
        || seen.lock().unwrap().len() < 3
    {
        assert!(std::time::Instant::now() < deadline, "the alert never reached the case system");
        std::thread::sleep(Duration::from_millis(100));
    }
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "two failures, then delivered");
    let (head, body) = &requests[2];
    let sig = head
        .lines()
        .find_map(|l| l.strip_prefix("x-kawan-signature: ").or_else(|| l.strip_prefix("X-Kawan-Signature: ")))
        .unwrap();
    assert_eq!(sig, kawan_node::webhook::signature(secret, body), "{head}");
    assert_ne!(sig, kawan_node::webhook::signature("another secret of some length", body));
    let alert: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(alert["value"], delivered);

    // A delivery that never succeeds is kept for operators.
    b.publish(green_phone(&refused));
    net.wait_for(40, "a dead letter", |net| {
        let n = net.node(0);
        let d = n.request("GET", "/api/v1/alerts/dead-letters", Some(&n.token)).call().json();
        d.as_array().is_some_and(|d| d.len() == 1 && d[0]["attempts"] == 5)
    });
    assert_eq!(alerts(a).len(), 2, "both alerts stay readable in the API");
}
