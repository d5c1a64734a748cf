//! Referrals to platforms across real nodes: filed at one agency, status
//! updates replicate, another agency says it is still online, a second
//! agency is warned it was already referred, bad updates are refused, and
//! the figures (and the charts drawn from them) match the records.

use kawan_tests::{TestNetwork, TestNode, web::Browser};
use serde_json::{Value, json};

const DAY: u64 = 86_400_000;
const AD: &str = "https://jobs-abroad.example/ads/7731";

fn now() -> u64 {
    kawan_node::clock::Clock::system().now_ms()
}

/// The referral `id` as node `n` sees it, if it does.
fn referral(n: &TestNode, id: &str) -> Option<Value> {
    n.get_json("/api/v1/referrals").as_array()?.iter().find(|h| h["id"] == id).cloned()
}

#[test]
fn a_referral_is_filed_updated_sighted_and_counted_across_agencies() {
    let net = TestNetwork::start(3, &[]);
    let (a, b, c) = (net.node(0), net.node(1), net.node(2));

    // Agency 0 shares the job ad and refers it to Facebook, three days ago.
    let ad = a.post("/api/v1/indicators", json!({"kind": "url", "value": AD, "role": "job_ad", "tlp": "green"}));
    assert_eq!(ad.status, 201, "{}", ad.body);
    let ad_id = ad.json()["id"].as_str().unwrap().to_string();
    let filed_at = now() - 3 * DAY;
    let r = a.post(
        "/api/v1/referrals",
        json!({
            "platform": "Facebook", "request": "takedown", "tlp": "green", "submitted_ms": filed_at,
            "subjects": [{"kind": "url", "value": AD, "record": ad_id}],
            "portal": "https://facebook.example/records", "legal_basis": "Computer Crime Act s.14",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["already_referred"], json!([]));
    let first = r.json()["id"].as_str().unwrap().to_string();

    // Every agency sees it; agency 1, about to refer the same ad, is told.
    net.wait_for(30, "the referral everywhere", |net| (0..3).all(|i| referral(net.node(i), &first).is_some()));
    let told = b.get_json(&format!("/api/v1/referrals/for?kind=url&value={}", urlencode(AD)));
    assert_eq!(told[0]["agency"], "Agency 0", "{told}");
    let second = b.post("/api/v1/referrals",
        json!({
            "platform": "facebook", "request": "suspension", "tlp": "green",
            "subjects": [{"kind": "url", "value": AD}, {"kind": "social_profile", "value": "facebook/jobs.abroad.recruiter"}],
        }),
    );
    assert_eq!(second.status, 201, "{}", second.body);
    let warned = second.json()["already_referred"].clone();
    assert_eq!(
        (warned[0]["agency"].as_str(), warned[0]["id"].as_str()),
        (Some("Agency 0"), Some(first.as_str())),
        "{warned}"
    );
    let second = second.json()["id"].as_str().unwrap().to_string();

    // Only the author moves a referral's status, and only forward.
    let update = |n: &TestNode, id: &str, body: Value| n.post(&format!("/api/v1/referrals/{id}/status"), body);
    let r = update(b, &first, json!({"status": "removed"}));
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("not_author")), "{}", r.body);
    assert_eq!(update(a, &first, json!({"status": "acknowledged", "reference": "FB-LE-991"})).status, 201);
    let acted = update(a, &first, json!({"status": "removed", "at_ms": filed_at + 3 * DAY}));
    assert_eq!(acted.status, 201, "{}", acted.body);
    let r = update(a, &first, json!({"status": "submitted"}));
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("status_backwards")), "{}", r.body);
    let platform_refused = a.post("/api/v1/referrals",
        json!({"platform": "myspace", "request": "takedown", "tlp": "green", "subjects": [{"kind": "url", "value": AD}]}),
    );
    assert_eq!((platform_refused.status, platform_refused.json()["code"].as_str()), (422, Some("unknown_platform")));
    assert!(platform_refused.json()["message"].as_str().unwrap().contains("other:<name>"), "{}", platform_refused.body);
    let no_subject = a.post(
        "/api/v1/referrals",
        json!({"platform": "facebook", "request": "takedown", "tlp": "green", "subjects": []}),
    );
    assert_eq!(
        (no_subject.status, no_subject.json()["code"].as_str()),
        (400, Some("invalid_value")),
        "{}",
        no_subject.body
    );
    let bad_subject = a.post("/api/v1/referrals",
        json!({"platform": "facebook", "request": "takedown", "tlp": "green", "subjects": [{"kind": "url", "value": "not a url"}]}),
    );
    assert_eq!(
        (bad_subject.status, bad_subject.json()["code"].as_str()),
        (422, Some("invalid_value")),
        "{}",
        bad_subject.body
    );
    assert_eq!(a.post("/api/v1/referrals", json!({"platform": "other:jobs-board.example", "request": "takedown", "tlp": "green", "subjects": [{"kind": "url", "value": AD}]})).status, 201);

    // Agency 2 finds the subjects still online and says so.
    let seen = now() - DAY;
    let s = c.post("/api/v1/sightings", json!({"target": first, "verdict": "still_online", "seen_ms": seen}));
    assert_eq!(s.status, 201, "{}", s.body);

    // The status and the sighting replicate to every agency.
    net.wait_for(30, "the update and the sighting everywhere", |net| {
        (0..3).all(|i| {
            referral(net.node(i), &first).is_some_and(|h| {
                h["content"]["referral"]["status"] == "removed" && h["still_online"][0]["seen_ms"] == seen
            })
        })
    });
    let at_b = referral(b, &first).unwrap();
    assert_eq!(at_b["content"]["referral"]["reference"], "FB-LE-991");
    assert_eq!(at_b["revisions"], 2, "{at_b}");

    // The figures are the records' numbers: two Facebook referrals, one
    // actioned after exactly three days, one pending, none declined.
    net.wait_for(30, "agency 1's referral at agency 2", |net| referral(net.node(2), &second).is_some());
    let figures = c.get_json("/api/v1/referrals/figures");
    let fb = figures.as_array().unwrap().iter().find(|f| f["platform"] == "facebook").unwrap().clone();
    assert_eq!(
        (fb["referrals"].as_u64(), fb["actioned"].as_u64(), fb["pending"].as_u64()),
        (Some(2), Some(1), Some(1)),
        "{fb}"
    );
    assert_eq!(fb["median_days_to_action"], 3.0, "{fb}");
    assert_eq!(fb["p90_days_to_action"], 3.0, "{fb}");
    assert_eq!(fb["share_declined_or_unanswered"], 0.0, "{fb}");
    let months: u64 = fb["per_month"].as_object().unwrap().values().filter_map(Value::as_u64).sum();
    assert_eq!(months, 2, "{fb}");

    // The page draws the charts from the same numbers, and tabulates them.
    let browser = Browser::login(c);
    let (status, html) = browser.get("/referrals");
    assert_eq!(status, 200);
    for chart in ["chart-per-month", "chart-days", "chart-declined"] {
        let at = html.find(&format!("id=\"{chart}\"")).unwrap_or_else(|| panic!("{chart} missing"));
        assert!(html[at..].trim_start_matches(|ch| ch != '>').get(1..6) == Some("<svg "), "{chart} is an SVG");
    }
    assert!(html.contains("<td class=\"median\">3.0</td>") && html.contains("<td class=\"share\">0%</td>"), "{html}");
    assert!(html.contains("still online"), "the sighting shows");
    // The indicator page says who referred it.
    let (_, html) = Browser::login(b).get(&format!("/indicator/{ad_id}"));
    assert!(html.contains("Already referred by Agency 0"), "{html}");

    // A takedown package for Facebook, with URLs and signed provenance.
    let csv = a.request("GET", "/api/v1/referrals/package?platform=facebook", Some(&a.token)).call().body;
    assert!(csv.starts_with("referral,request,status,kind,value,url,"), "{csv}");
    assert!(csv.contains(AD) && csv.contains("https://www.facebook.com/jobs.abroad.recruiter"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3, "a row per subject: {csv}");
    let json = a.get_json("/api/v1/referrals/package?platform=facebook&format=json");
    let row = json.as_array().unwrap().iter().find(|r| r["referral"] == first).unwrap();
    assert_eq!(row["agency"], "Agency 0");
    assert!(row["envelope"].as_str().unwrap().len() > 128, "the signed envelope travels with it");

    // The CLI reads the same.
    let out = b.cli().args(["referral", "list", "--platform", "facebook"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("removed") && text.contains("Agency 0"), "{text}");
    let out = b.cli().args(["referral", "update", &second, "--status", "declined"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = b.cli().args(["referral", "update", &second, "--status", "acknowledged"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("forward only"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
