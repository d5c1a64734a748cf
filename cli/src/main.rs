//! `kawan`: the command-line front end. Thin: parsing and printing only; the
//! node runs in `kawan-node`, and client commands talk to its HTTP API.
//! One file per command in `cmd/`; this file parses and dispatches.

mod client;
mod cmd;
mod i18n;
mod output;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

/// Kawan: a federated node for sharing scam-centre indicators, typologies and
/// investigative techniques between trusted agencies, with case details kept local.
#[derive(Parser)]
#[command(
    name = "kawan",
    version,
    about,
    long_about = None,
    after_help = "Messages follow the terminal's language (KAWAN_LANG, else LC_ALL, LC_MESSAGES, LANG: \
                  English, Bahasa Indonesia, Thai) and times its time zone (TZ); --json output stays as the API \
                  defines it."
)]
struct Cli {
    /// The node directory (default: $KAWAN_DIR, or the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Why you consult shared data: a purpose and case reference, sent as
    /// the Kawan-Purpose header and logged with every search, lookup,
    /// record read and export (default: $KAWAN_PURPOSE). Some agencies
    /// refuse consultations without one.
    #[arg(long, global = true, value_name = "TEXT")]
    justify: Option<String>,
    #[command(subcommand)]
    command: cmd::Command,
}

/// The command-line interface as clap describes it (completions, man pages).
fn cli_command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.command.runs_a_node() {
        // A client command whose output pipe closes (`kawan search --json |
        // head`) ends quietly, as Unix tools do, instead of panicking on the
        // write. Not for the node: a peer closing a socket must not kill it.
        // SAFETY: restores one signal's default disposition before any
        // thread is started.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    if let Some(purpose) = cli.justify.clone() {
        client::state_purpose(purpose);
    }
    let ctx = cmd::Ctx { dir_given: cli.dir.clone(), dir: client::node_dir(cli.dir), json: cli.json };
    match cmd::run(cli.command, &ctx) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{}", i18n::t!("error", error = format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
