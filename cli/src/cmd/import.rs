//! `kawan import`: CSV files, STIX 2.1 bundles and MISP events of
//! indicators (read by `kawan_node::interop::import`), published one by one
//! through the API. A bad row is reported with its line number and the rest
//! still imports.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kawan_node::interop::import::{self as reader, Defaults, Format};
use serde_json::json;

use super::Ctx;
use crate::{
    i18n::t,
    {client::Client, output},
};

pub struct Report {
    pub imported: usize,
    pub failed: Vec<(usize, String)>,
    /// MISP attribute types Kawan has no kind for, with counts.
    pub skipped: Vec<(String, usize)>,
}

pub fn import(client: &Client, path: &Path, format: Option<&str>, defaults: &Defaults) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path).with_context(|| t!("cannot-read", path = path.display().to_string()))?;
    let format = format.map(str::parse::<Format>).transpose()?;
    let parsed = reader::parse(&text, format, defaults).with_context(|| format!("{}", path.display()))?;
    let mut failed = parsed.failed;
    let bar = ProgressBar::new(parsed.rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} indicators ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut imported = 0;
    for row in parsed.rows {
        match client.post("/api/v1/indicators", &row.body) {
            Ok(_) => imported += 1,
            Err(e) => failed.push((row.line, e.to_string())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    failed.sort();
    Ok(Report { imported, failed, skipped: parsed.skipped })
}

#[derive(Args)]
pub struct ImportArgs {
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
}

pub fn run(a: ImportArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let c = ctx.client()?;
    let defaults = Defaults { tlp: a.tlp, role: a.role, group: a.group };
    let report = import(&c, &a.file, a.format.as_deref(), &defaults)?;
    if ctx.json {
        output::json(&json!({
            "imported": report.imported,
            "failed": report.failed.iter().map(|(l, e)| json!({"line": l, "error": e})).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(t, n)| json!({"type": t, "count": n})).collect::<Vec<_>>(),
        }));
    } else {
        for (line, err) in &report.failed {
            eprintln!("{}:{line}: {err}", a.file.display());
        }
        for (misp_type, n) in &report.skipped {
            eprintln!("{}", t!("import-skipped", n = *n, misp_type = misp_type.as_str()));
        }
        println!("{}", t!("import-done", imported = report.imported, failed = report.failed.len()));
    }
    Ok(report.failed.is_empty())
}
