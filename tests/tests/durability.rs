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

use kawan_node::data_dir::DataDir;
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
        match DataDir::open(dir, kawan_node::clock::Clock::system()) {
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
    // The crash child signs no checkpoints: any key verifies the chain alone.
    storage.audit.verify(&[agency(1).public()]).unwrap_or_else(|e| panic!("round {round}: {e}"));
}

/// A tiny deterministic generator: the kill moments need no more.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// No publish is acknowledged before it is on disk, shown on the real binary:
/// `kawan run` under `strace -f`, every `201 Created` written to the client
/// must come after an fsync/fdatasync of the record store's files that
/// completed after the request was read. An acknowledgement from memory (a
/// buffered write, an fsync of the wrong database, a sync after the answer)
/// fails it.
#[test]
fn every_publish_response_follows_a_sync_of_the_record_store() {
    let strace = std::path::Path::new("/usr/bin/strace");
    assert!(strace.exists(), "strace is needed (scripts/test installs it)");
    let node = kawan_tests::TestNode::start("Example Agency", "GB");
    let dir = node.stop();
    let trace = dir.path().join("strace.out");
    let args = ["-f", "-y", "-s", "64", "-e", "trace=fsync,fdatasync,read,recvfrom,write,writev,sendto,sendmsg", "-o"];
    let mut wrapper: Vec<&std::ffi::OsStr> = vec![strace.as_os_str()];
    wrapper.extend(args.iter().map(std::ffi::OsStr::new));
    wrapper.push(trace.as_os_str());
    let node = kawan_tests::TestNode::run_under(dir, &wrapper);
    const PUBLISHES: usize = 20;
    for i in 0..PUBLISHES {
        let r = node.request("POST", "/api/v1/indicators", Some(&node.token)).json(&serde_json::json!({
            "kind": "domain", "value": format!("recruit-{i}.jobs-abroad.example"),
            "role": "job_ad", "tlp": "green"
        }));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // SIGTERM to strace would only detach it: stop the traced node itself.
    let strace_pid = node.pid();
    let children = std::fs::read_to_string(format!("/proc/{strace_pid}/task/{strace_pid}/children")).unwrap();
    for pid in children.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        // SAFETY: kill(2) on the node process strace started for this test.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let dir = node.stop();
    let text = std::fs::read_to_string(dir.path().join("strace.out")).unwrap();
    let checked = check_sync_before_ack(&text);
    assert_eq!(checked, PUBLISHES, "every publish response was found in the trace");
}

/// Walks a `strace -f -y` trace; for each `HTTP/1.1 201` written to a socket,
/// requires a completed sync of a file under `/records/` since that socket's
/// last `POST`. Returns the number of responses checked.
fn check_sync_before_ack(trace: &str) -> usize {
    use std::collections::HashMap;
    let mut last_request: HashMap<String, usize> = HashMap::new(); // socket → line
    let mut unfinished_sync: HashMap<String, bool> = HashMap::new(); // pid → on records?
    let mut unfinished_socket: HashMap<String, String> = HashMap::new(); // pid → socket
    let mut last_records_sync: Option<usize> = None; // line where one completed
    let mut checked = 0;
    for (n, line) in trace.lines().enumerate() {
        let (pid, call) = line.split_once(' ').unwrap_or(("", line));
        let call = call.trim_start();
        let is_sync = call.starts_with("fsync(") || call.starts_with("fdatasync(");
        if is_sync {
            let on_records = call.contains("/records/");
            if call.contains("<unfinished ...>") {
                unfinished_sync.insert(pid.to_string(), on_records);
            } else if on_records && call.ends_with("= 0") {
                last_records_sync = Some(n);
            }
        } else if call.starts_with("<... fsync resumed>") || call.starts_with("<... fdatasync resumed>") {
            if unfinished_sync.remove(pid) == Some(true) && call.ends_with("= 0") {
                last_records_sync = Some(n);
            }
        } else if let Some(socket) = socket_of(call).or_else(|| {
            // A socket call strace split in two: its socket was on the first half.
            call.starts_with("<...").then(|| unfinished_socket.remove(pid)).flatten()
        }) {
            // A write shows its data when it starts, a read when it ends.
            if call.contains("<unfinished ...>") {
                unfinished_socket.insert(pid.to_string(), socket.clone());
            }
            if call.contains("\"POST /api/v1/indicators") {
                last_request.insert(socket, n);
            } else if call.contains("HTTP/1.1 201") {
                let request = *last_request.get(&socket).unwrap_or_else(|| panic!("201 without a request: {line}"));
                assert!(
                    last_records_sync.is_some_and(|s| s > request && s < n),
                    "line {n}: publish acknowledged without a sync of the record store since its request (line {request})"
                );
                checked += 1;
            }
        }
    }
    checked
}

/// `write(12<socket:[…]>, …` (or `<TCP:[…]>`) → the socket, for socket calls only.
fn socket_of(call: &str) -> Option<String> {
    let start = call.find("<socket:[").or_else(|| call.find("<TCP"))?;
    let end = call[start..].find('>')? + start;
    Some(call[start + 1..end].to_string())
}
