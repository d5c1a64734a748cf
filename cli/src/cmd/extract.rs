//! `kawan extract`: the indicators in free text, offline (no node needed).

use std::io::Read as _;

use anyhow::Context as _;
use clap::Args;
use kawan_protocol::{Context, Country, extract::extract};

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct ExtractArgs {
    /// Text files to read (default: stdin). Plain text in any language.
    files: Vec<std::path::PathBuf>,
    /// Region for phone numbers in national format (ISO 3166-1, e.g. TH;
    /// default: the node's, when run in a node directory).
    #[arg(long)]
    region: Option<Country>,
}

pub fn run(a: ExtractArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let mut texts = Vec::new();
    if a.files.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context(t!("reading-stdin"))?;
        texts.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    for f in &a.files {
        let bytes = std::fs::read(f).with_context(|| t!("cannot-read", path = f.display().to_string()))?;
        texts.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let region =
        a.region.or_else(|| kawan_node::config::Config::load(&ctx.dir).ok().and_then(|c| c.normalize.default_region));
    let norm = Context { default_region: region };
    let mut all = kawan_protocol::extract::Extraction::default();
    for text in &texts {
        all.indicators.extend(extract(text, &norm).indicators);
    }
    if ctx.json {
        output::json(&serde_json::to_value(&all)?);
        return Ok(true);
    }
    if all.indicators.is_empty() {
        println!("{}", t!("extract-none"));
    }
    for f in &all.indicators {
        let defanged = if f.defanged { t!("extract-defanged") } else { String::new() };
        println!("{:<16} {}  ({}){defanged}", f.kind.as_str(), f.value, f.text);
    }
    Ok(true)
}
