//! Child process for the crash test (tests/durability.rs): publishes and
//! ingests records in a loop, printing `ACK <id>` only after each write has
//! returned, i.e. after the store said it is on disk. The test kills it with
//! SIGKILL at random moments and checks that every ACK survived.

use std::io::Write as _;

use kawan_node::data_dir::DataDir;
use kawan_protocol::{Channel, Envelope, RecordId};
use kawan_tests::fixtures::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: kawan-crash-child DIR")?;
    let storage = DataDir::open(std::path::Path::new(&dir), kawan_node::clock::Clock::system())?;
    let store = &storage.store;
    if store.trust().is_none() {
        store.install_genesis(&trust_list(1, &[1, 2], &[]))?;
    }
    let (me, peer) = (agency(1), agency(2));
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY")?;
    for round in 0u64.. {
        let v = store.publish(&me, &network(), phone_body((round % 1000) as u16), None)?;
        storage.audit.append("crash-test", "publish", &v.id.to_string())?;
        writeln!(out, "ACK {}", v.id)?;

        // The peer's log continues from whatever survived the last crash.
        let head = store.head(&Channel::Network, &peer.public())?;
        let prev = match head {
            0 => None,
            h => {
                let bytes = store.log_after(&Channel::Network, &peer.public(), h - 1, 1)?;
                Some(Envelope::from_bytes(&bytes[0])?.id())
            }
        };
        let batch = peer_batch(head, prev, round);
        for (r, bytes) in store.ingest_batch(&batch).into_iter().zip(&batch) {
            r?;
            writeln!(out, "ACK {}", Envelope::from_bytes(bytes)?.id())?;
        }
        out.flush()?;
    }
    Ok(())
}

/// 1-4 records of the peer's log after `head`.
fn peer_batch(head: u64, mut prev: Option<RecordId>, round: u64) -> Vec<Vec<u8>> {
    (1..=1 + round % 4)
        .map(|i| {
            let v = signed(&agency(2), Channel::Network, head + i, prev, phone_body(((head + i) % 1000) as u16));
            prev = Some(v.id);
            v.envelope.to_bytes()
        })
        .collect()
}
