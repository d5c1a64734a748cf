//! MISP feed export (docs/interop.md): one MISP event per author agency and
//! day of indicators, with one attribute per indicator, TLP tags on each, and
//! the feed's `manifest.json` and `hashes.csv`. MISP pulls it over HTTP from
//! `/api/v1/export/misp/` (or from files written by `kawan export misp-feed`).

use std::collections::BTreeMap;

use kawan_protocol::{AgencyKey, Content, Kind};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use crate::store::Hit;

/// The MISP attribute type and category for an indicator kind. Kinds MISP
/// has no type for are `text`; the comment names the Kawan kind either way,
/// so an import restores it.
pub fn attribute_type(kind: Kind, value: &str) -> (&'static str, &'static str) {
    match kind {
        Kind::Url => ("url", "Network activity"),
        Kind::Domain => ("domain", "Network activity"),
        Kind::Ip => ("ip-dst", "Network activity"),
        Kind::Email => ("email-src", "Payload delivery"),
        Kind::Phone => ("phone-number", "Person"),
        Kind::BtcAddress => ("btc", "Financial fraud"),
        Kind::BankAccount if !value.contains(':') => ("iban", "Financial fraud"),
        Kind::BankAccount => ("bank-account-nr", "Financial fraud"),
        Kind::AppId => ("mobile-application-id", "Payload delivery"),
        _ => ("text", "Other"),
    }
}

/// MISP tags for a record's handling codes (`kawan:handling="H1"`, none
/// for H0) and its evaluation, in MISP's own admiralty-scale taxonomy
/// (source reliability a–f, information credibility 1–6): reliability
/// A, B, C → a, b, c and X (cannot be judged) → f ("reliability cannot be
/// judged"); assessment 1, 2, 3 → 1 (confirmed), 2 (probably true),
/// 3 (possibly true), and 4 (cannot be judged) → 6 ("truth cannot be
/// judged"), not MISP's 4, which means "doubtful".
pub fn processing_tags(content: &Content) -> Vec<String> {
    use kawan_protocol::{Assessment, Reliability};
    let mut tags = Vec::new();
    if let Some(h) = content.handling() {
        tags.extend(h.codes().into_iter().filter(|c| *c != "H0").map(|c| format!("kawan:handling=\"{c}\"")));
    }
    if let Some(e) = content.evaluation() {
        let source = match e.source {
            Reliability::A => "a",
            Reliability::B => "b",
            Reliability::C => "c",
            Reliability::X => "f",
        };
        let information = match e.information {
            Assessment::One => "1",
            Assessment::Two => "2",
            Assessment::Three => "3",
            Assessment::Four => "6",
        };
        tags.push(format!("admiralty-scale:source-reliability=\"{source}\""));
        tags.push(format!("admiralty-scale:information-credibility=\"{information}\""));
    }
    tags
}

/// The Kawan kind of a MISP attribute, for import: from its `kawan:<kind>`
/// comment if present, else from its type.
pub fn kind_of(misp_type: &str, comment: &str) -> Option<Kind> {
    if let Some(k) = comment.split_whitespace().find_map(|w| w.strip_prefix("kawan:")) {
        return k.parse().ok();
    }
    Some(match misp_type {
        "url" | "link" => Kind::Url,
        "domain" | "hostname" => Kind::Domain,
        "ip-dst" | "ip-src" => Kind::Ip,
        "email" | "email-src" | "email-dst" => Kind::Email,
        "phone-number" | "whatsapp" => Kind::Phone,
        "btc" => Kind::BtcAddress,
        "iban" | "bank-account-nr" => Kind::BankAccount,
        "mobile-application-id" => Kind::AppId,
        _ => return None,
    })
}

fn uuid(bytes: &[u8]) -> String {
    super::stix::derived_id("x", bytes).trim_start_matches("x--").to_string()
}

fn day(ms: u64) -> String {
    super::stix::timestamp(ms)[..10].to_string()
}

/// A MISP feed: events by uuid, and the feed's manifest and hashes.
pub struct Feed {
    pub events: BTreeMap<String, Value>,
}

impl Feed {
    /// Builds the feed from indicators the policy already let out (retracted
    /// ones are left out); `org` names an agency.
    pub fn build<'a>(hits: impl IntoIterator<Item = &'a Hit>, org: impl Fn(&AgencyKey) -> String) -> Feed {
        let mut events: BTreeMap<String, Value> = BTreeMap::new();
        for h in hits {
            let Content::Indicator(i) = &h.content else { continue };
            if h.retracted.is_some() {
                continue;
            }
            let date = day(h.created_ms);
            let event_uuid = uuid(&[b"kawan-misp-event:".as_slice(), &h.author.0, date.as_bytes()].concat());
            let event = events.entry(event_uuid.clone()).or_insert_with(|| {
                json!({"Event": {
                    "uuid": event_uuid, "info": format!("Kawan indicators from {} on {date}", org(&h.author)),
                    "date": date, "analysis": "2", "threat_level_id": "3", "published": true,
                    "timestamp": (h.created_ms / 1000).to_string(), "publish_timestamp": (h.created_ms / 1000).to_string(),
                    "Orgc": {"name": org(&h.author), "uuid": uuid(&[b"kawan-org:".as_slice(), &h.author.0].concat())},
                    "Tag": [{"name": "kawan"}],
                    "Attribute": [],
                }})
            });
            let (misp_type, category) = attribute_type(i.kind, &i.value);
            let mut comment = format!("kawan:{}", i.kind);
            if let Some(d) = &i.description {
                comment.push(' ');
                comment.push_str(d);
            }
            let mut tags = vec![json!({"name": format!("tlp:{}", h.content.tlp().as_str())})];
            tags.extend(i.tags.iter().map(|t| json!({"name": t})));
            tags.extend(super::stix::provenance_flags(h).into_iter().map(|f| json!({"name": f})));
            tags.extend(processing_tags(&h.content).into_iter().map(|t| json!({"name": t})));
            let ts = (h.updated_ms / 1000).to_string();
            if let Some(attrs) = event["Event"]["Attribute"].as_array_mut() {
                attrs.push(json!({
                    "uuid": uuid(&[b"kawan-misp-attribute:".as_slice(), &h.id.0].concat()),
                    "type": misp_type, "category": category, "value": i.value, "to_ids": true,
                    "comment": comment, "timestamp": ts, "Tag": tags,
                }));
            }
            if event["Event"]["timestamp"].as_str().is_some_and(|t| t < ts.as_str()) {
                event["Event"]["timestamp"] = ts.into();
            }
        }
        Feed { events }
    }

    /// `manifest.json`: event uuid → summary.
    pub fn manifest(&self) -> Value {
        let m: serde_json::Map<String, Value> = self
            .events
            .iter()
            .map(|(uuid, e)| {
                let ev = &e["Event"];
                (
                    uuid.clone(),
                    json!({
                        "info": ev["info"], "date": ev["date"], "analysis": ev["analysis"],
                        "threat_level_id": ev["threat_level_id"], "timestamp": ev["timestamp"],
                        "Orgc": ev["Orgc"], "Tag": ev["Tag"],
                    }),
                )
            })
            .collect();
        Value::Object(m)
    }

    /// `hashes.csv`: MD5 of each attribute value, and its event.
    pub fn hashes(&self) -> String {
        let mut out = String::new();
        for (uuid, e) in &self.events {
            for a in e["Event"]["Attribute"].as_array().into_iter().flatten() {
                let v = a["value"].as_str().unwrap_or("");
                out.push_str(&format!("{},{uuid}\n", hex::encode(Md5::digest(v.as_bytes()))));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_misp_types_and_comments() {
        for kind in Kind::ALL {
            let (t, _) = attribute_type(kind, "GB82WEST12345698765432");
            assert_eq!(kind_of(t, &format!("kawan:{kind} fake job")), Some(kind));
        }
        assert_eq!(kind_of("domain", ""), Some(Kind::Domain));
        assert_eq!(kind_of("malware-sample", ""), None);
    }
}
