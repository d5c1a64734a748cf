//! Sync protocol messages (DESIGN.md §5), as plain types.
//!
//! Peers swap *heads* — for each `(channel, author)` log, the highest seq they
//! hold with no gaps below it — then pull only what they lack, in bounded
//! batches. The cost is proportional to what is missing, not to what is stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::{
    AgencyKey, CborError, Channel, NetworkId, cbor,
    limits::{Bounds, MAX_BATCH_RECORDS},
};

/// The highest contiguous seq a node holds of one author's log on one channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub channel: Channel,
    pub author: AgencyKey,
    pub seq: u64,
}

/// "Send me records of this log after `after_seq`, at most `limit` of them."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Want {
    pub channel: Channel,
    pub author: AgencyKey,
    pub after_seq: u64,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SyncRequest {
    /// My heads for these channels are attached; send me yours. Only channels
    /// both sides may see are answered.
    Heads { network: NetworkId, heads: Vec<Head> },
    /// Send me these ranges.
    Pull { wants: Vec<Want> },
    /// Send me trust-list versions newer than this one.
    TrustLists { after_version: u64 },
    /// Records of a sharing group, pushed directly to a member of it:
    /// group records never travel on gossip.
    Push { records: Vec<ByteBuf> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SyncResponse {
    Heads {
        heads: Vec<Head>,
    },
    /// Envelopes (as stored, never re-encoded), in log order; `more` says the
    /// responder stopped at a bound and the requester should ask again.
    Batch {
        records: Vec<ByteBuf>,
        more: bool,
    },
    /// Signed trust lists, oldest first.
    TrustLists {
        lists: Vec<ByteBuf>,
    },
    /// The request was understood and declined (not a member, rate limit…).
    Refused {
        reason: String,
    },
    /// Pushed records were processed; `new` of them were new here.
    Accepted {
        new: u32,
    },
}

macro_rules! wire {
    ($t:ty) => {
        impl $t {
            pub fn to_bytes(&self) -> Result<Vec<u8>, CborError> {
                cbor::encode(self)
            }
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, CborError> {
                cbor::decode(bytes, &Bounds::SYNC)
            }
        }
    };
}
wire!(SyncRequest);
wire!(SyncResponse);

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

/// What to pull from a peer whose heads are `remote`, given ours are `local`:
/// one `Want` per log where the peer is ahead, asking for at most `max_batch`.
pub fn missing(local: &[Head], remote: &[Head], max_batch: u32) -> Vec<Want> {
    let ours: BTreeMap<(&Channel, &AgencyKey), u64> = local.iter().map(|h| ((&h.channel, &h.author), h.seq)).collect();
    let limit = max_batch.clamp(1, MAX_BATCH_RECORDS as u32);
    remote
        .iter()
        .filter_map(|h| {
            let have = ours.get(&(&h.channel, &h.author)).copied().unwrap_or(0);
            (h.seq > have).then(|| Want { channel: h.channel.clone(), author: h.author, after_seq: have, limit })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GroupId, Keypair};

    fn head(channel: &Channel, n: u8, seq: u64) -> Head {
        Head { channel: channel.clone(), author: Keypair::from_secret_bytes([n; 32]).public(), seq }
    }

    #[test]
    fn missing_asks_only_for_logs_where_the_peer_is_ahead() {
        let net = Channel::Network;
        let grp = Channel::Group(GroupId::new("mekong").unwrap());
        let local = [head(&net, 1, 10), head(&net, 2, 5), head(&grp, 1, 3)];
        let remote = [head(&net, 1, 10), head(&net, 2, 9), head(&net, 3, 2), head(&grp, 1, 1)];
        let wants = missing(&local, &remote, 100);
        assert_eq!(wants.len(), 2);
        assert_eq!((wants[0].after_seq, wants[0].limit), (5, 100));
        assert_eq!(wants[1].after_seq, 0);
        assert!(missing(&remote, &remote, 100).is_empty(), "nothing missing, nothing asked");
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
    fn batch_limits_are_clamped() {
        let net = Channel::Network;
        let wants = missing(&[], &[head(&net, 1, 10_000)], u32::MAX);
        assert_eq!(wants[0].limit as usize, MAX_BATCH_RECORDS);
        assert_eq!(missing(&[], &[head(&net, 1, 1)], 0)[0].limit, 1);
    }

    #[test]
    fn messages_round_trip_and_garbage_is_an_error() {
        let req = SyncRequest::Pull {
            wants: vec![Want { channel: Channel::Network, author: AgencyKey([9; 32]), after_seq: 3, limit: 50 }],
        };
        assert_eq!(SyncRequest::from_bytes(&req.to_bytes().unwrap()).unwrap(), req);
        let resp = SyncResponse::Batch { records: vec![ByteBuf::from(vec![1, 2, 3])], more: true };
        assert_eq!(SyncResponse::from_bytes(&resp.to_bytes().unwrap()).unwrap(), resp);
        assert!(SyncRequest::from_bytes(b"\xa1\x63foo\x01").is_err());
    }
}
