//! A member that sends invalid records — forged, malformed, oversized, group
//! records it may not send — is refused, penalised and cut off, and the
//! honest nodes keep working. The rogue is a real libp2p peer built from the
//! node's own behaviour, holding a member's key.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use kawan_node::{
    identity,
    net::{
        behaviour::{Behaviour, BehaviourEvent},
        codec::{Ack, Wire},
    },
};
use kawan_protocol::*;
use kawan_tests::{
    TestNetwork, TestNode,
    fixtures::{phone, phone_body, signed},
};
use libp2p::{Multiaddr, noise, request_response, swarm::SwarmEvent, tcp, yamux};
use serde_json::json;

fn records(n: &TestNode) -> u64 {
    n.request("GET", "/api/v1/status", Some(&n.token)).call().json()["records"].as_u64().unwrap_or(0)
}

/// The invalid things a rogue member sends.
fn poison(member: &Keypair, other: &Keypair) -> Vec<Vec<u8>> {
    let mut forged = signed(member, Channel::Network, 1, None, phone_body(11)).envelope;
    forged.sig = other.sign(RECORD_DOMAIN, &forged.signed);
    let group = Body::Indicator(Indicator {
        tlp: Tlp::Amber,
        ..match phone_body(12) {
            Body::Indicator(i) => i,
            _ => unreachable!(),
        }
    });
    let mekong = Channel::Group(GroupId::new("mekong").unwrap());
    vec![
        forged.to_bytes(),
        signed(member, mekong, 1, None, group).envelope.to_bytes(),
        vec![0xa2; 70 * 1024],
        b"not a record".to_vec(),
    ]
}

#[test]
fn a_member_sending_invalid_records_is_refused_and_the_network_keeps_working() {
    let mut net = TestNetwork::start(3, &[("mekong", &[0, 1])]);
    net.wait_for(30, "connected", |net| {
        let n = net.node(0);
        let peers = n.request("GET", "/api/v1/peers", Some(&n.token)).call().json();
        peers.as_array().is_some_and(|ps| ps.iter().filter(|p| p["connected"] == true).count() == 2)
    });
    // Agency 2's node goes away; a rogue process uses its key.
    net.stop(2);
    let member = identity::load(&net.dir(2).join("agency.key")).unwrap();
    let other = identity::load(&net.dir(1).join("agency.key")).unwrap();
    let target: Multiaddr =
        std::fs::read_to_string(net.dir(0).join("p2p.addr")).unwrap().lines().next().unwrap().parse().unwrap();
    let bad = poison(&member, &other);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sent = runtime.block_on(async {
        let key = identity::libp2p_keypair(&member).unwrap();
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .unwrap()
            .with_behaviour(Behaviour::new)
            .unwrap()
            .build();
        let target_peer = target
            .iter()
            .find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            })
            .unwrap();
        swarm.behaviour_mut().allow.allow_peer(target_peer);
        swarm.dial(target).unwrap();
        // Wait until the honest node talks to us (its digest on connecting).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut connected = false;
        while Instant::now() < deadline && !connected {
            if let Ok(SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }))) = tokio::time::timeout(Duration::from_millis(200), swarm.select_next_some()).await
            {
                let _ = swarm.behaviour_mut().sync.send_response(channel, Ack);
                connected = true;
            }
        }
        assert!(connected, "the rogue member connected");
        let mut sent = 0;
        for bytes in &bad {
            let msg = Message::Push { records: vec![serde_bytes::ByteBuf::from(bytes.clone())] };
            swarm.behaviour_mut().sync.send_request(&target_peer, Wire { msg, size: 0 });
            sent += 1;
        }
        // Keep the connection serving until the honest node has judged us.
        let until = Instant::now() + Duration::from_secs(3);
        let mut cut_off = false;
        while Instant::now() < until {
            match tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await {
                Ok(SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. }) if peer_id == target_peer => {
                    cut_off = true;
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
        assert!(cut_off, "the honest node disconnected the rogue");
        sent
    });
    assert!(sent >= 3, "the rogue got its messages out ({sent})");

    // Nothing it sent was stored, and the honest nodes still share records.
    assert_eq!(records(net.node(0)), 0);
    let fresh = phone(13);
    let r = net.node(1).request("POST", "/api/v1/indicators", Some(&net.node(1).token)).json(&json!({
        "kind": "phone", "value": fresh, "role": "recruiter_contact", "tlp": "green"
    }));
    assert_eq!(r.status, 201);
    net.wait_for(30, "honest traffic still flows", |net| records(net.node(0)) == 1);
    let metrics = net.node(0).request("GET", "/metrics", Some(&net.node(0).token)).call().body;
    for offence in ["bad_signature", "malformed"] {
        assert!(
            metrics.contains(&format!("kawan_peer_penalties_total{{offence=\"{offence}\"}}")),
            "{offence} is penalised:\n{metrics}"
        );
    }
}
