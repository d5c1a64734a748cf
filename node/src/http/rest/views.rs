//! JSON shapes of the API: what handlers return, separate from the wire types.

use kawan_protocol::{Body, Content, Kind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::{CheckedValue, Found, StoredRecord};

/// One piece of shared knowledge as it stands now, with provenance.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitView {
    /// Id of the original record (every version points at it).
    pub id: String,
    /// Id of the version shown (the latest revision).
    pub version: String,
    /// `indicator`, `typology` or `technique`.
    pub r#type: &'static str,
    pub kind: Option<String>,
    pub value: Option<String>,
    pub title: Option<String>,
    pub tlp: String,
    pub channel: String,
    /// The author agency's public key (hex); its PeerId derives from it.
    pub author: String,
    /// The agency's name (its trust-list name, or this node's own).
    pub author_name: Option<String>,
    /// The author is no longer an active member of the network.
    pub author_revoked: bool,
    /// The author signed two different records for one log slot.
    pub author_equivocating: bool,
    pub confidence: Option<u8>,
    pub first_seen: Option<u64>,
    pub last_seen: Option<u64>,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub added_ms: u64,
    pub revisions: u32,
    /// The author's reason, if retracted.
    pub retracted: Option<String>,
    pub sighted_by: Vec<String>,
    pub false_positive_by: Vec<String>,
    /// (Referrals) agencies that referred the same subjects too (keys).
    pub referred_too_by: Vec<String>,
    /// (Referrals) agencies that found the subjects still online: `{agency, seen_ms}`.
    #[schema(value_type = Vec<Object>)]
    pub still_online: Vec<serde_json::Value>,
    /// Distinct agencies that published or corroborated the value.
    pub agencies: u32,
    /// Local cases that link this record (never shared).
    pub cases: Vec<u64>,
    /// (Indicators) the decaying score now and why.
    #[schema(value_type = Option<Object>)]
    pub score: Option<ScoreView>,
    /// The full current content.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

impl HitView {
    pub fn new(found: &Found) -> HitView {
        let h = &found.hit;
        let r#type = h.content.family().as_str();
        let (kind, value, title, confidence, first_seen, last_seen) = match &h.content {
            Content::Indicator(i) => {
                (Some(i.kind.to_string()), Some(i.value.clone()), None, Some(i.confidence), i.first_seen, i.last_seen)
            }
            Content::Typology(t) => (None, None, Some(t.title.clone()), None, None, None),
            Content::Technique(t) => (None, None, Some(t.title.clone()), None, None, None),
            Content::Referral(r) => {
                let title = format!("{} request to {}", crate::interop::stix::request_name(r.request), r.platform);
                (None, None, Some(title), None, None, None)
            }
            Content::Request(r) => (None, None, Some(crate::service::first_line(&r.question)), None, None, None),
            Content::Answer(a) => (None, None, Some(crate::service::first_line(&a.text)), None, None, None),
        };
        HitView {
            id: h.id.to_string(),
            version: h.version.to_string(),
            r#type,
            kind,
            value,
            title,
            tlp: h.content.tlp().as_str().to_string(),
            channel: h.channel.to_string(),
            author: h.author.to_string(),
            author_name: Some(found.author.clone()).filter(|name| *name != h.author.to_string()),
            author_revoked: h.author_revoked,
            author_equivocating: h.author_equivocating,
            confidence,
            first_seen,
            last_seen,
            created_ms: h.created_ms,
            updated_ms: h.updated_ms,
            added_ms: h.added_ms,
            revisions: h.revisions,
            retracted: h.retracted.clone(),
            sighted_by: h.sighted_by.iter().map(ToString::to_string).collect(),
            false_positive_by: h.false_positive_by.iter().map(ToString::to_string).collect(),
            referred_too_by: h.referred_too_by.iter().map(ToString::to_string).collect(),
            still_online: h
                .still_online
                .iter()
                .map(|(a, at)| serde_json::json!({"agency": a.to_string(), "seen_ms": at}))
                .collect(),
            agencies: h.agencies,
            cases: found.cases.clone(),
            score: found.score.as_ref().map(ScoreView::new),
            content: serde_json::to_value(&h.content).unwrap_or_default(),
        }
    }
}

/// An indicator's score: `{now, decayed, decays_at_ms, latest_evidence_ms,
/// removed_ms, half_life_days, pinned}` — the pin (this agency's, never
/// shared) wins over decay.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreView {
    pub now: u8,
    pub decayed: bool,
    pub decays_at_ms: Option<u64>,
    pub author_confidence: u8,
    pub latest_evidence_ms: u64,
    pub removed_ms: Option<u64>,
    pub half_life_days: u64,
    #[schema(value_type = Option<Object>)]
    pub pinned: Option<crate::local::pins::Pin>,
}

impl ScoreView {
    pub fn new(s: &crate::service::Score) -> ScoreView {
        ScoreView {
            now: s.now,
            decayed: s.decayed,
            decays_at_ms: s.decays_at_ms,
            author_confidence: s.evidence.confidence,
            latest_evidence_ms: s.evidence.latest_ms,
            removed_ms: s.evidence.removed_ms,
            half_life_days: s.half_life_days,
            pinned: s.pin.clone(),
        }
    }
}

/// How every surface names a record this node cannot read.
pub const NEWER_KIND: &str = "record of a newer kind — upgrade to read it";

/// A stored record, exactly as signed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub author: String,
    pub network: String,
    pub channel: String,
    pub seq: u64,
    pub prev: Option<String>,
    pub created_ms: u64,
    pub added_ms: u64,
    pub r#type: &'static str,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// The signed envelope, hex: verifiable by anyone with the author's key.
    pub envelope: String,
    /// The current view of the knowledge this record belongs to, if any.
    pub current: Option<HitView>,
}

impl RecordView {
    pub fn new(r: &StoredRecord, current: Option<HitView>) -> RecordView {
        let h = &r.record.header;
        RecordView {
            id: r.id.to_string(),
            author: h.author.to_string(),
            network: h.network.to_string(),
            channel: h.channel.to_string(),
            seq: h.seq,
            prev: h.prev.map(|p| p.to_string()),
            created_ms: h.created_ms,
            added_ms: r.added_ms,
            r#type: r.record.body.type_name(),
            body: match &r.record.body {
                // Never interpreted: what it is, and why this node cannot read it.
                Body::Unknown(u) => serde_json::json!({
                    "family": u.family,
                    "newer": u.newer.to_string(),
                    "note": NEWER_KIND,
                }),
                body => serde_json::to_value(body).unwrap_or_default(),
            },
            envelope: hex::encode(r.envelope.to_bytes()),
            current,
        }
    }
}

/// The answer for one value of a bulk lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResult {
    /// Position of the value in the request, from 0.
    pub index: usize,
    pub input: String,
    pub kind: Option<String>,
    /// The normal form the value was matched as.
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why the value could not be looked up; the other values are unaffected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub hits: Vec<HitView>,
}

impl LookupResult {
    pub fn new(r: &CheckedValue) -> LookupResult {
        LookupResult {
            index: r.index,
            input: r.input.clone(),
            kind: r.kind.map(|k: Kind| k.to_string()),
            value: r.value.clone(),
            warnings: r.warnings.iter().map(ToString::to_string).collect(),
            error: r.error.clone(),
            hits: r.hits.iter().map(HitView::new).collect(),
        }
    }
}
