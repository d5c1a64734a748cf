//! The Debian package, the way an agency's IT team meets it: built with
//! scripts/package, installed with dpkg, a node initialised and run as the
//! package's service user with the unit's environment, upgraded over an
//! older build, removed (data kept) and purged (data gone). No systemd runs
//! in the test machine, so the node is started directly; the unit itself is
//! checked with systemd-analyze.
//!
//! A host test: it needs root and changes the machine it runs on, so it is
//! ignored unless asked for (`KAWAN_HOST_TESTS=1 scripts/test`, as CI does on
//! a throwaway machine), and then fails, not passes, without root.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

const STATE: &str = "/var/lib/kawan";
const CONFIG: &str = "/etc/kawan/kawan.toml";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn package(version: &str, out: &Path) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let built = Command::new(root.join("scripts/package"))
        .current_dir(&root)
        .args(["--profile", "dev", "--version", version, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(built.status.success(), "scripts/package: {}", String::from_utf8_lossy(&built.stderr));
    PathBuf::from(String::from_utf8_lossy(&built.stdout).lines().last().unwrap().trim())
}

/// `kawan …` as the kawan user, with the unit's environment.
fn as_kawan(args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid", "kawan", "--regid", "kawan", "--init-groups", "--", "/usr/bin/kawan"])
        .args(args)
        .env("KAWAN_DIR", STATE)
        .env("KAWAN_CONFIG", CONFIG);
    c
}

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

fn start() -> (Node, String, String) {
    let _ = std::fs::remove_file(Path::new(STATE).join("api.addr"));
    let child = as_kawan(&["run"]).stderr(std::process::Stdio::null()).spawn().unwrap();
    let node = Node(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        if let Ok(a) = std::fs::read_to_string(Path::new(STATE).join("api.addr"))
            && a.ends_with('\n')
        {
            break a.trim().to_string();
        }
        assert!(Instant::now() < deadline, "the node did not start as the kawan user");
        std::thread::sleep(Duration::from_millis(100));
    };
    let token = std::fs::read_to_string(Path::new(STATE).join("operator.token")).unwrap().trim().to_string();
    (node, format!("http://{addr}"), token)
}

fn api(base: &str, token: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{base}{path}");
    let auth = format!("Bearer {token}");
    let mut resp = match body {
        Some(b) => agent.post(&url).header("Authorization", &auth).send_json(b).unwrap(),
        None => agent.get(&url).header("Authorization", &auth).call().unwrap(),
    };
    assert!(resp.status().is_success() || method == "GET", "{path}: {}", resp.status());
    resp.body_mut().read_json().unwrap_or_default()
}

fn mode_owner(p: &str) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    (m.mode() & 0o777, m.uid())
}

#[test]
#[ignore = "host test: needs root, and installs, upgrades and purges the kawan package and user on this machine (dpkg); scripts/test runs it when KAWAN_HOST_TESTS=1"]
fn the_debian_package_installs_runs_as_its_user_upgrades_and_removes() {
    kawan_tests::require_root("dpkg installs and purges the kawan package and its user");
    let debs = tempfile::tempdir().unwrap();
    let (older, newer) = (package("0.1.0~pkgtest1", debs.path()), package("0.1.0~pkgtest2", debs.path()));
    let _ = Command::new("dpkg").args(["--purge", "kawan"]).output();

    run(Command::new("dpkg").arg("-i").arg(&older));
    let uid: u32 = run(Command::new("id").args(["-u", "kawan"])).trim().parse().unwrap();
    assert_ne!(uid, 0);
    assert_eq!(mode_owner(STATE), (0o700, uid), "the state directory is the service user's alone");
    assert_eq!(mode_owner("/etc/kawan").1, uid);
    for f in [
        "/usr/bin/kawan",
        "/lib/systemd/system/kawan.service",
        "/usr/share/man/man1/kawan.1.gz",
        "/usr/share/man/man1/kawan-deconflict.1.gz",
        "/usr/share/bash-completion/completions/kawan",
    ] {
        assert!(Path::new(f).exists(), "{f} installed");
    }

    // The unit: valid, and hardened (systemd's exposure score, lower is better).
    let verify = run(Command::new("systemd-analyze").args(["verify", "/lib/systemd/system/kawan.service"]));
    assert!(verify.trim().is_empty(), "systemd-analyze verify: {verify}");
    let security =
        run(Command::new("systemd-analyze").args(["security", "--offline=true", "/lib/systemd/system/kawan.service"]));
    let score: f64 = security
        .lines()
        .find_map(|l| l.split("Overall exposure level for kawan.service: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{security}"));
    assert!(score <= 2.0, "exposure {score}: {security}");

    // Initialise and run as the service user, with the unit's environment.
    let port = kawan_tests::free_port();
    run(&mut as_kawan(&[
        "init",
        "--name",
        "Package Test Agency",
        "--country",
        "TH",
        "--network",
        "kawan-test",
        "--api",
        "127.0.0.1:0",
        "--p2p",
        &format!("/ip4/127.0.0.1/tcp/{port}"),
    ]));
    assert_eq!(mode_owner(CONFIG), (0o600, uid), "the configuration lives in /etc/kawan");
    assert!(!Path::new(STATE).join("kawan.toml").exists());
    let (node, base, token) = start();
    let published = api(
        &base,
        &token,
        "POST",
        "/api/v1/indicators",
        Some(serde_json::json!({
        "kind": "phone", "value": "+447700900960", "role": "recruiter_contact", "tlp": "green"})),
    );
    let id = published["id"].as_str().unwrap().to_string();
    let ps = run(Command::new("ps").args(["-o", "user=", "-p", &node.0.id().to_string()]));
    assert_eq!(ps.trim(), "kawan", "the node runs as the service user");
    drop(node);

    // Upgrade over the older build: data kept, the node runs again.
    run(Command::new("dpkg").arg("-i").arg(&newer));
    let version = run(Command::new("dpkg-query").args(["-W", "-f=${Version}", "kawan"]));
    assert_eq!(version.trim(), "0.1.0~pkgtest2");
    let (node, base, token) = start();
    let rec = api(&base, &token, "GET", &format!("/api/v1/records/{id}"), None);
    assert_eq!(rec["current"]["value"], "+447700900960", "the record survived the upgrade: {rec}");
    drop(node);

    // Remove keeps the node's data; purge deletes it and the user.
    run(Command::new("dpkg").args(["-r", "kawan"]));
    assert!(!Path::new("/usr/bin/kawan").exists());
    assert!(Path::new(STATE).join("data").is_dir() && Path::new(CONFIG).is_file(), "removal keeps data");
    run(Command::new("dpkg").args(["-P", "kawan"]));
    assert!(!Path::new(STATE).exists() && !Path::new("/etc/kawan").exists(), "purge deletes data");
    assert!(!Command::new("id").arg("kawan").output().unwrap().status.success(), "and the user");
}
