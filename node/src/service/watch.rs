//! Watchlists and alerts: what analysts watch, what matched, and telling
//! them (the API, server-sent events). Nothing about a match leaves the node.

use std::sync::Arc;

use kawan_protocol::{Body, Kind, RecordId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::{
    local::tokens::Role,
    local::watch::{Alert, Entry, WatchError, values_of},
    policy::{Item, Onward, Path, Recipient},
};

/// One item of the live alert feed.
#[derive(Debug, Clone)]
pub enum AlertEvent {
    Alert(Box<Alert>),
    /// The reader fell behind and missed this many alerts.
    Lagged(u64),
}

/// A value to watch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWatch {
    pub kind: String,
    /// Any form; it is normalised.
    pub value: String,
    pub note: Option<String>,
    /// Stop alerting after this instant (Unix ms).
    pub expires_ms: Option<u64>,
}

impl From<WatchError> for ServiceError {
    fn from(e: WatchError) -> ServiceError {
        match e {
            WatchError::NoEntry(_) | WatchError::NoAlert(_) => ServiceError::not_found(e.to_string()),
            other => ServiceError::internal(other),
        }
    }
}

/// What a webhook alert carries in place of a value that may not leave.
pub const WITHHELD: &str = "(withheld: open the alert in Kawan)";

impl Service {
    pub async fn watch(self: &Arc<Self>, caller: Caller, new: NewWatch) -> Result<Entry, ServiceError> {
        let kind: Kind = ServiceError::parse("kind", &new.kind)?;
        let value = self.normalize(kind, &new.value)?;
        self.run(move |s| {
            let note = new.note.filter(|n| !n.trim().is_empty());
            let add = || Ok(s.data.watch.add(&caller.name, kind, value.clone(), note, new.expires_ms)?);
            let entry =
                s.audited(&caller, "watch.add", &format!("{kind} {value}"), add, |e| format!("entry {}", e.id))?;
            s.deconflict.touch();
            Ok(entry)
        })
        .await
    }

    pub async fn unwatch(self: &Arc<Self>, caller: Caller, id: u64) -> Result<Entry, ServiceError> {
        self.run(move |s| {
            let entry = s.data.watch.get(id)?;
            if entry.owner != caller.name && caller.role != Role::Operator {
                return Err(ServiceError::forbidden("not_owner", format!("watch entry {id} is {}'s", entry.owner)));
            }
            let entry = s.audited(
                &caller,
                "watch.remove",
                &id.to_string(),
                || Ok(s.data.watch.remove(id)?),
                |_| String::new(),
            )?;
            s.deconflict.touch();
            Ok(entry)
        })
        .await
    }

    /// The watchlist: the caller's own entries (operators see everyone's).
    pub async fn watchlist(self: &Arc<Self>, caller: Caller) -> Result<Vec<Entry>, ServiceError> {
        self.run(move |s| {
            let all = s.data.watch.entries()?;
            s.audit_read(&caller, "watch.list", "")?;
            Ok(all.into_iter().filter(|e| caller.role == Role::Operator || e.owner == caller.name).collect())
        })
        .await
    }

    /// How many of the caller's alerts are unacknowledged: a count for the
    /// page header, which shows no record (so it is no consultation).
    pub async fn unread_alerts(self: &Arc<Self>, caller: Caller) -> Result<usize, ServiceError> {
        self.run(move |s| {
            let alerts = s.data.watch.alerts(4000)?;
            Ok(alerts.iter().filter(|a| for_caller(a, &caller) && a.acknowledged_by.is_none()).take(1000).count())
        })
        .await
    }

    /// Alerts for the caller, newest first: those of its own watch entries
    /// and every case match (operators see all).
    pub async fn alerts(self: &Arc<Self>, caller: Caller, limit: usize) -> Result<Vec<Alert>, ServiceError> {
        self.run(move |s| {
            let alerts = s.data.watch.alerts(limit.clamp(1, 1000) * 4)?;
            s.audit_read(&caller, "alerts.list", "")?;
            let shown: Vec<Alert> =
                alerts.into_iter().filter(|a| for_caller(a, &caller)).take(limit.clamp(1, 1000)).collect();
            s.consult_ids(&caller, "alerts", shown.iter().map(|a| (a.root.clone(), s.about_victim(&a.root))))?;
            Ok(shown)
        })
        .await
    }

    pub async fn acknowledge_alert(self: &Arc<Self>, caller: Caller, id: u64) -> Result<Alert, ServiceError> {
        self.run(move |s| {
            let alert = s.data.watch.alert(id)?;
            if !for_caller(&alert, &caller) {
                return Err(ServiceError::not_found(format!("no alert {id}")));
            }
            s.audited(
                &caller,
                "alert.ack",
                &id.to_string(),
                || Ok(s.data.watch.acknowledge(id, &caller.name)?),
                |_| String::new(),
            )
        })
        .await
    }

    /// Alerts the webhook could not deliver (operators).
    pub async fn dead_letters(
        self: &Arc<Self>,
        caller: Caller,
    ) -> Result<Vec<crate::local::watch::DeadLetter>, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            s.audit_read(&caller, "alerts.dead_letters", "")?;
            Ok(s.data.watch.dead_letters()?)
        })
        .await
    }

    /// A live feed of the caller's new alerts.
    pub fn subscribe_alerts(&self) -> tokio::sync::broadcast::Receiver<Alert> {
        self.alerts.subscribe()
    }

    /// New alerts `caller` may see, as they are raised (what the REST and
    /// web live feeds wrap); `Lagged` when a slow reader missed some.
    ///
    /// Each alert sent is a consultation (logged with the caller's purpose);
    /// where a purpose is required, a stream without one is refused.
    pub fn alert_stream(
        self: &Arc<Self>,
        caller: Caller,
    ) -> Result<impl futures::Stream<Item = AlertEvent> + Send + 'static + use<>, ServiceError> {
        self.require_purpose(&caller)?;
        let svc = self.clone();
        Ok(futures::stream::unfold((self.alerts.subscribe(), caller, svc), |(mut rx, caller, svc)| async move {
            loop {
                match rx.recv().await {
                    Ok(alert) if for_caller(&alert, &caller) => {
                        let victim = svc.about_victim(&alert.root);
                        if let Err(e) = svc.consult_ids(&caller, "alerts.stream", [(alert.root.clone(), victim)]) {
                            tracing::warn!(error = %e.message, "an alert was not sent: its consultation could not be logged");
                            continue;
                        }
                        return Some((AlertEvent::Alert(Box::new(alert)), (rx, caller, svc)));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        return Some((AlertEvent::Lagged(n), (rx, caller, svc)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }

    /// An alert as it may leave for the agency's case system (`[alerts]
    /// webhook`), through the policy gate like any export: a record that
    /// may not leave the network (H2 without permission, AMBER+STRICT, a
    /// channel not readable here) goes as its id only, the value withheld.
    /// Logged as a consultation by "webhook". Blocking.
    pub fn alert_for_webhook(&self, mut alert: Alert) -> Result<Alert, ServiceError> {
        let trust = self.data.store.trust();
        let hit = alert
            .root
            .parse::<RecordId>()
            .ok()
            .map(|id| self.data.store.view(&id, trust.as_deref()))
            .transpose()?
            .flatten();
        let out = match &hit {
            Some(h) => self.gate(h, Path::Webhook)? == super::export::Gate::Out,
            None => false,
        };
        if !out {
            alert.value = WITHHELD.to_string();
        }
        let caller = Caller {
            name: "webhook".into(),
            role: crate::local::tokens::Role::Operator,
            via: Path::Webhook,
            purpose: Some("alert to the agency's case system".into()),
        };
        let victim = hit.as_ref().is_some_and(|h| h.content.subject() == Some(kawan_protocol::Subject::Victim));
        if out {
            self.consult_ids(&caller, "alerts.webhook", [(alert.root.clone(), victim)])?;
        }
        Ok(alert)
    }

    /// Whether the knowledge `root` (hex id) is about a victim, as this node
    /// holds it now (for the consultation log's victim flag).
    pub(super) fn about_victim(&self, root: &str) -> bool {
        let Ok(id) = root.parse::<RecordId>() else { return false };
        let trust = self.data.store.trust();
        self.data
            .store
            .view(&id, trust.as_deref())
            .ok()
            .flatten()
            .is_some_and(|h| h.content.subject() == Some(kawan_protocol::Subject::Victim))
    }

    /// Looks at records new here for watched values: from peers (the
    /// system caller) or published here by a token holder, whose own watch
    /// entries are not told about their own records. An alert shows a
    /// record to the agency's analysts, so each record is put to the policy
    /// first, on the system path (the node's own work for them, whoever
    /// published the record). Blocking.
    pub fn look_at(&self, caller: &Caller, ids: &[RecordId]) -> Result<Vec<Alert>, ServiceError> {
        let by = (caller.via != Path::System).then_some(caller.name.as_str());
        let now = self.now_ms();
        let me = self.key.public();
        let trust = self.data.store.trust();
        let mut raised = Vec::new();
        for id in ids {
            let Some(r) = self.data.store.get(id)? else { continue };
            // A fork or a record that waits for a retired key's chain raises nothing.
            if self.data.store.is_withdrawn(&r)? {
                continue;
            }
            let h = &r.record.header;
            let shown = Item::Record { channel: &h.channel, tlp: r.record.body.tlp(), onward: Onward::Free };
            if !self.allows(shown, Recipient::Analyst, Path::System) {
                continue;
            }
            let (root, mut values) = match &r.record.body {
                Body::Sighting(sg) => {
                    let target = self.data.store.view(&sg.target, trust.as_deref())?;
                    (sg.target, target.map(|t| values_of(&content_body(t.content))).unwrap_or_default())
                }
                // A request's revisions change its status or useful marks,
                // never its values: they were looked at when it arrived.
                Body::Revision(rv) if matches!(rv.content, kawan_protocol::Content::Request(_)) => continue,
                Body::Revision(rv) => (rv.supersedes, values_of(&r.record.body)),
                body => (*id, values_of(body)),
            };
            values.sort();
            values.dedup();
            let mut decayed: Option<bool> = None;
            for (kind, value) in values {
                let watches: Vec<Entry> = self
                    .data
                    .watch
                    .watching(kind, &value, now)?
                    .into_iter()
                    .filter(|e| by != Some(e.owner.as_str()))
                    .collect();
                // A value this agency's own records carry in a case: an
                // alert only when another agency speaks about it.
                let cases = if h.author == me { vec![] } else { self.cases_with(kind, &value, Some(id))? };
                // A partner asks about a value this agency published: the
                // analysts may have the answer. (Nothing is sent back.)
                let ours = match &r.record.body {
                    Body::Request(_) if h.author != me => self.own_records_with(kind, &value)?,
                    _ => vec![],
                };
                if watches.is_empty() && cases.is_empty() && ours.is_empty() {
                    continue;
                }
                // A value whose score decayed below the network's floor
                // (and that nobody here pinned) raises no alert.
                let is_decayed = match decayed {
                    Some(d) => d,
                    None => {
                        // (Pins are kept under the knowledge's root id.)
                        let view = self.data.store.view(&root, trust.as_deref())?;
                        let d = match view {
                            Some(v) => v.is_decayed(now) && self.data.pins.get(&v.id.0)?.is_none(),
                            None => false,
                        };
                        *decayed.insert(d)
                    }
                };
                if is_decayed {
                    continue;
                }
                let mut for_owners: Vec<String> = watches.iter().map(|w| w.owner.clone()).collect();
                for_owners.dedup();
                let alert = Alert {
                    id: 0,
                    created_ms: now,
                    record: id.to_string(),
                    root: root.to_string(),
                    r#type: r.record.body.type_name().to_string(),
                    author: h.author.to_string(),
                    author_name: self.author_name(&h.author, trust.as_deref()),
                    channel: h.channel.to_string(),
                    kind,
                    value,
                    watches: watches.iter().map(|w| w.id).collect(),
                    cases,
                    ours,
                    for_owners,
                    acknowledged_by: None,
                };
                raised.push(alert);
            }
        }
        // One durable write for the batch's alerts.
        let raised = self.data.watch.raise_all(raised)?;
        for alert in &raised {
            self.metrics.alert_raised();
            // No one listening is fine: the alert is stored.
            let _ = self.alerts.send(alert.clone());
        }
        Ok(raised)
    }

    /// This agency's own records (any key it signed with) that carry `value`.
    fn own_records_with(&self, kind: Kind, value: &str) -> Result<Vec<String>, ServiceError> {
        let me = self.key.public();
        let membership = self.data.store.membership();
        let mut out = Vec::new();
        for id in self.data.store.ids_with_value(kind, value)? {
            let Some(r) = self.data.store.get(&id)? else { continue };
            let by = r.record.header.author;
            if membership.as_ref().map_or(by == me, |m| m.same_agency(&by, &me)) {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    /// Local cases holding `value` themselves or linking a record (other
    /// than `except`) that carries it.
    pub(super) fn cases_with(
        &self,
        kind: Kind,
        value: &str,
        except: Option<&RecordId>,
    ) -> Result<Vec<u64>, ServiceError> {
        let mut cases = self.data.cases.cases_with_value(kind, value)?;
        for rid in self.data.store.ids_with_value(kind, value)? {
            if Some(&rid) == except {
                continue;
            }
            for c in self.data.cases.cases_for(&rid)? {
                if !cases.contains(&c) {
                    cases.push(c);
                }
            }
        }
        Ok(cases)
    }
}

/// An alert is for the owners of the entries it matched; case matches are
/// for every analyst; operators see all.
pub fn for_caller(a: &Alert, caller: &Caller) -> bool {
    caller.role == Role::Operator || !a.cases.is_empty() || !a.ours.is_empty() || a.for_owners.contains(&caller.name)
}

pub(super) fn content_body(c: kawan_protocol::Content) -> Body {
    Body::from(c)
}
