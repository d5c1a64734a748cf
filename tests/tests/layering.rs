//! The layering rules of docs/architecture.md that a grep can check, checked
//! on the sources: a change that breaks one fails here with the file and
//! line, instead of waiting for a reviewer.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Every `.rs` file under `dir` (relative to the workspace root).
fn sources(dir: &str) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    assert!(!out.is_empty(), "no sources under {dir}: the check would pass on nothing");
    out
}

/// Lines of code (comments skipped) in `files` that contain any of `words`.
fn offences(files: &[PathBuf], words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if let Some(w) = words.iter().find(|w| code.contains(**w)) {
                let rel = f.strip_prefix(root()).unwrap_or(f).display().to_string();
                found.push(format!("{rel}:{}: `{w}` in: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_protocol_crate_is_pure() {
    let manifest = std::fs::read_to_string(root().join("protocol/Cargo.toml")).unwrap();
    let deps = manifest.split("[dev-dependencies]").next().unwrap_or_default();
    for crate_name in ["tokio", "libp2p", "axum", "fjall", "ureq", "hyper", "reqwest"] {
        assert!(!deps.contains(&format!("{crate_name}.")), "protocol depends on {crate_name}");
    }
    let bad = offences(
        &sources("protocol/src"),
        &[
            "std::fs",
            "TcpStream",
            "TcpListener",
            "UdpSocket",
            "ToSocketAddrs",
            "SystemTime",
            "UNIX_EPOCH",
            "Instant::now",
            "tokio::",
            "std::thread::sleep",
        ],
    );
    assert!(bad.is_empty(), "protocol must be pure:\n{}", bad.join("\n"));
}

#[test]
fn the_network_replica_and_store_cannot_reach_the_local_database() {
    let mut files = sources("node/src/net");
    files.extend(sources("node/src/replica"));
    files.extend(sources("node/src/store"));
    let local = [
        "crate::local",
        "LocalDb",
        "DataDir",
        "crate::cases",
        "crate::audit",
        "crate::tokens",
        "crate::sessions",
        "crate::watch",
        "crate::service",
        "crate::deconflict::",
    ];
    let bad = offences(&files, &local);
    assert!(bad.is_empty(), "net/, replica/ and store/ never reach local data:\n{}", bad.join("\n"));
}

#[test]
fn the_http_adapters_use_only_the_service() {
    for (adapter, others) in [
        ("node/src/http/rest", ["http::web", "http::taxii", "super::web", "super::taxii"]),
        ("node/src/http/web", ["http::rest", "http::taxii", "super::rest", "super::taxii"]),
        ("node/src/http/taxii", ["http::rest", "http::web", "super::rest", "super::web"]),
    ] {
        let mut words = others.to_vec();
        words.extend(["crate::store", "store::", "crate::net", "net::"]);
        let bad = offences(&sources(adapter), &words);
        assert!(bad.is_empty(), "{adapter} imports only the service (and http's shared parts):\n{}", bad.join("\n"));
    }
}

#[test]
fn the_wall_clock_is_read_in_one_place() {
    let bad = offences(&sources("node/src"), &["SystemTime::now", "UNIX_EPOCH.elapsed", "Clock::system(", "now_utc("])
        .into_iter()
        .filter(|l| !l.starts_with("node/src/clock.rs:") && !l.starts_with("node/src/daemon.rs:"))
        // A module of unit tests in a file of its own (`mod tests;`).
        .filter(|l| !l.split(':').next().is_some_and(|f| f.ends_with("/tests.rs")))
        // Unit tests choose their clock too.
        .filter(|l| !is_in_test_module(l))
        .collect::<Vec<_>>();
    assert!(bad.is_empty(), "below the daemon, time is the Clock handed in:\n{}", bad.join("\n"));
}

/// Whether the offending line `file:line: …` is inside the file's
/// `#[cfg(test)]` module (which starts before it).
fn is_in_test_module(offence: &str) -> bool {
    let mut parts = offence.splitn(3, ':');
    let (Some(file), Some(line)) = (parts.next(), parts.next().and_then(|l| l.parse::<usize>().ok())) else {
        return false;
    };
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_default();
    text.lines().take(line).any(|l| l.trim() == "#[cfg(test)]")
}

/// The features `cargo build -p PACKAGE` turns on in kawan-node.
fn node_features_built_for(package: &str) -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["tree", "--locked", "--offline", "-e", "features", "-i", "kawan-node", "-p", package])
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("text")
}

/// docs/security.md L2: the wire log (every received sync message, group
/// records included, appended to a file) is compiled only into the tests'
/// build; the binary `scripts/package` and `cargo build -p kawan-cli` make
/// has no such code path.
#[test]
fn the_wire_log_is_never_built_into_the_shipped_binary() {
    let shipped = node_features_built_for("kawan-cli");
    assert!(shipped.contains("kawan-node feature \"default\""), "cargo tree answered about kawan-node:\n{shipped}");
    assert!(!shipped.contains("wire-log"), "kawan-cli turns on the wire log:\n{shipped}");
    let package = std::fs::read_to_string(root().join("scripts/package")).expect("scripts/package");
    assert!(
        package.contains("cargo build --locked -p kawan-cli")
            && !package.contains("--workspace")
            && !package.contains("wire-log")
            && !package.contains("--all-features"),
        "the Debian package is built from kawan-cli alone"
    );
    // The check can see the feature where it is on.
    assert!(node_features_built_for("kawan-tests").contains("kawan-node feature \"wire-log\""));
}
