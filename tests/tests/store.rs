//! The node's store, through its public API: publishing, ingest rules,
//! revisions, retractions, sightings and queries. One suite, run on both
//! engines: fjall on disk and the in-memory engine the simulator uses.

use std::sync::Arc;

use kawan_node::{
    data_dir::DataDir,
    store::{BulkItem, Cursor, IngestError, Ingested, PublishError, Query, Store, Withdrawn},
};
use kawan_protocol::*;
use kawan_tests::fixtures::*;

#[derive(Clone, Copy)]
enum Engine {
    Fjall,
    Memory,
}

/// An empty store on `engine` (the directory lives as long as the store).
fn fresh(engine: Engine) -> (Option<tempfile::TempDir>, DataDir) {
    match engine {
        Engine::Fjall => {
            let dir = tempfile::tempdir().unwrap();
            let storage = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
            (Some(dir), storage)
        }
        Engine::Memory => (None, DataDir::in_memory(kawan_node::clock::Clock::system()).unwrap()),
    }
}

/// Agencies 1-4 in the network; group `mekong` is agencies 1 and 2. This
/// node is agency 1.
fn open(engine: Engine) -> (Option<tempfile::TempDir>, DataDir) {
    let (dir, storage) = fresh(engine);
    storage.store.install_genesis(&trust_list(1, &[1, 2, 3, 4], &[("mekong", &[1, 2])])).unwrap();
    (dir, storage)
}

fn mekong() -> Channel {
    Channel::Group(GroupId::new("mekong").unwrap())
}

fn ingest(store: &Store, v: &Verified) -> Result<Ingested, IngestError> {
    store.ingest(&v.envelope.to_bytes())
}

fn ctx() -> Context {
    Context::default()
}

#[test]
fn publishing_chains_the_log_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let me = agency(1);
    let ids: Vec<RecordId> = {
        let s = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
        s.store.install_genesis(&trust_list(1, &[1, 2], &[])).unwrap();
        (0..3).map(|i| s.store.publish(&me, &network(), phone_body(i), None).unwrap().id).collect()
    };
    let s = DataDir::open(dir.path(), kawan_node::clock::Clock::system()).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let r = s.store.get(id).unwrap().expect("published record is stored");
        assert_eq!(r.record.header.seq, i as u64 + 1);
        assert_eq!(r.record.header.prev, i.checked_sub(1).map(|p| ids[p]));
    }
    assert_eq!(s.store.head(&Channel::Network, &me.public()).unwrap(), 3);
    assert!(s.store.trust().is_some(), "the trust list is persisted too");
}

fn concurrent_publishes_never_reuse_a_seq(e: Engine) {
    let (_d, s) = open(e);
    let store = Arc::new(s.store);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| store.publish(&agency(1), &network(), phone_body(t * 25 + i), None).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).map(|v| v.record.header.seq).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    assert_eq!(store.head(&Channel::Network, &agency(1).public()).unwrap(), 200);
    assert!(store.equivocators().unwrap().is_empty());
}

fn publishing_enforces_tlp_channels_and_group_membership(e: Engine) {
    let (_d, s) = open(e);
    let me = agency(1);
    let mut amber = indicator(Kind::Phone, &phone(1), Tlp::Amber);
    assert!(matches!(
        s.store.publish(&me, &network(), Body::Indicator(amber.clone()), None),
        Err(PublishError::NeedsGroup(Tlp::Amber))
    ));
    let v = s
        .store
        .publish(&me, &network(), Body::Indicator(amber.clone()), Some(GroupId::new("mekong").unwrap()))
        .unwrap();
    assert_eq!(v.record.header.channel, mekong());
    amber.tlp = Tlp::Red;
    assert!(matches!(s.store.publish(&me, &network(), Body::Indicator(amber), None), Err(PublishError::Red)));
    let green = Body::Indicator(indicator(Kind::Phone, &phone(2), Tlp::Green));
    assert!(matches!(
        s.store.publish(&me, &network(), green, Some(GroupId::new("mekong").unwrap())),
        Err(PublishError::NoGroupAllowed(_))
    ));
    // Agency 3 is not in mekong, so it cannot publish there.
    let amber3 = Body::Indicator(indicator(Kind::Phone, &phone(3), Tlp::Amber));
    assert!(matches!(
        s.store.publish(&agency(3), &network(), amber3, Some(GroupId::new("mekong").unwrap())),
        Err(PublishError::NotInGroup(_))
    ));
    // A raw, non-normalised value is refused before signing.
    let raw = Body::Indicator(indicator(Kind::Phone, "+44 7700 900123", Tlp::Green));
    assert!(matches!(
        s.store.publish(&me, &network(), raw, None),
        Err(PublishError::Invalid(RecordError::NotNormal(_)))
    ));
}

fn ingest_accepts_members_and_refuses_everyone_else(e: Engine) {
    let (_d, s) = open(e);
    let ok = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    assert_eq!(ingest(&s.store, &ok).unwrap(), Ingested::New(ok.id));
    assert_eq!(ingest(&s.store, &ok).unwrap(), Ingested::Duplicate(ok.id));

    let stranger = signed(&agency(9), Channel::Network, 1, None, phone_body(2));
    assert!(matches!(ingest(&s.store, &stranger), Err(IngestError::NotMember(_))));

    let amber = Body::Indicator(indicator(Kind::Phone, &phone(3), Tlp::Amber));
    let outsider = signed(&agency(3), mekong(), 1, None, amber.clone());
    assert!(matches!(ingest(&s.store, &outsider), Err(IngestError::NotInGroup { .. })));
    let insider = signed(&agency(2), mekong(), 1, None, amber);
    assert!(ingest(&s.store, &insider).is_ok());

    let mut other_net = Record { header: ok.record.header.clone(), body: phone_body(4) };
    other_net.header.network = NetworkId::new("elsewhere").unwrap();
    let other_net = other_net.sign(&agency(2)).unwrap();
    assert!(matches!(ingest(&s.store, &other_net), Err(IngestError::WrongNetwork { .. })));

    let mut forged = signed(&agency(2), Channel::Network, 2, Some(ok.id), phone_body(5)).envelope;
    forged.sig = agency(3).sign(RECORD_DOMAIN, &forged.signed);
    assert!(matches!(s.store.ingest(&forged.to_bytes()), Err(IngestError::Record(RecordError::BadSignature))));

    let oversized = vec![0xa2; 70 * 1024];
    assert!(matches!(s.store.ingest(&oversized), Err(IngestError::Record(RecordError::Envelope(_)))));
    assert!(s.store.ingest(b"").is_err());

    assert_eq!(s.store.len(), 2, "only the two accepted records are stored");

    // The caller's own rule: a verified record it refuses is not written.
    let grp = Body::Indicator(indicator(Kind::Phone, &phone(6), Tlp::Amber));
    let grp = signed(&agency(2), mekong(), 2, Some(insider_id(&s.store)), grp).envelope.to_bytes();
    let net = signed(&agency(2), Channel::Network, 2, Some(ok.id), phone_body(7));
    let results = s.store.ingest_batch_where(&[grp, net.envelope.to_bytes()], |h| {
        (h.channel != Channel::Network).then(|| format!("not {}", h.channel))
    });
    assert!(matches!(&results[0], Err(IngestError::Refused(why)) if why == "not group:mekong"), "{results:?}");
    assert_eq!(results[1].as_ref().unwrap(), &Ingested::New(net.id));
    assert_eq!(s.store.len(), 3, "the refused record was not written");
}

/// The id of agency 2's first record in group mekong.
fn insider_id(store: &Store) -> RecordId {
    store.log_slot(&mekong(), &agency(2).public(), 1).unwrap().expect("stored")
}

fn a_node_without_a_trust_list_refuses_peer_records(e: Engine) {
    let (_d, s) = fresh(e);
    let v = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    assert!(matches!(ingest(&s.store, &v), Err(IngestError::NoTrustList)));
}

fn out_of_order_records_wait_for_the_gap_to_fill(e: Engine) {
    let (_d, s) = open(e);
    let a = agency(2);
    let log = chain(&a, 4, 0);
    for v in [&log[3], &log[2], &log[1]] {
        ingest(&s.store, v).unwrap();
    }
    assert_eq!(s.store.head(&Channel::Network, &a.public()).unwrap(), 0);
    assert!(s.store.log_after(&Channel::Network, &a.public(), 0, 10).unwrap().is_empty());
    ingest(&s.store, &log[0]).unwrap();
    assert_eq!(s.store.head(&Channel::Network, &a.public()).unwrap(), 4);
    let sent = s.store.log_after(&Channel::Network, &a.public(), 1, 2).unwrap();
    assert_eq!(sent, vec![log[1].envelope.to_bytes(), log[2].envelope.to_bytes()]);
}

fn equivocation_keeps_both_records_and_flags_the_author(e: Engine) {
    let (_d, s) = open(e);
    let a = agency(2);
    let first = signed(&a, Channel::Network, 1, None, phone_body(1));
    let second = signed(&a, Channel::Network, 1, None, phone_body(2));
    assert_eq!(ingest(&s.store, &first).unwrap(), Ingested::New(first.id));
    assert_eq!(ingest(&s.store, &second).unwrap(), Ingested::Equivocation(second.id));
    assert!(s.store.contains(&first.id).unwrap() && s.store.contains(&second.id).unwrap());
    assert_eq!(s.store.equivocators().unwrap(), vec![a.public()]);
    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert!(hits[0].author_equivocating);
    // The fork is proof, not content: it is in no view.
    assert!(s.store.lookup(Kind::Phone, &phone(2), &ctx(), false).unwrap().unwrap().is_empty());
    // One fork is proof enough: further forks of the slot are neither
    // stored nor relayed, so equivocation spam cannot grow the store.
    let before = s.store.len();
    for n in 3..50 {
        let fork = signed(&a, Channel::Network, 1, None, phone_body(n));
        assert_eq!(ingest(&s.store, &fork).unwrap(), Ingested::Ignored(fork.id));
    }
    assert_eq!(s.store.len(), before);
}

fn a_record_whose_prev_is_not_the_slot_below_flags_its_author(e: Engine) {
    let (_d, s) = open(e);
    let a = agency(2);
    let one = signed(&a, Channel::Network, 1, None, phone_body(1));
    let other_one = signed(&a, Channel::Network, 1, None, phone_body(9));
    // Seq 2 chained to a seq-1 record this node does not hold: the author
    // signed two records for slot 1 (two nodes would otherwise hold
    // different records with equal heads).
    let two = signed(&a, Channel::Network, 2, Some(other_one.id), phone_body(2));
    ingest(&s.store, &one).unwrap();
    ingest(&s.store, &two).unwrap();
    assert_eq!(s.store.equivocators().unwrap(), vec![a.public()]);
}

fn one_bad_record_never_poisons_a_batch(e: Engine) {
    let (_d, s) = open(e);
    let good = chain(&agency(2), 5, 0);
    let mut bytes: Vec<Vec<u8>> = good.iter().map(|v| v.envelope.to_bytes()).collect();
    let mut forged = good[2].envelope.clone();
    forged.sig = agency(3).sign(RECORD_DOMAIN, &forged.signed);
    bytes[2] = forged.to_bytes();
    bytes.push(b"garbage".to_vec());
    bytes.push(signed(&agency(9), Channel::Network, 1, None, phone_body(9)).envelope.to_bytes());
    let results = s.store.ingest_batch(&bytes);
    assert_eq!(results.len(), 7);
    for (i, r) in results.iter().enumerate() {
        match i {
            2 => assert!(matches!(r, Err(IngestError::Record(RecordError::BadSignature))), "{r:?}"),
            5 => assert!(matches!(r, Err(IngestError::Record(_)))),
            6 => assert!(matches!(r, Err(IngestError::NotMember(_)))),
            _ => assert!(matches!(r, Ok(Ingested::New(_))), "record {i}: {r:?}"),
        }
    }
    assert_eq!(s.store.head(&Channel::Network, &agency(2).public()).unwrap(), 2, "gap at seq 3");
}

fn revisions_show_the_latest_version_and_retractions_hide_the_record(e: Engine) {
    let (_d, s) = open(e);
    let me = agency(1);
    let orig = s.store.publish(&me, &network(), phone_body(1), None).unwrap();
    let mut better = indicator(Kind::Phone, &phone(1), Tlp::Green);
    better.confidence = 95;
    let rev = Body::Revision(Revision { supersedes: orig.id, content: Content::Indicator(better) });
    let rev = s.store.publish(&me, &network(), rev, None).unwrap();

    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert_eq!(hits.len(), 1, "one piece of knowledge, not two");
    assert_eq!((hits[0].id, hits[0].version, hits[0].revisions), (orig.id, rev.id, 1));
    assert!(matches!(&hits[0].content, Content::Indicator(i) if i.confidence == 95));

    let retract = Body::Retraction(Retraction { target: orig.id, reason: "number reassigned".into() });
    s.store.publish(&me, &network(), retract, None).unwrap();
    assert!(s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap().is_empty());
    let history = s.store.lookup(Kind::Phone, &phone(1), &ctx(), true).unwrap().unwrap();
    assert_eq!(history[0].retracted.as_deref(), Some("number reassigned"));
    assert_eq!(s.store.versions(&orig.id).unwrap().len(), 2);
}

fn only_the_author_may_revise_or_retract(e: Engine) {
    let (_d, s) = open(e);
    let theirs = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    ingest(&s.store, &theirs).unwrap();
    // Publishing locally refuses straight away.
    let rev = Body::Revision(Revision {
        supersedes: theirs.id,
        content: Content::Indicator(indicator(Kind::Phone, &phone(1), Tlp::Green)),
    });
    assert!(matches!(s.store.publish(&agency(1), &network(), rev.clone(), None), Err(PublishError::NotOwnTarget(_))));
    // A peer's revision or retraction of a third agency's record is stored
    // (its slot is decided whatever arrived first, so no log stalls behind
    // it) and changes nothing…
    let hostile = signed(&agency(3), Channel::Network, 1, None, rev.clone());
    assert!(matches!(ingest(&s.store, &hostile), Ok(Ingested::New(_))));
    let retract = Body::Retraction(Retraction { target: theirs.id, reason: "spite".into() });
    let hostile = signed(&agency(3), Channel::Network, 2, Some(hostile.id), retract.clone());
    assert!(matches!(ingest(&s.store, &hostile), Ok(Ingested::New(_))));
    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert_eq!((hits.len(), hits[0].revisions), (1, 0), "the author's record stands, unrevised, unretracted");
    assert_eq!(s.store.head(&Channel::Network, &agency(3).public()).unwrap(), 2, "the log moves on");

    // …and the same when it arrives before its target.
    let (_d2, s2) = open(e);
    let early = signed(&agency(3), Channel::Network, 1, None, retract);
    ingest(&s2.store, &early).unwrap();
    ingest(&s2.store, &theirs).unwrap();
    let hits = s2.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].retracted.is_none());
}

fn sightings_aggregate_per_indicator(e: Engine) {
    let (_d, s) = open(e);
    let orig = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    ingest(&s.store, &orig).unwrap();
    let sight = |n: u8, verdict| {
        let body = Body::Sighting(Sighting {
            attachments: vec![],
            target: orig.id,
            verdict,
            seen_ms: None,
            countries: vec![],
            comment: None,
        });
        signed(&agency(n), Channel::Network, 1, None, body)
    };
    let by3 = sight(3, Verdict::Corroborates);
    ingest(&s.store, &by3).unwrap();
    ingest(&s.store, &sight(4, Verdict::FalsePositive)).unwrap();
    let body = Body::Sighting(Sighting {
        attachments: vec![],
        target: orig.id,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    });
    s.store.publish(&agency(1), &network(), body, None).unwrap();
    // Agency 3 also published the same value itself.
    ingest(&s.store, &signed(&agency(3), Channel::Network, 2, Some(by3.id), phone_body(1))).unwrap();

    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert_eq!(hits.len(), 2);
    let h = hits.iter().find(|h| h.id == orig.id).unwrap();
    let mut sighted = vec![agency(1).public(), agency(3).public()];
    sighted.sort();
    assert_eq!(h.sighted_by, sighted);
    assert_eq!(h.false_positive_by, vec![agency(4).public()]);
    // Agencies 1, 2 and 3 said so; 4's dispute does not count.
    assert!(hits.iter().all(|h| h.agencies == 3));
}

fn queries_find_by_value_kind_author_typology_and_time(e: Engine) {
    let (_d, s) = open(e);
    let typology = Body::Typology(Typology {
        attachments: vec![],
        evaluation: None,
        handling: None,
        review_ms: None,
        title: "Fake casino job".into(),
        stage: Stage::Recruitment,
        summary: "Recruiters offer customer-service jobs abroad.".into(),
        tlp: Tlp::Green,
        aliases: vec![],
        lures: vec![],
        platforms: vec![],
        control_methods: vec![],
        route: vec![],
        red_flags: vec![],
        mappings: vec![],
        references: vec![],
    });
    let typ = s.store.publish(&agency(1), &network(), typology, None).unwrap();
    let mut with_typology = indicator(Kind::Domain, "jobs-abroad.example", Tlp::Green);
    with_typology.typologies = vec![typ.id];
    let dom = s.store.publish(&agency(1), &network(), Body::Indicator(with_typology), None).unwrap();
    let theirs = chain(&agency(2), 3, 10);
    for v in &theirs {
        ingest(&s.store, v).unwrap();
    }

    let by_raw = s.store.lookup(Kind::Phone, "+44 (0)7700 900 011", &ctx(), false).unwrap().unwrap();
    assert_eq!(by_raw[0].id, theirs[1].id, "raw values are normalised before lookup");
    assert!(s.store.lookup(Kind::Phone, "garbage", &ctx(), false).unwrap().is_err());

    let q = |q: Query| s.store.search(&q, &ctx()).unwrap().unwrap();
    assert_eq!(q(Query { kind: Some(Kind::Phone), ..Default::default() }).len(), 3);
    assert_eq!(q(Query { author: Some(agency(2).public()), ..Default::default() }).len(), 3);
    assert_eq!(q(Query { typology: Some(typ.id), ..Default::default() })[0].id, dom.id);
    assert_eq!(q(Query { family: Some(kawan_protocol::Family::Typology), ..Default::default() })[0].id, typ.id);
    let window =
        q(Query { since_ms: Some(1_764_000_000_002), until_ms: Some(1_764_000_000_003), ..Default::default() });
    assert_eq!(window.iter().map(|h| h.id).collect::<Vec<_>>(), vec![theirs[2].id, theirs[1].id], "newest first");
    assert_eq!(q(Query { limit: 2, ..Default::default() }).len(), 2);
    let by_value =
        q(Query { kind: Some(Kind::Domain), value: Some("JOBS-ABROAD.example.".into()), ..Default::default() });
    assert_eq!(by_value[0].id, dom.id);
}

fn the_added_after_feed_pages_in_receive_order(e: Engine) {
    let (_d, s) = open(e);
    let log = chain(&agency(2), 5, 0);
    for v in &log {
        ingest(&s.store, v).unwrap();
    }
    let (page1, c1) = s.store.added_after(None, None, 2).unwrap();
    let (page2, c2) = s.store.added_after(c1, None, 2).unwrap();
    let (page3, c3) = s.store.added_after(c2, None, 2).unwrap();
    let ids: Vec<_> = page1.iter().chain(&page2).chain(&page3).map(|r| r.id).collect();
    assert_eq!(ids, log.iter().map(|v| v.id).collect::<Vec<_>>());
    assert!(s.store.added_after(c3, None, 2).unwrap().0.is_empty());
    let c: Cursor = c1.unwrap().to_string().parse().unwrap();
    assert_eq!(Some(c), c1);
    assert!(s.store.added_after(Some(Cursor::after_ms(u64::MAX - 1)), None, 10).unwrap().0.is_empty());
    assert!(s.store.added_after(None, Some(&mekong()), 10).unwrap().0.is_empty());
}

fn bulk_lookup_reports_each_value_on_its_own(e: Engine) {
    let (_d, s) = open(e);
    for v in chain(&agency(2), 3, 0) {
        ingest(&s.store, &v).unwrap();
    }
    let items = vec![
        BulkItem { kind: Some(Kind::Phone), value: "07700 900001".into() },
        BulkItem { kind: None, value: "+44 7700 900002".into() },
        BulkItem { kind: None, value: "jobs.example".into() },
        BulkItem { kind: Some(Kind::Phone), value: "not a number".into() },
        BulkItem { kind: None, value: "???".into() },
    ];
    let gb = Context { default_region: "GB".parse().ok() };
    let res = s.store.bulk_lookup(&items, &gb, false).unwrap();
    assert_eq!(res[0].hits.len(), 1);
    assert_eq!(res[1].kind, Some(Kind::Phone));
    assert_eq!(res[1].hits.len(), 1);
    assert!(res[2].hits.is_empty() && res[2].error.is_none());
    assert!(res[3].error.as_deref().unwrap().contains("phone"));
    assert!(res[4].error.is_some());
}

fn revoked_authors_keep_their_records_flagged_and_cannot_add_more(e: Engine) {
    let (_d, s) = open(e);
    let a = agency(4);
    ingest(&s.store, &signed(&a, Channel::Network, 1, None, phone_body(1))).unwrap();
    s.store.apply_trust_update(&trust_list(2, &[1, 2, 3], &[("mekong", &[1, 2])])).unwrap();
    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), false).unwrap().unwrap();
    assert!(hits[0].author_revoked);
    let later = signed(&a, Channel::Network, 2, Some(RecordId([0; 32])), phone_body(2));
    assert!(matches!(ingest(&s.store, &later), Err(IngestError::NotMember(_))));
    // An old list cannot be installed again.
    assert!(s.store.apply_trust_update(&trust_list(1, &[1, 2, 3, 4], &[])).is_err());
    assert_eq!(s.store.trust_lists_after(0).unwrap().len(), 2);
}

fn sightings_and_retractions_must_travel_on_their_targets_channel(e: Engine) {
    let (_d, s) = open(e);
    let target = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    ingest(&s.store, &target).unwrap();
    let body = Body::Sighting(Sighting {
        attachments: vec![],
        target: target.id,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    });
    // A sighting of a network record, sent only to a group, would split the
    // record's provenance between audiences: stored (whatever the order),
    // never counted.
    let misplaced = signed(&agency(1), mekong(), 1, None, body.clone());
    assert!(matches!(ingest(&s.store, &misplaced), Ok(Ingested::New(_))));
    let hit = s.store.view(&target.id, None).unwrap().unwrap();
    assert!(hit.sighted_by.is_empty(), "a sighting on another channel does not count");
    let counted = signed(&agency(1), Channel::Network, 1, None, body);
    ingest(&s.store, &counted).unwrap();
    assert_eq!(s.store.view(&target.id, None).unwrap().unwrap().sighted_by, vec![agency(1).public()]);
}

fn a_batch_of_publishes_chains_each_log_and_reports_per_body(e: Engine) {
    let (_d, s) = open(e);
    let me = agency(1);
    s.store.publish(&me, &network(), phone_body(1), None).unwrap();
    let bad = Body::Indicator(indicator(Kind::Phone, "+44 7700 900002", Tlp::Green)); // not normalised
    let amber = Body::Indicator(indicator(Kind::Phone, &phone(3), Tlp::Amber));
    let items =
        vec![(phone_body(2), None), (bad, None), (amber, Some(GroupId::new("mekong").unwrap())), (phone_body(4), None)];
    let results = s.store.publish_batch(&me, &network(), items);
    assert!(matches!(results[1], Err(PublishError::Invalid(RecordError::NotNormal(_)))));
    let ok: Vec<&Verified> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 3);
    assert_eq!((ok[0].record.header.seq, ok[2].record.header.seq), (2, 3), "the network log continues without a gap");
    assert_eq!(ok[2].record.header.prev, Some(ok[0].id));
    assert_eq!(
        (ok[1].record.header.channel.clone(), ok[1].record.header.seq),
        (mekong(), 1),
        "the group log starts at 1"
    );
    assert_eq!(s.store.head(&Channel::Network, &me.public()).unwrap(), 3);
}

/// Duplicates are the common case in sync (every peer offers the same
/// records); they are recognised by id before any signature is verified.
fn duplicates_are_recognised_before_verification(e: Engine) {
    let (_d, s) = open(e);
    let v = signed(&agency(2), Channel::Network, 1, None, phone_body(1));
    assert!(matches!(ingest(&s.store, &v), Ok(Ingested::New(_))));
    let mut copy = v.envelope.clone();
    copy.sig.0[0] ^= 1; // a verification would refuse this copy
    assert_eq!(s.store.ingest(&copy.to_bytes()).unwrap(), Ingested::Duplicate(v.id));
    // A record not stored yet is still verified.
    let fresh = signed(&agency(2), Channel::Network, 2, Some(v.id), phone_body(2));
    let mut forged = fresh.envelope.clone();
    forged.sig.0[0] ^= 1;
    assert!(matches!(s.store.ingest(&forged.to_bytes()), Err(IngestError::Record(RecordError::BadSignature))));
    assert_eq!(s.store.get(&v.id).unwrap().unwrap().envelope, v.envelope, "the stored copy is the authentic one");
}

/// Version 2 of the list: agency 2's key was stolen and rotated to key 12;
/// its old key's network log ends at `end` (by seq and id).
fn rotated_after_theft(end: &Verified) -> SignedTrustList {
    let mut list = trust_list(1, &[1, 2, 3, 4], &[("mekong", &[1, 2])]).list().unwrap();
    list.version = 2;
    let m = list.members.iter_mut().find(|m| m.key == agency(2).public()).unwrap();
    m.retired_keys.push(RetiredKey {
        key: agency(2).public(),
        from_ms: None,
        until_ms: 1_764_000_000_000 + 1_000,
        last_seqs: vec![LogEnd { channel: Channel::Network, seq: end.record.header.seq, id: Some(end.id) }],
        compromised: true,
    });
    m.key = agency(12).public();
    let mut signed = SignedTrustList::new(&list).unwrap();
    signed.sign(&agency(1));
    signed
}

/// What a thief with agency 2's old key signs: a retraction and a revision
/// of its first record, in slots the genuine log already uses (backdated:
/// the fixture's times are inside the key's window).
fn thiefs_forks(genuine: &[Verified]) -> (Verified, Verified) {
    let thief = agency(2);
    let retract = Body::Retraction(Retraction { target: genuine[0].id, reason: "forged".into() });
    let rewrite = Body::Revision(Revision {
        supersedes: genuine[0].id,
        content: Content::Indicator(indicator(Kind::Phone, &phone(900), Tlp::Green)),
    });
    (
        signed(&thief, Channel::Network, 2, Some(genuine[0].id), retract),
        signed(&thief, Channel::Network, 3, Some(genuine[1].id), rewrite),
    )
}

fn void_off_chain(r: Result<Ingested, IngestError>) -> bool {
    matches!(r, Err(IngestError::Void { reason: Void::OffAnchoredChain { .. }, .. }))
}

/// The first record of agency 2's log as this node shows it: not retracted,
/// not rewritten.
fn shows_genuine_history(s: &Store, genuine: &[Verified]) {
    let hits = s.lookup(Kind::Phone, &phone(1), &ctx(), true).unwrap().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].id, hits[0].version, hits[0].revisions), (genuine[0].id, genuine[0].id, 0), "{hits:?}");
    assert!(hits[0].retracted.is_none() && !hits[0].author_equivocating, "{hits:?}");
    assert!(s.lookup(Kind::Phone, &phone(900), &ctx(), true).unwrap().unwrap().is_empty());
    assert!(s.equivocators().unwrap().is_empty(), "the victim is not flagged");
}

/// A thief forks slots below the retired key's end before the rotation
/// (stored as equivocation proof, the agency flagged) and after it (through
/// an accomplice relay): once the rotation names the end by id, every fork
/// is removed or refused, the genuine history stands, and nobody is flagged.
fn forks_below_an_anchored_end_are_void_and_flag_nobody(e: Engine) {
    let (_d, s) = open(e);
    let genuine = chain(&agency(2), 4, 1);
    for v in &genuine {
        ingest(&s.store, v).unwrap();
    }
    let (retract, rewrite) = thiefs_forks(&genuine);
    assert_eq!(ingest(&s.store, &retract).unwrap(), Ingested::Equivocation(retract.id));
    assert_eq!(s.store.equivocators().unwrap(), vec![agency(2).public()], "before the rotation: flagged");
    // A fork never counts, even before the rotation.
    assert!(ingest(&s.store, &rewrite).is_ok());
    let hits = s.store.lookup(Kind::Phone, &phone(1), &ctx(), true).unwrap().unwrap();
    assert!(hits[0].retracted.is_none() && hits[0].revisions == 0, "a fork kept as proof took effect: {hits:?}");

    s.store.apply_trust_update(&rotated_after_theft(&genuine[3])).unwrap();
    shows_genuine_history(&s.store, &genuine);
    assert!(!s.store.contains(&retract.id).unwrap(), "the fork's bytes are gone");
    assert_eq!(s.store.head(&Channel::Network, &agency(2).public()).unwrap(), 4);
    // After the rotation the same forks, and new ones, are refused.
    assert!(void_off_chain(ingest(&s.store, &retract)));
    let another = signed(&agency(2), Channel::Network, 4, Some(genuine[2].id), phone_body(901));
    assert!(void_off_chain(ingest(&s.store, &another)));
    shows_genuine_history(&s.store, &genuine);
    // The whole log is served, exactly the genuine chain.
    let served = s.store.log_after(&Channel::Network, &agency(2).public(), 0, 10).unwrap();
    assert_eq!(served, genuine.iter().map(|v| v.envelope.to_bytes()).collect::<Vec<_>>());
}

/// A node that joins after the rotation, and meets the thief's forks first
/// (an accomplice relays them), keeps only the chain the rotation names,
/// whatever order the records come in; what waits for the chain is neither
/// shown nor served.
fn a_node_without_the_history_takes_only_the_anchored_chain(e: Engine) {
    let (_d, s) = open(e);
    let genuine = chain(&agency(2), 4, 1);
    s.store.apply_trust_update(&rotated_after_theft(&genuine[3])).unwrap();
    let (retract, rewrite) = thiefs_forks(&genuine);
    let old = agency(2).public();

    assert_eq!(ingest(&s.store, &retract).unwrap(), Ingested::Waiting(retract.id));
    assert_eq!(ingest(&s.store, &genuine[0]).unwrap(), Ingested::Waiting(genuine[0].id));
    assert!(s.store.lookup(Kind::Phone, &phone(1), &ctx(), true).unwrap().unwrap().is_empty(), "unchecked: hidden");
    assert!(s.store.log_after(&Channel::Network, &old, 0, 10).unwrap().is_empty(), "unchecked: not served");
    // The genuine record of slot 2 finds the fork there and waits beside it.
    assert_eq!(ingest(&s.store, &genuine[1]).unwrap(), Ingested::Waiting(genuine[1].id));
    assert_eq!(ingest(&s.store, &rewrite).unwrap(), Ingested::Waiting(rewrite.id));
    // The end arrives: the chain runs down and meets a fork where its link
    // should be, with the link nowhere. A thief's placeholders would cost a
    // pull each, so every unchecked record below goes too: one pull from
    // the gap refills them.
    assert_eq!(ingest(&s.store, &genuine[3]).unwrap(), Ingested::New(genuine[3].id));
    assert!(!s.store.contains(&rewrite.id).unwrap() && !s.store.contains(&retract.id).unwrap());
    assert_eq!(s.store.head(&Channel::Network, &old).unwrap(), 0);
    // The pull, raced by the accomplice's fork: the link is chosen from
    // the candidates, whichever arrived first.
    assert_eq!(ingest(&s.store, &genuine[0]).unwrap(), Ingested::Waiting(genuine[0].id));
    assert_eq!(ingest(&s.store, &retract).unwrap(), Ingested::Waiting(retract.id));
    // (Slot 2's genuine record was still kept as a candidate.)
    assert_eq!(ingest(&s.store, &genuine[1]).unwrap(), Ingested::Duplicate(genuine[1].id));
    assert_eq!(ingest(&s.store, &genuine[2]).unwrap(), Ingested::New(genuine[2].id));
    assert!(!s.store.contains(&retract.id).unwrap());
    assert!(void_off_chain(ingest(&s.store, &retract)), "the fork cannot come back");
    assert_eq!(s.store.head(&Channel::Network, &old).unwrap(), 4);
    shows_genuine_history(&s.store, &genuine);
    let served = s.store.log_after(&Channel::Network, &old, 0, 10).unwrap();
    assert_eq!(served.len(), 4);

    // In one batch, in log order (how sync delivers a log), it all lands.
    let (_d2, s2) = open(e);
    s2.store.apply_trust_update(&rotated_after_theft(&genuine[3])).unwrap();
    let batch: Vec<Vec<u8>> = genuine.iter().map(|v| v.envelope.to_bytes()).collect();
    assert!(s2.store.ingest_batch(&batch).iter().all(|r| r.is_ok()));
    assert_eq!(s2.store.head(&Channel::Network, &old).unwrap(), 4);
    shows_genuine_history(&s2.store, &genuine);
}

/// A rotation's log ends come from what this node published itself, not
/// from its store: a thief's backdated record that continued the log and
/// reached the node is never the end.
fn a_rotations_log_end_is_what_the_node_itself_signed(e: Engine) {
    let (_d, s) = open(e);
    let me = agency(1);
    s.store.publish(&me, &network(), phone_body(1), None).unwrap();
    let mine = s.store.publish(&me, &network(), phone_body(2), None).unwrap();
    let forged = signed(&me, Channel::Network, 3, Some(mine.id), phone_body(3));
    assert_eq!(ingest(&s.store, &forged).unwrap(), Ingested::New(forged.id));
    let end = s.store.own_log_end(&Channel::Network, &me.public(), u64::MAX, true).unwrap();
    assert_eq!(end, Some((2, mine.id)));
    // The node, unaware, goes on publishing on top of the thief's record:
    // the end stays below the thief, whose record is no ancestor of it.
    let next = s.store.publish(&me, &network(), phone_body(4), None).unwrap();
    assert_eq!(next.record.header.prev, Some(forged.id));
    let end = s.store.own_log_end(&Channel::Network, &me.public(), u64::MAX, true).unwrap();
    assert_eq!(end, Some((2, mine.id)));
    // A routine rotation (no thief) ends at what the log holds.
    let end = s.store.own_log_end(&Channel::Network, &me.public(), u64::MAX, false).unwrap();
    assert_eq!(end, Some((4, next.id)));

    // Records from before the node kept its account (or received back
    // after a restore) still count below its first own record.
    let (_d, s) = open(e);
    let earlier = chain(&me, 2, 10);
    for v in &earlier {
        ingest(&s.store, v).unwrap();
    }
    s.store.publish(&me, &network(), phone_body(12), None).unwrap();
    let until = earlier[1].record.header.created_ms;
    let end = s.store.own_log_end(&Channel::Network, &me.public(), until, true).unwrap();
    assert_eq!(end, Some((2, earlier[1].id)));
}

/// A later list that moves a log's anchored end sorts the log again.
fn a_moved_anchor_sorts_the_log_again(e: Engine) {
    let (_d, s) = open(e);
    let genuine = chain(&agency(2), 4, 1);
    for v in &genuine {
        ingest(&s.store, v).unwrap();
    }
    s.store.apply_trust_update(&rotated_after_theft(&genuine[3])).unwrap();
    let mut list = rotated_after_theft(&genuine[2]).list().unwrap();
    list.version = 3;
    let mut v3 = SignedTrustList::new(&list).unwrap();
    v3.sign(&agency(1));
    s.store.apply_trust_update(&v3).unwrap();
    let last = s.store.get(&genuine[3].id).unwrap().unwrap();
    assert!(matches!(s.store.withdrawal(&last).unwrap(), Some(Withdrawn::Void(Void::BeyondLogEnd { .. }))));
    let first = s.store.get(&genuine[0].id).unwrap().unwrap();
    assert_eq!(s.store.withdrawal(&first).unwrap(), None);
    shows_genuine_history(&s.store, &genuine);
}

/// Every behaviour above, on each engine.
macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        mod fjall {
            $(#[test] fn $name() { super::$name(super::Engine::Fjall) })*
        }
        mod memory {
            $(#[test] fn $name() { super::$name(super::Engine::Memory) })*
        }
    };
}

on_every_engine!(
    duplicates_are_recognised_before_verification,
    concurrent_publishes_never_reuse_a_seq,
    publishing_enforces_tlp_channels_and_group_membership,
    ingest_accepts_members_and_refuses_everyone_else,
    a_node_without_a_trust_list_refuses_peer_records,
    out_of_order_records_wait_for_the_gap_to_fill,
    equivocation_keeps_both_records_and_flags_the_author,
    a_record_whose_prev_is_not_the_slot_below_flags_its_author,
    one_bad_record_never_poisons_a_batch,
    revisions_show_the_latest_version_and_retractions_hide_the_record,
    only_the_author_may_revise_or_retract,
    sightings_aggregate_per_indicator,
    queries_find_by_value_kind_author_typology_and_time,
    the_added_after_feed_pages_in_receive_order,
    bulk_lookup_reports_each_value_on_its_own,
    revoked_authors_keep_their_records_flagged_and_cannot_add_more,
    sightings_and_retractions_must_travel_on_their_targets_channel,
    a_batch_of_publishes_chains_each_log_and_reports_per_body,
    forks_below_an_anchored_end_are_void_and_flag_nobody,
    a_node_without_the_history_takes_only_the_anchored_chain,
    a_rotations_log_end_is_what_the_node_itself_signed,
    a_moved_anchor_sorts_the_log_again,
);
