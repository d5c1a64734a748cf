//! Kawan node: store, network and API.
