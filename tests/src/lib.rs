//! Support for Kawan's end-to-end tests, which drive the real `kawan` binary
//! as separate processes (see `tests/`).

use std::path::PathBuf;

/// Path of the built `kawan` binary: `$KAWAN_BIN`, or next to the test
/// executable's `deps/` directory (`scripts/test` builds it first).
pub fn kawan_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("KAWAN_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target directory");
    let bin = dir.join("kawan");
    assert!(
        bin.exists(),
        "{} not found: run `cargo build --bins` first (scripts/test does)",
        bin.display()
    );
    bin
}

/// A `Command` for the `kawan` binary.
pub fn kawan() -> std::process::Command {
    std::process::Command::new(kawan_bin())
}
