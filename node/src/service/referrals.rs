//! Referrals to platforms: filing one, moving its status forward (only its
//! author, only forwards), who else referred a value, the lists and takedown
//! packages per platform, and the figures a coordinator wants.

use std::{collections::BTreeMap, sync::Arc};

use kawan_protocol::{
    Body, Content, Kind, RecordId, Referral, ReferralStatus, ReferralSubject, RequestType, Revision, Tlp, normalize,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    Caller, Found, Published, Service, ServiceError,
    export::{Gate, withheld_note},
    group_field,
};
use crate::{policy::Path, store::Query};

/// A referral as an analyst files it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// facebook, instagram, tiktok, telegram, whatsapp, line, wechat,
    /// linkedin, x, youtube, jobstreet, … or `other:<name>`
    pub platform: String,
    /// takedown, suspension, preservation or disclosure
    #[schema(value_type = String)]
    pub request: RequestType,
    /// What was referred: values (normalised here) and, where they are
    /// shared indicators, their record ids.
    pub subjects: Vec<NewSubject>,
    /// clear, green, amber, amber+strict
    pub tlp: String,
    /// The sharing group, required for AMBER.
    pub group: Option<String>,
    /// When it was filed (Unix ms; default now).
    pub submitted_ms: Option<u64>,
    /// The platform's reference number.
    pub reference: Option<String>,
    /// Where it was filed (a portal, an address).
    pub portal: Option<String>,
    pub legal_basis: Option<String>,
    pub note: Option<String>,
    /// Files to carry, as `POST /api/v1/attachments` (or `kawan attach`)
    /// returned them.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<kawan_protocol::attachment::Attachment>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubject {
    pub kind: String,
    pub value: String,
    /// The indicator record this value comes from, if shared.
    pub record: Option<String>,
}

/// A status update: by the referral's author, never backwards.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    /// submitted, acknowledged, removed, suspended, preserved, disclosed,
    /// declined or no_response
    #[schema(value_type = String)]
    pub status: ReferralStatus,
    /// When the platform answered (Unix ms; default now).
    pub at_ms: Option<u64>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// A filed referral, and the agencies that had already referred any of
/// its subjects (the duplicate warning).
#[derive(Debug)]
pub struct Filed {
    pub published: Published,
    pub already: Vec<Found>,
}

/// Which referrals to list.
#[derive(Debug, Default, Clone)]
pub struct ReferralFilter {
    pub platform: Option<String>,
    pub status: Option<ReferralStatus>,
}

/// Per platform: what a coordinator wants to know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct PlatformFigures {
    pub platform: String,
    pub referrals: u64,
    /// Referrals filed per month (`YYYY-MM`).
    pub per_month: BTreeMap<String, u64>,
    pub pending: u64,
    pub actioned: u64,
    pub declined: u64,
    pub no_response: u64,
    /// Days from filing to action (actioned referrals): median and 90th percentile.
    pub median_days_to_action: Option<f64>,
    pub p90_days_to_action: Option<f64>,
    /// Declined or unanswered, of those with an outcome.
    pub share_declined_or_unanswered: Option<f64>,
}

const DAY_MS: f64 = 86_400_000.0;

impl Service {
    /// Files a referral (normalising its subjects) and says who already
    /// referred any of them.
    pub async fn create_referral(self: &Arc<Self>, caller: Caller, new: NewReferral) -> Result<Filed, ServiceError> {
        let platform = new.platform.trim().to_lowercase();
        if !normalize::is_referral_platform(&platform) {
            let known: Vec<&str> = normalize::platforms().collect();
            return Err(ServiceError::invalid(
                "unknown_platform",
                format!("unknown platform {platform:?}: use one of {} or other:<name>", known.join(", ")),
            )
            .with_details(serde_json::json!({"field": "platform"})));
        }
        if new.subjects.is_empty() {
            return Err(ServiceError::field("subjects", "name at least one subject (an account, URL, channel, ad)"));
        }
        let mut subjects = Vec::new();
        for s in &new.subjects {
            let kind: Kind = ServiceError::parse("subjects.kind", &s.kind)?;
            let value = self.normalize(kind, &s.value)?;
            let record =
                s.record.as_deref().map(|r| ServiceError::parse::<RecordId>("subjects.record", r)).transpose()?;
            subjects.push(ReferralSubject { kind, value, record });
        }
        let now = self.now_ms();
        let referral = Referral {
            evaluation: None,
            handling: None,
            review_ms: None,
            platform,
            request: new.request,
            subjects,
            status: ReferralStatus::Submitted,
            tlp: ServiceError::parse::<Tlp>("tlp", &new.tlp)?,
            submitted_ms: new.submitted_ms.unwrap_or(now),
            status_ms: None,
            reference: new.reference.filter(|r| !r.trim().is_empty()),
            portal: new.portal.filter(|r| !r.trim().is_empty()),
            legal_basis: new.legal_basis.filter(|r| !r.trim().is_empty()),
            note: new.note.filter(|r| !r.trim().is_empty()),
            attachments: new.attachments,
        };
        let group = group_field(new.group.as_deref())?;
        let already = self.already_referred(caller.clone(), referral.subjects.clone()).await?;
        let published = self.publish(caller, Body::Referral(referral), group).await?;
        Ok(Filed { published, already })
    }

    /// Others' referrals of any of `subjects`, as the caller may see them.
    pub async fn already_referred(
        self: &Arc<Self>,
        caller: Caller,
        subjects: Vec<ReferralSubject>,
    ) -> Result<Vec<Found>, ServiceError> {
        self.run(move |s| {
            let trust = s.data.store.trust();
            let mut hits = Vec::new();
            for subject in &subjects {
                for h in s.data.store.referrals_naming(subject.kind, &subject.value, trust.as_deref())? {
                    if !hits.iter().any(|x: &crate::store::Hit| x.id == h.id) {
                        hits.push(h);
                    }
                }
            }
            let found = s.visible(&caller, hits, trust.as_deref());
            s.consult(&caller, "referrals", found.iter().map(|f| &f.hit))?;
            Ok(found)
        })
        .await
    }

    /// Moves a referral's status forward, as a revision by its author.
    pub async fn update_referral(
        self: &Arc<Self>,
        caller: Caller,
        id: &str,
        update: StatusUpdate,
    ) -> Result<Published, ServiceError> {
        let id: RecordId = ServiceError::parse("id", id)?;
        let me = self.key.public();
        let (root, channel, mut referral) = self
            .run(move |s| {
                let trust = s.data.store.trust();
                let hit = s
                    .data
                    .store
                    .view(&id, trust.as_deref())?
                    .ok_or_else(|| ServiceError::not_found(format!("no referral {id}")))?;
                let Content::Referral(r) = hit.content else {
                    return Err(ServiceError::invalid("not_a_referral", format!("record {id} is not a referral")));
                };
                let mine = s.data.store.membership().map_or(hit.author == me, |t| t.same_agency(&hit.author, &me));
                if !mine {
                    return Err(ServiceError::forbidden(
                        "not_author",
                        format!("only the agency that filed referral {id} updates its status; add a sighting instead"),
                    ));
                }
                Ok((hit.id, hit.channel, r))
            })
            .await?;
        if update.status.stage() < referral.status.stage() {
            return Err(ServiceError::invalid(
                "status_backwards",
                format!(
                    "a referral's status moves forward only: it is {}, it cannot become {}",
                    referral.status.as_str(),
                    update.status.as_str()
                ),
            ));
        }
        referral.status = update.status;
        referral.status_ms = Some(update.at_ms.unwrap_or_else(|| self.now_ms()).max(referral.submitted_ms));
        if let Some(r) = update.reference.filter(|r| !r.trim().is_empty()) {
            referral.reference = Some(r);
        }
        if let Some(n) = update.note.filter(|n| !n.trim().is_empty()) {
            referral.note = Some(n);
        }
        let group = match channel {
            kawan_protocol::Channel::Group(g) => Some(g),
            kawan_protocol::Channel::Network => None,
        };
        let body = Body::Revision(Revision { supersedes: root, content: Content::Referral(referral) });
        self.publish(caller, body, group).await
    }

    /// Referrals as they stand, newest first.
    pub async fn referrals(
        self: &Arc<Self>,
        caller: Caller,
        filter: ReferralFilter,
    ) -> Result<Vec<Found>, ServiceError> {
        self.run(move |s| {
            let q = Query { family: Some(kawan_protocol::Family::Referral), limit: 10_000, ..Query::default() };
            let hits = s.data.store.search(&q, &s.normalize_context())?.unwrap_or_default();
            s.audit_read(&caller, "query", &format!("referrals {filter:?}"))?;
            let trust = s.data.store.trust();
            let found = s.visible(&caller, hits, trust.as_deref());
            s.consult(&caller, "referrals", found.iter().map(|f| &f.hit))?;
            Ok(found
                .into_iter()
                .filter(|f| match &f.hit.content {
                    Content::Referral(r) => {
                        filter.platform.as_ref().is_none_or(|p| *p == r.platform)
                            && filter.status.is_none_or(|st| st == r.status)
                            && f.hit.retracted.is_none()
                    }
                    _ => false,
                })
                .collect())
        })
        .await
    }

    /// The figures per platform, from the referrals the caller may see.
    pub async fn referral_figures(self: &Arc<Self>, caller: Caller) -> Result<Vec<PlatformFigures>, ServiceError> {
        Ok(figures(&self.referrals(caller, ReferralFilter::default()).await?))
    }
}

/// One line of a takedown package: a subject, what was asked, and the
/// signed provenance a platform's law-enforcement portal can check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackageRow {
    pub referral: String,
    pub request: String,
    pub status: String,
    pub kind: String,
    pub value: String,
    /// A URL for the subject where it has one (URLs, profile links).
    pub url: Option<String>,
    pub first_seen_ms: Option<u64>,
    pub last_seen_ms: Option<u64>,
    pub submitted_ms: u64,
    pub reference: Option<String>,
    /// The agency that filed it, its key, and the record's signed envelope
    /// (hex): anyone with the key can check who said what.
    pub agency: String,
    pub agency_key: String,
    pub envelope: String,
}

impl Service {
    /// Every referral to `platform` the caller may see, one row per
    /// subject, ready to paste into the platform's portal. A package leaves
    /// the network: the policy's `referral` path decides, for the referral
    /// and for each subject's shared indicator, so a record whose latest
    /// version carries H2 without a recorded permission (or a label no
    /// export client gets) is left out; the audit entry counts them.
    pub async fn referral_package(
        self: &Arc<Self>,
        caller: Caller,
        platform: String,
    ) -> Result<Vec<PackageRow>, ServiceError> {
        let filter = ReferralFilter { platform: Some(platform.clone()), status: None };
        let referrals = self.referrals(caller.clone(), filter).await?;
        self.run(move |s| {
            let trust = s.data.store.trust();
            let mut rows = Vec::new();
            let mut withheld = std::collections::HashSet::new();
            let mut refused = 0usize;
            for f in &referrals {
                let Content::Referral(r) = &f.hit.content else { continue };
                match s.gate(&f.hit, Path::Referral)? {
                    Gate::Out => {}
                    Gate::Withheld => {
                        withheld.insert(f.hit.id);
                        continue;
                    }
                    Gate::Refused => {
                        refused += 1;
                        continue;
                    }
                }
                let envelope =
                    s.data.store.get(&f.hit.version)?.map(|r| hex::encode(r.envelope.to_bytes())).unwrap_or_default();
                for subject in &r.subjects {
                    // Seen dates come from the shared indicator, when there is one.
                    let seen = subject.record.map(|id| s.data.store.view(&id, trust.as_deref())).transpose()?.flatten();
                    if let Some(h) = &seen {
                        match s.gate(h, Path::Referral)? {
                            Gate::Out => {}
                            Gate::Withheld => {
                                withheld.insert(h.id);
                                continue;
                            }
                            Gate::Refused => {
                                refused += 1;
                                continue;
                            }
                        }
                    }
                    let (first, last) = match seen.as_ref().map(|h| &h.content) {
                        Some(Content::Indicator(i)) => (i.first_seen, i.last_seen),
                        _ => (None, None),
                    };
                    rows.push(PackageRow {
                        referral: f.hit.id.to_string(),
                        request: crate::interop::stix::request_name(r.request).to_string(),
                        status: r.status.as_str().to_string(),
                        kind: subject.kind.as_str().to_string(),
                        value: subject.value.clone(),
                        url: subject_url(subject.kind, &subject.value),
                        first_seen_ms: first,
                        last_seen_ms: last,
                        submitted_ms: r.submitted_ms,
                        reference: r.reference.clone(),
                        agency: f.author.clone(),
                        agency_key: f.hit.author.to_string(),
                        envelope: envelope.clone(),
                    });
                }
            }
            let caller = Caller { via: Path::Referral, ..caller };
            let mut detail = format!("platform {platform}: {} rows{}", rows.len(), withheld_note(withheld.len()));
            if refused > 0 {
                detail.push_str(&format!(", {refused} refused (label or channel)"));
            }
            s.audit_read(&caller, "referral.package", &detail)?;
            let shown: std::collections::HashSet<&str> = rows.iter().map(|r| r.referral.as_str()).collect();
            s.consult(
                &caller,
                "referral.package",
                referrals.iter().map(|f| &f.hit).filter(|h| shown.contains(h.id.to_string().as_str())),
            )?;
            Ok(rows)
        })
        .await
    }
}

/// A link a platform's reviewer can open, where the value has one.
fn subject_url(kind: Kind, value: &str) -> Option<String> {
    match kind {
        Kind::Url => Some(value.to_string()),
        Kind::Domain => Some(format!("https://{value}/")),
        Kind::TelegramHandle => Some(format!("https://t.me/{}", value.trim_start_matches('@'))),
        Kind::SocialProfile => {
            let (platform, handle) = value.split_once('/')?;
            let host = match platform {
                "facebook" => "www.facebook.com",
                "instagram" => "www.instagram.com",
                "tiktok" => "www.tiktok.com/@",
                "x" => "x.com",
                "youtube" => "www.youtube.com/@",
                "linkedin" => "www.linkedin.com/in",
                "telegram" => "t.me",
                _ => return None,
            };
            Some(if host.ends_with('@') {
                format!("https://{host}{handle}")
            } else {
                format!("https://{host}/{handle}")
            })
        }
        _ => None,
    }
}

/// Per-platform figures of `referrals`.
pub fn figures(referrals: &[Found]) -> Vec<PlatformFigures> {
    let mut by: BTreeMap<String, (PlatformFigures, Vec<f64>)> = BTreeMap::new();
    for f in referrals {
        let Content::Referral(r) = &f.hit.content else { continue };
        let (p, days) = by.entry(r.platform.clone()).or_default();
        p.platform = r.platform.clone();
        p.referrals += 1;
        *p.per_month.entry(month(r.submitted_ms)).or_default() += 1;
        match r.status {
            ReferralStatus::Submitted | ReferralStatus::Acknowledged => p.pending += 1,
            ReferralStatus::Declined => p.declined += 1,
            ReferralStatus::NoResponse => p.no_response += 1,
            _ => p.actioned += 1,
        }
        if r.status.is_actioned()
            && let Some(at) = r.status_ms
        {
            days.push(at.saturating_sub(r.submitted_ms) as f64 / DAY_MS);
        }
    }
    by.into_values()
        .map(|(mut p, mut days)| {
            days.sort_by(f64::total_cmp);
            p.median_days_to_action = percentile(&days, 0.5);
            p.p90_days_to_action = percentile(&days, 0.9);
            let outcomes = p.actioned + p.declined + p.no_response;
            p.share_declined_or_unanswered =
                (outcomes > 0).then(|| (p.declined + p.no_response) as f64 / outcomes as f64);
            p
        })
        .collect()
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `YYYY-MM` of a Unix ms instant (UTC).
pub fn month(ms: u64) -> String {
    crate::interop::stix::timestamp(ms).chars().take(7).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let days = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&days, 0.5), Some(5.0));
        assert_eq!(percentile(&days, 0.9), Some(9.0));
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(month(1_764_547_200_000), "2025-12");
    }
}
