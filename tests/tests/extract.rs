//! Free text to indicators, as analysts meet it: `kawan extract --json`
//! (the real binary) over a corpus of job ads, chats and reports in the
//! region's languages, with the values each holds and the traps (dates,
//! prices, file names, platform hosts, bad checksums) it must not report;
//! precision and recall printed, and held to a floor. `POST
//! /api/v1/extract` answers the same shape. All values fictional.

use std::collections::BTreeSet;

use kawan_tests::{app::App, kawan};

/// A text, its region, and the (kind, normal form) of every indicator in it.
type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const CORPUS: &[Case] = &[
    (
        "URGENT HIRING customer service Cambodia, salary $1,500/month, free visa & flight!! \
         Contact HR +44 7700 900123 (WhatsApp) or Telegram @kh_jobs_example. Apply: https://kh-jobs.example/apply",
        "TH",
        &[("phone", "+447700900123"), ("telegram_handle", "kh_jobs_example"), ("url", "https://kh-jobs.example/apply")],
    ),
    (
        "Lowongan kerja admin di Myanmar, gaji Rp 15.000.000, berangkat 12/01/2027. Hubungi 0812-3456-7890 \
         atau wa.me/6281234567891. Email hrd[at]loker-asia[.]example",
        "ID",
        &[("phone", "+6281234567890"), ("phone", "+6281234567891"), ("email", "hrd@loker-asia.example")],
    ),
    (
        "รับสมัครพนักงานแอดมิน ไม่ต้องมีประสบการณ์ เงินเดือน 35,000 บาท ติดต่อ 081 234 5678 \
         ไอดีไลน์: jobs_th88 สมัครที่ hxxps://th-work[.]example/form",
        "TH",
        &[("phone", "+66812345678"), ("line_id", "jobs_th88"), ("url", "https://th-work.example/form")],
    ),
    (
        "[12/03/2026, 21:14] Recruiter: transfer the deposit 500 USDT to TJRabPrwbZy45sbavfcjinPJC18kjpRTv8\n\
         [12/03/2026, 21:15] Recruiter: or ETH 0x52908400098527886E0F7030069857D2E4169EE7",
        "TH",
        &[
            ("tron_address", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"),
            ("evm_address", "0x52908400098527886e0f7030069857d2e4169ee7"),
        ],
    ),
    (
        "Fraud report 2026-11-03: victims were sent to recruit-portal.example and 192.0.2.44; the ad text is in \
         screenshot.png and report.pdf. See facebook.com for the page.",
        "GB",
        &[("domain", "recruit-portal.example"), ("ip", "192.0.2.44")],
    ),
    (
        "高薪招聘 客服 月薪3万 加微信 wx_jobs_example 或 Telegram t.me/s/cn_jobs_example 联系",
        "TH",
        &[("wechat_id", "wx_jobs_example"), ("telegram_handle", "cn_jobs_example")],
    ),
    (
        "Tuyển dụng nhân viên tại Campuchia, lương cao, liên hệ +84 91 234 56 78 hoặc email tuyendung@vn-jobs.example",
        "VN",
        &[("phone", "+84912345678"), ("email", "tuyendung@vn-jobs.example")],
    ),
    (
        "Version 2.4.1 released on 2026-01-05 at 10:30. Price 1.299,00. Call 0491 570 156 for details.",
        "AU",
        &[("phone", "+61491570156")],
    ),
    (
        "Link: https://line.me/ti/p/~agent_kh77 and the group https://t.me/joinchat/AAAAexample, site www.kh-casino-jobs.example",
        "TH",
        // An invite link is an indicator of its own; the site's normal form ends with `/`.
        &[
            ("line_id", "agent_kh77"),
            ("url", "https://t.me/joinchat/AAAAexample"),
            ("url", "https://www.kh-casino-jobs.example/"),
        ],
    ),
    (
        "No indicators here: meeting at 14:00 on 05.12.2026, budget 20,000,000 VND, file notes.docx, https://www.facebook.com/",
        "VN",
        &[],
    ),
];

fn extract_cli(text: &str, region: &str) -> BTreeSet<(String, String)> {
    use std::io::Write as _;
    let mut child = kawan()
        .args(["--json", "extract", "--region", region])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got = BTreeSet::new();
    for f in json["indicators"].as_array().unwrap() {
        let (start, end) = (f["start"].as_u64().unwrap() as usize, f["end"].as_u64().unwrap() as usize);
        assert_eq!(&text[start..end], f["text"].as_str().unwrap(), "offsets slice the input to the text: {f}");
        got.insert((f["kind"].as_str().unwrap().to_string(), f["value"].as_str().unwrap().to_string()));
    }
    got
}

#[test]
fn the_corpus_is_read_with_high_precision_and_recall() {
    let (mut right, mut reported, mut expected) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for (text, region, want) in CORPUS {
        let got = extract_cli(text, region);
        let want: BTreeSet<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        right += got.intersection(&want).count();
        reported += got.len();
        expected += want.len();
        if got != want {
            misses.push(format!(
                "{text}\n  extra {:?}\n  missed {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    let precision = right as f64 / reported.max(1) as f64;
    let recall = right as f64 / expected.max(1) as f64;
    println!("extraction over {} texts: precision {precision:.3}, recall {recall:.3}", CORPUS.len());
    for m in &misses {
        println!("{m}");
    }
    assert!(precision >= 0.9 && recall >= 0.9, "precision {precision:.3}, recall {recall:.3}:\n{}", misses.join("\n"));
}

#[test]
fn the_api_answers_the_same_shape() {
    let app = App::new();
    let a = app.post_ok("/api/v1/extract", serde_json::json!({"text": "call +44 7700 900124 now", "region": "GB"}));
    assert_eq!(a["indicators"][0]["kind"], "phone", "{a}");
    assert_eq!(a["indicators"][0]["value"], "+447700900124");
    assert_eq!((a["indicators"][0]["start"].as_u64(), a["indicators"][0]["end"].as_u64()), (Some(5), Some(20)));
    let bad = app.post("/api/v1/extract", serde_json::json!({"text": "x", "region": "XX"}));
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);
}

/// A node of agency 2 in a network of agencies 1–3.
fn member_node() -> App {
    let app = App::named("Agency 2", "TH", kawan_tests::fixtures::agency(2));
    app.svc.data().store.install_genesis(&kawan_tests::fixtures::trust_list(1, &[1, 2, 3], &[])).expect("genesis");
    app
}

/// Screening answers, for each value in the text, what the node knows:
/// the shared record about it, the watchlist entry, the case that holds
/// it; and the text's red flags and the typology whose lure it repeats.
#[test]
fn screening_checks_every_value_against_the_node() {
    let app = member_node();
    let known = app.post_ok("/api/v1/indicators", kawan_tests::fixtures::green_phone("+44 7700 900131"))["id"].clone();
    app.post_ok("/api/v1/watchlist", serde_json::json!({"kind": "telegram_handle", "value": "@kh_desk_example"}));
    let case = app.post_ok("/api/v1/cases", serde_json::json!({"reference": "CASE-27", "title": "Recruiter ring"}));
    let case_id = case["id"].as_u64().unwrap();
    app.post_ok(
        &format!("/api/v1/cases/{case_id}/values"),
        serde_json::json!({"kind": "email", "value": "hr@kh-jobs.example"}),
    );
    app.post_ok(
        "/api/v1/typologies",
        serde_json::json!({"content": {"title": "Fake typing jobs abroad", "stage": "recruitment", "tlp": "green",
            "summary": "Typing jobs abroad that end in a compound.", "lures": ["typing job in Bangkok"]}}),
    );
    let text = "Typing job in Bangkok, no experience needed! Call +44 7700 900131 or +44 7700 900132, \
                Telegram @kh_desk_example, CV to hr@kh-jobs.example";
    let s = app.post_ok("/api/v1/screen", serde_json::json!({"text": text, "region": "TH"}));
    let by_value = |v: &str| {
        s["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["value"] == v)
            .unwrap_or_else(|| panic!("{v} in {s}"))
            .clone()
    };
    let phone = by_value("+447700900131");
    assert_eq!((phone["known"].as_bool(), phone["hits"][0]["id"].clone()), (Some(true), known), "{phone}");
    assert_eq!(by_value("+447700900132")["known"], false);
    assert_eq!(by_value("kh_desk_example")["watched"].as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(by_value("hr@kh-jobs.example")["cases"], serde_json::json!([case_id]), "{s}");
    assert!(s["red_flags"].as_array().unwrap().iter().any(|f| f["flag"] == "no_experience"), "{s}");
    let signal = &s["typologies"][0];
    assert_eq!(
        (signal["title"].as_str(), signal["text"].as_str()),
        (Some("Fake typing jobs abroad"), Some("Typing job in Bangkok"))
    );
    // Each span slices the text.
    for f in s["indicators"].as_array().unwrap().iter().chain(s["red_flags"].as_array().unwrap()) {
        let (a, b) = (f["start"].as_u64().unwrap() as usize, f["end"].as_u64().unwrap() as usize);
        assert_eq!(&text[a..b], f["text"].as_str().unwrap());
    }
}

/// A file uploaded to `/api/v1/screen` is read by its format; the answer
/// carries the text the offsets index. A file that cannot be read is
/// refused, naming why.
#[test]
fn an_uploaded_file_is_read_by_its_format() {
    let app = member_node();
    let boundary = "XkawanX";
    let upload = |name: &str, body: &str| {
        let form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"region\"\r\n\r\nTH\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{body}\r\n--{boundary}--\r\n"
        );
        let auth = format!("Bearer {}", app.analyst);
        app.send_raw(
            "POST",
            "/api/v1/screen",
            &[("authorization", auth.as_str()), ("content-type", &format!("multipart/form-data; boundary={boundary}"))],
            form,
        )
    };
    let page = upload("ad.html", "<p>Apply <a href=\"https://kh-jobs.example/apply\">here</a></p>");
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    let s = page.json();
    assert_eq!(s["format"], "html");
    let f = &s["indicators"][0];
    assert_eq!(f["value"], "https://kh-jobs.example/apply", "{s}");
    let (a, b) = (f["start"].as_u64().unwrap() as usize, f["end"].as_u64().unwrap() as usize);
    assert_eq!(&s["text"].as_str().unwrap()[a..b], f["text"].as_str().unwrap());
    let bad = upload("export.pdf", "not a pdf at all");
    assert_eq!((bad.status.as_u16(), bad.json()["code"].as_str()), (400, Some("unreadable_file")), "{}", bad.body);
    assert!(bad.json()["message"].as_str().unwrap().contains("PDF"), "{}", bad.body);
}
