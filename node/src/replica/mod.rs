//! The replication core (docs/architecture.md, "Replication"; the messages are
//! docs/protocol.md §4): an IO-less state machine holding every replication
//! decision — what to push, announce, ask for, pull, serve, store, reject;
//! whom to penalise, disconnect or dial; when to retry.
//! [`Replica::handle`] takes one [`Input`] and the time, and returns
//! [`Output`]s for a driver to carry out: `net/` drives it with libp2p and
//! tokio, the simulator (`kawan-sim`) with an in-memory network. No sockets,
//! no clock, no tokio in here; the record store is read directly (heads,
//! logs, the trust list) and written only through [`Output::Store`], whose
//! results come back as [`Input::Stored`].
//!
//! - `spread`: new records: authors push, everyone else announces short ids,
//!   and a node asks the first announcer for what it lacks (the one way a
//!   record body is fetched: one ask per record at a time)
//! - `sync`: anti-entropy: digest, heads, pulls answered with the short ids
//!   of the ranges asked for (then asked for like announcements), trust lists
//! - `budget`: per-peer token buckets and misbehaviour scores

pub mod budget;
mod spread;
mod sync;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use kawan_protocol::{AgencyKey, Channel, Envelope, Header, Membership, Message, RecordId, sync::ShortId};

use crate::{
    policy::{Item, Onward, Path, Policy, Recipient},
    store::{IngestError, Ingested, Store},
};
use budget::{BAN_SCORE, Buckets, Budget, Offence};

/// How a replica behaves; the defaults suit a real network.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connections to keep: members are dialled until this many are up.
    pub fanout: usize,
    /// Most connections kept; beyond, peers that connected to us are
    /// closed, worst-behaved first (never one we dialled ourselves).
    pub max_peers: usize,
    /// Connections this node dialled itself that it keeps however many
    /// peers connect to it: members that dial in, however many, can fill
    /// only the other slots, so a coalition cannot eclipse the node.
    pub outbound: usize,
    /// One extra member is dialled this often, so that groups of nodes that
    /// were cut apart (a partition, an outage) find each other again.
    pub rotate_every_ms: u64,
    /// Connected members to keep per sharing group this node is in, so
    /// group records always have a way through.
    pub group_fanout: usize,
    /// How long an asked-for record may take before another announcer is
    /// asked, until the peer's round-trip time is measured (then that
    /// decides: see `Rtt::patience`).
    pub want_timeout_ms: u64,
    /// Anti-entropy: one digest exchange with one peer this often.
    pub sync_every_ms: u64,
    /// How long a pull may go unanswered before it is sent again.
    pub pull_timeout_ms: u64,
    /// First and longest wait before dialling a member again.
    pub dial_backoff_ms: (u64, u64),
    pub ban_ms: u64,
    pub budget: Budget,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fanout: 5,
            max_peers: 15,
            outbound: 3,
            rotate_every_ms: 30_000,
            group_fanout: 2,
            want_timeout_ms: 250,
            sync_every_ms: 30_000,
            pull_timeout_ms: 5_000,
            dial_backoff_ms: (1_000, 300_000),
            ban_ms: 600_000,
            budget: Budget::default(),
        }
    }
}

/// What happened: the driver's news for the replica.
#[derive(Debug)]
pub enum Input {
    /// Time passed (drivers tick every 50–100 ms).
    Tick,
    /// A connection to a member is up; `dialled`: this node opened it
    /// (only such a connection may hold a reserved outbound slot).
    PeerUp { peer: AgencyKey, dialled: bool },
    /// A connection to a member is down.
    PeerDown(AgencyKey),
    /// A message to `to` was (or was not) acknowledged by its node: the
    /// driver's transport acks each one. Three failures in a row without a
    /// word from the peer mean the link is dead.
    Delivered { to: AgencyKey, ok: bool },
    /// The link to a peer stopped answering (a ping timed out): dead.
    PeerSilent(AgencyKey),
    /// A message arrived; `size` is its encoded size.
    Message { from: AgencyKey, msg: Message, size: usize },
    /// This agency published a record (already stored).
    Published(Vec<u8>),
    /// Records of others stored here outside sync (a bundle import):
    /// announced like records a peer sent.
    Imported(Vec<Vec<u8>>),
    /// The results of an [`Output::Store`], in order.
    Stored { batch: u64, results: Vec<Result<Ingested, IngestError>> },
    /// The results of an [`Output::ApplyTrust`]: per list, whether it was
    /// accepted, or why not.
    TrustApplied { from: AgencyKey, results: Vec<Result<(), TrustRefusal>>, more: bool },
    /// The trust list in force changed here (installed through the API).
    TrustChanged,
}

/// Why a received trust list was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRefusal {
    /// Not newer than the list in force (its version): a late copy, or a replay.
    Stale(u64),
    /// Forged, under-signed, malformed or for another network.
    Invalid(String),
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Send {
        to: AgencyKey,
        msg: Message,
    },
    /// Verify and store these envelopes (durably), then report [`Input::Stored`].
    Store {
        batch: u64,
        records: Vec<Vec<u8>>,
    },
    /// Apply these signed trust lists in order, then report [`Input::TrustApplied`].
    ApplyTrust {
        from: AgencyKey,
        lists: Vec<Vec<u8>>,
        more: bool,
    },
    Dial(AgencyKey),
    Disconnect(AgencyKey),
    /// A peer misbehaved (for metrics and the log); `score` is its total.
    Penalised {
        peer: AgencyKey,
        offence: Offence,
        score: u32,
    },
}

/// Counters of what the replica did, for metrics and the simulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records stored that were new here.
    pub stored: u64,
    /// Records pushed to us that we already had.
    pub duplicate_pushes: u64,
    /// Records we asked for and already had: downloads the protocol should
    /// have avoided (only an ask that timed out and was answered late can
    /// make one: each record is asked of one peer at a time).
    pub fetched_twice: u64,
    /// Records refused at verification or by the membership rules.
    pub rejected: u64,
    /// Messages dropped for being over a peer's budget.
    pub dropped: u64,
    pub penalties: u64,
    pub bans: u64,
    /// Links found dead (unacknowledged messages, failed pings) and replaced.
    pub dead_links: u64,
}

/// A record received, its header read once (unverified: for routing only;
/// the store verifies before anything is stored).
#[derive(Debug, Clone)]
struct Incoming {
    id: RecordId,
    header: Header,
    bytes: Vec<u8>,
}

impl Incoming {
    fn read(bytes: Vec<u8>) -> Option<Incoming> {
        let envelope = Envelope::from_bytes(&bytes).ok()?;
        let header = envelope.peek_header().ok()?;
        Some(Incoming { id: envelope.id(), header, bytes })
    }
}

/// What this replica knows of one connected peer.
struct Peer {
    buckets: Buckets,
    /// Its heads at the last exchange, on the channels both may see.
    heads: Vec<kawan_protocol::Head>,
    /// Positions it has shown since by records it sent or was pushed: for
    /// showing its lag only (pulls follow `heads`, so nothing is fetched twice).
    seen: Vec<kawan_protocol::Head>,
    last_seen_ms: u64,
    /// Our pull to it in flight, if any.
    pull: Option<Pulling>,
    /// How far its index answers have listed each log since its last
    /// heads: the next pull asks after that.
    listed: BTreeMap<(Channel, AgencyKey), u64>,
    /// Our asks (`Want`s) to it not yet answered, by request id.
    asks: BTreeMap<u32, Ask>,
    /// Its round-trip time, measured on asks.
    rtt: Option<Rtt>,
    /// Asks in a row it left unanswered (an answered one resets it): a lost
    /// message now and then is the network, every ask ignored is withholding.
    ignored: u32,
    /// Pull again once fewer records are awaited (its index had more than
    /// this node would await at once).
    pull_again: bool,
    /// The trust version of its last free exchanges, and how many it had
    /// (see `admit_exchange`).
    free: (Option<u64>, u8),
    /// Messages to it not acknowledged since it was last heard from.
    undelivered: u32,
    /// We dialled it (it holds one of our reserved outbound slots).
    outbound: bool,
}

/// A pull in flight: its request id, when it was sent, and what it asked
/// to list (an index may answer only that).
struct Pulling {
    req: u32,
    at: u64,
    wants: Vec<kawan_protocol::Want>,
}

/// An ask in flight: when it was sent and what it asked for.
struct Ask {
    at: u64,
    ids: Vec<ShortId>,
}

/// A peer's round-trip time, smoothed as TCP does (RFC 6298), in ms.
#[derive(Debug, Clone, Copy)]
struct Rtt {
    srtt: f64,
    var: f64,
}

impl Rtt {
    fn sample(rtt: Option<Rtt>, ms: u64) -> Rtt {
        let r = ms as f64;
        match rtt {
            None => Rtt { srtt: r, var: r / 2.0 },
            Some(Rtt { srtt, var }) => {
                Rtt { srtt: 0.875 * srtt + 0.125 * r, var: 0.75 * var + 0.25 * (srtt - r).abs() }
            }
        }
    }

    /// How long to wait for an answer before asking another announcer:
    /// the smoothed round trip and four deviations (at least a quarter of
    /// it), never under [`MIN_PATIENCE_MS`].
    fn patience(self) -> u64 {
        ((self.srtt + (4.0 * self.var).max(self.srtt / 4.0)).ceil() as u64).max(MIN_PATIENCE_MS)
    }
}

/// The shortest wait for an answer: below it, a busy node's scheduling
/// delays alone would make it ask twice.
const MIN_PATIENCE_MS: u64 = 50;

/// A record announced (or listed in an index) to us that we lack.
struct Missing {
    /// Whom we may ask: peers that announced or listed it, first first.
    announcers: Vec<AgencyKey>,
    /// Those that announced it by `Have` (unasked): answering "missing"
    /// afterwards is withholding.
    announced: Vec<AgencyKey>,
    /// Whom we asked, and when.
    asked: Option<(AgencyKey, u64)>,
    /// Asks in a row of the same peer that went unanswered: each doubles
    /// the wait before asking again (a sole announcer that is merely slow
    /// is not made to send the record twice).
    tries: u8,
    /// Delivered, and being stored: never asked for again.
    arrived: bool,
    /// When it was first announced: an entry no announcer delivers is
    /// dropped after [`MISSING_EXPIRY_MS`] (anti-entropy finds the record
    /// if it exists), so announcements alone cannot make lasting work.
    since: u64,
}

/// How long an announced record may stay missing before it is forgotten.
const MISSING_EXPIRY_MS: u64 = 60_000;
/// Most announced records waiting at once; announcements beyond are
/// ignored until some arrive or expire.
const MAX_MISSING: usize = 100_000;
/// How long an ask may go unanswered before it counts against the peer.
const ASK_EXPIRY_MS: u64 = 10_000;
/// Unanswered asks in a row after which each further one is withholding.
const IGNORED_ASKS: u32 = 3;

/// A store job in flight: who sent its records, and whether we asked.
struct Job {
    from: Option<AgencyKey>,
    records: Vec<Incoming>,
}

/// Most announced or listed records awaited at once before a pull of a
/// long log lists more: catch-up keeps this many asks in flight.
const PULL_AHEAD: usize = 8_192;

/// A deterministic generator (SplitMix64): the same seed makes the same
/// choices, so a simulated network replays byte for byte.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Up to `k` items of `items`, chosen at random.
    fn pick<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let mut out = Vec::with_capacity(k.min(pool.len()));
        while out.len() < k && !pool.is_empty() {
            let i = self.below(pool.len());
            out.push(pool.swap_remove(i));
        }
        out
    }
}

/// How long a peer whose key was just retired stays connected to receive
/// the trust list that retired it.
const PARTING_MS: u64 = 2_000;
/// Unacknowledged messages in a row (with nothing heard from the peer) that
/// make a link dead.
const DEAD_AFTER: u32 = 3;

pub struct Replica {
    me: AgencyKey,
    store: Arc<Store>,
    config: Config,
    rng: Rng,
    now: u64,
    peers: BTreeMap<AgencyKey, Peer>,
    /// Misbehaviour scores, kept across reconnections.
    scores: BTreeMap<AgencyKey, u32>,
    banned: BTreeMap<AgencyKey, u64>,
    /// Peers whose key was just retired, told why and let go at this time.
    parting: BTreeMap<AgencyKey, u64>,
    /// Members we dialled: when we may dial again, and the next wait.
    dialled: BTreeMap<AgencyKey, (u64, u64)>,
    /// Records announced to us that we lack, by short id.
    missing: BTreeMap<ShortId, Missing>,
    /// Records stored lately, by short id (to answer and judge announcements).
    recent: BTreeMap<ShortId, RecordId>,
    recent_order: VecDeque<ShortId>,
    /// Records handed to the store and not yet reported, by short id.
    storing: BTreeMap<ShortId, RecordId>,
    jobs: BTreeMap<u64, Job>,
    next_job: u64,
    /// The id of our next ask or pull (each peer sees them in order).
    next_req: u32,
    next_sync_ms: u64,
    next_upkeep_ms: u64,
    next_rotate_ms: u64,
    /// The earliest deadline of an ask in flight (`u64::MAX`: none).
    wake_ms: u64,
    stats: Stats,
    out: Vec<Output>,
}

impl Replica {
    /// A replica over `store`, for the agency `me`. `seed` drives its random
    /// choices (peers to dial, to announce to, to exchange digests with).
    pub fn new(me: AgencyKey, store: Arc<Store>, config: Config, seed: u64) -> Replica {
        Replica {
            me,
            store,
            rng: Rng(seed ^ u64::from_be_bytes(me.0[..8].try_into().unwrap_or_default())),
            now: 0,
            next_sync_ms: config.sync_every_ms / 2,
            config,
            peers: BTreeMap::new(),
            scores: BTreeMap::new(),
            banned: BTreeMap::new(),
            parting: BTreeMap::new(),
            dialled: BTreeMap::new(),
            missing: BTreeMap::new(),
            recent: BTreeMap::new(),
            recent_order: VecDeque::new(),
            storing: BTreeMap::new(),
            jobs: BTreeMap::new(),
            next_job: 0,
            next_req: 1,
            next_upkeep_ms: 0,
            next_rotate_ms: 0,
            wake_ms: u64::MAX,
            stats: Stats::default(),
            out: Vec::new(),
        }
    }

    pub fn me(&self) -> AgencyKey {
        self.me
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Connected peers, when each was last heard from, and how far each of
    /// its logs is known to reach (the last heads exchange, raised by the
    /// records it sent or was pushed since).
    pub fn peers(&self) -> Vec<(AgencyKey, u64, Vec<kawan_protocol::Head>)> {
        self.peers
            .iter()
            .map(|(k, p)| {
                let mut heads = p.heads.clone();
                for s in &p.seen {
                    match heads.iter_mut().find(|h| h.channel == s.channel && h.author == s.author) {
                        Some(h) => h.seq = h.seq.max(s.seq),
                        None => heads.push(s.clone()),
                    }
                }
                (*k, p.last_seen_ms, heads)
            })
            .collect()
    }

    /// When the replica next needs a [`Input::Tick`] sooner than the
    /// driver's regular one: the deadline of an ask in flight, so that a
    /// lost answer costs one measured round trip, not a round trip and a
    /// tick.
    pub fn wake_at(&self) -> Option<u64> {
        (self.wake_ms != u64::MAX).then_some(self.wake_ms)
    }

    pub fn is_banned(&self, peer: &AgencyKey) -> bool {
        self.banned.get(peer).is_some_and(|until| *until > self.now)
    }

    /// Handles one input at `now_ms` and says what to do.
    pub fn handle(&mut self, input: Input, now_ms: u64) -> Vec<Output> {
        self.now = self.now.max(now_ms);
        match input {
            Input::Tick => self.on_tick(),
            Input::PeerUp { peer, dialled } => self.on_peer_up(peer, dialled),
            Input::PeerDown(peer) => self.on_peer_down(&peer),
            Input::Delivered { to, ok } => self.on_delivered(to, ok),
            Input::PeerSilent(peer) => self.link_dead(peer),
            Input::Message { from, msg, size } => self.on_message(from, msg, size),
            Input::Published(bytes) => {
                if let Some(r) = Incoming::read(bytes) {
                    self.spread(None, vec![r]);
                }
            }
            Input::Imported(records) => {
                let records = records.into_iter().filter_map(Incoming::read).collect();
                // From ourselves as a relay: announced to every peer, pushed to none.
                self.spread(Some(self.me), records);
            }
            Input::Stored { batch, results } => self.on_stored(batch, results),
            Input::TrustApplied { from, results, more } => self.on_trust_applied(from, results, more),
            Input::TrustChanged => self.on_trust_changed(true),
        }
        std::mem::take(&mut self.out)
    }

    /// A new request id.
    fn req(&mut self) -> u32 {
        let req = self.next_req;
        self.next_req = self.next_req.wrapping_add(1).max(1);
        req
    }

    fn send(&mut self, to: AgencyKey, msg: Message) {
        self.out.push(Output::Send { to, msg });
    }

    fn policy_allows(&self, trust: Option<&Membership>, to: &AgencyKey, channel: &Channel, path: Path) -> bool {
        Policy::new(trust, self.me, self.now).allows(
            Item::Record { channel, tlp: None, onward: Onward::Free },
            Recipient::Peer(to),
            path,
        )
    }

    /// Channels both this node and `peer` may see now.
    fn shared(&self, trust: Option<&Membership>, peer: &AgencyKey) -> Vec<Channel> {
        Policy::new(trust, self.me, self.now).shared_channels(peer)
    }

    /// Whether a log's records are ones receivers accept: its author is an
    /// active member allowed on its channel. Heads and answers leave out
    /// every other log, so nobody fetches what it would refuse.
    fn eligible(trust: Option<&Membership>, channel: &Channel, author: &AgencyKey, now: u64) -> bool {
        let Some(t) = trust else { return false };
        t.agency_key(author).is_some_and(|agency| t.is_active(agency, now))
            && match channel {
                Channel::Network => true,
                Channel::Group(g) => t.in_group(g, author),
            }
    }

    /// Raises a peer's score; at [`BAN_SCORE`] it is disconnected and banned.
    fn penalise(&mut self, peer: AgencyKey, offence: Offence) {
        let score = self.scores.entry(peer).or_default();
        *score = score.saturating_add(offence.points());
        let score = *score;
        self.stats.penalties += 1;
        self.out.push(Output::Penalised { peer, offence, score });
        if score >= BAN_SCORE && !self.is_banned(&peer) {
            self.stats.bans += 1;
            self.banned.insert(peer, self.now + self.config.ban_ms);
            self.out.push(Output::Disconnect(peer));
            self.on_peer_down(&peer);
        }
    }

    fn on_peer_up(&mut self, peer: AgencyKey, outbound: bool) {
        let trust = self.store.membership();
        if self.is_banned(&peer) || !Policy::new(trust.as_deref(), self.me, self.now).admits(&peer) {
            self.out.push(Output::Disconnect(peer));
            return;
        }
        self.dialled.remove(&peer);
        self.peers.insert(
            peer,
            Peer {
                buckets: Buckets::new(&self.config.budget, self.now),
                heads: Vec::new(),
                seen: Vec::new(),
                last_seen_ms: self.now,
                pull: None,
                listed: BTreeMap::new(),
                asks: BTreeMap::new(),
                rtt: None,
                ignored: 0,
                pull_again: false,
                free: (None, 0),
                undelivered: 0,
                outbound,
            },
        );
        self.evict();
        if self.peers.contains_key(&peer) {
            // A new connection starts with a digest: catch-up costs what is missing.
            self.send_digest(peer);
        }
    }

    /// Peers whose key was just retired: connected a moment longer to
    /// receive the trust list that names their successor key.
    pub fn parting(&self) -> impl Iterator<Item = &AgencyKey> {
        self.parting.keys()
    }

    fn on_peer_down(&mut self, peer: &AgencyKey) {
        self.peers.remove(peer);
        self.parting.remove(peer);
        for m in self.missing.values_mut() {
            m.announcers.retain(|a| a != peer);
            if m.asked.is_some_and(|(p, _)| p == *peer) {
                m.asked = None;
            }
        }
    }

    /// A message was acknowledged, or was not: a peer that stops
    /// acknowledging (a half-open link, a partition the TCP stack has not
    /// noticed) stops counting toward the fanout and is replaced at once.
    fn on_delivered(&mut self, to: AgencyKey, ok: bool) {
        let Some(p) = self.peers.get_mut(&to) else { return };
        p.undelivered = if ok { 0 } else { p.undelivered + 1 };
        if p.undelivered >= DEAD_AFTER {
            self.link_dead(to);
        }
    }

    /// Drops a dead link and dials a replacement now; the dead peer itself
    /// is dialled again only after the first backoff.
    fn link_dead(&mut self, peer: AgencyKey) {
        if !self.peers.contains_key(&peer) {
            return;
        }
        tracing::info!(%peer, "link dead: replaced");
        self.stats.dead_links += 1;
        self.out.push(Output::Disconnect(peer));
        self.on_peer_down(&peer);
        let first = self.config.dial_backoff_ms.0;
        self.dialled.insert(peer, (self.now + first, first * 2));
        self.dial();
    }

    /// Checks a message against the sender's budget; false drops it.
    fn admit(&mut self, from: &AgencyKey, size: usize) -> bool {
        let now = self.now;
        let Some(p) = self.peers.get_mut(from) else { return false };
        p.last_seen_ms = now;
        p.undelivered = 0;
        let ok = p.buckets.messages.take(1.0, now) && p.buckets.bytes.take(size as f64, now);
        if !ok {
            self.stats.dropped += 1;
            self.penalise(*from, Offence::Flooding);
        }
        ok
    }

    /// Takes `n` from the sender's record budget, or penalises it.
    fn admit_records(&mut self, from: &AgencyKey, n: usize) -> bool {
        let now = self.now;
        let ok = self.peers.get_mut(from).is_some_and(|p| p.buckets.records.take(n as f64, now));
        if !ok {
            self.stats.dropped += 1;
            self.penalise(*from, Offence::Flooding);
        }
        ok
    }

    /// Takes one from the sender's exchange budget, or penalises it. The
    /// first digest and heads a peer sends at each trust version both sides
    /// hold are free: every trust-list change starts an exchange at once
    /// (`on_trust_changed`), and a peer cannot make versions up.
    fn admit_exchange(&mut self, from: &AgencyKey, trust_version: Option<u64>) -> bool {
        let now = self.now;
        let current = self.store.membership().map(|t| t.version);
        let ok = self.peers.get_mut(from).is_some_and(|p| {
            if trust_version.is_some() && trust_version == current {
                let used = if p.free.0 == trust_version { p.free.1 } else { 0 };
                if used < 2 {
                    p.free = (trust_version, used + 1);
                    return true;
                }
            }
            p.buckets.exchanges.take(1.0, now)
        });
        if !ok {
            self.stats.dropped += 1;
            self.penalise(*from, Offence::HeadsAmplification);
        }
        ok
    }

    fn on_message(&mut self, from: AgencyKey, msg: Message, size: usize) {
        if !self.admit(&from, size) {
            return;
        }
        match msg {
            Message::Push { records } => self.on_push(from, records),
            Message::Have { ids } => self.on_have(from, ids),
            Message::Want { req, ids } => self.on_want(from, req, ids),
            Message::Batch { req, records, missing } => self.on_batch(from, req, records, missing),
            Message::Digest { network, digest, trust_version } => self.on_digest(from, network, digest, trust_version),
            Message::Heads { network, trust_version, channels, reply } => {
                self.on_heads(from, network, trust_version, channels, reply)
            }
            Message::Pull { req, wants } => self.on_pull(from, req, wants),
            Message::Index { req, logs, more } => self.on_index(from, req, logs, more),
            Message::TrustLists { after_version } => self.on_trust_lists(from, after_version),
            Message::TrustListPage { lists, more } => {
                let lists = lists.into_iter().map(|b| b.into_vec()).collect();
                self.out.push(Output::ApplyTrust { from, lists, more });
            }
            Message::Refused { reason } => tracing::debug!(peer = %from, %reason, "peer refused a message"),
        }
    }

    /// Hands records to the store as one job.
    fn store(&mut self, from: Option<AgencyKey>, records: Vec<Incoming>) {
        if records.is_empty() {
            return;
        }
        for r in &records {
            let short = kawan_protocol::sync::short_id(&r.id);
            self.storing.insert(short, r.id);
            if let Some(m) = self.missing.get_mut(&short) {
                m.arrived = true;
            }
        }
        let batch = self.next_job;
        self.next_job += 1;
        let bytes = records.iter().map(|r| r.bytes.clone()).collect();
        self.jobs.insert(batch, Job { from, records });
        self.out.push(Output::Store { batch, records: bytes });
    }

    fn on_stored(&mut self, batch: u64, results: Vec<Result<Ingested, IngestError>>) {
        let Some(job) = self.jobs.remove(&batch) else { return };
        let mut new = Vec::new();
        for (r, result) in job.records.into_iter().zip(results) {
            let short = kawan_protocol::sync::short_id(&r.id);
            self.storing.remove(&short);
            match &result {
                // A copy with a bad signature or bytes says nothing about
                // the record its id names (the id covers the signed bytes,
                // not the signature): only its sender is dropped as a
                // source, and the next announcer is asked.
                Err(IngestError::Record(_)) => {
                    if let Some(m) = self.missing.get_mut(&short) {
                        m.announcers.retain(|a| Some(*a) != job.from);
                        m.announced.retain(|a| Some(*a) != job.from);
                        m.arrived = false;
                        m.asked = None;
                        m.tries = 0;
                    }
                }
                // Judged for good (waiting for a retired key's chain, or
                // refused): asking again would get the same answer. (A
                // duplicate's entry goes when the copy that was new spreads:
                // it names who announced it.)
                Ok(Ingested::Waiting(_)) | Err(_) => {
                    self.missing.remove(&short);
                }
                Ok(_) => {}
            }
            match result {
                Ok(i) if i.is_new() => {
                    self.stats.stored += 1;
                    new.push(r);
                }
                Ok(Ingested::Ignored(_)) => {
                    if let Some(from) = job.from {
                        self.penalise(from, Offence::EquivocationSpam);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    self.stats.rejected += 1;
                    let offence = match e {
                        IngestError::Record(kawan_protocol::RecordError::BadSignature) => Some(Offence::BadSignature),
                        IngestError::Record(_) => Some(Offence::Malformed),
                        IngestError::NotMember(_)
                        | IngestError::NotInGroup { .. }
                        | IngestError::WrongNetwork { .. } => Some(Offence::NotEntitled),
                        // A peer on an older trust list may still hold
                        // records a newer one voids: not its fault.
                        IngestError::Void { .. }
                        | IngestError::NoTrustList
                        | IngestError::Refused(_)
                        | IngestError::Store(_) => None,
                    };
                    if let (Some(from), Some(offence)) = (job.from, offence) {
                        self.penalise(from, offence);
                    }
                }
            }
        }
        self.spread(job.from, new);
        self.pull_on();
        self.ask_missing();
    }

    /// A long log is listed a window at a time: the next window once most
    /// of this one has arrived (or expired).
    fn pull_on(&mut self) {
        if self.missing.len() < PULL_AHEAD / 2 {
            let again: Vec<AgencyKey> =
                self.peers.iter().filter(|(_, p)| p.pull_again && p.pull.is_none()).map(|(k, _)| *k).collect();
            for peer in again {
                self.pull_from(peer);
            }
        }
    }

    fn on_tick(&mut self) {
        self.ask_missing();
        if self.now >= self.next_sync_ms {
            // Jitter keeps nodes from exchanging digests in lockstep.
            let jitter = self.rng.below((self.config.sync_every_ms / 5).max(1) as usize) as u64;
            self.next_sync_ms = self.now + self.config.sync_every_ms - self.config.sync_every_ms / 10 + jitter;
            let peers: Vec<AgencyKey> = self.peers.keys().copied().collect();
            if let Some(peer) = self.rng.pick(&peers, 1).pop() {
                self.send_digest(peer);
            }
        }
        if self.now >= self.next_upkeep_ms {
            self.next_upkeep_ms = self.now + 1_000;
            self.upkeep();
        }
    }

    /// Once a second: memberships that lapsed, pulls that timed out,
    /// scores that decay, connections to make.
    fn upkeep(&mut self) {
        self.on_trust_changed(false);
        let timeout = self.config.pull_timeout_ms;
        let now = self.now;
        let stale: Vec<AgencyKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.pull.as_ref().is_some_and(|pull| now.saturating_sub(pull.at) > timeout))
            .map(|(k, _)| *k)
            .collect();
        for peer in stale {
            // Lost, or the peer is slow: asked again (what it lists that
            // another peer already delivered is not asked for twice).
            if let Some(p) = self.peers.get_mut(&peer) {
                p.pull = None;
            }
            self.pull_from(peer);
        }
        // Asks a peer never answered count against it once it ignores
        // several in a row: a member that announces and then withholds is
        // penalised until it is cut off.
        let mut withholding = Vec::new();
        for (k, p) in self.peers.iter_mut() {
            let before = p.asks.len();
            p.asks.retain(|_, a| now.saturating_sub(a.at) <= ASK_EXPIRY_MS);
            for _ in p.asks.len()..before {
                p.ignored += 1;
                if p.ignored >= IGNORED_ASKS {
                    withholding.push(*k);
                }
            }
        }
        for peer in withholding {
            self.penalise(peer, Offence::Withholding);
        }
        self.missing.retain(|_, m| now.saturating_sub(m.since) <= MISSING_EXPIRY_MS);
        self.pull_on();
        if now % 10_000 < 1_000 {
            for s in self.scores.values_mut() {
                *s = *s * 4 / 5;
            }
            self.scores.retain(|_, s| *s > 0);
        }
        self.banned.retain(|_, until| *until > now);
        self.dial();
    }

    /// Keeps `fanout` connections, and `group_fanout` per group of ours.
    fn dial(&mut self) {
        let Some(trust) = self.store.membership() else { return };
        let policy = Policy::new(Some(&trust), self.me, self.now);
        let candidates: Vec<AgencyKey> = trust
            .keys()
            .copied()
            .filter(|k| {
                policy.admits(k)
                    && !self.peers.contains_key(k)
                    && !self.is_banned(k)
                    && self.dialled.get(k).is_none_or(|(at, _)| *at <= self.now)
            })
            .collect();
        let mut wanted = Vec::new();
        for g in trust.groups_of(&self.me).to_vec() {
            let in_group = |k: &AgencyKey| trust.in_group(&g, k);
            let have = self.peers.keys().filter(|k| in_group(k)).count();
            if have < self.config.group_fanout {
                let pool: Vec<AgencyKey> = candidates.iter().copied().filter(|k| in_group(k)).collect();
                wanted.extend(self.rng.pick(&pool, self.config.group_fanout - have));
            }
        }
        let outbound = self.peers.values().filter(|p| p.outbound).count().min(self.config.outbound);
        let mut short = self
            .config
            .fanout
            .saturating_sub(self.peers.len() + wanted.len())
            .max(self.config.outbound.saturating_sub(outbound + wanted.len()));
        if short == 0 && self.now >= self.next_rotate_ms {
            self.next_rotate_ms = self.now + self.config.rotate_every_ms;
            short = 1;
        }
        self.evict();
        let pool: Vec<AgencyKey> = candidates.iter().copied().filter(|k| !wanted.contains(k)).collect();
        wanted.extend(self.rng.pick(&pool, short));
        let (first, longest) = self.config.dial_backoff_ms;
        for peer in wanted {
            let wait = self.dialled.get(&peer).map_or(first, |(_, w)| *w);
            self.dialled.insert(peer, (self.now + wait, (wait * 2).min(longest)));
            self.out.push(Output::Dial(peer));
        }
    }

    /// Over `max_peers`: closes peers, highest misbehaviour score first,
    /// then at random, except `outbound` of those this node dialled itself
    /// (the best-behaved): members that dial in cannot crowd those out.
    fn evict(&mut self) {
        let over = self.peers.len().saturating_sub(self.config.max_peers);
        if over == 0 {
            return;
        }
        let score = |k: &AgencyKey| self.scores.get(k).copied().unwrap_or(0);
        let mut dialled: Vec<AgencyKey> = self.peers.iter().filter(|(_, p)| p.outbound).map(|(k, _)| *k).collect();
        dialled.sort_by_key(score);
        let kept: Vec<AgencyKey> = dialled.into_iter().take(self.config.outbound).collect();
        let others: Vec<AgencyKey> = self.peers.keys().filter(|k| !kept.contains(k)).copied().collect();
        let mut ranked = self.rng.pick(&others, others.len());
        ranked.sort_by_key(|k| std::cmp::Reverse(score(k)));
        for peer in ranked.into_iter().take(over) {
            self.out.push(Output::Disconnect(peer));
            self.on_peer_down(&peer);
        }
    }

    /// The trust list changed (or time passed): peers no longer admitted
    /// are cut off; a list installed here is sent to every peer.
    fn on_trust_changed(&mut self, announce: bool) {
        let trust = self.store.membership();
        let policy = Policy::new(trust.as_deref(), self.me, self.now);
        let gone: Vec<AgencyKey> = self.peers.keys().filter(|k| !policy.admits(k)).copied().collect();
        let latest = |store: &Store, t: &Membership| {
            let lists = store.trust_lists_after(t.version.saturating_sub(1)).unwrap_or_default();
            lists.into_iter().map(serde_bytes::ByteBuf::from).collect::<Vec<_>>()
        };
        for peer in gone {
            let retired = trust.as_deref().filter(|t| t.retired(&peer).is_some());
            match (self.parting.get(&peer), retired) {
                (None, Some(t)) => {
                    // Its node cannot switch to its new key without the
                    // list that names it, and once let go no member would
                    // tell it: send that list, and nothing else (it may
                    // see no channel any more), then let it go.
                    let lists = latest(&self.store, t);
                    self.send(peer, Message::TrustListPage { lists, more: false });
                    self.parting.insert(peer, self.now + PARTING_MS);
                }
                (Some(until), _) if *until > self.now => {}
                _ => {
                    self.out.push(Output::Disconnect(peer));
                    self.on_peer_down(&peer);
                }
            }
        }
        if announce && let Some(t) = &trust {
            // Each peer gets the new list, then a digest at once: a member
            // the list just added, a group it opened or a key it rotated
            // changes what each side may see and so what it lacks, and
            // neither should wait for the next anti-entropy round to find out.
            let lists = latest(&self.store, t);
            for peer in self.peers.keys().filter(|k| !self.parting.contains_key(*k)).copied().collect::<Vec<_>>() {
                self.send(peer, Message::TrustListPage { lists: lists.clone(), more: false });
                self.send_digest(peer);
            }
        }
    }

    fn on_trust_applied(&mut self, from: AgencyKey, results: Vec<Result<(), TrustRefusal>>, more: bool) {
        let mut changed = false;
        for r in results {
            match r {
                Ok(()) => changed = true,
                Err(TrustRefusal::Stale(version)) => {
                    // A copy of the list in force is normal (it spreads from
                    // every peer); an older one is a replay.
                    if version < self.store.membership().map_or(0, |t| t.version) {
                        self.penalise(from, Offence::StaleTrustList);
                    }
                }
                Err(TrustRefusal::Invalid(_)) => self.penalise(from, Offence::BadTrustList),
            }
        }
        if changed {
            self.on_trust_changed(true);
        }
        if more && self.peers.contains_key(&from) {
            let after_version = self.store.membership().map_or(0, |t| t.version);
            self.send(from, Message::TrustLists { after_version });
        }
    }
}

#[cfg(test)]
mod tests;
