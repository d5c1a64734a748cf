//! The running Kawan node: identity, store, network and API. A library; the
//! `kawan` binary in `cli/` is a thin front end over it.

pub mod identity;
