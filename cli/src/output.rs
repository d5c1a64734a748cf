//! Printing API answers for people (tables) or programs (`--json`).

use crate::i18n::t;
use serde_json::Value;

pub fn json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// JSON for programs; for people, the same as indented `key: value` lines.
pub fn json_or_text(v: &Value, as_json: bool) {
    if as_json {
        return json(v);
    }
    match v {
        Value::Array(items) if items.is_empty() => println!("{}", t!("none")),
        Value::Array(items) => {
            for item in items {
                text(item, 0);
                println!();
            }
        }
        Value::Null => {}
        other => text(other, 0),
    }
}

fn text(v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(_) | Value::Array(_) if !is_flat(v) => {
                        println!("{pad}{k}:");
                        text(v, indent + 2);
                    }
                    _ => println!("{pad}{k}: {}", scalar(v)),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_flat(item) {
                    println!("{pad}- {}", scalar(item));
                } else {
                    println!("{pad}-");
                    text(item, indent + 2);
                }
            }
        }
        other => println!("{pad}{}", scalar(other)),
    }
}

fn is_flat(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().all(|x| !x.is_object() && !x.is_array()),
        Value::Object(_) => false,
        _ => true,
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A table of hits: what, who said it, how sure, and what changed since.
pub fn hits(hits: &[Value]) {
    if hits.is_empty() {
        println!("{}", t!("no-hits"));
        return;
    }
    println!(
        "{:<16} {:<40} {:<13} {:>4} {:>4}  {:<24} {}",
        t!("col-kind"),
        t!("col-value-title"),
        "TLP",
        t!("col-conf"),
        t!("col-agn"),
        t!("col-author"),
        t!("col-flags-id")
    );
    for h in hits {
        let what = h["value"].as_str().or_else(|| h["title"].as_str()).unwrap_or("");
        let kind = h["kind"].as_str().or_else(|| h["type"].as_str()).unwrap_or("");
        let author =
            h["author_name"].as_str().map(String::from).unwrap_or_else(|| short(h["author"].as_str().unwrap_or("")));
        let mut flags = Vec::new();
        if h["retracted"].is_string() {
            flags.push(t!("flag-retracted"));
        }
        if h["author_revoked"] == Value::Bool(true) {
            flags.push(t!("flag-author-revoked"));
        }
        if h["author_equivocating"] == Value::Bool(true) {
            flags.push(t!("flag-equivocating"));
        }
        if h["revisions"].as_u64().unwrap_or(0) > 0 {
            flags.push(format!("rev{}", h["revisions"]));
        }
        let fp = h["false_positive_by"].as_array().map_or(0, Vec::len);
        if fp > 0 {
            flags.push(format!("FP×{fp}"));
        }
        flags.push(short(h["id"].as_str().unwrap_or("")));
        println!(
            "{:<16} {:<40} {:<13} {:>4} {:>4}  {:<24} {}",
            kind,
            clip(what, 40),
            h["tlp"].as_str().unwrap_or(""),
            h["confidence"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            h["agencies"].to_string(),
            clip(&author, 24),
            flags.join(" ")
        );
    }
}

/// A bulk lookup: one line per value with hits or an error, then a summary.
pub fn lookup(out: &Value) {
    let results = out["results"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for r in results {
        let input = r["input"].as_str().unwrap_or("");
        if let Some(err) = r["error"].as_str() {
            println!("{}", t!("lookup-invalid", input = input, error = err));
            continue;
        }
        let hits = r["hits"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if hits.is_empty() {
            continue;
        }
        println!("{input} → {} {}", r["kind"].as_str().unwrap_or(""), r["value"].as_str().unwrap_or(""));
        for h in hits {
            let author = h["author_name"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| short(h["author"].as_str().unwrap_or("")));
            println!(
                "    {}{}",
                t!(
                    "lookup-hit",
                    id = short(h["id"].as_str().unwrap_or("")),
                    author = author,
                    tlp = h["tlp"].as_str().unwrap_or(""),
                    confidence = h["confidence"].as_u64().unwrap_or(0),
                    agencies = h["agencies"].as_u64().unwrap_or(0)
                ),
                if h["retracted"].is_string() { format!(" {}", t!("flag-retracted")) } else { String::new() }
            );
        }
    }
    let n = |k: &str| out[k].as_u64().unwrap_or(0);
    println!("{}", t!("lookup-summary", values = n("values"), hits = n("with_hits"), invalid = n("invalid")));
}

fn short(hex: &str) -> String {
    hex.chars().take(12).collect()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// Percent-encodes a query-string value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One line per member: who, connected or not, and what is missing either way.
pub fn peers(out: &Value) {
    let peers = out.as_array().map(Vec::as_slice).unwrap_or(&[]);
    if peers.is_empty() {
        println!("{}", t!("no-trust-list"));
        return;
    }
    println!(
        "{:<16} {:<36} {:<4} {:<10} {:>8} {:>9}  {}",
        "ID",
        t!("col-name"),
        t!("col-cc"),
        t!("col-state"),
        t!("col-we-lack"),
        t!("col-they-lack"),
        t!("col-version")
    );
    let mut warnings = Vec::new();
    for p in peers {
        let sum = |k: &str| p[k].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum::<u64>());
        let state = if p["me"] == Value::Bool(true) {
            t!("state-me")
        } else if p["connected"] == Value::Bool(true) {
            t!("state-connected")
        } else if p["active"] == Value::Bool(false) {
            t!("state-expired")
        } else {
            t!("state-offline")
        };
        let agent = p["agent"].as_str().unwrap_or("");
        // "kawan/0.1.0 (protocol 1; reads …)": the software and protocol part.
        let version = agent.split(';').next().unwrap_or("").trim_end_matches(')').replace(" (", ", ");
        println!(
            "{:<16} {:<36} {:<4} {:<10} {:>8} {:>9}  {}",
            p["id"].as_str().unwrap_or(""),
            clip(p["name"].as_str().unwrap_or(""), 36),
            p["country"].as_str().unwrap_or(""),
            state,
            sum("we_lack"),
            sum("they_lack"),
            if version.is_empty() { "-" } else { &version }
        );
        let cannot: Vec<&str> =
            p["cannot_read"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if !cannot.is_empty() {
            warnings.push(t!("peer-cannot-read", id = p["id"].as_str().unwrap_or(""), families = cannot.join(", ")));
        }
    }
    for w in warnings {
        eprintln!("{w}");
    }
}

/// Space per database and keyspace, in a form an operator reads at a glance.
pub fn store_stats(out: &Value) {
    println!("{}", t!("store-records", n = out["records"].as_u64().unwrap_or(0)));
    for db in out["databases"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let n = |k: &str| db[k].as_u64().unwrap_or(0);
        println!(
            "\n{}",
            t!(
                "store-database",
                database = db["database"].as_str().unwrap_or("?"),
                size = bytes(n("bytes_on_disk")),
                journal = bytes(n("journal_bytes")),
                files = n("journal_files")
            )
        );
        println!("  {:<12} {:>12} {:>12}", t!("col-keyspace"), t!("col-keys"), t!("col-on-disk"));
        for k in db["keyspaces"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            println!(
                "  {:<12} {:>12} {:>12}",
                k["name"].as_str().unwrap_or(""),
                k["keys"].as_u64().unwrap_or(0),
                bytes(k["bytes_on_disk"].as_u64().unwrap_or(0))
            );
        }
    }
}

/// A byte count for people: `844.2 MiB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", n as f64 / 1_073_741_824.0),
    }
}

/// Seconds for people: `3 d 4 h`, `12 min`, `40 s`.
pub fn duration(s: u64) -> String {
    match s {
        0..60 => t!("dur-s", s = s),
        60..3600 => t!("dur-min", min = s / 60),
        3600..86400 => t!("dur-h", h = s / 3600, min = s % 3600 / 60),
        _ => t!("dur-d", d = s / 86400, h = s % 86400 / 3600),
    }
}
