//! `kawan lookup`: bulk-check a list of values.

use std::{io::Read as _, path::PathBuf};

use anyhow::Context as _;
use clap::Args;
use kawan_protocol::Kind;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct LookupArgs {
    /// File with one value per line, or `-` for stdin.
    file: PathBuf,
    /// Kind of every value (guessed per value when absent).
    #[arg(long)]
    kind: Option<Kind>,
}

pub fn run(a: LookupArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let mut text = String::new();
    if a.file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).context(t!("reading-stdin"))?;
    } else {
        text =
            std::fs::read_to_string(&a.file).with_context(|| t!("cannot-read", path = a.file.display().to_string()))?;
    }
    let path = match a.kind {
        Some(k) => format!("/api/v1/lookup?kind={k}"),
        None => "/api/v1/lookup".into(),
    };
    let out = ctx.client()?.post_text(&path, text)?;
    if ctx.json {
        output::json(&out);
    } else {
        output::lookup(&out);
    }
    Ok(out["invalid"].as_u64() == Some(0))
}
