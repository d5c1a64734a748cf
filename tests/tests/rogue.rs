//! A member that sends invalid records — forged, malformed, oversized, group
//! records it may not send — is refused, penalised and cut off, and the
//! honest nodes keep working. The rogue is a real libp2p peer built from the
//! node's own behaviour, holding a member's key.

use std::time::Duration;

use kawan_node::identity;
use kawan_protocol::*;
use kawan_tests::{
    TestNetwork,
    fixtures::{phone, phone_body, signed},
};
use serde_json::json;

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
    net.wait_for(30, "connected", |net| net.node(0).connected_peers() == 2);
    // Agency 2's node goes away; a rogue process uses its key.
    net.stop(2);
    let member = identity::load(&net.dir(2).join("agency.key")).unwrap();
    let other = identity::load(&net.dir(1).join("agency.key")).unwrap();
    let bad = poison(&member, &other);
    let outcome = kawan_tests::peer::push_as(&member, net.dir(0), &bad, Duration::from_secs(3));
    assert!(outcome.connected, "the rogue member connected");
    assert!(outcome.cut_off, "the honest node disconnected the rogue");
    let sent = outcome.sent;
    assert!(sent >= 3, "the rogue got its messages out ({sent})");

    // Nothing it sent was stored, and the honest nodes still share records.
    assert_eq!(net.node(0).records(), 0);
    let fresh = phone(13);
    let r = net.node(1).request("POST", "/api/v1/indicators", Some(&net.node(1).token)).json(&json!({
        "kind": "phone", "value": fresh, "role": "recruiter_contact", "tlp": "green"
    }));
    assert_eq!(r.status, 201);
    net.wait_for(30, "honest traffic still flows", |net| net.node(0).records() == 1);
    let metrics = net.node(0).request("GET", "/metrics", Some(&net.node(0).token)).call().body;
    for offence in ["bad_signature", "malformed"] {
        assert!(
            metrics.contains(&format!("kawan_peer_penalties_total{{offence=\"{offence}\"}}")),
            "{offence} is penalised:\n{metrics}"
        );
    }
    // And counted against the member, where coordinators look: the peers
    // list and `kawan trust health`, whose warnings name it.
    let peers = net.node(0).get_json("/api/v1/peers");
    let rogue = peers.as_array().unwrap().iter().find(|p| p["name"] == "Agency 2").expect("agency 2 listed");
    assert!(rogue["offences"]["bad_signature"].as_u64() >= Some(1), "{rogue}");
    assert!(rogue["offences"]["malformed"].as_u64() >= Some(1), "{rogue}");
    let honest = peers.as_array().unwrap().iter().find(|p| p["name"] == "Agency 1").unwrap();
    assert_eq!(honest["offences"], json!({}), "{honest}");
    let health = net.node(0).cli().args(["trust", "health"]).output().unwrap();
    let text = String::from_utf8_lossy(&health.stdout);
    assert!(health.status.success(), "{text}{}", String::from_utf8_lossy(&health.stderr));
    let id = rogue["id"].as_str().unwrap();
    assert!(text.contains(&format!("this node counted offences against {id}: bad_signature")), "{text}");
    assert!(text.contains("OFFENCES") && text.contains("KEY AGE"), "{text}");
}
