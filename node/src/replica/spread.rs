//! New records spread by announcement. An author pushes its new record to
//! its peers; every other node, once it has stored a new record, announces
//! the record's 8-byte short id to each peer that may see it and has not
//! announced it first. A node that hears of a record it lacks asks the
//! first announcer at once, and the next one if no answer comes in time.
//!
//! Each node so downloads each record once (no duplicate bodies, unlike
//! flooding gossip), announcements reach every connected node (every edge
//! carries the id in at least one direction), and a record travels one hop
//! per announce–ask–answer round trip.

use std::collections::BTreeMap;

use kawan_protocol::{
    AgencyKey, Channel, Envelope, Message, RecordId,
    limits::MAX_BATCH_RECORDS,
    sync::{MAX_ANSWER_BYTES, ShortId, pack, short_id, unpack},
};
use serde_bytes::ByteBuf;

use super::{Incoming, MAX_MISSING, Missing, Replica, budget::Offence};
use crate::policy::Path;

/// Most ids one `Have` or `Want` may carry.
const MAX_IDS: usize = 1024;
/// Records remembered by short id (for announcements and asks).
const RECENT: usize = 200_000;

impl Replica {
    /// Sends newly stored records on: this agency's own records pushed to
    /// every peer, others announced by short id to every peer that did not
    /// announce them to us; never to a peer the policy refuses.
    pub(super) fn spread(&mut self, from: Option<AgencyKey>, records: Vec<Incoming>) {
        if records.is_empty() {
            return;
        }
        let trust = self.store.membership();
        let mut pushes: BTreeMap<AgencyKey, Vec<ByteBuf>> = BTreeMap::new();
        let mut haves: BTreeMap<AgencyKey, Vec<ShortId>> = BTreeMap::new();
        for r in records {
            let short = short_id(&r.id);
            let announced = self.remember(short, r.id);
            let channel = &r.header.channel;
            let path = match (channel, from) {
                (Channel::Network, _) => Path::Gossip,
                (Channel::Group(_), None) => Path::Push,
                (Channel::Group(_), Some(_)) => Path::Relay,
            };
            for peer in self.peers.keys() {
                if Some(*peer) == from || announced.contains(peer) {
                    continue;
                }
                if !self.policy_allows(trust.as_deref(), peer, channel, path) {
                    continue;
                }
                match from {
                    None => pushes.entry(*peer).or_default().push(ByteBuf::from(r.bytes.clone())),
                    Some(_) => haves.entry(*peer).or_default().push(short),
                }
            }
        }
        // A peer we push to will hold what we pushed: its lag follows now,
        // not at the next heads exchange.
        for (peer, records) in &pushes {
            for r in records.iter().filter_map(|b| Envelope::from_bytes(b).ok()?.peek_header().ok()) {
                self.saw(peer, &r);
            }
        }
        for (peer, records) in pushes {
            self.send(peer, Message::Push { records });
        }
        for (peer, ids) in haves {
            for chunk in ids.chunks(MAX_IDS) {
                self.send(peer, Message::Have { ids: pack(chunk) });
            }
        }
    }

    /// Remembers a stored record by short id; returns who announced it to us.
    fn remember(&mut self, short: ShortId, id: RecordId) -> Vec<AgencyKey> {
        if self.recent.insert(short, id).is_none() {
            self.recent_order.push_back(short);
            while self.recent_order.len() > RECENT {
                if let Some(old) = self.recent_order.pop_front() {
                    self.recent.remove(&old);
                }
            }
        }
        self.missing.remove(&short).map(|m| m.announcers).unwrap_or_default()
    }

    /// Whether a record is here or on its way into the store.
    fn known(&self, id: &RecordId) -> bool {
        self.storing.contains(id) || self.store.contains(id).unwrap_or(false)
    }

    /// Reads received envelopes; malformed ones and ones of channels the
    /// sender may not send us cost it. Returns those that are new here.
    /// `peer` holds the record `header` names: its head for that log is at
    /// least there (what the Network page's lag reads between exchanges).
    pub(super) fn saw(&mut self, peer: &AgencyKey, header: &kawan_protocol::Header) {
        let Some(p) = self.peers.get_mut(peer) else { return };
        match p.seen.iter_mut().find(|h| h.channel == header.channel && h.author == header.author) {
            Some(h) => h.seq = h.seq.max(header.seq),
            None => p.seen.push(kawan_protocol::Head {
                channel: header.channel.clone(),
                author: header.author,
                seq: header.seq,
            }),
        }
    }

    pub(super) fn receive(&mut self, from: AgencyKey, records: Vec<ByteBuf>, solicited: bool) -> Vec<Incoming> {
        let trust = self.store.membership();
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
            self.saw(&from, &r.header);
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
        }
        fresh
    }

    pub(super) fn on_push(&mut self, from: AgencyKey, records: Vec<ByteBuf>) {
        if !self.admit_records(&from, records.len()) {
            return;
        }
        let fresh = self.receive(from, records, false);
        self.store(Some(from), false, fresh);
    }

    pub(super) fn on_have(&mut self, from: AgencyKey, ids: ByteBuf) {
        let ids: Vec<ShortId> = unpack(&ids).take(MAX_IDS).collect();
        if !self.admit_records(&from, ids.len()) {
            return;
        }
        let now = self.now;
        for short in ids {
            if self.recent.contains_key(&short) || self.storing.iter().any(|id| short_id(id) == short) {
                continue;
            }
            if self.missing.len() >= MAX_MISSING && !self.missing.contains_key(&short) {
                continue;
            }
            let m = self.missing.entry(short).or_insert(Missing { announcers: Vec::new(), asked: None, since: now });
            if !m.announcers.contains(&from) {
                m.announcers.push(from);
            }
        }
        self.ask_missing();
    }

    /// Asks for announced records: the first announcer at once, the next
    /// one when an ask goes unanswered.
    pub(super) fn ask_missing(&mut self) {
        let (timeout, now) = (self.config.want_timeout_ms, self.now);
        // An answer carrying many records takes longer to arrive.
        let in_flight: BTreeMap<AgencyKey, u64> =
            self.missing.values().filter_map(|m| m.asked).fold(BTreeMap::new(), |mut n, (peer, _)| {
                *n.entry(peer).or_default() += 1;
                n
            });
        let mut asks: BTreeMap<AgencyKey, Vec<ShortId>> = BTreeMap::new();
        self.missing.retain(|_, m| !m.announcers.is_empty());
        for (short, m) in self.missing.iter_mut() {
            let due = match m.asked {
                None => true,
                Some((peer, at)) => {
                    let patience = timeout + 2 * in_flight.get(&peer).copied().unwrap_or(0);
                    now.saturating_sub(at) >= patience
                }
            };
            if !due {
                continue;
            }
            if let Some((peer, _)) = m.asked {
                // Unanswered: that announcer goes to the back of the queue.
                m.announcers.retain(|a| *a != peer);
                m.announcers.push(peer);
            }
            if let Some(peer) = m.announcers.first().copied() {
                m.asked = Some((peer, now));
                asks.entry(peer).or_default().push(*short);
            }
        }
        for (peer, ids) in asks {
            for chunk in ids.chunks(MAX_IDS) {
                let req = self.req();
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.asks.insert(req, now);
                }
                self.send(peer, Message::Want { req, ids: pack(chunk) });
            }
        }
    }

    /// A peer answered our ask "missing" for these: it is no announcer of
    /// them any more, and the next announcer is asked at once. Having
    /// announced one of them is withholding.
    pub(super) fn not_held(&mut self, from: AgencyKey, missing: &[u8]) {
        let mut withheld = false;
        for short in unpack(missing).take(MAX_IDS) {
            let Some(m) = self.missing.get_mut(&short) else { continue };
            withheld |= m.announcers.contains(&from);
            m.announcers.retain(|a| *a != from);
            if m.asked.is_some_and(|(p, _)| p == from) {
                m.asked = None;
            }
        }
        if withheld {
            self.penalise(from, Offence::Withholding);
        }
        self.ask_missing();
    }

    pub(super) fn on_want(&mut self, from: AgencyKey, req: u32, ids: ByteBuf) {
        let ids: Vec<ShortId> = unpack(&ids).take(MAX_IDS).collect();
        if !self.admit_records(&from, ids.len()) {
            return;
        }
        let trust = self.store.membership();
        let mut records = Vec::new();
        let mut missing = Vec::new();
        let mut bytes = 0;
        for short in ids {
            let Some(id) = self.recent.get(&short).copied() else {
                missing.push(short);
                continue;
            };
            let Ok(Some(r)) = self.store.get(&id) else {
                missing.push(short);
                continue;
            };
            let channel = &r.record.header.channel;
            let path = if *channel == Channel::Network { Path::Gossip } else { Path::Relay };
            // A fork of a current key's log spreads as proof; one that is
            // void, or waits for a retired key's chain, spreads nowhere.
            let withdrawn = self
                .store
                .withdrawal(&r)
                .map_or(true, |w| w.is_some_and(|w| !matches!(w, crate::store::Withdrawn::Fork)));
            if !Self::eligible(trust.as_deref(), channel, &r.record.header.author, self.now)
                || trust.as_deref().is_some_and(|t| t.vouches(&r.record.header, self.now).is_err())
                || withdrawn
                || !self.policy_allows(trust.as_deref(), &from, channel, path)
            {
                missing.push(short);
                continue;
            }
            let envelope = r.envelope.to_bytes();
            if bytes + envelope.len() > MAX_ANSWER_BYTES || records.len() >= MAX_BATCH_RECORDS {
                // Not "missing": asked again, it comes in the next answer.
                break;
            }
            bytes += envelope.len();
            records.push(ByteBuf::from(envelope));
        }
        // Always an answer, even an empty one: the asker stops waiting.
        self.send(from, Message::Batch { req, records, more: false, missing: pack(&missing) });
    }
}
