//! `kawan demo`: a local network of a coordinator and four fictional
//! agencies on loopback, loaded with fictional records (reserved ranges only:
//! `.example` domains, RFC 5737 addresses, UK 07700 900xxx and AU 0491 570 1xx
//! numbers, generated checksum-valid wallets), showing records propagate and
//! a sharing group stay closed.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use kawan_node::{clock::Clock, config::Config, coordinator as co, daemon};
use kawan_protocol::{Group, GroupId, NetworkId, SignedTrustList, TrustList};
use serde_json::{Value, json};

use crate::{client::Client, i18n::t};

const NETWORK: &str = "kawan-demo";

/// (member id, name, country)
const AGENCIES: [(&str, &str, &str); 5] = [
    ("coordinator", "Regional Coordination Desk (fictional)", "SG"),
    ("th-tcsd", "Thai Cyber Scam Desk (fictional)", "TH"),
    ("kh-acu", "Cambodian Anti-Cybercrime Unit (fictional)", "KH"),
    ("ph-cfu", "Philippine Cyber Fraud Unit (fictional)", "PH"),
    ("au-stf", "Australian Scam Taskforce (fictional)", "AU"),
];

struct Node {
    id: &'static str,
    name: &'static str,
    dir: PathBuf,
    child: Child,
    client: Option<Client>,
}

impl Drop for Node {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

pub fn run(dir: Option<PathBuf>, exit: bool) -> anyhow::Result<()> {
    let _temp;
    let base = match dir {
        Some(d) => d,
        None => {
            _temp = tempfile::tempdir().context(t!("demo-no-tempdir"))?;
            _temp.path().to_path_buf()
        }
    };
    if base.join("coordinator").exists() {
        bail!(t!("demo-exists", dir = base.display().to_string()));
    }
    println!("{}\n", t!("demo-start", dir = base.display().to_string()));

    // 1. Node directories; each agency hands the coordinator its public
    //    card; the coordinator signs the genesis with its own key; each
    //    agency pins it. No one reads another agency's directory.
    let mut dirs = Vec::new();
    let mut cards = Vec::new();
    for (id, name, country) in AGENCIES {
        let dir = base.join(id);
        daemon::init(&dir, name, country.parse()?, NetworkId::new(NETWORK)?)?;
        let mut config = Config::load(&dir)?;
        config.api.listen = "127.0.0.1:0".parse()?;
        config.p2p.listen = vec![format!("/ip4/127.0.0.1/tcp/{}", free_port()?)];
        config.write(&dir)?;
        let card = base.join(format!("{id}.card"));
        std::fs::write(&card, serde_json::to_string_pretty(&co::own_card(&dir, Some(id), &[])?)?)?;
        cards.push(card);
        dirs.push(dir);
    }
    let mut list = TrustList {
        attachment_max_bytes: None,
        retention: None,
        decay: None,
        network: NetworkId::new(NETWORK)?,
        version: 1,
        issued_ms: Clock::system().now_ms(),
        threshold: 1,
        members: vec![],
        groups: vec![],
    };
    for (i, card) in cards.iter().enumerate() {
        list.members.push(co::member_from_card(card, i == 0)?);
    }
    list.groups.push(Group {
        id: GroupId::new("mekong")?,
        name: "Mekong corridor (TH, KH)".into(),
        members: vec![list.members[1].id.clone(), list.members[2].id.clone()],
    });
    let mut genesis = SignedTrustList::new(&list)?;
    genesis.sign(&co::own_key(&dirs[0])?);
    let genesis_file = base.join("genesis.trust");
    co::write(&genesis_file, &genesis)?;
    for dir in &dirs {
        co::join(dir, std::slice::from_ref(&genesis_file), Clock::system())?;
    }
    println!("  {}", t!("demo-cards"));
    println!("  {}", t!("demo-list"));

    // 2. Start every node.
    let exe = std::env::current_exe().context(t!("demo-no-binary"))?;
    let mut nodes = Vec::new();
    for (i, (id, name, _)) in AGENCIES.iter().enumerate() {
        let log = std::fs::File::create(dirs[i].join("node.log"))?;
        let child =
            Command::new(&exe).arg("--dir").arg(&dirs[i]).arg("run").stdout(Stdio::null()).stderr(log).spawn()?;
        nodes.push(Node { id, name, dir: dirs[i].clone(), child, client: None });
    }
    for n in &mut nodes {
        wait_for_file(&n.dir.join(kawan_node::node_dir::API_ADDR), Duration::from_secs(30))?;
        n.client = Some(Client::from_dir(&n.dir)?);
    }
    let c = |i: usize| nodes[i].client.as_ref().expect("client");
    wait_until(Duration::from_secs(30), || {
        c(0).get("/api/v1/peers")
            .is_ok_and(|p| p.as_array().is_some_and(|ps| ps.iter().filter(|p| p["connected"] == true).count() == 4))
    })
    .context(t!("demo-not-connected"))?;
    println!("  {}\n", t!("demo-connected"));

    // 3. Fictional knowledge from several agencies.
    let loaded = load(&nodes)?;
    println!("  {}\n", t!("demo-published", n = loaded));

    // 4. Propagation of one new record, timed at every node.
    let fresh = "+61491570199";
    let t = Instant::now();
    c(1).post(
        "/api/v1/indicators",
        &json!({"kind": "phone", "value": fresh, "role": "recruiter_contact", "tlp": "green",
        "platform": "telegram", "description": "Recruiter number on a fake 'customer service, Bangkok' job ad"}),
    )?;
    println!("  {}", t!("demo-green", agency = nodes[1].name));
    for i in [0, 2, 3, 4] {
        wait_until(Duration::from_secs(30), || has(c(i), "phone", fresh))?;
        println!("    {:<44} {}", nodes[i].name, t!("demo-after", ms = format!("{:>4}", t.elapsed().as_millis())));
    }
    // 5. Referrals: TH refers the job ad to Facebook; KH, about to do the
    //    same, is told; TH records Facebook's answer.
    let ad = "https://apply.bright-future-careers.example/form?ref=fb";
    let subject = json!([{"kind": "url", "value": ad}]);
    let filed = c(1).post(
        "/api/v1/referrals",
        &json!({"platform": "facebook", "request": "takedown", "tlp": "green", "subjects": subject,
                "reference": "FB-LE-2026-0193", "legal_basis": "fictional: demo only"}),
    )?;
    let filed_id = filed["id"].as_str().unwrap_or_default().to_string();
    wait_until(Duration::from_secs(30), || {
        c(2).get(&format!("/api/v1/referrals/for?kind=url&value={}", crate::output::urlencode(ad)))
            .is_ok_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    })?;
    let second = c(2).post(
        "/api/v1/referrals",
        &json!({"platform": "facebook", "request": "suspension", "tlp": "green", "subjects": subject}),
    )?;
    c(1).post(&format!("/api/v1/referrals/{filed_id}/status"), &json!({"status": "removed"}))?;
    let told = second["already_referred"][0]["agency"].as_str().unwrap_or("?");
    println!("\n  {}", t!("demo-referred", agency = nodes[1].name, other = nodes[2].name, told = told));

    // 6. Deconfliction: PH holds a recruiter's number only in a local case;
    //    TH asks the network about it without telling anyone the number.
    let recruiter = "+447700900555";
    let case = c(3).post("/api/v1/cases", &json!({"reference": "PH-OP-31", "title": "Recruiter (fictional)"}))?;
    let case_id = case["id"].as_u64().unwrap_or_default();
    c(3).post(&format!("/api/v1/cases/{case_id}/values"), &json!({"kind": "phone", "value": recruiter}))?;
    let q = c(1).post(
        "/api/v1/deconflict",
        &json!({"values": [{"kind": "phone", "value": recruiter}], "purpose": "demo: recruiter in a job-scam ad"}),
    )?;
    let holders: Vec<&str> = q["answers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["hits"].as_array().is_some_and(|h| !h.is_empty()))
        .filter_map(|a| a["name"].as_str())
        .collect();
    let holders = if holders.is_empty() { t!("demo-nobody") } else { holders.join(", ") };
    println!("\n  {}", t!("demo-deconflict", agency = nodes[1].name, holders = holders));

    // 7. The AMBER record stays inside the group.
    let amber = "+447700900666";
    wait_until(Duration::from_secs(30), || has(c(2), "phone", amber))?;
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "\n  {}",
        t!(
            "demo-amber",
            kh = yes(has(c(2), "phone", amber)),
            ph = yes(has(c(3), "phone", amber)),
            au = yes(has(c(4), "phone", amber))
        )
    );

    let th = &nodes[1];
    let token = std::fs::read_to_string(th.dir.join(kawan_node::node_dir::OPERATOR_TOKEN))?.trim().to_string();
    let addr = std::fs::read_to_string(th.dir.join(kawan_node::node_dir::API_ADDR))?.trim().to_string();
    println!("\n  {} ({}):", th.name, th.id);
    let link = nodes[1].client.as_ref().expect("client").post("/api/v1/login-links", &json!({}))?;
    println!("    web    http://{addr}{}  ({})", link["path"].as_str().unwrap_or("/"), t!("demo-web"));
    println!("    API    http://{addr}/api/v1/  ({})", t!("demo-api"));
    println!("    token  {token}");
    println!("    {} KAWAN_DIR={} kawan search --kind phone", crate::output::pad(&t!("demo-try"), 6), th.dir.display());
    println!("           KAWAN_DIR={} kawan peers", th.dir.display());
    println!("           curl -H 'Authorization: Bearer {token}' 'http://{addr}/api/v1/search?text=job'");
    if exit {
        println!("\n  {}", t!("demo-exit"));
        return Ok(());
    }
    println!("\n  {}", t!("demo-ctrl-c"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    println!("\n{}", t!("demo-stopping"));
    Ok(())
}

fn yes(b: bool) -> String {
    if b { t!("yes") } else { t!("no") }
}

fn has(c: &Client, kind: &str, value: &str) -> bool {
    let q = format!("/api/v1/search?kind={kind}&value={}", crate::output::urlencode(value));
    c.get(&q).is_ok_and(|r| r["hits"].as_array().is_some_and(|h| !h.is_empty()))
}

/// Publishes the demo records; returns how many.
fn load(nodes: &[Node]) -> anyhow::Result<usize> {
    let c = |i: usize| nodes[i].client.as_ref().expect("client");
    let mut n = 0;
    let typology = c(1).post("/api/v1/typologies", &json!({"content": {
        "title": "Fake customer-service job abroad", "stage": "recruitment", "tlp": "green",
        "summary": "Ads on social media and job sites offer customer-service or 'typing' work abroad with high pay, free flights and visas. On arrival passports are taken and victims are moved across a border into a compound and forced to run online scams.",
        "aliases": ["typing job scam"], "lures": ["salary far above market", "no experience needed", "employer pays flights"],
        "platforms": ["facebook", "telegram", "jobstreet"], "route": ["TH", "MM"],
        "red_flags": ["interview only by chat", "visa-on-arrival advice", "pickup at a border town"]
    }}))?;
    n += 1;
    let typology_id = typology["id"].as_str().unwrap_or_default().to_string();
    c(4).post("/api/v1/typologies", &json!({"content": {
        "title": "Romance-to-crypto investment ('pig butchering')", "stage": "scam", "tlp": "green",
        "summary": "A contact met on a dating app or by a 'wrong number' message builds trust for weeks, then introduces a trading platform that shows fake profits until withdrawals are blocked.",
        "platforms": ["tinder", "whatsapp", "line"], "red_flags": ["moves chat to another app quickly", "platform only reachable by link"]
    }}))?;
    n += 1;
    c(3).post("/api/v1/techniques", &json!({"content": {
        "title": "Pivot a recruiter's phone number across messaging apps", "objective": "Find the accounts and ads linked to one recruiter number",
        "difficulty": "basic", "tlp": "green", "applies_to": ["phone", "telegram_handle", "line_id"],
        "steps": ["Normalise the number (kawan normalize phone …)", "Look it up on the network first", "Check messaging apps from a research device", "Record screenshots with hashes"],
        "legal_notes": "Use only accounts and devices your agency authorises for open-source research.",
        "opsec_risks": "Adding a number to contacts can reveal your account to its owner."
    }}))?;
    n += 1;
    let green = |kind: &str, value: &str, role: &str, extra: Value| {
        let mut body = json!({"kind": kind, "value": value, "role": role, "tlp": "green", "confidence": 80, "basis": "fact",
                              "typologies": [typology_id.clone()]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let indicators = [
        (
            1,
            green(
                "phone",
                "07700 900101",
                "recruiter_contact",
                json!({"platform": "whatsapp", "countries": ["TH", "MM"]}),
            ),
        ),
        (1, green("domain", "Bright-Future-Careers[.]example", "job_ad", json!({}))),
        (1, green("url", "hxxps://apply.bright-future-careers[.]example/form?ref=fb#top", "job_ad", json!({}))),
        (
            2,
            green("telegram_handle", "https://t.me/BrightFuture_HR", "recruiter_contact", json!({"countries": ["KH"]})),
        ),
        (2, green("ip", "203.0.113.42", "infrastructure", json!({}))),
        (3, green("line_id", "hr.recruit88", "recruiter_contact", json!({}))),
        (3, green("company_name", "Bright  Future Careers Co., Ltd.", "job_ad", json!({}))),
        (4, green("phone", "0491 570 156", "recruiter_contact", json!({"platform": "tinder", "countries": ["AU"]}))),
        (4, green("tron_address", &demo_tron(), "laundering", json!({}))),
        (4, green("evm_address", &demo_evm(), "payment", json!({}))),
        (4, green("btc_address", &demo_btc(), "payment", json!({}))),
        (4, green("domain", "invest.golden-harvest-trading.example", "scam_platform", json!({}))),
        (3, green("ip", "198.51.100.23", "infrastructure", json!({}))),
    ];
    let mut ids = Vec::new();
    for (i, body) in indicators {
        let out = c(i).post("/api/v1/indicators", &body).with_context(|| format!("publishing {body}"))?;
        ids.push((i, out["id"].as_str().unwrap_or_default().to_string()));
        n += 1;
    }
    // Corroboration from another agency (once the record has reached it), and
    // a retraction that replicates.
    wait_until(Duration::from_secs(30), || c(2).get(&format!("/api/v1/records/{}", ids[0].1)).is_ok())?;
    c(2).post("/api/v1/sightings", &json!({"target": ids[0].1, "verdict": "corroborates", "comment": "Same number in a rescued victim's chat log"}))?;
    c(3).post(
        "/api/v1/retractions",
        &json!({"target": ids[5].1, "reason": "Handle belongs to a legitimate agency; reported in error"}),
    )?;
    n += 2;
    // AMBER: only the Mekong group (TH, KH).
    c(1).post(
        "/api/v1/indicators",
        &json!({"kind": "phone", "value": "+447700900666", "role": "recruiter_contact", "tlp": "amber",
        "group": "mekong", "confidence": 90, "basis": "fact", "description": "Handler number seen in two rescues"}),
    )?;
    n += 1;
    // A local case at TH links a shared record; it never leaves TH.
    let case =
        c(1).post("/api/v1/cases", &json!({"reference": "TH-DEMO-0001", "title": "Fictional rescue, demo only"}))?;
    c(1).post(&format!("/api/v1/cases/{}/links", case["id"]), &json!({"record": ids[0].1}))?;
    Ok(n)
}

/// Checksum-valid demo wallets derived from fixed labels (not real addresses).
fn demo_tron() -> String {
    let mut payload = vec![0x41];
    payload.extend_from_slice(&blake3::hash(b"kawan demo tron").as_bytes()[..20]);
    bs58::encode(payload).with_check().into_string()
}

fn demo_evm() -> String {
    format!("0x{}", hex::encode(&blake3::hash(b"kawan demo evm").as_bytes()[..20]))
}

fn demo_btc() -> String {
    let hash = blake3::hash(b"kawan demo btc");
    bech32::segwit::encode(bech32::hrp::BC, bech32::segwit::VERSION_0, &hash.as_bytes()[..20]).unwrap_or_default()
}

/// A free port below the kernel's ephemeral range (32768 and up on Linux):
/// a port the OS hands out could be taken as the source port of one of the
/// running nodes' outgoing connections before this node binds it.
fn free_port() -> anyhow::Result<u16> {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let start = (seed ^ std::process::id()) % 10_000;
    (0..10_000u32)
        .map(|i| 20_000 + ((start + i) % 10_000) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .context(t!("demo-no-port"))
}

fn wait_for_file(path: &Path, timeout: Duration) -> anyhow::Result<()> {
    wait_until(timeout, || std::fs::read_to_string(path).is_ok_and(|s| s.ends_with('\n')))
        .with_context(|| t!("demo-node-not-started", path = path.display().to_string()))
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while !f() {
        if Instant::now() > deadline {
            bail!(t!("demo-timeout", timeout = format!("{timeout:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// SIGTERM (a clean shutdown), then SIGKILL if the node has not gone in 10 s.
fn terminate(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on a pid this process spawned and has not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the nodes' data here (default: a temporary directory; `--dir`
    /// says the same).
    #[arg(long = "data")]
    data: Option<PathBuf>,
    /// Stop after the walkthrough instead of waiting for Ctrl-C.
    #[arg(long)]
    exit: bool,
}

pub fn command(a: DemoArgs, ctx: &super::Ctx) -> anyhow::Result<bool> {
    let data = match (a.data, &ctx.dir_given) {
        (Some(d), Some(g)) if d != *g => {
            anyhow::bail!(t!("demo-data-dir", data = d.display().to_string(), dir = g.display().to_string()))
        }
        (Some(d), _) => Some(d),
        (None, g) => g.clone(),
    };
    run(data, a.exit)?;
    Ok(true)
}
