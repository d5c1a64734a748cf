//! Records over their lifetime, in the store: review dates under the
//! network's retention policy, expiry on every node's own clock, erasure
//! records, tombstones. Time is a manual clock: a year passes without
//! anyone waiting. Both engines.

use std::time::Duration;

use kawan_node::{
    clock::Clock,
    data_dir::DataDir,
    store::{EXPIRY_GRACE_MS, Gone, Ingested, Store},
};
use kawan_protocol::*;
use kawan_tests::fixtures::*;

/// The fixtures' records are made at this instant (seq 1).
const MADE_MS: u64 = 1_764_000_000_000;
const DAY: u64 = 86_400_000;

fn policy() -> Retention {
    Retention::default()
}

/// A store at `MADE_MS` for agencies 1–4 (1 is the coordinator) under the
/// default policy: indicators a year, victims' six months.
fn open(on_disk: bool) -> (Option<tempfile::TempDir>, DataDir, Clock) {
    let clock = Clock::manual(MADE_MS);
    let (dir, data) = if on_disk {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(dir.path(), clock.clone()).unwrap();
        (Some(dir), data)
    } else {
        (None, DataDir::in_memory(clock.clone()).unwrap())
    };
    data.store.install_genesis(&trust_list_with(1, &[1, 2, 3, 4], &[], policy())).unwrap();
    (dir, data, clock)
}

fn ingest(store: &Store, v: &Verified) -> Ingested {
    store.ingest(&v.envelope.to_bytes()).unwrap()
}

fn lookup(store: &Store, value: &str) -> usize {
    store.lookup(Kind::Phone, value, &Context::default(), true).unwrap().unwrap().len()
}

fn victim_phone(n: u16) -> Body {
    let mut i = indicator(Kind::Phone, &phone(n), Tlp::Amber);
    i.subject = Subject::Victim;
    Body::Indicator(i)
}

fn erasure(targets: Vec<RecordId>) -> Body {
    Body::Erasure(Erasure { targets, reason: "shared by mistake".into() })
}

fn both(test: impl Fn(bool)) {
    test(false);
    test(true);
}

#[test]
fn knowledge_expires_at_its_review_date_on_the_nodes_own_clock_and_leaves_a_tombstone() {
    both(|on_disk| {
        let (_dir, data, clock) = open(on_disk);
        let store = &data.store;
        let log = chain(&agency(2), 3, 100);
        for v in &log {
            assert!(ingest(store, v).is_new());
        }
        assert_eq!(store.review_due(&log[0].record), Some(log[0].record.header.created_ms + 365 * DAY));

        // A day before: everything shows, nothing is due.
        clock.set(MADE_MS + 364 * DAY);
        assert_eq!(store.expire_due(1000).unwrap(), Vec::<RecordId>::new());
        assert_eq!(lookup(store, &phone(100)), 1);

        // Past the date and the grace: gone from view before any sweep, and
        // erased by the sweep.
        clock.set(MADE_MS + 365 * DAY + EXPIRY_GRACE_MS + 10);
        assert_eq!(lookup(store, &phone(100)), 0, "past review, in no view");
        let erased = store.expire_due(1000).unwrap();
        assert_eq!(erased.len(), 3);
        for v in &log {
            assert!(store.get(&v.id).unwrap().is_none(), "body erased");
            let stone = store.tombstone(&v.id).unwrap().expect("a tombstone");
            assert_eq!(stone.gone, Gone::Expired);
            assert_eq!(store.log_slot(&Channel::Network, &agency(2).public(), stone.seq).unwrap(), Some(v.id));
        }
        // The log stays contiguous: its head did not move back.
        assert_eq!(store.head(&Channel::Network, &agency(2).public()).unwrap(), 3);
        assert_eq!(store.len(), 0, "counts went with the bodies");
        // Arriving again (a peer that was away), it is not stored again.
        assert_eq!(ingest(store, &log[0]), Ingested::Duplicate(log[0].id));
        assert!(store.get(&log[0].id).unwrap().is_none());
        // Nothing more is due: the sweep read only what was.
        assert!(store.due_between(0, u64::MAX, 10).unwrap().is_empty());
    });
}

#[test]
fn a_victims_number_is_reviewed_sooner_and_a_later_signed_date_is_capped() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let mut i = indicator(Kind::Phone, &phone(1), Tlp::Green);
        i.review_ms = Some(MADE_MS + 10 * 365 * DAY);
        let suspect = signed(&agency(2), Channel::Network, 1, None, Body::Indicator(i));
        assert_eq!(data.store.review_due(&suspect.record), Some(suspect.record.header.created_ms + 365 * DAY));
        let v = Record { header: suspect.record.header.clone(), body: victim_phone(2) };
        assert_eq!(data.store.review_due(&v), Some(v.header.created_ms + 183 * DAY));
        let t = Record {
            header: suspect.record.header.clone(),
            body: Body::Typology(Typology {
                title: "t".into(),
                summary: "s".into(),
                stage: Stage::Recruitment,
                aliases: vec![],
                lures: vec![],
                platforms: vec![],
                control_methods: vec![],
                route: vec![],
                red_flags: vec![],
                mappings: vec![],
                references: vec![],
                tlp: Tlp::Green,
                review_ms: None,
                handling: None,
                evaluation: None,
            }),
        };
        assert_eq!(data.store.review_due(&t), None, "no personal data, no review");
    });
}

#[test]
fn an_extension_keeps_the_knowledge_past_the_first_date_and_expires_with_its_own() {
    both(|on_disk| {
        let (_dir, data, clock) = open(on_disk);
        let store = &data.store;
        let root = signed(&agency(2), Channel::Network, 1, None, phone_body(5));
        ingest(store, &root);
        // Eleven months on, the author extends it by a signed revision.
        clock.set(MADE_MS + 330 * DAY);
        let mut content = indicator(Kind::Phone, &phone(5), Tlp::Green);
        content.review_ms = Some(MADE_MS + 330 * DAY + 300 * DAY);
        let mut rev = signed(
            &agency(2),
            Channel::Network,
            2,
            Some(root.id),
            Body::Revision(Revision { supersedes: root.id, content: Content::Indicator(content) }),
        );
        // (The fixture signs at a fixed time; sign this one when it is made.)
        rev.record.header.created_ms = MADE_MS + 330 * DAY;
        let rev = rev.record.sign(&agency(2)).unwrap();
        assert!(ingest(store, &rev).is_new());
        clock.set(MADE_MS + 400 * DAY);
        store.expire_due(100).unwrap();
        assert_eq!(lookup(store, &phone(5)), 1, "the extension keeps it");
        assert!(store.get(&root.id).unwrap().is_some(), "the root stays while a version is in date");
        clock.set(MADE_MS + 631 * DAY + EXPIRY_GRACE_MS);
        assert_eq!(lookup(store, &phone(5)), 0);
        let erased = store.expire_due(100).unwrap();
        assert!(erased.contains(&root.id) && erased.contains(&rev.id), "{erased:?}");
    });
}

#[test]
fn an_authors_erasure_erases_the_record_and_everything_about_it_on_arrival_in_any_order() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let target = signed(&agency(2), Channel::Network, 1, None, phone_body(7));
        let sighting = signed(
            &agency(3),
            Channel::Network,
            1,
            None,
            Body::Sighting(Sighting {
                target: target.id,
                verdict: Verdict::Corroborates,
                seen_ms: None,
                countries: vec![],
                comment: Some("seen in an ad".into()),
            }),
        );
        let erase = signed(&agency(2), Channel::Network, 2, Some(target.id), erasure(vec![target.id]));
        ingest(store, &target);
        ingest(store, &sighting);
        assert_eq!(lookup(store, &phone(7)), 1);
        assert!(ingest(store, &erase).is_new(), "the erasure itself is kept and relayed");
        assert_eq!(lookup(store, &phone(7)), 0);
        for id in [target.id, sighting.id] {
            assert!(store.get(&id).unwrap().is_none());
            assert_eq!(store.tombstone(&id).unwrap().unwrap().gone, Gone::Erased { by: erase.id });
        }
        assert!(store.ids_with_value(Kind::Phone, &phone(7)).unwrap().is_empty(), "no index entry left");

        // On another node the erasure arrives first: the record, when it
        // comes, is tombstoned on arrival.
        let (_dir2, other, _c) = open(on_disk);
        ingest(&other.store, &erase);
        assert_eq!(ingest(&other.store, &target), Ingested::Gone(target.id));
        assert_eq!(ingest(&other.store, &sighting), Ingested::Gone(sighting.id));
        assert!(other.store.get(&target.id).unwrap().is_none());
        assert_eq!(other.store.head(&Channel::Network, &agency(2).public()).unwrap(), 2);
    });
}

#[test]
fn only_the_author_or_a_coordinator_for_a_removed_member_may_erase() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let target = signed(&agency(2), Channel::Network, 1, None, phone_body(8));
        ingest(store, &target);
        // Another member cannot erase it, nor can a coordinator while its
        // author is a member.
        ingest(store, &signed(&agency(3), Channel::Network, 1, None, erasure(vec![target.id])));
        let early = signed(&agency(1), Channel::Network, 1, None, erasure(vec![target.id]));
        ingest(store, &early);
        assert!(store.get(&target.id).unwrap().is_some(), "still there");
        assert_eq!(lookup(store, &phone(8)), 1);
        // Agency 2 leaves the network; the coordinator erases its data.
        let mut list = trust_list_with(2, &[1, 3, 4], &[], policy()).list().unwrap();
        list.issued_ms = MADE_MS;
        let mut next = SignedTrustList::new(&list).unwrap();
        next.sign(&agency(1));
        store.apply_trust_update(&next).unwrap();
        ingest(store, &signed(&agency(1), Channel::Network, 2, Some(early.id), erasure(vec![target.id])));
        assert!(store.get(&target.id).unwrap().is_none(), "erased by the coordinator");
    });
}

#[test]
fn a_peers_claim_fills_the_slot_but_the_record_itself_still_counts() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let log = chain(&agency(2), 2, 20);
        let filled =
            store.claim_gone(agency(3).public(), &Channel::Network, &agency(2).public(), vec![(1, log[0].id)]).unwrap();
        assert_eq!(filled, 1);
        assert_eq!(store.head(&Channel::Network, &agency(2).public()).unwrap(), 1, "the head moves over the claim");
        // The next record chains to the claimed id: no equivocation.
        assert!(ingest(store, &log[1]).is_new());
        assert!(!store.is_equivocator(&agency(2).public()).unwrap());
        // The claimed record arrives after all, in date and not erased: kept.
        assert_eq!(ingest(store, &log[0]), Ingested::New(log[0].id));
        assert_eq!(lookup(store, &phone(20)), 1);
        assert!(store.tombstone(&log[0].id).unwrap().is_none());
    });
}

#[test]
fn a_sweep_costs_what_is_due_not_the_store() {
    let (_dir, data, clock) = open(false);
    let store = &data.store;
    // 2,000 records, of which the first 100 were made a year earlier.
    let log = chain(&agency(2), 2000, 0);
    for v in &log {
        ingest(store, v);
    }
    let due = store.due_between(0, MADE_MS + 365 * DAY + 101, 10_000).unwrap();
    assert_eq!(due.len(), 100, "due in the window, read from the review index alone");
    clock.advance(Duration::from_millis(365 * DAY + EXPIRY_GRACE_MS + 100));
    let erased = store.expire_due(10_000).unwrap();
    assert_eq!(erased.len(), 100);
    assert_eq!(store.len(), 1900);
}
