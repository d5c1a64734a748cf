//! `kawan attach FILE`: uploads a file a record will carry and prints the
//! reference to put in the record's `attachments`; `kawan file HASH`: saves
//! a file a record names (fetched from members if it is not here).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct AttachArgs {
    /// The file: an image (PNG, JPEG, WebP, GIF), a PDF, or text (.txt, .csv).
    pub file: PathBuf,
    /// When the content was captured (RFC 3339 time, YYYY-MM-DD, or Unix ms),
    /// e.g. the moment a screenshot of a job ad was taken.
    #[arg(long)]
    pub captured: Option<String>,
    /// The name analysts will see (default: the file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The file's type (default: read from its first bytes or its name).
    #[arg(long = "type")]
    pub media_type: Option<String>,
}

#[derive(Args)]
pub struct FileArgs {
    /// The file's hash, as a record names it.
    pub hash: String,
    /// Where to save it (default: the name its record gives, in the current directory).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Uploads `path` and returns its reference (what a record carries).
pub fn upload(
    ctx: &Ctx,
    path: &Path,
    captured: Option<&str>,
    name: Option<&str>,
    media_type: Option<&str>,
) -> anyhow::Result<Value> {
    let file =
        std::fs::File::open(path).with_context(|| t!("attach-cannot-read", path = path.display().to_string()))?;
    let name = match name {
        Some(n) => n.to_string(),
        None => path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    let mut query = format!("name={}", output::urlencode(&name));
    if let Some(c) = captured {
        query.push_str(&format!("&captured_ms={}", super::key::parse_time(c)?));
    }
    ctx.client()?.post_file(&format!("/api/v1/attachments?{query}"), file, media_type)
}

pub fn attach(a: AttachArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let reference = upload(ctx, &a.file, a.captured.as_deref(), a.name.as_deref(), a.media_type.as_deref())?;
    if ctx.json {
        output::json(&reference);
    } else {
        eprintln!(
            "{}",
            t!(
                "attach-done",
                hash = reference["hash"].as_str().unwrap_or(""),
                sha256 = reference["sha256"].as_str().unwrap_or("")
            )
        );
        // The reference itself, on stdout, to paste into a record's
        // "attachments" list (or pipe: kawan attach shot.png > ref.json).
        println!("{}", serde_json::to_string(&reference)?);
    }
    Ok(true)
}

pub fn file(a: FileArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    // No body: the route reads none, and a body left unread can close the
    // connection the next request would reuse.
    let fetched =
        client.post_text(&format!("/api/v1/attachments/{}/fetch", output::urlencode(&a.hash)), String::new())?;
    let (mut reader, headers) =
        client.get_reader_with_headers(&format!("/api/v1/attachments/{}", output::urlencode(&a.hash)))?;
    let given = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .and_then(|d| d.split("filename=\"").nth(1))
        .map(|n| n.trim_end_matches('"').to_string())
        .filter(|n| !n.is_empty() && !n.contains('/') && n != ".." && n != ".")
        .unwrap_or_else(|| a.hash.clone());
    let out = a.out.unwrap_or_else(|| PathBuf::from(given));
    let mut f =
        std::fs::File::create(&out).with_context(|| t!("attach-cannot-write", path = out.display().to_string()))?;
    std::io::copy(&mut reader, &mut f)?;
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if ctx.json {
        output::json(
            &serde_json::json!({ "saved": out, "sha256": header("x-kawan-sha256"), "sha256_verified": header("x-kawan-sha256-verified") == "true", "fetch": fetched }),
        );
        return Ok(true);
    }
    for p in fetched["passed_over"].as_array().into_iter().flatten() {
        eprintln!("  {}", t!("attach-passed-over", why = p.as_str().unwrap_or("")));
    }
    println!("{}", t!("attach-saved", path = out.display().to_string(), sha256 = header("x-kawan-sha256")));
    if header("x-kawan-sha256-verified") != "true" {
        eprintln!("{}", t!("attach-sha-differs"));
        return Ok(false);
    }
    Ok(true)
}
