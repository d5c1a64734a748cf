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
    driver.goto(format!("{}/login", n.base)).await?;
    driver.find(By::Id("token")).await?.send_keys(&n.token).await?;
    if let Some(dir) = shot {
        driver.screenshot(&dir.join("login.png")).await?;
    }
    driver.find(By::Css("main button[type=submit]")).await?.click().await?;
    wait_for(driver, "Log out").await
}

#[tokio::test(flavor = "multi_thread")]
async fn analysts_work_the_network_from_a_browser() -> WebDriverResult<()> {
    let chromedriver = which("chromedriver").expect("chromedriver missing: scripts/test installs chromium-driver");
    let port = free_port();
    let _driver_process = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let net = tokio::task::spawn_blocking(|| TestNetwork::start(2, &[])).await.unwrap();
    let (a, b) = (net.node(0), net.node(1));
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
    let dir = shots();
    std::fs::create_dir_all(&dir).unwrap();

    // Agency 0 publishes through the form, with markup in the description.
    login(&driver, a, Some(&dir)).await?;
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
    assert!(driver.find_all(By::Tag("script")).await?.is_empty(), "a description never becomes a script");
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
    wait_for(&driver, "CASE-BROWSER-7Q").await?;
    driver.screenshot(&dir.join("cases.png")).await?;

    // Agency 1 sees the record arrive on its search page.
    login(&driver, b, None).await?;
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
    wait_for(&driver, "stay on this node").await?;
    assert!(!driver.source().await?.contains("CASE-BROWSER-7Q"), "a case never shows on another node");

    // A bulk check of 1,000 values.
    driver.goto(format!("{}/bulk", b.base)).await?;
    let values: String = (0..1000).map(|i| format!("+4477009{:05}\n", 900 + i)).collect();
    driver.execute("document.getElementById('values').value = arguments[0];", vec![json!(values)]).await?;
    driver.find(By::Css("main form button[type=submit]")).await?.click().await?;
    wait_for(&driver, "<strong>1000</strong> values: <strong>1</strong> with hits").await?;
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
    wait_for(&driver, "Filed referral").await?;
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
    wait_for(&driver, "No alerts yet").await?;
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
    driver.screenshot(&dir.join("alerts.png")).await?;

    driver.goto(format!("{}/network", b.base)).await?;
    wait_for(&driver, "Agency 0").await?;
    driver.screenshot(&dir.join("network.png")).await?;
    driver.quit().await?;
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

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists()))
}
