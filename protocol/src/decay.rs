//! Confidence that decays with evidence. An indicator's score starts at
//! its author's confidence and halves every half-life of its kind (phone
//! numbers and handles fast, wallets and bank accounts slower, domains
//! slower still), counted from its latest evidence: the latest version,
//! any agency's corroborating sighting, a "still online" report. A
//! platform's confirmed removal or suspension makes it decay faster from
//! then on; a retraction ends it. Below the network's floor it is
//! *decayed*: out of alerts and default searches unless an analyst pinned
//! it or asks for decayed values.
//!
//! Every input is a replicated, signed field, and the policy is in the
//! coordinator-signed trust list: every node computes the same score. The
//! moment a value decays is computed when its view is built
//! ([`decays_at_ms`]), so excluding decayed values is one comparison.

use serde::{Deserialize, Serialize};

use crate::{Kind, processing::DAY_MS};

/// The network's decay policy (trust list `decay`; absent: the default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecayPolicy {
    /// Half-life in days per indicator kind; kinds not named use
    /// `default_days`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub half_life: Vec<HalfLife>,
    pub default_days: u32,
    /// Below this score (0–100) a value is decayed.
    pub floor: u8,
    /// After a platform confirmed its removal or suspension, the half-life
    /// is divided by this.
    pub removal_factor: u8,
}

/// One kind's half-life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalfLife {
    pub kind: Kind,
    pub days: u32,
}

impl Default for DecayPolicy {
    /// Phone numbers, messaging handles and profiles 90 days (recruiters
    /// change them in weeks), URLs and IPs 60, e-mail 180, wallets and
    /// bank accounts 365, domains and companies 730; floor 20; removal
    /// quarters the half-life.
    fn default() -> DecayPolicy {
        let h = |kind, days| HalfLife { kind, days };
        DecayPolicy {
            half_life: vec![
                h(Kind::Phone, 90),
                h(Kind::TelegramHandle, 90),
                h(Kind::LineId, 90),
                h(Kind::WechatId, 90),
                h(Kind::SocialProfile, 90),
                h(Kind::Url, 60),
                h(Kind::Ip, 60),
                h(Kind::Email, 180),
                h(Kind::TronAddress, 365),
                h(Kind::EvmAddress, 365),
                h(Kind::BtcAddress, 365),
                h(Kind::BankAccount, 365),
                h(Kind::Domain, 730),
                h(Kind::CompanyName, 730),
            ],
            default_days: 180,
            floor: 20,
            removal_factor: 4,
        }
    }
}

/// What a score is computed from: replicated fields only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    pub kind: Kind,
    /// The author's confidence, 0–100.
    pub confidence: u8,
    /// The latest evidence (version, sighting, still-online report), Unix ms.
    pub latest_ms: u64,
    /// When a platform confirmed removal or suspension, if it did.
    pub removed_ms: Option<u64>,
    pub retracted: bool,
}

impl DecayPolicy {
    /// Scores that fall but never count as decayed (floor 0): for networks
    /// (and tests) that keep every value in default searches.
    pub fn never() -> DecayPolicy {
        DecayPolicy { floor: 0, ..DecayPolicy::default() }
    }

    /// `kind`'s half-life in ms.
    pub fn half_life_ms(&self, kind: Kind) -> u64 {
        let days = self.half_life.iter().find(|h| h.kind == kind).map_or(self.default_days, |h| h.days);
        u64::from(days.max(1)) * DAY_MS
    }

    /// Checks what a coordinator signs: half-lives of at least a day, one
    /// per kind, a floor within 0–100, a removal factor of at least 1.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for h in &self.half_life {
            if h.days == 0 {
                return Err(format!("decay: {} needs a half-life of at least a day", h.kind));
            }
            if !seen.insert(h.kind) {
                return Err(format!("decay: two half-lives for {}", h.kind));
            }
        }
        if self.default_days == 0 || self.floor > 100 || self.removal_factor == 0 {
            return Err("decay: default_days ≥ 1, floor 0–100, removal_factor ≥ 1".into());
        }
        Ok(())
    }

    /// The score at `now_ms`, 0–100.
    pub fn score(&self, e: &Evidence, now_ms: u64) -> u8 {
        if e.retracted {
            return 0;
        }
        let half = self.half_life_ms(e.kind) as f64;
        let fast = half / f64::from(self.removal_factor.max(1));
        // Time since the evidence, the part after a removal counted faster.
        let halves = match e.removed_ms {
            Some(r) if r < now_ms => {
                let before = r.saturating_sub(e.latest_ms).min(now_ms.saturating_sub(e.latest_ms)) as f64;
                let after = now_ms.saturating_sub(r.max(e.latest_ms)) as f64;
                before / half + after / fast
            }
            _ => now_ms.saturating_sub(e.latest_ms) as f64 / half,
        };
        (f64::from(e.confidence.min(100)) * 0.5f64.powf(halves)).floor() as u8
    }

    /// When the score falls below the floor (Unix ms): `0` if it already
    /// has or never rose above it, `None` if it never will.
    pub fn decays_at_ms(&self, e: &Evidence) -> Option<u64> {
        if e.retracted || e.confidence < self.floor {
            return Some(0);
        }
        if self.floor == 0 {
            return None;
        }
        // Halves until the floor: confidence × 2^-h < floor.
        let needed = (f64::from(e.confidence) / f64::from(self.floor)).log2();
        let half = self.half_life_ms(e.kind) as f64;
        let fast = half / f64::from(self.removal_factor.max(1));
        let plain = e.latest_ms as f64 + needed * half;
        let at = match e.removed_ms {
            Some(r) if (r as f64) < plain => {
                let done = r.saturating_sub(e.latest_ms) as f64 / half;
                r.max(e.latest_ms) as f64 + (needed - done).max(0.0) * fast
            }
            _ => plain,
        };
        // The first whole millisecond at which the floor is crossed (the
        // estimate is within a few ms; the steps are bounded whatever the
        // input, so a date near u64::MAX cannot spin or overflow).
        if !at.is_finite() || at >= u64::MAX as f64 {
            return None;
        }
        let mut t = at.ceil() as u64;
        for _ in 0..1024 {
            if t > 0 && self.score(e, t - 1) < self.floor {
                t -= 1;
            } else {
                break;
            }
        }
        for _ in 0..1024 {
            if self.score(e, t) >= self.floor {
                t = t.checked_add(1)?;
            } else {
                break;
            }
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_767_225_600_000;

    fn phone(confidence: u8) -> Evidence {
        Evidence { kind: Kind::Phone, confidence, latest_ms: T0, removed_ms: None, retracted: false }
    }

    #[test]
    fn scores_halve_each_half_life_and_evidence_restarts_them() {
        let p = DecayPolicy::default();
        assert_eq!(p.score(&phone(80), T0), 80);
        assert_eq!(p.score(&phone(80), T0 + 90 * DAY_MS), 40);
        assert_eq!(p.score(&phone(80), T0 + 180 * DAY_MS), 20);
        let domain = Evidence { kind: Kind::Domain, ..phone(80) };
        assert!(p.score(&domain, T0 + 180 * DAY_MS) > 60, "domains decay slower");
        let sighted = Evidence { latest_ms: T0 + 170 * DAY_MS, ..phone(80) };
        assert!(p.score(&sighted, T0 + 180 * DAY_MS) > 70, "a sighting restarts the clock");
        assert_eq!(p.score(&Evidence { retracted: true, ..phone(80) }, T0), 0);
    }

    #[test]
    fn a_removal_speeds_decay_and_the_crossing_is_exact() {
        let p = DecayPolicy::default();
        let removed = Evidence { removed_ms: Some(T0 + 10 * DAY_MS), ..phone(80) };
        assert!(p.score(&removed, T0 + 60 * DAY_MS) < p.score(&phone(80), T0 + 60 * DAY_MS));
        for e in [phone(80), phone(21), removed, Evidence { kind: Kind::Domain, ..phone(100) }] {
            let at = p.decays_at_ms(&e).expect("decays");
            assert!(p.score(&e, at) < p.floor && p.score(&e, at - 1) >= p.floor, "{e:?} at {at}");
        }
        assert_eq!(p.decays_at_ms(&phone(10)), Some(0), "born below the floor");
        assert_eq!(p.decays_at_ms(&Evidence { retracted: true, ..phone(90) }), Some(0));
        // Hostile dates neither spin nor overflow.
        for latest_ms in [u64::MAX, u64::MAX - 1, u64::MAX / 2] {
            let e = Evidence { latest_ms, removed_ms: Some(u64::MAX), ..phone(90) };
            let _ = p.decays_at_ms(&e);
            let _ = p.score(&e, u64::MAX);
        }
    }

    #[test]
    fn bad_policies_are_named() {
        let mut p = DecayPolicy::default();
        p.half_life.push(HalfLife { kind: Kind::Phone, days: 10 });
        assert!(p.validate().unwrap_err().contains("two half-lives"));
        let p = DecayPolicy { floor: 101, ..DecayPolicy::default() };
        assert!(p.validate().is_err());
        assert!(DecayPolicy::default().validate().is_ok());
    }
}
