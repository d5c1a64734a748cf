//! Key layout of the record store.
//!
//! A record costs exactly three keys (`R`, `V` or `K`, `L`); receive order and
//! heads are one key per batch. Every key starts with a one-byte namespace,
//! and the namespace picks the keyspace (docs/architecture.md, "Store"), so
//! one key names both. A record and all its indices are written in one
//! atomic batch across keyspaces: after a crash they are all there or all
//! absent. Fields are big-endian so byte order is numeric order.
//!
//! | keyspace | ns | key | value |
//! |---|---|---|---|
//! | `records` | `R` | id | added_ms(8) ‖ envelope |
//! | `logs` | `L` | channel 0 author seq | id (first record seen in the slot) |
//! | `heads` | `H` | channel 0 author | highest contiguous seq(8) ‖ highest seq stored(8) |
//! | `index` | `V` | kind value 0 id | — (indicator value index, roots and revisions) |
//! | `index` | `K` | listing created_ms id | — (listing: typology `0x80`, technique `0x81`, referral `0x82`, audit checkpoint `0x83`) |
//! | `index` | `P` | kind value 0 id | — (referral subjects: who referred this value to a platform) |
//! | `index` | `T` | typology id | — |
//! | `index` | `B` | file hash id | — (records carrying a file: who may fetch it, whether it is still needed) |
//! | `index` | `D` | review_ms(8) id | — (when knowledge is due for review under the retention policy: `expiry.rs`) |
//! | `added` | `A` | added_ms batch | ids of the batch (receive order, for `added_after`) |
//! | `state` | `F` | target ref_type id | — (revisions `r`, retractions `x`, sightings `s`, erasures `e`) |
//! | `state` | `X` | id | tombstone: why and when a record's body went (`expiry.rs`); its `L` slot stays |
//! | `state` | `E` | channel 0 author seq id | — (an equivocating second record) |
//! | `state` | `Q` | author | — (author flagged as equivocating) |
//! | `state` | `W` | channel 0 author | lowest seq(8) of a retired key's anchored chain held (`anchor.rs`) |
//! | `state` | `S` | channel 0 author | end seq(8) ‖ end id: the anchor this log was last sorted for (`anchor.rs`) |
//! | `state` | `O` | channel 0 author seq | id (a record this node published: its own account of what it signed) |
//! | `trust` | `v` | version | signed trust list |
//! | `trust` | `c` | `current` | version in force (8) |
//! | `meta` | `N` | type 0 channel | records stored (u64), per kind or body type and channel |
//! | `meta` | `M` | `format` | store format (u32) |

use kawan_protocol::{AgencyKey, Channel, Family, Kind, RecordId, attachment::FileHash};

use super::engine::Space;

pub const RECORD: u8 = b'R';
pub const LOG: u8 = b'L';
pub const EQUIVOCATION: u8 = b'E';
pub const HEAD: u8 = b'H';
pub const VALUE: u8 = b'V';
pub const ADDED: u8 = b'A';
pub const KIND: u8 = b'K';
pub const TYPOLOGY: u8 = b'T';
pub const REFERRED: u8 = b'P';
pub const REVIEW: u8 = b'D';
pub const ATTACHED: u8 = b'B';
pub const GONE: u8 = b'X';
pub const REF: u8 = b'F';
pub const FLAGGED: u8 = b'Q';
pub const ANCHORED: u8 = b'W';
pub const OWN: u8 = b'O';
pub const SORTED: u8 = b'S';
pub const COUNT: u8 = b'N';
pub const META: u8 = b'M';
pub const TRUST: u8 = b'v';
pub const TRUST_CURRENT: &[u8] = b"current";

/// The record store's keyspaces.
pub const SPACES: &[Space] = &["records", "logs", "heads", "index", "added", "state", "trust", "meta"];

/// The keyspace of a namespace byte.
pub fn space(ns: u8) -> Space {
    match ns {
        RECORD => "records",
        LOG => "logs",
        HEAD => "heads",
        VALUE | KIND | TYPOLOGY | REFERRED | REVIEW | ATTACHED => "index",
        ADDED => "added",
        REF | EQUIVOCATION | FLAGGED | ANCHORED | OWN | SORTED | GONE => "state",
        TRUST | b'c' => "trust",
        _ => "meta",
    }
}

/// The keyspace a key belongs to.
pub fn space_of(key: &[u8]) -> Space {
    space(key.first().copied().unwrap_or(0))
}

/// Whether a key is derived from one record alone (`ingest::derived_keys`):
/// the `index` keyspace, references and counts. Restore rebuilds these
/// from the records it verified rather than copying them.
pub fn is_derived(space: Space, key: &[u8]) -> bool {
    matches!((space, key.first()), ("index", _) | ("state", Some(&REF)) | ("meta", Some(&COUNT)))
}

pub fn format() -> Vec<u8> {
    cat(META, &[b"format"])
}

pub fn trust_version(version: u64) -> Vec<u8> {
    cat(TRUST, &[&version.to_be_bytes()])
}

pub const REF_REVISION: u8 = b'r';
pub const REF_RETRACTION: u8 = b'x';
pub const REF_SIGHTING: u8 = b's';
pub const REF_ERASURE: u8 = b'e';
/// An answer to the request it names.
pub const REF_ANSWER: u8 = b'a';

pub fn record(id: &RecordId) -> Vec<u8> {
    cat(RECORD, &[&id.0])
}

/// `channel 0 author`: the log prefix shared by `L`, `E`, `H`, `W`, `S` and `O` keys.
fn log_prefix(ns: u8, channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    cat(ns, &[channel.to_string().as_bytes(), &[0], &author.0])
}

/// Prefix of every `L` key of one log.
pub fn log_of(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(LOG, channel, author)
}

pub fn log(channel: &Channel, author: &AgencyKey, seq: u64) -> Vec<u8> {
    let mut k = log_prefix(LOG, channel, author);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn equivocation(channel: &Channel, author: &AgencyKey, seq: u64, id: &RecordId) -> Vec<u8> {
    let mut k = log_prefix(EQUIVOCATION, channel, author);
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&id.0);
    k
}

/// Prefix of every `E` key of one log.
pub fn equivocations_of(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(EQUIVOCATION, channel, author)
}

/// `W` key: how far down a retired key's anchored chain this node holds.
pub fn anchored(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(ANCHORED, channel, author)
}

/// `S` key: the anchor a retired key's log was last sorted for.
pub fn sorted(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(SORTED, channel, author)
}

/// Prefix of the `E` keys of one log slot.
pub fn equivocations_at(channel: &Channel, author: &AgencyKey, seq: u64) -> Vec<u8> {
    let mut k = log_prefix(EQUIVOCATION, channel, author);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of the `O` keys of one of this node's own logs.
pub fn own_of(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(OWN, channel, author)
}

pub fn own(channel: &Channel, author: &AgencyKey, seq: u64) -> Vec<u8> {
    let mut k = own_of(channel, author);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn head(channel: &Channel, author: &AgencyKey) -> Vec<u8> {
    log_prefix(HEAD, channel, author)
}

/// Splits an `H` key back into its channel and author.
pub fn parse_head(key: &[u8]) -> Option<(Channel, AgencyKey)> {
    let rest = key.strip_prefix(&[HEAD])?;
    let (channel, author) = rest.split_at(rest.len().checked_sub(33)?);
    let channel = std::str::from_utf8(channel).ok()?.parse().ok()?;
    let author: [u8; 32] = author.strip_prefix(&[0])?.try_into().ok()?;
    Some((channel, AgencyKey(author)))
}

pub fn value_prefix(kind: Kind, value: &str) -> Vec<u8> {
    cat(VALUE, &[&[kind_byte(kind)], value.as_bytes(), &[0]])
}

pub fn value(kind: Kind, value: &str, id: &RecordId) -> Vec<u8> {
    let mut k = value_prefix(kind, value);
    k.extend_from_slice(&id.0);
    k
}

pub fn added(added_ms: u64, batch: u64) -> Vec<u8> {
    cat(ADDED, &[&added_ms.to_be_bytes(), &batch.to_be_bytes()])
}

/// Listing tags of `K` keys: records of one family by creation time.
const LIST_TYPOLOGY: u8 = 0x80;
const LIST_TECHNIQUE: u8 = 0x81;
const LIST_REFERRAL: u8 = 0x82;
/// Audit checkpoints, listed apart: they are no knowledge, so no search
/// finds them; `Store::checkpoints_by` reads them for the witness check.
pub const LIST_CHECKPOINT: u8 = 0x83;
/// Erasures, listed apart so they can be applied again when a trust list
/// changes who may erase (`Store::reapply_erasures`).
pub const LIST_ERASURE: u8 = 0x84;
const LIST_REQUEST: u8 = 0x85;
const LIST_ANSWER: u8 = 0x86;

/// The `K` listing a family's records are indexed in, if any. Indicators
/// are found through the value index, and sightings, revisions and
/// retractions through the references of the record they are about.
pub fn listing_of(family: Family) -> Option<u8> {
    match family {
        Family::Typology => Some(LIST_TYPOLOGY),
        Family::Technique => Some(LIST_TECHNIQUE),
        Family::Referral => Some(LIST_REFERRAL),
        Family::Request => Some(LIST_REQUEST),
        Family::Answer => Some(LIST_ANSWER),
        Family::Indicator
        | Family::Sighting
        | Family::Revision
        | Family::Retraction
        | Family::Checkpoint
        | Family::Erasure => None,
    }
}

/// `P` key prefix: referrals naming one value as a subject.
pub fn referred_prefix(kind: Kind, value: &str) -> Vec<u8> {
    cat(REFERRED, &[&[kind_byte(kind)], value.as_bytes(), &[0]])
}

pub fn referred(kind: Kind, value: &str, id: &RecordId) -> Vec<u8> {
    let mut k = referred_prefix(kind, value);
    k.extend_from_slice(&id.0);
    k
}

/// `K` key: knowledge of one listing, in creation order.
pub fn listing(tag: u8, created_ms: u64, id: &RecordId) -> Vec<u8> {
    cat(KIND, &[&[tag], &created_ms.to_be_bytes(), &id.0])
}

/// `D` key: `id` is due for review at `due_ms`.
pub fn review(due_ms: u64, id: &RecordId) -> Vec<u8> {
    cat(REVIEW, &[&due_ms.to_be_bytes(), &id.0])
}

/// `X` key: the tombstone of an erased or expired record.
pub fn gone(id: &RecordId) -> Vec<u8> {
    cat(GONE, &[&id.0])
}

pub fn typology(typology: &RecordId, id: &RecordId) -> Vec<u8> {
    cat(TYPOLOGY, &[&typology.0, &id.0])
}

/// Prefix of the `B` keys of one file.
pub fn attached_prefix(hash: &FileHash) -> Vec<u8> {
    cat(ATTACHED, &[&hash.0])
}

/// `B` key: record `id` carries the file `hash`.
pub fn attached(hash: &FileHash, id: &RecordId) -> Vec<u8> {
    cat(ATTACHED, &[&hash.0, &id.0])
}

pub fn reference(target: &RecordId, ref_type: u8, id: &RecordId) -> Vec<u8> {
    cat(REF, &[&target.0, &[ref_type], &id.0])
}

pub fn count(type_label: &str, channel: &Channel) -> Vec<u8> {
    cat(COUNT, &[type_label.as_bytes(), &[0], channel.to_string().as_bytes()])
}

pub fn flagged(author: &AgencyKey) -> Vec<u8> {
    cat(FLAGGED, &[&author.0])
}

/// The trailing 32-byte record id of an index key.
pub fn trailing_id(key: &[u8]) -> Option<RecordId> {
    let tail: [u8; 32] = key.get(key.len().checked_sub(32)?..)?.try_into().ok()?;
    Some(RecordId(tail))
}

pub fn kind_byte(kind: Kind) -> u8 {
    Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

pub fn u64_be(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

pub fn cat(ns: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(ns);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}
