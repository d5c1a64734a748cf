//! One file per command. Each defines its arguments (clap) and a `run` that
//! returns `Ok(false)` when it ran but some input was invalid (exit status 1).

pub mod attach;
pub mod audit;
pub mod backup;
pub mod bundle;
pub mod card;
pub mod case;
pub mod deconflict;
pub mod demo;
pub mod export;
pub mod extract;
pub mod import;
pub mod init;
pub mod key;
pub mod lookup;
pub mod normalize;
pub mod oversight;
pub mod peers;
pub mod permission;
pub mod publish;
pub mod record;
pub mod referral;
pub mod request;
pub mod review;
pub mod run;
pub mod search;
pub mod status;
pub mod store;
pub mod token;
pub mod trust;

use std::path::PathBuf;

use clap::Subcommand;

use crate::client::Client;

/// What every command may need: the node directory and the output form.
pub struct Ctx {
    pub dir: PathBuf,
    /// `--dir` as given (None when defaulted).
    pub dir_given: Option<PathBuf>,
    pub json: bool,
}

impl Ctx {
    /// A client of the local node's API (address and token from `dir`).
    pub fn client(&self) -> anyhow::Result<Client> {
        Client::from_dir(&self.dir)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Start a local demo network of five fictional agencies and show records flow.
    Demo(demo::DemoArgs),
    /// Create a node directory: config, agency key, database, operator token.
    Init(init::InitArgs),
    /// Run the node until SIGINT or SIGTERM.
    Run(run::RunArgs),
    /// Normalise indicator values the way the network stores and matches them.
    ///
    /// Reads VALUES from the arguments, or one per line from stdin when none
    /// are given. Prints one normalised value per line; invalid values are
    /// reported on stderr and make the exit status 1.
    ///
    /// Example: kawan normalize phone "+44 (0)7700 900123"
    Normalize(normalize::NormalizeArgs),
    /// Find the indicators in free text or a file: phone numbers, handles,
    /// profiles, links, e-mail, domains, IPs, wallets, bank accounts — each
    /// with its kind, normal form, the text as written and its byte offsets
    /// (`--json`) — and the recruitment red flags. Offline.
    ///
    /// Example: kawan extract --region TH ad.txt chat.eml result.json
    Extract(extract::ExtractArgs),
    /// Extract as `kawan extract` does, and check every value against the
    /// running node: shared records about it (who published it, TLP,
    /// sightings, referrals, confidence), this agency's watchlists and
    /// cases, and the network's typologies' phrases. A logged consultation.
    ///
    /// Example: kawan --justify "case 2026/114" screen --region ID ad.txt
    Screen(extract::ScreenArgs),
    /// Publish a record as this agency.
    #[command(subcommand)]
    Publish(publish::Publish),
    /// Search shared knowledge.
    Search(search::SearchArgs),
    /// Show one stored record by id, exactly as signed (records of a newer
    /// kind than this node reads are named, not interpreted).
    Record(record::RecordArgs),
    /// Bulk-check values (one per line) from FILE, or stdin with `-`.
    Lookup(lookup::LookupArgs),
    /// Import indicators from a CSV file (with a header row), a STIX 2.1 bundle or a MISP event.
    Import(import::ImportArgs),
    /// Referrals to platforms (takedown, suspension, preservation, disclosure) and their outcomes.
    #[command(subcommand)]
    Referral(referral::ReferralCmd),
    /// Requests for information to the network or a sharing group, and their answers.
    #[command(subcommand)]
    Request(request::RequestCmd),
    /// Store a file (a screenshot, a PDF, a text) for a record to carry, and
    /// print the reference to put in the record's "attachments".
    ///
    /// Example: kawan attach job-ad.png --captured 2026-05-01T10:22:00Z
    Attach(attach::AttachArgs),
    /// Save a file a record carries (fetched from members that may share it
    /// if it is not on this node yet), with its SHA-256.
    File(attach::FileArgs),
    /// Ask every member privately whether it holds anything on values.
    ///
    /// No member learns the values; each answers only hit or no hit (and
    /// where to follow up). Values linked to a member's local cases and its
    /// unshared records count. Every request is signed, logged by each
    /// holder with its purpose, and rate-limited.
    ///
    /// Example: kawan deconflict "+44 7700 900123" --purpose "OP-7 recruiter"
    Deconflict(deconflict::DeconflictArgs),
    /// Follow-ups on deconfliction hits: request contact, answer, list.
    #[command(subcommand)]
    Contact(deconflict::ContactCmd),
    /// This agency's records due for review: list them, extend one.
    #[command(subcommand)]
    Review(review::ReviewCmd),
    /// Erase records on every node (body, indexes, alerts, case links),
    /// leaving tombstones; one signed erasure per channel.
    Erase(review::EraseArgs),
    /// The signed oversight report for a data-protection officer or a
    /// supervisory authority, and its verification.
    #[command(subcommand)]
    Oversight(oversight::OversightCmd),
    /// Permissions to pass H2 records outside the network: grant, list,
    /// revoke.
    #[command(subcommand)]
    Permission(permission::PermissionCmd),
    /// Local cases (never shared).
    #[command(subcommand)]
    Case(case::CaseCmd),
    /// API tokens (operator).
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// The node's status: agency, network, record counts, store size.
    Status,
    /// The audit log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Back up the running node without stopping it (operator): records,
    /// trust lists, cases, tokens, audit log, config; the agency key only
    /// with --include-key, and then encrypted (age).
    Backup(backup::BackupArgs),
    /// Restore a backup into a new node directory (--dir), verifying every
    /// record's signature and the audit log.
    Restore(backup::RestoreArgs),
    /// Sync over a file for air-gapped or intermittent nodes (operator):
    /// export a bundle for one member, import one made for this node.
    #[command(subcommand)]
    Bundle(bundle::BundleCmd),
    /// The node's databases (operator): space used, compaction.
    #[command(subcommand)]
    Store(store::StoreCmd),
    /// Print this agency's public member card, to send to the coordinators.
    Card(card::CardArgs),
    /// The agency key: rotation, and recovery after a theft.
    #[command(subcommand)]
    Key(key::KeyCmd),
    /// Trust lists (coordinators): create from cards, edit, rotate keys, sign, show, join, publish.
    #[command(subcommand)]
    Trust(trust::TrustCmd),
    /// Every member of the network: connected or not, last seen, how far behind.
    Peers,
    /// Export what this node may share (never AMBER+STRICT or RED).
    Export(export::ExportArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    ///
    /// Example: kawan completions bash > /etc/bash_completion.d/kawan
    Completions { shell: clap_complete::Shell },
    /// Write a man page per command into DIR (for packaging).
    #[command(hide = true)]
    Man { dir: PathBuf },
}

impl Command {
    /// Whether this command runs a node (and so must survive peers closing sockets).
    pub fn runs_a_node(&self) -> bool {
        matches!(self, Command::Run(_) | Command::Demo(_))
    }
}

pub fn run(command: Command, ctx: &Ctx) -> anyhow::Result<bool> {
    match command {
        Command::Demo(a) => demo::command(a, ctx),
        Command::Init(a) => init::run(a, ctx),
        Command::Run(a) => run::run(a, ctx),
        Command::Normalize(a) => normalize::run(a, ctx),
        Command::Extract(a) => extract::run(a, ctx),
        Command::Screen(a) => extract::screen(a, ctx),
        Command::Publish(p) => publish::run(p, ctx),
        Command::Search(a) => search::run(a, ctx),
        Command::Record(a) => record::run(a, ctx),
        Command::Lookup(a) => lookup::run(a, ctx),
        Command::Import(a) => import::run(a, ctx),
        Command::Referral(r) => referral::run(r, ctx),
        Command::Request(r) => request::run(r, ctx),
        Command::Attach(a) => attach::attach(a, ctx),
        Command::File(a) => attach::file(a, ctx),
        Command::Deconflict(a) => deconflict::run(a, ctx),
        Command::Contact(c) => deconflict::contact(c, ctx),
        Command::Review(c) => review::run(c, ctx),
        Command::Erase(a) => review::erase(a, ctx),
        Command::Oversight(c) => oversight::run(c, ctx),
        Command::Permission(c) => permission::run(c, ctx),
        Command::Case(c) => case::run(c, ctx),
        Command::Token(t) => token::run(t, ctx),
        Command::Status => status::run(ctx),
        Command::Audit(a) => audit::run(a, ctx),
        Command::Backup(a) => backup::backup(a, ctx),
        Command::Restore(a) => backup::restore(a, ctx),
        Command::Bundle(b) => bundle::run(b, ctx),
        Command::Store(s) => store::run(s, ctx),
        Command::Card(a) => card::run(a, ctx),
        Command::Key(k) => key::run(k, ctx),
        Command::Trust(t) => trust::run(t, ctx),
        Command::Peers => peers::run(ctx),
        Command::Export(a) => export::run(a, ctx),
        Command::Completions { shell } => {
            let mut cmd = crate::cli_command();
            clap_complete::generate(shell, &mut cmd, "kawan", &mut std::io::stdout());
            Ok(true)
        }
        Command::Man { dir } => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(crate::cli_command(), &dir)?;
            Ok(true)
        }
    }
}
