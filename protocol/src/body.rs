//! Record bodies (docs/protocol.md §2.3). Optional fields are omitted when absent and
//! lists when empty: that is the canonical encoding, and any other is refused.

use serde::{Deserialize, Serialize};

use crate::{Country, Evaluation, Handling, Kind, RecordId, Tlp};

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
    Referral(Referral),
    Checkpoint(AuditCheckpoint),
    Erasure(Erasure),
    Request(InfoRequest),
    Answer(Answer),
    /// A record of a newer kind (family, fields, values or version) than
    /// this node reads: kept and relayed as signed, never interpreted, and
    /// never encoded by this node.
    #[serde(skip)]
    Unknown(crate::newer::Unknown),
}

/// The kinds of knowledge a revision can replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Content {
    Indicator(Indicator),
    Typology(Typology),
    Technique(Technique),
    Referral(Referral),
    Request(InfoRequest),
    Answer(Answer),
}

impl Content {
    /// The files it carries.
    pub fn attachments(&self) -> &[crate::attachment::Attachment] {
        match self {
            Content::Typology(t) => &t.attachments,
            Content::Technique(t) => &t.attachments,
            Content::Referral(r) => &r.attachments,
            Content::Request(r) => &r.attachments,
            Content::Answer(a) => &a.attachments,
            Content::Indicator(_) => &[],
        }
    }

    /// The review date the author signed, if any (`processing`).
    pub fn review_ms(&self) -> Option<u64> {
        match self {
            Content::Indicator(i) => i.review_ms,
            Content::Typology(t) => t.review_ms,
            Content::Technique(t) => t.review_ms,
            Content::Referral(r) => r.review_ms,
            Content::Request(r) => r.review_ms,
            Content::Answer(a) => a.review_ms,
        }
    }

    /// The handling codes the author set, if any.
    pub fn handling(&self) -> Option<&Handling> {
        match self {
            Content::Indicator(i) => i.handling.as_ref(),
            Content::Typology(t) => t.handling.as_ref(),
            Content::Technique(t) => t.handling.as_ref(),
            Content::Referral(r) => r.handling.as_ref(),
            Content::Request(r) => r.handling.as_ref(),
            Content::Answer(a) => a.handling.as_ref(),
        }
    }

    /// The author's evaluation, if any.
    pub fn evaluation(&self) -> Option<Evaluation> {
        match self {
            Content::Indicator(i) => i.evaluation,
            Content::Typology(t) => t.evaluation,
            Content::Technique(t) => t.evaluation,
            Content::Referral(r) => r.evaluation,
            Content::Answer(a) => a.evaluation,
            Content::Request(_) => None,
        }
    }

    /// Who the content is about, where that is said (an indicator's subject).
    pub fn subject(&self) -> Option<crate::Subject> {
        match self {
            Content::Indicator(i) => Some(i.subject),
            Content::Typology(_)
            | Content::Technique(_)
            | Content::Referral(_)
            | Content::Request(_)
            | Content::Answer(_) => None,
        }
    }

    pub fn tlp(&self) -> Tlp {
        match self {
            Content::Indicator(i) => i.tlp,
            Content::Typology(t) => t.tlp,
            Content::Technique(t) => t.tlp,
            Content::Referral(r) => r.tlp,
            Content::Request(r) => r.tlp,
            Content::Answer(a) => a.tlp,
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
            Body::Referral(r) => Some(Content::Referral(r.clone())),
            Body::Request(r) => Some(Content::Request(r.clone())),
            Body::Answer(a) => Some(Content::Answer(a.clone())),
            Body::Revision(r) => Some(r.content.clone()),
            Body::Sighting(_) | Body::Retraction(_) | Body::Checkpoint(_) | Body::Erasure(_) | Body::Unknown(_) => None,
        }
    }

    /// The TLP of the content, where the body has one.
    pub fn tlp(&self) -> Option<Tlp> {
        match self {
            Body::Indicator(i) => Some(i.tlp),
            Body::Typology(t) => Some(t.tlp),
            Body::Technique(t) => Some(t.tlp),
            Body::Referral(r) => Some(r.tlp),
            Body::Request(r) => Some(r.tlp),
            Body::Answer(a) => Some(a.tlp),
            Body::Revision(r) => Some(r.content.tlp()),
            Body::Sighting(_) | Body::Retraction(_) | Body::Checkpoint(_) | Body::Erasure(_) | Body::Unknown(_) => None,
        }
    }

    /// The files this body carries (a revision: its new content's).
    pub fn attachments(&self) -> &[crate::attachment::Attachment] {
        match self {
            Body::Typology(t) => &t.attachments,
            Body::Technique(t) => &t.attachments,
            Body::Sighting(s) => &s.attachments,
            Body::Referral(r) => &r.attachments,
            Body::Request(r) => &r.attachments,
            Body::Answer(a) => &a.attachments,
            Body::Revision(r) => r.content.attachments(),
            Body::Indicator(_) | Body::Retraction(_) | Body::Checkpoint(_) | Body::Erasure(_) | Body::Unknown(_) => &[],
        }
    }

    /// The family's wire name, or "newer" for a record of a newer kind.
    pub fn type_name(&self) -> &'static str {
        self.family().map_or("newer", crate::Family::as_str)
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
    /// When the author reviews whether this is still needed (Unix ms); the
    /// network's retention policy caps it (`processing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    /// What a receiver may do with it beyond prevention and investigation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Source reliability and information assessment ("B2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
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
            review_ms: None,
            handling: None,
            evaluation: None,
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
    /// When the author reviews whether this is still needed (Unix ms); the
    /// network's retention policy caps it (`processing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    /// What a receiver may do with it beyond prevention and investigation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Source reliability and information assessment ("B2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
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
    /// When the author reviews whether this is still needed (Unix ms); the
    /// network's retention policy caps it (`processing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    /// What a receiver may do with it beyond prevention and investigation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Source reliability and information assessment ("B2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
}

/// Another agency's verdict on a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// We saw it too.
    Corroborates,
    /// We checked, and it is not what the record says.
    FalsePositive,
    /// (On a referral) we referred the same subjects to the platform too.
    ReferredToo,
    /// (On a referral) the subjects were still online when we looked (`seen_ms`).
    StillOnline,
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
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
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

/// Erases records on every node: their bodies, index entries and every
/// local copy derived from them, leaving tombstones that keep logs syncing.
/// Signed by the records' author (on their channel), or by a coordinator for
/// the records of an agency no longer in the network (on the network
/// channel). Names ids only; the reason must not repeat what is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erasure {
    pub targets: Vec<RecordId>,
    pub reason: String,
}

/// A signed head of the author's audit log: entry `seq` had chained hash
/// `hash` (BLAKE3, hex). Published on the network channel so that every
/// member keeps a copy: an operator who later rewrites or rolls back its
/// node's audit log no longer matches what its partners hold, and its own
/// node fetches their copies back (docs/security.md). It says how many
/// entries the log had, nothing of what they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCheckpoint {
    pub seq: u64,
    pub hash: String,
}

/// What an agency asked a platform to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// Remove content (a job ad, a post, a channel).
    Takedown,
    /// Suspend or close an account.
    Suspension,
    /// Preserve data pending a legal request.
    Preservation,
    /// Disclose data: an evidence request.
    Disclosure,
}

/// Where a referral stands. Statuses move forward only: submitted, then
/// acknowledged, then one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Submitted,
    Acknowledged,
    Removed,
    Suspended,
    Preserved,
    Disclosed,
    Declined,
    NoResponse,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 8] = [
        ReferralStatus::Submitted,
        ReferralStatus::Acknowledged,
        ReferralStatus::Removed,
        ReferralStatus::Suspended,
        ReferralStatus::Preserved,
        ReferralStatus::Disclosed,
        ReferralStatus::Declined,
        ReferralStatus::NoResponse,
    ];

    /// 0 submitted, 1 acknowledged, 2 an outcome: the order statuses move in.
    pub fn stage(self) -> u8 {
        match self {
            ReferralStatus::Submitted => 0,
            ReferralStatus::Acknowledged => 1,
            _ => 2,
        }
    }

    /// The platform acted as asked (removed, suspended, preserved, disclosed).
    pub fn is_actioned(self) -> bool {
        matches!(
            self,
            ReferralStatus::Removed | ReferralStatus::Suspended | ReferralStatus::Preserved | ReferralStatus::Disclosed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Submitted => "submitted",
            ReferralStatus::Acknowledged => "acknowledged",
            ReferralStatus::Removed => "removed",
            ReferralStatus::Suspended => "suspended",
            ReferralStatus::Preserved => "preserved",
            ReferralStatus::Disclosed => "disclosed",
            ReferralStatus::Declined => "declined",
            ReferralStatus::NoResponse => "no_response",
        }
    }
}

/// One subject of a referral: an indicator value (an account, URL, channel,
/// ad), and the indicator record it comes from if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSubject {
    pub kind: Kind,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
}

/// A referral to a platform (takedown, suspension, preservation, disclosure)
/// and, through revisions by its author, how it went. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referral {
    /// A platform id (`normalize::is_platform`), or `other:<name>`.
    pub platform: String,
    pub request: RequestType,
    pub subjects: Vec<ReferralSubject>,
    pub status: ReferralStatus,
    pub tlp: Tlp,
    pub submitted_ms: u64,
    /// When the current status was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_ms: Option<u64>,
    /// The platform's reference number for the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Where it was filed (a law-enforcement portal, an email address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the author reviews whether this is still needed (Unix ms); the
    /// network's retention policy caps it (`processing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    /// What a receiver may do with it beyond prevention and investigation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Source reliability and information assessment ("B2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
}

/// A value a request or an answer names, in its normal form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedValue {
    pub kind: Kind,
    pub value: String,
}

/// How soon a request needs an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Routine,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Routine, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Routine => "routine",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// Where a request stands; its author's agency moves it (revisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Answered,
    Closed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 3] = [RequestStatus::Open, RequestStatus::Answered, RequestStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Answered => "answered",
            RequestStatus::Closed => "closed",
        }
    }
}

/// A request for information: a question to the members of its channel
/// (the network, or a sharing group), about values, records (a typology, a
/// technique, an indicator) or a platform. Its author's agency moves its
/// status and marks answers useful through revisions. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoRequest {
    pub question: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<NamedValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordId>,
    /// A platform id (`normalize::is_referral_platform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub priority: Priority,
    pub status: RequestStatus,
    pub tlp: Tlp,
    /// When the asker needs the answer by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Answers (their record ids) the asking agency found useful.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub useful: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
}

/// An answer to a request, signed by the answering agency, on a channel of
/// its own choosing (it may be narrower than the request's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The request's original record.
    pub request: RecordId,
    pub text: String,
    /// Records the answer rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cites: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<NamedValue>,
    pub tlp: Tlp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// Files it carries (screenshots, documents), by content hash:
    /// fetched on demand from members that may see the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
}
