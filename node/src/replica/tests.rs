//! The replica, driven by hand: each test feeds inputs and reads the
//! outputs, with no network and no clock. Several are the regression tests
//! of the sync defects found in the first wave (issue #12).

use std::sync::Arc;

use kawan_protocol::*;
use serde_bytes::ByteBuf;

use super::{Config, Input, Output, Replica, TrustRefusal, budget::Offence};
use crate::store::Store;

const NOW: u64 = 1_800_000_000_000;

fn key(n: u8) -> Keypair {
    Keypair::from_secret_bytes([n; 32])
}

fn member(n: u8, expires_ms: Option<u64>) -> Member {
    Member {
        id: MemberId::new(format!("agency-{n}")).unwrap(),
        name: format!("Agency {n}"),
        country: "TH".parse().unwrap(),
        key: key(n).public(),
        roles: if n == 1 { vec![MemberRole::Coordinator] } else { vec![MemberRole::Member] },
        addrs: vec![],
        expires_ms,
        key_from_ms: None,
        retired_keys: vec![],
    }
}

fn network() -> NetworkId {
    NetworkId::new("kawan-test").unwrap()
}

/// Agencies 1-4 are members (4 expired); 1 and 2 share group "mekong".
fn trust() -> SignedTrustList {
    let list = TrustList {
        attachment_max_bytes: None,
        retention: None,
        decay: None,
        network: network(),
        version: 1,
        issued_ms: NOW - 10_000,
        threshold: 1,
        members: vec![member(1, None), member(2, None), member(3, None), member(4, Some(NOW - 1))],
        groups: vec![Group {
            id: GroupId::new("mekong").unwrap(),
            name: "Mekong".into(),
            members: vec![MemberId::new("agency-1").unwrap(), MemberId::new("agency-2").unwrap()],
        }],
    };
    let mut signed = SignedTrustList::new(&list).unwrap();
    signed.sign(&key(1));
    signed
}

fn store() -> Arc<Store> {
    let store = Arc::new(Store::in_memory(crate::clock::Clock::system()));
    store.install_genesis(&trust()).unwrap();
    store
}

fn replica(store: &Arc<Store>) -> Replica {
    Replica::new(key(1).public(), store.clone(), Config::default(), 7)
}

/// A replica of agency 1 with these peers connected (they dialled in).
fn connected(store: &Arc<Store>, peers: &[AgencyKey]) -> Replica {
    let mut r = replica(store);
    for peer in peers {
        r.handle(Input::PeerUp { peer: *peer, dialled: false }, NOW);
    }
    r
}

/// A chain of `n` techniques by agency `author`, each `size` bytes of steps.
fn techniques(author: u8, n: u64, size: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut prev = None;
    for seq in 1..=n {
        let step = "x".repeat(size.min(limits::MAX_TEXT_BYTES - 16));
        let steps = (0..size.div_ceil(step.len().max(1))).map(|i| format!("{i}{step}")).take(7).collect();
        let body = Body::Technique(Technique {
            attachments: vec![],
            evaluation: None,
            handling: None,
            review_ms: None,
            title: format!("Technique {seq}"),
            objective: "Find the recruiter behind a fake job advert".into(),
            difficulty: Difficulty::Basic,
            tlp: Tlp::Green,
            applies_to: vec![],
            steps,
            tools: vec![],
            requirements: vec![],
            limitations: None,
            legal_notes: None,
            ethical_notes: None,
            opsec_risks: None,
            evidence_handling: None,
        });
        let header = Header {
            v: 1,
            network: network(),
            channel: Channel::Network,
            author: key(author).public(),
            seq,
            prev,
            created_ms: NOW + seq,
        };
        let v = Record { header, body }.sign(&key(author)).unwrap();
        prev = Some(v.id);
        out.push(v.envelope.to_bytes());
    }
    out
}

fn sends(out: &[Output]) -> Vec<(&AgencyKey, &Message)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((to, msg)),
            _ => None,
        })
        .collect()
}

/// The short ids an index answer lists, in order.
fn listed(out: &[Output]) -> Vec<sync::ShortId> {
    sends(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Index { logs, .. } => Some(logs.iter().flat_map(|l| sync::unpack(&l.ids)).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn short(record: &[u8]) -> sync::ShortId {
    sync::short_id(&Envelope::from_bytes(record).unwrap().id())
}

#[test]
fn ask_answers_are_bounded_by_bytes_so_large_records_never_stall_catch_up() {
    // 300 records of ~56 KB: 256 of them would be 14 MB, over the 4 MiB codec limit.
    let s = store();
    let records = techniques(2, 300, 56 * 1024);
    assert!(s.ingest_batch(&records).iter().all(Result::is_ok));
    let three = key(3).public();
    let mut r = connected(&s, &[three]);
    // A pull lists the log (old records too: stored before this replica ran).
    let wants = vec![Want { channel: Channel::Network, author: key(2).public(), after_seq: 0, limit: 300 }];
    let out = r.handle(Input::Message { from: three, msg: Message::Pull { req: 1, wants }, size: 100 }, NOW);
    let ids = listed(&out);
    assert_eq!(ids, records.iter().map(|r| short(r)).collect::<Vec<_>>(), "every record, in log order");
    // Asked for 256 of them, it answers what fits under the byte bound
    // and leaves the rest to be asked again (not "missing").
    let msg = Message::Want { req: 2, ids: sync::pack(&ids[..256]) };
    let out = r.handle(Input::Message { from: three, msg, size: 2_000 }, NOW);
    let Some((_, Message::Batch { records, missing, .. })) =
        sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Batch { .. }))
    else {
        panic!("an ask is answered: {out:?}")
    };
    let bytes: usize = records.iter().map(|r| r.len()).sum();
    assert!(bytes <= sync::MAX_ANSWER_BYTES, "{bytes} bytes in one answer");
    assert!(!records.is_empty() && records.len() < 256 && missing.is_empty(), "some records, none said missing");
    let encoded = Message::Batch { req: 2, records: records.clone(), missing: ByteBuf::new() }.to_bytes().unwrap();
    assert!(Message::from_bytes(&encoded).is_ok(), "the answer decodes on the other side");
}

/// The asking side of the same: what an answer left out for its size is
/// asked for again at once, not after a timeout; an answer far from any
/// bound that leaves records out and says nothing of them has said
/// "missing" (else a member could keep a record awaited from itself
/// forever by answering empty).
#[test]
fn what_an_answer_leaves_out_for_its_size_is_asked_for_again_at_once() {
    let s = store();
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let records = techniques(2, 20, 56 * 1024);
    let ids: Vec<sync::ShortId> = records.iter().map(|r| short(r)).collect();
    let out = r.handle(Input::Message { from: two, msg: Message::Have { ids: sync::pack(&ids) }, size: 200 }, NOW);
    let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().next() else { panic!("{out:?}") };
    // 18 records of ~57 KB: within one envelope of the 1 MiB bound.
    let out = r.handle(Input::Message { from: two, msg: batch(*req, &records[..18], &[]), size: 1_000_000 }, NOW + 100);
    let (mut again, mut left) = (asked(&out), ids[18..].to_vec());
    again.sort();
    left.sort();
    assert_eq!(again, left, "the two left out, now");
    assert_eq!(r.stats().penalties, 0);
    // The re-ask answered with nothing and no word: "missing", withheld.
    let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Want { .. }))
    else {
        panic!()
    };
    let out = r.handle(Input::Message { from: two, msg: batch(*req, &[], &[]), size: 20 }, NOW + 200);
    assert!(
        out.iter().any(|o| matches!(o, Output::Penalised { peer, offence: Offence::Withholding, .. } if *peer == two)),
        "{out:?}"
    );
    assert!(asked(&out).is_empty(), "not asked of it again: {out:?}");
}

#[test]
fn heads_and_answers_leave_out_logs_the_receiver_would_refuse() {
    // Agency 4's membership lapsed: its records are kept here, flagged, but
    // not offered, so no peer fetches what it would refuse and re-fetch it forever.
    let s = store();
    let old = techniques(4, 2, 100);
    // Stored while 4 was a member (the store's clock is the wall clock,
    // before the expiry; the replica's is `NOW`, after it).
    assert!(s.ingest_batch(&old).iter().all(Result::is_ok));
    let mut r = replica(&s);
    r.handle(Input::PeerUp { peer: key(2).public(), dialled: false }, NOW);
    let wants = vec![Want { channel: Channel::Network, author: key(4).public(), after_seq: 0, limit: 10 }];
    let out = r.handle(Input::Message { from: key(2).public(), msg: Message::Pull { req: 1, wants }, size: 100 }, NOW);
    assert!(sends(&out).iter().any(|(_, m)| matches!(m, Message::Index { .. })), "answered: {out:?}");
    assert!(listed(&out).is_empty(), "an expired member's log is not listed");
}

#[test]
fn a_flooding_peer_is_cut_off_and_banned() {
    let s = store();
    let rogue = key(3).public();
    let mut r = connected(&s, &[rogue]);
    let mut cut = false;
    for i in 0..5_000u64 {
        let msg = Message::Have { ids: sync::pack(&[i.to_be_bytes()]) };
        let out = r.handle(Input::Message { from: rogue, msg, size: 30 }, NOW);
        if out.contains(&Output::Disconnect(rogue)) {
            cut = true;
            break;
        }
    }
    assert!(cut, "the flood ends in a disconnect");
    assert!(r.is_banned(&rogue));
    let out = r.handle(Input::PeerUp { peer: rogue, dialled: false }, NOW + 1_000);
    assert_eq!(out, vec![Output::Disconnect(rogue)], "a banned peer cannot come straight back");
}

#[test]
fn forged_and_malformed_records_cost_the_sender() {
    let s = store();
    let mut r = replica(&s);
    let peer = key(2).public();
    r.handle(Input::PeerUp { peer, dialled: false }, NOW);
    let out = r.handle(
        Input::Message {
            from: peer,
            msg: Message::Push { records: vec![ByteBuf::from(b"not a record".to_vec())] },
            size: 20,
        },
        NOW,
    );
    assert!(out.iter().any(|o| matches!(o, Output::Penalised { offence: Offence::Malformed, .. })));
    // A group record from a member outside the group is refused before any
    // verification.
    let group = Channel::Group(GroupId::new("mekong").unwrap());
    let mut ind = Indicator::new(Kind::Domain, "jobs.example", IndicatorRole::JobAd, Tlp::Amber);
    ind.confidence = 1;
    let header = Header {
        v: 1,
        network: network(),
        channel: group,
        author: key(3).public(),
        seq: 1,
        prev: None,
        created_ms: NOW,
    };
    let v = Record { header, body: Body::Indicator(ind) }.sign(&key(3)).unwrap();
    let outsider = key(3).public();
    r.handle(Input::PeerUp { peer: outsider, dialled: false }, NOW);
    let out = r.handle(
        Input::Message {
            from: outsider,
            msg: Message::Push { records: vec![ByteBuf::from(v.envelope.to_bytes())] },
            size: 400,
        },
        NOW,
    );
    assert!(out.iter().any(|o| matches!(o, Output::Penalised { offence: Offence::NotEntitled, .. })));
    assert!(!out.iter().any(|o| matches!(o, Output::Store { .. })), "nothing is stored");
}

#[test]
fn an_invalid_trust_list_is_penalised_and_a_copy_of_ours_is_not() {
    let s = store();
    let mut r = replica(&s);
    let peer = key(2).public();
    r.handle(Input::PeerUp { peer, dialled: false }, NOW);
    let out = r.handle(
        Input::TrustApplied {
            from: peer,
            results: vec![Err(TrustRefusal::Invalid("under-signed".into()))],
            more: false,
        },
        NOW,
    );
    assert!(out.iter().any(|o| matches!(o, Output::Penalised { offence: Offence::BadTrustList, .. })));
    let out =
        r.handle(Input::TrustApplied { from: peer, results: vec![Err(TrustRefusal::Stale(1))], more: false }, NOW);
    assert!(out.is_empty(), "the list in force, again, is no offence: {out:?}");
}

#[test]
fn expired_members_are_refused_and_dropped_when_they_lapse() {
    let s = store();
    let mut r = replica(&s);
    let expired = key(4).public();
    assert_eq!(r.handle(Input::PeerUp { peer: expired, dialled: false }, NOW), vec![Output::Disconnect(expired)]);
    // A member that lapses while connected is cut off by the next upkeep.
    let list =
        TrustList { version: 2, members: vec![member(1, None), member(2, Some(NOW + 500))], ..trust().list().unwrap() };
    let mut signed = SignedTrustList::new(&list).unwrap();
    signed.sign(&key(1));
    s.apply_trust_update(&signed).unwrap();
    let peer = key(2).public();
    r.handle(Input::PeerUp { peer, dialled: false }, NOW);
    let out = r.handle(Input::Tick, NOW + 2_000);
    assert!(out.contains(&Output::Disconnect(peer)), "{out:?}");
}

#[test]
fn members_that_never_answer_are_dialled_with_growing_gaps() {
    let s = store();
    let mut r = replica(&s);
    let mut dials: Vec<u64> = Vec::new();
    for t in (0..400_000).step_by(100) {
        let out = r.handle(Input::Tick, NOW + t);
        if out.contains(&Output::Dial(key(2).public())) {
            dials.push(t);
        }
    }
    assert!(dials.len() >= 4, "{dials:?}");
    let gaps: Vec<u64> = dials.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "gaps never shrink: {gaps:?}");
    assert!(gaps.last().is_some_and(|g| *g >= 60_000), "and grow long: {gaps:?}");
    assert!(dials.len() < 15, "no redial every few seconds: {dials:?}");
}

#[test]
fn equal_digests_end_an_exchange_without_heads() {
    let s = store();
    let mut r = replica(&s);
    let peer = key(2).public();
    let out = r.handle(Input::PeerUp { peer, dialled: false }, NOW);
    let Some((_, Message::Digest { digest, .. })) = sends(&out).into_iter().next() else {
        panic!("a new connection starts with a digest: {out:?}")
    };
    let digest = *digest;
    let out = r.handle(
        Input::Message { from: peer, msg: Message::Digest { network: network(), digest, trust_version: 1 }, size: 60 },
        NOW,
    );
    assert!(sends(&out).is_empty(), "the same logs: nothing more to say: {out:?}");
}

#[test]
fn a_record_announced_by_several_peers_is_asked_of_one_and_stored_once() {
    announced_twice_fetched_once(techniques(2, 1, 100).remove(0));
}

#[test]
fn a_record_of_a_family_no_node_knows_is_fetched_once_and_kept() {
    let record = future_record(2);
    announced_twice_fetched_once(record.clone());
    // And it is not asked for again on the next exchange of heads.
    let s = store();
    assert!(s.ingest_batch(&[record]).iter().all(|r| r.as_ref().is_ok_and(|i| i.is_new())));
    assert_eq!(s.head(&Channel::Network, &key(2).public()).unwrap(), 1, "it takes its place in the log");
}

/// A record with a body family this node does not read, as a newer node
/// writes it (raw CBOR: this implementation never encodes one).
fn future_record(author: u8) -> Vec<u8> {
    use ciborium::Value;
    let t = |s: &str| Value::Text(s.into());
    let header = Value::Map(vec![
        (t("v"), Value::Integer(1.into())),
        (t("network"), t("kawan-test")),
        (t("channel"), t("network")),
        (t("author"), Value::Bytes(key(author).public().0.to_vec())),
        (t("seq"), Value::Integer(1.into())),
        (t("prev"), Value::Null),
        (t("created_ms"), Value::Integer((NOW + 1).into())),
    ]);
    let body = Value::Map(vec![(t("future_family"), Value::Map(vec![(t("note"), t("newer"))]))]);
    let signed = cbor::encode(&Value::Map(vec![(t("header"), header), (t("body"), body)])).unwrap();
    let sig = key(author).sign(RECORD_DOMAIN, &signed);
    Envelope { signed, sig }.to_bytes()
}

fn announced_twice_fetched_once(record: Vec<u8>) {
    let s = store();
    let (a, b) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[a, b]);
    let short = sync::short_id(&Envelope::from_bytes(&record).unwrap().id());
    let have = || Message::Have { ids: sync::pack(&[short]) };
    let out = r.handle(Input::Message { from: a, msg: have(), size: 30 }, NOW);
    let [(to, Message::Want { req, .. })] = sends(&out)[..] else { panic!("asks the first announcer: {out:?}") };
    assert_eq!(*to, a);
    let req = *req;
    let out = r.handle(Input::Message { from: b, msg: have(), size: 30 }, NOW + 10);
    assert!(sends(&out).is_empty(), "not the second, while the first may answer: {out:?}");
    let out = r.handle(
        Input::Message {
            from: a,
            msg: Message::Batch { req, records: vec![ByteBuf::from(record)], missing: ByteBuf::new() },
            size: 500,
        },
        NOW + 100,
    );
    let Some(Output::Store { batch, records }) = out.iter().find(|o| matches!(o, Output::Store { .. })) else {
        panic!("the answer is stored: {out:?}")
    };
    let results = s.ingest_batch(records);
    let out = r.handle(Input::Stored { batch: *batch, results }, NOW + 101);
    // Stored: announced to no one (both peers announced it to us).
    assert!(sends(&out).is_empty(), "{out:?}");
    assert_eq!(r.stats().stored, 1);
    assert_eq!(r.stats().fetched_twice, 0);
}

#[test]
fn a_peer_whose_key_is_retired_is_told_why_then_let_go_and_its_log_ends_where_the_list_says() {
    let s = store();
    // Agency 3 published two records under its old key before rotating.
    assert!(s.ingest_batch(&techniques(3, 2, 100)).iter().all(Result::is_ok));
    let old = key(3).public();
    let mut r = connected(&s, &[old]);
    r.handle(Input::PeerUp { peer: key(2).public(), dialled: false }, NOW);

    // The coordinator rotates agency 3 to key 9; the old key's log ends at 1.
    let mut list = trust().list().unwrap();
    list.version = 2;
    let m3 = list.members.iter_mut().find(|m| m.key == old).unwrap();
    m3.key = key(9).public();
    m3.retired_keys = vec![RetiredKey {
        key: old,
        from_ms: None,
        until_ms: NOW + 10,
        last_seqs: vec![LogEnd { channel: Channel::Network, seq: 1, id: None }],
        compromised: false,
    }];
    let mut signed = SignedTrustList::new(&list).unwrap();
    signed.sign(&key(1));
    s.apply_trust_update(&signed).unwrap();
    let out = r.handle(Input::TrustChanged, NOW);
    assert!(!out.contains(&Output::Disconnect(old)), "told first: {out:?}");
    let told = sends(&out).iter().any(|(to, m)| **to == old && matches!(m, Message::TrustListPage { .. }));
    assert!(told, "the retired key's node gets the list naming its successor: {out:?}");
    assert_eq!(r.parting().collect::<Vec<_>>(), vec![&old]);
    let out = r.handle(Input::Tick, NOW + super::PARTING_MS + 1_000);
    assert!(out.contains(&Output::Disconnect(old)), "then let go: {out:?}");

    // Its log is offered and served only up to the end the list gives.
    let wants = vec![Want { channel: Channel::Network, author: old, after_seq: 0, limit: 10 }];
    let out = r
        .handle(Input::Message { from: key(2).public(), msg: Message::Pull { req: 1, wants }, size: 100 }, NOW + 3_000);
    assert_eq!(listed(&out).len(), 1, "one record inside the window, none beyond");
}

#[test]
fn what_a_peer_pushes_shows_how_far_it_is_before_any_heads_exchange() {
    let s = store();
    let mut r = replica(&s);
    let peer = key(2).public();
    r.handle(Input::PeerUp { peer, dialled: false }, NOW);
    let records = techniques(2, 3, 100);
    let msg = Message::Push { records: records.iter().cloned().map(ByteBuf::from).collect() };
    r.handle(Input::Message { from: peer, msg, size: 1000 }, NOW);
    let (_, _, heads) = r.peers().into_iter().find(|(k, _, _)| *k == peer).unwrap();
    assert_eq!(heads, vec![Head { channel: Channel::Network, author: peer, seq: 3 }]);
    // Its lag against ours: it holds three records we have not stored yet.
    let lag = kawan_protocol::sync::lag(&s.heads(None).unwrap(), &heads);
    assert_eq!(lag.get("network"), Some(&(3, 0)));
}

#[test]
fn a_trust_list_change_starts_an_exchange_with_every_peer_at_once() {
    let s = store();
    let (two, three) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[two, three]);
    let digest = |v: u64| Message::Digest { network: network(), digest: [0; 32], trust_version: v };
    let penalised = |out: &[Output]| out.iter().any(|o| matches!(o, Output::Penalised { .. }));
    // Agency 2 spends its exchange budget at version 1: two free, three
    // from the bucket, and the sixth digest in a moment is one too many.
    for i in 0..5 {
        let out = r.handle(Input::Message { from: two, msg: digest(1), size: 60 }, NOW + i);
        assert!(!penalised(&out), "digest {i}: {out:?}");
    }
    let out = r.handle(Input::Message { from: two, msg: digest(1), size: 60 }, NOW + 5);
    assert!(penalised(&out), "the budget bites: {out:?}");

    // The coordinators add agency 5: every peer gets the list and a digest
    // now, not at the next anti-entropy round.
    let mut list = trust().list().unwrap();
    list.version = 2;
    list.members.push(member(5, None));
    let mut signed = SignedTrustList::new(&list).unwrap();
    signed.sign(&key(1));
    s.apply_trust_update(&signed).unwrap();
    let out = r.handle(Input::TrustChanged, NOW + 10);
    for peer in [two, three] {
        let digests = sends(&out)
            .iter()
            .filter(|(to, m)| **to == peer && matches!(m, Message::Digest { trust_version: 2, .. }))
            .count();
        assert_eq!(digests, 1, "a digest at the new version to {peer}: {out:?}");
    }
    // And the exchange it starts costs the peer nothing, however busy it was.
    let out = r.handle(Input::Message { from: two, msg: digest(2), size: 60 }, NOW + 20);
    assert!(!penalised(&out), "{out:?}");
    let heads = Message::Heads { network: network(), trust_version: 2, channels: vec![], reply: true };
    let out = r.handle(Input::Message { from: two, msg: heads, size: 60 }, NOW + 30);
    assert!(!penalised(&out), "{out:?}");
    // Once: a third exchange at the same version is charged again.
    let out = r.handle(Input::Message { from: two, msg: digest(2), size: 60 }, NOW + 40);
    assert!(penalised(&out), "free once per version: {out:?}");
}

#[test]
fn a_link_that_stops_acknowledging_is_dropped_and_replaced_at_once() {
    let s = store();
    let mut r = replica(&s);
    let (two, three) = (key(2).public(), key(3).public());
    r.handle(Input::PeerUp { peer: two, dialled: false }, NOW);
    // Two lost messages, then word from the peer: still alive.
    for _ in 0..2 {
        assert!(r.handle(Input::Delivered { to: two, ok: false }, NOW).is_empty());
    }
    let digest = Message::Digest { network: network(), digest: [0; 32], trust_version: 1 };
    r.handle(Input::Message { from: two, msg: digest, size: 60 }, NOW);
    for _ in 0..2 {
        assert!(r.handle(Input::Delivered { to: two, ok: false }, NOW).is_empty());
    }
    // A third in a row: dead. It is dropped, and another member dialled now.
    let out = r.handle(Input::Delivered { to: two, ok: false }, NOW);
    assert!(out.contains(&Output::Disconnect(two)), "{out:?}");
    assert!(out.contains(&Output::Dial(three)), "a replacement at once, not at the next upkeep: {out:?}");
    assert!(!out.contains(&Output::Dial(two)), "not the dead one again at once: {out:?}");
    assert_eq!(r.stats().dead_links, 1);
    assert!(r.peers().is_empty());

    // A failed ping is enough on its own.
    r.handle(Input::PeerUp { peer: three, dialled: false }, NOW + 10);
    let out = r.handle(Input::PeerSilent(three), NOW + 20);
    assert!(out.contains(&Output::Disconnect(three)), "{out:?}");
    assert_eq!(r.stats().dead_links, 2);
}

fn batch(req: u32, records: &[Vec<u8>], missing: &[sync::ShortId]) -> Message {
    Message::Batch { req, records: records.iter().cloned().map(ByteBuf::from).collect(), missing: sync::pack(missing) }
}

/// Agency 2's heads at `seq` on the network channel, as a peer sends them.
fn heads_at(seq: u64) -> Message {
    let pos = Membership::of(&trust().list().unwrap()).position(&key(2).public()).unwrap();
    Message::Heads {
        network: network(),
        trust_version: 1,
        channels: vec![ChannelHeads { channel: Channel::Network, seqs: vec![(pos, seq)] }],
        reply: true,
    }
}

fn index(req: u32, first_seq: u64, records: &[Vec<u8>], more: bool) -> Message {
    let ids: Vec<sync::ShortId> = records.iter().map(|r| short(r)).collect();
    Message::Index {
        req,
        logs: vec![LogIds {
            gone: vec![],
            channel: Channel::Network,
            author: key(2).public(),
            first_seq,
            ids: sync::pack(&ids),
        }],
        more,
    }
}

fn asked(out: &[Output]) -> Vec<sync::ShortId> {
    sends(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Want { ids, .. } => Some(sync::unpack(ids).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Regression (issue #25): a pull fetched whole runs from the contiguous
/// head, so records that had arrived by announcement above a gap, or were
/// being fetched after one, came twice. A pull now lists short ids, and the
/// puller asks only for what it neither holds nor awaits.
#[test]
fn a_pull_never_fetches_what_announcements_brought_or_are_bringing() {
    let s = store();
    let records = techniques(2, 6, 100);
    // Held: 1, 2, and 5 (which came by announcement above the gap).
    for i in [0, 1, 4] {
        assert!(s.ingest_batch(&records[i..=i]).iter().all(Result::is_ok));
    }
    assert_eq!(s.head(&Channel::Network, &key(2).public()).unwrap(), 2);
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    // Record 4 is announced and asked for.
    let out = r.handle(
        Input::Message { from: two, msg: Message::Have { ids: sync::pack(&[short(&records[3])]) }, size: 30 },
        NOW,
    );
    assert_eq!(asked(&out), vec![short(&records[3])]);
    // Its heads show 6: a pull at once, after our contiguous head.
    let out = r.handle(Input::Message { from: two, msg: heads_at(6), size: 60 }, NOW + 10);
    let Some((_, Message::Pull { req: pull, wants })) =
        sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Pull { .. }))
    else {
        panic!("a pull at once, no waiting for announcements to settle: {out:?}")
    };
    assert_eq!((wants[0].after_seq, wants[0].limit), (2, 4));
    // Its index lists 3..6: only 3 and 6 are asked for (5 is held, 4 asked).
    let out = r.handle(Input::Message { from: two, msg: index(*pull, 3, &records[2..], false), size: 100 }, NOW + 20);
    assert_eq!(asked(&out), vec![short(&records[2]), short(&records[5])], "{out:?}");
    assert_eq!(r.stats().penalties, 0);
}

/// A long log is listed a window at a time, and an index that answers no
/// pull of ours (a late one) creates no work.
#[test]
fn an_index_with_more_is_followed_by_the_next_window_and_a_stray_one_is_ignored() {
    let s = store();
    let records = techniques(2, 5, 100);
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let out = r.handle(Input::Message { from: two, msg: heads_at(5), size: 60 }, NOW);
    let Some((_, Message::Pull { req: pull, .. })) =
        sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Pull { .. }))
    else {
        panic!("{out:?}")
    };
    let pull = *pull;
    let out = r.handle(Input::Message { from: two, msg: index(pull, 1, &records[..2], true), size: 60 }, NOW + 10);
    assert_eq!(asked(&out).len(), 2);
    assert!(
        sends(&out)
            .iter()
            .any(|(_, m)| matches!(m, Message::Pull { req, wants } if *req != pull && wants[0].after_seq == 2)),
        "the next window, after what was listed (nothing stored yet): {out:?}"
    );
    let stray = r.handle(Input::Message { from: two, msg: index(pull, 3, &records[2..], false), size: 60 }, NOW + 20);
    assert!(asked(&stray).is_empty(), "{stray:?}");
}

/// Timeouts follow the measured round trip: after answers in 40 ms, a
/// lost one costs about that, not the configured 250 ms, and the replica
/// says when it needs waking.
#[test]
fn an_unanswered_ask_goes_to_the_next_announcer_after_one_measured_round_trip() {
    let s = store();
    let (a, b) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[a, b]);
    let records = techniques(2, 11, 100);
    for (i, record) in records[..10].iter().enumerate() {
        let t = NOW + i as u64 * 100;
        let have = Message::Have { ids: sync::pack(&[short(record)]) };
        let out = r.handle(Input::Message { from: a, msg: have, size: 30 }, t);
        let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().next() else { panic!("{out:?}") };
        r.handle(Input::Message { from: a, msg: batch(*req, std::slice::from_ref(record), &[]), size: 300 }, t + 40);
    }
    // The next record: a asked, b announces it too; a's answer is lost.
    let t = NOW + 2_000;
    let have = Message::Have { ids: sync::pack(&[short(&records[10])]) };
    let out = r.handle(Input::Message { from: a, msg: have.clone(), size: 30 }, t);
    assert_eq!(asked(&out).len(), 1);
    r.handle(Input::Message { from: b, msg: have, size: 30 }, t + 5);
    let wake = r.wake_at().expect("a deadline");
    assert!(wake > t && wake <= t + 60, "about one round trip (40 ms, at least 50): {}", wake - t);
    assert!(asked(&r.handle(Input::Tick, wake - 1)).is_empty(), "not before");
    let out = r.handle(Input::Tick, wake);
    assert!(sends(&out).iter().any(|(to, m)| **to == b && matches!(m, Message::Want { .. })), "{out:?}");
}

/// Issue #25: a member that announces and then withholds.
#[test]
fn a_member_that_announces_and_withholds_is_penalised_and_the_next_announcer_asked_at_once() {
    let s = store();
    let (a, b) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[a, b]);
    let record = techniques(2, 1, 100).remove(0);
    let short = sync::short_id(&Envelope::from_bytes(&record).unwrap().id());
    let have = || Message::Have { ids: sync::pack(&[short]) };
    let out = r.handle(Input::Message { from: a, msg: have(), size: 30 }, NOW);
    let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().next() else { panic!("{out:?}") };
    let req = *req;
    r.handle(Input::Message { from: b, msg: have(), size: 30 }, NOW + 5);
    // "Missing", for what it announced: penalised, and b asked now, not in 250 ms.
    let out = r.handle(Input::Message { from: a, msg: batch(req, &[], &[short]), size: 30 }, NOW + 10);
    assert!(
        out.iter().any(|o| matches!(o, Output::Penalised { peer, offence: Offence::Withholding, .. } if *peer == a)),
        "{out:?}"
    );
    assert!(sends(&out).iter().any(|(to, m)| **to == b && matches!(m, Message::Want { .. })), "{out:?}");
    // b never answers at all: once it has ignored three asks in a row, each
    // counts against it (one lost message now and then does not).
    let mut penalised_at = None;
    for i in 0..4u64 {
        let short = [i as u8 + 10; 8];
        let t = NOW + 20 + i * 11_000;
        r.handle(Input::Message { from: b, msg: Message::Have { ids: sync::pack(&[short]) }, size: 30 }, t);
        let out = r.handle(Input::Tick, t + 10_500);
        if out.iter().any(|o| matches!(o, Output::Penalised { peer, offence: Offence::Withholding, .. } if *peer == b))
        {
            penalised_at.get_or_insert(i);
        }
    }
    assert_eq!(penalised_at, Some(1), "the first record's ask and two more go unanswered, then it counts");
}

#[test]
fn an_ask_for_what_a_node_does_not_hold_is_answered_missing() {
    let s = store();
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let out = r
        .handle(Input::Message { from: two, msg: Message::Want { req: 9, ids: sync::pack(&[[5; 8]]) }, size: 30 }, NOW);
    assert!(
        matches!(&sends(&out)[..], [(_, Message::Batch { req: 9, records, missing, .. })] if records.is_empty() && missing[..] == [5; 8]),
        "{out:?}"
    );
}

#[test]
fn an_announced_record_no_one_delivers_is_forgotten() {
    let s = store();
    let a = key(2).public();
    let mut r = connected(&s, &[a]);
    let ids: Vec<sync::ShortId> = (0..50u8).map(|i| [i; 8]).collect();
    r.handle(Input::Message { from: a, msg: Message::Have { ids: sync::pack(&ids) }, size: 400 }, NOW);
    assert_eq!(r.missing.len(), 50);
    r.handle(Input::Tick, NOW + 30_000);
    assert_eq!(r.missing.len(), 50, "still awaited at 30 s");
    r.handle(Input::Tick, NOW + 61_000);
    assert!(r.missing.is_empty(), "forgotten after 60 s: anti-entropy finds what exists");
}

#[test]
fn an_answer_may_carry_only_what_its_ask_named() {
    let s = store();
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let records = techniques(2, 2, 100);
    let have = Message::Have { ids: sync::pack(&[short(&records[0])]) };
    let out = r.handle(Input::Message { from: two, msg: have, size: 30 }, NOW);
    let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().next() else { panic!("{out:?}") };
    // Asked for record 1, it sends 1 and 2: only 1 is stored.
    let out = r.handle(Input::Message { from: two, msg: batch(*req, &records, &[]), size: 600 }, NOW + 50);
    let stored: Vec<&Vec<Vec<u8>>> = out
        .iter()
        .filter_map(|o| match o {
            Output::Store { records, .. } => Some(records),
            _ => None,
        })
        .collect();
    assert_eq!(stored, vec![&records[..1].to_vec()], "{out:?}");
    assert!(
        out.iter().any(|o| matches!(o, Output::Penalised { peer, offence: Offence::Malformed, .. } if *peer == two))
    );
}

#[test]
fn a_round_that_found_missed_records_is_followed_by_another_soon() {
    let s = store();
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let records = techniques(2, 2, 100);
    let digests = |out: &[Output]| sends(out).iter().filter(|(_, m)| matches!(m, Message::Digest { .. })).count();
    r.handle(Input::Tick, NOW); // the first round
    // Record 1 is on its way (announced): a pull that lists only it found
    // nothing announcements missed, and the next round is the regular one.
    let have = Message::Have { ids: sync::pack(&[short(&records[0])]) };
    r.handle(Input::Message { from: two, msg: have, size: 30 }, NOW + 5);
    let pull = |out: &[Output]| {
        sends(out).into_iter().find_map(|(_, m)| match m {
            Message::Pull { req, .. } => Some(*req),
            _ => None,
        })
    };
    let out = r.handle(Input::Message { from: two, msg: heads_at(1), size: 60 }, NOW + 10);
    r.handle(
        Input::Message { from: two, msg: index(pull(&out).unwrap(), 1, &records[..1], false), size: 60 },
        NOW + 20,
    );
    assert_eq!(digests(&r.handle(Input::Tick, NOW + 3_100)), 0);
    // Record 2 no one announced: found by the round, and another follows within 3 s.
    let out = r.handle(Input::Message { from: two, msg: heads_at(2), size: 60 }, NOW + 3_200);
    r.handle(Input::Message { from: two, msg: index(pull(&out).unwrap(), 1, &records, false), size: 60 }, NOW + 3_210);
    assert_eq!(digests(&r.handle(Input::Tick, NOW + 6_300)), 1);
}

/// Review findings (issue #25): an index may answer only the ranges its
/// pull asked for, and no seq overflows on either side.
#[test]
fn an_index_reads_only_what_its_pull_asked_and_nothing_overflows() {
    let s = store();
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    // A pull from u64::MAX is answered (empty), not a panic.
    let wants = vec![Want { channel: Channel::Network, author: two, after_seq: u64::MAX, limit: 10 }];
    let out = r.handle(Input::Message { from: two, msg: Message::Pull { req: 1, wants }, size: 100 }, NOW);
    assert!(listed(&out).is_empty());
    let out = r.handle(Input::Message { from: two, msg: heads_at(3), size: 60 }, NOW + 10);
    let Some((_, Message::Pull { req, .. })) = sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Pull { .. }))
    else {
        panic!("{out:?}")
    };
    let req = *req;
    let records = techniques(2, 3, 100);
    let ids = sync::pack(&records.iter().map(|r| short(r)).collect::<Vec<_>>());
    let bogus = |channel: Channel, author: AgencyKey, first_seq: u64| LogIds {
        gone: vec![],
        channel,
        author,
        first_seq,
        ids: ids.clone(),
    };
    let index = Message::Index {
        req,
        logs: vec![
            bogus(Channel::Network, key(3).public(), 1), // a log not asked for
            bogus(Channel::Network, two, u64::MAX),      // not from where it was asked
        ],
        more: true,
    };
    let out = r.handle(Input::Message { from: two, msg: index, size: 200 }, NOW + 20);
    assert!(asked(&out).is_empty(), "{out:?}");
    assert!(!sends(&out).iter().any(|(_, m)| matches!(m, Message::Pull { .. })), "no progress, no next pull: {out:?}");
    assert!(r.peers[&two].listed.is_empty());
}

/// Review finding: a copy with a forged signature (same id: the id covers
/// the signed bytes) must not cost the record its honest announcers.
#[test]
fn a_forged_copy_does_not_cancel_the_honest_announcers() {
    let s = store();
    let (a, b) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[a, b]);
    let record = techniques(2, 1, 100).remove(0);
    let have = || Message::Have { ids: sync::pack(&[short(&record)]) };
    let out = r.handle(Input::Message { from: a, msg: have(), size: 30 }, NOW);
    let Some((_, Message::Want { req, .. })) = sends(&out).into_iter().next() else { panic!("{out:?}") };
    r.handle(Input::Message { from: b, msg: have(), size: 30 }, NOW + 1);
    let mut forged = Envelope::from_bytes(&record).unwrap();
    forged.sig = key(3).sign(RECORD_DOMAIN, &forged.signed);
    let out = r.handle(Input::Message { from: a, msg: batch(*req, &[forged.to_bytes()], &[]), size: 300 }, NOW + 50);
    let Some(Output::Store { batch: job, records }) = out.iter().find(|o| matches!(o, Output::Store { .. })) else {
        panic!("{out:?}")
    };
    let results = s.ingest_batch(records);
    let out = r.handle(Input::Stored { batch: *job, results }, NOW + 51);
    assert!(sends(&out).iter().any(|(to, m)| **to == b && matches!(m, Message::Want { .. })), "b asked now: {out:?}");
}

/// A node that was away while a record expired or was erased elsewhere
/// learns the slot is gone from the index, fills it, and never asks for
/// the body; a peer's own tombstones are listed as gone when it serves.
#[test]
fn slots_an_index_says_are_gone_are_filled_and_never_asked_for() {
    let s = store();
    let records = techniques(2, 3, 100);
    let two = key(2).public();
    let mut r = connected(&s, &[two]);
    let out = r.handle(Input::Message { from: two, msg: heads_at(3), size: 60 }, NOW);
    let Some((_, Message::Pull { req: pull, .. })) =
        sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Pull { .. }))
    else {
        panic!("{out:?}")
    };
    let mut msg = index(*pull, 1, &records, false);
    let gone_id = Envelope::from_bytes(&records[1]).unwrap().id();
    if let Message::Index { logs, .. } = &mut msg {
        logs[0].gone.push(kawan_protocol::GoneSlot { seq: 2, id: gone_id });
    }
    let out = r.handle(Input::Message { from: two, msg, size: 100 }, NOW + 10);
    let mut got = asked(&out);
    got.sort();
    let mut want = vec![short(&records[0]), short(&records[2])];
    want.sort();
    assert_eq!(got, want, "the gone slot is not asked for");
    assert_eq!(s.log_slot(&Channel::Network, &two, 2).unwrap(), Some(gone_id));
    assert!(s.tombstone(&gone_id).unwrap().is_some());
    assert_eq!(r.stats().penalties, 0);
}

#[test]
fn a_peers_index_never_fills_this_agencys_own_log_with_claims() {
    // Agency 2's node lost its records (a restore from an old backup) and
    // pulls its own log back from agency 3: the records are asked for,
    // and a slot agency 3 calls gone stays empty here, not claimed.
    let s = store();
    let records = techniques(2, 3, 100);
    let (two, three) = (key(2).public(), key(3).public());
    let mut r = Replica::new(two, s.clone(), Config::default(), 7);
    r.handle(Input::PeerUp { peer: three, dialled: false }, NOW);
    let out = r.handle(Input::Message { from: three, msg: heads_at(3), size: 60 }, NOW);
    let Some((_, Message::Pull { req: pull, .. })) =
        sends(&out).into_iter().find(|(_, m)| matches!(m, Message::Pull { .. }))
    else {
        // Never pulling its own log at all is as safe; say so loudly.
        panic!("expected a pull of its own log after data loss: {out:?}")
    };
    let mut msg = index(*pull, 1, &records, false);
    let gone_id = Envelope::from_bytes(&records[1]).unwrap().id();
    if let Message::Index { logs, .. } = &mut msg {
        logs[0].gone.push(kawan_protocol::GoneSlot { seq: 2, id: gone_id });
    }
    r.handle(Input::Message { from: three, msg, size: 100 }, NOW + 10);
    assert_eq!(s.log_slot(&Channel::Network, &two, 2).unwrap(), None, "no claim in its own log");
    assert!(s.tombstone(&gone_id).unwrap().is_none());
}

#[test]
fn one_peers_word_that_a_slot_is_gone_does_not_stop_another_peer_delivering_it() {
    // Agency 3 (a member withholding agency 2's record) says slot 2 is
    // gone; agency 2 itself lists it as held: it is asked of agency 2.
    let s = store();
    let records = techniques(2, 3, 100);
    let (two, three) = (key(2).public(), key(3).public());
    let mut r = connected(&s, &[three, two]);
    let gone_id = Envelope::from_bytes(&records[1]).unwrap().id();
    let pull_of = |out: &[Output], from: AgencyKey| {
        sends(out).into_iter().find_map(|(to, m)| match m {
            Message::Pull { req, .. } if *to == from => Some(*req),
            _ => None,
        })
    };
    let out = r.handle(Input::Message { from: three, msg: heads_at(3), size: 60 }, NOW);
    let pull = pull_of(&out, three).expect("a pull of agency 3");
    let mut msg = index(pull, 1, &records, false);
    if let Message::Index { logs, .. } = &mut msg {
        logs[0].gone.push(kawan_protocol::GoneSlot { seq: 2, id: gone_id });
    }
    r.handle(Input::Message { from: three, msg, size: 100 }, NOW + 10);
    assert!(s.is_unconfirmed_claim(&gone_id).unwrap());
    assert_eq!(s.head(&Channel::Network, &two).unwrap(), 0, "the head waits at the unconfirmed claim");
    let out = r.handle(Input::Message { from: two, msg: heads_at(3), size: 60 }, NOW + 20);
    let pull = pull_of(&out, two).expect("a pull of agency 2: our head did not move past the claim");
    let out = r.handle(Input::Message { from: two, msg: index(pull, 1, &records, false), size: 100 }, NOW + 30);
    let asked_two: Vec<sync::ShortId> = sends(&out)
        .into_iter()
        .filter(|(to, _)| **to == two)
        .filter_map(|(_, m)| match m {
            Message::Want { ids, .. } => Some(sync::unpack(ids).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(asked_two.contains(&short(&records[1])), "the withheld record is asked of an honest peer: {asked_two:?}");
}
