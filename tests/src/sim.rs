//! A seeded, deterministic simulator: N replicas (the node's own
//! `replica::Replica`, over in-memory stores that apply the production
//! rules) on a simulated network with latency, jitter, loss and per-link
//! bandwidth; partitions that heal, nodes that go offline and come back,
//! and rogue members. Same scenario and seed, same outcome, byte for byte
//! (except `wall_s`).
//!
//! Time is simulated in microseconds; replicas see milliseconds.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap},
    sync::Arc,
    time::Instant,
};

use kawan_node::{
    replica::{Config, Input, Output, Replica, Rng},
    store::{Ingested, Store},
};
use kawan_protocol::*;
use serde_bytes::ByteBuf;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Honest nodes.
    pub nodes: usize,
    /// Records the honest nodes publish.
    pub records: usize,
    pub seed: u64,
    pub latency_ms: u64,
    pub jitter_ms: u64,
    /// Chance that a message is lost.
    pub loss: f64,
    /// Per link and direction.
    pub bandwidth_bps: u64,
    /// Rogue members (each floods, forges, equivocates and replays).
    pub rogues: usize,
    /// Share of honest nodes in the sharing group, and of records sent to it.
    pub group_share: f64,
    pub group_records: f64,
    /// Records published per simulated second, network-wide.
    pub publish_per_s: f64,
    /// Split the network in two for the middle of the publishing window.
    pub partition: bool,
    /// Nodes that go offline for a while during the publishing window.
    pub churn: usize,
    /// Links that go silent a third into the publishing window (half-open:
    /// messages vanish both ways, nobody is told the link closed; the
    /// sender's transport reports each message unacknowledged after 10 s).
    pub silent_links: usize,
    /// Members that run an honest replica (they store and announce
    /// everything) but never answer an ask or a pull: announce and withhold.
    pub withholders: usize,
    /// Members that try to eclipse node 1: each keeps a connection to it
    /// (dialling again whenever cut) and says nothing, to crowd out its
    /// honest peers.
    pub eclipse: usize,
    /// Simulated time after the last publish before the outcome is judged.
    pub settle_ms: u64,
    /// Connections each replica keeps (`replica::Config::fanout`).
    pub fanout: usize,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            nodes: 500,
            records: 1000,
            seed: 7,
            latency_ms: 50,
            jitter_ms: 10,
            loss: 0.01,
            bandwidth_bps: 10_000_000,
            rogues: 1,
            group_share: 0.2,
            group_records: 0.1,
            publish_per_s: 20.0,
            partition: false,
            churn: 0,
            silent_links: 0,
            withholders: 0,
            eclipse: 0,
            settle_ms: 40_000,
            fanout: Config::default().fanout,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub nodes: usize,
    pub records: usize,
    pub rogues: usize,
    /// Every honest node holds every record it is entitled to, and no
    /// honest node holds a group record of a group it is not in.
    pub converged: bool,
    /// Group records found at honest nodes outside the group.
    pub leaks: u64,
    /// Publish → stored at every entitled honest node, simulated.
    pub convergence_p50_ms: u64,
    pub convergence_p99_ms: u64,
    /// Everything honest nodes sent, control included, ÷ the envelope bytes
    /// that had to be delivered (each record to each entitled node but its author).
    pub bytes_per_record_per_node: f64,
    /// Record copies the honest nodes had to receive (each record at each
    /// entitled node but its author).
    pub deliveries: u64,
    pub fetched_twice: u64,
    pub duplicate_pushes: u64,
    /// Logs an honest node holds short of what it is entitled to.
    pub stalled_logs: u64,
    /// Every rogue was banned by at least one honest node.
    pub rogue_penalised: bool,
    /// Links honest nodes found dead and replaced.
    pub dead_links: u64,
    /// Every withholder was banned by at least one other node.
    pub withholders_penalised: bool,
    /// With eclipse attackers: the fewest honest peers node 1 had at any
    /// tick after the first 5 s (`None` without attackers).
    pub eclipse_min_honest_peers: Option<usize>,
    pub messages: u64,
    pub sim_s: f64,
    pub wall_s: f64,
}

impl Outcome {
    /// One JSON object; `wall_s` last, so everything before it is the
    /// deterministic part.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"nodes\":{},\"records\":{},\"rogues\":{},\"converged\":{},\"leaks\":{},\"convergence_p50_ms\":{},\
             \"convergence_p99_ms\":{},\"bytes_per_record_per_node\":{:.3},\"deliveries\":{},\"fetched_twice\":{},\
             \"duplicate_pushes\":{},\"stalled_logs\":{},\"rogue_penalised\":{},\"dead_links\":{},\"withholders_penalised\":{},\"eclipse_min_honest_peers\":{},\"messages\":{},\
             \"sim_s\":{:.1},\"wall_s\":{:.1}}}",
            self.nodes,
            self.records,
            self.rogues,
            self.converged,
            self.leaks,
            self.convergence_p50_ms,
            self.convergence_p99_ms,
            self.bytes_per_record_per_node,
            self.deliveries,
            self.fetched_twice,
            self.duplicate_pushes,
            self.stalled_logs,
            self.rogue_penalised,
            self.dead_links,
            self.withholders_penalised,
            self.eclipse_min_honest_peers.map_or("null".to_string(), |n| n.to_string()),
            self.messages,
            self.sim_s,
            self.wall_s
        )
    }
}

enum Event {
    Tick(usize),
    /// A replica's own deadline (`Replica::wake_at`) before its next tick.
    Wake(usize),
    Connect(usize, usize),
    Deliver {
        to: usize,
        from: usize,
        msg: Message,
        size: usize,
    },
    Publish(usize),
    Done(usize, Input),
    Split,
    Heal,
    Down(usize),
    Up(usize),
    Silence,
    PingFailed(usize, usize),
}

/// A node: an honest replica, a rogue member, or a silent member trying
/// to eclipse node [`ECLIPSE_TARGET`].
enum Node {
    Honest { replica: Box<Replica>, store: Arc<Store> },
    Rogue { key: Box<Keypair>, seen: Vec<Vec<u8>>, forks: u64 },
    Eclipse,
}

/// The node eclipse attackers crowd.
const ECLIPSE_TARGET: usize = 1;

/// One record the honest nodes publish: who, when, and who is entitled.
struct Published {
    id: RecordId,
    size: usize,
    author: usize,
    at_us: u64,
    group: bool,
}

struct Sim {
    s: Scenario,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    nodes: Vec<Node>,
    keys: Vec<AgencyKey>,
    index: BTreeMap<AgencyKey, usize>,
    online: Vec<bool>,
    side: Vec<bool>,
    split: bool,
    edges: BTreeSet<(usize, usize)>,
    /// Edges that went silent (see [`Scenario::silent_links`]).
    silent: BTreeSet<(usize, usize)>,
    /// Honest-looking nodes that never answer (see [`Scenario::withholders`]).
    withholder: Vec<bool>,
    link_free: BTreeMap<(usize, usize), u64>,
    /// The wake-up each node has pending (µs), if any.
    wake: Vec<Option<u64>>,
    /// See [`Outcome::eclipse_min_honest_peers`].
    eclipse_min: Option<usize>,
    in_group: Vec<bool>,
    bytes_sent: u64,
    bytes_by_kind: BTreeMap<&'static str, (u64, u64)>,
    messages: u64,
    records: Vec<Published>,
    /// Arrival time of each record at each node.
    arrivals: BTreeMap<(RecordId, usize), u64>,
    logs: BTreeMap<(usize, bool), (u64, Option<RecordId>)>,
    trust: SignedTrustList,
}

const MS: u64 = 1_000;
/// How long the transport waits for a message's ack (the driver's sync
/// request timeout).
const ACK_TIMEOUT_US: u64 = 30_000 * MS;
/// The driver's ping interval and timeout.
const PING_US: u64 = 10_000 * MS;
const TICK_US: u64 = 100 * MS;
const GROUP: &str = "mekong";

fn key_of(i: usize) -> Keypair {
    let mut secret = [7u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    Keypair::from_secret_bytes(secret)
}

fn member_id(i: usize) -> MemberId {
    MemberId::new(format!("agency-{i}")).expect("valid id")
}

/// Runs a scenario to its end and judges it.
pub fn run(s: Scenario) -> Outcome {
    let wall = Instant::now();
    let mut sim = Sim::new(s);
    sim.run();
    let mut out = sim.judge();
    out.wall_s = wall.elapsed().as_secs_f64();
    out
}

impl Sim {
    fn new(s: Scenario) -> Sim {
        let mut rng = Rng(s.seed);
        let total = s.nodes + s.rogues + s.eclipse;
        let keys: Vec<Keypair> = (0..total).map(key_of).collect();
        let group_size = ((s.nodes as f64 * s.group_share).round() as usize).max(2).min(s.nodes);
        let in_group: Vec<bool> = (0..total).map(|i| i < group_size).collect();
        let network = NetworkId::new("kawan-sim").expect("valid id");
        let list = TrustList {
            attachment_max_bytes: None,
            retention: None,
            decay: None, // the defaults; the stores run on the records' own dates
            network,
            version: 1,
            issued_ms: 1_764_000_000_000,
            threshold: 1,
            members: (0..total)
                .map(|i| Member {
                    id: member_id(i),
                    name: format!("Agency {i}"),
                    country: "TH".parse().expect("country"),
                    key: keys[i].public(),
                    roles: if i == 0 { vec![MemberRole::Coordinator] } else { vec![MemberRole::Member] },
                    addrs: vec![],
                    expires_ms: None,
                    key_from_ms: None,
                    retired_keys: vec![],
                })
                .collect(),
            groups: vec![Group {
                id: GroupId::new(GROUP).expect("valid id"),
                name: GROUP.into(),
                members: (0..group_size).map(member_id).collect(),
            }],
        };
        let mut trust = SignedTrustList::new(&list).expect("well-formed list");
        trust.sign(&keys[0]);
        let config = Config { fanout: s.fanout, max_peers: 3 * s.fanout, ..Config::default() };
        let nodes: Vec<Node> = (0..total)
            .map(|i| {
                if i < s.nodes {
                    let store = Arc::new(Store::in_memory(kawan_node::clock::Clock::manual(1_764_000_000_000)));
                    store.install_genesis(&trust).expect("genesis");
                    let replica =
                        Box::new(Replica::new(keys[i].public(), store.clone(), config.clone(), s.seed ^ (i as u64)));
                    Node::Honest { replica, store }
                } else if i < s.nodes + s.rogues {
                    Node::Rogue { key: Box::new(keys[i].clone()), seen: Vec::new(), forks: 0 }
                } else {
                    Node::Eclipse
                }
            })
            .collect();
        let side = (0..total).map(|_| rng.chance(0.5)).collect();
        let index = keys.iter().enumerate().map(|(i, k)| (k.public(), i)).collect();
        let mut sim = Sim {
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            nodes,
            keys: keys.iter().map(Keypair::public).collect(),
            index,
            online: vec![true; total],
            side,
            split: false,
            edges: BTreeSet::new(),
            silent: BTreeSet::new(),
            // The last honest nodes (node 0 coordinates; churn picks any).
            withholder: (0..total).map(|i| i < s.nodes && i >= s.nodes - s.withholders.min(s.nodes - 1)).collect(),
            link_free: BTreeMap::new(),
            wake: vec![None; total],
            eclipse_min: None,
            in_group,
            bytes_sent: 0,
            bytes_by_kind: BTreeMap::new(),
            messages: 0,
            records: Vec::new(),
            arrivals: BTreeMap::new(),
            logs: BTreeMap::new(),
            trust,
            s,
        };
        for i in 0..total {
            let offset = below(&mut sim.rng, TICK_US);
            sim.at(offset, Event::Tick(i));
        }
        let gap = (1_000_000.0 / sim.s.publish_per_s) as u64;
        let start = 5_000 * MS;
        for r in 0..sim.s.records {
            sim.at(start + r as u64 * gap, Event::Publish(r));
        }
        let window = sim.s.records as u64 * gap;
        if sim.s.partition {
            sim.at(start + window / 5, Event::Split);
            sim.at(start + window / 2, Event::Heal);
        }
        if sim.s.silent_links > 0 {
            sim.at(start + window / 3, Event::Silence);
        }
        for _ in 0..sim.s.churn.min(sim.s.nodes.saturating_sub(1)) {
            let node = 1 + below(&mut sim.rng, sim.s.nodes as u64 - 1) as usize;
            let down = start + below(&mut sim.rng, window.max(1));
            let away = 10_000 * MS + below(&mut sim.rng, 10_000 * MS);
            sim.at(down, Event::Down(node));
            sim.at(down + away, Event::Up(node));
        }
        sim
    }

    fn at(&mut self, at_us: u64, e: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at_us, self.seq)));
        self.events.insert(self.seq, e);
    }

    fn end_us(&self) -> u64 {
        let gap = (1_000_000.0 / self.s.publish_per_s) as u64;
        5_000 * MS + self.s.records as u64 * gap + self.s.settle_ms * MS
    }

    fn run(&mut self) {
        let end = self.end_us();
        while let Some(Reverse((at, seq))) = self.queue.pop() {
            if at > end {
                break;
            }
            self.now = at;
            let Some(e) = self.events.remove(&seq) else { continue };
            match e {
                Event::Tick(i) => {
                    if self.online[i] {
                        match &self.nodes[i] {
                            Node::Honest { .. } => self.feed(i, Input::Tick),
                            Node::Rogue { .. } => self.rogue_act(i),
                            Node::Eclipse => {
                                if !self.edges.contains(&edge(i, ECLIPSE_TARGET)) {
                                    self.connect(i, ECLIPSE_TARGET);
                                }
                            }
                        }
                        if i == ECLIPSE_TARGET && self.s.eclipse > 0 && self.now > 5_000 * MS && !self.split {
                            let honest = self.edges.iter().filter(|(a, b)| {
                                let other = if *a == i {
                                    *b
                                } else if *b == i {
                                    *a
                                } else {
                                    return false;
                                };
                                other < self.s.nodes
                            });
                            let n = honest.count();
                            self.eclipse_min = Some(self.eclipse_min.map_or(n, |m| m.min(n)));
                        }
                    }
                    self.at(self.now + TICK_US, Event::Tick(i));
                }
                Event::Wake(i) => {
                    if self.wake[i] == Some(self.now) {
                        self.wake[i] = None;
                        if self.online[i] {
                            self.feed(i, Input::Tick);
                        }
                    }
                }
                Event::Connect(a, b) => self.connect(a, b),
                Event::Deliver { to, from, msg, size } => {
                    if self.edges.contains(&edge(to, from)) {
                        match &mut self.nodes[to] {
                            Node::Honest { .. } => self.feed(to, Input::Message { from: self.keys[from], msg, size }),
                            Node::Rogue { seen, .. } => {
                                if let Message::Push { records } = msg {
                                    seen.extend(records.into_iter().map(ByteBuf::into_vec).take(64));
                                }
                            }
                            Node::Eclipse => {}
                        }
                    }
                }
                Event::Publish(r) => self.publish(r),
                Event::Done(i, input) => {
                    if self.online[i] {
                        self.feed(i, input)
                    }
                }
                Event::Split => {
                    self.split = true;
                    let cut: Vec<(usize, usize)> =
                        self.edges.iter().copied().filter(|(a, b)| self.side[*a] != self.side[*b]).collect();
                    for (a, b) in cut {
                        self.disconnect(a, b);
                    }
                }
                Event::Heal => self.split = false,
                Event::Down(i) => {
                    // Its links close on both sides: the node that goes
                    // down hears of it too (its process may live on behind
                    // a dead network), so it redials when it comes back.
                    let gone: Vec<(usize, usize)> =
                        self.edges.iter().copied().filter(|(a, b)| *a == i || *b == i).collect();
                    for (a, b) in gone {
                        self.disconnect(a, b);
                    }
                    self.online[i] = false;
                }
                Event::Silence => {
                    let honest = |n: usize, s: &Sim| matches!(s.nodes[n], Node::Honest { .. });
                    let pool: Vec<(usize, usize)> =
                        self.edges.iter().copied().filter(|(a, b)| honest(*a, self) && honest(*b, self)).collect();
                    let mut pool = pool;
                    for _ in 0..self.s.silent_links.min(pool.len()) {
                        let (a, b) = pool.swap_remove(below(&mut self.rng, pool.len() as u64) as usize);
                        self.silent.insert((a, b));
                        // Each end's ping (every 10 s, 10 s timeout) fails 10–20 s on.
                        for (me, other) in [(a, b), (b, a)] {
                            let at = self.now + PING_US + below(&mut self.rng, PING_US);
                            self.at(at, Event::PingFailed(me, other));
                        }
                    }
                }
                Event::PingFailed(me, other) => {
                    if self.silent.contains(&edge(me, other)) && self.online[me] {
                        self.feed(me, Input::PeerSilent(self.keys[other]));
                    }
                }
                Event::Up(i) => self.online[i] = true,
            }
        }
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        self.online[a] && self.online[b] && (!self.split || self.side[a] == self.side[b])
    }

    fn connect(&mut self, a: usize, b: usize) {
        if a == b || !self.reachable(a, b) || !self.edges.insert(edge(a, b)) {
            return;
        }
        for (me, other) in [(a, b), (b, a)] {
            if let Node::Honest { .. } = self.nodes[me] {
                // `a` dialled.
                self.feed(me, Input::PeerUp { peer: self.keys[other], dialled: me == a });
            }
        }
    }

    fn disconnect(&mut self, a: usize, b: usize) {
        if !self.edges.remove(&edge(a, b)) {
            return;
        }
        // A closed link is no longer silent: a new one between the two works.
        self.silent.remove(&edge(a, b));
        for (me, other) in [(a, b), (b, a)] {
            if let Node::Honest { .. } = self.nodes[me]
                && self.online[me]
            {
                self.feed(me, Input::PeerDown(self.keys[other]));
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, msg: Message) {
        if !self.edges.contains(&edge(from, to)) {
            return;
        }
        if self.withholder[from] && matches!(msg, Message::Batch { .. }) {
            return;
        }
        if self.silent.contains(&edge(from, to)) {
            // Vanishes; the sender's transport says so when its ack times out.
            let to = self.keys[to];
            self.at(self.now + ACK_TIMEOUT_US, Event::Done(from, Input::Delivered { to, ok: false }));
            return;
        }
        let size = msg.to_bytes().map_or(0, |b| b.len()) + 4;
        if matches!(self.nodes[from], Node::Honest { .. }) {
            self.bytes_sent += size as u64;
            self.messages += 1;
            let k = self.bytes_by_kind.entry(msg.kind()).or_default();
            k.0 += 1;
            k.1 += size as u64;
        }
        // Serialisation on the link, then latency; some messages are lost.
        let tx_us = size as u64 * 8 * 1_000_000 / self.s.bandwidth_bps.max(1);
        let free = self.link_free.entry((from, to)).or_default();
        let start = (*free).max(self.now);
        *free = start + tx_us;
        let sent = start + tx_us;
        if self.rng.chance(self.s.loss) {
            return;
        }
        let delay = self.s.latency_ms * MS + below(&mut self.rng, self.s.jitter_ms * MS + 1);
        self.at(sent + delay, Event::Deliver { to, from, msg, size });
    }

    /// Hands a replica an input and carries out what it decides.
    fn feed(&mut self, i: usize, input: Input) {
        let Node::Honest { replica, store } = &mut self.nodes[i] else { return };
        let outputs = replica.handle(input, self.now / MS);
        let store = store.clone();
        for o in outputs {
            match o {
                Output::Send { to, msg } => {
                    if let Some(&j) = self.index.get(&to) {
                        self.send(i, j, msg);
                    }
                }
                Output::Store { batch, records } => {
                    let results = store.ingest_batch(&records);
                    for (bytes, r) in records.iter().zip(&results) {
                        if let Ok(Ingested::New(id) | Ingested::Equivocation(id)) = r {
                            let _ = bytes;
                            self.arrivals.entry((*id, i)).or_insert(self.now);
                        }
                    }
                    self.at(self.now + MS, Event::Done(i, Input::Stored { batch, results }));
                }
                Output::ApplyTrust { from, lists, more } => {
                    let results = lists.iter().map(|b| kawan_node::net::apply_trust(&store, b).map(|_| ())).collect();
                    self.at(self.now + MS, Event::Done(i, Input::TrustApplied { from, results, more }));
                }
                Output::Dial(key) => {
                    if let Some(&j) = self.index.get(&key) {
                        let rtt = 2 * self.s.latency_ms * MS;
                        self.at(self.now + rtt, Event::Connect(i, j));
                    }
                }
                Output::Disconnect(key) => {
                    if let Some(&j) = self.index.get(&key) {
                        self.disconnect(i, j);
                    }
                }
                Output::Penalised { .. } => {}
            }
        }
        // The replica's own deadline, as a real driver's timer would keep it.
        let Node::Honest { replica, .. } = &self.nodes[i] else { return };
        if let Some(at) = replica.wake_at().map(|ms| ms * MS).filter(|at| *at > self.now)
            && self.wake[i].is_none_or(|w| w <= self.now || at < w)
        {
            self.wake[i] = Some(at);
            self.at(at, Event::Wake(i));
        }
    }

    /// Honest node publishes record `r`.
    fn publish(&mut self, r: usize) {
        let group = self.rng.chance(self.s.group_records);
        let pool: Vec<usize> = (0..self.s.nodes).filter(|i| self.online[*i] && (!group || self.in_group[*i])).collect();
        if pool.is_empty() {
            return;
        }
        let author = pool[self.rng.below(pool.len())];
        let channel = if group { Channel::Group(GroupId::new(GROUP).expect("valid id")) } else { Channel::Network };
        let (seq, prev) = self.logs.get(&(author, group)).copied().unwrap_or((0, None));
        let tlp = if group { Tlp::Amber } else { Tlp::Green };
        let mut ind =
            Indicator::new(Kind::Domain, format!("recruit-{r}.jobs-abroad.example"), IndicatorRole::JobAd, tlp);
        ind.confidence = 60;
        ind.description = Some(format!(
            "Fake job advert {r}: overseas customer-service work, free flights, salary paid in USDT; \
             applicants are moved to a messaging app within hours."
        ));
        let record = Record {
            header: Header {
                v: 1,
                network: NetworkId::new("kawan-sim").expect("valid id"),
                channel,
                author: self.keys[author],
                seq: seq + 1,
                prev,
                created_ms: 1_764_000_000_000 + self.now / MS,
            },
            body: Body::Indicator(ind),
        };
        let key = key_of(author);
        let Ok(v) = record.sign(&key) else { return };
        let bytes = v.envelope.to_bytes();
        self.logs.insert((author, group), (seq + 1, Some(v.id)));
        let Node::Honest { store, .. } = &self.nodes[author] else { return };
        if store.ingest_batch(std::slice::from_ref(&bytes)).first().is_none_or(|r| r.is_err()) {
            return;
        }
        self.arrivals.insert((v.id, author), self.now);
        self.records.push(Published { id: v.id, size: bytes.len(), author, at_us: self.now, group });
        self.feed(author, Input::Published(bytes));
    }

    /// A rogue member: dials honest nodes, then floods, forges, equivocates,
    /// replays and sends under-signed trust lists.
    fn rogue_act(&mut self, i: usize) {
        let peers: Vec<usize> = self
            .edges
            .iter()
            .filter_map(|(a, b)| match (*a == i, *b == i) {
                (true, _) => Some(*b),
                (_, true) => Some(*a),
                _ => None,
            })
            .collect();
        if peers.len() < 8 {
            let j = self.rng.below(self.s.nodes);
            let rtt = 2 * self.s.latency_ms * MS;
            self.at(self.now + rtt, Event::Connect(i, j));
        }
        let Node::Rogue { key, seen, forks } = &mut self.nodes[i] else { return };
        *forks += 1;
        let fork = {
            let mut ind =
                Indicator::new(Kind::Domain, format!("fork-{}.example", *forks), IndicatorRole::JobAd, Tlp::Green);
            ind.confidence = 1;
            Record {
                header: Header {
                    v: 1,
                    network: NetworkId::new("kawan-sim").expect("valid id"),
                    channel: Channel::Network,
                    author: key.public(),
                    seq: 1,
                    prev: None,
                    created_ms: 1_764_000_000_000 + *forks,
                },
                body: Body::Indicator(ind),
            }
            .sign(key)
            .map(|v| v.envelope.to_bytes())
            .unwrap_or_default()
        };
        let mut forged = fork.clone();
        if let Some(last) = forged.last_mut() {
            *last ^= 0xff;
        }
        let replay = seen.first().cloned();
        let mut forged_list = {
            let mut list = match self.trust.list() {
                Ok(l) => l,
                Err(_) => return,
            };
            list.version += 1;
            SignedTrustList::new(&list).expect("well-formed list")
        };
        forged_list.sign(key);
        let fake_ids: Vec<[u8; 8]> = (0..200).map(|n| blake3_like(*forks, n)).collect();
        let fake_ids = kawan_protocol::sync::pack(&fake_ids);
        for p in peers {
            let mut batch = vec![
                Message::Push { records: vec![ByteBuf::from(fork.clone())] },
                Message::Push { records: vec![ByteBuf::from(forged.clone())] },
                Message::Push { records: vec![ByteBuf::from(vec![0xa2; 70 * 1024])] },
                Message::Have { ids: fake_ids.clone() },
                Message::TrustListPage { lists: vec![ByteBuf::from(forged_list.to_bytes())], more: false },
                Message::Digest {
                    network: NetworkId::new("kawan-sim").expect("valid id"),
                    digest: [0; 32],
                    trust_version: 1,
                },
            ];
            if let Some(r) = &replay {
                batch.push(Message::Push { records: vec![ByteBuf::from(r.clone())] });
            }
            for _ in 0..4 {
                batch.push(Message::Have { ids: fake_ids.clone() });
            }
            for msg in batch {
                self.send(i, p, msg);
            }
        }
    }

    fn judge(&self) -> Outcome {
        let honest = self.s.nodes;
        let mut latencies = Vec::with_capacity(self.records.len());
        let mut missing = 0u64;
        let mut delivered_bytes = 0u64;
        let mut deliveries = 0u64;
        for r in &self.records {
            let mut worst = 0;
            for i in 0..honest {
                if r.group && !self.in_group[i] {
                    continue;
                }
                if i != r.author {
                    delivered_bytes += r.size as u64;
                    deliveries += 1;
                }
                match self.arrivals.get(&(r.id, i)) {
                    Some(at) => worst = worst.max(at - r.at_us),
                    None => missing += 1,
                }
            }
            latencies.push(worst / MS);
        }
        if std::env::var_os("KAWAN_SIM_DETAIL").is_some() {
            // What the traffic was made of, for docs/benchmarks.md.
            let sizes: u64 = self.records.iter().map(|r| r.size as u64).sum();
            eprintln!("mean envelope {} B", sizes / self.records.len().max(1) as u64);
            for (kind, (n, bytes)) in &self.bytes_by_kind {
                eprintln!("{kind:>16}: {n:>9} messages {bytes:>12} bytes");
            }
        }
        latencies.sort_unstable();
        let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
        let mut leaks = 0;
        for r in self.records.iter().filter(|r| r.group) {
            for i in (0..honest).filter(|i| !self.in_group[*i]) {
                if let Node::Honest { store, .. } = &self.nodes[i]
                    && store.contains(&r.id).unwrap_or(false)
                {
                    leaks += 1;
                }
            }
        }
        let mut stalled = 0;
        for ((author, group), (seq, _)) in &self.logs {
            let channel =
                if *group { Channel::Group(GroupId::new(GROUP).expect("valid id")) } else { Channel::Network };
            for i in 0..honest {
                if *group && !self.in_group[i] {
                    continue;
                }
                if let Node::Honest { store, .. } = &self.nodes[i]
                    && store.head(&channel, &self.keys[*author]).unwrap_or(0) < *seq
                {
                    stalled += 1;
                }
            }
        }
        let (mut fetched_twice, mut duplicate_pushes, mut dead_links) = (0, 0, 0);
        for n in &self.nodes {
            if let Node::Honest { replica, .. } = n {
                fetched_twice += replica.stats().fetched_twice;
                duplicate_pushes += replica.stats().duplicate_pushes;
                dead_links += replica.stats().dead_links;
            }
        }
        let rogue_penalised = (honest..honest + self.s.rogues).all(|r| {
            self.nodes.iter().any(|n| matches!(n, Node::Honest { replica, .. } if replica.is_banned(&self.keys[r])))
        });
        let withholders_penalised = (0..honest).filter(|w| self.withholder[*w]).all(|w| {
            self.nodes.iter().any(|n| matches!(n, Node::Honest { replica, .. } if replica.is_banned(&self.keys[w])))
        });
        Outcome {
            nodes: honest,
            records: self.records.len(),
            rogues: self.s.rogues,
            converged: missing == 0 && leaks == 0,
            leaks,
            convergence_p50_ms: pct(0.5),
            convergence_p99_ms: pct(0.99),
            bytes_per_record_per_node: self.bytes_sent as f64 / delivered_bytes.max(1) as f64,
            deliveries,
            fetched_twice,
            duplicate_pushes,
            stalled_logs: stalled,
            rogue_penalised,
            dead_links,
            withholders_penalised,
            eclipse_min_honest_peers: self.eclipse_min,
            messages: self.messages,
            sim_s: self.now as f64 / 1e6,
            wall_s: 0.0,
        }
    }
}

fn below(rng: &mut Rng, n: u64) -> u64 {
    rng.below(n as usize) as u64
}

fn edge(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

/// Short ids that name nothing, different each round.
fn blake3_like(round: u64, n: u64) -> [u8; 8] {
    ((round << 20) ^ n ^ 0x5a5a_0000_0000_0000).to_be_bytes()
}
