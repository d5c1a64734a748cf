//! What a receiver may do with a record, how far it can be relied on, and
//! how long it may be kept (docs/protocol.md §2.3, "Processing"): handling
//! codes, an evaluation, a review date, and the network's retention policy.
//!
//! TLP says who may receive a record; these say what the receiver may do
//! with it and until when. All three are optional fields of a record's
//! content, signed by its author, so every node reads the same conditions.
//!
//! - **Handling** follows the codes police networks already use (SIENA's
//!   H0–H3): absent, the record may be used for preventing and
//!   investigating crime (H0); `no_evidence` — not as evidence in judicial
//!   proceedings without the provider's permission (H1); `no_onward` — not
//!   disseminated outside the network without the provider's permission
//!   (H2); `other` — other restrictions, in words (H3).
//! - **Evaluation** is the 4 × 4 grading: source reliability A (reliable),
//!   B (mostly reliable), C (not reliable), X (cannot be judged), and
//!   information assessment 1 (known true without reservation), 2 (known
//!   personally to the source), 3 (not known personally, corroborated),
//!   4 (cannot be judged). On the wire it is two characters, "B2".
//! - **Review date** (`review_ms`): by then the author decides whether the
//!   record is still needed (a signed revision with a later date) or it
//!   expires on every node. The network's [`Retention`] (in the trust list)
//!   caps it: a record is kept at most `created_ms + period` whatever it
//!   says, and one without a date gets the period as its date.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Family, Subject};

/// A day in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// How long after its review date a record is still shown: clocks of
/// different agencies differ, and every node must agree on what expired.
pub const EXPIRY_GRACE_MS: u64 = 60 * 60 * 1000;

/// What a receiver may do with a record beyond preventing and investigating
/// crime (which every record allows). Omitted when nothing is restricted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    /// H1: not to be used as evidence in judicial proceedings without the
    /// provider's permission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_evidence: bool,
    /// H2: not to be disseminated outside the network (exports, platform
    /// referrals, other systems) without the provider's permission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_onward: bool,
    /// H3: other restrictions, in the provider's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

impl Handling {
    /// Whether no code beyond H0 is set (such a handling is omitted).
    pub fn is_open(&self) -> bool {
        !self.no_evidence && !self.no_onward && self.other.is_none()
    }

    /// The codes set, as police networks write them ("H1", "H2", "H3"),
    /// or "H0" when nothing is restricted.
    pub fn codes(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.no_evidence {
            out.push("H1");
        }
        if self.no_onward {
            out.push("H2");
        }
        if self.other.is_some() {
            out.push("H3");
        }
        if out.is_empty() {
            out.push("H0");
        }
        out
    }

    /// Parses a comma-separated list of codes ("H1,H2"), with the words of
    /// an H3 given apart. "H0" (or nothing) restricts nothing.
    pub fn parse(codes: &str, other: Option<String>) -> Result<Handling, String> {
        let mut h = Handling { other: other.filter(|o| !o.trim().is_empty()), ..Handling::default() };
        let mut h3 = false;
        for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match code.to_ascii_uppercase().as_str() {
                "H0" => {}
                "H1" => h.no_evidence = true,
                "H2" => h.no_onward = true,
                "H3" => h3 = true,
                _ => return Err(format!("unknown handling code {code:?} (H0, H1, H2 or H3)")),
            }
        }
        if h3 && h.other.is_none() {
            return Err("handling code H3 needs its restrictions in words".into());
        }
        Ok(h)
    }
}

/// Source reliability (the letter of an evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reliability {
    /// Reliable: no doubt about authenticity, trustworthiness, competence.
    A,
    /// Mostly reliable.
    B,
    /// Not reliable.
    C,
    /// Reliability cannot be judged.
    X,
}

/// Information assessment (the digit of an evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Assessment {
    /// Known to be true without reservation.
    One,
    /// Known personally to the source but not to the official passing it on.
    Two,
    /// Not known personally to the source, corroborated by other information.
    Three,
    /// Cannot be judged.
    Four,
}

/// A 4 × 4 evaluation, written "B2".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Evaluation {
    pub source: Reliability,
    pub information: Assessment,
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.source {
            Reliability::A => 'A',
            Reliability::B => 'B',
            Reliability::C => 'C',
            Reliability::X => 'X',
        };
        let i = match self.information {
            Assessment::One => '1',
            Assessment::Two => '2',
            Assessment::Three => '3',
            Assessment::Four => '4',
        };
        write!(f, "{s}{i}")
    }
}

impl FromStr for Evaluation {
    type Err = String;
    fn from_str(s: &str) -> Result<Evaluation, String> {
        let bad =
            || format!("evaluation {s:?} is not a source reliability A, B, C or X and an assessment 1–4 (\"B2\")");
        let mut chars = s.trim().chars();
        let (Some(r), Some(i), None) = (chars.next(), chars.next(), chars.next()) else { return Err(bad()) };
        let source = match r {
            'A' => Reliability::A,
            'B' => Reliability::B,
            'C' => Reliability::C,
            'X' => Reliability::X,
            _ => return Err(bad()),
        };
        let information = match i {
            '1' => Assessment::One,
            '2' => Assessment::Two,
            '3' => Assessment::Three,
            '4' => Assessment::Four,
            _ => return Err(bad()),
        };
        Ok(Evaluation { source, information })
    }
}

impl TryFrom<String> for Evaluation {
    type Error = String;
    fn try_from(s: String) -> Result<Evaluation, String> {
        // Exactly the canonical spelling on the wire ("B2", not " b2 ").
        if s.len() != 2 {
            return Err(format!("evaluation {s:?} is not two characters"));
        }
        s.parse()
    }
}

impl From<Evaluation> for String {
    fn from(e: Evaluation) -> String {
        e.to_string()
    }
}

/// The network's retention policy, carried in the coordinator-signed trust
/// list so every node applies the same rule: how long a record of a family
/// (and, for indicators, a subject) may be kept before it must be reviewed.
/// An agency may set earlier review dates, never later ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub rules: Vec<RetentionRule>,
}

/// One rule: records of `family` (about `subject`, when named) are reviewed
/// at most `days` after they were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    pub days: u32,
}

impl Default for Retention {
    /// The policy of a network whose trust list names none: indicators a
    /// year, those about victims six months, platform referrals two years;
    /// typologies and techniques (no personal data) are not reviewed.
    fn default() -> Retention {
        let rule = |family: Family, subject, days| RetentionRule { family: family.as_str().into(), subject, days };
        Retention {
            rules: vec![
                rule(Family::Indicator, None, 365),
                rule(Family::Indicator, Some(Subject::Victim), 183),
                rule(Family::Referral, None, 730),
            ],
        }
    }
}

impl Retention {
    /// The longest a record of `family` about `subject` may be kept before
    /// review, in ms: the rule naming the subject, else the family's, else
    /// none (kept until erased).
    pub fn period_ms(&self, family: Family, subject: Option<Subject>) -> Option<u64> {
        let of_family = || self.rules.iter().filter(|r| r.family == family.as_str());
        of_family()
            .find(|r| r.subject.is_some() && r.subject == subject)
            .or_else(|| of_family().find(|r| r.subject.is_none()))
            .map(|r| u64::from(r.days) * DAY_MS)
    }

    /// Checks the rules a coordinator signs: known families, one rule per
    /// family and subject, periods of at least a day.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.rules {
            let family: Family = r.family.parse().map_err(|e| format!("retention: {e}"))?;
            if r.subject.is_some() && family != Family::Indicator {
                return Err(format!("retention: only indicator rules name a subject ({family} does not have one)"));
            }
            if r.days == 0 {
                return Err(format!("retention: {family} records must be kept at least a day"));
            }
            if !seen.insert((r.family.clone(), r.subject.map(|s| s as u8))) {
                return Err(format!(
                    "retention: two rules for {family}{}",
                    r.subject.map_or(String::new(), |s| format!(" ({s:?})"))
                ));
            }
        }
        Ok(())
    }
}

/// When a record made at `created_ms` that says `review_ms` must be
/// reviewed under `policy`: its own date, capped at the policy's period;
/// the period alone if it names no date; `None` if neither applies.
pub fn review_due(
    policy: &Retention,
    family: Family,
    subject: Option<Subject>,
    created_ms: u64,
    review_ms: Option<u64>,
) -> Option<u64> {
    let cap = policy.period_ms(family, subject).map(|p| created_ms.saturating_add(p));
    match (review_ms, cap) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluations_round_trip_in_their_canonical_spelling_only() {
        let e: Evaluation = "B2".parse().unwrap();
        assert_eq!(e.to_string(), "B2");
        assert_eq!(Evaluation::try_from("X4".to_string()).unwrap().to_string(), "X4");
        for bad in ["b2", "B5", "D1", "B", "B22", " B2"] {
            assert!(Evaluation::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn handling_codes_parse_and_print_as_police_networks_write_them() {
        let h = Handling::parse("H1, h2", None).unwrap();
        assert_eq!(h.codes(), ["H1", "H2"]);
        assert!(Handling::parse("H0", None).unwrap().is_open());
        assert!(Handling::parse("H3", None).is_err(), "H3 needs words");
        assert_eq!(Handling::parse("H3", Some("no use in civil cases".into())).unwrap().codes(), ["H3"]);
        assert!(Handling::parse("H9", None).is_err());
    }

    #[test]
    fn the_most_specific_rule_caps_the_review_date() {
        let p = Retention::default();
        let day = DAY_MS;
        assert_eq!(p.period_ms(Family::Indicator, Some(Subject::Victim)), Some(183 * day));
        assert_eq!(p.period_ms(Family::Indicator, Some(Subject::Suspect)), Some(365 * day));
        assert_eq!(p.period_ms(Family::Typology, None), None);
        // An earlier date stands; a later one is capped; none gets the period.
        assert_eq!(review_due(&p, Family::Indicator, Some(Subject::Victim), 0, Some(10 * day)), Some(10 * day));
        assert_eq!(review_due(&p, Family::Indicator, Some(Subject::Victim), 0, Some(900 * day)), Some(183 * day));
        assert_eq!(review_due(&p, Family::Indicator, None, 0, None), Some(365 * day));
        assert_eq!(review_due(&p, Family::Technique, None, 0, None), None);
        assert_eq!(review_due(&p, Family::Technique, None, 0, Some(5)), Some(5));
    }

    #[test]
    fn a_policy_with_unknown_families_or_duplicate_rules_is_refused() {
        assert!(Retention::default().validate().is_ok());
        let mut p = Retention::default();
        p.rules.push(RetentionRule { family: "indicator".into(), subject: None, days: 10 });
        assert!(p.validate().is_err());
        let p = Retention { rules: vec![RetentionRule { family: "dossier".into(), subject: None, days: 10 }] };
        assert!(p.validate().is_err());
        let p = Retention {
            rules: vec![RetentionRule { family: "typology".into(), subject: Some(Subject::Victim), days: 1 }],
        };
        assert!(p.validate().is_err());
    }
}
