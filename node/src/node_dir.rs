//! The node directory's file names, in one place. `kawan init` makes the
//! directory, `kawan run` reads and writes it, the CLI, the coordinator
//! tooling, backups and the web page's warnings name its files: all of them
//! ask here, so no module reaches into another for a file name (and the
//! daemon and the coordinator tooling need not import each other).
//!
//! Three files are wherever `kawan.toml`'s `[paths]` says (relative to the
//! directory): the agency key, the data directory and the genesis trust
//! list; [`DEFAULT_KEY`], [`DEFAULT_DATA`] and [`DEFAULT_GENESIS`] are what
//! `kawan init` writes there. The others have fixed names.

/// The configuration (or `$KAWAN_CONFIG`: `config::path`).
pub const CONFIG: &str = "kawan.toml";
/// Where a running node says which address its API actually bound (useful
/// with port 0), for the CLI and tests.
pub const API_ADDR: &str = "api.addr";
/// Where a running node lists its libp2p addresses (`…/p2p/<peer id>`), one
/// per line.
pub const P2P_ADDR: &str = "p2p.addr";
/// The operator token `kawan init` created, readable by the owner only.
pub const OPERATOR_TOKEN: &str = "operator.token";
/// The key a node will sign with once the trust list approves its rotation.
pub const NEXT_KEY: &str = "agency.key.next";

/// `[paths] key` as `kawan init` writes it.
pub const DEFAULT_KEY: &str = "agency.key";
/// `[paths] data` as `kawan init` writes it.
pub const DEFAULT_DATA: &str = "data";
/// `[paths] genesis` as `kawan init` writes it.
pub const DEFAULT_GENESIS: &str = "genesis.trust";
