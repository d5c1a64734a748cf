//! Lawful processing, as a data-protection officer meets it: consultations
//! logged with the purpose the caller stated (and refused without one where
//! the agency requires it), expired after the configured period; an
//! auditor token that reads the oversight report and the consultation log
//! and nothing else; a signed report that verifies, and fails verification
//! once edited (through the real `kawan oversight verify`).

use std::time::Duration;

use axum::http::StatusCode;
use kawan_node::{local::tokens::Role, service::SignedReport};
use kawan_tests::{app::App, fixtures};

fn node(require_purpose: bool) -> App {
    let app = App::configured("Agency 2", "TH", fixtures::agency(2), |c| {
        c.consultations.require_purpose = require_purpose;
        c.consultations.keep_days = 30;
    });
    app.svc.data().store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
    app
}

const SEARCH: &str = "/api/v1/search?kind=phone&value=07700900101";

#[test]
fn a_consultation_without_a_purpose_is_refused_where_required_and_logged_with_it_where_given() {
    let app = node(true);
    let id =
        app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900101"))["id"].as_str().unwrap().to_string();
    let refused = app.send("GET", SEARCH, Some(&app.analyst), None);
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("purpose_required"), "{}", refused.body);
    // A purpose that says nothing is none: blank, invisible, or a broken encoding.
    for empty in ["   ", "%E2%80%8B", "%FF", "-"] {
        let a = app.send_with("GET", SEARCH, Some(&app.analyst), None, &[("Kawan-Purpose", empty)]);
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{empty:?}: {}", a.body);
    }
    // The live alert stream is refused the same way.
    let stream = app.send("GET", "/api/v1/alerts/stream", Some(&app.analyst), None);
    assert_eq!(stream.status, StatusCode::FORBIDDEN, "{}", stream.body);
    // A purpose in Thai, percent-encoded as the CLI sends it.
    let purpose = "OP-7 ขบวนการจัดหางาน";
    let encoded: String = percent_encode(purpose);
    let given = app.send_with("GET", SEARCH, Some(&app.analyst), None, &[("Kawan-Purpose", &encoded)]);
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    let read = app.send_with(
        "GET",
        &format!("/api/v1/records/{id}"),
        Some(&app.analyst),
        None,
        &[("Kawan-Purpose", "case TH-2026-0113")],
    );
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);

    let log = app.send("GET", "/api/v1/consultations", Some(&app.operator), None).json();
    let log = log.as_array().expect("a list");
    assert_eq!(log.len(), 2, "the refused one showed nothing and is not a consultation: {log:?}");
    assert_eq!(log[0]["user"], "analyst");
    assert_eq!(log[0]["action"], "search");
    assert_eq!(log[0]["purpose"], purpose);
    assert_eq!(log[0]["records"][0], id.as_str());
    assert_eq!(log[1]["purpose"], "case TH-2026-0113");
    // An analyst may not read the log.
    assert_eq!(app.get("/api/v1/consultations").status, StatusCode::FORBIDDEN);

    // Past the configured period, the review sweep expires the log too.
    app.clock.advance(Duration::from_secs(31 * 86_400));
    let swept = app.block_on(app.svc.sweep(kawan_node::service::Caller::system("review sweep"))).unwrap();
    assert_eq!(swept.consultations_expired, 2);
    let log = app.send("GET", "/api/v1/consultations", Some(&app.operator), None).json();
    assert_eq!(log.as_array().map(Vec::len), Some(0));
}

#[test]
fn without_the_requirement_a_consultation_is_logged_with_no_purpose() {
    let app = node(false);
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900102"));
    assert_eq!(app.get("/api/v1/search?kind=phone&value=07700900102").status, StatusCode::OK);
    let log = app.send("GET", "/api/v1/consultations", Some(&app.operator), None).json();
    assert_eq!(log[0]["action"], "search");
    assert!(log[0].get("purpose").is_none(), "{log}");
    assert_eq!(log[0]["count"], 1);
}

#[test]
fn an_auditor_reads_the_report_and_the_log_and_nothing_else() {
    let app = node(false);
    let id =
        app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900103"))["id"].as_str().unwrap().to_string();
    let (auditor, _) = app.svc.data().tokens.create("dpo", Role::Auditor).unwrap();
    for path in [
        SEARCH.to_string(),
        format!("/api/v1/records/{id}"),
        "/api/v1/export/csv".to_string(),
        "/api/v1/cases".to_string(),
        "/api/v1/audit".to_string(),
        "/api/v1/review".to_string(),
    ] {
        let a = app.send("GET", &path, Some(&auditor), None);
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.body);
        assert!(!a.body.contains("07700") && !a.body.contains("447700900103"), "{path} leaked: {}", a.body);
    }
    let published =
        app.send("POST", "/api/v1/indicators", Some(&auditor), Some(&fixtures::green_phone("07700 900104")));
    assert_eq!(published.status, StatusCode::FORBIDDEN);
    assert!(app.block_on(app.svc.start_session(auditor.clone())).is_err(), "no web session for an auditor");

    let report = app.send("GET", "/api/v1/oversight/report", Some(&auditor), None);
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let report = report.json();
    assert_eq!(report["report"]["shared"]["total"], 1);
    assert_eq!(report["report"]["shared"]["by_kind"]["phone"], 1);
    assert_eq!(report["report"]["past_review"], 0);
    assert_eq!(report["report"]["audit"]["verifies"], true);
    assert!(!report.to_string().contains("447700900103"), "the report names no value");
    assert_eq!(app.send("GET", "/api/v1/consultations", Some(&auditor), None).status, StatusCode::OK);
    // An analyst may not read the report.
    assert_eq!(app.get("/api/v1/oversight/report").status, StatusCode::FORBIDDEN);
}

#[test]
fn the_report_verifies_and_fails_verification_once_edited() {
    let app = node(false);
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900105"));
    app.get("/api/v1/search?kind=phone&value=07700900105");
    let html = app.send("GET", "/api/v1/oversight/report?format=html&lang=th", Some(&app.operator), None);
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.body.contains("รายงานการกำกับดูแล"), "in Thai");
    let json = app.send("GET", "/api/v1/oversight/report", Some(&app.operator), None).body;
    SignedReport::verify_file(html.body.as_bytes()).expect("the page verifies");
    SignedReport::verify_file(json.as_bytes()).expect("the JSON verifies");

    let dir = tempfile::tempdir().unwrap();
    let verify = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out =
            kawan_tests::kawan().args(["oversight", "verify"]).arg(&path).env("KAWAN_LANG", "en").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = verify("report.html", &html.body);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Valid"), "{out}");

    // The visible text edited: the page no longer renders from its figures.
    let edited = html.body.replacen("<td class=\"n good\">0</td>", "<td class=\"n good\">00</td>", 1);
    assert_ne!(edited, html.body, "the edit took");
    let (code, out) = verify("edited.html", &edited);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("NOT VALID"), "{out}");
    // A figure in the signed JSON edited: the signature fails.
    let forged = json.replacen("\"past_review\":0", "\"past_review\":1", 1);
    assert_ne!(forged, json);
    assert!(SignedReport::verify_file(forged.as_bytes()).is_err());
    let (code, _) = verify("forged.json", &forged);
    assert_eq!(code, Some(1));
}

#[test]
fn the_web_page_asks_for_a_purpose_once_per_session_and_logs_it_with_each_consultation() {
    let app = node(true);
    app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900106"));
    let session = app.block_on(app.svc.start_session(app.analyst.clone())).unwrap();
    let cookie = format!("{}={session}", kawan_node::http::auth::COOKIE);
    let get = |path: &str| app.send_raw("GET", path, &[("cookie", &cookie), ("accept-language", "en")], String::new());
    // Without a purpose the search is refused, and the page says how to give one.
    let refused = get("/?kind=phone&q=07700900106");
    assert!(refused.body.contains("requires a purpose"), "{}", refused.body);
    assert!(!refused.body.contains("+447700900106") && !refused.body.contains("07700 900106"), "nothing shown");
    let csrf =
        refused.body.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    let form = format!("csrf={csrf}&purpose=OP-7+recruiter+ring");
    let set = app.send_raw(
        "POST",
        "/purpose",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
            ("referer", "http://127.0.0.1:7700/alerts"),
        ],
        form,
    );
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let page = get("/");
    assert!(page.body.contains("value=\"OP-7 recruiter ring\""), "the box shows the purpose: sticky");
    get("/?kind=phone&q=07700900106");
    let log = app.send("GET", "/api/v1/consultations", Some(&app.operator), None).json();
    let searches: Vec<_> = log.as_array().unwrap().iter().filter(|c| c["via"] == "web").collect();
    assert!(!searches.is_empty(), "{log}");
    assert!(searches.iter().all(|c| c["purpose"] == "OP-7 recruiter ring"), "{log}");
    // A purpose form from another site's page goes back home, not there.
    let other = app.send_raw(
        "POST",
        "/purpose",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
            ("referer", "https://evil.example//x"),
        ],
        format!("csrf={csrf}&purpose=x"),
    );
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b' ' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn an_agencys_defaults_give_handling_an_evaluation_and_a_shorter_review_period() {
    const DAY: u64 = 86_400_000;
    let app = App::configured("Agency 2", "TH", fixtures::agency(2), |c| {
        c.publishing.handling = Some("H2".into());
        c.publishing.evaluation = Some("b2".into());
        c.publishing.review_days.insert("indicator".into(), 30);
    });
    app.svc.data().store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
    // The fixtures' list sets no periods; this agency's own applies.
    let id =
        app.post_ok("/api/v1/indicators", fixtures::green_phone("07700 900107"))["id"].as_str().unwrap().to_string();
    let r = app.get_json(&format!("/api/v1/records/{id}"));
    let content = r["current"]["content"]["indicator"].clone();
    assert_eq!(content["handling"]["no_onward"], true, "{r}");
    assert_eq!(content["evaluation"], "B2");
    assert_eq!(content["review_ms"], kawan_tests::app::START_MS + 30 * DAY);
    // The analyst's own choice wins, within the agency's period.
    let mut body = fixtures::green_phone("07700 900108");
    body["handling"] = "H1".into();
    body["review_ms"] = (kawan_tests::app::START_MS + 60 * DAY).into();
    let refused = app.post("/api/v1/indicators", body.clone());
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("beyond_retention"), "{}", refused.body);
    body["review_ms"] = (kawan_tests::app::START_MS + 10 * DAY).into();
    let id = app.post_ok("/api/v1/indicators", body)["id"].as_str().unwrap().to_string();
    let r = app.get_json(&format!("/api/v1/records/{id}"));
    assert_eq!(r["current"]["content"]["indicator"]["handling"]["no_evidence"], true, "{r}");
    assert!(r["current"]["content"]["indicator"]["handling"].get("no_onward").is_none(), "{r}");

    // A default the node cannot read is refused when the config is read.
    let bad = "[agency]\nname = \"A\"\ncountry = \"TH\"\nnetwork = \"n\"\n[api]\nlisten = \"127.0.0.1:7700\"\nmax_body_bytes = 4096\n[p2p]\nlisten = []\nbootstrap = []\n[normalize]\n[paths]\nkey = \"k\"\ndata = \"d\"\ngenesis = \"g\"\n[publishing]\nreview_days = { cats = 3 }\n";
    let e = kawan_node::config::Config::parse(bad, std::path::Path::new("kawan.toml")).unwrap_err().to_string();
    assert!(e.contains("cats") && e.contains("kawan.toml"), "{e}");
}
