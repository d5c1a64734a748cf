//! Printing API answers for people (tables) or programs (`--json`).

use serde_json::Value;

use crate::i18n::t;

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
    const COLS: [Col; 7] = [Col::L(16), Col::L(40), Col::L(13), Col::R(4), Col::R(5), Col::L(25), Col::L(0)];
    let head = ["col-kind", "col-value-title", "", "col-conf", "col-agn", "col-author", "col-flags-id"];
    let head: Vec<String> =
        head.iter().map(|id| if id.is_empty() { "TLP".into() } else { crate::i18n::text(id, &[]) }).collect();
    println!("{}", row(&COLS, &head));
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
        let cells = [
            kind.to_string(),
            clip(what, 40),
            h["tlp"].as_str().unwrap_or("").to_string(),
            h["confidence"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            h["agencies"].to_string(),
            clip(&author, 24),
            flags.join(" "),
        ];
        println!("{}", row(&COLS, &cells));
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

/// `s` padded with spaces to `width` terminal columns: Thai vowel and tone
/// marks take none, CJK characters two, so `{:<16}` would misalign them.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(unicode_width::UnicodeWidthStr::width(s))))
}

/// A column of a table for people: its width in terminal columns (a space
/// follows), its text aligned left or right.
#[derive(Clone, Copy)]
pub enum Col {
    L(usize),
    R(usize),
}

/// One line of a table: each cell in its column (a right-aligned one keeps
/// a space before the next); the last cell is not padded.
pub fn row(cols: &[Col], cells: &[String]) -> String {
    let mut line = String::new();
    for (i, (col, cell)) in cols.iter().zip(cells).enumerate() {
        let last = i + 1 == cells.len();
        match col {
            _ if last => line.push_str(cell),
            Col::L(w) => line.push_str(&format!("{} ", pad(cell, *w))),
            Col::R(w) => {
                let used = unicode_width::UnicodeWidthStr::width(cell.as_str());
                line.push_str(&format!("{}{cell} ", " ".repeat(w.saturating_sub(used))));
            }
        }
    }
    line.trim_end().to_string()
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
    const COLS: [Col; 7] = [Col::L(16), Col::L(36), Col::L(4), Col::L(10), Col::R(8), Col::R(10), Col::L(0)];
    let head = ["col-id", "col-name", "col-cc", "col-state", "col-we-lack", "col-they-lack", "col-version"];
    println!("{}", row(&COLS, &head.map(|id| crate::i18n::text(id, &[]))));
    let mut warnings = Vec::new();
    for p in peers {
        let sum = |k: &str| p[k].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum::<u64>());
        let state = peer_state(p);
        let agent = p["agent"].as_str().unwrap_or("");
        // "kawan/0.1.0 (protocol 1; reads …)": the software and protocol part.
        let version = agent.split(';').next().unwrap_or("").trim_end_matches(')').replace(" (", ", ");
        let cells = [
            p["id"].as_str().unwrap_or("").to_string(),
            clip(p["name"].as_str().unwrap_or(""), 36),
            p["country"].as_str().unwrap_or("").to_string(),
            state,
            sum("we_lack").to_string(),
            sum("they_lack").to_string(),
            if version.is_empty() { "-".to_string() } else { version },
        ];
        println!("{}", row(&COLS, &cells));
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

/// A member's state in `kawan peers` and `kawan trust health`.
fn peer_state(p: &Value) -> String {
    if p["me"] == Value::Bool(true) {
        t!("state-me")
    } else if p["connected"] == Value::Bool(true) {
        t!("state-connected")
    } else if p["active"] == Value::Bool(false) {
        t!("state-expired")
    } else {
        t!("state-offline")
    }
}

/// The wall clock, for ages and "expires in" (the CLI runs beside its node).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `kawan trust health`: a row per member, then what a coordinator acts on.
pub fn health(peers: &Value, status: &Value, now: u64) {
    const DAY: u64 = 86_400_000;
    let peers = peers.as_array().map(Vec::as_slice).unwrap_or(&[]);
    if peers.is_empty() {
        println!("{}", t!("no-trust-list"));
        return;
    }
    const COLS: [Col; 8] = [Col::L(16), Col::L(10), Col::L(11), Col::L(16), Col::R(7), Col::R(9), Col::R(8), Col::L(0)];
    let head = [
        "col-id",
        "col-state",
        "col-last-seen",
        "col-version",
        "col-behind",
        "col-offences",
        "col-key-age",
        "col-expires",
    ];
    println!("{}", row(&COLS, &head.map(|id| crate::i18n::text(id, &[]))));
    let mut warnings = Vec::new();
    for p in peers {
        let id = p["id"].as_str().unwrap_or("");
        let me = p["me"] == Value::Bool(true);
        let state = peer_state(p);
        let day = |ms: Option<u64>| ms.map_or("-".to_string(), |m| crate::i18n::time(m).chars().take(10).collect());
        let agent = p["agent"].as_str().unwrap_or("");
        let version = agent.split(';').next().unwrap_or("").trim_end_matches(')').replace(" (", ", ");
        let behind: u64 = p["they_lack"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        let offences: u64 = p["offences"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        let key_age =
            p["key_from_ms"].as_u64().map_or("-".to_string(), |k| format!("{}d", now.saturating_sub(k) / DAY));
        let expires = p["expires_ms"].as_u64();
        let cells = [
            id.to_string(),
            state,
            if me { "-".to_string() } else { day(p["last_seen_ms"].as_u64()) },
            if version.is_empty() { "-".to_string() } else { clip(&version, 16) },
            behind.to_string(),
            offences.to_string(),
            key_age,
            day(expires),
        ];
        println!("{}", row(&COLS, &cells));
        if let Some(e) = expires.filter(|e| *e > now) {
            let days = (e - now) / DAY;
            if days <= 90 {
                let which = if days <= 30 { "health-expires-30" } else { "health-expires-90" };
                warnings.push(crate::i18n::text(which, &[("id", id.into()), ("days", days.into())]));
            }
        }
        if offences > 0 {
            let names: Vec<String> = p["offences"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k} ×{}", v.as_u64().unwrap_or(0))).collect())
                .unwrap_or_default();
            warnings.push(t!("health-offences", id = id, offences = names.join(", ")));
        }
        let cannot: Vec<&str> =
            p["cannot_read"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if !cannot.is_empty() {
            warnings.push(t!("peer-cannot-read", id = id, families = cannot.join(", ")));
        }
    }
    for w in status["warnings"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        warnings.push(w.to_string());
    }
    for w in warnings {
        println!("! {w}");
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
        const COLS: [Col; 3] = [Col::L(12), Col::R(12), Col::R(12)];
        println!("  {}", row(&COLS, &[t!("col-keyspace"), t!("col-keys"), t!("col-on-disk")]));
        for k in db["keyspaces"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let cells = [
                k["name"].as_str().unwrap_or("").to_string(),
                k["keys"].as_u64().unwrap_or(0).to_string(),
                bytes(k["bytes_on_disk"].as_u64().unwrap_or(0)),
            ];
            println!("  {}", row(&COLS, &cells));
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

/// One trust-list proposal as a coordinator reviews it.
pub fn proposal(p: &Value) {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let signers: Vec<String> = p["signers"].as_array().into_iter().flatten().map(s).collect();
    println!(
        "{}",
        crate::i18n::text(
            "proposal-head",
            &[
                ("id", s(&p["id"]).into()),
                ("version", p["version"].as_u64().unwrap_or(0).to_string().into()),
                ("status", s(&p["status"]).into()),
                ("proposer", s(&p["proposer"]).into()),
                ("signed", signers.len().to_string().into()),
                ("needed", p["needed"].as_u64().unwrap_or(0).to_string().into()),
            ]
        )
    );
    if !s(&p["note"]).is_empty() {
        println!("  “{}”", s(&p["note"]));
    }
    for c in p["changes"].as_array().into_iter().flatten() {
        println!("  - {}", s(c));
    }
    if !signers.is_empty() {
        println!("  {}", crate::i18n::text("proposal-signed-by", &[("names", signers.join(", ").into())]));
    }
    for other in p["competing"].as_array().into_iter().flatten() {
        println!("  {}", crate::i18n::text("proposal-competing", &[("id", s(other).into())]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_terminal_width_and_never_run_together() {
        let cols = [Col::L(6), Col::R(4), Col::L(0)];
        assert_eq!(row(&cols, &["ID".into(), "7".into(), "x".into()]), "ID        7 x");
        // Thai tone and vowel marks take no column: 9 code points, 7 columns.
        assert_eq!(row(&cols, &["เครือข่าย".into(), "7".into(), "x".into()]), "เครือข่าย    7 x");
        assert_eq!(row(&cols, &["overflowing".into(), "12345".into(), "x".into()]), "overflowing 12345 x");
    }
}
