//! Support for Kawan's end-to-end tests, which drive the real `kawan` binary
//! as separate processes and the node's public API (see `tests/`).

pub mod fixtures;

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

/// A `Command` for the `kawan` binary.
pub fn kawan() -> std::process::Command {
    std::process::Command::new(bin("kawan"))
}
