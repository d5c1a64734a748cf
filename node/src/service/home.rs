//! The analyst's home page: what changed since the last visit, what waits
//! for them, how the network is doing, and the last weeks in figures.

use std::{collections::BTreeMap, sync::Arc};

use kawan_protocol::Content;

use super::{Caller, Found, Service, ServiceError};
use crate::{local::watch::Alert, store::Query};

const WEEK_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// Weeks the charts cover.
pub const WEEKS: usize = 8;
/// How far ahead the home page's review list looks, in days.
const HOME_REVIEW_DAYS: u64 = 30;
/// Records the figures are computed from, at most.
const SCAN: usize = 20_000;

/// Counts by name, largest first.
pub type Tally = Vec<(String, u64)>;

pub struct Home {
    /// The caller's previous visit (None: the first).
    pub last_visit_ms: Option<u64>,
    /// Partners' records created since then: total, by agency, kind, channel.
    pub new_total: u64,
    pub new_by_agency: Tally,
    pub new_by_kind: Tally,
    pub new_by_channel: Tally,
    pub unread_alerts: Vec<Alert>,
    /// This agency's records due for review in the next 30 days, soonest
    /// first: extend, leave to expire, or erase.
    pub review_due: Vec<super::ReviewItem>,
    pub pending_contacts: usize,
    /// This agency's indicators past their `valid_until`: re-check or retract.
    pub expired: Vec<Found>,
    /// Records this agency's cases use, revised by their authors since the
    /// last visit.
    pub revised: Vec<Found>,
    /// Partners' requests for information still open.
    pub requests_to_us: Vec<super::RequestThread>,
    /// Our requests with answers since the last visit, and how many.
    pub answered: Vec<(super::RequestThread, usize)>,
    /// Our open requests past their deadline without an answer.
    pub overdue: usize,
    pub members: usize,
    pub connected: usize,
    /// Start of each charted week (Unix ms), oldest first.
    pub weeks: Vec<u64>,
    /// Per week: records by kind (indicators) or type, and by agency.
    pub weekly_by_kind: BTreeMap<String, Vec<u64>>,
    pub weekly_by_agency: BTreeMap<String, Vec<u64>>,
    pub top_platforms: Tally,
    pub top_countries: Tally,
}

fn tally(m: BTreeMap<String, u64>) -> Tally {
    let mut v: Tally = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// What a hit is called on the home page: an indicator's kind, else its type.
fn kind_of(f: &Found) -> String {
    match &f.hit.content {
        Content::Indicator(i) => i.kind.to_string(),
        other => other.family().to_string(),
    }
}

impl Service {
    pub async fn home(self: &Arc<Self>, caller: Caller) -> Result<Home, ServiceError> {
        let alerts = self.alerts(caller.clone(), 200).await?;
        let review_due = self.review_queue(caller.clone(), HOME_REVIEW_DAYS).await?;
        let contacts = self.contacts(caller.clone()).await?;
        let peers = self.peers().await.unwrap_or_default();
        let to_us = self.requests(caller.clone(), super::RequestScope::ToUs, None).await?;
        let ours = self.requests(caller.clone(), super::RequestScope::Ours, None).await?;
        let now = self.now_ms();
        let first_week = (now / WEEK_MS + 1).saturating_sub(WEEKS as u64) * WEEK_MS;
        let mut home = self
            .run(move |s| {
                let last_visit_ms = last_visit(s, &caller.name, now)?;
                let trust = s.data.store.trust();
                let q = Query { since_ms: Some(first_week), limit: SCAN, ..Query::default() };
                let hits = s.data.store.search(&q, &s.normalize_context())?.unwrap_or_default();
                let found = s.visible(&caller, hits, trust.as_deref());
                let me = s.own_keys();
                let mut h = Home {
                    last_visit_ms,
                    new_total: 0,
                    new_by_agency: vec![],
                    new_by_kind: vec![],
                    new_by_channel: vec![],
                    unread_alerts: vec![],
                    review_due: vec![],
                    pending_contacts: 0,
                    expired: vec![],
                    revised: vec![],
                    requests_to_us: vec![],
                    answered: vec![],
                    overdue: 0,
                    members: 0,
                    connected: 0,
                    weeks: (0..WEEKS as u64).map(|w| first_week + w * WEEK_MS).collect(),
                    weekly_by_kind: BTreeMap::new(),
                    weekly_by_agency: BTreeMap::new(),
                    top_platforms: vec![],
                    top_countries: vec![],
                };
                let (mut agency, mut kind, mut channel) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
                let (mut platforms, mut countries) = (BTreeMap::new(), BTreeMap::new());
                let since = last_visit_ms.unwrap_or(now.saturating_sub(24 * 60 * 60 * 1000));
                for f in &found {
                    let week = ((f.hit.created_ms.saturating_sub(first_week)) / WEEK_MS) as usize;
                    if week < WEEKS {
                        h.weekly_by_kind.entry(kind_of(f)).or_insert_with(|| vec![0; WEEKS])[week] += 1;
                        h.weekly_by_agency.entry(f.author.clone()).or_insert_with(|| vec![0; WEEKS])[week] += 1;
                    }
                    if let Content::Indicator(i) = &f.hit.content {
                        if let Some(p) = &i.platform {
                            *platforms.entry(p.clone()).or_insert(0) += 1;
                        }
                        for c in &i.countries {
                            *countries.entry(c.as_str().to_string()).or_insert(0) += 1;
                        }
                    }
                    if !me.contains(&f.hit.author) && f.hit.created_ms >= since {
                        h.new_total += 1;
                        *agency.entry(f.author.clone()).or_insert(0) += 1;
                        *kind.entry(kind_of(f)).or_insert(0) += 1;
                        *channel.entry(f.hit.channel.to_string()).or_insert(0) += 1;
                    }
                }
                h.new_by_agency = tally(agency);
                h.new_by_kind = tally(kind);
                h.new_by_channel = tally(channel);
                h.top_platforms = tally(platforms).into_iter().take(8).collect();
                h.top_countries = tally(countries).into_iter().take(8).collect();
                // Own indicators past their validity, of any age.
                let own = Query { limit: SCAN, ..Query::default() };
                for author in &me {
                    let q = Query { author: Some(*author), ..own.clone() };
                    let hits = s.data.store.search(&q, &s.normalize_context())?.unwrap_or_default();
                    for f in s.visible(&caller, hits, trust.as_deref()) {
                        if let Content::Indicator(i) = &f.hit.content
                            && i.valid_until.is_some_and(|v| v < now)
                            && f.hit.retracted.is_none()
                        {
                            h.expired.push(f);
                        }
                    }
                }
                // Records the cases use, revised since the last visit.
                for case in s.data.cases.list()? {
                    for id in case.links.iter().filter_map(|l| l.parse().ok()) {
                        if let Some(hit) = s.data.store.view(&id, trust.as_deref())?
                            && hit.revisions > 0
                            && hit.updated_ms >= since
                            && !h.revised.iter().any(|f| f.hit.id == hit.id)
                        {
                            h.revised.push(s.found(hit, trust.as_deref(), true));
                        }
                    }
                }
                h.members = trust.as_ref().map_or(0, |t| t.members.len());
                // The records the dashboard lists by name are consulted.
                s.consult(&caller, "home", h.expired.iter().chain(&h.revised).map(|f| &f.hit))?;
                Ok(h)
            })
            .await?;
        home.unread_alerts = alerts.into_iter().filter(|a| a.acknowledged_by.is_none()).collect();
        home.review_due = review_due;
        home.pending_contacts = contacts
            .iter()
            .filter(|c| {
                c.direction == crate::local::deconflict::Direction::Incoming
                    && c.status == crate::local::deconflict::ContactStatus::Pending
            })
            .count();
        home.connected = peers.iter().filter(|p| p.connected && !p.me).count();
        let since = home.last_visit_ms.unwrap_or(now.saturating_sub(24 * 60 * 60 * 1000));
        home.overdue = ours.iter().filter(|t| t.overdue).count();
        home.answered = ours
            .into_iter()
            .filter_map(|t| {
                let new = t.answers.iter().filter(|a| a.hit.created_ms >= since).count();
                (new > 0).then_some((t, new))
            })
            .collect();
        home.requests_to_us = to_us;
        Ok(home)
    }
}

/// The caller's previous visit to the home page, and this one remembered.
fn last_visit(s: &Service, name: &str, now: u64) -> Result<Option<u64>, ServiceError> {
    let key = format!("last_visit/{name}").into_bytes();
    let before = s.data.local().get("meta", &key)?.and_then(|v| v.get(..8)?.try_into().ok()).map(u64::from_be_bytes);
    let mut batch = crate::store::engine::Batch::default();
    batch.insert("meta", key, now.to_be_bytes().to_vec());
    s.data.local().commit_buffered(batch)?;
    Ok(before)
}
