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

/// Dials the node whose directory is `target` as `key`, and once the node
/// talks to us, pushes each of `records` (envelope bytes) in its own
/// message; serves the connection for `linger` so the node can judge us.
pub fn push_as(key: &Keypair, target: &Path, records: &[Vec<u8>], linger: Duration) -> Outcome {
    let addr: Multiaddr = std::fs::read_to_string(target.join("p2p.addr"))
        .expect("the node wrote its p2p address")
        .lines()
        .next()
        .expect("an address")
        .parse()
        .expect("a multiaddr");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(identity::libp2p_keypair(key).expect("ed25519"))
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .expect("tcp")
            .with_behaviour(Behaviour::new)
            .expect("behaviour")
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
