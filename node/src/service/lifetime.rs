//! Records over their lifetime, as the agency meets them: the review queue
//! (what this agency published that is due for review), extending a record
//! with a signed revision, erasing records everywhere, and the sweep that
//! expires what is past due and removes every local copy derived from what
//! went (alerts, case links).

use std::sync::Arc;

use kawan_protocol::{Body, Content, Erasure, RecordId, processing::DAY_MS};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Published, Service, ServiceError};

/// Most due items one review queue lists.
const QUEUE_LIMIT: usize = 10_000;
/// Most due entries one sweep reads (the next sweep takes the rest).
const SWEEP_LIMIT: usize = 10_000;

/// One record of this agency due for review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItem {
    /// The knowledge (its original record id).
    pub id: String,
    /// indicator, typology, technique or referral.
    pub r#type: String,
    /// What it is: an indicator's value, a title, a platform.
    pub label: String,
    pub channel: String,
    /// When it must be reviewed (Unix ms): after this and a one-hour grace
    /// it expires on every node.
    pub due_ms: u64,
    /// The latest date an extension may set (Unix ms), under the network's
    /// retention policy; none where the policy sets no period.
    pub max_ms: Option<u64>,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Swept {
    pub expired: usize,
    pub alerts_removed: usize,
    pub case_links_removed: usize,
    /// Consultation log entries past the configured period, removed.
    pub consultations_expired: usize,
}

impl Service {
    /// This agency's knowledge due for review within `days`, soonest first.
    pub async fn review_queue(self: &Arc<Self>, caller: Caller, days: u64) -> Result<Vec<ReviewItem>, ServiceError> {
        self.run(move |s| {
            let now = s.now_ms();
            let store = &s.data.store;
            let trust = store.trust();
            let me = s.key.public();
            let membership = store.membership();
            let mine = |a| membership.as_deref().map_or(a == me, |m| m.same_agency(&a, &me));
            let due = store.due_between(0, now.saturating_add(days.saturating_mul(DAY_MS)), QUEUE_LIMIT)?;
            let mut out = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            for (_, id) in due {
                let Some(hit) = store.view(&id, trust.as_deref())? else { continue };
                if !mine(hit.author) || !seen.insert(hit.id) {
                    continue;
                }
                let Some(latest) = store.get(&hit.version)? else { continue };
                let Some(due_ms) = store.review_due(&latest.record) else { continue };
                out.push(ReviewItem {
                    id: hit.id.to_string(),
                    r#type: hit.content.family().as_str().into(),
                    label: label(&hit.content),
                    channel: hit.channel.to_string(),
                    due_ms,
                    max_ms: s.review_period(hit.content.family(), hit.content.subject()).map(|p| now.saturating_add(p)),
                });
            }
            out.sort_by_key(|i| i.due_ms);
            s.audit_read(&caller, "review list", &format!("{} due within {days} days", out.len()))?;
            Ok(out)
        })
        .await
    }

    /// Keeps a record past its review date: a signed revision of its
    /// current content with the new date, which must be after now and
    /// within the network's period from now. The reason is kept in the
    /// audit log (a data-protection officer asks for it).
    pub async fn extend_review(
        self: &Arc<Self>,
        caller: Caller,
        id: &str,
        until_ms: u64,
        reason: &str,
    ) -> Result<Published, ServiceError> {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(ServiceError::bad_request("invalid_value", "reason: say why the record is still needed"));
        }
        let id: RecordId = ServiceError::parse("id", id)?;
        let (root, content, group) = self
            .run(move |s| {
                let store = &s.data.store;
                let hit = store
                    .view(&id, store.trust().as_deref())?
                    .ok_or_else(|| ServiceError::not_found(format!("no record {id} in date")))?;
                let now = s.now_ms();
                if until_ms <= now {
                    return Err(ServiceError::bad_request(
                        "invalid_value",
                        "until: a review date must be in the future",
                    ));
                }
                if let Some(p) = s.review_period(hit.content.family(), hit.content.subject())
                    && until_ms > now.saturating_add(p)
                {
                    return Err(ServiceError::bad_request(
                        "beyond_retention",
                        format!(
                            "until: such records are kept at most {} days from now (the network's policy, or this agency's shorter one)",
                            p / DAY_MS
                        ),
                    ));
                }
                let mut content = hit.content.clone();
                set_review(&mut content, until_ms);
                let group = match &hit.channel {
                    kawan_protocol::Channel::Group(g) => Some(g.to_string()),
                    kawan_protocol::Channel::Network => None,
                };
                Ok((hit.id, content, group))
            })
            .await?;
        let published = self.publish_revision(caller.clone(), &root.to_string(), group.as_deref(), content).await?;
        let at = crate::clock::utc(until_ms);
        self.run(move |s| s.audit(&caller, "review extend", &format!("{root} until {at}: {reason}"))).await?;
        Ok(published)
    }

    /// Erases records of this agency (or, for a coordinator, of an agency
    /// no longer in the network) on every node: one signed erasure per
    /// channel. Erased here at once, with every local copy.
    pub async fn erase(
        self: &Arc<Self>,
        caller: Caller,
        ids: &[String],
        reason: &str,
    ) -> Result<Vec<Published>, ServiceError> {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(ServiceError::bad_request(
                "invalid_value",
                "reason: say why (without repeating what is erased)",
            ));
        }
        let ids: Vec<RecordId> = ids.iter().map(|i| ServiceError::parse("id", i)).collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Err(ServiceError::bad_request("invalid_value", "ids: name at least one record"));
        }
        // One erasure per channel (and at most a list's worth of ids each).
        let channels = self
            .run(move |s| {
                let mut by: std::collections::BTreeMap<String, Vec<RecordId>> = Default::default();
                for id in ids {
                    let r = s.data.store.get(&id)?.ok_or_else(|| ServiceError::not_found(format!("no record {id}")))?;
                    by.entry(r.record.header.channel.to_string()).or_default().push(id);
                }
                Ok(by)
            })
            .await?;
        let mut out = Vec::new();
        for (_, targets) in channels {
            for chunk in targets.chunks(kawan_protocol::limits::MAX_LIST_ITEMS) {
                let body = Body::Erasure(Erasure { targets: chunk.to_vec(), reason: reason.clone() });
                out.push(self.publish(caller.clone(), body, None).await?);
            }
        }
        self.sweep(Caller::system("erasure")).await?;
        Ok(out)
    }

    /// Expires what is past due, then removes local copies (alerts, case
    /// links) of every record that is gone, however it went (expired here,
    /// erased by a record from a peer).
    pub async fn sweep(self: &Arc<Self>, caller: Caller) -> Result<Swept, ServiceError> {
        self.run(move |s| {
            let expired = s.data.store.expire_due(SWEEP_LIMIT)?;
            let store = &s.data.store;
            let gone =
                |hex: &str| hex.parse::<RecordId>().is_ok_and(|id| store.tombstone(&id).ok().flatten().is_some());
            let alerts_removed = s.data.watch.forget(gone)?;
            let mut case_links_removed = 0;
            for case in s.data.cases.list()? {
                for link in &case.links {
                    if gone(link)
                        && let Ok(id) = link.parse::<RecordId>()
                    {
                        s.data.cases.unlink(case.id, &id)?;
                        case_links_removed += 1;
                    }
                }
            }
            let consultations_expired = s.expire_consultations()?;
            let swept = Swept { expired: expired.len(), alerts_removed, case_links_removed, consultations_expired };
            if swept.expired + swept.alerts_removed + swept.case_links_removed + consultations_expired > 0 {
                s.audit(
                    &caller,
                    "expire",
                    &format!(
                        "{} records past review erased; {} alerts and {} case links to gone records removed; {} consultations past the log's period removed",
                        swept.expired, swept.alerts_removed, swept.case_links_removed, consultations_expired
                    ),
                )?;
            }
            Ok(swept)
        })
        .await
    }
}

fn set_review(content: &mut Content, until_ms: u64) {
    match content {
        Content::Indicator(i) => i.review_ms = Some(until_ms),
        Content::Typology(t) => t.review_ms = Some(until_ms),
        Content::Technique(t) => t.review_ms = Some(until_ms),
        Content::Referral(r) => r.review_ms = Some(until_ms),
        Content::Request(r) => r.review_ms = Some(until_ms),
        Content::Answer(a) => a.review_ms = Some(until_ms),
    }
}

fn label(content: &Content) -> String {
    match content {
        Content::Indicator(i) => format!("{} {}", i.kind, i.value),
        Content::Typology(t) => t.title.clone(),
        Content::Technique(t) => t.title.clone(),
        Content::Referral(r) => format!("{} {:?}", r.platform, r.request),
        Content::Request(r) => format!("request: {}", r.question.chars().take(60).collect::<String>()),
        Content::Answer(a) => format!("answer to {}", a.request),
    }
}
