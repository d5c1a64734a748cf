//! The running Kawan node: identity, store, cases, audit log, network and
//! API. A library; the `kawan` binary in `cli/` is a thin front end over it.

pub mod api;
pub mod audit;
pub mod cases;
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
