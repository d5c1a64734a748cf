//! `kawan search`: shared knowledge by value, kind, typology, author, time or text.

use clap::{Args, builder::PossibleValuesParser};
use kawan_protocol::{Family, Kind};

use super::Ctx;
use crate::output;

#[derive(Args)]
pub struct SearchArgs {
    #[arg(long)]
    kind: Option<Kind>,
    /// A value (needs --kind).
    #[arg(long)]
    value: Option<String>,
    /// Record type; sighting, revision and retraction find the knowledge
    /// other agencies sighted, its author revised, or its author retracted.
    #[arg(long = "type", value_parser = PossibleValuesParser::new(Family::ALL.map(Family::as_str)))]
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
    /// Include indicators whose confidence decayed below the network's
    /// floor (left out by default, unless pinned).
    #[arg(long)]
    include_decayed: bool,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

pub fn run(s: SearchArgs, ctx: &Ctx) -> anyhow::Result<bool> {
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
    if s.include_decayed {
        q.push("include_decayed=true".into());
    }
    let out = ctx.client()?.get(&format!("/api/v1/search?{}", q.join("&")))?;
    if ctx.json {
        output::json(&out);
    } else {
        output::hits(out["hits"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    }
    Ok(true)
}
