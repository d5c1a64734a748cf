//! `kawan extract` (offline: no node needed) and `kawan screen` (the same,
//! each value checked against the running node): the indicators and red
//! flags in free text or in the files analysts receive.

use std::io::Read as _;

use anyhow::Context as _;
use clap::Args;
use kawan_protocol::{Context, Country, extract::extract};
use kawan_read::Format;
use serde_json::{Value, json};

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct ExtractArgs {
    /// Files to read (default: stdin): text in any language, a web page
    /// (.html), an e-mail (.eml), a PDF, a CSV, a WhatsApp "Export chat"
    /// .txt or a Telegram Desktop result.json — told apart by name and
    /// content.
    files: Vec<std::path::PathBuf>,
    /// Region for phone numbers in national format (ISO 3166-1, e.g. TH;
    /// default: the node's, when run in a node directory).
    #[arg(long)]
    region: Option<Country>,
    /// Read every input as this format instead of telling it by name and
    /// content: text, html, email, pdf, csv, whatsapp, telegram.
    #[arg(long)]
    format: Option<Format>,
}

/// One input read as text.
struct Input {
    /// The file name, or `-` for stdin.
    source: String,
    format: Format,
    text: String,
}

fn inputs(a: &ExtractArgs) -> anyhow::Result<Vec<Input>> {
    let mut raw = Vec::new();
    if a.files.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context(t!("reading-stdin"))?;
        raw.push(("-".to_string(), None, bytes));
    }
    for f in &a.files {
        let bytes = std::fs::read(f).with_context(|| t!("cannot-read", path = f.display().to_string()))?;
        raw.push((f.display().to_string(), f.file_name().map(|n| n.to_string_lossy().into_owned()), bytes));
    }
    let mut out = Vec::new();
    for (source, name, bytes) in raw {
        let format = a.format.unwrap_or_else(|| kawan_read::sniff(name.as_deref(), &bytes));
        // Plain text from stdin is read as analysts paste it, invalid UTF-8 replaced.
        let text = if format == Format::Text {
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            kawan_read::read(name.as_deref(), &bytes, Some(format))
                .with_context(|| t!("extract-unreadable", path = source.clone()))?
                .text
        };
        out.push(Input { source, format, text });
    }
    Ok(out)
}

/// Each hit and flag tagged with its input when there are several; the
/// input's format and text when it was not plain text (offsets index it).
fn tag(mut v: Value, input: &Input, many: bool) -> Value {
    if many {
        for list in ["indicators", "red_flags", "typologies"] {
            for item in v[list].as_array_mut().into_iter().flatten() {
                item["source"] = json!(input.source);
            }
        }
    }
    if input.format != Format::Text && !many {
        v["format"] = json!(input.format);
        v["text"] = json!(input.text);
    }
    v
}

/// Several inputs: their lists joined, and each input's format and text.
fn join(parts: Vec<(Value, &Input)>) -> Value {
    if parts.len() == 1 {
        return parts.into_iter().next().map(|(v, _)| v).unwrap_or_default();
    }
    let mut out = json!({"indicators": [], "red_flags": [], "documents": []});
    for (v, input) in parts {
        for list in ["indicators", "red_flags", "typologies"] {
            if let Some(items) = v[list].as_array() {
                match out[list].as_array_mut() {
                    Some(all) => all.extend(items.iter().cloned()),
                    None => out[list] = json!(items),
                }
            }
        }
        let mut doc = json!({"source": input.source, "format": input.format});
        if input.format != Format::Text {
            doc["text"] = json!(input.text);
        }
        if let Some(docs) = out["documents"].as_array_mut() {
            docs.push(doc);
        }
    }
    out
}

fn region(a: &ExtractArgs, ctx: &Ctx) -> Option<Country> {
    a.region.or_else(|| kawan_node::config::Config::load(&ctx.dir).ok().and_then(|c| c.normalize.default_region))
}

pub fn run(a: ExtractArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let inputs = inputs(&a)?;
    let norm = Context { default_region: region(&a, ctx) };
    let many = inputs.len() > 1;
    let mut parts = Vec::new();
    for input in &inputs {
        let x = extract(&input.text, &norm);
        parts.push((tag(serde_json::to_value(&x)?, input, many), input));
    }
    let out = join(parts);
    if ctx.json {
        output::json(&out);
        return Ok(true);
    }
    print_found(&out, false);
    Ok(true)
}

/// `kawan screen`: as `extract`, each value checked against the node.
#[derive(Args)]
pub struct ScreenArgs {
    #[command(flatten)]
    input: ExtractArgs,
}

pub fn screen(a: ScreenArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let inputs = inputs(&a.input)?;
    let client = ctx.client()?;
    let many = inputs.len() > 1;
    let mut parts = Vec::new();
    for input in &inputs {
        let mut body = json!({"text": input.text});
        if let Some(r) = a.input.region {
            body["region"] = json!(r.as_str());
        }
        let v = client.post("/api/v1/screen", &body)?;
        parts.push((tag(v, input, many), input));
    }
    let out = join(parts);
    if ctx.json {
        output::json(&out);
        return Ok(true);
    }
    print_found(&out, true);
    Ok(true)
}

fn print_found(out: &Value, screened: bool) {
    let none = Vec::new();
    let indicators = out["indicators"].as_array().unwrap_or(&none);
    if indicators.is_empty() {
        println!("{}", t!("extract-none"));
    }
    for f in indicators {
        let defanged = if f["defanged"] == true { t!("extract-defanged") } else { String::new() };
        println!(
            "{:<16} {}  ({}){defanged}",
            f["kind"].as_str().unwrap_or(""),
            f["value"].as_str().unwrap_or(""),
            f["text"].as_str().unwrap_or("")
        );
        if !screened {
            continue;
        }
        let hits = f["hits"].as_array().unwrap_or(&none);
        if hits.is_empty() {
            println!("    {}", t!("screen-unknown"));
        }
        for h in hits {
            let author = h["author_name"].as_str().or(h["author"].as_str()).unwrap_or("");
            println!(
                "    {}",
                t!(
                    "screen-hit",
                    kind = h["type"].as_str().unwrap_or(""),
                    author = author,
                    tlp = h["tlp"].as_str().unwrap_or(""),
                    confidence = h["confidence"].as_u64().unwrap_or(0),
                    sightings = h["sighted_by"].as_array().map_or(0, Vec::len)
                )
            );
        }
        for w in f["watched"].as_array().unwrap_or(&none) {
            println!("    {}", t!("screen-watched", owner = w["owner"].as_str().unwrap_or("")));
        }
        for c in f["cases"].as_array().unwrap_or(&none) {
            println!("    {}", t!("screen-case", case = c.as_u64().unwrap_or(0)));
        }
    }
    let flags = out["red_flags"].as_array().unwrap_or(&none);
    if !flags.is_empty() {
        println!("{}", t!("extract-red-flags"));
        for f in flags {
            println!("    {:<16} {}", f["flag"].as_str().unwrap_or(""), f["text"].as_str().unwrap_or(""));
        }
    }
    for ty in out["typologies"].as_array().unwrap_or(&none) {
        println!(
            "{}",
            t!(
                "screen-typology",
                title = ty["title"].as_str().unwrap_or(""),
                phrase = ty["text"].as_str().unwrap_or("")
            )
        );
    }
}
