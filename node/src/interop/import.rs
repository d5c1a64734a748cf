//! Reading indicator files other tools write: CSV with a header row, STIX
//! 2.1 bundles and MISP events. Pure: text in, API bodies out, so the CLI
//! (`kawan import`) and the fuzz targets share one reader. A bad row is
//! reported with its line number and the rest still reads.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{misp, stix};

/// Defaults for fields a row leaves out.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub tlp: String,
    pub role: String,
    pub group: Option<String>,
}

/// One indicator to publish (a `POST /api/v1/indicators` body), and the
/// line (CSV) or position (STIX objects, MISP attributes, from 1) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub body: Value,
}

/// What a file held.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    /// Rows refused while reading: (line, reason).
    pub failed: Vec<(usize, String)>,
    /// MISP attribute types Kawan has no kind for, with counts.
    pub skipped: Vec<(String, usize)>,
}

/// The file formats `kawan import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Stix,
    Misp,
}

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown format {0:?} (csv, stix or misp)")]
    UnknownFormat(String),
    #[error("not a JSON {what}: {source}")]
    Json { what: &'static str, source: serde_json::Error },
    #[error("not a MISP event: no \"Event\" or \"Attribute\"")]
    NotMisp,
    #[error("not a STIX bundle: no \"type\": \"bundle\"")]
    NotBundle,
    #[error("cannot read the CSV header row: {0}")]
    CsvHeader(csv::Error),
    #[error("the CSV header row has no {missing:?} column (it has: {has})")]
    CsvColumn { missing: &'static str, has: String },
}

impl std::str::FromStr for Format {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Format, ImportError> {
        match s {
            "csv" => Ok(Format::Csv),
            "stix" => Ok(Format::Stix),
            "misp" => Ok(Format::Misp),
            other => Err(ImportError::UnknownFormat(other.to_string())),
        }
    }
}

impl Format {
    /// The format a file's content looks like.
    pub fn guess(text: &str) -> Format {
        let json: Option<Value> = serde_json::from_str(text).ok();
        match json {
            Some(j) if j.get("Event").is_some() || j.get("Attribute").is_some() => Format::Misp,
            _ if text.trim_start().starts_with('{') => Format::Stix,
            _ => Format::Csv,
        }
    }
}

/// Reads `text` as `format` (guessed from the content when `None`).
pub fn parse(text: &str, format: Option<Format>, d: &Defaults) -> Result<Parsed, ImportError> {
    let mut parsed = match format.unwrap_or_else(|| Format::guess(text)) {
        Format::Csv => csv_rows(text, d)?,
        Format::Stix => stix_rows(text, d)?,
        Format::Misp => misp_rows(text, d)?,
    };
    parsed.failed.sort();
    Ok(parsed)
}

/// A MISP event (`{"Event": {...}}`): attributes of types Kawan knows become
/// indicators (numbered from 1 in `Attribute[]` for error reports); other
/// types are counted as skipped. TLP comes from the attribute's or the
/// event's `tlp:` tag.
fn misp_rows(text: &str, d: &Defaults) -> Result<Parsed, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|source| ImportError::Json { what: "MISP event", source })?;
    // MISP's own exports wrap the event in {"Event": …}; PyMISP's to_json does not.
    let event = match doc.get("Event") {
        Some(e) => e,
        None if doc.get("Attribute").is_some() => &doc,
        None => return Err(ImportError::NotMisp),
    };
    let tlp_of = |tags: Option<&Value>| {
        tags.and_then(Value::as_array)
            .and_then(|ts| ts.iter().filter_map(|t| t["name"].as_str()).find_map(|n| n.strip_prefix("tlp:")))
            .map(String::from)
    };
    let event_tlp = tlp_of(event.get("Tag"));
    let mut rows = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (i, a) in event.get("Attribute").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let misp_type = a["type"].as_str().unwrap_or("");
        let comment = a["comment"].as_str().unwrap_or("");
        let Some(kind) = misp::kind_of(misp_type, comment) else {
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
    Ok(Parsed { rows, failed: Vec::new(), skipped: skipped.into_iter().collect() })
}

/// CSV with a header row. `kind` and `value` are required; `role`, `tlp`,
/// `subject`, `confidence`, `basis`, `platform`, `group`, `description`,
/// `first_seen`, `last_seen`, and `countries`/`tags` (separated by `;`) are optional.
fn csv_rows(text: &str, d: &Defaults) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(ImportError::CsvHeader)?.clone();
    for needed in ["kind", "value"] {
        if !headers.iter().any(|h| h == needed) {
            return Err(ImportError::CsvColumn { missing: needed, has: headers.iter().collect::<Vec<_>>().join(", ") });
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
    Ok(Parsed { rows, failed, skipped: Vec::new() })
}

/// Indicators of a STIX 2.1 bundle whose pattern is one `[path = 'value']`
/// comparison (objects in `objects[]` count as lines, from 1).
fn stix_rows(text: &str, d: &Defaults) -> Result<Parsed, ImportError> {
    let bundle: Value =
        serde_json::from_str(text).map_err(|source| ImportError::Json { what: "STIX bundle", source })?;
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(ImportError::NotBundle);
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
    Ok(Parsed { rows, failed, skipped: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_report_bad_lines_and_keep_the_rest() {
        let d = Defaults { tlp: "green".into(), role: "recruiter_contact".into(), group: None };
        let csv = "kind,value,confidence\nphone,+447700900001,80\nphone,+447700900002,lots\n,missing,\n";
        let Parsed { rows, failed, .. } = csv_rows(csv, &d).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), vec![3, 4]);
        assert!(csv_rows("value\nx\n", &d).is_err(), "no kind column");
    }
}
