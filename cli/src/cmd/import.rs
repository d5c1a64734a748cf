//! `kawan import`: CSV files and STIX 2.1 bundles of indicators, published
//! one by one through the API. A bad row is reported with its line number and
//! the rest still imports.

use std::path::Path;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use kawan_node::interop::stix;

use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::{client::Client, output};

/// Defaults for fields a row leaves out.
pub struct Defaults {
    pub tlp: String,
    pub role: String,
    pub group: Option<String>,
}

/// One indicator to publish, and where it came from.
struct Row {
    line: usize,
    body: Value,
}

/// Rows ready to publish, and rows refused while reading (line, reason).
type Parsed = (Vec<Row>, Vec<(usize, String)>);
/// The same, plus source types that were skipped (type, count).
type ParsedWithSkips = (Vec<Row>, Vec<(usize, String)>, Vec<(String, usize)>);

pub struct Report {
    pub imported: usize,
    pub failed: Vec<(usize, String)>,
    /// MISP attribute types Kawan has no kind for, with counts.
    pub skipped: Vec<(String, usize)>,
}

fn with_none((rows, failed): Parsed) -> ParsedWithSkips {
    (rows, failed, Vec::new())
}

/// A MISP event (`{"Event": {...}}`): attributes of types Kawan knows become
/// indicators (numbered from 1 in `Attribute[]` for error reports); other
/// types are counted as skipped. TLP comes from the attribute's or the
/// event's `tlp:` tag.
fn misp_rows(text: &str, d: &Defaults) -> anyhow::Result<ParsedWithSkips> {
    let doc: Value = serde_json::from_str(text).context("not a JSON MISP event")?;
    // MISP's own exports wrap the event in {"Event": …}; PyMISP's to_json does not.
    let event = match doc.get("Event") {
        Some(e) => e,
        None if doc.get("Attribute").is_some() => &doc,
        None => bail!("no \"Event\" or \"Attribute\": not a MISP event"),
    };
    let tlp_of = |tags: Option<&Value>| {
        tags.and_then(Value::as_array)
            .and_then(|ts| ts.iter().filter_map(|t| t["name"].as_str()).find_map(|n| n.strip_prefix("tlp:")))
            .map(String::from)
    };
    let event_tlp = tlp_of(event.get("Tag"));
    let mut rows = Vec::new();
    let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, a) in event.get("Attribute").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let misp_type = a["type"].as_str().unwrap_or("");
        let comment = a["comment"].as_str().unwrap_or("");
        let Some(kind) = kawan_node::interop::misp::kind_of(misp_type, comment) else {
            *skipped.entry(misp_type.to_string()).or_default() += 1;
            continue;
        };
        let tlp = tlp_of(a.get("Tag")).or_else(|| event_tlp.clone()).unwrap_or_else(|| d.tlp.clone());
        let mut body = json!({"kind": kind, "value": a["value"], "role": d.role, "tlp": tlp});
        let description = comment.split_whitespace().filter(|w| !w.starts_with("kawan:")).collect::<Vec<_>>().join(" ");
        if !description.is_empty() {
            body["description"] = description.into();
        }
        if let Some(g) = &d.group {
            body["group"] = g.clone().into();
        }
        rows.push(Row { line: i + 1, body });
    }
    Ok((rows, Vec::new(), skipped.into_iter().collect()))
}

pub fn import(client: &Client, path: &Path, format: Option<&str>, defaults: &Defaults) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    let format = match format {
        Some(f @ ("stix" | "csv" | "misp")) => f,
        Some(other) => bail!("unknown format {other:?} (csv, stix or misp)"),
        None if json.as_ref().is_some_and(|j| j.get("Event").is_some() || j.get("Attribute").is_some()) => "misp",
        None if text.trim_start().starts_with('{') => "stix",
        None => "csv",
    };
    let (rows, mut failed, skipped) = match format {
        "stix" => with_none(stix_rows(&text, defaults)?),
        "misp" => misp_rows(&text, defaults)?,
        _ => with_none(csv_rows(&text, defaults)?),
    };
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} indicators ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut imported = 0;
    for row in rows {
        match client.post("/api/v1/indicators", &row.body) {
            Ok(_) => imported += 1,
            Err(e) => failed.push((row.line, e.to_string())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    failed.sort();
    Ok(Report { imported, failed, skipped })
}

/// CSV with a header row. `kind` and `value` are required; `role`, `tlp`,
/// `subject`, `confidence`, `basis`, `platform`, `group`, `description`,
/// `first_seen`, `last_seen`, and `countries`/`tags` (separated by `;`) are optional.
fn csv_rows(text: &str, d: &Defaults) -> anyhow::Result<Parsed> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().context("cannot read the CSV header row")?.clone();
    for needed in ["kind", "value"] {
        if !headers.iter().any(|h| h == needed) {
            bail!(
                "the CSV header row has no {needed:?} column (it has: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                failed.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get =
            |name: &str| headers.iter().position(|h| h == name).and_then(|i| record.get(i)).filter(|v| !v.is_empty());
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|v| v.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default()
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            get(name).map(|v| v.parse::<u64>().map_err(|_| format!("{name} {v:?} is not a number"))).transpose()
        };
        let (Some(kind), Some(value)) = (get("kind"), get("value")) else {
            failed.push((line, "kind and value are required".into()));
            continue;
        };
        let (confidence, first_seen, last_seen) =
            match (number("confidence"), number("first_seen"), number("last_seen")) {
                (Ok(c), Ok(f), Ok(l)) => (c, f, l),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    failed.push((line, e));
                    continue;
                }
            };
        let mut body = json!({
            "kind": kind,
            "value": value,
            "role": get("role").unwrap_or(&d.role),
            "tlp": get("tlp").unwrap_or(&d.tlp),
            "countries": list("countries"),
            "tags": list("tags"),
        });
        let optional = [
            ("subject", get("subject").map(Value::from)),
            ("basis", get("basis").map(Value::from)),
            ("platform", get("platform").map(Value::from)),
            ("description", get("description").map(Value::from)),
            ("group", get("group").map(String::from).or_else(|| d.group.clone()).map(Value::from)),
            ("confidence", confidence.map(Value::from)),
            ("first_seen", first_seen.map(Value::from)),
            ("last_seen", last_seen.map(Value::from)),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                body[k] = v;
            }
        }
        rows.push(Row { line, body });
    }
    Ok((rows, failed))
}

/// Indicators of a STIX 2.1 bundle whose pattern is one `[path = 'value']`
/// comparison (objects in `objects[]` count as lines, from 1).
fn stix_rows(text: &str, d: &Defaults) -> anyhow::Result<Parsed> {
    let bundle: Value = serde_json::from_str(text).context("not a JSON STIX bundle")?;
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        bail!("not a STIX bundle (no \"type\": \"bundle\")");
    }
    let objects = bundle.get("objects").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let line = i + 1;
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            continue; // identities, markings, relationships: nothing to publish
        }
        let i = match stix::read_indicator(o) {
            Ok(i) => i,
            Err(reason) => {
                failed.push((line, reason));
                continue;
            }
        };
        let tlp = i.tlp.map_or(d.tlp.clone(), |t| t.as_str().to_string());
        let role = i.role.map_or(json!(d.role), |r| json!(r));
        let mut body = json!({ "kind": i.kind, "value": i.value, "role": role, "tlp": tlp, "tags": i.tags });
        for (field, v) in
            [("subject", json!(i.subject)), ("basis", json!(i.basis)), ("confidence", json!(i.confidence))]
        {
            if !v.is_null() {
                body[field] = v;
            }
        }
        if let Some(desc) = i.description {
            body["description"] = desc.into();
        }
        if let Some(g) = &d.group {
            body["group"] = g.clone().into();
        }
        rows.push(Row { line, body });
    }
    Ok((rows, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_report_bad_lines_and_keep_the_rest() {
        let d = Defaults { tlp: "green".into(), role: "recruiter_contact".into(), group: None };
        let csv = "kind,value,confidence\nphone,+447700900001,80\nphone,+447700900002,lots\n,missing,\n";
        let (rows, failed) = csv_rows(csv, &d).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), vec![3, 4]);
        assert!(csv_rows("value\nx\n", &d).is_err(), "no kind column");
    }
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
            eprintln!("skipped {n} attribute(s) of MISP type {misp_type:?}: no Kawan kind");
        }
        println!("imported {} indicators, {} failed", report.imported, report.failed.len());
    }
    Ok(report.failed.is_empty())
}
