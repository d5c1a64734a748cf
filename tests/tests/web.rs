//! The web page over real HTTP: login cookie, escaping, CSRF, search, bulk
//! check, publish, cases. (Browser-driven tests are the next step, issue #7.)

use kawan_tests::TestNode;
use serde_json::json;

use kawan_tests::web::{Browser, agent, follow_login_link, post_login};

#[test]
fn login_search_escape_csrf_bulk_publish_and_cases() {
    let n = TestNode::start("Example Agency", "GB");
    // Without a session every page sends the browser to the login page.
    let anon = agent();
    assert_eq!(anon.get(format!("{}/", n.base)).call().unwrap().status(), 303);
    assert_eq!(post_login(&anon, &n.base, "kawan_nope").status(), 401);
    // A login form posted from elsewhere (no login cookie, or the wrong one) is refused.
    let forged = anon.post(format!("{}/login", n.base)).send_form([("token", n.token.as_str()), ("login_csrf", "x")]);
    assert_eq!(forged.unwrap().status(), 403);

    let xss = "<script>alert('x')</script>";
    let r = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": "+447700900901", "role": "recruiter_contact", "tlp": "green", "description": xss
    }));
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_string();

    let b = Browser::login(&n);
    let (s, html) = b.get("/?q=%2B44+%280%297700+900901");
    assert_eq!(s, 200);
    assert!(html.contains("+447700900901") && html.contains("Matched as"), "{html}");
    let (_, detail) = b.get(&format!("/indicator/{id}"));
    assert!(!detail.contains(xss), "a description is never markup");
    assert!(detail.contains("&lt;script&gt;"), "it is shown as text");

    // Forms without the session's CSRF token are refused.
    let (s, _) = b.post(
        "/publish",
        &[("csrf", "forged"), ("kind", "domain"), ("value", "x.example"), ("role", "job_ad"), ("tlp", "green")],
    );
    assert_eq!(s, 403);
    let csrf = b.csrf();
    let (s, _) = b.post(
        "/publish",
        &[
            ("csrf", &csrf),
            ("kind", "domain"),
            ("value", "Jobs-Web[.]example"),
            ("role", "job_ad"),
            ("tlp", "green"),
            ("group", ""),
            ("confidence", "70"),
            ("description", ""),
        ],
    );
    assert_eq!(s, 303, "published and redirected to the record");
    let (_, html) = b.get("/?q=jobs-web.example");
    assert!(html.contains("jobs-web.example") && html.contains("Example Agency"), "{html}");
    let (s, html) = b.post(
        "/publish",
        &[
            ("csrf", &csrf),
            ("kind", "phone"),
            ("value", "not a phone"),
            ("role", "job_ad"),
            ("tlp", "green"),
            ("group", ""),
            ("confidence", "50"),
            ("description", ""),
        ],
    );
    assert_eq!(s, 422);
    assert!(html.contains("invalid phone"), "the reason is shown inline");

    // A bulk check of 1,000 values, and its CSV.
    let values: String = (0..1000).map(|i| format!("+4477009{:05}\n", i + 900)).collect();
    let (s, html) = b.post("/bulk", &[("csrf", &csrf), ("values", &values)]);
    assert_eq!(s, 200);
    assert!(
        html.contains("<strong>1000</strong> values: <strong>1</strong> with hits"),
        "{}",
        &html[..html.len().min(2000)]
    );
    let (_, csv) = b.post("/bulk", &[("csrf", &csrf), ("values", "+447700900901\nnonsense value"), ("format", "csv")]);
    assert!(csv.starts_with("input,kind,value,status"), "{csv}");
    assert!(csv.contains(",hit,") && csv.contains(",invalid,"), "{csv}");
    // The same from an uploaded file, without JavaScript (multipart).
    let boundary = "kawan-web-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.txt\"\r\nContent-Type: text/plain\r\n\r\n{values}\r\n--{boundary}--\r\n"
    );
    let mut r = b
        .agent
        .post(format!("{}/bulk/file", b.base))
        .header("Cookie", &b.cookie)
        .header("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
        .send(body.as_bytes())
        .unwrap();
    let html = r.body_mut().read_to_string().unwrap();
    assert!(
        html.contains("<strong>1000</strong> values: <strong>1</strong> with hits"),
        "{}",
        &html[..html.len().min(2000)]
    );

    // Cases say where they stay.
    let c =
        n.request("POST", "/api/v1/cases", Some(&n.token)).json(&json!({"reference": "OP-WEB-1", "title": "Web case"}));
    assert_eq!(c.status, 201);
    let (_, html) = b.get("/cases");
    assert!(html.contains("stay on this node") && html.contains("OP-WEB-1"));
    let case_id = c.json()["id"].as_u64().unwrap();
    let l = n.request("POST", &format!("/api/v1/cases/{case_id}/links"), Some(&n.token)).json(&json!({"record": id}));
    assert_eq!(l.status, 200);
    let (s, html) = b.get(&format!("/cases/{case_id}"));
    assert_eq!(s, 200);
    assert!(html.contains("stays on this node") && html.contains("+447700900901"), "the case shows its linked record");
    let (s, html) = b.get("/network");
    assert_eq!(s, 200, "the operator sees the network page");
    assert!(html.contains("Audit log"));
}

#[test]
fn one_time_login_links_and_the_knowledge_form() {
    let n = TestNode::start("Example Agency", "GB");
    let r = n.request("POST", "/api/v1/login-links", Some(&n.token)).json(&json!({}));
    assert_eq!(r.status, 201, "{}", r.body);
    let path = r.json()["path"].as_str().unwrap().to_string();
    let agent = agent();
    // Opening the link logs nobody in; the page says whom it would.
    let (page, first) = follow_login_link(&agent, &n.base, &path);
    assert!(page.contains("Log in as operator"), "{page}");
    let first = first.unwrap();
    assert_eq!(first.status(), 303);
    let cookie = first.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let (page, again) = follow_login_link(&agent, &n.base, &path);
    assert!(again.is_none() && page.contains("used or has expired"), "a link works once: {page}");
    // Another site cannot press the button for a browser: without the
    // page's own cookie the form is refused (login CSRF).
    let r = n.request("POST", "/api/v1/login-links", Some(&n.token)).json(&json!({}));
    let code = r.json()["path"].as_str().unwrap().trim_start_matches("/login/once/").to_string();
    let forged = agent.post(format!("{}/login/once", n.base)).send_form([("code", code.as_str()), ("login_csrf", "x")]);
    assert_eq!(forged.unwrap().status(), 403);

    let b = Browser::login(&n);
    let csrf = b.csrf();
    let (s, _) = b.post(
        "/publish/knowledge",
        &[
            ("csrf", &csrf),
            ("what", "technique"),
            ("title", "Reverse-search a recruiter photo"),
            ("text", "Find reused profile pictures"),
            ("stage", "recruitment"),
            ("steps", "Hash the image\nLook it up"),
            ("tlp", "green"),
            ("group", ""),
        ],
    );
    assert_eq!(s, 303);
    let (_, html) = b.get("/library?q=recruiter+photo");
    assert!(html.contains("Reverse-search a recruiter photo") && html.contains("Look it up"), "{html}");
    let (s, _) = b.post(
        "/publish/knowledge",
        &[
            ("csrf", "forged"),
            ("what", "typology"),
            ("title", "x"),
            ("text", "y"),
            ("stage", "scam"),
            ("steps", ""),
            ("tlp", "green"),
        ],
    );
    assert_eq!(s, 403);
}

#[test]
fn sessions_end_on_logout_and_with_their_token_and_pages_carry_security_headers() {
    let n = TestNode::start("Example Agency", "GB");
    let b = Browser::login(&n);
    let mut page = b.agent.get(format!("{}/bulk", n.base)).header("Cookie", &b.cookie).call().unwrap();
    let h = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let csp = h("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(
        (h("x-content-type-options"), h("referrer-policy"), h("x-frame-options")),
        ("nosniff".into(), "no-referrer".into(), "DENY".into())
    );
    let _ = page.body_mut().read_to_string();

    // Logging out ends the session on the server: the old cookie is dead.
    let csrf = b.csrf();
    let (s, _) = b.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(s, 303);
    assert_eq!(b.get("/").0, 303, "the old session cookie no longer logs in");

    // Revoking a token ends the sessions made with it.
    let r = n.request("POST", "/api/v1/tokens", Some(&n.token)).json(&json!({"name": "temp", "role": "analyst"}));
    let temp = r.json()["token"].as_str().unwrap().to_string();
    let agent = agent();
    let resp = post_login(&agent, &n.base, &temp);
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    assert_eq!(agent.get(format!("{}/", n.base)).header("Cookie", &cookie).call().unwrap().status(), 200);
    assert_eq!(n.request("DELETE", "/api/v1/tokens/temp", Some(&n.token)).call().status, 204);
    assert_eq!(agent.get(format!("{}/", n.base)).header("Cookie", &cookie).call().unwrap().status(), 303);

    // Behind a TLS proxy the cookie is Secure.
    let mut login = agent.get(format!("{}/login", n.base)).header("X-Forwarded-Proto", "https").call().unwrap();
    let set = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set.contains("Secure"), "{set}");
    let _ = login.body_mut().read_to_string();
}

#[test]
fn one_token_holder_cannot_push_out_anothers_login_links() {
    let n = TestNode::start("Example Agency", "GB");
    let r = n.request("POST", "/api/v1/tokens", Some(&n.token)).json(&json!({"name": "other", "role": "analyst"}));
    let other = r.json()["token"].as_str().unwrap().to_string();
    let link =
        |t: &str| n.request("POST", "/api/v1/login-links", Some(t)).call().json()["path"].as_str().unwrap().to_string();
    let theirs = link(&other);
    let first_of_mine = link(&n.token);
    for _ in 0..30 {
        link(&n.token);
    }
    let agent = agent();
    let open = |path: &str| follow_login_link(&agent, &n.base, path).1.map(|r| r.status().as_u16());
    assert_eq!(open(&first_of_mine), None, "a holder's own oldest link goes first");
    assert_eq!(open(&theirs), Some(303), "another holder's link still works");
}

/// The page in the region's languages: from the browser's Accept-Language,
/// or the switch in the header (remembered in a cookie). Nothing on the
/// translated pages stays in English or shows a message id.
/// The text a reader sees: no markup, no attributes, and no detail the node
/// marks as English (`lang="en"`: a refusal's technical detail).
fn visible_words(html: &str) -> String {
    let mut words = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        words.push_str(&rest[..i]);
        words.push(' ');
        let tag_end = rest[i..].find('>').map_or(rest.len(), |j| i + j + 1);
        let tag = &rest[i..tag_end];
        rest = &rest[tag_end..];
        if tag.starts_with("<span") && tag.contains("lang=\"en\"") {
            rest = rest.find("</span>").map_or("", |j| &rest[j..]);
        }
    }
    words.push_str(rest);
    words.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

#[test]
fn the_home_page_speaks_thai_and_indonesian() {
    let n = TestNode::start("Localised Agency", "TH");
    let b = kawan_tests::web::Browser::login(&n);
    let get = |path: &str, extra: &[(&str, &str)]| {
        let mut req = b.agent.get(format!("{}{path}", b.base)).header("Cookie", &b.cookie);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let mut r = req.call().unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
    };
    let (_, th) = get("/", &[("Accept-Language", "th-TH,th;q=0.9,en;q=0.5")]);
    assert!(
        th.contains("<html lang=\"th\">") && th.contains("หน้าแรก") && th.contains("ไม่มีข้อมูลใหม่จากหน่วยงานพันธมิตร"),
        "{th}"
    );
    assert!(th.contains("หมายเลขโทรศัพท์"), "kind names in Thai: {th}");
    let case = n
        .request("POST", "/api/v1/cases", Some(&n.token))
        .json(&serde_json::json!({"reference": "OP-TH-1", "title": "t"}));
    let case = case.json()["id"].as_u64().unwrap();
    let ind = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&serde_json::json!({
        "kind": "phone", "value": "+447700900962", "role": "recruiter_contact", "subject": "suspect", "tlp": "green",
        "basis": "assessment", "confidence": 60}));
    let ind = ind.json()["id"].as_str().unwrap().to_string();
    let en = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../node/src/http/web/i18n/en.ftl")).unwrap();
    for page in [
        "/".to_string(),
        "/?q=%2B447700900961".into(),
        "/cases".into(),
        format!("/cases/{case}"),
        "/alerts".into(),
        "/deconflict".into(),
        format!("/indicator/{ind}"),
        "/bulk".into(),
        "/screen".into(),
        "/network".into(),
        "/publish".into(),
        "/library".into(),
        "/referrals".into(),
        "/requests".into(),
        "/indicator/no-such-record".into(),
    ] {
        let mut strays = vec![];
        let (status, html) = get(&page, &[("Accept-Language", "th")]);
        assert_eq!(status, if page.contains("no-such") { 404 } else { 200 }, "{page}");
        let words = visible_words(&html);
        // A string in the program rather than the message files shows as
        // English words on a Thai page; what may be Latin is data the test
        // created and names no one translates.
        let data = [
            "Localised",
            "Agency",
            "operator",
            "TLP",
            "CLEAR",
            "GREEN",
            "AMBER",
            "STRICT",
            "RED",
            "Kawan",
            "English",
            "Bahasa",
            "Indonesia",
            "UTC",
            "JSON",
            "CSV",
            "PDF",
            "URL",
            "IBAN",
            "BIC",
            "Telegram",
            "WhatsApp",
            "LINE",
            "Facebook",
            "Instagram",
            "TikTok",
            "Viber",
            "Signal",
            "WeChat",
            "Zalo",
            "KakaoTalk",
            "genesis",
            "value", // the name of a CSV column, typed as is
            "TRON",
            "Ethereum",
            "Bitcoin",
        ];
        let platforms: Vec<&str> = kawan_protocol::normalize::platforms().collect();
        for token in words.split(|c: char| c.is_whitespace() || ":/,()·—+".contains(c)) {
            let latin: String = token.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            let has_digit = token.chars().any(|c| c.is_ascii_digit());
            let word = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            if latin.len() >= 3
                && !has_digit
                && !data.contains(&word)
                && !platforms.contains(&word)
                && !word.contains('.')
            {
                strays.push(word.to_string());
            }
        }
        assert!(strays.is_empty(), "{strays:?} on the Thai page {page} are not from the message files");
        for (id, text) in en.lines().filter_map(|l| l.split_once(" = ")) {
            let fixed = text.split('{').next().unwrap().trim();
            // Messages whose text is the same in every language (URL, IP…) aside.
            if fixed.len() > 6 && !id.starts_with('#') && id != "lang-name" {
                assert!(!words.contains(fixed), "English {id:?} ({fixed:?}) on the Thai page {page}");
            }
        }
        assert!(!html.contains('⟦'), "no message id shows on {page}");
        if page.contains("no-such") {
            assert!(words.contains("ไม่พบข้อมูล"), "a refusal in Thai: {words}");
        }
    }

    // The switch: remembered, and back to where the browser was.
    let mut r = b
        .agent
        .get(format!("{}/lang/id", b.base))
        .header("Cookie", &b.cookie)
        .header("Referer", &format!("{}/alerts", b.base))
        .call()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/alerts");
    let set = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set.starts_with("kawan_lang=id;") && set.contains("SameSite=Strict"), "{set}");
    let _ = r.body_mut().read_to_string();
    let cookies = format!("{}; kawan_lang=id", b.cookie);
    let mut r =
        b.agent.get(format!("{}/", b.base)).header("Cookie", &cookies).header("Accept-Language", "th").call().unwrap();
    let id = r.body_mut().read_to_string().unwrap();
    assert!(id.contains("<html lang=\"id\">") && id.contains("Beranda") && id.contains("Nomor telepon"), "{id}");
    let (status, _) = get("/lang/xx", &[]);
    assert_eq!(status, 404);
    // The login page speaks the browser's language before anyone logs in.
    let mut r = b.agent.get(format!("{}/login", b.base)).header("Accept-Language", "th").call().unwrap();
    let login = r.body_mut().read_to_string().unwrap();
    assert!(login.contains("เข้าสู่ระบบ") && login.contains("<html lang=\"th\">"), "{login}");
}

/// The screening page as an analyst uses it: paste a job ad, see each
/// value and red flag marked in the text with its standing on the node,
/// then watch the new values and publish one as an indicator in one step
/// each; a file is read by its format; nothing selected is refused.
#[test]
fn pasted_text_is_screened_and_acted_on_in_one_step() {
    let n = TestNode::start("Screening Agency", "TH");
    let known = n.request("POST", "/api/v1/indicators", Some(&n.token)).json(&json!({
        "kind": "phone", "value": "+447700900171", "role": "recruiter_contact", "tlp": "green"}));
    let known = known.json()["id"].as_str().unwrap().to_string();
    let b = Browser::login(&n);
    let csrf = b.csrf();
    let (status, form) = b.get("/screen");
    assert_eq!(status, 200);
    assert!(form.contains("action=\"/screen/file\"") && form.contains("enctype=\"multipart/form-data\""), "{form}");
    let ad =
        "URGENT hiring, no experience needed! Call +44 7700 900171 or +44 7700 900172, Telegram @kh_screen_example <b>";
    let (status, html) = b.post("/screen", &[("csrf", &csrf), ("text", ad), ("region", "TH")]);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<mark class=\"hit known\"") && html.contains(">+44 7700 900171</mark>"), "{html}");
    assert!(html.contains("<mark class=\"flag\"") && html.contains(">no experience needed</mark>"), "{html}");
    assert!(html.contains(&format!("/indicator/{known}")), "the known value links to its record: {html}");
    assert!(html.contains("&lt;b&gt;") && !html.contains(" <b>"), "the pasted text is escaped");
    // Unknown values come pre-selected; the known one does not.
    let picked = |i: usize| html.contains(&format!("id=\"pick{i}\" name=\"pick\" value=\"{i}\" checked"));
    assert!(!picked(0) && picked(1) && picked(2), "{html}");
    let fields = |i: &str, kind: &str, value: &str| {
        vec![
            ("pick".to_string(), i.to_string()),
            (format!("kind{i}"), kind.to_string()),
            (format!("value{i}"), value.to_string()),
            (format!("context{i}"), ad.to_string()),
        ]
    };
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("action".into(), "watch".into())];
    form.extend(fields("1", "phone", "+447700900172"));
    form.extend(fields("2", "telegram_handle", "kh_screen_example"));
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, done) = b.post("/screen/act", &as_refs);
    assert_eq!(status, 200, "{done}");
    let watched = n.request("GET", "/api/v1/watchlist", Some(&n.token)).call().json();
    let values: Vec<&str> = watched.as_array().unwrap().iter().filter_map(|e| e["value"].as_str()).collect();
    assert!(values.contains(&"+447700900172") && values.contains(&"kh_screen_example"), "{watched}");
    // Publish one, with its platform and the line it came from: first a
    // review page shows what would leave the node, and nothing has.
    let search = |value: &str| {
        n.request("GET", &format!("/api/v1/search?kind=telegram_handle&value={value}"), Some(&n.token)).call().json()
    };
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("action".into(), "publish".into())];
    form.extend(fields("2", "telegram_handle", "kh_screen_example"));
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, review) = b.post("/screen/act", &as_refs);
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("name=\"confirmed\" value=\"yes\"") && review.contains("<textarea"), "{review}");
    assert!(review.contains("no experience needed"), "the line it came from, to edit: {review}");
    assert_eq!(search("kh_screen_example")["hits"], json!([]), "nothing published before the review");
    // The analyst trims the line and confirms.
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("action".into(), "publish".into()),
        ("confirmed".into(), "yes".into()),
        ("role".into(), "recruiter_contact".into()),
        ("tlp".into(), "green".into()),
        ("group".into(), "".into()),
    ];
    form.extend(fields("2", "telegram_handle", "kh_screen_example"));
    let context = form.iter_mut().find(|(k, _)| k == "context2").unwrap();
    context.1 = "Recruiter's handle in an ad: no experience needed".into();
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, done) = b.post("/screen/act", &as_refs);
    assert_eq!(status, 200, "{done}");
    let found = search("kh_screen_example");
    let content = &found["hits"][0]["content"]["indicator"];
    assert_eq!(content["platform"], "telegram", "{found}");
    assert_eq!(content["description"], "Recruiter's handle in an ad: no experience needed", "{found}");
    // Refer one to its platform: the review offers the platform the value
    // belongs to; confirmed, the referral is filed.
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("action".into(), "refer".into())];
    form.extend(fields("2", "telegram_handle", "kh_screen_example"));
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, review) = b.post("/screen/act", &as_refs);
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("<option value=\"telegram\" selected>"), "{review}");
    let referrals = || n.request("GET", "/api/v1/referrals", Some(&n.token)).call().json();
    assert_eq!(referrals().as_array().map(Vec::len), Some(0), "nothing filed before the review");
    form.extend([
        ("confirmed".to_string(), "yes".to_string()),
        ("platform".into(), "telegram".into()),
        ("request".into(), "takedown".into()),
        ("tlp".into(), "green".into()),
        ("reference".into(), "TG-REF-1".into()),
    ]);
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, done) = b.post("/screen/act", &as_refs);
    assert_eq!(status, 200, "{done}");
    let filed = referrals();
    let referral = &filed[0]["content"]["referral"];
    assert_eq!(
        (referral["platform"].as_str(), referral["subjects"][0]["value"].as_str(), referral["reference"].as_str()),
        (Some("telegram"), Some("kh_screen_example"), Some("TG-REF-1")),
        "{filed}"
    );
    // Nothing selected, or a forged form: refused.
    let (status, _) = b.post("/screen/act", &[("csrf", &csrf), ("action", "watch")]);
    assert_eq!(status, 400);
    let (status, _) = b.post("/screen/act", &[("csrf", "forged"), ("action", "watch"), ("pick", "0")]);
    assert_eq!(status, 403);
}

/// The Requests page as an analyst uses it: ask (the form leads to the
/// request's page), answer, mark the answer useful, close; a forged form
/// and a date that is not one are refused. (A request naming values needs
/// the network's members to check them with: see browser.rs and
/// requests.rs.)
#[test]
fn a_request_is_asked_answered_and_closed_from_the_page() {
    let n = TestNode::start("Requests Agency", "TH");
    let b = Browser::login(&n);
    let csrf = b.csrf();
    let (status, page) = b.get("/requests");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/requests\"") && page.contains("name=\"deadline\""), "{page}");
    let (status, thread) = b.post(
        "/requests",
        &[
            ("csrf", &csrf),
            ("question", "Who has seen <b>typing jobs</b> in Bangkok?"),
            ("values", ""),
            ("platform", "facebook"),
            ("priority", "urgent"),
            ("tlp", "green"),
            ("group", ""),
            ("deadline", "2031-01-31"),
        ],
    );
    assert_eq!(status, 303, "to the request's page: {thread}");
    let listed = n.request("GET", "/api/v1/requests?scope=ours", Some(&n.token)).call().json();
    let rid = listed[0]["request"]["id"].as_str().unwrap().to_string();
    let (status, thread) = b.get(&format!("/requests/{rid}"));
    assert_eq!(status, 200, "{thread}");
    assert!(thread.contains("&lt;b&gt;typing jobs&lt;/b&gt;") && thread.contains("2031"), "{thread}");
    let deadline = listed[0]["request"]["content"]["request"]["deadline_ms"].as_u64().unwrap();
    assert_eq!(deadline, 1_927_670_400_000 - 1, "by the end of that day (the reader's zone: UTC here)");
    let (status, after) = b.post(
        &format!("/requests/{rid}/answers"),
        &[("csrf", &csrf), ("text", "Our own desk saw two ads."), ("values", ""), ("tlp", "green"), ("group", "")],
    );
    assert_eq!(status, 200, "{after}");
    let answer = n.request("GET", &format!("/api/v1/requests/{rid}"), Some(&n.token)).call().json()["answers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, after) = b.post(&format!("/requests/{rid}/status"), &[("csrf", &csrf), ("useful", &answer)]);
    assert_eq!(status, 200, "{after}");
    let (status, after) = b.post(&format!("/requests/{rid}/status"), &[("csrf", &csrf), ("status", "closed")]);
    assert_eq!(status, 200, "{after}");
    let r = n.request("GET", &format!("/api/v1/requests/{rid}"), Some(&n.token)).call().json();
    let r = &r["request"]["content"]["request"];
    assert_eq!((r["status"].as_str(), r["useful"][0].as_str()), (Some("closed"), Some(answer.as_str())));
    assert!(!after.contains(&format!("action=\"/requests/{rid}/answers\"")), "a closed request takes no answers");
    let (status, _) = b.post(&format!("/requests/{rid}/status"), &[("csrf", "forged"), ("status", "open")]);
    assert_eq!(status, 403);
    let (status, alone) =
        b.post("/requests", &[("csrf", &csrf), ("question", "Q"), ("tlp", "green"), ("values", "+44 7700 900181")]);
    assert_eq!(status, 422, "{alone}");
    assert!(alone.contains("no trust list yet"), "values need members to check them with: {alone}");
    let (status, bad) =
        b.post("/requests", &[("csrf", &csrf), ("question", "Q"), ("tlp", "green"), ("deadline", "soon")]);
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("YYYY-MM-DD"), "{bad}");
}

/// A coordinator pastes a new agency's card on the Network page: it is
/// checked against the list in force and the next version is offered as a
/// file to sign; a card that does not check says why. (The checks
/// themselves: app.rs.)
#[test]
fn a_member_card_is_checked_on_the_network_page() {
    let net = kawan_tests::TestNetwork::start(1, &[]);
    let n = net.node(0);
    let newcomer = kawan_tests::init_dir("Agency New", kawan_tests::free_port());
    let card = newcomer.path().join("new.card");
    kawan_tests::run_ok(
        kawan_tests::kawan().arg("--dir").arg(newcomer.path()).args(["card", "--id", "agency-new", "--out"]).arg(&card),
    );
    let card = std::fs::read_to_string(card).unwrap();
    let b = Browser::login(n);
    let csrf = b.csrf();
    let (status, page) = b.get("/network");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/network/card\""), "{page}");
    let (status, review) = b.post("/network/card", &[("csrf", &csrf), ("card", &card)]);
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("version 2 would") && review.contains("adds Agency New (agency-new"), "{review}");
    assert!(review.contains("action=\"/network/card/next\""), "{review}");
    let (status, _) = b.post("/network/card/next", &[("csrf", &csrf), ("card", &card)]);
    assert_eq!(status, 200);
    let forged = card.replace("Agency New", "Agency Newer");
    let (status, refused) = b.post("/network/card", &[("csrf", &csrf), ("card", &forged)]);
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("does not check"), "{refused}");
    let (status, _) = b.post("/network/card", &[("csrf", "forged"), ("card", &card)]);
    assert_eq!(status, 403);
}
