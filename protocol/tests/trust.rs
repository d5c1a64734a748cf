//! Trust lists: who may change the network, and how changes are refused.

mod common;

use common::*;
use kawan_protocol::*;

const NOW: u64 = 1_764_000_000_000;

fn member(n: u8, id: &str, coordinator: bool) -> Member {
    Member {
        id: MemberId::new(id).unwrap(),
        name: format!("Agency {id}"),
        country: "TH".parse().unwrap(),
        key: keypair(n).public(),
        roles: if coordinator { vec![MemberRole::Coordinator, MemberRole::Member] } else { vec![MemberRole::Member] },
        addrs: vec![],
        expires_ms: None,
        key_from_ms: None,
        retired_keys: vec![],
    }
}

/// Three coordinators (keys 1-3), threshold 2, one plain member (key 4).
fn genesis() -> TrustList {
    TrustList {
        attachment_max_bytes: None,
        retention: None,
        decay: None,
        network: network(),
        version: 1,
        issued_ms: NOW,
        threshold: 2,
        members: vec![member(1, "c1", true), member(2, "c2", true), member(3, "c3", true), member(4, "m4", false)],
        groups: vec![Group {
            id: GroupId::new("mekong").unwrap(),
            name: "Mekong".into(),
            members: vec![MemberId::new("c1").unwrap(), MemberId::new("m4").unwrap()],
        }],
    }
}

fn signed_by(list: &TrustList, signers: &[u8]) -> SignedTrustList {
    let mut s = SignedTrustList::new(list).unwrap();
    for n in signers {
        s.sign(&keypair(*n));
    }
    s
}

fn next(mut list: TrustList) -> TrustList {
    list.version += 1;
    list
}

#[test]
fn genesis_needs_threshold_signatures_of_its_own_coordinators() {
    let g = genesis();
    assert_eq!(signed_by(&g, &[1, 2]).verify_genesis().unwrap(), g);
    let err = signed_by(&g, &[1]).verify_genesis().unwrap_err();
    assert!(matches!(err, TrustError::UnderSigned { valid: 1, needed: 2, .. }), "{err}");
    // A plain member's signature does not count.
    assert!(signed_by(&g, &[1, 4]).verify_genesis().is_err());
}

#[test]
fn an_update_signed_by_threshold_coordinators_is_accepted() {
    let g = genesis();
    let mut v2 = next(g.clone());
    v2.members.push(member(5, "m5", false));
    let got = signed_by(&v2, &[2, 3]).verify_update(&g, NOW).unwrap();
    assert_eq!(got.version, 2);
    assert!(got.is_active(&keypair(5).public(), NOW));
}

#[test]
fn an_under_signed_update_is_rejected_with_the_count() {
    let g = genesis();
    let v2 = next(g.clone());
    let err = signed_by(&v2, &[3]).verify_update(&g, NOW).unwrap_err();
    assert_eq!(err, TrustError::UnderSigned { valid: 1, needed: 2, ignored: 0 });
    assert!(err.to_string().contains("1 current coordinator"), "{err}");
    // The same coordinator signing twice still counts once.
    let mut s = signed_by(&v2, &[3]);
    s.sigs.push(s.sigs[0].clone());
    assert!(matches!(s.verify_update(&g, NOW), Err(TrustError::UnderSigned { valid: 1, .. })));
}

#[test]
fn a_rollback_or_replay_is_rejected() {
    let g = genesis();
    let v2 = next(g.clone());
    let v2_trusted = signed_by(&v2, &[1, 2]).verify_update(&g, NOW).unwrap();
    // Replaying version 1 (fully signed) against version 2.
    let err = signed_by(&g, &[1, 2, 3]).verify_update(&v2_trusted, NOW).unwrap_err();
    assert_eq!(err, TrustError::NotNewer { current: 2, got: 1 });
    // The same version again, even with different content.
    let mut other_v2 = v2.clone();
    other_v2.members[1].name = "Renamed".into();
    assert!(matches!(
        signed_by(&other_v2, &[1, 2, 3]).verify_update(&v2_trusted, NOW),
        Err(TrustError::NotNewer { .. })
    ));
}

#[test]
fn a_forged_list_is_rejected() {
    let g = genesis();
    // Mallory (key 9) adds herself as a coordinator and signs with her own key
    // plus a stolen one: only the stolen one counts.
    let mut forged = next(g.clone());
    forged.members.push(member(9, "mallory", true));
    let err = signed_by(&forged, &[9, 1]).verify_update(&g, NOW).unwrap_err();
    assert_eq!(err, TrustError::UnderSigned { valid: 1, needed: 2, ignored: 1 });

    // Valid signatures over a different body do not transfer.
    let honest = signed_by(&next(g.clone()), &[1, 2]);
    let mut tampered = signed_by(&forged, &[]);
    tampered.sigs = honest.sigs.clone();
    assert!(matches!(tampered.verify_update(&g, NOW), Err(TrustError::UnderSigned { valid: 0, .. })));

    // A list for another network.
    let mut other = next(g.clone());
    other.network = NetworkId::new("other-net").unwrap();
    assert!(matches!(signed_by(&other, &[1, 2]).verify_update(&g, NOW), Err(TrustError::WrongNetwork { .. })));
}

#[test]
fn a_removed_coordinator_cannot_sign_the_next_version() {
    let g = genesis();
    let mut v2 = next(g.clone());
    v2.members.retain(|m| m.id.as_str() != "c3");
    v2.threshold = 2;
    let v2 = signed_by(&v2, &[1, 2]).verify_update(&g, NOW).unwrap();
    let v3 = next(v2.clone());
    assert!(signed_by(&v3, &[1, 3]).verify_update(&v2, NOW).is_err(), "c3 is no longer a coordinator");
    signed_by(&v3, &[1, 2]).verify_update(&v2, NOW).unwrap();
}

#[test]
fn an_expired_coordinator_does_not_count() {
    let mut g = genesis();
    g.members[0].expires_ms = Some(NOW - 1);
    let v2 = next(g.clone());
    assert!(signed_by(&v2, &[1, 2]).verify_update(&g, NOW).is_err());
    assert!(!g.is_active(&keypair(1).public(), NOW));
}

#[test]
fn malformed_lists_are_refused_with_a_reason() {
    let mut dup = genesis();
    dup.members.push(member(6, "c1", false));
    assert!(matches!(dup.check(), Err(TrustError::DuplicateMember(_))));
    let mut dup_key = genesis();
    dup_key.members.push(member(1, "again", false));
    assert!(matches!(dup_key.check(), Err(TrustError::DuplicateKey(_))));
    let mut ghost = genesis();
    ghost.groups[0].members.push(MemberId::new("ghost").unwrap());
    assert!(matches!(ghost.check(), Err(TrustError::UnknownGroupMember { .. })));
    let mut too_high = genesis();
    too_high.threshold = 4;
    assert_eq!(too_high.check(), Err(TrustError::Threshold { threshold: 4, coordinators: 3 }));
    let mut zero = genesis();
    zero.threshold = 0;
    assert!(SignedTrustList::new(&zero).is_err());
}

#[test]
fn group_membership_is_answered_from_the_list() {
    let g = genesis();
    let mekong = GroupId::new("mekong").unwrap();
    assert!(g.in_group(&mekong, &keypair(4).public()));
    assert!(!g.in_group(&mekong, &keypair(2).public()));
    assert!(!g.in_group(&GroupId::new("nope").unwrap(), &keypair(4).public()));
    assert_eq!(g.groups_of(&keypair(1).public()), vec![&mekong]);
}

#[test]
fn signed_lists_round_trip_through_bytes() {
    let s = signed_by(&genesis(), &[1, 2]);
    let back = SignedTrustList::from_bytes(&s.to_bytes()).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.verify_genesis().unwrap(), genesis());
    let mut bytes = s.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(
        SignedTrustList::from_bytes(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|s| s.verify_genesis().map_err(|e| e.to_string()))
            .is_err()
    );
}

mod key_windows {
    use super::*;

    const CUTOFF: u64 = NOW + 1_000;

    /// Member m4 rotated from key 4 to key 5 at CUTOFF; key 4's network
    /// log ends at record 3.
    fn rotated(compromised: bool) -> TrustList {
        let mut list = next(genesis());
        let m = list.members.iter_mut().find(|m| m.id.as_str() == "m4").unwrap();
        m.key = keypair(5).public();
        m.key_from_ms = Some(CUTOFF);
        m.retired_keys = vec![RetiredKey {
            key: keypair(4).public(),
            from_ms: None,
            until_ms: CUTOFF,
            last_seqs: vec![LogEnd { channel: Channel::Network, seq: 3, id: None }],
            compromised,
        }];
        list
    }

    fn header(key: u8, seq: u64, created_ms: u64) -> Header {
        let mut h =
            record(&keypair(key), seq, None, Channel::Network, Body::Indicator(phone_indicator("+447700900123")))
                .header;
        h.created_ms = created_ms;
        h
    }

    #[test]
    fn a_rotation_keeps_the_agencys_history_valid() {
        let index = Membership::of(&rotated(false));
        assert_eq!(index.vouches(&header(4, 3, NOW), NOW), Ok(()), "the old key's records before the cutoff stay");
        assert_eq!(index.vouches(&header(5, 1, CUTOFF + 5), CUTOFF + 5), Ok(()), "the new key signs from now");
        assert!(index.same_agency(&keypair(4).public(), &keypair(5).public()));
        assert_eq!(index.agency_key(&keypair(4).public()), Some(&keypair(5).public()));
        assert!(!index.is_active(&keypair(4).public(), NOW), "a retired key is never a peer again");
        assert!(index.is_active(&keypair(5).public(), NOW));
    }

    #[test]
    fn a_compromised_key_signs_nothing_valid_after_the_cutoff_even_backdated() {
        let index = Membership::of(&rotated(true));
        assert_eq!(
            index.vouches(&header(4, 4, CUTOFF + 1), CUTOFF + 2),
            Err(Void::AfterCutoff { until_ms: CUTOFF, compromised: true })
        );
        // A thief who backdates a record still has to give it a place in
        // the log, and the log ends at 3.
        assert_eq!(index.vouches(&header(4, 4, NOW - 1), CUTOFF + 2), Err(Void::BeyondLogEnd { seq: 4, last: 3 }));
        // A log the key never wrote to before the cutoff stays empty.
        let mut group = header(4, 1, NOW);
        group.channel = Channel::Group(GroupId::new("ops").unwrap());
        assert_eq!(index.vouches(&group, CUTOFF + 2), Err(Void::BeyondLogEnd { seq: 1, last: 0 }));
        // The new key cannot sign into the old key's past either.
        assert!(matches!(index.vouches(&header(5, 1, NOW - 3_600_000), CUTOFF), Err(Void::BeforeKey { .. })));
    }

    #[test]
    fn a_compromised_key_without_log_ends_vouches_for_nothing() {
        // Time proves nothing once a thief can backdate: without ends, no
        // record of the stolen key stays valid (a routine rotation without
        // ends keeps the time cutoff alone).
        let mut list = rotated(true);
        list.members.iter_mut().find(|m| m.id.as_str() == "m4").unwrap().retired_keys[0].last_seqs.clear();
        let index = Membership::of(&list);
        assert_eq!(index.vouches(&header(4, 1, NOW), CUTOFF + 2), Err(Void::BeyondLogEnd { seq: 1, last: 0 }));
        let mut routine = rotated(false);
        routine.members.iter_mut().find(|m| m.id.as_str() == "m4").unwrap().retired_keys[0].last_seqs.clear();
        assert_eq!(Membership::of(&routine).vouches(&header(4, 9, NOW), CUTOFF + 2), Ok(()));
    }

    #[test]
    fn an_anchored_end_names_the_record() {
        let mut list = rotated(true);
        let id = RecordId([7; 32]);
        list.members.iter_mut().find(|m| m.id.as_str() == "m4").unwrap().retired_keys[0].last_seqs[0].id = Some(id);
        let index = Membership::of(&list);
        assert_eq!(index.anchor(&keypair(4).public(), &Channel::Network), Some((3, id)));
        assert_eq!(index.anchor(&keypair(5).public(), &Channel::Network), None, "current keys are not anchored");
        assert_eq!(Membership::of(&rotated(true)).anchor(&keypair(4).public(), &Channel::Network), None);
    }

    #[test]
    fn a_retired_coordinator_key_cannot_sign_the_next_version() {
        let mut list = next(genesis());
        let c1 = list.members.iter_mut().find(|m| m.id.as_str() == "c1").unwrap();
        c1.key = keypair(9).public();
        c1.retired_keys = vec![RetiredKey {
            key: keypair(1).public(),
            from_ms: None,
            until_ms: NOW,
            last_seqs: vec![],
            compromised: true,
        }];
        let rotated = signed_by(&list, &[1, 2]).verify_update(&genesis(), NOW).unwrap();
        let after = signed_by(&next(rotated.clone()), &[1, 3]);
        assert!(matches!(after.verify_update(&rotated, NOW), Err(TrustError::UnderSigned { valid: 1, .. })));
        assert!(signed_by(&next(rotated.clone()), &[9, 3]).verify_update(&rotated, NOW).is_ok());
    }

    #[test]
    fn a_key_is_listed_once_whether_current_or_retired() {
        let mut list = rotated(false);
        list.members[0].retired_keys = vec![RetiredKey {
            key: keypair(4).public(),
            from_ms: None,
            until_ms: NOW,
            last_seqs: vec![],
            compromised: false,
        }];
        assert!(matches!(list.check(), Err(TrustError::DuplicateKey(_))));
        let mut list = rotated(false);
        list.members[3].retired_keys[0].from_ms = Some(CUTOFF + 1);
        assert!(matches!(list.check(), Err(TrustError::RetiredWindow(_))));
    }
}
