//! Support for Kawan's end-to-end tests, which drive the real `kawan` binary
//! as separate processes and the node's public API (see `tests/`).
//!
//! # Layout
//!
//! - `app`: one node in this process (the HTTP app over in-memory databases
//!   and a manual clock), driven with tower's `oneshot`
//! - `fixtures`: fictional agencies, keys, trust lists and records
//! - `sim`: the seeded many-node simulator (`kawan-sim`)
//! - `peer`: a bare libp2p peer with any key (a rogue member, a key thief)
//! - `web`: a logged-in browser session without JavaScript
//! - `TestNode`: one `kawan run` process in a temporary directory, and an
//!   HTTP client for it; `TestNetwork`: several, with a shared genesis

pub mod app;
pub mod fixtures;
pub mod peer;
pub mod sim;
pub mod web;

use std::path::PathBuf;

/// Path of a built workspace binary: `$KAWAN_BIN` for `kawan`, or next to the
/// test executable's `deps/` directory (`scripts/test` builds them first).
pub fn bin(name: &str) -> PathBuf {
    if name == "kawan"
        && let Some(p) = std::env::var_os("KAWAN_BIN")
    {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target directory");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} not found: run `cargo build --workspace --bins` first (scripts/test does)",
        bin.display()
    );
    bin
}

/// A `Command` for the `kawan` binary, speaking English whatever the
/// machine's locale (tests read its words).
pub fn kawan() -> std::process::Command {
    let mut c = std::process::Command::new(bin("kawan"));
    c.env("KAWAN_LANG", "en");
    c
}

/// A real node: `kawan init` in a temporary directory, then `kawan run` as a
/// child process on a free loopback port. Stopped with SIGTERM on drop.
pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub base: String,
    pub token: String,
    child: std::process::Child,
}

impl TestNode {
    pub fn start(name: &str, country: &str) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = kawan()
            .args(["--dir"])
            .arg(dir.path())
            .args([
                "init",
                "--name",
                name,
                "--country",
                country,
                "--network",
                fixtures::NETWORK,
                "--api",
                "127.0.0.1:0",
            ])
            .args(["--p2p", "/ip4/127.0.0.1/tcp/0"])
            .output()
            .expect("kawan init runs");
        assert!(out.status.success(), "kawan init: {}", String::from_utf8_lossy(&out.stderr));
        TestNode::run(dir)
    }

    /// Runs `kawan run` on an initialised directory.
    pub fn run(dir: tempfile::TempDir) -> TestNode {
        TestNode::run_with_env(dir, &[])
    }

    /// Runs `kawan run` with extra environment variables.
    pub fn run_with_env(dir: tempfile::TempDir, env: &[(&str, std::path::PathBuf)]) -> TestNode {
        TestNode::launch(dir, env, &[])
    }

    /// Runs `kawan run` under another program (`strace -f -o FILE`, say).
    pub fn run_under(dir: tempfile::TempDir, wrapper: &[&std::ffi::OsStr]) -> TestNode {
        TestNode::launch(dir, &[], wrapper)
    }

    fn launch(dir: tempfile::TempDir, env: &[(&str, std::path::PathBuf)], wrapper: &[&std::ffi::OsStr]) -> TestNode {
        let _ = std::fs::remove_file(dir.path().join("api.addr"));
        let log = std::fs::File::create(dir.path().join("node.log")).expect("log file");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = std::process::Command::new(program);
                c.args(args).arg(bin("kawan"));
                c
            }
            None => kawan(),
        };
        cmd.arg("--dir").arg(dir.path()).args(["run", "--log-format", "json"]).stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("kawan run starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let addr = loop {
            if let Ok(a) = std::fs::read_to_string(dir.path().join("api.addr"))
                && a.ends_with('\n')
            {
                break a.trim().to_string();
            }
            if std::time::Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default();
                let config = std::fs::read_to_string(dir.path().join("kawan.toml")).unwrap_or_default();
                panic!("node did not start; its log:\n{log}\nits config:\n{config}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let token = std::fs::read_to_string(dir.path().join("operator.token")).expect("token file").trim().to_string();
        TestNode { dir, base: format!("http://{addr}"), token, child }
    }

    /// The process id of `kawan run` (or of the program it runs under).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the node with SIGTERM and waits for it; returns its directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.terminate();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    fn terminate(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on a pid this process spawned and has not reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `kawan --dir <this node> ARGS…`, as a client of this node.
    pub fn cli(&self) -> std::process::Command {
        let mut c = kawan();
        c.arg("--dir").arg(self.dir.path());
        c
    }

    /// An HTTP request to the node's API with `token` (or none).
    pub fn request(&self, method: &str, path: &str, token: Option<&str>) -> http::Request {
        http::Request {
            url: format!("{}{path}", self.base),
            method: method.to_string(),
            token: token.map(String::from),
            headers: Vec::new(),
        }
    }

    /// `GET path` with the operator token.
    pub fn get(&self, path: &str) -> http::Response {
        self.request("GET", path, Some(&self.token)).call()
    }

    /// `GET path` with the operator token; the body as JSON (panics if it is not).
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).json()
    }

    /// `POST path` with `body` as JSON and the operator token.
    pub fn post(&self, path: &str, body: serde_json::Value) -> http::Response {
        self.request("POST", path, Some(&self.token)).json(&body)
    }

    /// [`TestNode::post`] that must succeed (2xx); the answer as JSON.
    pub fn post_ok(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self.post(path, body);
        assert!(r.status < 300, "{path}: {}", r.body);
        r.json()
    }

    /// Publishes an indicator (`POST /api/v1/indicators`, e.g.
    /// [`fixtures::green_phone`]) as the operator; must answer 201. The
    /// published record as the API returns it.
    pub fn publish(&self, indicator: serde_json::Value) -> serde_json::Value {
        let r = self.post("/api/v1/indicators", indicator);
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    }

    /// A new API token with `role` (`analyst`, `coordinator`…), made with
    /// the operator's, under a name no other call in this process uses.
    pub fn new_token(&self, role: &str) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("{role}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let r = self.post("/api/v1/tokens", serde_json::json!({"name": name, "role": role}));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["token"].as_str().expect("a token").to_string()
    }

    /// Records stored here, as `/api/v1/status` counts them.
    pub fn records(&self) -> u64 {
        let status = self.get_json("/api/v1/status");
        status["records"].as_u64().unwrap_or_else(|| panic!("no record count in the status: {status}"))
    }

    /// Members this node is connected to now (`/api/v1/peers`).
    pub fn connected_peers(&self) -> usize {
        let peers = self.get_json("/api/v1/peers");
        peers.as_array().map_or(0, |ps| ps.iter().filter(|p| p["connected"] == true).count())
    }

    /// Outbound-policy decisions this node has made on output `path`
    /// (`push`, `relay`, `gossip`…) with `outcome` (`allowed`, `refused`),
    /// from `/metrics`.
    pub fn policy_decisions(&self, path: &str, outcome: &str) -> u64 {
        let metrics = self.get("/metrics").body;
        let (path, outcome) = (format!("path=\"{path}\""), format!("outcome=\"{outcome}\""));
        metrics
            .lines()
            .filter(|l| l.starts_with("kawan_policy_decisions_total{") && l.contains(&path) && l.contains(&outcome))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

/// Fails a host test (one that needs root or changes the machine, ignored
/// unless `KAWAN_HOST_TESTS=1`) that was asked for but cannot run: it must
/// not pass without having checked anything.
pub fn require_root(why: &str) {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this host test was asked for (KAWAN_HOST_TESTS=1 or --include-ignored) but is not running as root, \
         which it needs: {why}. Run it as root on a throwaway machine (CI does), or leave it ignored."
    );
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// A minimal HTTP client for tests: status and body, never an error for 4xx/5xx.
pub mod http {
    pub struct Request {
        pub url: String,
        pub method: String,
        pub token: Option<String>,
        pub headers: Vec<(String, String)>,
    }

    pub struct Response {
        pub status: u16,
        pub body: String,
        pub content_type: String,
    }

    impl Response {
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }
    }

    impl Request {
        /// Adds a header (Accept, say).
        pub fn header(mut self, name: &str, value: &str) -> Request {
            self.headers.push((name.to_string(), value.to_string()));
            self
        }

        pub fn json(self, body: &serde_json::Value) -> Response {
            self.send(Some(("application/json", body.to_string().into_bytes())))
        }

        pub fn raw(self, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
            self.send(Some((content_type, body.into())))
        }

        pub fn call(self) -> Response {
            self.send(None)
        }

        fn send(self, body: Option<(&str, Vec<u8>)>) -> Response {
            let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
            let method: ureq::http::Method = self.method.parse().expect("method");
            let mut req = ureq::http::Request::builder().method(method).uri(&self.url);
            if let Some(t) = &self.token {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            for (name, value) in &self.headers {
                req = req.header(name.as_str(), value.as_str());
            }
            let resp = match body {
                Some((ct, bytes)) => agent.run(req.header("Content-Type", ct).body(bytes).expect("request")),
                None => agent.run(req.body(()).expect("request")),
            };
            let mut resp = resp.expect("node reachable");
            let content_type =
                resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let body = resp.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string().unwrap_or_default();
            Response { status: resp.status().as_u16(), body, content_type }
        }
    }
}

/// A free TCP port on loopback (bound, then released).
/// A free port below the kernel's ephemeral range, so that no outgoing
/// connection of an already running node takes it before the node meant to
/// listen on it binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = (std::process::id().wrapping_mul(7919) + NEXT.fetch_add(1, Ordering::Relaxed) * 97) % 10_000;
    (0..10_000u32)
        .map(|i| 20_000 + ((start + i) % 10_000) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port between 20000 and 30000")
}

/// A network of real nodes on loopback: node 0 is the coordinator; all are
/// members; `groups` name sharing groups by node index.
pub struct TestNetwork {
    pub nodes: Vec<Option<TestNode>>,
    /// Directories of stopped nodes, by index.
    parked: Vec<Option<tempfile::TempDir>>,
    pub genesis: std::path::PathBuf,
    _genesis_dir: tempfile::TempDir,
}

impl TestNetwork {
    pub fn start(n: usize, groups: &[(&str, &[usize])]) -> TestNetwork {
        TestNetwork::start_with(n, groups, |_| vec![])
    }

    /// `env(i)` gives extra environment variables for node `i`.
    pub fn start_with(
        n: usize,
        groups: &[(&str, &[usize])],
        env: impl Fn(usize) -> Vec<(&'static str, std::path::PathBuf)>,
    ) -> TestNetwork {
        TestNetwork::start_configured(n, groups, env, |_, _| {})
    }

    /// Like [`TestNetwork::start_with`]; `configure(i, text)` edits node
    /// `i`'s kawan.toml before it starts.
    pub fn start_configured(
        n: usize,
        groups: &[(&str, &[usize])],
        env: impl Fn(usize) -> Vec<(&'static str, std::path::PathBuf)>,
        configure: impl Fn(usize, &mut String),
    ) -> TestNetwork {
        TestNetwork::start_governed(n, groups, (1, 1), env, configure)
    }

    /// [`TestNetwork::start_configured`] with nodes `0..coordinators` as
    /// coordinators, `threshold` of whom sign each version (the genesis
    /// is signed by the first `threshold`).
    pub fn start_governed(
        n: usize,
        groups: &[(&str, &[usize])],
        (coordinators, threshold): (usize, u16),
        env: impl Fn(usize) -> Vec<(&'static str, std::path::PathBuf)>,
        configure: impl Fn(usize, &mut String),
    ) -> TestNetwork {
        let dirs: Vec<tempfile::TempDir> = (0..n).map(|i| init_dir(&format!("Agency {i}"), free_port())).collect();
        let genesis_dir = tempfile::tempdir().expect("temp dir");
        let genesis = genesis_dir.path().join("genesis.trust");
        // As agencies do it: each sends its card, the coordinator (node 0)
        // signs with its own key, each pins the genesis.
        let cards: Vec<std::path::PathBuf> = dirs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let card = genesis_dir.path().join(format!("agency-{i}.card"));
                run_ok(
                    kawan()
                        .arg("--dir")
                        .arg(d.path())
                        .args(["card", "--id", &format!("agency-{i}"), "--out"])
                        .arg(&card),
                );
                card
            })
            .collect();
        let mut cmd = kawan();
        cmd.args(["trust", "new-network", "--network", fixtures::NETWORK, "--out"]).arg(&genesis);
        cmd.arg("--key").arg(dirs[0].path().join("agency.key"));
        cmd.args(["--threshold", &threshold.to_string()]);
        for (i, card) in cards.iter().enumerate() {
            cmd.arg(if i < coordinators { "--coordinator" } else { "--member" }).arg(card);
        }
        let out = cmd.output().expect("kawan trust runs");
        assert!(out.status.success(), "trust new-network: {}", String::from_utf8_lossy(&out.stderr));
        for (g, members) in groups {
            run_ok(kawan().args(["trust", "group", "create"]).arg(&genesis).arg(g).args(["--name", g]));
            for m in *members {
                run_ok(kawan().args(["trust", "group", "add"]).arg(&genesis).arg(g).arg(format!("agency-{m}")));
            }
        }
        // Group edits made version 1 + k: sign again. The other
        // coordinators of the threshold add their signatures.
        let signers = if groups.is_empty() { 1..usize::from(threshold) } else { 0..usize::from(threshold) };
        for d in &dirs[signers] {
            run_ok(kawan().args(["trust", "sign"]).arg(&genesis).arg("--key").arg(d.path().join("agency.key")));
        }
        for (i, d) in dirs.iter().enumerate() {
            run_ok(kawan().arg("--dir").arg(d.path()).args(["trust", "join"]).arg(&genesis));
            let path = d.path().join("kawan.toml");
            let mut text = std::fs::read_to_string(&path).expect("kawan.toml");
            configure(i, &mut text);
            std::fs::write(&path, text).expect("kawan.toml written");
        }
        let nodes: Vec<Option<TestNode>> =
            dirs.into_iter().enumerate().map(|(i, d)| Some(TestNode::run_with_env(d, &env(i)))).collect();
        // A wire log asked for must exist (the node creates it as its
        // network starts): a binary built without the `wire-log` feature
        // would log nothing, and every "never received" check would pass
        // without testing anything.
        for i in 0..n {
            for (_, path) in env(i).iter().filter(|(k, _)| *k == "KAWAN_WIRE_LOG") {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while !path.exists() {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "node {i} wrote no wire log at {}: {} was built without the wire-log feature",
                        path.display(),
                        bin("kawan").display()
                    );
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
        }
        TestNetwork { nodes, parked: (0..n).map(|_| None).collect(), genesis, _genesis_dir: genesis_dir }
    }

    /// Members whose nodes never connect (air-gapped): each listens on
    /// another port than the address its card gave the trust list.
    pub fn islands(n: usize, groups: &[(&str, &[usize])]) -> TestNetwork {
        TestNetwork::start_configured(
            n,
            groups,
            |_| vec![],
            |_, text| {
                let port = free_port();
                *text = text
                    .lines()
                    .map(|l| {
                        if l.starts_with("listen = [\"/ip4/") {
                            format!("listen = [\"/ip4/127.0.0.1/tcp/{port}\"]")
                        } else {
                            l.into()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
            },
        )
    }

    /// The directory of node `i`, running or stopped.
    pub fn dir(&self, i: usize) -> &std::path::Path {
        match (&self.nodes[i], &self.parked[i]) {
            (Some(n), _) => n.dir.path(),
            (None, Some(d)) => d.path(),
            (None, None) => panic!("node {i} has no directory"),
        }
    }

    pub fn node(&self, i: usize) -> &TestNode {
        self.nodes[i].as_ref().expect("node is running")
    }

    pub fn stop(&mut self, i: usize) {
        let node = self.nodes[i].take().expect("node is running");
        self.parked[i] = Some(node.stop());
    }

    pub fn restart(&mut self, i: usize) {
        let dir = self.parked[i].take().expect("node is stopped");
        self.nodes[i] = Some(TestNode::run(dir));
    }

    /// Waits until `f` is true, or panics after `secs` seconds naming `what`.
    pub fn wait_for(&self, secs: u64, what: &str, mut f: impl FnMut(&TestNetwork) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !f(self) {
            assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Watches `f` for `secs` seconds and panics naming `what` as soon as it
    /// is true. For absences no later marker can prove (a record whose
    /// every successor would be refused too); where a marker exists, wait
    /// for the marker with [`TestNetwork::wait_for`] and then assert.
    pub fn assert_never(&self, secs: u64, what: &str, mut f: impl FnMut(&TestNetwork) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            assert!(!f(self), "{what}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(!f(self), "{what}");
    }
}

/// `kawan init` in a new directory (not started), listening for peers on `p2p_port`.
pub fn init_dir(name: &str, p2p_port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = kawan()
        .arg("--dir")
        .arg(dir.path())
        .args(["init", "--name", name, "--country", "TH", "--network", fixtures::NETWORK, "--api", "127.0.0.1:0"])
        .arg("--p2p")
        .arg(format!("/ip4/127.0.0.1/tcp/{p2p_port}"))
        .output()
        .expect("kawan init runs");
    assert!(out.status.success(), "kawan init: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// Runs a command and fails the test, with its stderr, if it fails.
pub fn run_ok(cmd: &mut std::process::Command) {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}
