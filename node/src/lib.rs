//! The running Kawan node: identity, store, cases, audit log, network and
//! API. A library; the `kawan` binary in `cli/` is a thin front end over it.
//!
//! # Layout
//!
//! - `store/`: the record store (rules) over an `Engine` (fjall, or memory)
//! - `local/`: the agency-private database over typed tables: cases, tokens,
//!   sessions, the audit log, watchlists and alerts, deconfliction state
//! - `data_dir`: opens both from the data directory and checks their format
//! - `policy`: the one outbound-data gate: who may receive or see what
//! - `service/`: the application façade every adapter calls
//! - `replica/`: every replication decision, as an IO-less state machine
//! - `net/`: the libp2p driver: the swarm, the replica, a supervisor
//! - `http/`: axum adapters over the service: REST, TAXII, the web page
//! - `interop/`: STIX 2.1, MISP and CSV mappings
//! - `identity`: the agency key, which is also the libp2p identity
//! - `config`, `daemon`: `kawan.toml`, `kawan init` and `kawan run`
//! - `node_dir`: the node directory's file names
//! - `coordinator`: trust-list tooling; `files`: atomic file replacement
//! - `backup`: sealed backups and restore; `bundle`: bundle files sealed to a member
//! - `metrics`: Prometheus counters; `clock`: the injected clock (system or manual)
//! - `jobs`: every background task, supervised and counted
//! - `i18n`: words for people in their language (Fluent catalogs)
//! - `webhook`: alerts posted, signed, to the agency's own case system

#![forbid(unsafe_code)]

pub mod attachments;
pub mod backup;
pub mod bundle;
pub mod clock;
pub mod config;
pub mod coordinator;
pub mod daemon;
pub mod data_dir;
pub mod files;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod interop;
pub mod jobs;
pub mod local;
pub mod metrics;
pub mod net;
pub mod node_dir;
pub mod policy;
pub mod replica;
pub mod service;
pub mod store;
pub mod webhook;
