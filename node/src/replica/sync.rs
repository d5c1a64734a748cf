//! Anti-entropy: whatever announcements missed (a lost message, a node that
//! was offline, a healed partition) is repaired by comparing, then pulling.
//!
//! 1. Now and then (and on every new connection) a node sends one peer a
//!    digest of its heads on the channels both may see. Equal digests: done.
//! 2. Otherwise the peer answers with its heads; each side pulls what it
//!    lacks, one pull per peer and per log in flight, in answers bounded by
//!    bytes ([`MAX_ANSWER_BYTES`]) far below the codec limit.
//! 3. Heads and answers leave out logs whose records the receiver would
//!    refuse (authors no longer members, or not in the group), so nothing
//!    is fetched twice and no log waits forever behind a refusal.
//!
//! Trust lists travel the same way, paged.

use kawan_protocol::{
    AgencyKey, ChannelHeads, Head, Membership, Message, NetworkId, RecordId, Want, limits::MAX_BATCH_RECORDS,
    sync::MAX_ANSWER_BYTES,
};
use serde_bytes::ByteBuf;

use super::{Replica, budget::Offence};
use crate::policy::Path;

/// Most logs one pull asks for.
const MAX_WANTS: usize = 256;

impl Replica {
    /// The trust list in force, if `network` is ours; a peer speaking for
    /// another network is penalised.
    fn of_network(&mut self, from: AgencyKey, network: &NetworkId) -> Option<std::sync::Arc<Membership>> {
        let trust = self.store.membership()?;
        if trust.network.as_ref() != Some(network) {
            self.penalise(from, Offence::Protocol);
            return None;
        }
        Some(trust)
    }

    /// Our heads on the channels both we and `peer` may see, leaving out
    /// logs a receiver would refuse, with the id of each head record.
    fn heads_for(&self, trust: Option<&Membership>, peer: &AgencyKey) -> Vec<(Head, RecordId)> {
        let shared = self.shared(trust, peer);
        if shared.is_empty() {
            return Vec::new();
        }
        let heads = self.store.heads(Some(&shared)).unwrap_or_default();
        heads
            .into_iter()
            .filter(|h| h.seq > 0 && Self::eligible(trust, &h.channel, &h.author, self.now))
            // A retired key's log ends where the trust list says, whatever
            // else was stored before the cutoff arrived.
            .map(|mut h| {
                h.seq = h.seq.min(trust.map_or(u64::MAX, |t| t.log_end(&h.author, &h.channel)));
                h
            })
            // Nor do we offer what waits for a retired key's anchored chain.
            .filter(|h| h.seq > 0 && self.store.checked_from(&h.channel, &h.author).is_ok_and(|from| from <= 1))
            .filter_map(|h| {
                let id = self.store.log_slot(&h.channel, &h.author, h.seq).ok().flatten()?;
                Some((h, id))
            })
            .collect()
    }

    pub(super) fn send_digest(&mut self, peer: AgencyKey) {
        let Some(trust) = self.store.membership() else { return };
        let Some(network) = trust.network.clone() else { return };
        let heads = self.heads_for(Some(&trust), &peer);
        let digest = kawan_protocol::sync::digest(&heads);
        self.send(peer, Message::Digest { network, digest, trust_version: trust.version });
    }

    pub(super) fn on_digest(&mut self, from: AgencyKey, network: NetworkId, digest: [u8; 32], trust_version: u64) {
        if !self.admit_exchange(&from, Some(trust_version)) {
            return;
        }
        let Some(trust) = self.of_network(from, &network) else { return };
        // Trust lists first: the heads that matter depend on them.
        if trust_version < trust.version {
            self.send_trust_page(from, trust_version);
        } else if trust_version > trust.version {
            self.send(from, Message::TrustLists { after_version: trust.version });
        }
        let ours = self.heads_for(Some(&trust), &from);
        if kawan_protocol::sync::digest(&ours) != digest && trust_version == trust.version {
            let channels = compact(&trust, ours.into_iter().map(|(h, _)| h));
            self.send(from, Message::Heads { network, trust_version, channels, reply: false });
        }
    }

    pub(super) fn on_heads(
        &mut self,
        from: AgencyKey,
        network: NetworkId,
        trust_version: u64,
        channels: Vec<ChannelHeads>,
        reply: bool,
    ) {
        if !self.admit_exchange(&from, Some(trust_version)) {
            return;
        }
        let Some(trust) = self.of_network(from, &network) else { return };
        // Positions only mean something in the same trust list; the digest
        // exchange brings the lists level first.
        if trust_version != trust.version {
            return;
        }
        let heads: Vec<Head> = channels
            .into_iter()
            .flat_map(|c| {
                let trust = &trust;
                c.seqs.into_iter().filter_map(move |(pos, seq)| {
                    Some(Head { channel: c.channel.clone(), author: *trust.at(pos)?, seq })
                })
            })
            .collect();
        let shared = self.shared(Some(&trust), &from);
        let now = self.now;
        let theirs: Vec<Head> = heads
            .into_iter()
            .filter(|h| shared.contains(&h.channel) && Self::eligible(Some(&trust), &h.channel, &h.author, now))
            .map(|mut h| {
                h.seq = h.seq.min(trust.log_end(&h.author, &h.channel));
                h
            })
            .collect();
        let ours = self.heads_for(Some(&trust), &from);
        let they_lack = ours.iter().any(|(o, _)| {
            theirs.iter().find(|t| t.channel == o.channel && t.author == o.author).is_none_or(|t| t.seq < o.seq)
        });
        let at = self.now + self.config.pull_delay_ms;
        if let Some(p) = self.peers.get_mut(&from) {
            p.heads = theirs;
            p.pull_at.get_or_insert(at);
        }
        if !reply && they_lack {
            let channels = compact(&trust, ours.into_iter().map(|(h, _)| h));
            self.send(from, Message::Heads { network, trust_version, channels, reply: true });
        }
    }

    /// Pulls from `peer` the logs its last heads show ahead of ours, except
    /// logs already being pulled from someone; one pull per peer in flight.
    pub(super) fn pull_from(&mut self, peer: AgencyKey) {
        let Some(p) = self.peers.get(&peer) else { return };
        if p.pull.is_some() {
            return;
        }
        let theirs = p.heads.clone();
        let mut wants = Vec::new();
        for h in theirs {
            let log = (h.channel.clone(), h.author);
            if self.pulling.get(&log).is_some_and(|from| *from != peer) {
                continue;
            }
            let have = self.store.head(&h.channel, &h.author).unwrap_or(0);
            if h.seq > have {
                wants.push(Want {
                    channel: h.channel,
                    author: h.author,
                    after_seq: have,
                    limit: MAX_BATCH_RECORDS as u32,
                });
                if wants.len() >= MAX_WANTS {
                    break;
                }
            }
        }
        let (now, req) = (self.now, self.req());
        let Some(p) = self.peers.get_mut(&peer) else { return };
        p.pull_again = false;
        if wants.is_empty() {
            return;
        }
        p.pull = Some((req, now));
        for w in &wants {
            self.pulling.insert((w.channel.clone(), w.author), peer);
        }
        self.send(peer, Message::Pull { req, wants });
    }

    /// Serves a pull: only logs the policy lets `from` have and whose
    /// records it would accept, at most [`MAX_ANSWER_BYTES`].
    pub(super) fn on_pull(&mut self, from: AgencyKey, req: u32, wants: Vec<Want>) {
        // A pull costs what it asks for, like any request for records.
        let asked: usize = wants.iter().take(MAX_WANTS).map(|w| (w.limit as usize).min(MAX_BATCH_RECORDS)).sum();
        if !self.admit_records(&from, asked.min(MAX_BATCH_RECORDS)) {
            return;
        }
        let trust = self.store.membership();
        let mut records = Vec::new();
        let mut bytes = 0;
        let mut more = false;
        'logs: for w in wants.into_iter().take(MAX_WANTS) {
            if !Self::eligible(trust.as_deref(), &w.channel, &w.author, self.now)
                || !self.policy_allows(trust.as_deref(), &from, &w.channel, Path::PullAnswer)
            {
                continue;
            }
            let room = MAX_BATCH_RECORDS.saturating_sub(records.len());
            let end = trust.as_deref().map_or(u64::MAX, |t| t.log_end(&w.author, &w.channel));
            let left = usize::try_from(end.saturating_sub(w.after_seq)).unwrap_or(usize::MAX);
            let limit = (w.limit as usize).min(room).min(left);
            if left == 0 {
                continue;
            }
            if limit == 0 {
                more = true;
                break;
            }
            let Ok(batch) = self.store.log_after(&w.channel, &w.author, w.after_seq, limit) else { continue };
            let full = batch.len() == limit;
            for envelope in batch {
                if bytes + envelope.len() > MAX_ANSWER_BYTES {
                    more = true;
                    break 'logs;
                }
                bytes += envelope.len();
                records.push(ByteBuf::from(envelope));
            }
            more |= full;
        }
        self.send(from, Message::Batch { req, records, more, missing: ByteBuf::new() });
    }

    /// An answer to a `Want` or a `Pull`, told apart by its request id.
    pub(super) fn on_batch(&mut self, from: AgencyKey, req: u32, records: Vec<ByteBuf>, more: bool, missing: ByteBuf) {
        let Some(p) = self.peers.get_mut(&from) else { return };
        // The answer to our pull in flight ends it (its logs stay claimed
        // until what it brought is stored); any other batch does not.
        let pulled = p.pull.is_some_and(|(r, _)| r == req);
        if pulled {
            p.pull = None;
        }
        let asked = !pulled && p.asks.remove(&req).is_some();
        if asked {
            p.ignored = 0;
            self.not_held(from, &missing);
        }
        if !pulled && !self.admit_records(&from, records.len()) {
            return;
        }
        if let Some(p) = self.peers.get_mut(&from) {
            p.pull_again |= pulled;
        }
        let before = self.stats.fetched_twice;
        let fresh = self.receive(from, records, true);
        if pulled {
            self.stats.fetched_twice_by_pull += self.stats.fetched_twice - before;
        }
        if fresh.is_empty() {
            // Nothing to store, so no `Stored` to continue from.
            self.pulling.retain(|_, peer| *peer != from);
            if more {
                self.pull_from(from);
            }
            return;
        }
        self.store(Some(from), true, fresh);
        if let Some(job) = self.jobs.values_mut().last() {
            job.pull = pulled;
        }
    }

    /// Sends signed trust lists newer than `after`, one page.
    fn send_trust_page(&mut self, to: AgencyKey, after: u64) {
        let lists = self.store.trust_lists_after(after).unwrap_or_default();
        let mut page = Vec::new();
        let mut bytes = 0;
        let mut more = false;
        for list in lists {
            if !page.is_empty() && bytes + list.len() > MAX_ANSWER_BYTES {
                more = true;
                break;
            }
            bytes += list.len();
            page.push(ByteBuf::from(list));
        }
        if !page.is_empty() {
            self.send(to, Message::TrustListPage { lists: page, more });
        }
    }

    pub(super) fn on_trust_lists(&mut self, from: AgencyKey, after_version: u64) {
        if self.admit_exchange(&from, None) {
            self.send_trust_page(from, after_version);
        }
    }
}

/// Heads in wire form: per channel, authors by trust-list position.
fn compact(trust: &Membership, heads: impl Iterator<Item = Head>) -> Vec<ChannelHeads> {
    let mut per: std::collections::BTreeMap<kawan_protocol::Channel, Vec<(u16, u64)>> = Default::default();
    for h in heads {
        if let Some(pos) = trust.position(&h.author) {
            per.entry(h.channel).or_default().push((pos, h.seq));
        }
    }
    per.into_iter().map(|(channel, seqs)| ChannelHeads { channel, seqs }).collect()
}
