//! `kawan`: the command-line front end. Thin: parsing and printing only; the
//! node runs in `kawan-node`, and client commands talk to its HTTP API.

mod client;
mod demo;
mod import;
mod output;
mod trust;

use std::{io::Read as _, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use kawan_protocol::{Context, Country, Kind, NetworkId, normalize};
use serde_json::{Value, json};

use client::{Client, node_dir};
use kawan_node::files::write_atomic;

/// Kawan: a federated node for sharing scam-centre indicators, typologies and
/// investigative techniques between trusted agencies, with case details kept local.
#[derive(Parser)]
#[command(name = "kawan", version, about, long_about = None)]
struct Cli {
    /// The node directory (default: $KAWAN_DIR, or the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a local demo network of five fictional agencies and show records flow.
    Demo {
        /// Keep the nodes' data here (default: a temporary directory).
        #[arg(long = "data")]
        data: Option<PathBuf>,
        /// Stop after the walkthrough instead of waiting for Ctrl-C.
        #[arg(long)]
        exit: bool,
    },
    /// Create a node directory: config, agency key, database, operator token.
    Init {
        /// The agency's name, as the trust list should show it.
        #[arg(long)]
        name: String,
        /// The agency's ISO 3166-1 country (also the default phone region).
        #[arg(long)]
        country: Country,
        /// The network id to join.
        #[arg(long, default_value = "kawan-local")]
        network: NetworkId,
        /// API listen address (default 127.0.0.1:7700; port 0 picks a free one).
        #[arg(long)]
        api: Option<std::net::SocketAddr>,
        /// libp2p listen address (repeatable; default TCP and QUIC on port 7701).
        #[arg(long = "p2p")]
        p2p: Vec<String>,
        /// The network's genesis trust list, from its coordinators.
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
    /// Run the node until SIGINT or SIGTERM.
    Run {
        /// Log format.
        #[arg(long, value_enum, default_value_t = LogFormat::Human)]
        log_format: LogFormat,
    },
    /// Normalise indicator values the way the network stores and matches them.
    ///
    /// Reads VALUES from the arguments, or one per line from stdin when none
    /// are given. Prints one normalised value per line; invalid values are
    /// reported on stderr and make the exit status 1.
    ///
    /// Example: kawan normalize phone "+44 (0)7700 900123"
    Normalize {
        /// Indicator kind: phone, email, url, domain, ip, telegram_handle,
        /// line_id, wechat_id, social_profile, tron_address, evm_address,
        /// btc_address, bank_account, company_name, app_id, image_hash.
        kind: Kind,
        /// Values to normalise (default: read stdin).
        values: Vec<String>,
        /// Region for phone numbers in national format (ISO 3166-1, e.g. TH).
        #[arg(long)]
        region: Option<Country>,
    },
    /// Publish a record as this agency.
    #[command(subcommand)]
    Publish(Publish),
    /// Search shared knowledge.
    Search(SearchArgs),
    /// Bulk-check values (one per line) from FILE, or stdin with `-`.
    Lookup {
        /// File with one value per line, or `-` for stdin.
        file: PathBuf,
        /// Kind of every value (guessed per value when absent).
        #[arg(long)]
        kind: Option<Kind>,
    },
    /// Import indicators from a CSV file (with a header row), a STIX 2.1 bundle or a MISP event.
    Import {
        file: PathBuf,
        /// csv, stix or misp (default: guessed from the content).
        #[arg(long)]
        format: Option<String>,
        /// TLP for rows that do not say.
        #[arg(long, default_value = "green")]
        tlp: String,
        /// Role for rows that do not say.
        #[arg(long, default_value = "recruiter_contact")]
        role: String,
        /// Sharing group for AMBER rows that do not say.
        #[arg(long)]
        group: Option<String>,
    },
    /// Local cases (never shared).
    #[command(subcommand)]
    Case(CaseCmd),
    /// API tokens (operator).
    #[command(subcommand)]
    Token(TokenCmd),
    /// The node's status: agency, network, record counts, store size.
    Status,
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The node's databases (operator): space used, compaction.
    #[command(subcommand)]
    Store(StoreCmd),
    /// Trust lists (coordinators): create, edit, sign, show, publish.
    #[command(subcommand)]
    Trust(trust::TrustCmd),
    /// Every member of the network: connected or not, last seen, how far behind.
    Peers,
    /// Export what this node may share (never AMBER+STRICT or RED).
    Export {
        /// misp-feed (a directory MISP can load as a feed), stix or taxii (one
        /// STIX 2.1 bundle of the network collection, as TAXII serves it) or csv.
        format: String,
        /// Output directory (misp-feed) or file (stix, csv; default stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Publish {
    /// An indicator (phone number, handle, URL, wallet…).
    Indicator(IndicatorArgs),
    /// A typology, from a TOML file of its fields.
    Typology {
        #[arg(long)]
        file: PathBuf,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
    },
    /// An investigative technique, from a TOML file of its fields.
    Technique {
        #[arg(long)]
        file: PathBuf,
        /// Sharing group, for AMBER.
        #[arg(long)]
        group: Option<String>,
    },
    /// Corroborate (or dispute) another agency's record.
    Sighting {
        #[arg(long)]
        target: String,
        /// corroborates or false_positive
        #[arg(long, default_value = "corroborates")]
        verdict: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Withdraw one of this agency's records, everywhere it replicated.
    Retraction {
        #[arg(long)]
        target: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
struct IndicatorArgs {
    #[arg(long)]
    kind: Kind,
    #[arg(long)]
    value: String,
    /// clear, green, amber or amber+strict (RED stays local: use a case).
    #[arg(long)]
    tlp: String,
    /// recruiter_contact, job_ad, scam_platform, payment, laundering, infrastructure
    #[arg(long)]
    role: String,
    /// suspect, victim or unknown
    #[arg(long)]
    subject: Option<String>,
    /// 0-100
    #[arg(long)]
    confidence: Option<u8>,
    /// fact or assessment
    #[arg(long)]
    basis: Option<String>,
    /// Sharing group (required for AMBER).
    #[arg(long)]
    group: Option<String>,
    /// facebook, instagram, tiktok, x, whatsapp…
    #[arg(long)]
    platform: Option<String>,
    /// ISO country (repeatable).
    #[arg(long = "country")]
    countries: Vec<String>,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Typology record id (repeatable).
    #[arg(long = "typology")]
    typologies: Vec<String>,
    #[arg(long)]
    description: Option<String>,
}

#[derive(Args)]
struct SearchArgs {
    #[arg(long)]
    kind: Option<Kind>,
    /// A value (needs --kind).
    #[arg(long)]
    value: Option<String>,
    /// indicator, typology or technique
    #[arg(long = "type")]
    r#type: Option<String>,
    /// Typology record id.
    #[arg(long)]
    typology: Option<String>,
    /// Author agency key (hex).
    #[arg(long)]
    author: Option<String>,
    /// Created at or after (Unix ms).
    #[arg(long)]
    since: Option<u64>,
    /// Created at or before (Unix ms).
    #[arg(long)]
    until: Option<u64>,
    /// Text in titles, summaries, descriptions and tags.
    #[arg(long)]
    text: Option<String>,
    /// Include retracted records.
    #[arg(long)]
    include_retracted: bool,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Subcommand)]
enum CaseCmd {
    /// Create a case.
    Create {
        /// The agency's own case number.
        #[arg(long)]
        reference: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// List cases.
    List,
    /// Show one case.
    Show { id: u64 },
    /// Link a shared record to a case.
    Link { id: u64, record: String },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a token; it is printed once.
    Create {
        name: String,
        /// analyst, operator or coordinator
        #[arg(long, default_value = "analyst")]
        role: String,
    },
    /// List tokens (names and roles, never secrets).
    List,
    /// Revoke a token.
    Revoke { name: String },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain of the audit log.
    Verify,
}

#[derive(Subcommand)]
enum StoreCmd {
    /// Records stored, bytes on disk per keyspace, journal size.
    Stats,
    /// Rewrite the tables to reclaim space (safe while the node runs).
    Compact,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run { .. } | Command::Demo { .. }) {
        // A client command whose output pipe closes (`kawan search --json |
        // head`) ends quietly, as Unix tools do, instead of panicking on the
        // write. Not for the node: a peer closing a socket must not kill it.
        // SAFETY: restores one signal's default disposition before any
        // thread is started.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command; `Ok(false)` means it ran but some input was invalid.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let dir = node_dir(cli.dir.clone());
    let json = cli.json;
    let client = || Client::from_dir(&dir);
    match cli.command {
        Command::Init { name, country, network, api, p2p, genesis } => {
            let made = kawan_node::daemon::init(&dir, &name, country, network)?;
            let mut config = made.config.clone();
            if let Some(api) = api {
                config.api.listen = api;
            }
            if !p2p.is_empty() {
                config.p2p.listen = p2p;
            }
            config.write(&dir)?;
            if let Some(genesis) = genesis {
                std::fs::copy(&genesis, dir.join(&config.paths.genesis))
                    .with_context(|| format!("cannot copy {}", genesis.display()))?;
            }
            if json {
                output::json(
                    &json!({"dir": dir, "agency_key": made.agency_key, "peer_id": made.peer_id, "operator_token": made.operator_token}),
                );
            } else {
                println!("Created a Kawan node in {}", dir.display());
                println!("  agency key : {}", made.agency_key);
                println!("  peer id    : {}", made.peer_id);
                println!("  operator token (shown once; also saved to {}/operator.token, mode 0600):", dir.display());
                println!("    {}", made.operator_token);
                println!("Next: kawan run --dir {}", dir.display());
            }
            Ok(true)
        }
        Command::Demo { data, exit } => {
            demo::run(data, exit)?;
            Ok(true)
        }
        Command::Run { log_format } => {
            init_tracing(log_format);
            let node = kawan_node::daemon::Node::open(&dir)?;
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(node.run())?;
            Ok(true)
        }
        Command::Normalize { kind, values, region } => normalize_cmd(kind, values, region, json),
        Command::Publish(p) => {
            let c = client()?;
            let (path, body) = publish_request(p)?;
            let out = c.post(path, &body)?;
            if json {
                output::json(&out);
            } else {
                println!(
                    "published {} (seq {} on {})",
                    out["id"].as_str().unwrap_or("?"),
                    out["seq"],
                    out["channel"].as_str().unwrap_or("?")
                );
                if let Some(v) = out["value"].as_str() {
                    println!("  value: {v}");
                }
                for w in out["warnings"].as_array().into_iter().flatten() {
                    println!("  warning: {}", w.as_str().unwrap_or(""));
                }
            }
            Ok(true)
        }
        Command::Search(s) => {
            let mut q = vec![format!("limit={}", s.limit)];
            let mut add = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    q.push(format!("{k}={}", output::urlencode(&v)));
                }
            };
            add("kind", s.kind.map(|k| k.to_string()));
            add("value", s.value);
            add("type", s.r#type);
            add("typology", s.typology);
            add("author", s.author);
            add("since", s.since.map(|v| v.to_string()));
            add("until", s.until.map(|v| v.to_string()));
            add("text", s.text);
            if s.include_retracted {
                q.push("include_retracted=true".into());
            }
            let out = client()?.get(&format!("/api/v1/search?{}", q.join("&")))?;
            if json {
                output::json(&out);
            } else {
                output::hits(out["hits"].as_array().map(Vec::as_slice).unwrap_or(&[]));
            }
            Ok(true)
        }
        Command::Lookup { file, kind } => {
            let mut text = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text).context("reading stdin")?;
            } else {
                text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            }
            let path = match kind {
                Some(k) => format!("/api/v1/lookup?kind={k}"),
                None => "/api/v1/lookup".into(),
            };
            let out = client()?.post_text(&path, text)?;
            if json {
                output::json(&out);
            } else {
                output::lookup(&out);
            }
            Ok(out["invalid"].as_u64() == Some(0))
        }
        Command::Import { file, format, tlp, role, group } => {
            let c = client()?;
            let report = import::import(&c, &file, format.as_deref(), &import::Defaults { tlp, role, group })?;
            if json {
                output::json(&json!({
                    "imported": report.imported,
                    "failed": report.failed.iter().map(|(l, e)| json!({"line": l, "error": e})).collect::<Vec<_>>(),
                    "skipped": report.skipped.iter().map(|(t, n)| json!({"type": t, "count": n})).collect::<Vec<_>>(),
                }));
            } else {
                for (line, err) in &report.failed {
                    eprintln!("{}:{line}: {err}", file.display());
                }
                for (misp_type, n) in &report.skipped {
                    eprintln!("skipped {n} attribute(s) of MISP type {misp_type:?}: no Kawan kind");
                }
                println!("imported {} indicators, {} failed", report.imported, report.failed.len());
            }
            Ok(report.failed.is_empty())
        }
        Command::Case(c) => {
            let client = client()?;
            let out = match c {
                CaseCmd::Create { reference, title, notes } => {
                    client.post("/api/v1/cases", &json!({"reference": reference, "title": title, "notes": notes}))?
                }
                CaseCmd::List => client.get("/api/v1/cases")?,
                CaseCmd::Show { id } => client.get(&format!("/api/v1/cases/{id}"))?,
                CaseCmd::Link { id, record } => {
                    client.post(&format!("/api/v1/cases/{id}/links"), &json!({"record": record}))?
                }
            };
            output::json_or_text(&out, json);
            Ok(true)
        }
        Command::Token(t) => {
            let client = client()?;
            let out = match t {
                TokenCmd::Create { name, role } => {
                    client.post("/api/v1/tokens", &json!({"name": name, "role": role}))?
                }
                TokenCmd::List => client.get("/api/v1/tokens")?,
                TokenCmd::Revoke { name } => client.delete(&format!("/api/v1/tokens/{}", output::urlencode(&name)))?,
            };
            output::json_or_text(&out, json);
            Ok(true)
        }
        Command::Status => {
            let out = client()?.get("/api/v1/status")?;
            output::json_or_text(&out, json);
            Ok(true)
        }
        Command::Trust(trust::TrustCmd::Publish { file }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let out = client()?.post("/api/v1/trust", &json!({"signed_list": hex::encode(bytes)}))?;
            if json {
                output::json(&out);
            } else {
                println!(
                    "installed {} version {} on the node; it gossips it to the network",
                    out["network"], out["version"]
                );
            }
            Ok(true)
        }
        Command::Trust(cmd) => {
            trust::run(cmd, json)?;
            Ok(true)
        }
        Command::Peers => {
            let out = client()?.get("/api/v1/peers")?;
            if json {
                output::json(&out);
            } else {
                output::peers(&out);
            }
            Ok(true)
        }
        Command::Export { format, out } => {
            export(&client()?, &format, out.as_deref())?;
            Ok(true)
        }
        Command::Store(cmd) => {
            let out = match cmd {
                StoreCmd::Stats => client()?.get("/api/v1/store/stats")?,
                StoreCmd::Compact => client()?.post("/api/v1/store/compact", &json!({}))?,
            };
            if json {
                output::json(&out);
            } else {
                output::store_stats(&out);
            }
            Ok(true)
        }
        Command::Audit(AuditCmd::Verify) => {
            let out = client()?.get("/api/v1/audit/verify")?;
            if json {
                output::json(&out);
            } else if out["ok"] == Value::Bool(true) {
                println!("audit log intact: {} entries", out["entries"]);
            } else {
                println!("audit log BROKEN: {}", out["error"].as_str().unwrap_or("?"));
            }
            Ok(out["ok"] == Value::Bool(true))
        }
    }
}

fn publish_request(p: Publish) -> anyhow::Result<(&'static str, Value)> {
    Ok(match p {
        Publish::Indicator(a) => (
            "/api/v1/indicators",
            json!({
                "kind": a.kind, "value": a.value, "tlp": a.tlp, "role": a.role, "subject": a.subject,
                "confidence": a.confidence, "basis": a.basis, "group": a.group, "platform": a.platform,
                "countries": a.countries, "tags": a.tags, "typologies": a.typologies, "description": a.description,
            }),
        ),
        Publish::Typology { file, group } => {
            ("/api/v1/typologies", json!({"group": group, "content": read_toml(&file)?}))
        }
        Publish::Technique { file, group } => {
            ("/api/v1/techniques", json!({"group": group, "content": read_toml(&file)?}))
        }
        Publish::Sighting { target, verdict, comment } => {
            ("/api/v1/sightings", json!({"target": target, "verdict": verdict, "comment": comment}))
        }
        Publish::Retraction { target, reason } => ("/api/v1/retractions", json!({"target": target, "reason": reason})),
    })
}

fn read_toml(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: toml::Value = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    Ok(serde_json::to_value(value)?)
}

fn normalize_cmd(kind: Kind, values: Vec<String>, region: Option<Country>, json: bool) -> anyhow::Result<bool> {
    let values = if values.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading stdin")?;
        text.lines().map(String::from).collect()
    } else {
        values
    };
    let ctx = Context { default_region: region };
    let mut all_ok = true;
    for raw in values.iter().filter(|v| !v.trim().is_empty()) {
        let result = normalize(kind, raw, &ctx);
        if json {
            let line = match &result {
                Ok(n) => json!({
                    "input": raw, "kind": kind, "value": n.value,
                    "warnings": n.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
                Err(e) => json!({ "input": raw, "kind": kind, "error": e.reason.to_string() }),
            };
            println!("{line}");
        } else {
            match &result {
                Ok(n) => {
                    println!("{}", n.value);
                    for w in &n.warnings {
                        eprintln!("warning: {}: {w}", n.value);
                    }
                }
                Err(e) => eprintln!("error: {e}"),
            }
        }
        all_ok &= result.is_ok();
    }
    Ok(all_ok)
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn export(c: &Client, format: &str, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let write = |text: String| -> anyhow::Result<()> {
        match out {
            Some(p) => write_atomic(p, text.as_bytes(), 0o644).with_context(|| format!("cannot write {}", p.display())),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    };
    match format {
        "misp-feed" => {
            let dir = out.context("misp-feed needs --out DIR")?;
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let manifest = c.get("/api/v1/export/misp/manifest.json")?;
            for uuid in manifest.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                let event = c.get(&format!("/api/v1/export/misp/{uuid}.json"))?;
                write_atomic(&dir.join(format!("{uuid}.json")), event.to_string().as_bytes(), 0o644)?;
            }
            write_atomic(&dir.join("manifest.json"), manifest.to_string().as_bytes(), 0o644)?;
            let hashes = c.get_text("/api/v1/export/misp/hashes.csv")?;
            write_atomic(&dir.join("hashes.csv"), hashes.as_bytes(), 0o644)?;
            eprintln!(
                "wrote a MISP feed of {} events to {}",
                manifest.as_object().map_or(0, |m| m.len()),
                dir.display()
            );
            Ok(())
        }
        "stix" | "taxii" => {
            let cols = c.get("/taxii2/api/collections/")?;
            let id = cols["collections"][0]["id"].as_str().context("no collection")?.to_string();
            let mut objects = Vec::new();
            let mut path = format!("/taxii2/api/collections/{id}/objects/?limit=1000");
            loop {
                let page = c.get(&path)?;
                objects.extend(page["objects"].as_array().cloned().unwrap_or_default());
                match page["next"].as_str() {
                    Some(next) if page["more"] == true => {
                        path = format!("/taxii2/api/collections/{id}/objects/?limit=1000&next={next}")
                    }
                    _ => break,
                }
            }
            let bundle = json!({"type": "bundle", "id": format!("bundle--{}", kawan_node::interop::stix::derived_id("x", id.as_bytes()).trim_start_matches("x--")), "objects": objects});
            write(serde_json::to_string_pretty(&bundle)? + "\n")
        }
        "csv" => write(c.get_text("/api/v1/export/csv")?),
        other => anyhow::bail!("unknown export format {other:?} (misp-feed, stix, taxii or csv)"),
    }
}
