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
                attachments: vec![],
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
                attachments: vec![],
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
        let claim = |by: u8| {
            store.claim_gone(agency(by).public(), &Channel::Network, &agency(2).public(), vec![(1, log[0].id)]).unwrap()
        };
        assert_eq!(claim(3), 1);
        assert_eq!(store.head(&Channel::Network, &agency(2).public()).unwrap(), 0, "one peer's word holds the head");
        assert!(store.is_unconfirmed_claim(&log[0].id).unwrap());
        assert_eq!(claim(3), 0, "the same peer again confirms nothing");
        assert_eq!(claim(4), 1, "a second peer confirms it");
        assert_eq!(
            store.head(&Channel::Network, &agency(2).public()).unwrap(),
            1,
            "the head moves over a confirmed claim"
        );
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

fn sighting_of(target: RecordId) -> Body {
    Body::Sighting(Sighting {
        attachments: vec![],
        target,
        verdict: Verdict::Corroborates,
        seen_ms: None,
        countries: vec![],
        comment: None,
    })
}

fn next_list(version: u64, members: &[u8], edit: impl FnOnce(&mut TrustList)) -> SignedTrustList {
    let mut list = trust_list_with(version, members, &[], policy()).list().unwrap();
    list.issued_ms = MADE_MS;
    edit(&mut list);
    let mut next = SignedTrustList::new(&list).unwrap();
    next.sign(&agency(1));
    next
}

#[test]
fn erasing_a_long_chain_of_records_about_records_neither_recurses_nor_misses_one() {
    // A member piles sightings on sightings; erasing the root walks them
    // all without exhausting the stack (recursion would overflow here).
    let (_dir, data, _clock) = open(false);
    let store = &data.store;
    let root = signed(&agency(2), Channel::Network, 1, None, phone_body(30));
    ingest(store, &root);
    let mut about = root.id;
    let mut pile = Vec::new();
    let mut prev = None;
    for seq in 1..=3000u64 {
        let s = signed(&agency(3), Channel::Network, seq, prev, sighting_of(about));
        prev = Some(s.id);
        about = s.id;
        pile.push(s.envelope.to_bytes());
    }
    for chunk in pile.chunks(500) {
        assert!(store.ingest_batch(chunk).iter().all(|r| r.as_ref().is_ok_and(|i| i.is_new())));
    }
    let erase = signed(&agency(2), Channel::Network, 2, Some(root.id), erasure(vec![root.id]));
    assert!(ingest(store, &erase).is_new());
    assert_eq!(store.len(), 1, "only the erasure is left: {}", store.len());
    assert!(store.tombstone(&about).unwrap().is_some(), "the last of the pile is gone too");
}

#[test]
fn a_log_with_an_erased_slot_is_still_served_past_it() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let log = chain(&agency(2), 3, 40);
        for v in &log {
            ingest(store, v);
        }
        let erase = signed(&agency(2), Channel::Network, 4, Some(log[2].id), erasure(vec![log[1].id]));
        ingest(store, &erase);
        let author = agency(2).public();
        let served = store.log_after(&Channel::Network, &author, 0, 10).unwrap();
        let want: Vec<Vec<u8>> = [&log[0], &log[2], &erase].iter().map(|v| v.envelope.to_bytes()).collect();
        assert_eq!(served, want, "the tombstoned slot is skipped, not an error");
        assert_eq!(store.log_entries_after(&Channel::Network, &author, 0, 10).unwrap().len(), 3);
    });
}

#[test]
fn another_agencys_revision_with_an_early_date_expires_only_itself() {
    both(|on_disk| {
        let (_dir, data, clock) = open(on_disk);
        let store = &data.store;
        let root = signed(&agency(2), Channel::Network, 1, None, phone_body(50));
        ingest(store, &root);
        let mut content = indicator(Kind::Phone, &phone(50), Tlp::Green);
        content.review_ms = Some(MADE_MS + DAY);
        let forged = signed(
            &agency(3),
            Channel::Network,
            1,
            None,
            Body::Revision(Revision { supersedes: root.id, content: Content::Indicator(content) }),
        );
        assert!(ingest(store, &forged).is_new());
        clock.set(MADE_MS + 2 * DAY + EXPIRY_GRACE_MS);
        let erased = store.expire_due(100).unwrap();
        assert_eq!(erased, vec![forged.id], "only the other agency's record");
        assert!(store.get(&root.id).unwrap().is_some(), "the author's knowledge stays");
        assert_eq!(lookup(store, &phone(50)), 1);
    });
}

#[test]
fn a_revision_that_shortens_the_date_brings_the_expiry_forward() {
    both(|on_disk| {
        let (_dir, data, clock) = open(on_disk);
        let store = &data.store;
        let root = signed(&agency(2), Channel::Network, 1, None, phone_body(60));
        ingest(store, &root);
        let mut content = indicator(Kind::Phone, &phone(60), Tlp::Green);
        content.review_ms = Some(MADE_MS + 30 * DAY);
        let shorter = signed(
            &agency(2),
            Channel::Network,
            2,
            Some(root.id),
            Body::Revision(Revision { supersedes: root.id, content: Content::Indicator(content) }),
        );
        ingest(store, &shorter);
        clock.set(MADE_MS + 31 * DAY);
        assert_eq!(lookup(store, &phone(60)), 0, "past the latest version's date: in no view");
        let erased = store.expire_due(100).unwrap();
        assert!(erased.contains(&root.id) && erased.contains(&shorter.id), "{erased:?}");
        // A node that was away gets both now, in log order: the root is in
        // date by its own signed date, and goes when the revision arrives.
        let (_d2, other, c2) = open(on_disk);
        c2.set(MADE_MS + 31 * DAY);
        assert!(ingest(&other.store, &root).is_new());
        assert_eq!(ingest(&other.store, &shorter), Ingested::Gone(shorter.id));
        assert!(other.store.get(&root.id).unwrap().is_none(), "the root went with its latest version");
    });
}

#[test]
fn a_claim_never_makes_an_author_look_forked_nor_hides_a_record_held() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let log = chain(&agency(2), 2, 70);
        // A peer names a made-up id for slot 1.
        let bogus = RecordId([7; 32]);
        let by = agency(3).public();
        assert_eq!(store.claim_gone(by, &Channel::Network, &agency(2).public(), vec![(1, bogus)]).unwrap(), 1);
        assert_eq!(ingest(store, &log[0]), Ingested::New(log[0].id), "the record takes its slot from a claim");
        assert!(ingest(store, &log[1]).is_new());
        assert!(!store.is_equivocator(&agency(2).public()).unwrap(), "no equivocation from a claim");
        assert!(store.tombstone(&bogus).unwrap().is_none(), "the claim is gone");
        assert_eq!(lookup(store, &phone(70)), 1);
        // A claim naming a record held here, in some other log's slot,
        // changes nothing.
        let filled = store.claim_gone(by, &Channel::Network, &agency(4).public(), vec![(1, log[0].id)]).unwrap();
        assert_eq!(filled, 0);
        assert!(store.tombstone(&log[0].id).unwrap().is_none());
        assert_eq!(lookup(store, &phone(70)), 1);
    });
}

#[test]
fn a_forked_erasure_and_an_erasure_of_an_erasure_count_for_nothing() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let target = signed(&agency(2), Channel::Network, 1, None, phone_body(80));
        let second = signed(&agency(2), Channel::Network, 2, Some(target.id), phone_body(81));
        let fork = signed(&agency(2), Channel::Network, 2, Some(target.id), erasure(vec![target.id]));
        ingest(store, &second);
        assert_eq!(ingest(store, &fork), Ingested::Equivocation(fork.id));
        assert_eq!(ingest(store, &target), Ingested::New(target.id), "a fork kept as proof erases nothing");
        assert_eq!(lookup(store, &phone(80)), 1);

        // Erasing an erasure is refused: the erased record stays erased.
        let e1 = signed(&agency(2), Channel::Network, 3, Some(second.id), erasure(vec![target.id]));
        ingest(store, &e1);
        let e2 = signed(&agency(2), Channel::Network, 4, Some(e1.id), erasure(vec![e1.id]));
        ingest(store, &e2);
        assert!(store.get(&e1.id).unwrap().is_some(), "an erasure is never erased");
        assert_eq!(lookup(store, &phone(80)), 0);
    });
}

#[test]
fn an_erasure_and_what_it_erases_in_one_batch_in_either_order() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let target = signed(&agency(2), Channel::Network, 1, None, phone_body(90));
        let sighting = signed(&agency(3), Channel::Network, 1, None, sighting_of(target.id));
        let erase = signed(&agency(2), Channel::Network, 2, Some(target.id), erasure(vec![target.id]));
        let bytes = |vs: &[&Verified]| vs.iter().map(|v| v.envelope.to_bytes()).collect::<Vec<_>>();
        store.ingest_batch(&bytes(&[&target, &sighting, &erase]));
        for id in [target.id, sighting.id] {
            assert!(store.get(&id).unwrap().is_none(), "erased in the batch that stored it");
        }
        let (_d2, other, _c) = open(on_disk);
        other.store.ingest_batch(&bytes(&[&erase, &sighting, &target]));
        assert!(other.store.get(&target.id).unwrap().is_none() && other.store.get(&sighting.id).unwrap().is_none());
        assert_eq!(lookup(&other.store, &phone(90)), 0);
    });
}

#[test]
fn a_coordinators_erasure_counts_once_the_agency_has_left_not_for_its_retired_key() {
    both(|on_disk| {
        let (_dir, data, _clock) = open(on_disk);
        let store = &data.store;
        let target = signed(&agency(2), Channel::Network, 1, None, phone_body(95));
        ingest(store, &target);
        // Agency 2 rotates to a new key and stays a member: its old key's
        // records are no coordinator's to erase.
        store
            .apply_trust_update(&next_list(2, &[1, 2, 3, 4], |l| {
                let m = l.members.iter_mut().find(|m| m.key == agency(2).public()).unwrap();
                m.key = agency(22).public();
                m.retired_keys.push(RetiredKey {
                    key: agency(2).public(),
                    from_ms: None,
                    until_ms: MADE_MS + DAY,
                    last_seqs: vec![],
                    compromised: false,
                });
            }))
            .unwrap();
        let early = signed(&agency(1), Channel::Network, 1, None, erasure(vec![target.id]));
        ingest(store, &early);
        assert!(store.get(&target.id).unwrap().is_some(), "agency 2 is still a member under its new key");
        // It leaves: the erasure the coordinator signed before counts now.
        store.apply_trust_update(&next_list(3, &[1, 3, 4], |_| {})).unwrap();
        assert!(store.get(&target.id).unwrap().is_none(), "erased once the agency left");
        assert_eq!(store.tombstone(&target.id).unwrap().unwrap().gone, Gone::Erased { by: early.id });
    });
}

#[test]
fn a_purge_interrupted_at_any_step_is_finished_or_undone_when_the_node_opens() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(MADE_MS);
    let log = chain(&agency(2), 3, 100);
    {
        let data = DataDir::open(dir.path(), clock.clone()).unwrap();
        data.store.install_genesis(&trust_list_with(1, &[1, 2, 3, 4], &[], policy())).unwrap();
        for v in &log {
            ingest(&data.store, v);
        }
        data.close().unwrap();
    }
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        let out = std::process::Command::new("cp").arg("-a").arg(from).arg(to).output().unwrap();
        assert!(out.status.success());
    };
    let (live, fresh, old) =
        (dir.path().join("records"), dir.path().join("records.purge"), dir.path().join("records.old"));
    // 1. Crashed while copying: a partial copy beside the original.
    std::fs::create_dir_all(fresh.join("partial")).unwrap();
    // 2. Crashed after moving the original aside, before the copy went in.
    copy(&live, &old);
    std::fs::rename(&fresh, dir.path().join("junk")).unwrap();
    std::fs::remove_dir_all(dir.path().join("junk")).unwrap();
    std::fs::remove_dir_all(&live).unwrap();
    {
        let data = DataDir::open(dir.path(), clock.clone()).unwrap();
        assert_eq!(data.store.len(), 3, "the original went back in place");
        data.close().unwrap();
    }
    assert!(!old.exists());
    // 3. A complete copy moved aside with the original; only the copy.
    copy(&live, &fresh);
    std::fs::rename(&live, &old).unwrap();
    std::fs::remove_dir_all(old.join("keyspaces")).ok();
    {
        let data = DataDir::open(dir.path(), clock.clone()).unwrap();
        assert_eq!(data.store.len(), 3, "the complete copy went in place");
        data.close().unwrap();
    }
    assert!(!old.exists() && !fresh.exists());
    // 4. A partial copy only: deleted, the original untouched.
    std::fs::create_dir_all(fresh.join("partial")).unwrap();
    let n = kawan_node::data_dir::purge(dir.path()).unwrap();
    assert!(n > 0 && !fresh.exists());
    let data = DataDir::open(dir.path(), clock).unwrap();
    assert_eq!(data.store.len(), 3);
}

#[test]
fn an_agency_cannot_erase_the_evidence_against_itself_and_a_lapse_is_not_a_departure() {
    both(|on_disk| {
        let (_dir, data, clock) = open(on_disk);
        let store = &data.store;
        // Agency 2's audit checkpoint (its partners witness its log with it),
        // and a fork it signed (kept as proof of equivocation).
        let checkpoint = signed(
            &agency(2),
            Channel::Network,
            1,
            None,
            Body::Checkpoint(AuditCheckpoint { seq: 1000, hash: "ab".repeat(32) }),
        );
        let fork = signed(&agency(2), Channel::Network, 1, None, phone_body(96));
        ingest(store, &checkpoint);
        assert_eq!(ingest(store, &fork), Ingested::Equivocation(fork.id));
        let erase = signed(&agency(2), Channel::Network, 2, Some(checkpoint.id), erasure(vec![checkpoint.id, fork.id]));
        ingest(store, &erase);
        assert!(store.get(&checkpoint.id).unwrap().is_some(), "a checkpoint is never erased");
        assert!(store.get(&fork.id).unwrap().is_some(), "a fork kept as proof is never erased");
        assert!(store.is_equivocator(&agency(2).public()).unwrap());

        // Agency 3's membership lapses: a coordinator's erasure does not
        // count (a renewal would find its records gone); it counts only
        // once the agency has left the list.
        let target = signed(&agency(3), Channel::Network, 1, None, phone_body(97));
        ingest(store, &target);
        store
            .apply_trust_update(&next_list(2, &[1, 2, 3, 4], |l| {
                let m = l.members.iter_mut().find(|m| m.key == agency(3).public()).unwrap();
                m.expires_ms = Some(MADE_MS + DAY);
            }))
            .unwrap();
        clock.set(MADE_MS + 2 * DAY);
        ingest(store, &signed(&agency(1), Channel::Network, 1, None, erasure(vec![target.id])));
        assert!(store.get(&target.id).unwrap().is_some(), "a lapsed member's records stay");
        store.apply_trust_update(&next_list(3, &[1, 2, 4], |_| {})).unwrap();
        assert!(store.get(&target.id).unwrap().is_none(), "erased once it left the list");
    });
}
