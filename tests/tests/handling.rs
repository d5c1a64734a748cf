//! Handling codes and evaluations on every path that leaves the network
//! (docs/data-protection.md, "Handling codes and evaluations"): an H2
//! record without a recorded permission never reaches an export client —
//! CSV, STIX, the MISP feed, TAXII, a platform referral package — while an
//! H0 one does; a permission recorded for it lets it out over its scope
//! until revoked; markings and admiralty tags travel with what goes out.
//! In process (`App`), over the whole HTTP application.

use kawan_node::interop::stix;
use kawan_tests::{app::App, fixtures};
use serde_json::{Value, json};

/// A node of agency 2 in a network of agencies 1–3.
fn member_node() -> App {
    let app = App::named("Agency 2", "TH", fixtures::agency(2));
    app.svc.data().store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
    app
}

/// Publishes a GREEN phone with `extra` fields; its record id.
fn publish(app: &App, phone: &str, extra: Value) -> String {
    let mut body = json!({"kind": "phone", "value": phone, "role": "recruiter_contact", "tlp": "green"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post_ok("/api/v1/indicators", body)["id"].as_str().unwrap().to_string()
}

/// The three records of these tests: H0, H2, and H1 evaluated B2.
struct Records {
    open: String,
    h2: String,
    h1: String,
}

fn records(app: &App) -> Records {
    Records {
        open: publish(app, "07700 900201", json!({})),
        h2: publish(app, "07700 900202", json!({"handling": "H2"})),
        h1: publish(app, "07700 900203", json!({"handling": "H1", "evaluation": "B2"})),
    }
}

/// Which of `ids` each export path lets out: CSV, STIX, MISP, TAXII and
/// the referral package, in that order.
fn exported(app: &App, ids: &[&str]) -> [Vec<bool>; 5] {
    let csv = app.get("/api/v1/export/csv").body;
    let bundle = app.get_json("/api/v1/export/stix");
    let stix_ids: Vec<String> = bundle["objects"].as_array().unwrap().iter().map(|o| o["id"].to_string()).collect();
    let misp = misp_attributes(app);
    let net = app.get_json("/taxii2/api/collections/")["collections"][0]["id"].as_str().unwrap().to_string();
    let taxii = app.get_json(&format!("/taxii2/api/collections/{net}/objects/?limit=1000"));
    let taxii_ids: Vec<String> = taxii["objects"].as_array().unwrap().iter().map(|o| o["id"].to_string()).collect();
    let package = app.get_json("/api/v1/referrals/package?platform=facebook&format=json");
    let rows: Vec<String> =
        package.as_array().unwrap().iter().map(|r| r["value"].as_str().unwrap().to_string()).collect();
    let sid = |id: &str| format!("{:?}", stix::object_id("indicator", &id.parse().unwrap()));
    let value = |id: &str| app.get_json(&format!("/api/v1/records/{id}"))["body"]["indicator"]["value"].clone();
    [
        ids.iter().map(|id| csv.contains(id)).collect(),
        ids.iter().map(|id| stix_ids.contains(&sid(id))).collect(),
        ids.iter().map(|id| misp.iter().any(|a| a["value"] == value(id))).collect(),
        ids.iter().map(|id| taxii_ids.contains(&sid(id))).collect(),
        ids.iter().map(|id| rows.iter().any(|r| value(id) == r.as_str())).collect(),
    ]
}

/// Every attribute of the MISP feed.
fn misp_attributes(app: &App) -> Vec<Value> {
    let manifest = app.get_json("/api/v1/export/misp/manifest.json");
    let mut out = Vec::new();
    for uuid in manifest.as_object().unwrap().keys() {
        let event = app.get_json(&format!("/api/v1/export/misp/{uuid}.json"));
        out.extend(event["Event"]["Attribute"].as_array().unwrap().iter().cloned());
    }
    out
}

/// A facebook referral naming the open and the H2 indicators.
fn refer(app: &App, r: &Records) {
    let subject = |id: &str, phone: &str| json!({"kind": "phone", "value": phone, "record": id});
    app.post_ok(
        "/api/v1/referrals",
        json!({"platform": "facebook", "request": "suspension", "tlp": "green",
               "subjects": [subject(&r.open, "07700 900201"), subject(&r.h2, "07700 900202")]}),
    );
}

/// docs/security.md P-row "an export client receives an H2 record without a
/// recorded permission": it is absent from every export and the referral
/// package while an H0 record is present; a permission lets it out, its
/// revocation withholds it again, and each export's audit entry counts it.
#[test]
fn an_h2_record_leaves_the_network_only_with_a_recorded_permission() {
    let app = member_node();
    let r = records(&app);
    refer(&app, &r);
    let all = |b: bool| vec![b; 1];
    let [csv, stix_, misp, taxii, referral] = exported(&app, &[&r.open, &r.h2]);
    for (path, got) in ["csv", "stix", "misp", "taxii"].iter().zip([csv, stix_, misp, taxii]) {
        assert_eq!(got, vec![true, false], "{path}: the H0 record goes, the H2 one is withheld");
    }
    // The referral names both: its text and signed envelope carry the H2
    // value, so the whole referral stays in.
    assert_eq!(referral, vec![false, false], "a referral naming an H2 indicator is withheld whole");
    let audit = app.svc.data().audit.tail(50).unwrap();
    let detail =
        |action: &str| audit.iter().rev().find(|e| e.action == action).map(|e| e.detail.clone()).unwrap_or_default();
    assert!(detail("export.csv").contains("2 indicators, 1 withheld (H2)"), "{}", detail("export.csv"));
    // The H2 indicator, and the referral whose note would carry its value.
    assert!(detail("export.stix").contains("2 withheld (H2)"), "{}", detail("export.stix"));
    assert!(detail("export.misp").contains("1 withheld (H2)"), "{}", detail("export.misp"));
    assert!(detail("export.taxii").contains("2 withheld (H2)"), "{}", detail("export.taxii"));
    assert!(detail("referral.package").contains("0 rows, 1 withheld (H2)"), "{}", detail("referral.package"));

    // Members read it whole: H2 is about leaving the network.
    let view = app.get_json(&format!("/api/v1/records/{}", r.h2));
    assert_eq!(view["current"]["content"]["indicator"]["handling"], json!({"no_onward": true}), "{view}");

    // A permission for exports only: out through the exports, not into a
    // referral package.
    let granted = app.post_ok(
        "/api/v1/permissions",
        json!({"id": r.h2, "granted_by": "Duty officer, Agency 2 desk", "reference": "SIENA 2026-0042", "scope": "export"}),
    );
    assert_eq!((granted["scope"].as_str(), granted["recorded_by"].as_str()), (Some("export"), Some("analyst")));
    let [csv, stix_, misp, taxii, referral] = exported(&app, &[&r.h2]);
    assert_eq!(
        [csv, stix_, misp, taxii],
        [all(true), all(true), all(true), all(true)],
        "exports follow the permission"
    );
    assert_eq!(referral, all(false), "an export permission does not cover referral packages");

    // All paths, then revoked: withheld everywhere again.
    app.post_ok(
        "/api/v1/permissions",
        json!({"id": r.h2, "granted_by": "Duty officer", "reference": "SIENA 2026-0043", "scope": "all"}),
    );
    for (path, got) in ["csv", "stix", "misp", "taxii", "referral"].iter().zip(exported(&app, &[&r.h2])) {
        assert_eq!(got, all(true), "{path} with a permission for all paths");
    }
    let list = app.get_json("/api/v1/permissions");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "one permission per record: {list}");
    let gone = app.send("DELETE", &format!("/api/v1/permissions/{}", r.h2), Some(&app.analyst), None);
    assert_eq!(gone.status, 200, "{}", gone.body);
    for (path, got) in ["csv", "stix", "misp", "taxii", "referral"].iter().zip(exported(&app, &[&r.h2])) {
        assert_eq!(got, all(false), "{path} after the permission was revoked");
    }
    let actions: Vec<String> = app.svc.data().audit.tail(200).unwrap().into_iter().map(|e| e.action).collect();
    for a in ["permission.grant", "permission.revoke", "permission.list"] {
        assert!(actions.iter().any(|x| x == a), "{a} is audited: {actions:?}");
    }
    let again = app.send("DELETE", &format!("/api/v1/permissions/{}", r.h2), Some(&app.analyst), None);
    assert_eq!(again.status, 404, "{}", again.body);
}

/// Granting needs a record here that carries H2: anything else is 400.
#[test]
fn a_permission_is_refused_for_a_record_without_h2() {
    let app = member_node();
    let r = records(&app);
    for id in [&r.open, &r.h1] {
        let a = app.post("/api/v1/permissions", json!({"id": id, "granted_by": "x", "reference": "y"}));
        assert_eq!(a.status, 400, "{}", a.body);
        assert_eq!(a.json()["code"], "not_h2", "{}", a.body);
    }
    let unknown = "00".repeat(32);
    let a = app.post("/api/v1/permissions", json!({"id": unknown, "granted_by": "x", "reference": "y"}));
    assert_eq!(a.status, 400, "{}", a.body);
    let a = app.post("/api/v1/permissions", json!({"id": r.h2, "granted_by": " ", "reference": "y"}));
    assert_eq!(a.status, 400, "who granted it is required: {}", a.body);
    assert_eq!(app.get_json("/api/v1/permissions"), json!([]));
}

/// STIX: the H1 record's object references the H1 statement marking next
/// to its TLP, the bundle holds that marking, and the evaluation is a
/// custom property. MISP: handling and admiralty-scale tags. CSV: the
/// handling and evaluation columns, last.
#[test]
fn handling_and_evaluation_travel_as_markings_tags_and_columns() {
    let app = member_node();
    let r = records(&app);
    let bundle = app.get_json("/api/v1/export/stix");
    let objects = bundle["objects"].as_array().unwrap();
    let sid = stix::object_id("indicator", &r.h1.parse().unwrap());
    let o = objects.iter().find(|o| o["id"] == sid.as_str()).expect("the H1 indicator");
    let h1 = stix::handling_marking("H1");
    assert_eq!(o["object_marking_refs"], json!([stix::tlp_marking(kawan_protocol::Tlp::Green), h1]), "{o}");
    assert_eq!(o["x_kawan_evaluation"], "B2");
    let marking = objects.iter().find(|m| m["id"] == h1.as_str()).expect("the H1 marking definition in the bundle");
    assert_eq!(marking["type"], "marking-definition");
    assert_eq!(marking["definition_type"], "statement");
    assert!(marking["definition"]["statement"].as_str().unwrap().starts_with("H1: not to be used as evidence"));
    let open = stix::object_id("indicator", &r.open.parse().unwrap());
    let o = objects.iter().find(|o| o["id"] == open.as_str()).expect("the H0 indicator");
    assert_eq!(o["object_marking_refs"].as_array().map(Vec::len), Some(1), "H0 carries its TLP only: {o}");

    let attrs = misp_attributes(&app);
    let value = app.get_json(&format!("/api/v1/records/{}", r.h1))["body"]["indicator"]["value"].clone();
    let a = attrs.iter().find(|a| a["value"] == value).expect("the H1 attribute");
    let tags: Vec<&str> = a["Tag"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    for t in [
        "kawan:handling=\"H1\"",
        "admiralty-scale:source-reliability=\"b\"",
        "admiralty-scale:information-credibility=\"2\"",
    ] {
        assert!(tags.contains(&t), "{t} missing from {tags:?}");
    }

    let csv = app.get("/api/v1/export/csv").body;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[header.len() - 2..], ["handling", "evaluation"], "{csv}");
    let row = lines.find(|l| l.contains(&r.h1)).expect("the H1 row");
    assert!(row.ends_with(",H1,B2"), "{row}");
}

/// The web shows a record's handling and evaluation, and its publish form
/// offers them.
#[test]
fn the_web_shows_and_offers_handling_codes() {
    let app = member_node();
    let r = records(&app);
    let page = app.web_get(&format!("/indicator/{}", r.h1));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("H1: not to be used as evidence"), "{}", page.body);
    assert!(page.body.contains("B2"), "{}", page.body);
    let form = app.web_get("/publish");
    assert!(form.body.contains("name=\"h2\"") && form.body.contains("name=\"evaluation\""), "{}", form.body);
}

/// `kawan permission grant / list / revoke`, end to end through the CLI.
#[test]
fn the_cli_records_lists_and_revokes_a_permission() {
    let n = kawan_tests::TestNode::start("Example Agency", "GB");
    let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": "07700 900204", "role": "recruiter_contact", "tlp": "green", "handling": "H2"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = n.cli().env("LANG", "en").args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let granted = run(&[
        "permission",
        "grant",
        &id,
        "--by",
        "Duty officer",
        "--reference",
        "SIENA 2026-0044",
        "--scope",
        "referral",
    ]);
    assert!(granted.contains(&id) && granted.contains("referral"), "{granted}");
    let list = run(&["permission", "list"]);
    assert!(list.contains(&id) && list.contains("SIENA 2026-0044"), "{list}");
    let revoked = run(&["permission", "revoke", &id]);
    assert!(revoked.contains(&id), "{revoked}");
    let json = run(&["--json", "permission", "list"]);
    assert_eq!(serde_json::from_str::<Value>(json.trim()).unwrap(), json!([]));
}
