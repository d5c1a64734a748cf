//! Sync protocol messages (docs/protocol.md §4), as plain types.
//!
//! Peers swap *heads* — for each `(channel, author)` log, the highest seq they
//! hold with no gaps below it — then pull only what they lack, in bounded
//! batches. The cost is proportional to what is missing, not to what is stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::{AgencyKey, CborError, Channel, NetworkId, RecordId, cbor, limits::Bounds};

/// The highest contiguous seq a node holds of one author's log on one channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub channel: Channel,
    pub author: AgencyKey,
    pub seq: u64,
}

/// The heads of one channel: (author's position in the trust list, seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelHeads {
    pub channel: Channel,
    pub seqs: Vec<(u16, u64)>,
}

/// "List the records of this log after `after_seq`, at most `limit` of them."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Want {
    pub channel: Channel,
    pub author: AgencyKey,
    pub after_seq: u64,
    pub limit: u32,
}

/// The records of one log a node holds from `first_seq` on, with no gap:
/// the short id of each, in seq order (an answer to a [`Want`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogIds {
    pub channel: Channel,
    pub author: AgencyKey,
    pub first_seq: u64,
    pub ids: ByteBuf,
    /// Listed slots whose record this node erased or let expire (its
    /// tombstone stays): the full id, so a puller that lacks the record
    /// fills the slot instead of asking for a body no one should send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<GoneSlot>,
}

/// A slot of a log whose record is gone (erased or expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoneSlot {
    pub seq: u64,
    pub id: RecordId,
}

/// One message between two replicas. Every message is one-way: a transport
/// may acknowledge it, but nothing waits for an answer to make progress, so
/// a lost message costs a retry, never a stall.
///
/// New records spread by announcement: an author pushes its new record to
/// its peers; every other node that stores a new record announces its
/// short id to the peers that have not announced it to it, and a node that
/// hears of an id it lacks asks the first announcer for it. Each node so
/// downloads each record once. Anti-entropy (digest, then heads, then
/// pulls) repairs whatever announcements missed: a pull is answered with
/// the short ids of the records in the ranges asked for (an [`Index`]),
/// and the puller asks for the ones it neither holds nor is already
/// fetching, exactly as after an announcement. There is one way a record
/// body is fetched, and one ask per record at a time: nothing is fetched
/// twice unless an ask times out and its late answer still arrives.
///
/// [`Index`]: Message::Index
///
/// The four messages every record travels in (`Push`, `Have`, `Want`,
/// `Batch`: nine messages in ten) have one-letter names on the wire, and
/// so do their fields: a `Have` of one id is 15 bytes, not 20.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Message {
    /// Records pushed unasked (an author's new record), as stored.
    #[serde(rename = "p")]
    Push {
        #[serde(rename = "r")]
        records: Vec<ByteBuf>,
    },
    /// Records the sender holds and may send, as [`ShortId`]s back to back.
    #[serde(rename = "h")]
    Have {
        #[serde(rename = "i")]
        ids: ByteBuf,
    },
    /// Send me these records (after a `Have`), as [`ShortId`]s back to back.
    /// `req` names the ask; the `Batch` that answers it carries it back.
    #[serde(rename = "w")]
    Want {
        #[serde(rename = "q")]
        req: u32,
        #[serde(rename = "i")]
        ids: ByteBuf,
    },
    /// A digest of the sender's heads on the channels both may see, and its
    /// trust-list version. Equal digests end the exchange.
    Digest { network: NetworkId, digest: [u8; 32], trust_version: u64 },
    /// The sender's heads on the channels both may see, authors named by
    /// their position in the trust list of `trust_version` (2 bytes, not 32);
    /// `reply` stops a heads exchange from echoing.
    Heads { network: NetworkId, trust_version: u64, channels: Vec<ChannelHeads>, reply: bool },
    /// List the records you hold of these log ranges; `req` as for `Want`.
    Pull { req: u32, wants: Vec<Want> },
    /// The answer to the `Pull` named `req`: per log, the short ids from
    /// the first seq asked for, never more than [`MAX_INDEX_IDS`] in all;
    /// `more` says the sender stopped at that bound.
    Index { req: u32, logs: Vec<LogIds>, more: bool },
    /// Records answering the `Want` named `req`, never above
    /// [`MAX_ANSWER_BYTES`] or [`MAX_BATCH_RECORDS`](crate::limits::MAX_BATCH_RECORDS); asked-for records it
    /// leaves out for those bounds are asked for again. `missing`: the
    /// asked-for short ids the sender does not hold (or may not send): an
    /// explicit "don't have", so the asker turns to another announcer at
    /// once instead of waiting.
    #[serde(rename = "b")]
    Batch {
        #[serde(rename = "q")]
        req: u32,
        #[serde(rename = "r")]
        records: Vec<ByteBuf>,
        #[serde(rename = "m")]
        missing: ByteBuf,
    },
    /// Send me signed trust lists newer than this version.
    TrustLists { after_version: u64 },
    /// Signed trust lists, oldest first, never above [`MAX_ANSWER_BYTES`]
    /// (always at least one); `more`: ask again after the last.
    TrustListPage { lists: Vec<ByteBuf>, more: bool },
    /// The message was understood and declined.
    Refused { reason: String },
}

/// The first 8 bytes of a record id: what announcements carry. Announcing
/// costs 8 bytes a record instead of 32; a collision (one in 2^64 for two
/// records announced together) only delays a record to the next
/// anti-entropy round.
pub type ShortId = [u8; 8];

pub fn short_id(id: &RecordId) -> ShortId {
    let mut s = [0u8; 8];
    s.copy_from_slice(&id.0[..8]);
    s
}

/// Packs short ids into one byte string.
pub fn pack(ids: &[ShortId]) -> ByteBuf {
    ByteBuf::from(ids.concat())
}

/// Unpacks a byte string of short ids (a ragged tail is ignored).
pub fn unpack(bytes: &[u8]) -> impl Iterator<Item = ShortId> + '_ {
    bytes.chunks_exact(8).filter_map(|c| c.try_into().ok())
}

/// The bytes of records or trust lists one answer carries at most: far under
/// the codec limit, so an answer always decodes.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The short ids one [`Message::Index`] lists at most (32 KiB of them).
pub const MAX_INDEX_IDS: usize = 4096;

impl Message {
    pub fn to_bytes(&self) -> Result<Vec<u8>, CborError> {
        cbor::encode(self)
    }

    /// Decodes with the sync bounds: a hostile peer cannot make the node
    /// allocate more than it sent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CborError> {
        cbor::decode(bytes, &Bounds::SYNC)
    }

    /// A short name, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Push { .. } => "push",
            Message::Have { .. } => "have",
            Message::Want { .. } => "want",
            Message::Digest { .. } => "digest",
            Message::Heads { .. } => "heads",
            Message::Pull { .. } => "pull",
            Message::Index { .. } => "index",
            Message::Batch { .. } => "batch",
            Message::TrustLists { .. } => "trust_lists",
            Message::TrustListPage { .. } => "trust_list_page",
            Message::Refused { .. } => "refused",
        }
    }
}

/// The digest two nodes compare before exchanging heads: BLAKE3 over the
/// sorted heads (channel, author, seq, id of the head record). Equal
/// digests mean equal logs, the records at their heads included.
pub fn digest(heads: &[(Head, RecordId)]) -> [u8; 32] {
    let mut sorted: Vec<&(Head, RecordId)> = heads.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = blake3::Hasher::new();
    for (head, id) in sorted {
        h.update(head.channel.to_string().as_bytes());
        h.update(&[0]);
        h.update(&head.author.0);
        h.update(&head.seq.to_be_bytes());
        h.update(&id.0);
    }
    *h.finalize().as_bytes()
}

/// How far apart two nodes are, per channel the peer's heads show: records
/// the peer has that we lack, and records we have that it lacks.
pub fn lag(local: &[Head], remote: &[Head]) -> BTreeMap<String, (u64, u64)> {
    let seq_of = |heads: &[Head], h: &Head| {
        heads.iter().find(|o| o.channel == h.channel && o.author == h.author).map_or(0, |o| o.seq)
    };
    let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for h in remote {
        per.entry(h.channel.to_string()).or_default().0 += h.seq.saturating_sub(seq_of(local, h));
    }
    for o in local.iter().filter(|o| remote.iter().any(|r| r.channel == o.channel)) {
        per.entry(o.channel.to_string()).or_default().1 += o.seq.saturating_sub(seq_of(remote, o));
    }
    per
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GroupId, Keypair};

    fn head(channel: &Channel, n: u8, seq: u64) -> Head {
        Head { channel: channel.clone(), author: Keypair::from_secret_bytes([n; 32]).public(), seq }
    }

    #[test]
    fn lag_counts_what_each_side_lacks_on_the_peers_channels() {
        let net = Channel::Network;
        let grp = Channel::Group(GroupId::new("mekong").unwrap());
        let local = [head(&net, 1, 10), head(&net, 2, 5), head(&grp, 1, 3)];
        let remote = [head(&net, 1, 7), head(&net, 2, 9), head(&net, 3, 2)];
        let lag = lag(&local, &remote);
        // We lack 4 of author 2 and 2 of author 3; they lack 3 of author 1.
        assert_eq!(lag.get("network"), Some(&(6, 3)));
        assert!(!lag.contains_key("group:mekong"), "a channel the peer did not show is not compared");
    }

    #[test]
    fn messages_round_trip_and_garbage_is_an_error() {
        let pull = Message::Pull {
            req: 7,
            wants: vec![Want { channel: Channel::Network, author: AgencyKey([9; 32]), after_seq: 3, limit: 50 }],
        };
        assert_eq!(Message::from_bytes(&pull.to_bytes().unwrap()).unwrap(), pull);
        let batch = Message::Batch { req: 7, records: vec![ByteBuf::from(vec![1, 2, 3])], missing: pack(&[[4; 8]]) };
        assert_eq!(Message::from_bytes(&batch.to_bytes().unwrap()).unwrap(), batch);
        let index = Message::Index {
            req: 7,
            logs: vec![LogIds {
                gone: vec![],
                channel: Channel::Network,
                author: AgencyKey([9; 32]),
                first_seq: 4,
                ids: pack(&[[5; 8], [6; 8]]),
            }],
            more: true,
        };
        assert_eq!(Message::from_bytes(&index.to_bytes().unwrap()).unwrap(), index);
        let have = Message::Have { ids: pack(&[[1; 8], [2; 8]]) };
        assert_eq!(Message::from_bytes(&have.to_bytes().unwrap()).unwrap(), have);
        // The per-record messages are compact: a one-id announcement is
        // {"h": {"i": h'…'}}, 15 bytes.
        let one = Message::Have { ids: pack(&[[1; 8]]) }.to_bytes().unwrap();
        assert_eq!(one[..7], [0xa1, 0x61, b'h', 0xa1, 0x61, b'i', 0x48]);
        assert_eq!(one.len(), 15);
        assert_eq!(unpack(&[1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]).collect::<Vec<_>>(), vec![[1; 8]]);
        assert!(Message::from_bytes(b"\xa1\x63foo\x01").is_err());
    }

    #[test]
    fn the_digest_covers_the_records_at_the_heads_not_only_their_seqs() {
        let net = Channel::Network;
        let a = [(head(&net, 1, 3), RecordId([1; 32])), (head(&net, 2, 5), RecordId([2; 32]))];
        let reordered = [a[1].clone(), a[0].clone()];
        assert_eq!(digest(&a), digest(&reordered), "order does not matter");
        let forked = [a[0].clone(), (head(&net, 2, 5), RecordId([9; 32]))];
        assert_ne!(digest(&a), digest(&forked), "same seqs, different records: different digests");
    }
}
