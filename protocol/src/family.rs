//! The record families, as one type. Everything that lists, names, parses
//! or counts families derives from [`Family`]: the wire names, the agent
//! string's "reads …" list, the newer-kind reader, the store's listings, the
//! REST and CLI `type` filters, the web forms, STIX mapping and metrics
//! labels. Each of those matches on `Family` (or on [`Body`]/[`Content`])
//! without a wildcard arm, so adding a family is a compiler error at every
//! place that must decide what to do with it (docs/architecture.md, "Adding
//! a family").

use std::{fmt, str::FromStr};

use crate::{Body, Content};

/// A kind of record. Its name is the body's single CBOR map key on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Indicator,
    Typology,
    Technique,
    Sighting,
    Revision,
    Retraction,
    Referral,
    /// A signed head of the author's audit log, kept by every member as a
    /// witness.
    Checkpoint,
    /// Erases records on every node (their author's, or a removed member's).
    Erasure,
    /// A request for information to the members of its channel.
    Request,
    /// An answer to a request.
    Answer,
}

impl Family {
    /// Every family this node reads, in the order the agent string lists
    /// them (older nodes compare that list, so new families go at the end).
    pub const ALL: [Family; 11] = [
        Family::Indicator,
        Family::Typology,
        Family::Technique,
        Family::Sighting,
        Family::Revision,
        Family::Retraction,
        Family::Referral,
        Family::Checkpoint,
        Family::Erasure,
        Family::Request,
        Family::Answer,
    ];

    /// The wire name: the body's map key, the REST/CLI `type` value, the
    /// metrics label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Family::Indicator => "indicator",
            Family::Typology => "typology",
            Family::Technique => "technique",
            Family::Sighting => "sighting",
            Family::Revision => "revision",
            Family::Retraction => "retraction",
            Family::Referral => "referral",
            Family::Checkpoint => "checkpoint",
            Family::Erasure => "erasure",
            Family::Request => "request",
            Family::Answer => "answer",
        }
    }

    /// Whether a record of this family is knowledge of its own (a
    /// [`Content`]: searchable, revisable, exported as an object), rather
    /// than a statement about another record (sighting, revision,
    /// retraction), which shows as part of the record it is about.
    pub const fn is_knowledge(self) -> bool {
        match self {
            Family::Indicator
            | Family::Typology
            | Family::Technique
            | Family::Referral
            | Family::Request
            | Family::Answer => true,
            Family::Sighting | Family::Revision | Family::Retraction | Family::Checkpoint | Family::Erasure => false,
        }
    }

    /// The families a record of knowledge can have, for forms and help.
    pub fn knowledge() -> impl Iterator<Item = Family> {
        Family::ALL.into_iter().filter(|f| f.is_knowledge())
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a family this node reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a record type; one of: {list}", list = Family::ALL.map(Family::as_str).join(", "))]
pub struct UnknownFamily(pub String);

impl FromStr for Family {
    type Err = UnknownFamily;
    fn from_str(s: &str) -> Result<Family, UnknownFamily> {
        Family::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| UnknownFamily(s.to_string()))
    }
}

impl Body {
    /// The body's family; `None` for a record of a newer kind.
    pub fn family(&self) -> Option<Family> {
        Some(match self {
            Body::Indicator(_) => Family::Indicator,
            Body::Typology(_) => Family::Typology,
            Body::Technique(_) => Family::Technique,
            Body::Sighting(_) => Family::Sighting,
            Body::Revision(_) => Family::Revision,
            Body::Retraction(_) => Family::Retraction,
            Body::Referral(_) => Family::Referral,
            Body::Checkpoint(_) => Family::Checkpoint,
            Body::Erasure(_) => Family::Erasure,
            Body::Request(_) => Family::Request,
            Body::Answer(_) => Family::Answer,
            Body::Unknown(_) => return None,
        })
    }
}

impl Content {
    /// The family of the knowledge (never a sighting, revision or retraction).
    pub fn family(&self) -> Family {
        match self {
            Content::Indicator(_) => Family::Indicator,
            Content::Typology(_) => Family::Typology,
            Content::Technique(_) => Family::Technique,
            Content::Referral(_) => Family::Referral,
            Content::Request(_) => Family::Request,
            Content::Answer(_) => Family::Answer,
        }
    }
}

impl From<Content> for Body {
    /// The body that publishes this knowledge as an original record.
    fn from(c: Content) -> Body {
        match c {
            Content::Indicator(i) => Body::Indicator(i),
            Content::Typology(t) => Body::Typology(t),
            Content::Technique(t) => Body::Technique(t),
            Content::Referral(r) => Body::Referral(r),
            Content::Request(r) => Body::Request(r),
            Content::Answer(a) => Body::Answer(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_list_every_family_once() {
        for f in Family::ALL {
            assert_eq!(f.as_str().parse::<Family>(), Ok(f));
            assert_eq!(Family::ALL.iter().filter(|g| **g == f).count(), 1, "{f} listed twice");
        }
        let e = "newer".parse::<Family>().unwrap_err();
        assert!(e.to_string().contains("indicator, typology"), "{e}");
    }

    /// A body's family is its wire name: the single map key serde writes.
    /// Adding a family without a body (or a body without a family) fails here.
    #[test]
    fn each_family_is_the_wire_name_of_its_body() {
        use crate::{Indicator, IndicatorRole, Kind, RecordId, Retraction, Tlp};
        let ind = Indicator::new(Kind::Domain, "a.example", IndicatorRole::JobAd, Tlp::Green);
        let id = RecordId([1; 32]);
        let bodies = [
            Body::Indicator(ind.clone()),
            Body::Retraction(Retraction { target: id, reason: "r".into() }),
            Body::from(Content::Indicator(ind)),
        ];
        for b in bodies {
            let v = ciborium::Value::serialized(&b).unwrap();
            let key = v.as_map().and_then(|m| m.first()).and_then(|(k, _)| k.as_text().map(String::from));
            assert_eq!(key.as_deref(), b.family().map(Family::as_str));
        }
    }
}
