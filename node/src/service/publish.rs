//! Publishing: normalise, sign, store durably, announce, audit.

use std::sync::Arc;

use kawan_protocol::{
    Basis, Body, Channel, Content, Country, Evaluation, GroupId, Handling, Indicator, IndicatorRole, Kind, RecordId,
    Revision, Subject, Tlp, Verified, normalize,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::net::Command;

/// A new indicator. The value may be written any way an analyst pastes it;
/// it is normalised before signing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIndicator {
    /// phone, email, url, domain, ip, telegram_handle, line_id, wechat_id,
    /// social_profile, tron_address, evm_address, btc_address, bank_account,
    /// company_name, app_id, image_hash
    pub kind: String,
    pub value: String,
    /// recruiter_contact, job_ad, scam_platform, payment, laundering, infrastructure
    #[schema(value_type = String)]
    pub role: IndicatorRole,
    /// suspect, victim or unknown (default)
    #[schema(value_type = Option<String>)]
    pub subject: Option<Subject>,
    /// 0-100 (default 50)
    pub confidence: Option<u8>,
    /// fact or assessment (default)
    #[schema(value_type = Option<String>)]
    pub basis: Option<Basis>,
    /// clear, green, amber, amber+strict (red stays local: use a case)
    pub tlp: String,
    /// The sharing group, required for AMBER.
    pub group: Option<String>,
    pub platform: Option<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    /// Ids of typology records this indicator belongs to.
    #[serde(default)]
    pub typologies: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub first_seen: Option<u64>,
    pub last_seen: Option<u64>,
    pub valid_until: Option<u64>,
    /// When this agency reviews whether it is still needed (Unix ms).
    /// Default: the network's retention period from now; it may be earlier,
    /// never later.
    pub review_ms: Option<u64>,
    /// Handling codes, comma-separated: H0 (default: prevention and
    /// investigation), H1 (not as evidence without permission), H2 (not
    /// outside the network without permission), H3 (other, in `handling_other`).
    pub handling: Option<String>,
    /// The restrictions of an H3, in words.
    pub handling_other: Option<String>,
    /// Source reliability A/B/C/X and information assessment 1–4, e.g. "B2".
    pub evaluation: Option<String>,
}

/// What publishing produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub id: String,
    pub channel: String,
    pub seq: u64,
    /// The normalised value, for indicators.
    pub value: Option<String>,
    pub warnings: Vec<String>,
}

impl Published {
    fn of(v: &Verified) -> Published {
        Published {
            id: v.id.to_string(),
            channel: v.record.header.channel.to_string(),
            seq: v.record.header.seq,
            value: match &v.record.body {
                Body::Indicator(i) => Some(i.value.clone()),
                _ => None,
            },
            warnings: vec![],
        }
    }
}

/// The sharing group a form or request names ("" or none: the network).
pub fn group_field(g: Option<&str>) -> Result<Option<GroupId>, ServiceError> {
    GroupId::from_field(g.unwrap_or("")).map_err(|e| ServiceError::field("group", e))
}

/// How long publishing waits for a catch-up a peer's heads promise and no
/// record delivers.
pub const OWN_LOG_WAIT_MS: u64 = 10 * 60 * 1000;

impl Service {
    /// Normalises, signs, stores and announces an indicator; normalisation
    /// warnings come back with the result.
    pub async fn publish_indicator(
        self: &Arc<Self>,
        caller: Caller,
        new: NewIndicator,
    ) -> Result<Published, ServiceError> {
        let (indicator, warnings) = self.indicator(&new)?;
        let group = group_field(new.group.as_deref())?;
        let mut out = self.publish(caller, Body::Indicator(indicator), group).await?;
        out.warnings = warnings;
        Ok(out)
    }

    /// A new version of one of this agency's records; an indicator's value
    /// is normalised again.
    pub async fn publish_revision(
        self: &Arc<Self>,
        caller: Caller,
        supersedes: &str,
        group: Option<&str>,
        mut content: Content,
    ) -> Result<Published, ServiceError> {
        let supersedes: RecordId = ServiceError::parse("supersedes", supersedes)?;
        // A request's values are checked before they are asked, and an
        // answer's audience is bounded by its request's: both change only
        // through their own routes.
        if let Content::Request(_) | Content::Answer(_) = &content {
            return Err(ServiceError::invalid(
                "use_requests",
                "requests and answers change through /api/v1/requests/{id}/status (the asker's status and useful marks)",
            ));
        }
        let group = group_field(group)?;
        if let Content::Indicator(i) = &mut content {
            i.value = self.normalize(i.kind, &i.value)?;
        }
        self.publish(caller, Body::Revision(Revision { supersedes, content }), group).await
    }

    /// Signs, stores (durably) and announces one record.
    pub async fn publish(
        self: &Arc<Self>,
        caller: Caller,
        body: Body,
        group: Option<GroupId>,
    ) -> Result<Published, ServiceError> {
        self.run(move |s| s.publish_now(&caller, body, group)).await
    }

    /// Refuses to sign with a key the trust list has retired: every node
    /// would refuse the record. The node must restart to take its new key.
    /// A node behind its own log waits for the catch-up, at most
    /// [`OWN_LOG_WAIT_MS`] while its log does not move.
    fn signing_key_in_force(&self) -> Result<(), ServiceError> {
        let me = self.key.public();
        let retired = self.data.store.membership().is_some_and(|t| t.retired(&me).is_some());
        if retired {
            return Err(ServiceError::invalid(
                "key_retired",
                "the trust list retired this node's key: restart the node to sign with its new key \
                 (kawan status explains)",
            ));
        }
        // A node restored from a backup is behind its own log: a peer holds
        // records it signed after the snapshot. Signing now would fork the
        // log (an equivocation); catching up first takes seconds.
        if let Some(net) = self.net.get() {
            let peers = net.peers.read().unwrap_or_else(|e| e.into_inner());
            let now = self.now_ms();
            let mut waiting = self.own_log_behind.lock().unwrap_or_else(|e| e.into_inner());
            for head in peers.peers.values().flat_map(|p| p.heads.iter()).filter(|h| h.author == me) {
                let ours = self.data.store.head(&head.channel, &me)?;
                if ours < head.seq {
                    // A peer's word alone: if our log has not moved for
                    // OWN_LOG_WAIT_MS while it says so, no record backs it
                    // (a peer that lies about our head must not stop us
                    // publishing, erasures included).
                    let (at, since) = *waiting.entry(head.channel.clone()).or_insert((ours, now));
                    if at != ours {
                        waiting.insert(head.channel.clone(), (ours, now));
                    } else if now.saturating_sub(since) >= OWN_LOG_WAIT_MS {
                        tracing::warn!(
                            channel = %head.channel, ours, theirs = head.seq,
                            "a peer says this agency's log is further than any record shows; publishing anyway"
                        );
                        continue;
                    }
                    return Err(ServiceError::new(
                        super::Fault::Conflict,
                        "own_log_behind",
                        format!(
                            "a peer holds record {} of this agency's {} log and this node does not yet                              (restored from a backup?): publish again once it has caught up (kawan peers)",
                            head.seq, head.channel
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn publish_now(&self, caller: &Caller, body: Body, group: Option<GroupId>) -> Result<Published, ServiceError> {
        self.signing_key_in_force()?;
        self.check_attachments(&body)?;
        let intent = body.type_name();
        let v = self.audited(
            caller,
            "publish",
            intent,
            || {
                let published = self.data.store.publish(&self.key, &self.config.agency.network, body, group);
                published.inspect_err(|_| self.metrics.publish_failed()).map_err(ServiceError::from)
            },
            |v| format!("{} {}", v.record.body.type_name(), v.id),
        )?;
        self.attachments_named(&v.record.body);
        self.announce(&v);
        self.look_at_own(&[v.id], caller);
        Ok(Published::of(&v))
    }

    /// This agency's new records may match what its other analysts watch.
    fn look_at_own(&self, ids: &[RecordId], caller: &Caller) {
        if let Err(e) = self.look_at(caller, ids) {
            tracing::error!(error = %e.message, "looking at a new record for watched values failed");
        }
    }

    /// Publishes many bodies in one durable write (TAXII POST, imports); one
    /// audit entry for the lot, a result per body.
    pub async fn publish_many(
        self: &Arc<Self>,
        caller: Caller,
        items: Vec<(Body, Option<GroupId>)>,
    ) -> Result<Vec<Result<Published, ServiceError>>, ServiceError> {
        self.run(move |s| {
            s.signing_key_in_force()?;
            let n = items.len();
            // A body naming a file this node does not hold is refused on
            // its own; the others go in the batch.
            let checks: Vec<Result<(), ServiceError>> = items.iter().map(|(b, _)| s.check_attachments(b)).collect();
            let items = items.into_iter().zip(&checks).filter(|(_, c)| c.is_ok()).map(|(item, _)| item).collect();
            let stored = s.audited(
                &caller,
                "publish",
                &format!("{n} records in one batch"),
                || Ok(s.data.store.publish_batch(&s.key, &s.config.agency.network, items)),
                |results| format!("{} of {n} records", results.iter().filter(|r| r.is_ok()).count()),
            )?;
            let mut stored = stored.into_iter();
            let results = checks.into_iter().filter_map(|c| match c {
                Ok(()) => stored.next().map(|r| {
                    r.map_err(|e| {
                        s.metrics.publish_failed();
                        ServiceError::from(e)
                    })
                }),
                Err(refused) => Some(Err(refused)),
            });
            Ok(results
                .map(|r| {
                    r.map(|v| {
                        s.attachments_named(&v.record.body);
                        s.announce(&v);
                        s.look_at_own(&[v.id], &caller);
                        Published::of(&v)
                    })
                })
                .collect())
        })
        .await
    }

    /// Counts a new record and hands it to the network (which asks the
    /// policy who may receive it).
    fn announce(&self, v: &Verified) {
        // What this agency holds changed: the deconfliction filter follows.
        self.deconflict.touch();
        self.metrics.published(&v.record.body, &v.record.header.channel);
        // A full queue is not a failure: sync delivers the record later.
        if let Some(net) = self.net.get()
            && !net.send(Command::Announce(Box::new(v.clone())))
        {
            tracing::warn!(id = %v.id, "network busy: the record will reach peers by sync");
        }
    }

    /// A value in its normal form, or why it has none.
    pub fn normalize(&self, kind: Kind, value: &str) -> Result<String, ServiceError> {
        normalize(kind, value, &self.normalize_context()).map(|n| n.value).map_err(|e| {
            ServiceError::invalid("invalid_value", e.to_string())
                .with_details(serde_json::json!({"field": "value", "kind": kind.as_str()}))
        })
    }

    /// The review date a new record of `family` signs: the one asked for
    /// (after now, within the network's period), or the period from now.
    /// How long this agency may keep a record of `family` before review:
    /// the network's period, or this agency's shorter one (`[publishing]
    /// review_days`); `None` where neither sets one.
    pub fn review_period(&self, family: kawan_protocol::Family, subject: Option<Subject>) -> Option<u64> {
        let network = self.data.store.retention().period_ms(family, subject);
        let own = self.config().publishing.review_period_ms(family, subject);
        match (network, own) {
            (Some(n), Some(o)) => Some(n.min(o)),
            (n, o) => n.or(o),
        }
    }

    pub fn review_date(
        &self,
        family: kawan_protocol::Family,
        subject: Option<Subject>,
        asked: Option<u64>,
    ) -> Result<Option<u64>, ServiceError> {
        let now = self.now_ms();
        let max = self.review_period(family, subject).map(|p| now.saturating_add(p));
        match (asked, max) {
            (Some(a), _) if a <= now => {
                Err(ServiceError::invalid("invalid_value", "review_ms: a review date must be in the future"))
            }
            (Some(a), Some(m)) if a > m => Err(ServiceError::invalid(
                "beyond_retention",
                format!(
                    "review_ms: such records are kept at most {} days before review (the network's policy, or this agency's shorter one)",
                    (m - now) / kawan_protocol::processing::DAY_MS
                ),
            )),
            (Some(a), _) => Ok(Some(a)),
            (None, m) => Ok(m),
        }
    }

    /// An indicator from its submitted form, and the normaliser's warnings.
    fn indicator(&self, r: &NewIndicator) -> Result<(Indicator, Vec<String>), ServiceError> {
        let kind: Kind = ServiceError::parse("kind", &r.kind)?;
        let n = normalize(kind, &r.value, &self.normalize_context()).map_err(|e| {
            ServiceError::invalid("invalid_value", e.to_string())
                .with_details(serde_json::json!({"field": "value", "kind": kind.as_str()}))
        })?;
        let subject = r.subject.unwrap_or(Subject::Unknown);
        // The agency's defaults, where the analyst gave none.
        let defaults = &self.config().publishing;
        let (handling_codes, handling_other) = match &r.handling {
            Some(_) => (r.handling.clone(), r.handling_other.clone()),
            None if r.handling_other.is_some() => (None, r.handling_other.clone()),
            None => (defaults.handling.clone(), defaults.handling_other.clone()),
        };
        let r_evaluation = r.evaluation.clone().or_else(|| defaults.evaluation.clone());
        let handling = match &handling_codes {
            Some(codes) => Some(
                Handling::parse(codes, handling_other.clone())
                    .map_err(|e| ServiceError::invalid("invalid_value", format!("handling: {e}")))?,
            )
            .filter(|h| !h.is_open()),
            None if handling_other.is_some() => {
                return Err(ServiceError::invalid("invalid_value", "handling_other: give handling H3 with it"));
            }
            None => None,
        };
        let evaluation = r_evaluation
            .as_deref()
            .map(|e| e.trim().to_uppercase().parse::<Evaluation>())
            .transpose()
            .map_err(|e| ServiceError::invalid("invalid_value", format!("evaluation: {e}")))?;
        let review_ms = self.review_date(kawan_protocol::Family::Indicator, Some(subject), r.review_ms)?;
        let ind = Indicator {
            evaluation,
            handling,
            review_ms,
            kind,
            value: n.value,
            role: r.role,
            subject,
            confidence: r.confidence.unwrap_or(50),
            basis: r.basis.unwrap_or(Basis::Assessment),
            tlp: ServiceError::parse::<Tlp>("tlp", &r.tlp)?,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            valid_until: r.valid_until,
            platform: r.platform.as_ref().map(|p| p.trim().to_lowercase()),
            countries: r
                .countries
                .iter()
                .map(|c| ServiceError::parse::<Country>("countries", c))
                .collect::<Result<_, _>>()?,
            typologies: r
                .typologies
                .iter()
                .map(|t| ServiceError::parse::<RecordId>("typologies", t))
                .collect::<Result<_, _>>()?,
            tags: r.tags.clone(),
            description: r.description.clone().filter(|d| !d.trim().is_empty()),
        };
        Ok((ind, n.warnings.iter().map(ToString::to_string).collect()))
    }
}

impl Service {
    /// The indicator a STIX object sent to a TAXII collection becomes, and
    /// its group (the collection's), or why it cannot be one. TLP comes
    /// from the object's markings, defaulting to the collection's lowest.
    pub fn body_from_stix(&self, channel: &Channel, o: &serde_json::Value) -> Result<(Body, Option<GroupId>), String> {
        let incoming = crate::interop::stix::read_indicator(o)?;
        let value = self.normalize(incoming.kind, &incoming.value).map_err(|e| e.message)?;
        let default_tlp = if *channel == Channel::Network { Tlp::Green } else { Tlp::Amber };
        let role = incoming.role.unwrap_or(IndicatorRole::RecruiterContact);
        let mut indicator = Indicator::new(incoming.kind, value, role, incoming.tlp.unwrap_or(default_tlp));
        if let Some(subject) = incoming.subject {
            indicator.subject = subject;
        }
        if let Some(basis) = incoming.basis {
            indicator.basis = basis;
        }
        indicator.confidence = incoming.confidence.unwrap_or(50);
        indicator.tags = incoming.tags;
        indicator.description = incoming.description;
        let group = match channel {
            Channel::Group(g) => Some(g.clone()),
            Channel::Network => None,
        };
        Ok((Body::Indicator(indicator), group))
    }
}
