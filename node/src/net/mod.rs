//! The libp2p driver (docs/architecture.md, "Replication"): one swarm (TCP +
//! noise + yamux; an allow-list fed from the trust list; the sync protocol
//! of docs/protocol.md §4) and one
//! [`Replica`], which makes every replication decision. The event loop turns
//! swarm events, commands and timer ticks into replica inputs, and carries
//! out the replica's outputs: send, store (on a blocking thread), apply a
//! trust list, dial, disconnect.
//!
//! The network code is given the record [`Store`] and nothing else: case data
//! lives in another type it never sees. What it sends, the replica first put
//! to [`crate::policy`].
//!
//! A supervisor runs the loop: if it fails or panics, the node says so
//! (status, `/metrics`, the log) and starts it again.

pub mod attach;
pub mod behaviour;
pub mod codec;
pub mod coordinate;
pub mod deconflict;
pub mod exchange;

use std::{
    collections::{HashMap, HashSet},
    io::Write as _,
    path::PathBuf,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::StreamExt as _;
use kawan_protocol::{AgencyKey, Head, Keypair, Message, NetworkId, SignedTrustList, TrustError, Verified};
use libp2p::{
    Multiaddr, PeerId, Swarm, identify, noise,
    request_response::{self},
    swarm::{SwarmEvent, dial_opts::DialOpts},
    tcp, yamux,
};
use serde::Serialize;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{
    identity,
    metrics::Metrics,
    policy::Policy,
    replica::{self, Input, Output, Replica, TrustRefusal},
    store::{Store, TrustStoreError},
};
use behaviour::{Behaviour, BehaviourEvent};
use codec::{Ack, Wire};

/// Commands waiting for the network task; beyond this, `announce` reports
/// the network as busy (the record still reaches peers by sync).
pub const COMMAND_CAPACITY: usize = 1024;
/// Store and trust-list results waiting for the network task.
const DONE_CAPACITY: usize = 64;
/// The replica's clock resolution.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot start the network: {0}")]
    Start(String),
    #[error("invalid p2p listen address {addr:?}: {message}")]
    Listen { addr: String, message: String },
    #[error("the network task is busy or stopped")]
    Unavailable,
}

/// What the network tells the rest of the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A peer sent a trust-list update, and it was installed here.
    TrustInstalled { from: AgencyKey, version: u64 },
    /// Records new here arrived from peers (watchlists look at them).
    Stored(Vec<kawan_protocol::RecordId>),
}

/// Events waiting for the node; beyond this, they are dropped and logged.
pub const EVENT_CAPACITY: usize = 64;
/// Deconfliction questions from peers waiting for the node; beyond this a
/// peer is told the node is busy.
pub const QUESTION_CAPACITY: usize = 64;
pub use attach::Question as FileQuestion;
pub use coordinate::Question as ProposalQuestion;
use deconflict::Answer;
pub use deconflict::Question;

/// What the rest of the node asks of the network.
pub enum Command {
    /// A record this agency just published.
    Announce(Box<Verified>),
    /// Records from others stored here outside sync (a bundle import):
    /// announced to peers like records a peer sent.
    Imported(Vec<Vec<u8>>),
    /// The trust list in force changed here.
    TrustUpdated,
    /// The replica's counters.
    Stats(oneshot::Sender<replica::Stats>),
    /// Ask a member a deconfliction question (dialling it if need be).
    Ask { to: AgencyKey, request: kawan_protocol::deconflict::Request, reply: Answer },
    /// The node's answer to a peer's question (see [`Question`]).
    Respond { id: u64, response: kawan_protocol::deconflict::Response },
    /// Ask a member for a file's manifest or a chunk (dialling it if need be).
    Fetch { to: AgencyKey, request: kawan_protocol::attachment::Fetch, reply: attach::Answer },
    /// The node's answer to a member's fetch (see [`FileQuestion`]).
    Serve { id: u64, response: kawan_protocol::attachment::Served },
    /// Send a coordinator's node our copy of a proposal (dialling it if need be).
    Coordinate { to: AgencyKey, request: Box<kawan_protocol::proposal::Proposal>, reply: coordinate::Answer },
    /// The node's reply to a proposal it was sent (see [`ProposalQuestion`]).
    Coordinated { id: u64, response: kawan_protocol::proposal::Reply },
    /// Stop, and say when stopped.
    Shutdown(oneshot::Sender<()>),
}

/// Whether the network task runs, and how often it was restarted.
#[derive(Debug, Default)]
pub struct Health {
    running: AtomicBool,
    restarts: AtomicU64,
}

impl Health {
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
}

/// How the node reaches the network task.
#[derive(Clone)]
pub struct NetHandle {
    tx: mpsc::Sender<Command>,
    events: mpsc::Sender<NetEvent>,
    questions: mpsc::Sender<Question>,
    files: mpsc::Sender<FileQuestion>,
    proposals: mpsc::Sender<ProposalQuestion>,
    pub peers: Arc<RwLock<PeerTable>>,
    pub health: Arc<Health>,
}

impl NetHandle {
    /// A handle to no network task (commands go nowhere): for tests of the
    /// service's use of the peer table.
    pub fn detached() -> NetHandle {
        let (tx, _) = mpsc::channel(1);
        let (events, _) = mpsc::channel(1);
        let (questions, _) = mpsc::channel(1);
        let (files, _) = mpsc::channel(1);
        let (proposals, _) = mpsc::channel(1);
        NetHandle { tx, events, questions, files, proposals, peers: Arc::default(), health: Arc::default() }
    }

    /// Queues a command; false if the task is gone or its queue is full.
    pub fn send(&self, cmd: Command) -> bool {
        self.tx.try_send(cmd).is_ok()
    }

    /// The replica's counters, asked of the running task.
    pub async fn stats(&self) -> Result<replica::Stats, NetError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Stats(tx)).await.map_err(|_| NetError::Unavailable)?;
        rx.await.map_err(|_| NetError::Unavailable)
    }

    /// Sends the command `make` builds around a reply channel, and waits
    /// for the member's answer (or why there is none).
    async fn exchange<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Command) -> Result<T, String> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| NetError::Unavailable.to_string())?;
        rx.await.map_err(|_| NetError::Unavailable.to_string())?
    }

    /// Asks `to` a deconfliction question; the member's answer, or why
    /// there is none.
    pub async fn ask(
        &self,
        to: AgencyKey,
        request: kawan_protocol::deconflict::Request,
    ) -> Result<kawan_protocol::deconflict::Response, String> {
        self.exchange(|reply| Command::Ask { to, request, reply }).await
    }

    /// Asks `to` for a file's manifest or a chunk; the member's answer, or
    /// why there is none.
    pub async fn fetch(
        &self,
        to: AgencyKey,
        request: kawan_protocol::attachment::Fetch,
    ) -> Result<kawan_protocol::attachment::Served, String> {
        self.exchange(|reply| Command::Fetch { to, request, reply }).await
    }

    /// Sends `to` (a coordinator's node) our copy of a proposal; its reply,
    /// or why there is none.
    pub async fn coordinate(
        &self,
        to: AgencyKey,
        proposal: kawan_protocol::proposal::Proposal,
    ) -> Result<kawan_protocol::proposal::Reply, String> {
        self.exchange(|reply| Command::Coordinate { to, request: Box::new(proposal), reply }).await
    }

    /// Stops the network task and waits for it.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// What the node knows about each peer, for `/api/v1/peers`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PeerTable {
    pub peers: HashMap<String, PeerInfo>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct PeerInfo {
    pub connected: bool,
    pub last_seen_ms: Option<u64>,
    /// What the peer says it runs (identify's agent version).
    pub agent: Option<String>,
    /// The peer's heads at the last exchange.
    #[serde(skip)]
    pub heads: Vec<Head>,
    /// Offences this node counted against the peer since it started (by
    /// name: `bad_signature`, `malformed`, `withholding`…).
    pub offences: std::collections::BTreeMap<String, u64>,
}

/// What the network needs to start.
#[derive(Clone)]
pub struct NetConfig {
    pub key: Keypair,
    pub network: NetworkId,
    pub listen: Vec<String>,
    pub bootstrap: Vec<String>,
    /// Where to write the addresses actually listened on (for tests and the demo).
    pub addr_file: Option<PathBuf>,
    pub replica: replica::Config,
}

/// Starts the network under a supervisor; returns once it listens (a bad
/// listen address is an error here, not a restart loop), with the events
/// the node must act on (e.g. audit) and the questions it must answer.
pub async fn start(
    config: NetConfig,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
) -> Result<(NetHandle, Inbox), NetError> {
    let swarm = build_swarm(&config)?;
    let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
    let (events, events_rx) = mpsc::channel(EVENT_CAPACITY);
    let (questions, questions_rx) = mpsc::channel(QUESTION_CAPACITY);
    let (files, files_rx) = mpsc::channel(QUESTION_CAPACITY);
    let (proposals, proposals_rx) = mpsc::channel(QUESTION_CAPACITY);
    let handle = NetHandle { tx, events, questions, files, proposals, peers: Arc::default(), health: Arc::default() };
    let supervised = Supervised { config, store, metrics, handle: handle.clone(), commands: Arc::new(Mutex::new(rx)) };
    tokio::spawn(supervised.run(swarm));
    Ok((handle, Inbox { events: events_rx, questions: questions_rx, files: files_rx, proposals: proposals_rx }))
}

/// What the network hands the node: events to act on, and peers'
/// questions to answer.
pub struct Inbox {
    pub events: mpsc::Receiver<NetEvent>,
    /// Deconfliction questions.
    pub questions: mpsc::Receiver<Question>,
    /// Fetches of files records carry.
    pub files: mpsc::Receiver<FileQuestion>,
    /// Trust-list proposals from coordinators' nodes.
    pub proposals: mpsc::Receiver<ProposalQuestion>,
}

fn build_swarm(config: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let key = identity::libp2p_keypair(&config.key).map_err(|e| NetError::Start(e.to_string()))?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Start(e.to_string()))?
        .with_behaviour(Behaviour::new)
        .map_err(|e| NetError::Start(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    for addr in &config.listen {
        let ma: Multiaddr = addr
            .parse()
            .map_err(|e: libp2p::multiaddr::Error| NetError::Listen { addr: addr.clone(), message: e.to_string() })?;
        // Nodes initialised before QUIC was dropped list a QUIC address.
        if ma.iter().any(|p| matches!(p, libp2p::multiaddr::Protocol::QuicV1)) {
            tracing::warn!(%addr, "QUIC is not supported (TCP only); ignoring this listen address: remove it from kawan.toml");
            continue;
        }
        swarm.listen_on(ma).map_err(|e| NetError::Listen { addr: addr.clone(), message: e.to_string() })?;
    }
    Ok(swarm)
}

/// The supervisor: runs the network task, and starts it again if it fails.
struct Supervised {
    config: NetConfig,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    handle: NetHandle,
    /// Survives restarts: commands queued meanwhile are not lost.
    commands: Arc<Mutex<mpsc::Receiver<Command>>>,
}

impl Supervised {
    async fn run(self, first: Swarm<Behaviour>) {
        let mut swarm = Some(first);
        let mut backoff = Duration::from_secs(1);
        loop {
            let swarm_now = match swarm.take() {
                Some(s) => s,
                None => match build_swarm(&self.config) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "the network cannot restart; trying again");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(60));
                        continue;
                    }
                },
            };
            self.handle.health.running.store(true, Ordering::Relaxed);
            self.metrics.net_up(true);
            let net = Net::new(swarm_now, &self.config, self.store.clone(), self.metrics.clone(), &self.handle);
            let commands = self.commands.clone();
            let outcome = tokio::spawn(async move {
                let mut commands = commands.lock().await;
                net.run(&mut commands).await
            })
            .await;
            self.handle.health.running.store(false, Ordering::Relaxed);
            self.metrics.net_up(false);
            match outcome {
                Ok(()) => return,
                Err(panic) => tracing::error!(error = %panic, "the network task failed; restarting it"),
            }
            self.handle.health.restarts.fetch_add(1, Ordering::Relaxed);
            self.metrics.net_restarted();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }
}

/// A store or trust-list job finished on a blocking thread.
enum Done {
    Stored {
        batch: u64,
        results: Vec<Result<crate::store::Ingested, crate::store::IngestError>>,
    },
    /// Per list, the version installed or why not.
    Trust {
        from: AgencyKey,
        results: Vec<Result<u64, TrustRefusal>>,
        more: bool,
    },
}

struct Net {
    swarm: Swarm<Behaviour>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    replica: Replica,
    me: AgencyKey,
    peers: Arc<RwLock<PeerTable>>,
    events: mpsc::Sender<NetEvent>,
    allowed: HashSet<PeerId>,
    bootstrap: Vec<Multiaddr>,
    /// Addresses peers told us they listen on (identify).
    learned: HashMap<PeerId, Vec<Multiaddr>>,
    /// What each peer said it runs.
    agents: HashMap<PeerId, String>,
    /// Offences this node counted against each member's node, by name.
    offences: HashMap<PeerId, std::collections::BTreeMap<String, u64>>,
    addr_file: Option<PathBuf>,
    wire_log: Option<PathBuf>,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    /// Deconfliction questions and answers in flight, both ways.
    deconflict: deconflict::Routing,
    /// File fetches in flight, both ways.
    attach: attach::Routing,
    /// Trust-list proposals in flight, both ways.
    coordinate: coordinate::Routing,
}

impl Net {
    fn new(
        swarm: Swarm<Behaviour>,
        config: &NetConfig,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        handle: &NetHandle,
    ) -> Net {
        let me = config.key.public();
        let seed = store.now_ms() ^ u64::from_be_bytes(me.0[8..16].try_into().unwrap_or_default());
        let (done_tx, done_rx) = mpsc::channel(DONE_CAPACITY);
        Net {
            swarm,
            replica: Replica::new(me, store.clone(), config.replica.clone(), seed),
            store,
            metrics,
            me,
            peers: handle.peers.clone(),
            events: handle.events.clone(),
            allowed: HashSet::new(),
            bootstrap: config.bootstrap.iter().filter_map(|a| a.parse().ok()).collect(),
            learned: HashMap::new(),
            agents: HashMap::new(),
            offences: HashMap::new(),
            addr_file: config.addr_file.clone(),
            wire_log: wire_log_path(),
            done_tx,
            done_rx,
            deconflict: deconflict::Routing::new(handle.questions.clone(), handle.tx.clone()),
            attach: attach::Routing::new(handle.files.clone(), handle.tx.clone()),
            coordinate: coordinate::Routing::new(handle.proposals.clone(), handle.tx.clone()),
        }
    }

    /// Runs until shut down (or until it panics: the supervisor restarts it).
    async fn run(mut self, commands: &mut mpsc::Receiver<Command>) {
        self.refresh_allow_list();
        // Members named by address are dialled at once; the replica keeps
        // the number of connections bounded from then on.
        for addr in self.bootstrap.clone() {
            if peer_of(&addr).is_some_and(|p| self.allowed.contains(&p)) {
                let _ = self.swarm.dial(addr);
            }
        }
        let mut tick = tokio::time::interval(TICK);
        let mut ticks: u64 = 0;
        loop {
            // The replica's own deadline (an ask's measured round trip runs
            // out) comes before the next tick.
            let wake = self.replica.wake_at().map(|at| Duration::from_millis(at.saturating_sub(self.store.now_ms())));
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_event(event),
                _ = sleep_or_never(wake) => self.feed(Input::Tick),
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(Command::Shutdown(done)) => {
                        let _ = done.send(());
                        return;
                    }
                    Some(Command::Announce(v)) => self.feed(Input::Published(v.envelope.to_bytes())),
                    Some(Command::Imported(records)) => self.feed(Input::Imported(records)),
                    Some(Command::TrustUpdated) => {
                        // The replica first (it decides who is told before
                        // being let go), then the allow-list follows it.
                        self.feed(Input::TrustChanged);
                        self.refresh_allow_list();
                    }
                    Some(Command::Stats(reply)) => {
                        let _ = reply.send(self.replica.stats().clone());
                    }
                    Some(Command::Ask { to, request, reply }) => match self.route_to(&to) {
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                        Ok((peer, connected)) => {
                            let rr = &mut self.swarm.behaviour_mut().deconflict;
                            if self.deconflict.ask(rr, peer, connected, request, reply) {
                                self.dial(&to);
                            }
                        }
                    },
                    Some(Command::Respond { id, response }) => {
                        self.deconflict.respond(&mut self.swarm.behaviour_mut().deconflict, id, response);
                    }
                    Some(Command::Fetch { to, request, reply }) => match self.route_to(&to) {
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                        Ok((peer, connected)) => {
                            if self.attach.ask(&mut self.swarm.behaviour_mut().attach, peer, connected, request, reply) {
                                self.dial(&to);
                            }
                        }
                    },
                    Some(Command::Serve { id, response }) => {
                        self.attach.respond(&mut self.swarm.behaviour_mut().attach, id, response);
                    }
                    Some(Command::Coordinate { to, request, reply }) => match self.route_to(&to) {
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                        Ok((peer, connected)) => {
                            let rr = &mut self.swarm.behaviour_mut().coordinate;
                            if self.coordinate.ask(rr, peer, connected, *request, reply) {
                                self.dial(&to);
                            }
                        }
                    },
                    Some(Command::Coordinated { id, response }) => {
                        self.coordinate.respond(&mut self.swarm.behaviour_mut().coordinate, id, response);
                    }
                },
                Some(done) = self.done_rx.recv() => match done {
                    Done::Stored { batch, results } => self.feed(Input::Stored { batch, results }),
                    Done::Trust { from, results, more } => {
                        let changed = results.iter().any(Result::is_ok);
                        for version in results.iter().filter_map(|r| r.as_ref().ok()) {
                            let event = NetEvent::TrustInstalled { from, version: *version };
                            if self.events.try_send(event).is_err() {
                                tracing::error!(%from, version, "trust list installed but the event was dropped");
                            }
                        }
                        let results = results.into_iter().map(|r| r.map(|_| ())).collect();
                        self.feed(Input::TrustApplied { from, results, more });
                        if changed {
                            self.refresh_allow_list();
                        }
                    }
                },
                _ = tick.tick() => {
                    ticks += 1;
                    self.feed(Input::Tick);
                    self.retry_questions();
                    if ticks.is_multiple_of(10) {
                        // Memberships lapse with time, not only with a new list.
                        self.refresh_allow_list();
                        self.publish_peer_table();
                    }
                }
            }
        }
    }

    /// Hands the replica an input and carries out what it decides.
    fn feed(&mut self, input: Input) {
        for output in self.replica.handle(input, self.store.now_ms()) {
            self.carry_out(output);
        }
    }

    fn carry_out(&mut self, output: Output) {
        match output {
            Output::Send { to, msg } => {
                let Ok(peer) = identity::peer_id(&to) else { return };
                if self.swarm.is_connected(&peer) {
                    self.metrics.sync_sent(msg.kind());
                    self.swarm.behaviour_mut().sync.send_request(&peer, Wire { msg, size: 0 });
                }
            }
            Output::Store { batch, records } => {
                let (store, metrics, done) = (self.store.clone(), self.metrics.clone(), self.done_tx.clone());
                let events = self.events.clone();
                tokio::task::spawn_blocking(move || {
                    let results = store.ingest_batch(&records);
                    for r in &results {
                        metrics.ingested(r);
                    }
                    let new: Vec<_> =
                        results.iter().filter_map(|r| r.as_ref().ok().filter(|i| i.is_new()).map(|i| i.id())).collect();
                    // Waits for room rather than drop: an alert must not be lost.
                    if !new.is_empty() && events.blocking_send(NetEvent::Stored(new)).is_err() {
                        tracing::debug!("no one listens for stored records");
                    }
                    // The loop may be gone at shutdown; the records are stored either way.
                    let _ = done.blocking_send(Done::Stored { batch, results });
                });
            }
            Output::ApplyTrust { from, lists, more } => {
                let (store, done) = (self.store.clone(), self.done_tx.clone());
                tokio::task::spawn_blocking(move || {
                    let results = lists.iter().map(|bytes| apply_trust(&store, bytes)).collect();
                    let _ = done.blocking_send(Done::Trust { from, results, more });
                });
            }
            Output::Dial(key) => self.dial(&key),
            Output::Disconnect(key) => {
                if let Ok(peer) = identity::peer_id(&key) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            }
            Output::Penalised { peer, offence, score } => {
                self.metrics.penalised(offence.as_str());
                tracing::warn!(peer = %peer, offence = offence.as_str(), score, "peer penalised");
                if let Ok(id) = identity::peer_id(&peer) {
                    *self.offences.entry(id).or_default().entry(offence.as_str().to_string()).or_default() += 1;
                    self.publish_peer_table();
                }
            }
        }
    }

    /// Where a question to `to` goes, and whether it is connected: only an
    /// active member is asked (a question to one not connected waits at
    /// most [`exchange::DIAL_WAIT`] while it is dialled).
    fn route_to(&self, to: &AgencyKey) -> Result<(PeerId, bool), String> {
        let peer = identity::peer_id(to).map_err(|_| "not a usable agency key".to_string())?;
        if !self.allowed.contains(&peer) {
            return Err("not an active member of the network".into());
        }
        Ok((peer, self.swarm.is_connected(&peer)))
    }

    /// Sends held questions whose member is now connected.
    fn retry_questions(&mut self) {
        let connected = self.deconflict.waiting_for().filter(|p| self.swarm.is_connected(p)).copied().collect();
        self.deconflict.retry(&mut self.swarm.behaviour_mut().deconflict, &connected);
        let connected = self.attach.waiting_for().filter(|p| self.swarm.is_connected(p)).copied().collect();
        self.attach.retry(&mut self.swarm.behaviour_mut().attach, &connected);
        let connected = self.coordinate.waiting_for().filter(|p| self.swarm.is_connected(p)).copied().collect();
        self.coordinate.retry(&mut self.swarm.behaviour_mut().coordinate, &connected);
    }

    /// Dials a member at the addresses the trust list, the configuration
    /// and identify give for it.
    fn dial(&mut self, key: &AgencyKey) {
        let Ok(peer) = identity::peer_id(key) else { return };
        let mut addrs: Vec<Multiaddr> = self
            .store
            .trust()
            .and_then(|t| t.member_by_key(key).map(|m| m.addrs.iter().filter_map(|a| a.parse().ok()).collect()))
            .unwrap_or_default();
        addrs.extend(self.bootstrap.iter().filter(|a| peer_of(a) == Some(peer)).cloned());
        addrs.extend(self.learned.get(&peer).cloned().unwrap_or_default());
        if !addrs.is_empty() {
            let _ = self.swarm.dial(DialOpts::peer_id(peer).addresses(addrs).build());
        }
    }

    /// The allow-list follows the policy: members it admits in, everyone
    /// else (removed, expired) out and disconnected.
    fn refresh_allow_list(&mut self) {
        let Some(list) = self.store.membership() else { return };
        let policy = Policy::new(Some(&list), self.me, self.store.now_ms());
        // A peer whose key was just retired stays until the replica has
        // told it why (see `Replica::parting`); the replica then lets it go.
        let members: HashSet<PeerId> = list
            .keys()
            .filter(|k| policy.admits(k))
            .chain(self.replica.parting())
            .filter_map(|k| identity::peer_id(k).ok())
            .collect();
        for gone in self.allowed.difference(&members).copied().collect::<Vec<_>>() {
            self.swarm.behaviour_mut().allow.disallow_peer(gone);
            let _ = self.swarm.disconnect_peer_id(gone);
            tracing::info!(peer = %gone, "peer no longer a member: disconnected");
        }
        for new in members.difference(&self.allowed).copied().collect::<Vec<_>>() {
            self.swarm.behaviour_mut().allow.allow_peer(new);
        }
        self.allowed = members;
    }

    /// Copies the replica's view of its peers where the API reads it.
    fn publish_peer_table(&self) {
        let mut table = PeerTable::default();
        for (key, last_seen, heads) in self.replica.peers() {
            if let Ok(peer) = identity::peer_id(&key) {
                let agent = self.agents.get(&peer).cloned();
                let offences = self.offences.get(&peer).cloned().unwrap_or_default();
                let info = PeerInfo { connected: true, last_seen_ms: Some(last_seen), agent, heads, offences };
                table.peers.insert(peer.to_string(), info);
            }
        }
        let mut shared = self.peers.write().unwrap_or_else(|e| e.into_inner());
        // Keep what we knew of peers now offline (last seen, last heads).
        for (peer, info) in shared.peers.iter() {
            if self.allowed.iter().any(|a| a.to_string() == *peer) {
                table.peers.entry(peer.clone()).or_insert_with(|| PeerInfo { connected: false, ..info.clone() });
            }
        }
        // Offences stay counted after the offender is cut off.
        for (peer, offences) in &self.offences {
            table.peers.entry(peer.to_string()).or_default().offences = offences.clone();
        }
        *shared = table;
    }

    fn log_wire(&self, msg: &Message) {
        if let Some(path) = &self.wire_log
            && let Ok(bytes) = msg.to_bytes()
        {
            let _ =
                std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(&bytes));
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "p2p listening");
                if let Some(path) = &self.addr_file {
                    let line = format!("{address}/p2p/{}\n", self.swarm.local_peer_id());
                    let _ = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .and_then(|mut f| f.write_all(line.as_bytes()));
                }
            }
            SwarmEvent::ConnectionEstablished { peer_id, num_established, endpoint, .. }
                if num_established.get() == 1 =>
            {
                if let Some(key) = identity::agency_key(&peer_id) {
                    self.feed(Input::PeerUp { peer: key, dialled: endpoint.is_dialer() });
                }
                self.retry_questions();
                self.publish_peer_table();
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                if let Some(key) = identity::agency_key(&peer_id) {
                    self.feed(Input::PeerDown(key));
                }
                self.publish_peer_table();
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message: request_response::Message::Request { request, channel, .. },
                ..
            })) => {
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, Ack);
                self.log_wire(&request.msg);
                self.metrics.sync_received(request.msg.kind(), request.size);
                if let Some(from) = identity::agency_key(&peer) {
                    self.feed(Input::Message { from, msg: request.msg, size: request.size });
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                peer,
                error,
                ..
            })) => {
                tracing::debug!(%peer, %error, "sync message not delivered");
                if let Some(to) = identity::agency_key(&peer) {
                    self.feed(Input::Delivered { to, ok: false });
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message: request_response::Message::Response { .. },
                ..
            })) => {
                if let Some(to) = identity::agency_key(&peer) {
                    self.feed(Input::Delivered { to, ok: true });
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(libp2p::ping::Event { peer, result: Err(error), .. })) => {
                tracing::info!(%peer, %error, "ping failed: the link is dead");
                if let Some(key) = identity::agency_key(&peer) {
                    self.feed(Input::PeerSilent(key));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::InboundFailure {
                peer,
                error,
                ..
            })) => {
                // Bytes that do not decode within the bounds are the sender's fault.
                tracing::debug!(%peer, %error, "sync message refused");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Deconflict(event)) => {
                self.deconflict.on_event(&mut self.swarm.behaviour_mut().deconflict, event);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Attach(event)) => {
                self.attach.on_event(&mut self.swarm.behaviour_mut().attach, event);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Coordinate(event)) => {
                self.coordinate.on_event(&mut self.swarm.behaviour_mut().coordinate, event);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                let addrs: Vec<Multiaddr> =
                    info.listen_addrs.into_iter().filter(|a| !a.iter().any(is_loopback_unspecified)).collect();
                self.learned.insert(peer_id, addrs.into_iter().take(8).collect());
                self.agents.insert(peer_id, info.agent_version.chars().take(256).collect());
            }
            _ => {}
        }
    }
}

/// Where `KAWAN_WIRE_LOG` asks received messages to be logged: only in
/// builds with the `wire-log` feature (the tests'), never in production.
/// The file is created at once, so a test can tell a node that logs
/// nothing yet from a binary that cannot log.
fn wire_log_path() -> Option<PathBuf> {
    let path = if cfg!(feature = "wire-log") { std::env::var_os("KAWAN_WIRE_LOG").map(PathBuf::from) } else { None };
    if let Some(p) = &path {
        let _ = std::fs::OpenOptions::new().create(true).append(true).open(p);
    }
    path
}

/// Applies one signed trust list received from a peer (the driver's half
/// of [`Output::ApplyTrust`]; the simulator uses it too).
pub fn apply_trust(store: &Store, bytes: &[u8]) -> Result<u64, TrustRefusal> {
    let signed = SignedTrustList::from_bytes(bytes).map_err(|e| TrustRefusal::Invalid(e.to_string()))?;
    match store.apply_trust_update(&signed) {
        Ok(list) => Ok(list.version),
        Err(TrustStoreError::Trust(TrustError::NotNewer { got, .. })) => Err(TrustRefusal::Stale(got)),
        Err(e) => Err(TrustRefusal::Invalid(e.to_string())),
    }
}

fn is_loopback_unspecified(p: libp2p::multiaddr::Protocol) -> bool {
    matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_unspecified())
}

/// The PeerId at the end of a multiaddr, if any.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// Sleeps for `wait`, or forever when there is nothing to wait for.
async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
