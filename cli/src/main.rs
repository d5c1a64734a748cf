//! `kawan`: the command-line front end. Thin: parsing and printing only; the
//! work happens in `kawan-protocol` and `kawan-node`.

use std::{io::BufRead as _, process::ExitCode};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kawan_protocol::{Context, Country, Kind, normalize};

/// Kawan: a federated node for sharing scam-centre indicators, typologies and
/// investigative techniques between trusted agencies.
#[derive(Parser)]
#[command(name = "kawan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        /// Print one JSON object per value instead of plain text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
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
    match cli.command {
        Command::Normalize { kind, values, region, json } => {
            let values = if values.is_empty() {
                std::io::stdin().lock().lines().collect::<Result<Vec<_>, _>>().context("reading stdin")?
            } else {
                values
            };
            let ctx = Context { default_region: region };
            let mut all_ok = true;
            for raw in values.iter().filter(|v| !v.trim().is_empty()) {
                let result = normalize(kind, raw, &ctx);
                if json {
                    let line = match &result {
                        Ok(n) => serde_json::json!({
                            "input": raw, "kind": kind, "value": n.value,
                            "warnings": n.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        }),
                        Err(e) => {
                            serde_json::json!({ "input": raw, "kind": kind, "error": e.reason.to_string() })
                        }
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
    }
}
