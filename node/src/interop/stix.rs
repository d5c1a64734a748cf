//! STIX 2.1 mapping of Kawan knowledge (docs/interop.md).
//!
//! Each piece of knowledge is one STIX object whose id is derived from the
//! Kawan record id of its original, so every node exports the same id; a
//! revision is a new `modified` version of it, a retraction sets `revoked`.
//! Indicator kinds STIX has observables for get standard patterns; the others
//! use `x-kawan-<kind>` object paths and the Kawan extension carries the kind
//! and value.

use kawan_protocol::{AgencyKey, Content, Kind, RecordId, Tlp, Verdict};
use serde_json::{Value, json};

use crate::store::Hit;

/// The Kawan STIX extension (a property extension on indicators and sightings).
pub const EXTENSION_ID: &str = "extension-definition--3e1f2c7a-5b4d-4e8a-9c61-0d2f7b8a9e41";
/// The identity that defines the extension (the Kawan project).
pub const KAWAN_IDENTITY: &str = "identity--8f4b6a2e-1c3d-4b5e-8a7f-6d9c0e1b2a34";
const EPOCH: &str = "2026-01-01T00:00:00.000Z";

/// Official TLP 2.0 marking-definition ids (OASIS).
pub fn tlp_marking(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9d4f1",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP 2.0 marking-definition object.
pub fn tlp_marking_object(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": tlp_marking(tlp),
        "created": "2022-10-01T00:00:00.000Z", "name": tlp.to_string(),
        "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension", "tlp_2_0": tlp.as_str()
        }}
    })
}

/// The handling codes (SIENA H1–H3) as STIX statement markings: the code
/// and what it asks of a receiver. H3's restrictions are the provider's own
/// words, carried on the object as `x_kawan_handling_other`.
pub const HANDLING_STATEMENTS: [(&str, &str); 3] = [
    ("H1", "H1: not to be used as evidence in judicial proceedings without the provider's permission"),
    ("H2", "H2: not to be disseminated outside the network without the provider's permission"),
    ("H3", "H3: other restrictions apply, in the provider's words: see x_kawan_handling_other"),
];

/// The deterministic id of the statement marking for a handling code.
pub fn handling_marking(code: &str) -> String {
    derived_id("marking-definition", format!("kawan-handling:{code}").as_bytes())
}

/// The statement marking-definition object for a handling code (H1–H3).
pub fn handling_marking_object(code: &str, statement: &str) -> Value {
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": handling_marking(code),
        "created": EPOCH, "created_by_ref": KAWAN_IDENTITY, "name": format!("Kawan handling {code}"),
        "definition_type": "statement", "definition": {"statement": statement},
    })
}

/// The marking ids of a piece of knowledge: its TLP, then its handling
/// codes (none for H0).
pub fn marking_refs(content: &Content) -> Vec<Value> {
    let mut refs = vec![Value::from(tlp_marking(content.tlp()))];
    if let Some(h) = content.handling() {
        refs.extend(h.codes().into_iter().filter(|c| *c != "H0").map(|c| Value::from(handling_marking(c))));
    }
    refs
}

/// A UUID-shaped id derived from `bytes` (version 4 layout, so validators
/// accept it), identical on every node.
pub fn derived_id(stix_type: &str, bytes: &[u8]) -> String {
    let h = blake3::hash(bytes);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{stix_type}--{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

pub fn object_id(stix_type: &str, root: &RecordId) -> String {
    derived_id(stix_type, &root.0)
}

pub fn identity_id(agency: &AgencyKey) -> String {
    derived_id("identity", &[b"kawan-agency:".as_slice(), &agency.0].concat())
}

/// RFC 3339 with milliseconds, as STIX wants it.
pub fn timestamp(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_else(|_| EPOCH.to_string())
}

/// The STIX object path for an indicator kind.
pub fn pattern_path(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Url => "url:value".into(),
        Kind::Domain => "domain-name:value".into(),
        Kind::Email => "email-addr:value".into(),
        Kind::Ip if value.contains(':') => "ipv6-addr:value".into(),
        Kind::Ip => "ipv4-addr:value".into(),
        other => format!("x-kawan-{}:value", other.as_str().replace('_', "-")),
    }
}

/// `[path = 'value']` with STIX string escaping.
pub fn pattern(kind: Kind, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("[{} = '{escaped}']", pattern_path(kind, value))
}

/// The kind and value of a single-comparison pattern `[path = 'value']`, the
/// inverse of [`pattern`] (also for standard paths other tools write).
pub fn parse_pattern(pattern: &str) -> Option<(Kind, String)> {
    let inner = pattern.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (path, value) = inner.split_once('=')?;
    let kind = match path.trim() {
        "domain-name:value" => Kind::Domain,
        "url:value" => Kind::Url,
        "email-addr:value" => Kind::Email,
        "ipv4-addr:value" | "ipv6-addr:value" => Kind::Ip,
        other => other.strip_prefix("x-kawan-")?.strip_suffix(":value")?.replace('-', "_").parse().ok()?,
    };
    let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    if value.replace("\\'", "").contains('\'') {
        return None; // more than one comparison
    }
    Some((kind, value.replace("\\'", "'").replace("\\\\", "\\")))
}

/// The TLP a marking-definition id stands for (TLP 2.0, or TLP 1.0 as older
/// tools and the `stix2` library still write).
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    Tlp::ALL.into_iter().find(|t| tlp_marking(*t) == id).or(match id {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
        _ => None,
    })
}

/// What a STIX 2.1 indicator says, in Kawan's terms: the one reading of
/// incoming STIX, for TAXII `POST` and `kawan import` alike. The value is as
/// the pattern gives it (normalised later); absent fields stay `None` so each
/// caller applies its own defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingIndicator {
    pub kind: Kind,
    pub value: String,
    pub tlp: Option<Tlp>,
    pub role: Option<kawan_protocol::IndicatorRole>,
    pub subject: Option<kawan_protocol::Subject>,
    pub basis: Option<kawan_protocol::Basis>,
    pub confidence: Option<u8>,
    pub tags: Vec<String>,
    pub description: Option<String>,
}

/// Reads one STIX object as an indicator, or says why it cannot be one.
/// Role, subject and basis come from Kawan's extension when a Kawan node
/// wrote the object; the description falls back to the name.
pub fn read_indicator(o: &Value) -> Result<IncomingIndicator, String> {
    if o["type"] != "indicator" {
        return Err(format!("only indicators are imported (got {})", o["type"]));
    }
    let pattern = o["pattern"].as_str().ok_or("indicator without a pattern")?;
    let (kind, value) = parse_pattern(pattern)
        .ok_or_else(|| format!("unsupported pattern {pattern:?} (one [object:value = '…'] comparison)"))?;
    let ext = &o["extensions"][EXTENSION_ID];
    let text = |v: &Value| v.as_str().map(String::from);
    Ok(IncomingIndicator {
        kind,
        value,
        tlp: o["object_marking_refs"]
            .as_array()
            .and_then(|refs| refs.iter().filter_map(Value::as_str).find_map(tlp_of_marking)),
        role: serde_json::from_value(ext["role"].clone()).ok(),
        subject: serde_json::from_value(ext["subject"].clone()).ok(),
        basis: serde_json::from_value(ext["basis"].clone()).ok(),
        confidence: o["confidence"].as_u64().map(|c| c.min(100) as u8),
        tags: o["labels"]
            .as_array()
            .map(|l| l.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default(),
        description: text(&o["description"]).or_else(|| text(&o["name"])),
    })
}

/// The STIX object for a piece of knowledge as it stands now.
pub fn object(h: &Hit) -> Value {
    let created = timestamp(h.created_ms);
    // `modified` must not precede `created`.
    let modified = timestamp(h.updated_ms.max(h.created_ms));
    let mut o = match &h.content {
        Content::Indicator(i) => {
            let mut o = json!({
                "type": "indicator",
                "id": object_id("indicator", &h.id),
                "name": format!("{} {}", i.kind, i.value),
                "indicator_types": [indicator_type(i.role)],
                "pattern": pattern(i.kind, &i.value),
                "pattern_type": "stix",
                "valid_from": timestamp(i.first_seen.unwrap_or(h.created_ms)),
                "confidence": i.confidence,
                "extensions": {EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "kind": i.kind.as_str(), "value": i.value,
                    "role": i.role, "subject": i.subject, "basis": i.basis,
                    "agencies": h.agencies,
                }}
            });
            if let Some(v) = i.valid_until.filter(|v| *v > i.first_seen.unwrap_or(h.created_ms)) {
                o["valid_until"] = timestamp(v).into();
            }
            if let Some(d) = &i.description {
                o["description"] = d.clone().into();
            }
            if !i.tags.is_empty() {
                o["labels"] = i.tags.clone().into();
            }
            if let Some(p) = &i.platform {
                o["extensions"][EXTENSION_ID]["platform"] = p.clone().into();
            }
            if !i.countries.is_empty() {
                o["extensions"][EXTENSION_ID]["countries"] = json!(i.countries);
            }
            o
        }
        Content::Typology(t) => {
            let mut o = json!({
                "type": "attack-pattern",
                "id": object_id("attack-pattern", &h.id),
                "name": t.title,
                "description": t.summary,
                "kill_chain_phases": [{"kill_chain_name": "kawan-scam-lifecycle", "phase_name": stage(t.stage)}],
            });
            if !t.aliases.is_empty() {
                o["aliases"] = t.aliases.clone().into();
            }
            o
        }
        Content::Referral(r) => {
            // A STIX note about the indicators it names (or about the
            // referring agency, when no subject is a shared indicator).
            let mut refs: Vec<Value> =
                r.subjects.iter().filter_map(|s| s.record.map(|id| object_id("indicator", &id).into())).collect();
            if refs.is_empty() {
                refs.push(identity_id(&h.author).into());
            }
            let subjects: Vec<String> = r.subjects.iter().map(|s| format!("{} {}", s.kind, s.value)).collect();
            let mut o = json!({
                "type": "note",
                "id": object_id("note", &h.id),
                "abstract": format!("{} request to {}: {}", request_name(r.request), r.platform, r.status.as_str()),
                "content": format!("Referred to {} on {}: {}", r.platform, timestamp(r.submitted_ms), subjects.join("; ")),
                "object_refs": refs,
                "extensions": {EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "referral": {
                        "platform": r.platform, "request": r.request, "status": r.status,
                        "submitted": timestamp(r.submitted_ms),
                    },
                }},
            });
            let ext = &mut o["extensions"][EXTENSION_ID]["referral"];
            if let Some(t) = r.status_ms {
                ext["status_time"] = timestamp(t).into();
            }
            if let Some(reference) = &r.reference {
                ext["reference"] = reference.clone().into();
            }
            o
        }
        Content::Request(r) => {
            // A STIX note: the question, about the asking agency (the
            // records it names are Kawan ids in the extension).
            let values: Vec<String> = r.values.iter().map(|v| format!("{} {}", v.kind, v.value)).collect();
            let mut content = r.question.clone();
            if !values.is_empty() {
                content.push_str(&format!("\nValues: {}", values.join("; ")));
            }
            let mut o = json!({
                "type": "note",
                "id": object_id("note", &h.id),
                "abstract": format!("Request for information ({}, {})", r.priority.as_str(), r.status.as_str()),
                "content": content,
                "object_refs": [identity_id(&h.author)],
                "extensions": {EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "request": {"priority": r.priority, "status": r.status, "values": r.values,
                        "records": r.records.iter().map(ToString::to_string).collect::<Vec<_>>()},
                }},
            });
            if let Some(d) = r.deadline_ms {
                o["extensions"][EXTENSION_ID]["request"]["deadline"] = timestamp(d).into();
            }
            if let Some(p) = &r.platform {
                o["extensions"][EXTENSION_ID]["request"]["platform"] = p.clone().into();
            }
            o
        }
        Content::Answer(a) => json!({
            // A STIX note on the request's note.
            "type": "note",
            "id": object_id("note", &h.id),
            "abstract": "Answer to a request for information",
            "content": a.text,
            "object_refs": [object_id("note", &a.request)],
            "extensions": {EXTENSION_ID: {
                "extension_type": "property-extension",
                "answer": {"request": a.request.to_string(), "values": a.values,
                    "cites": a.cites.iter().map(ToString::to_string).collect::<Vec<_>>()},
            }},
        }),
        Content::Technique(t) => {
            let mut description = t.objective.clone();
            for (i, step) in t.steps.iter().enumerate() {
                description.push_str(&format!("\n{}. {step}", i + 1));
            }
            json!({
                "type": "course-of-action",
                "id": object_id("course-of-action", &h.id),
                "name": t.title,
                "description": description,
            })
        }
    };
    o["spec_version"] = "2.1".into();
    o["created"] = created.into();
    o["modified"] = modified.into();
    o["created_by_ref"] = identity_id(&h.author).into();
    o["object_marking_refs"] = marking_refs(&h.content).into();
    if let Some(other) = h.content.handling().and_then(|h| h.other.clone()) {
        o["x_kawan_handling_other"] = other.into();
    }
    if let Some(e) = h.content.evaluation() {
        o["x_kawan_evaluation"] = e.to_string().into();
    }
    if h.retracted.is_some() {
        o["revoked"] = true.into();
    }
    // Provenance warnings travel with the object: a consumer must see that
    // its author is no longer a member, or signed two records for one slot.
    let mut labels: Vec<Value> = o["labels"].as_array().cloned().unwrap_or_default();
    labels.extend(provenance_flags(h).into_iter().map(Value::from));
    if !labels.is_empty() {
        o["labels"] = labels.into();
    }
    o
}

/// `kawan:author-revoked` and `kawan:author-equivocating`, when they apply:
/// the same words in STIX labels, MISP tags and the CSV `flags` column.
pub fn provenance_flags(h: &Hit) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if h.author_revoked {
        flags.push("kawan:author-revoked");
    }
    if h.author_equivocating {
        flags.push("kawan:author-equivocating");
    }
    flags
}

/// A STIX `sighting` of another agency's knowledge.
pub fn sighting(id: &RecordId, target: &Hit, by: &AgencyKey, verdict: Verdict, created_ms: u64) -> Value {
    let target_type = match &target.content {
        Content::Indicator(_) => "indicator",
        Content::Typology(_) => "attack-pattern",
        Content::Technique(_) => "course-of-action",
        Content::Referral(_) | Content::Request(_) | Content::Answer(_) => "note",
    };
    json!({
        "type": "sighting", "spec_version": "2.1",
        "id": object_id("sighting", id),
        "created": timestamp(created_ms), "modified": timestamp(created_ms),
        "created_by_ref": identity_id(by),
        "sighting_of_ref": object_id(target_type, &target.id),
        "where_sighted_refs": [identity_id(by)],
        "count": 1,
        "object_marking_refs": marking_refs(&target.content),
        "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "verdict": verdict}},
    })
}

/// The `identity` of an agency.
pub fn identity(agency: &AgencyKey, name: &str, country: Option<&str>) -> Value {
    let mut o = json!({
        "type": "identity", "spec_version": "2.1", "id": identity_id(agency),
        "created": EPOCH, "modified": EPOCH,
        "name": name, "identity_class": "organization",
        "description": format!("Kawan agency key {agency}"),
    });
    if let Some(c) = country {
        o["x_kawan_country"] = c.into();
        o["description"] = format!("Kawan agency key {agency}, country {c}").into();
    }
    o
}

/// The objects every collection starts with: the Kawan identity, the
/// extension definition, the TLP markings it uses and the handling
/// statement markings (H1–H3).
pub fn preamble() -> Vec<Value> {
    let mut out = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": KAWAN_IDENTITY,
            "created": EPOCH, "modified": EPOCH, "name": "Kawan", "identity_class": "system",
            "description": "Federated sharing node for counter-scam-centre OSINT",
        }),
        json!({
            "type": "extension-definition", "spec_version": "2.1", "id": EXTENSION_ID,
            "created": EPOCH, "modified": EPOCH, "created_by_ref": KAWAN_IDENTITY,
            "name": "Kawan indicator", "version": "1.0.0",
            "description": "Kind, normalised value, role, subject and basis of a Kawan indicator; the verdict of a Kawan sighting; a Kawan referral to a platform (platform, request, status, reference), a request for information (priority, status, values, records, deadline) and an answer (request, values, cites) on a note.",
            "schema": "https://example.invalid/kawan/docs/interop.md",
            "extension_types": ["property-extension"],
        }),
    ];
    out.extend([Tlp::Clear, Tlp::Green, Tlp::Amber].map(tlp_marking_object));
    out.extend(HANDLING_STATEMENTS.iter().map(|(code, statement)| handling_marking_object(code, statement)));
    out
}

/// How a referral's request reads in a sentence.
pub fn request_name(r: kawan_protocol::RequestType) -> &'static str {
    use kawan_protocol::RequestType::*;
    match r {
        Takedown => "Content takedown",
        Suspension => "Account suspension",
        Preservation => "Preservation",
        Disclosure => "Disclosure (evidence)",
    }
}

fn indicator_type(role: kawan_protocol::IndicatorRole) -> &'static str {
    use kawan_protocol::IndicatorRole::*;
    match role {
        RecruiterContact | JobAd | ScamPlatform => "malicious-activity",
        Payment | Laundering => "attribution",
        Infrastructure => "malicious-activity",
    }
}

fn stage(s: kawan_protocol::Stage) -> &'static str {
    use kawan_protocol::Stage::*;
    match s {
        Recruitment => "recruitment",
        Transit => "transit",
        Exploitation => "exploitation",
        Scam => "scam",
        Monetisation => "monetisation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_uuid_v4_shaped() {
        let a = object_id("indicator", &RecordId([7; 32]));
        assert_eq!(a, object_id("indicator", &RecordId([7; 32])));
        assert_ne!(a, object_id("indicator", &RecordId([8; 32])));
        let uuid = a.strip_prefix("indicator--").unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn patterns_use_stix_observables_where_they_exist_and_escape_values() {
        assert_eq!(pattern(Kind::Domain, "jobs.example"), "[domain-name:value = 'jobs.example']");
        assert_eq!(pattern(Kind::Ip, "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']");
        assert_eq!(pattern(Kind::Phone, "+447700900123"), "[x-kawan-phone:value = '+447700900123']");
        assert_eq!(pattern(Kind::CompanyName, "o'brien \\ co"), "[x-kawan-company-name:value = 'o\\'brien \\\\ co']");
    }

    #[test]
    fn patterns_parse_back() {
        for kind in Kind::ALL {
            let value = "it's a \\ test";
            assert_eq!(parse_pattern(&pattern(kind, value)), Some((kind, value.to_string())), "{kind}");
        }
        assert_eq!(parse_pattern("[domain-name:value = 'a' OR domain-name:value = 'b']"), None);
        assert_eq!(parse_pattern("[file:hashes.MD5 = 'abc']"), None);
        assert_eq!(tlp_of_marking(tlp_marking(Tlp::AmberStrict)), Some(Tlp::AmberStrict));
        assert_eq!(tlp_of_marking("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"), Some(Tlp::Green));
    }

    #[test]
    fn incoming_indicators_are_read_once_for_every_importer() {
        let o = json!({
            "type": "indicator", "pattern": "[x-kawan-phone:value = '+44 7700 900123']",
            "object_marking_refs": [tlp_marking(Tlp::Amber)], "confidence": 150, "labels": ["fake-job"],
            "name": "Recruiter on WhatsApp",
            "extensions": {EXTENSION_ID: {"role": "job_ad", "subject": "victim", "basis": "assessment"}},
        });
        let i = read_indicator(&o).unwrap();
        assert_eq!((i.kind, i.value.as_str(), i.tlp), (Kind::Phone, "+44 7700 900123", Some(Tlp::Amber)));
        assert_eq!(i.role, Some(kawan_protocol::IndicatorRole::JobAd));
        assert_eq!(i.subject, Some(kawan_protocol::Subject::Victim));
        assert_eq!(i.confidence, Some(100), "clamped to 100");
        assert_eq!(i.description.as_deref(), Some("Recruiter on WhatsApp"), "the name when there is no description");
        let bare =
            read_indicator(&json!({"type": "indicator", "pattern": "[domain-name:value = 'jobs.example']"})).unwrap();
        assert_eq!((bare.tlp, bare.role, bare.confidence), (None, None, None), "absent stays absent");
        assert!(read_indicator(&json!({"type": "malware"})).unwrap_err().contains("only indicators"));
        assert!(read_indicator(&json!({"type": "indicator", "pattern": "[file:hashes.MD5 = 'x']"})).is_err());
    }

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_764_547_200_123), "2025-12-01T00:00:00.123Z");
    }
}
