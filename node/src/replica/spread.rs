//! New records spread by announcement. An author pushes its new record to
//! its peers; every other node, once it has stored a new record, announces
//! the record's 8-byte short id to each peer that may see it and has not
//! announced it first. A node that hears of a record it lacks asks the
//! first announcer at once, and the next one if no answer comes within the
//! peer's measured round trip (or at once if it answers "missing").
//! Anti-entropy's index answers feed the same queue: asking is the one way
//! a record body is fetched, one peer at a time per record.
//!
//! Each node so downloads each record once (no duplicate bodies, unlike
//! flooding gossip), announcements reach every connected node (every edge
//! carries the id in at least one direction), and a record travels one hop
//! per announce–ask–answer round trip.

use std::collections::BTreeMap;

use kawan_protocol::{
    AgencyKey, Channel, Envelope, Message, RecordId,
    limits::{MAX_BATCH_RECORDS, MAX_ENVELOPE_BYTES},
    sync::{MAX_ANSWER_BYTES, ShortId, pack, short_id, unpack},
};
use serde_bytes::ByteBuf;

use super::{Ask, Incoming, MAX_MISSING, Missing, Replica, Rtt, budget::Offence};
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
            // Never back to whoever sent or announced it, nor to its author.
            // (Pushing on eagerly from the author's peers cut the second
            // hop's round trip but sent each node there a copy from every
            // neighbour of the author's it shares: 9 × the envelope in a
            // network of 10, 1.9 × at 100; docs/benchmarks.md.)
            for peer in self.peers.keys() {
                if Some(*peer) == from || announced.contains(peer) || *peer == r.header.author {
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

    /// Remembers a stored record by short id (older ones are found in the
    /// store: `Store::id_by_short`); returns who announced it to us.
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
        self.storing.get(&short_id(id)) == Some(id) || self.store.contains(id).unwrap_or(false)
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
        self.store(Some(from), fresh);
    }

    /// `from` holds the record `short` (it announced it, or listed it in
    /// an index): awaited if we lack it. False when too many are awaited.
    pub(super) fn offered(&mut self, from: AgencyKey, short: ShortId, announced: bool) -> bool {
        if self.recent.contains_key(&short) || self.storing.contains_key(&short) {
            return true;
        }
        if self.missing.len() >= MAX_MISSING && !self.missing.contains_key(&short) {
            return false;
        }
        let m = self.missing.entry(short).or_insert(Missing {
            announcers: Vec::new(),
            announced: Vec::new(),
            asked: None,
            tries: 0,
            arrived: false,
            since: self.now,
        });
        if !m.announcers.contains(&from) {
            m.announcers.push(from);
        }
        if announced && !m.announced.contains(&from) {
            m.announced.push(from);
        }
        true
    }

    pub(super) fn on_have(&mut self, from: AgencyKey, ids: ByteBuf) {
        let ids: Vec<ShortId> = unpack(&ids).take(MAX_IDS).collect();
        if !self.admit_records(&from, ids.len()) {
            return;
        }
        for short in ids {
            self.offered(from, short, true);
        }
        self.ask_missing();
    }

    /// How long to wait for `peer`'s answer with `in_flight` records asked
    /// of it: its measured round trip (or the configured timeout before
    /// one is measured), and 2 ms a record for the answer's size.
    fn patience(&self, peer: &AgencyKey, in_flight: u64) -> u64 {
        let rtt = self.peers.get(peer).and_then(|p| p.rtt);
        rtt.map_or(self.config.want_timeout_ms, Rtt::patience) + 2 * in_flight
    }

    /// Asks for awaited records: the first announcer at once, the next
    /// one when an ask goes unanswered past that peer's patience;
    /// remembers the earliest deadline (`wake_at`).
    pub(super) fn ask_missing(&mut self) {
        let now = self.now;
        // An answer carrying many records takes longer to arrive.
        let mut in_flight: BTreeMap<AgencyKey, u64> = BTreeMap::new();
        for (peer, _) in self.missing.values().filter(|m| !m.arrived).filter_map(|m| m.asked) {
            *in_flight.entry(peer).or_default() += 1;
        }
        let patience: BTreeMap<AgencyKey, u64> =
            in_flight.iter().map(|(peer, n)| (*peer, self.patience(peer, *n))).collect();
        let mut asks: BTreeMap<AgencyKey, Vec<ShortId>> = BTreeMap::new();
        let mut wake = u64::MAX;
        self.missing.retain(|_, m| m.arrived || !m.announcers.is_empty());
        for (short, m) in self.missing.iter_mut() {
            if m.arrived {
                continue;
            }
            if let Some((peer, at)) = m.asked {
                let deadline = at + (patience.get(&peer).copied().unwrap_or(0) << m.tries.min(6));
                if now < deadline {
                    wake = wake.min(deadline);
                    continue;
                }
            }
            if let Some((peer, _)) = m.asked {
                // Unanswered: that announcer goes to the back of the queue.
                m.announcers.retain(|a| *a != peer);
                m.announcers.push(peer);
            }
            if let Some(peer) = m.announcers.first().copied() {
                // The same peer again (it is the only one): twice as long
                // to wait each time, as TCP backs off.
                m.tries = if m.asked.is_some_and(|(p, _)| p == peer) { m.tries.saturating_add(1) } else { 0 };
                m.asked = Some((peer, now));
                asks.entry(peer).or_default().push(*short);
            }
        }
        for (peer, ids) in asks {
            let n = in_flight.get(&peer).copied().unwrap_or(0) + ids.len() as u64;
            wake = wake.min(now + self.patience(&peer, n));
            // One answer carries at most this many records: one ask each.
            for chunk in ids.chunks(MAX_BATCH_RECORDS) {
                let req = self.req();
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.asks.insert(req, Ask { at: now, ids: chunk.to_vec() });
                }
                self.send(peer, Message::Want { req, ids: pack(chunk) });
            }
        }
        self.wake_ms = wake;
    }

    /// The answer to our ask `req`: its records are stored, what it said
    /// it lacks goes to the next announcer at once, and what it left out
    /// is asked for again at once — of it, if the answer is at a size
    /// bound; otherwise it counts as "missing" (an answer that delivers
    /// nothing and says nothing is no way to keep a record awaited from
    /// oneself). A batch answering no ask of ours (a late answer after the
    /// ask expired) is taken like a push: charged to the sender's budget.
    pub(super) fn on_batch(&mut self, from: AgencyKey, req: u32, records: Vec<ByteBuf>, missing: ByteBuf) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(&from) else { return };
        let Some(ask) = p.asks.remove(&req) else {
            if self.admit_records(&from, records.len()) {
                let fresh = self.receive(from, records, true);
                self.store(Some(from), fresh);
            }
            return;
        };
        p.ignored = 0;
        p.rtt = Some(Rtt::sample(p.rtt, now.saturating_sub(ask.at)));
        let asked: std::collections::BTreeSet<ShortId> = ask.ids.iter().copied().collect();
        let before = records.len();
        let bytes: usize = records.iter().map(|r| r.len()).sum();
        let at_bound = before >= MAX_BATCH_RECORDS || bytes + MAX_ENVELOPE_BYTES > MAX_ANSWER_BYTES;
        let records: Vec<ByteBuf> = records
            .into_iter()
            .filter(|b| Envelope::from_bytes(b).is_ok_and(|e| asked.contains(&short_id(&e.id()))))
            .collect();
        if records.len() < before {
            // Records it was not asked for (or unreadable ones), in an answer.
            self.penalise(from, Offence::Malformed);
        }
        let fresh = self.receive(from, records, true);
        self.store(Some(from), fresh);
        let mut missing: Vec<ShortId> = unpack(&missing).take(MAX_IDS).collect();
        for short in &ask.ids {
            if let Some(m) = self.missing.get_mut(short)
                && !m.arrived
                && m.asked.is_some_and(|(p, _)| p == from)
                && !missing.contains(short)
            {
                if at_bound {
                    // Left out for the answer's bounds: asked again now,
                    // of the same peer first (it holds them).
                    m.asked = None;
                    m.tries = 0;
                } else {
                    missing.push(*short);
                }
            }
        }
        self.not_held(from, &missing);
    }

    /// A peer answered our ask "missing" for these: it is no announcer of
    /// them any more, and the next announcer is asked at once. Having
    /// announced one of them is withholding.
    pub(super) fn not_held(&mut self, from: AgencyKey, missing: &[ShortId]) {
        let mut withheld = false;
        for short in missing {
            let Some(m) = self.missing.get_mut(short) else { continue };
            withheld |= m.announced.contains(&from);
            m.announcers.retain(|a| *a != from);
            m.announced.retain(|a| *a != from);
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
            // Stored lately, or older (a pull's index lists any record).
            let id = match self.recent.get(&short) {
                Some(id) => Some(*id),
                None => self.store.id_by_short(&short).ok().flatten(),
            };
            let Some(id) = id else {
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
        self.send(from, Message::Batch { req, records, missing: pack(&missing) });
    }
}
