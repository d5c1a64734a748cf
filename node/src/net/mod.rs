//! The federation (DESIGN.md §5): a libp2p swarm that gossips `network`
//! records and trust-list updates, pushes group records to group members only,
//! and catches peers up by heads exchange and bounded pulls.
//!
//! The network code is given the record [`Store`] and nothing else: case data
//! lives in another type it never sees. Whatever it sends — gossip, group
//! pushes, relays, pull answers — it first puts to [`crate::policy`].

pub mod behaviour;

use std::{
    collections::{HashMap, HashSet},
    io::Write as _,
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use futures::StreamExt as _;
use kawan_protocol::{
    AgencyKey, Channel, Envelope, Head, Keypair, NetworkId, SignedTrustList, SyncRequest, SyncResponse, TrustList,
    Verified, limits::MAX_BATCH_RECORDS, sync::missing,
};
use libp2p::{
    Multiaddr, PeerId, Swarm, gossipsub, noise,
    request_response::{self, OutboundRequestId, ResponseChannel},
    swarm::{SwarmEvent, dial_opts::DialOpts},
    tcp, yamux,
};
use serde::Serialize;
use serde_bytes::ByteBuf;
use tokio::sync::mpsc;

use crate::{
    clock::now_ms,
    identity,
    metrics::Metrics,
    policy::{self, Item, Policy, Recipient},
    store::{Ingested, Store},
};
use behaviour::{Behaviour, BehaviourEvent};

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot start the network: {0}")]
    Start(String),
    #[error("invalid p2p listen address {addr:?}: {message}")]
    Listen { addr: String, message: String },
}

/// What the rest of the node asks of the network.
pub enum Command {
    /// A record this agency just published.
    Announce(Box<Verified>),
    /// A trust list the local coordinator installed.
    TrustUpdated(SignedTrustList),
}

/// How the API reaches the network task.
#[derive(Clone)]
pub struct NetHandle {
    tx: mpsc::UnboundedSender<Command>,
    pub peers: Arc<RwLock<PeerTable>>,
}

impl NetHandle {
    pub fn send(&self, cmd: Command) {
        // The network task lives as long as the node; if it is gone, sync
        // delivers the record later.
        let _ = self.tx.send(cmd);
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
    /// The peer's heads at the last exchange.
    #[serde(skip)]
    pub heads: Vec<Head>,
}

/// What the network needs to start.
pub struct NetConfig {
    pub key: Keypair,
    pub network: NetworkId,
    pub listen: Vec<String>,
    pub bootstrap: Vec<String>,
    /// Where to write the addresses actually listened on (for tests and the demo).
    pub addr_file: Option<PathBuf>,
}

/// Starts the swarm task; returns once it listens.
pub async fn start(config: NetConfig, store: Arc<Store>, metrics: Arc<Metrics>) -> Result<NetHandle, NetError> {
    let key = identity::libp2p_keypair(&config.key).map_err(|e| NetError::Start(e.to_string()))?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Start(e.to_string()))?
        .with_quic()
        .with_behaviour(|k| Behaviour::new(k).map_err(Box::<dyn std::error::Error + Send + Sync>::from))
        .map_err(|e| NetError::Start(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    for addr in &config.listen {
        let ma: Multiaddr = addr
            .parse()
            .map_err(|e: libp2p::multiaddr::Error| NetError::Listen { addr: addr.clone(), message: e.to_string() })?;
        swarm.listen_on(ma).map_err(|e| NetError::Listen { addr: addr.clone(), message: e.to_string() })?;
    }
    let (records, trust) = topics(&config.network);
    swarm.behaviour_mut().gossipsub.subscribe(&records).map_err(|e| NetError::Start(e.to_string()))?;
    swarm.behaviour_mut().gossipsub.subscribe(&trust).map_err(|e| NetError::Start(e.to_string()))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let peers = Arc::new(RwLock::new(PeerTable::default()));
    let bootstrap = config.bootstrap.iter().filter_map(|a| a.parse::<Multiaddr>().ok()).collect();
    let (stored_tx, stored_rx) = mpsc::channel(STORED_CAPACITY);
    let mut net = Net {
        swarm,
        store,
        metrics,
        me: config.key.public(),
        network: config.network,
        records,
        trust,
        peers: peers.clone(),
        allowed: HashSet::new(),
        dialed: HashMap::new(),
        bootstrap,
        addr_file: config.addr_file,
        wire_log: std::env::var_os("KAWAN_WIRE_LOG").map(PathBuf::from),
        pending_pulls: HashMap::new(),
        stored_tx,
    };
    net.on_trust_changed();
    tokio::spawn(net.run(rx, stored_rx));
    Ok(NetHandle { tx, peers })
}

struct Net {
    swarm: Swarm<Behaviour>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    me: AgencyKey,
    network: NetworkId,
    records: gossipsub::IdentTopic,
    trust: gossipsub::IdentTopic,
    peers: Arc<RwLock<PeerTable>>,
    allowed: HashSet<PeerId>,
    /// Last dial attempt and the current backoff per peer.
    dialed: HashMap<PeerId, (Instant, Duration)>,
    bootstrap: Vec<Multiaddr>,
    addr_file: Option<PathBuf>,
    /// Test aid: every message received from a peer is appended here.
    wire_log: Option<PathBuf>,
    /// Outstanding pulls, so a batch answer can be followed up.
    pending_pulls: HashMap<OutboundRequestId, PeerId>,
    /// Pulled batches stored off this task report here (group records to relay).
    stored_tx: mpsc::Sender<Stored>,
}

/// Pulled batches being stored at once, at most (each holds ≤ 256 records).
const STORED_CAPACITY: usize = 16;

/// Where a log ends in a pulled batch: (channel, author) → last seq.
type Ends = HashMap<(Channel, AgencyKey), u64>;

/// What a pulled batch's blocking task reports back to the loop.
enum Stored {
    /// Decoded: where its logs end, so the next range can be asked for
    /// while this one is verified and written.
    Decoded { from: PeerId, ends: Ends },
    /// Stored: its new group records, to relay to the group.
    Written { from: PeerId, groups: Vec<(Channel, Vec<Vec<u8>>)> },
}

impl Net {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>, mut stored: mpsc::Receiver<Stored>) {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        let mut resync = tokio::time::interval(Duration::from_secs(15));
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => return,
                },
                event = self.swarm.select_next_some() => self.on_event(event),
                Some(done) = stored.recv() => match done {
                    Stored::Decoded { from, ends } => {
                        let shared = self.shared_channels(&from);
                        self.pull_after_batch(from, &ends, &shared);
                    }
                    Stored::Written { from, groups } => {
                        for (channel, batch) in groups {
                            self.push_to_group(&channel, batch, Some(from));
                        }
                    }
                },
                _ = tick.tick() => {
                    // Memberships also lapse with time, not only with a new list.
                    self.on_trust_changed();
                    self.dial_members();
                }
                _ = resync.tick() => {
                    let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                    for peer in connected {
                        self.send_heads(peer);
                    }
                }
            }
        }
    }

    fn trust_list(&self) -> Option<Arc<TrustList>> {
        self.store.trust()
    }

    /// Channels both this node and `peer` may see (the policy's answer).
    fn shared_channels(&self, peer: &PeerId) -> Vec<Channel> {
        let (list, Some(key)) = (self.trust_list(), identity::agency_key(peer)) else { return vec![] };
        Policy::new(list.as_deref(), self.me, now_ms()).shared_channels(&key)
    }

    /// Whether `peer` may receive a record of `channel` over `path`.
    fn may_send(&self, peer: &PeerId, channel: &Channel, path: policy::Path) -> bool {
        let (list, Some(key)) = (self.trust_list(), identity::agency_key(peer)) else { return false };
        Policy::new(list.as_deref(), self.me, now_ms()).allows(
            Item::Record { channel, tlp: None },
            Recipient::Peer(&key),
            path,
        )
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Announce(v) => {
                let bytes = v.envelope.to_bytes();
                match &v.record.header.channel {
                    channel @ Channel::Network => {
                        // Everyone connected receives gossip: a peer the
                        // policy refuses (its membership lapsed) is cut off
                        // first. With no peers yet, sync delivers it later.
                        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                        if !connected.iter().all(|p| self.may_send(p, channel, policy::Path::Gossip)) {
                            self.on_trust_changed();
                        }
                        let _ = self.swarm.behaviour_mut().gossipsub.publish(self.records.clone(), bytes);
                    }
                    channel @ Channel::Group(_) => self.push_to_group(channel, vec![bytes], None),
                }
            }
            Command::TrustUpdated(signed) => {
                let _ = self.swarm.behaviour_mut().gossipsub.publish(self.trust.clone(), signed.to_bytes());
                self.on_trust_changed();
            }
        }
    }

    /// Sends group records straight to the connected members of the group:
    /// our own (a push), or new ones received from `from` (a relay).
    fn push_to_group(&mut self, channel: &Channel, records: Vec<Vec<u8>>, from: Option<PeerId>) {
        let path = if from.is_some() { policy::Path::Relay } else { policy::Path::Push };
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in connected {
            if Some(peer) != from && self.may_send(&peer, channel, path) {
                let records = records.iter().cloned().map(ByteBuf::from).collect();
                self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Push { records });
            }
        }
    }

    /// The allow-list follows the trust list: members the policy admits in,
    /// everyone else (removed, expired) out and disconnected.
    fn on_trust_changed(&mut self) {
        let Some(list) = self.trust_list() else { return };
        let policy = Policy::new(Some(&list), self.me, now_ms());
        let members: HashSet<PeerId> = list
            .members
            .iter()
            .filter(|m| policy.admits(&m.key))
            .filter_map(|m| identity::peer_id(&m.key).ok())
            .collect();
        for gone in self.allowed.difference(&members).copied().collect::<Vec<_>>() {
            self.swarm.behaviour_mut().allow.disallow_peer(gone);
            let _ = self.swarm.disconnect_peer_id(gone);
            tracing::info!(peer = %gone, "peer removed from the trust list: disconnected");
        }
        for new in members.difference(&self.allowed).copied().collect::<Vec<_>>() {
            self.swarm.behaviour_mut().allow.allow_peer(new);
        }
        self.allowed = members;
        let mut table = self.peers.write().unwrap_or_else(|e| e.into_inner());
        table.peers.retain(|p, _| self.allowed.iter().any(|a| a.to_string() == *p));
    }

    /// Dials members that are not connected, with exponential backoff.
    fn dial_members(&mut self) {
        let Some(list) = self.trust_list() else { return };
        let now = Instant::now();
        for m in &list.members {
            let Ok(peer) = identity::peer_id(&m.key) else { continue };
            if m.key == self.me || !self.allowed.contains(&peer) || self.swarm.is_connected(&peer) {
                continue;
            }
            let (last, backoff) =
                self.dialed.get(&peer).copied().unwrap_or((now - Duration::from_secs(3600), Duration::from_secs(1)));
            if now.duration_since(last) < backoff {
                continue;
            }
            let mut addrs: Vec<Multiaddr> = m.addrs.iter().filter_map(|a| a.parse().ok()).collect();
            addrs.extend(self.bootstrap.iter().filter(|a| peer_of(a) == Some(peer)).cloned());
            if addrs.is_empty() {
                continue;
            }
            let opts = DialOpts::peer_id(peer).addresses(addrs).build();
            let _ = self.swarm.dial(opts);
            self.dialed.insert(peer, (now, (backoff * 2).min(Duration::from_secs(60))));
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
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                self.dialed.remove(&peer_id);
                self.touch(&peer_id, true);
                if num_established.get() == 1 {
                    self.send_heads(peer_id);
                    let after = self.trust_list().map_or(0, |t| t.version);
                    self.swarm
                        .behaviour_mut()
                        .sync
                        .send_request(&peer_id, SyncRequest::TrustLists { after_version: after });
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => self.touch(&peer_id, false),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.on_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. })) => {
                match message {
                    request_response::Message::Request { request, channel, .. } => {
                        self.on_request(peer, request, channel)
                    }
                    request_response::Message::Response { request_id, response } => {
                        self.on_response(peer, request_id, response)
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                peer,
                error,
                ..
            })) => tracing::debug!(%peer, %error, "sync request failed"),
            _ => {}
        }
    }

    fn touch(&self, peer: &PeerId, connected: bool) {
        let mut table = self.peers.write().unwrap_or_else(|e| e.into_inner());
        let info = table.peers.entry(peer.to_string()).or_default();
        info.connected = connected;
        info.last_seen_ms = Some(now_ms());
    }

    fn log_wire(&self, bytes: &[u8]) {
        if let Some(path) = &self.wire_log {
            let _ =
                std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(bytes));
        }
    }

    /// Gossip: only verified records of current members are accepted and
    /// forwarded; anything else is rejected, which penalises the sender.
    fn on_gossip(&mut self, from: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        self.log_wire(&message.data);
        let acceptance = if message.topic == self.records.hash() {
            let result = match Envelope::from_bytes(&message.data) {
                Ok(env) if env.record_unverified().is_ok_and(|r| r.header.channel != Channel::Network) => {
                    // Group records never travel on gossip.
                    Err(())
                }
                _ => {
                    let r = tokio::task::block_in_place(|| self.store.ingest(&message.data));
                    self.metrics.ingested(&r);
                    match r {
                        Ok(Ingested::Duplicate(_)) => Ok(false),
                        Ok(_) => Ok(true),
                        Err(_) => Err(()),
                    }
                }
            };
            match result {
                Ok(true) => gossipsub::MessageAcceptance::Accept,
                Ok(false) => gossipsub::MessageAcceptance::Ignore,
                Err(()) => gossipsub::MessageAcceptance::Reject,
            }
        } else if message.topic == self.trust.hash() {
            match SignedTrustList::from_bytes(&message.data) {
                Ok(signed) => match tokio::task::block_in_place(|| self.store.apply_trust_update(&signed)) {
                    Ok(_) => {
                        self.on_trust_changed();
                        gossipsub::MessageAcceptance::Accept
                    }
                    Err(e) => {
                        tracing::info!(%from, error = %e, "trust list update ignored");
                        gossipsub::MessageAcceptance::Ignore
                    }
                },
                Err(_) => gossipsub::MessageAcceptance::Reject,
            }
        } else {
            gossipsub::MessageAcceptance::Reject
        };
        let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(&id, &from, acceptance);
    }

    fn send_heads(&mut self, peer: PeerId) {
        let channels = self.shared_channels(&peer);
        if channels.is_empty() {
            return;
        }
        let Ok(heads) = self.store.heads(Some(&channels)) else { return };
        let req = SyncRequest::Heads { network: self.network.clone(), heads };
        self.swarm.behaviour_mut().sync.send_request(&peer, req);
    }

    fn on_request(&mut self, peer: PeerId, request: SyncRequest, channel: ResponseChannel<SyncResponse>) {
        if self.wire_log.is_some()
            && let Ok(bytes) = request.to_bytes()
        {
            self.log_wire(&bytes);
        }
        let shared = self.shared_channels(&peer);
        let response = if shared.is_empty() {
            SyncResponse::Refused { reason: "not a current member of this network".into() }
        } else {
            match request {
                SyncRequest::Heads { network, heads } if network == self.network => {
                    self.remember_heads(&peer, &heads);
                    self.pull_missing(peer, &heads, &shared);
                    match self.store.heads(Some(&shared)) {
                        Ok(heads) => SyncResponse::Heads { heads },
                        Err(e) => SyncResponse::Refused { reason: e.to_string() },
                    }
                }
                SyncRequest::Heads { .. } => SyncResponse::Refused { reason: "different network".into() },
                SyncRequest::Pull { wants } => self.serve_pull(&peer, &wants),
                SyncRequest::TrustLists { after_version } => match self.store.trust_lists_after(after_version) {
                    Ok(lists) => SyncResponse::TrustLists { lists: lists.into_iter().map(ByteBuf::from).collect() },
                    Err(e) => SyncResponse::Refused { reason: e.to_string() },
                },
                SyncRequest::Push { records } => {
                    let records = decode_batch(records);
                    let new = self.ingest(&records, &shared);
                    let count = new.iter().map(|(_, b)| b.len() as u32).sum();
                    // Relay group records to the other members of the group.
                    for (channel, batch) in new {
                        self.push_to_group(&channel, batch, Some(peer));
                    }
                    SyncResponse::Accepted { new: count }
                }
            }
        };
        let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
    }

    /// Records of the wanted logs, only on channels the requester may see.
    fn serve_pull(&self, peer: &PeerId, wants: &[kawan_protocol::Want]) -> SyncResponse {
        let mut records = Vec::new();
        let mut more = false;
        for w in wants.iter().take(256) {
            if !self.may_send(peer, &w.channel, policy::Path::PullAnswer) {
                continue;
            }
            let room = MAX_BATCH_RECORDS.saturating_sub(records.len());
            let limit = (w.limit as usize).min(room);
            if limit == 0 {
                more = true;
                break;
            }
            match self.store.log_after(&w.channel, &w.author, w.after_seq, limit) {
                Ok(batch) => {
                    more |= batch.len() == limit;
                    records.extend(batch.into_iter().map(ByteBuf::from));
                }
                Err(e) => return SyncResponse::Refused { reason: e.to_string() },
            }
        }
        SyncResponse::Batch { records, more }
    }

    fn remember_heads(&self, peer: &PeerId, heads: &[Head]) {
        let mut table = self.peers.write().unwrap_or_else(|e| e.into_inner());
        let info = table.peers.entry(peer.to_string()).or_default();
        info.heads = heads.to_vec();
        info.last_seen_ms = Some(now_ms());
    }

    /// Asks `peer` for whatever its heads show that we lack.
    fn pull_missing(&mut self, peer: PeerId, theirs: &[Head], shared: &[Channel]) {
        let theirs: Vec<Head> = theirs.iter().filter(|h| shared.contains(&h.channel)).cloned().collect();
        let Ok(ours) = self.store.heads(Some(shared)) else { return };
        let wants = missing(&ours, &theirs, MAX_BATCH_RECORDS as u32);
        if !wants.is_empty() {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Pull { wants });
            self.pending_pulls.insert(id, peer);
        }
    }

    /// The pull that continues each log of `batch` where it ends, for logs
    /// the peer's last heads show to be longer.
    fn pull_after_batch(&mut self, peer: PeerId, ends: &Ends, shared: &[Channel]) {
        let theirs = self.peers.read().ok().and_then(|t| t.peers.get(&peer.to_string()).map(|i| i.heads.clone()));
        let wants: Vec<kawan_protocol::Want> = theirs
            .unwrap_or_default()
            .into_iter()
            .filter(|h| shared.contains(&h.channel))
            .filter_map(|h| {
                let end = *ends.get(&(h.channel.clone(), h.author))?;
                (h.seq > end).then_some(kawan_protocol::Want {
                    channel: h.channel,
                    author: h.author,
                    after_seq: end,
                    limit: MAX_BATCH_RECORDS as u32,
                })
            })
            .collect();
        if wants.is_empty() {
            self.send_heads(peer);
        } else {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Pull { wants });
            self.pending_pulls.insert(id, peer);
        }
    }

    /// Ingests pushed records here, to answer the push with what was new.
    fn ingest(&mut self, records: &[Incoming], shared: &[Channel]) -> Vec<(Channel, Vec<Vec<u8>>)> {
        tokio::task::block_in_place(|| ingest_into(&self.store, &self.metrics, records, shared))
    }

    /// Decodes and stores a pulled batch on a blocking thread, so this task
    /// keeps serving: decoding is reported first (the loop then asks for the
    /// next range, one batch always in flight), and verifying one batch
    /// overlaps the previous one's fsync (the store's group commit joins them).
    fn ingest_off_task(&self, from: PeerId, records: Vec<ByteBuf>, more: bool, shared: Vec<Channel>) {
        let (store, metrics, done) = (self.store.clone(), self.metrics.clone(), self.stored_tx.clone());
        tokio::task::spawn_blocking(move || {
            let records = decode_batch(records);
            // The loop may be gone at shutdown; the records are stored either way.
            if more && !records.is_empty() {
                let mut ends = Ends::new();
                for r in &records {
                    let end = ends.entry((r.header.channel.clone(), r.header.author)).or_default();
                    *end = (*end).max(r.header.seq);
                }
                let _ = done.blocking_send(Stored::Decoded { from, ends });
            }
            let groups = ingest_into(&store, &metrics, &records, &shared);
            let _ = done.blocking_send(Stored::Written { from, groups });
        });
    }

    fn on_response(&mut self, peer: PeerId, request_id: OutboundRequestId, response: SyncResponse) {
        // Encoding a whole batch again costs as much as decoding it: only
        // when the wire log is on.
        if self.wire_log.is_some()
            && let Ok(bytes) = response.to_bytes()
        {
            self.log_wire(&bytes);
        }
        let shared = self.shared_channels(&peer);
        match response {
            SyncResponse::Heads { heads } => {
                self.remember_heads(&peer, &heads);
                self.pull_missing(peer, &heads, &shared);
            }
            SyncResponse::Batch { records, more } => {
                self.pending_pulls.remove(&request_id);
                self.ingest_off_task(peer, records, more, shared);
            }
            SyncResponse::TrustLists { lists } => {
                let mut changed = false;
                for bytes in lists {
                    if let Ok(signed) = SignedTrustList::from_bytes(&bytes) {
                        changed |= tokio::task::block_in_place(|| self.store.apply_trust_update(&signed)).is_ok();
                    }
                }
                if changed {
                    self.on_trust_changed();
                }
            }
            SyncResponse::Refused { reason } => tracing::debug!(%peer, %reason, "sync refused"),
            SyncResponse::Accepted { .. } => {}
        }
    }
}

/// Ingests records from a peer, keeping only channels both may see; returns
/// the new group records by channel, for relaying (network records need no
/// relay: sync and gossip carry them).
fn ingest_into(
    store: &Store,
    metrics: &Metrics,
    records: &[Incoming],
    shared: &[Channel],
) -> Vec<(Channel, Vec<Vec<u8>>)> {
    let allowed: Vec<&Incoming> = records.iter().filter(|r| shared.contains(&r.header.channel)).collect();
    let bytes: Vec<Vec<u8>> = allowed.iter().map(|r| r.bytes.clone()).collect();
    let results = store.ingest_batch(&bytes);
    let mut groups: HashMap<Channel, Vec<Vec<u8>>> = HashMap::new();
    for (r, rec) in results.iter().zip(allowed) {
        metrics.ingested(r);
        if r.as_ref().is_ok_and(Ingested::is_new) && rec.header.channel != Channel::Network {
            groups.entry(rec.header.channel.clone()).or_default().push(rec.bytes.clone());
        }
    }
    groups.into_iter().collect()
}

/// A record received in a batch, its header read once (unverified: only
/// for routing; the store verifies before anything is stored).
struct Incoming {
    bytes: Vec<u8>,
    header: kawan_protocol::Header,
}

/// Decodes a received batch once; undecodable records are dropped here and
/// would be refused by the store anyway.
fn decode_batch(records: Vec<ByteBuf>) -> Vec<Incoming> {
    records
        .into_iter()
        .take(MAX_BATCH_RECORDS)
        .filter_map(|b| {
            let bytes = b.into_vec();
            let header = Envelope::from_bytes(&bytes).and_then(|e| e.peek_header()).ok()?;
            Some(Incoming { bytes, header })
        })
        .collect()
}

/// The gossip topics of a network: records of the `network` channel, and
/// trust-list updates.
pub fn topics(network: &NetworkId) -> (gossipsub::IdentTopic, gossipsub::IdentTopic) {
    (
        gossipsub::IdentTopic::new(format!("kawan/{network}/records/1")),
        gossipsub::IdentTopic::new(format!("kawan/{network}/trust/1")),
    )
}

/// The PeerId at the end of a multiaddr, if any.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(id) => Some(id),
        _ => None,
    })
}
