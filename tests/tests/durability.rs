//! Durability: a record is acknowledged only once it is on disk. The store
//! runs in a child process that is SIGKILLed at random moments; after each
//! kill the store must hold every acknowledged record, its log heads must be
//! consistent, and the audit chain must verify.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use kawan_node::storage::Storage;
use kawan_protocol::{Channel, RecordId};
use kawan_tests::{bin, fixtures::agency};

const ROUNDS: usize = 24;

#[test]
fn every_acknowledged_record_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<RecordId> = Vec::new();
    let mut rng = Lcg(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    for round in 0..ROUNDS {
        let mut child = Command::new(bin("kawan-crash-child"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until it is writing, then kill it at a random moment.
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), "READY", "round {round}");
        let first = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        acked.extend(first.strip_prefix("ACK ").and_then(|id| id.parse::<RecordId>().ok()));
        std::thread::sleep(Duration::from_millis(rng.next() % 250));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acked.extend(rx.try_iter().filter_map(|l| l.strip_prefix("ACK ").and_then(|id| id.parse::<RecordId>().ok())));

        check(dir.path(), &acked, round);
    }
    assert!(acked.len() >= ROUNDS);
    eprintln!("{ROUNDS} kills, {} acknowledged records, none lost", acked.len());
}

fn check(dir: &std::path::Path, acked: &[RecordId], round: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    // The killed process's file lock disappears with it; retry briefly anyway.
    let storage = loop {
        match Storage::open(dir) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("reopen: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("round {round}: cannot reopen: {e}"),
        }
    };
    let store = &storage.store;
    for id in acked {
        assert!(store.contains(id).unwrap(), "round {round}: acknowledged record {id} lost");
    }
    for n in [1, 2] {
        let author = agency(n).public();
        let head = store.head(&Channel::Network, &author).unwrap();
        let log = store.log_after(&Channel::Network, &author, 0, usize::MAX).unwrap();
        assert_eq!(log.len() as u64, head, "round {round}: head of agency {n} disagrees with its log");
    }
    assert!(store.equivocators().unwrap().is_empty(), "round {round}: a seq was reused");
    storage.audit.verify().unwrap_or_else(|e| panic!("round {round}: {e}"));
}

/// A tiny deterministic generator: the kill moments need no more.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
