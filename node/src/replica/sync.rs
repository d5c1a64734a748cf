//! Anti-entropy: whatever announcements missed (a lost message, a node that
//! was offline, a healed partition) is repaired by comparing, then pulling.
//!
//! 1. Now and then (and on every new connection) a node sends one peer a
//!    digest of its heads on the channels both may see. Equal digests: done.
//! 2. Otherwise the peer answers with its heads; each side pulls what it
//!    lacks, one pull per peer in flight. A pull is answered with an
//!    *index*: the short ids of the records in the ranges asked for. The
//!    puller awaits the ones it neither holds nor already awaits, exactly
//!    as if they had been announced, and asks for them (`spread`): a
//!    record that arrived by announcement above a gap is never fetched
//!    again, and one being fetched is not fetched a second time.
//! 3. Heads and indexes leave out logs whose records the receiver would
//!    refuse (authors no longer members, or not in the group), so no log
//!    waits forever behind a refusal.
//!
//! Trust lists travel the same way, paged.

use kawan_protocol::{
    AgencyKey, ChannelHeads, GoneSlot, Head, LogIds, Membership, Message, NetworkId, RecordId, Want,
    sync::{MAX_ANSWER_BYTES, MAX_INDEX_IDS, ShortId, short_id, unpack},
};
use serde_bytes::ByteBuf;

use super::{PULL_AHEAD, Pulling, Replica, budget::Offence};
use crate::policy::Path;

/// How soon anti-entropy runs again after a round that found records
/// announcements had missed.
const AGAIN_SOON_MS: u64 = 3_000;

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
        if let Some(p) = self.peers.get_mut(&from) {
            p.heads = theirs;
            p.listed.clear();
        }
        if !reply && they_lack {
            let channels = compact(&trust, ours.into_iter().map(|(h, _)| h));
            self.send(from, Message::Heads { network, trust_version, channels, reply: true });
        }
        // At once: what announcements are bringing meanwhile is awaited
        // already, and the index answer will not fetch it again.
        self.pull_from(from);
    }

    /// Asks `peer` to list the logs its last heads show ahead of what we
    /// hold and what it has listed already; one pull per peer in flight,
    /// and none while [`PULL_AHEAD`] records are awaited (it resumes as
    /// they arrive).
    pub(super) fn pull_from(&mut self, peer: AgencyKey) {
        let Some(p) = self.peers.get(&peer) else { return };
        if p.pull.is_some() {
            return;
        }
        if self.missing.len() >= PULL_AHEAD {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.pull_again = true;
            }
            return;
        }
        let mut wants = Vec::new();
        for h in &p.heads {
            let have = self.store.head(&h.channel, &h.author).unwrap_or(0);
            let listed = p.listed.get(&(h.channel.clone(), h.author)).copied().unwrap_or(0);
            let after_seq = have.max(listed);
            if h.seq > after_seq {
                let limit = u32::try_from((h.seq - after_seq).min(MAX_INDEX_IDS as u64)).unwrap_or(u32::MAX);
                wants.push(Want { channel: h.channel.clone(), author: h.author, after_seq, limit });
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
        p.pull = Some(Pulling { req, at: now, wants: wants.clone() });
        self.send(peer, Message::Pull { req, wants });
    }

    /// Serves a pull: the short ids of the asked ranges, of logs the
    /// policy lets `from` have and whose records it would accept, at most
    /// [`MAX_INDEX_IDS`] in all. Each range stops at the first seq this
    /// node lacks (an index lists no gap).
    pub(super) fn on_pull(&mut self, from: AgencyKey, req: u32, wants: Vec<Want>) {
        // Listing costs what it lists, like any request for records.
        let asked: usize = wants.iter().take(MAX_WANTS).map(|w| w.limit as usize).sum();
        if !self.admit_records(&from, asked.min(MAX_INDEX_IDS)) {
            return;
        }
        let trust = self.store.membership();
        let mut logs = Vec::new();
        let mut total = 0;
        for w in wants.into_iter().take(MAX_WANTS) {
            if total >= MAX_INDEX_IDS {
                break;
            }
            if !Self::eligible(trust.as_deref(), &w.channel, &w.author, self.now)
                || !self.policy_allows(trust.as_deref(), &from, &w.channel, Path::PullAnswer)
            {
                continue;
            }
            let end = trust.as_deref().map_or(u64::MAX, |t| t.log_end(&w.author, &w.channel));
            let head = self.store.head(&w.channel, &w.author).unwrap_or(0).min(end);
            let room = (MAX_INDEX_IDS - total) as u64;
            let last = head.min(w.after_seq.saturating_add(u64::from(w.limit).min(room)));
            let mut ids = Vec::new();
            let mut gone = Vec::new();
            for seq in w.after_seq.saturating_add(1)..=last {
                match self.store.log_slot(&w.channel, &w.author, seq) {
                    Ok(Some(id)) => {
                        ids.extend_from_slice(&short_id(&id));
                        // A tombstone of ours (not a peer's word relayed on).
                        if let Ok(Some(t)) = self.store.tombstone(&id)
                            && !matches!(t.gone, crate::store::Gone::Claimed { .. })
                        {
                            gone.push(GoneSlot { seq, id });
                        }
                    }
                    _ => break,
                }
            }
            if ids.is_empty() {
                continue;
            }
            total += ids.len() / 8;
            logs.push(LogIds {
                channel: w.channel,
                author: w.author,
                first_seq: w.after_seq.saturating_add(1),
                ids: ByteBuf::from(ids),
                gone,
            });
        }
        // Full: there may be more to list (the puller asks again).
        let more = total >= MAX_INDEX_IDS;
        self.send(from, Message::Index { req, logs, more });
    }

    /// The answer to our pull: every listed record we neither hold nor
    /// await is awaited from `from` and asked for (`spread`); with `more`,
    /// the next window is listed when the awaited ones allow. Only the
    /// ranges the pull asked for are read (each from its first seq, at
    /// most its limit); an index answering no pull of ours (a late one)
    /// is ignored, and one listing ids costs the sender like announcing
    /// them.
    pub(super) fn on_index(&mut self, from: AgencyKey, req: u32, logs: Vec<LogIds>, more: bool) {
        let Some(p) = self.peers.get_mut(&from) else { return };
        let Some(pull) = p.pull.take_if(|pull| pull.req == req) else { return };
        let total: usize = logs.iter().map(|l| l.ids.len() / 8).sum();
        if !self.admit_records(&from, total.min(MAX_INDEX_IDS)) {
            return;
        }
        let mut listed = 0;
        let mut full = false;
        let mut found = false;
        let mut advanced = false;
        for log in logs {
            // Only what we asked for, from where we asked. (A log we asked
            // for and may no longer see, after a trust-list change, is not
            // the sender's fault: skipped.)
            let Some(want) = pull.wants.iter().find(|w| w.channel == log.channel && w.author == log.author) else {
                continue;
            };
            if want.after_seq.checked_add(1) != Some(log.first_seq) {
                continue;
            }
            let room = (want.limit as usize).min(MAX_INDEX_IDS - listed);
            let ids: Vec<ShortId> = unpack(&log.ids).take(room).collect();
            listed += ids.len();
            let mut through = want.after_seq;
            // Slots the sender says are gone, named by full id and listed
            // as such: filled here with a tombstone, never asked for.
            let last = log.first_seq.saturating_add(ids.len() as u64);
            let gone: Vec<(u64, RecordId)> = log
                .gone
                .iter()
                .filter(|g| g.seq >= log.first_seq && g.seq < last)
                .filter(|g| ids.get((g.seq - log.first_seq) as usize) == Some(&short_id(&g.id)))
                .map(|g| (g.seq, g.id))
                .collect();
            // Never into our own agency's logs: this node knows what it
            // signed, and a peer's word must not fill its history.
            let ours =
                log.author == self.me || self.store.membership().is_some_and(|m| m.same_agency(&log.author, &self.me));
            if !gone.is_empty() && !ours {
                let _ = self.store.claim_gone(from, &log.channel, &log.author, gone.clone());
            }
            for (seq, short) in (log.first_seq..=u64::MAX).zip(ids) {
                // Held (the slot's record; another record at the slot is a
                // fork, which announcements, not pulls, bring), or gone —
                // but one other peer's unconfirmed word that it is gone
                // does not stop us asking this peer, which lists it.
                let slot = self.store.log_slot(&log.channel, &log.author, seq).ok().flatten();
                let said_gone_here = gone.iter().any(|(s, _)| *s == seq);
                let held =
                    slot.is_some_and(|id| said_gone_here || !self.store.is_unconfirmed_claim(&id).unwrap_or(false));
                let awaited = self.missing.contains_key(&short) || self.storing.contains_key(&short);
                found |= !held && !awaited && !self.recent.contains_key(&short);
                if !held && !self.offered(from, short, false) {
                    full = true;
                    break;
                }
                through = seq;
            }
            if through > want.after_seq
                && let Some(p) = self.peers.get_mut(&from)
            {
                advanced = true;
                let mark = p.listed.entry((log.channel, log.author)).or_default();
                *mark = (*mark).max(through);
            }
            if full || listed >= MAX_INDEX_IDS {
                break;
            }
        }
        if found {
            // The round found records announcements had missed: after a
            // partition or an outage there is usually more to find (and a
            // lost message ends only one round), so another round, with a
            // random peer, follows soon.
            self.next_sync_ms = self.next_sync_ms.min(self.now + AGAIN_SOON_MS);
        }
        self.ask_missing();
        // The next window only if this one got somewhere: a peer that
        // says "more" and lists nothing new gets no further pulls.
        if (more || full) && advanced {
            self.pull_from(from);
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
