//! A member that sends invalid records — forged, malformed, oversized, group
//! records on gossip — is refused, and the honest nodes keep working. The
//! rogue is a real libp2p peer built from the node's own behaviour, holding
//! a member's key.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use kawan_node::{
    identity,
    net::{
        behaviour::{Behaviour, BehaviourEvent},
        topics,
    },
};
use kawan_protocol::*;
use kawan_tests::{
    TestNetwork, TestNode,
    fixtures::{network, phone, phone_body, signed},
};
use libp2p::{Multiaddr, gossipsub, noise, swarm::SwarmEvent, tcp, yamux};
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
            .with_behaviour(|k| Behaviour::new(k).unwrap())
            .unwrap()
            .build();
        let (records_topic, _) = topics(&network());
        swarm.behaviour_mut().gossipsub.subscribe(&records_topic).unwrap();
        let target_peer = target
            .iter()
            .find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            })
            .unwrap();
        swarm.behaviour_mut().allow.allow_peer(target_peer);
        swarm.dial(target).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut peer = None;
        // Wait until the honest node has subscribed us to the topic.
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(200), swarm.select_next_some()).await {
                Ok(SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                    peer_id, ..
                }))) => {
                    peer = Some(peer_id);
                    break;
                }
                _ => continue,
            }
        }
        let peer = peer.expect("the rogue member connected and joined the topic");
        let mut sent = 0;
        for bytes in &bad {
            if swarm.behaviour_mut().gossipsub.publish(records_topic.clone(), bytes.clone()).is_ok() {
                sent += 1;
            }
        }
        let push = SyncRequest::Push { records: bad.iter().cloned().map(serde_bytes::ByteBuf::from).collect() };
        swarm.behaviour_mut().sync.send_request(&peer, push);
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let _ = tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await;
        }
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
    let metrics = net.node(0).request("GET", "/metrics", None).call().body;
    assert!(metrics.contains("kawan_ingest_total{result=\"refused\""), "refusals are counted:\n{metrics}");
}
