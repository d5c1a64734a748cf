//! The web page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against two real nodes. With `KAWAN_SCREENSHOTS=1` the
//! pages are saved to docs/screenshots/ (the README shows them).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use kawan_tests::{TestNetwork, TestNode, free_port};
use serde_json::json;
use thirtyfour::prelude::*;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shots() -> PathBuf {
    if std::env::var_os("KAWAN_SCREENSHOTS").is_some() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    } else {
        std::env::temp_dir().join(format!("kawan-shots-{}", std::process::id()))
    }
}

async fn login(driver: &WebDriver, n: &TestNode, shot: Option<&PathBuf>) -> WebDriverResult<()> {
    login_as(driver, n, &n.token, shot).await
}

async fn login_as(driver: &WebDriver, n: &TestNode, token: &str, shot: Option<&PathBuf>) -> WebDriverResult<()> {
    driver.goto(format!("{}/login", n.base)).await?;
    driver.find(By::Id("token")).await?.send_keys(token).await?;
    if let Some(dir) = shot {
        driver.screenshot(&dir.join("login.png")).await?;
    }
    driver.find(By::Css("main button[type=submit]")).await?.click().await?;
    wait_for(driver, "Log out").await
}

/// Headless Chromium under chromedriver, with a fresh profile.
struct Browser {
    driver: WebDriver,
    _process: Driver,
    _profile: tempfile::TempDir,
}

async fn browser() -> WebDriverResult<Browser> {
    let chromedriver = which("chromedriver").expect("chromedriver missing: scripts/test installs chromium-driver");
    let port = free_port();
    let process = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            // The reader sits in Bangkok, the nodes in UTC: dates follow the reader.
            .env("TZ", "Asia/Bangkok")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium")?;
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,1000",
    ] {
        caps.add_arg(arg)?;
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let driver = loop {
        match WebDriver::new(format!("http://127.0.0.1:{port}"), caps.clone()).await {
            Ok(d) => break d,
            Err(e) if Instant::now() > deadline => panic!("chromedriver did not start: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    Ok(Browser { driver, _process: process, _profile: profile })
}

#[tokio::test(flavor = "multi_thread")]
async fn analysts_work_the_network_from_a_browser() -> WebDriverResult<()> {
    let net = tokio::task::spawn_blocking(|| TestNetwork::start(2, &[])).await.unwrap();
    let (a, b) = (net.node(0), net.node(1));
    let browser = browser().await?;
    let driver = &browser.driver;
    let dir = shots();
    std::fs::create_dir_all(&dir).unwrap();

    // Agency 0 publishes through the form, with markup in the description.
    login(driver, a, Some(&dir)).await?;
    driver.goto(format!("{}/publish", a.base)).await?;
    driver.find(By::Id("value")).await?.send_keys("+44 (0)7700 900955").await?;
    driver.find(By::Id("description")).await?.send_keys("<script>alert('x')</script> seen on a job site").await?;
    driver.screenshot(&dir.join("publish.png")).await?;
    driver.find(By::Css("main form button[type=submit]")).await?.click().await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !driver.current_url().await?.path().starts_with("/indicator/") {
        assert!(Instant::now() < deadline, "publishing did not lead to the record: {}", driver.source().await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let source = driver.source().await?;
    assert!(source.contains("+447700900955"), "the detail page shows the normalised value");
    assert!(driver.find_all(By::Css("script:not([src])")).await?.is_empty(), "a description never becomes a script");
    let footer = driver.find(By::Tag("footer")).await?.text().await?;
    assert!(footer.contains("Asia/Bangkok"), "dates in the reader's time zone: {footer}");
    let versions = driver.find(By::Css("main ol li")).await?.text().await?;
    assert!(versions.contains("+07"), "a moment in Bangkok time: {versions}");
    assert!(
        driver.find(By::Tag("main")).await?.text().await?.contains("<script>alert('x')</script>"),
        "it is shown as text"
    );
    driver.screenshot(&dir.join("indicator.png")).await?;

    // A case at agency 0 with a unique reference.
    let c = a
        .request("POST", "/api/v1/cases", Some(&a.token))
        .json(&json!({"reference": "CASE-BROWSER-7Q", "title": "Browser case"}));
    assert_eq!(c.status, 201);
    driver.goto(format!("{}/cases", a.base)).await?;
    wait_for(driver, "CASE-BROWSER-7Q").await?;
    driver.screenshot(&dir.join("cases.png")).await?;

    // Agency 1 sees the record arrive on its search page.
    login(driver, b, None).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        driver.goto(format!("{}/?q=%2B44+7700+900955&kind=phone", b.base)).await?;
        if driver.source().await?.contains("Agency 0") {
            break;
        }
        assert!(Instant::now() < deadline, "the record never reached agency 1's search page");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    driver.screenshot(&dir.join("search.png")).await?;
    driver.goto(format!("{}/cases", b.base)).await?;
    wait_for(driver, "stay on this node").await?;
    assert!(!driver.source().await?.contains("CASE-BROWSER-7Q"), "a case never shows on another node");

    // A bulk check of 1,000 values.
    driver.goto(format!("{}/bulk", b.base)).await?;
    let values: String = (0..1000).map(|i| format!("+4477009{:05}\n", 900 + i)).collect();
    driver.execute("document.getElementById('values').value = arguments[0];", vec![json!(values)]).await?;
    driver.find(By::Css("main form button[type=submit]")).await?.click().await?;
    wait_for(driver, "<strong>1000</strong> values: <strong>1</strong> with hits").await?;
    driver.screenshot(&dir.join("bulk.png")).await?;
    // The filter (a static script: the page allows no inline script) shows the hit only.
    driver.find(By::Css("#show option[value='hit']")).await?.click().await?;
    let shown =
        driver.execute("return document.querySelectorAll('tr[data-status]:not([hidden])').length;", vec![]).await?;
    assert_eq!(shown.json(), &json!(1), "only the row with a hit stays visible");

    driver.goto(format!("{}/library", b.base)).await?;
    driver.screenshot(&dir.join("library.png")).await?;

    // Agency 1 refers the number to WhatsApp through the form; the page
    // then draws its figures as an SVG chart (server-side, no script).
    driver.goto(format!("{}/referrals", b.base)).await?;
    driver.find(By::Css("#platform option[value='whatsapp']")).await?.click().await?;
    driver.find(By::Css("#kind option[value='phone']")).await?.click().await?;
    driver.find(By::Id("value")).await?.send_keys("+44 7700 900955").await?;
    driver.find(By::Id("reference")).await?.send_keys("WA-LE-2026-0042").await?;
    driver.find(By::Css("main form[action='/referrals'] button[type=submit]")).await?.click().await?;
    wait_for(driver, "Filed referral").await?;
    let chart = driver.find(By::Css("#chart-per-month svg")).await?;
    assert!(chart.rect().await?.width > 100.0, "the chart is drawn");
    assert!(driver.source().await?.contains("WA-LE-2026-0042"));
    driver.screenshot(&dir.join("referrals.png")).await?;
    // Agency 1 watches a number; when agency 0 publishes it, the open
    // Alerts page shows it live (server-sent events, no reload).
    let watch = b
        .request("POST", "/api/v1/watchlist", Some(&b.token))
        .json(&json!({"kind": "phone", "value": "+44 7700 900956", "note": "browser test"}));
    assert_eq!(watch.status, 201, "{}", watch.body);
    driver.goto(format!("{}/alerts", b.base)).await?;
    wait_for(driver, "No alerts yet").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let published = a
        .request("POST", "/api/v1/indicators", Some(&a.token))
        .json(&json!({"kind": "phone", "value": "+447700900956", "role": "recruiter_contact", "tlp": "green"}));
    assert_eq!(published.status, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    while driver.find_all(By::Css("#alerts tr.live")).await?.is_empty() {
        assert!(Instant::now() < deadline, "no live alert row: {}", driver.source().await?);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let row = driver.find(By::Css("#alerts tr.live")).await?.text().await?;
    assert!(row.contains("+447700900956") && row.contains("Agency 0"), "{row}");
    assert!(
        row.contains("Phone number") && row.contains("watch entry") && row.contains("indicator on"),
        "in words: {row}"
    );
    driver.screenshot(&dir.join("alerts.png")).await?;

    driver.goto(format!("{}/network", b.base)).await?;
    wait_for(driver, "Agency 0").await?;
    driver.screenshot(&dir.join("network.png")).await?;
    // The home page, in English and (with the switch in the header) in Thai.
    driver.goto(format!("{}/", b.base)).await?;
    wait_for(driver, "Records per week, by kind").await?;
    driver.screenshot(&dir.join("home.png")).await?;
    driver.find(By::Css("nav.languages a[hreflang='th']")).await?.click().await?;
    wait_for(driver, "ข้อมูลต่อสัปดาห์ ตามประเภท").await?;
    driver.screenshot(&dir.join("home-th.png")).await?;
    browser.driver.quit().await?;
    drop(net);
    Ok(())
}

/// Waits (up to 20 s) until the page holds `needle`: clicks return before
/// the next page has loaded.
async fn wait_for(driver: &WebDriver, needle: &str) -> WebDriverResult<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !driver.source().await?.contains(needle) {
        assert!(Instant::now() < deadline, "the page never showed {needle:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until the browser is on a page whose address holds `part`, and
/// that page has loaded.
async fn wait_for_url(driver: &WebDriver, part: &str) -> WebDriverResult<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !driver.current_url().await?.as_str().contains(part) {
        assert!(Instant::now() < deadline, "the browser never reached a page with {part:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(driver, "</main>").await
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists()))
}

/// The vendored axe-core (tests/fixtures/axe), injected into each page.
const AXE: &str = include_str!("../fixtures/axe/axe.min.js");

/// axe-core's serious and critical violations on the page open now
/// (WCAG 2.1 A and AA rules), as `rule: target…` lines.
async fn axe_violations(driver: &WebDriver) -> WebDriverResult<Vec<String>> {
    driver.execute(AXE, vec![]).await?;
    let result = driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(result.json().clone()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_meets_wcag_aa_and_search_to_sighting_works_by_keyboard() -> WebDriverResult<()> {
    // Both agencies coordinate, two signing each version: a proposal waits.
    let net = tokio::task::spawn_blocking(|| TestNetwork::start_governed(2, &[], (2, 2), |_| vec![], |_, _| {}))
        .await
        .unwrap();
    let (a, b) = (net.node(0), net.node(1));
    // Something on every page: a record from a partner, a case with a
    // value, a referral, an alert, a deconfliction question.
    let published = b
        .request("POST", "/api/v1/indicators", Some(&b.token))
        .json(&json!({"kind": "phone", "value": "+447700900957", "role": "recruiter_contact", "tlp": "green",
                      "platform": "whatsapp", "countries": ["KH"]}));
    assert_eq!(published.status, 201, "{}", published.body);
    let id = published.json()["id"].as_str().unwrap().to_string();
    let case =
        a.request("POST", "/api/v1/cases", Some(&a.token)).json(&json!({"reference": "OP-A11Y", "title": "Axe"}));
    let case_id = case.json()["id"].as_u64().unwrap();
    a.request("POST", &format!("/api/v1/cases/{case_id}/values"), Some(&a.token))
        .json(&json!({"value": "+447700900958"}));
    a.request("POST", "/api/v1/watchlist", Some(&a.token)).json(&json!({"kind": "phone", "value": "+447700900957"}));
    a.request("POST", "/api/v1/referrals", Some(&a.token)).json(&json!({"platform": "facebook", "request": "takedown",
        "tlp": "green", "subjects": [{"kind": "url", "value": "https://jobs.example/ad"}]}));
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.request("GET", &format!("/api/v1/records/{id}"), Some(&a.token)).call().status != 200 {
        assert!(Instant::now() < deadline, "the partner's record never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.request("POST", "/api/v1/deconflict", Some(&a.token))
        .json(&json!({"values": [{"value": "+447700900958"}], "purpose": "a11y"}));
    // A partner's request, answered here.
    let asked = b.request("POST", "/api/v1/requests", Some(&b.token)).json(&json!({
        "question": "Who has seen typing-job ads on jobs.example?", "tlp": "green", "priority": "high",
        "platform": "facebook", "deadline_ms": 1_900_000_000_000u64}));
    assert_eq!(asked.status, 201, "{}", asked.body);
    let rid = asked.json()["id"].as_str().unwrap().to_string();
    while a.request("GET", &format!("/api/v1/requests/{rid}"), Some(&a.token)).call().status != 200 {
        assert!(Instant::now() < deadline, "the partner's request never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answered = a
        .request("POST", &format!("/api/v1/requests/{rid}/answers"), Some(&a.token))
        .json(&json!({"text": "Three ads in May; see our indicators.", "tlp": "green"}));
    assert_eq!(answered.status, 201, "{}", answered.body);

    // A partner coordinator's proposal, waiting for this coordinator.
    let (coordinator_a, coordinator_b) = (a.new_token("coordinator"), b.new_token("coordinator"));
    let proposed = b
        .request("POST", "/api/v1/trust/proposals", Some(&coordinator_b))
        .json(&json!({"renew": "agency-1", "until_ms": 1_900_000_000_000u64, "note": "another year"}));
    assert_eq!(proposed.status, 201, "{}", proposed.body);
    while a
        .request("GET", "/api/v1/trust/proposals", Some(&coordinator_a))
        .call()
        .json()
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(Instant::now() < deadline, "the proposal never reached the other coordinator");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let browser = browser().await?;
    let driver = &browser.driver;
    driver.goto(format!("{}/login", a.base)).await?;
    let mut failures = Vec::new();
    for v in axe_violations(driver).await? {
        failures.push(format!("/login: {v}"));
    }
    login(driver, a, None).await?;
    let pages = [
        "/".to_string(),
        "/?q=%2B447700900957".into(),
        format!("/indicator/{id}"),
        format!("/record/{id}"),
        "/bulk".into(),
        "/screen".into(),
        "/publish".into(),
        "/library".into(),
        "/referrals".into(),
        "/requests".into(),
        format!("/requests/{rid}"),
        "/alerts".into(),
        "/deconflict".into(),
        "/cases".into(),
        format!("/cases/{case_id}"),
        "/network".into(),
    ];
    for page in &pages {
        driver.goto(format!("{}{page}", a.base)).await?;
        wait_for(driver, "</main>").await?;
        for v in axe_violations(driver).await? {
            failures.push(format!("{page}: {v}"));
        }
    }
    // Asking about a value the partner holds: the page says nothing was
    // sent and who holds it (checked like every page).
    driver.goto(format!("{}/requests", a.base)).await?;
    wait_for(driver, "</main>").await?;
    driver.find(By::Id("question")).await?.send_keys("Whose number is this?").await?;
    driver.find(By::Id("values")).await?.send_keys("+44 7700 900957").await?;
    // Submitted from the page itself: a click that navigates can race the
    // driver's own bookkeeping of the element ("does not belong to the
    // document") on a loaded machine.
    driver.execute("document.querySelector(\"form[action='/requests']\").requestSubmit()", vec![]).await?;
    wait_for(driver, "Nothing was sent").await?;
    let held = driver.source().await?;
    assert!(held.contains("Agency 1") && held.contains("+447700900957"), "{held}");
    for v in axe_violations(driver).await? {
        failures.push(format!("/requests (held): {v}"));
    }
    // The coordinator's Network page: the proposal, what it changes, Sign.
    driver.execute("document.querySelector(\"form[action='/logout']\").requestSubmit()", vec![]).await?;
    wait_for(driver, "id=\"token\"").await?;
    login_as(driver, a, &coordinator_a, None).await?;
    driver.goto(format!("{}/network", a.base)).await?;
    wait_for(driver, "Sign version 2").await?;
    let page = driver.source().await?;
    assert!(page.contains("another year") && page.contains("1 of 2 signatures"), "{page}");
    for v in axe_violations(driver).await? {
        failures.push(format!("/network (a coordinator, a proposal waiting): {v}"));
    }
    assert!(failures.is_empty(), "serious or critical accessibility violations:\n{}", failures.join("\n"));
    // The check can fail: a button without a name is reported.
    driver
        .execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button>')", vec![])
        .await?;
    let seeded = axe_violations(driver).await?;
    assert!(seeded.iter().any(|v| v.starts_with("button-name")), "{seeded:?}");

    // By keyboard only: type a value in the search box (focused on
    // arrival), Enter; Tab to the hit, Enter; Tab to the sighting form's
    // button, Enter.
    driver.goto(format!("{}/", a.base)).await?;
    driver.active_element().await?.send_keys("+44 7700 900957" + Key::Enter).await?;
    // The results page, not the home page it replaces (which may name
    // Agency 1 too): Tab on an element of the old page would fail.
    wait_for_url(driver, "q=").await?;
    wait_for(driver, "Agency 1").await?;
    let mut reached = false;
    for _ in 0..60 {
        driver.active_element().await?.send_keys(Key::Tab).await?;
        let href = driver.active_element().await?.attr("href").await?.unwrap_or_default();
        if href.starts_with("/indicator/") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the hit's link");
    driver.active_element().await?.send_keys(Key::Enter).await?;
    wait_for_url(driver, "/indicator/").await?;
    wait_for(driver, "We saw it too").await?;
    let mut pressed = false;
    for _ in 0..80 {
        driver.active_element().await?.send_keys(Key::Tab).await?;
        let el = driver.active_element().await?;
        if el.tag_name().await? == "button" && el.text().await?.contains("We saw it too") {
            el.send_keys(Key::Enter).await?;
            pressed = true;
            break;
        }
    }
    assert!(pressed, "Tab reaches the sighting button");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = a.request("GET", &format!("/api/v1/records/{id}"), Some(&a.token)).call().json();
        if r["current"]["sighted_by"].as_array().is_some_and(|s| !s.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "the sighting was not recorded: {r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.driver.quit().await?;
    drop(net);
    Ok(())
}
