//! `kawan export`: what this node may share, as a MISP feed, a STIX bundle or CSV.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use kawan_node::files::write_atomic;

use super::Ctx;
use crate::{client::Client, i18n::t};

#[derive(Args)]
pub struct ExportArgs {
    /// misp-feed (a directory MISP can load as a feed), stix or taxii (one
    /// STIX 2.1 bundle of the network collection, as TAXII serves it) or csv.
    format: String,
    /// Output directory (misp-feed) or file (stix, csv; default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: ExportArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    export(&ctx.client()?, &a.format, a.out.as_deref())?;
    Ok(true)
}

fn export(c: &Client, format: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let write = |text: String| -> anyhow::Result<()> {
        match out {
            Some(p) => write_atomic(p, text.as_bytes(), 0o644)
                .with_context(|| t!("cannot-write", path = p.display().to_string())),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    };
    match format {
        "misp-feed" => {
            let dir = out.context(t!("export-misp-needs-out"))?;
            std::fs::create_dir_all(dir).with_context(|| t!("cannot-create", path = dir.display().to_string()))?;
            let manifest = c.get("/api/v1/export/misp/manifest.json")?;
            for uuid in manifest.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                let event = c.get(&format!("/api/v1/export/misp/{uuid}.json"))?;
                write_atomic(&dir.join(format!("{uuid}.json")), event.to_string().as_bytes(), 0o644)?;
            }
            write_atomic(&dir.join("manifest.json"), manifest.to_string().as_bytes(), 0o644)?;
            let hashes = c.get_text("/api/v1/export/misp/hashes.csv")?;
            write_atomic(&dir.join("hashes.csv"), hashes.as_bytes(), 0o644)?;
            let events = manifest.as_object().map_or(0, |m| m.len());
            eprintln!("{}", t!("export-misp-done", n = events, dir = dir.display().to_string()));
            Ok(())
        }
        "stix" | "taxii" => write(serde_json::to_string_pretty(&c.get("/api/v1/export/stix")?)? + "\n"),
        "csv" => write(c.get_text("/api/v1/export/csv")?),
        other => anyhow::bail!(t!("export-unknown-format", format = other)),
    }
}
