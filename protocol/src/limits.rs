//! Hard limits on everything decoded from the network or a file.
//!
//! They are checked while walking CBOR headers, before any allocation is sized
//! from an untrusted length, so a hostile peer cannot make a node allocate more
//! than the input it actually sent.

/// Largest envelope accepted (framing + signed bytes + signature).
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;
/// Longest free-text field (descriptions, summaries, steps).
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Longest short field (values, titles, tags, names).
pub const MAX_SHORT_BYTES: usize = 256;
/// Longest list (tags, countries, steps, members…).
pub const MAX_LIST_ITEMS: usize = 64;
/// Deepest CBOR nesting accepted.
pub const MAX_DEPTH: usize = 8;

/// Largest trust-list document. Larger than a record: it names every agency.
pub const MAX_TRUST_LIST_BYTES: usize = 1024 * 1024;
/// Most members a trust list may name.
pub const MAX_MEMBERS: usize = 4096;

/// Largest sync message on the wire.
pub const MAX_SYNC_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Most records in one sync batch.
pub const MAX_BATCH_RECORDS: usize = 256;
/// Most heads in one heads message.
pub const MAX_HEADS: usize = 65_536;

/// Bounds for one bounded CBOR decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Whole input.
    pub max_bytes: usize,
    /// Any single text or byte string.
    pub max_string: usize,
    /// Items of any single array or entries of any single map.
    pub max_items: usize,
    /// Nesting depth.
    pub max_depth: usize,
}

impl Bounds {
    /// Bounds for the `signed` part of a record.
    pub const RECORD: Bounds = Bounds {
        max_bytes: MAX_ENVELOPE_BYTES,
        max_string: MAX_TEXT_BYTES,
        max_items: MAX_LIST_ITEMS,
        max_depth: MAX_DEPTH,
    };

    /// Bounds for the envelope framing: one byte string and a signature.
    pub const ENVELOPE: Bounds =
        Bounds { max_bytes: MAX_ENVELOPE_BYTES, max_string: MAX_ENVELOPE_BYTES, max_items: 2, max_depth: 1 };

    /// Bounds for a trust-list body.
    pub const TRUST_LIST: Bounds = Bounds {
        max_bytes: MAX_TRUST_LIST_BYTES,
        max_string: MAX_TEXT_BYTES,
        max_items: MAX_MEMBERS,
        max_depth: MAX_DEPTH,
    };

    /// Bounds for a sync request or response.
    pub const SYNC: Bounds = Bounds {
        max_bytes: MAX_SYNC_MESSAGE_BYTES,
        max_string: MAX_TRUST_LIST_BYTES,
        max_items: MAX_HEADS,
        max_depth: MAX_DEPTH,
    };
}
