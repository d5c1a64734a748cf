//! New records spread as a self-pruning tree (Plumtree): a record just
//! stored is pushed whole to *eager* peers and announced by id to a few
//! *lazy* ones. A peer that receives a record it already has prunes the
//! sender (turns it lazy); a peer that hears of an id it lacks waits a
//! moment for the push, then asks the announcer, which turns that edge eager
//! again. The eager edges settle into a tree: each node receives each record
//! about once, plus a few 32-byte announcements.

use std::collections::BTreeMap;

use kawan_protocol::{Channel, Message, RecordId, limits::MAX_BATCH_RECORDS, sync::MAX_ANSWER_BYTES};
use serde_bytes::ByteBuf;

use super::{Incoming, Missing, Replica, budget::Offence};
use crate::policy::Path;

/// Most ids one `Have` or `Want` may carry.
const MAX_IDS: usize = 1024;

impl Replica {
    /// Sends newly stored records on: whole to eager peers, by id to a few
    /// lazy ones; never back to `from`, never to a peer the policy refuses.
    pub(super) fn spread(&mut self, from: Option<super::AgencyKey>, records: Vec<Incoming>) {
        if records.is_empty() {
            return;
        }
        let trust = self.store.trust();
        let mut pushes: BTreeMap<super::AgencyKey, Vec<ByteBuf>> = BTreeMap::new();
        let mut haves: BTreeMap<super::AgencyKey, Vec<RecordId>> = BTreeMap::new();
        for r in records {
            let channel = &r.header.channel;
            let path = match (channel, from) {
                (Channel::Network, _) => Path::Gossip,
                (Channel::Group(_), None) => Path::Push,
                (Channel::Group(_), Some(_)) => Path::Relay,
            };
            let mut lazy = Vec::new();
            for (peer, p) in &self.peers {
                if Some(*peer) == from || !self.policy_allows(trust.as_deref(), peer, channel, path) {
                    continue;
                }
                if p.eager {
                    pushes.entry(*peer).or_default().push(ByteBuf::from(r.bytes.clone()));
                } else {
                    lazy.push(*peer);
                }
            }
            for peer in self.rng.pick(&lazy, self.config.lazy_fanout) {
                haves.entry(peer).or_default().push(r.id);
            }
        }
        for (peer, records) in pushes {
            self.send(peer, Message::Push { records });
        }
        for (peer, ids) in haves {
            self.send(peer, Message::Have { ids });
        }
    }

    /// Whether a record is here or on its way into the store.
    fn known(&self, id: &RecordId) -> bool {
        self.storing.contains(id) || self.store.contains(id).unwrap_or(false)
    }

    /// Reads received envelopes; malformed ones and ones of channels the
    /// sender may not send us cost it. Returns those that are new here.
    pub(super) fn receive(&mut self, from: super::AgencyKey, records: Vec<ByteBuf>, solicited: bool) -> Vec<Incoming> {
        let trust = self.store.trust();
        let shared = self.shared(trust.as_deref(), &from);
        let mut fresh = Vec::new();
        let mut duplicates = 0;
        for bytes in records.into_iter().take(MAX_BATCH_RECORDS) {
            let Some(r) = Incoming::read(bytes.into_vec()) else {
                self.penalise(from, Offence::Malformed);
                continue;
            };
            if !shared.contains(&r.header.channel) {
                self.penalise(from, Offence::NotEntitled);
                continue;
            }
            if self.known(&r.id) || fresh.iter().any(|f: &Incoming| f.id == r.id) {
                duplicates += 1;
                continue;
            }
            fresh.push(r);
        }
        if solicited {
            self.stats.fetched_twice += duplicates;
        } else {
            self.stats.duplicate_pushes += duplicates;
            // Someone else was faster: this edge need not push.
            if duplicates > 0 && self.peers.get(&from).is_some_and(|p| p.eager) {
                if let Some(p) = self.peers.get_mut(&from) {
                    p.eager = false;
                }
                self.send(from, Message::Prune);
            }
        }
        fresh
    }

    pub(super) fn on_push(&mut self, from: super::AgencyKey, records: Vec<ByteBuf>) {
        if !self.admit_records(&from, records.len()) {
            return;
        }
        let fresh = self.receive(from, records, false);
        self.store(Some(from), false, fresh);
    }

    pub(super) fn on_have(&mut self, from: super::AgencyKey, ids: Vec<RecordId>) {
        if !self.admit_records(&from, ids.len()) {
            return;
        }
        let now = self.now;
        for id in ids.into_iter().take(MAX_IDS) {
            if self.known(&id) {
                continue;
            }
            let m = self.missing.entry(id).or_insert(Missing { since_ms: now, announcers: Vec::new(), asked: None });
            if !m.announcers.contains(&from) {
                m.announcers.push(from);
            }
        }
    }

    /// Asks for announced records that no push delivered in time, one
    /// announcer at a time; an unanswered ask moves to the next announcer.
    pub(super) fn ask_missing(&mut self) {
        let (wait, timeout, now) = (self.config.have_wait_ms, self.config.want_timeout_ms, self.now);
        let mut asks: BTreeMap<super::AgencyKey, Vec<RecordId>> = BTreeMap::new();
        self.missing.retain(|_, m| !m.announcers.is_empty() || m.asked.is_some());
        for (id, m) in self.missing.iter_mut() {
            let due = match m.asked {
                None => now.saturating_sub(m.since_ms) >= wait,
                Some((_, at)) => now.saturating_sub(at) >= timeout,
            };
            if !due {
                continue;
            }
            if let Some((peer, _)) = m.asked {
                m.announcers.retain(|a| *a != peer);
            }
            match m.announcers.first().copied() {
                Some(peer) => {
                    m.asked = Some((peer, now));
                    asks.entry(peer).or_default().push(*id);
                }
                None => m.asked = None,
            }
        }
        for (peer, ids) in asks {
            // Asking is grafting: this edge carries records again.
            if let Some(p) = self.peers.get_mut(&peer) {
                p.eager = true;
            }
            for chunk in ids.chunks(MAX_IDS) {
                self.send(peer, Message::Want { ids: chunk.to_vec() });
            }
        }
    }

    pub(super) fn on_want(&mut self, from: super::AgencyKey, ids: Vec<RecordId>) {
        if !self.admit_records(&from, ids.len()) {
            return;
        }
        let trust = self.store.trust();
        let mut records = Vec::new();
        let mut bytes = 0;
        for id in ids.into_iter().take(MAX_IDS) {
            let Ok(Some(r)) = self.store.get(&id) else { continue };
            let channel = &r.record.header.channel;
            let path = if *channel == Channel::Network { Path::Gossip } else { Path::Relay };
            if !Self::eligible(trust.as_deref(), channel, &r.record.header.author, self.now)
                || !self.policy_allows(trust.as_deref(), &from, channel, path)
            {
                continue;
            }
            let envelope = r.envelope.to_bytes();
            if bytes + envelope.len() > MAX_ANSWER_BYTES || records.len() >= MAX_BATCH_RECORDS {
                break;
            }
            bytes += envelope.len();
            records.push(ByteBuf::from(envelope));
        }
        if let Some(p) = self.peers.get_mut(&from) {
            p.eager = true;
        }
        if !records.is_empty() {
            self.send(from, Message::Batch { records, more: false });
        }
    }
}
