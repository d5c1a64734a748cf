//! The running Kawan node: identity, store, cases, audit log, network and
//! API. A library; the `kawan` binary in `cli/` is a thin front end over it.
//!
//! # Layout
//!
//! - `store/`: the record store (rules) over an `Engine` (fjall, or memory)
//! - `local`: the local database: cases, case links, tokens, audit log
//! - `storage`: opens both from the data directory and checks their format
//! - `cases`, `audit`, `tokens`: the local database's contents
//! - `net/`: the libp2p swarm: gossip, sync, group push, dialing
//! - `api/`: the HTTP API (REST, TAXII, exports) over axum; `web/`: the web page
//! - `interop/`: STIX 2.1 and MISP mappings
//! - `identity`: the agency key, which is also the libp2p identity
//! - `config`, `daemon`: `kawan.toml`, `kawan init` and `kawan run`
//! - `coordinator`: trust-list tooling; `files`: atomic file replacement
//! - `metrics`: Prometheus counters; `clock`: the wall clock

#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod cases;
pub mod clock;
pub mod config;
pub mod coordinator;
pub mod daemon;
pub mod files;
pub mod identity;
pub mod interop;
pub mod local;
pub mod metrics;
pub mod net;
pub mod storage;
pub mod store;
pub mod tokens;
pub mod web;
