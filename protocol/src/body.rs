//! Record bodies (DESIGN.md §2). Optional fields are omitted when absent and
//! lists when empty: that is the canonical encoding, and any other is refused.

use serde::{Deserialize, Serialize};

use crate::{Country, Kind, RecordId, Tlp};

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Body {
    Indicator(Indicator),
    Typology(Typology),
    Technique(Technique),
    Sighting(Sighting),
    Revision(Revision),
    Retraction(Retraction),
    /// A record of a newer kind (family, fields, values or version) than
    /// this node reads: kept and relayed as signed, never interpreted, and
    /// never encoded by this node.
    #[serde(skip)]
    Unknown(crate::newer::Unknown),
}

/// The three kinds of knowledge a revision can replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Content {
    Indicator(Indicator),
    Typology(Typology),
    Technique(Technique),
}

impl Content {
    pub fn tlp(&self) -> Tlp {
        match self {
            Content::Indicator(i) => i.tlp,
            Content::Typology(t) => t.tlp,
            Content::Technique(t) => t.tlp,
        }
    }
}

impl Body {
    /// The knowledge this body carries, if it carries any directly.
    pub fn content(&self) -> Option<Content> {
        match self {
            Body::Indicator(i) => Some(Content::Indicator(i.clone())),
            Body::Typology(t) => Some(Content::Typology(t.clone())),
            Body::Technique(t) => Some(Content::Technique(t.clone())),
            Body::Revision(r) => Some(r.content.clone()),
            Body::Sighting(_) | Body::Retraction(_) | Body::Unknown(_) => None,
        }
    }

    /// The TLP of the content, where the body has one.
    pub fn tlp(&self) -> Option<Tlp> {
        match self {
            Body::Indicator(i) => Some(i.tlp),
            Body::Typology(t) => Some(t.tlp),
            Body::Technique(t) => Some(t.tlp),
            Body::Revision(r) => Some(r.content.tlp()),
            Body::Sighting(_) | Body::Retraction(_) | Body::Unknown(_) => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Body::Indicator(_) => "indicator",
            Body::Typology(_) => "typology",
            Body::Technique(_) => "technique",
            Body::Sighting(_) => "sighting",
            Body::Revision(_) => "revision",
            Body::Retraction(_) => "retraction",
            Body::Unknown(_) => "newer",
        }
    }
}

/// What the indicator was used for in the scam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorRole {
    RecruiterContact,
    JobAd,
    ScamPlatform,
    Payment,
    Laundering,
    Infrastructure,
}

/// Who the value belongs to. A victim's number is never a suspect selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Suspect,
    Victim,
    Unknown,
}

/// Whether the claim is an observed fact or an analytic assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Fact,
    Assessment,
}

/// A selector: a value investigators can search for. Times are Unix
/// milliseconds. There is deliberately no field for a case reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub kind: Kind,
    pub value: String,
    pub role: IndicatorRole,
    pub subject: Subject,
    pub confidence: u8,
    pub basis: Basis,
    pub tlp: Tlp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<Country>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub typologies: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Indicator {
    /// An indicator with only what every indicator needs; the rest takes its
    /// default (subject unknown, confidence 50, an assessment, nothing else).
    pub fn new(kind: Kind, value: impl Into<String>, role: IndicatorRole, tlp: Tlp) -> Indicator {
        Indicator {
            kind,
            value: value.into(),
            role,
            subject: Subject::Unknown,
            confidence: 50,
            basis: Basis::Assessment,
            tlp,
            first_seen: None,
            last_seen: None,
            valid_until: None,
            platform: None,
            countries: vec![],
            typologies: vec![],
            tags: vec![],
            description: None,
        }
    }
}

/// Stage of the scam-centre life cycle a typology describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Recruitment,
    Transit,
    Exploitation,
    Scam,
    Monetisation,
}

/// How a recruitment or scam pattern works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typology {
    pub title: String,
    pub stage: Stage,
    pub summary: String,
    pub tlp: Tlp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lures: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_methods: Vec<String>,
    /// Countries along the route, in order (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<Country>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
    /// External taxonomy ids, e.g. `misp-galaxy:…` or F3 ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Basic,
    Intermediate,
    Advanced,
}

/// How to find and evidence something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technique {
    pub title: String,
    pub objective: String,
    pub difficulty: Difficulty,
    pub tlp: Tlp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_to: Vec<Kind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitations: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethical_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opsec_risks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_handling: Option<String>,
}

/// Another agency's verdict on a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// We saw it too.
    Corroborates,
    /// We checked, and it is not what the record says.
    FalsePositive,
}

/// One agency corroborating (or disputing) another's record. Travels on the
/// target's channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sighting {
    pub target: RecordId,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A new version of one of the author's own records. `supersedes` is always
/// the id of the *original* record, so every version points at one root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    pub supersedes: RecordId,
    pub content: Content,
}

/// Withdraws one of the author's own records everywhere it replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    pub target: RecordId,
    pub reason: String,
}
