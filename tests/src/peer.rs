//! A bare libp2p peer that speaks Kawan's sync protocol with any key it
//! holds: what a rogue member or a key thief runs. Built from the node's own
//! behaviour, so it is exactly as capable as a real node on the wire.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use futures::StreamExt as _;
use kawan_node::{
    identity,
    net::{
        behaviour::{Behaviour, BehaviourEvent},
        codec::{Ack, Wire},
    },
};
use kawan_protocol::{Keypair, Message};
use libp2p::{Multiaddr, noise, request_response, swarm::SwarmEvent, tcp, yamux};

/// What happened when the peer tried.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The node talked to us (it admitted our key).
    pub connected: bool,
    /// Messages we got out.
    pub sent: usize,
    /// The node closed the connection afterwards.
    pub cut_off: bool,
}

/// A swarm with the node's own behaviour, keyed `key`, dialling the node
/// whose directory is `target` (its address from `p2p.addr`). Call within a
/// tokio runtime.
fn dialled(key: &Keypair, target: &Path) -> (libp2p::Swarm<Behaviour>, libp2p::PeerId) {
    let addr: Multiaddr = std::fs::read_to_string(target.join("p2p.addr"))
        .expect("the node wrote its p2p address")
        .lines()
        .next()
        .expect("an address")
        .parse()
        .expect("a multiaddr");
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(identity::libp2p_keypair(key).expect("ed25519"))
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .expect("tcp")
        .with_behaviour(Behaviour::new)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let target_peer = addr
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::P2p(id) => Some(id),
            _ => None,
        })
        .expect("the address names the peer");
    swarm.behaviour_mut().allow.allow_peer(target_peer);
    swarm.dial(addr).expect("dial");
    (swarm, target_peer)
}

/// Dials the node whose directory is `target` as `key`, and once the node
/// talks to us, pushes each of `records` (envelope bytes) in its own
/// message; serves the connection for `linger` so the node can judge us.
pub fn push_as(key: &Keypair, target: &Path, records: &[Vec<u8>], linger: Duration) -> Outcome {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let (mut swarm, target_peer) = dialled(key, target);
        let mut outcome = Outcome::default();
        // Wait until the node talks to us (its digest on connecting).
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && !outcome.connected {
            if let Ok(SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }))) = tokio::time::timeout(Duration::from_millis(200), swarm.select_next_some()).await
            {
                let _ = swarm.behaviour_mut().sync.send_response(channel, Ack);
                outcome.connected = true;
            }
        }
        if !outcome.connected {
            return outcome;
        }
        for bytes in records {
            let msg = Message::Push { records: vec![serde_bytes::ByteBuf::from(bytes.clone())] };
            swarm.behaviour_mut().sync.send_request(&target_peer, Wire { msg, size: 0 });
            outcome.sent += 1;
        }
        let until = Instant::now() + linger;
        while Instant::now() < until {
            match tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await {
                Ok(SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. }) if peer_id == target_peer => {
                    outcome.cut_off = true;
                }
                Ok(SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. },
                    ..
                }))) => {
                    let _ = swarm.behaviour_mut().sync.send_response(channel, Ack);
                }
                _ => {}
            }
        }
        outcome
    })
}

/// A raw connection to one node that speaks the deconfliction protocol
/// with any key: to send forged, replayed or stale requests, and to answer
/// the node's questions with whatever bytes a hostile holder would.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    swarm: libp2p::Swarm<Behaviour>,
    target: libp2p::PeerId,
}

impl Session {
    /// Dials the node whose directory is `target` as `key`; waits until connected.
    pub fn connect(key: &Keypair, target: &Path) -> Session {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let (swarm, target_peer) = runtime.block_on(async {
            let (mut swarm, target_peer) = dialled(key, target);
            let deadline = Instant::now() + Duration::from_secs(15);
            while !swarm.is_connected(&target_peer) {
                assert!(Instant::now() < deadline, "the node did not accept the connection");
                let _ = tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await;
            }
            (swarm, target_peer)
        });
        Session { runtime, swarm, target: target_peer }
    }

    /// Sends one request (`send`) and waits for the answer `answer` picks
    /// out of the behaviour's events, acknowledging sync messages meanwhile.
    fn round_trip<T>(
        &mut self,
        send: impl FnOnce(&mut Behaviour, &libp2p::PeerId) -> request_response::OutboundRequestId,
        answer: impl Fn(BehaviourEvent) -> Option<(request_response::OutboundRequestId, Result<T, String>)>,
    ) -> Result<T, String> {
        let Session { runtime, swarm, target } = self;
        runtime.block_on(async {
            let id = send(swarm.behaviour_mut(), target);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                match tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await {
                    Ok(SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { channel, .. },
                        ..
                    }))) => {
                        let _ = swarm.behaviour_mut().sync.send_response(channel, Ack);
                    }
                    Ok(SwarmEvent::Behaviour(event)) => {
                        if let Some((answered, result)) = answer(event)
                            && answered == id
                        {
                            return result;
                        }
                    }
                    _ => {}
                }
            }
            Err("no answer in 20 s".into())
        })
    }

    /// Sends one deconfliction request and waits for the node's answer.
    pub fn ask(
        &mut self,
        request: kawan_protocol::deconflict::Request,
    ) -> Result<kawan_protocol::deconflict::Response, String> {
        self.round_trip(
            |b, to| b.deconflict.send_request(to, request),
            |event| match event {
                BehaviourEvent::Deconflict(e) => answer_of(e),
                _ => None,
            },
        )
    }

    /// Asks the node for a file's manifest or a chunk, as a member's node
    /// would, and waits for its answer.
    pub fn fetch(
        &mut self,
        request: kawan_protocol::attachment::Fetch,
    ) -> Result<kawan_protocol::attachment::Served, String> {
        self.round_trip(
            |b, to| b.attach.send_request(to, request),
            |event| match event {
                BehaviourEvent::Attach(e) => answer_of(e),
                _ => None,
            },
        )
    }

    /// Answers the node's deconfliction questions with `answer` for
    /// `duration`; returns how many it answered.
    pub fn serve(
        &mut self,
        duration: Duration,
        mut answer: impl FnMut(kawan_protocol::deconflict::Request) -> kawan_protocol::deconflict::Response,
    ) -> usize {
        let Session { runtime, swarm, .. } = self;
        runtime.block_on(async {
            let mut served = 0;
            let until = Instant::now() + duration;
            while Instant::now() < until {
                match tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await {
                    Ok(SwarmEvent::Behaviour(BehaviourEvent::Deconflict(request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. },
                        ..
                    }))) => {
                        let _ = swarm.behaviour_mut().deconflict.send_response(channel, answer(request));
                        served += 1;
                    }
                    Ok(SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { channel, .. },
                        ..
                    }))) => {
                        let _ = swarm.behaviour_mut().sync.send_response(channel, Ack);
                    }
                    _ => {}
                }
            }
            served
        })
    }
}

/// The answer (or the failure) a request-response event carries, by the
/// request it answers.
fn answer_of<Req, Res>(
    event: request_response::Event<Req, Res>,
) -> Option<(request_response::OutboundRequestId, Result<Res, String>)> {
    match event {
        request_response::Event::Message {
            message: request_response::Message::Response { request_id, response },
            ..
        } => Some((request_id, Ok(response))),
        request_response::Event::OutboundFailure { request_id, error, .. } => {
            Some((request_id, Err(error.to_string())))
        }
        _ => None,
    }
}
