//! The libp2p behaviour: who may connect, how records gossip, and the sync
//! protocol. One behaviour, driven by the event loop in `mod.rs`.

use std::time::Duration;

use kawan_protocol::{Envelope, SyncRequest, SyncResponse, limits::MAX_SYNC_MESSAGE_BYTES};
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify,
    identity::Keypair,
    ping,
    request_response::{self, ProtocolSupport},
    swarm::NetworkBehaviour,
};

pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/sync/1");

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Only current trust-list members can complete a connection.
    pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    pub limits: connection_limits::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    /// The `network` channel and trust-list updates.
    pub gossipsub: gossipsub::Behaviour,
    /// Heads, pulls, trust-list catch-up and group pushes.
    pub sync: request_response::cbor::Behaviour<SyncRequest, SyncResponse>,
}

impl Behaviour {
    pub fn new(key: &Keypair) -> Result<Behaviour, String> {
        // Gossip messages are records (or trust lists) that carry their own
        // signatures, so gossipsub's signing would be a second ed25519
        // verification per hop for nothing: messages are anonymous and
        // content-addressed (the message id is the RecordId).
        let config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(|m: &gossipsub::Message| {
                let id = Envelope::from_bytes(&m.data)
                    .map(|e| e.id().0)
                    .unwrap_or_else(|_| *blake3::hash(&m.data).as_bytes());
                gossipsub::MessageId::from(id.to_vec())
            })
            .max_transmit_size(kawan_protocol::limits::MAX_TRUST_LIST_BYTES + 1024)
            .heartbeat_interval(Duration::from_millis(500))
            .build()
            .map_err(|e| e.to_string())?;
        let gossipsub = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, config)?;
        let codec = request_response::cbor::codec::Codec::default()
            .set_request_size_maximum(MAX_SYNC_MESSAGE_BYTES as u64)
            .set_response_size_maximum(MAX_SYNC_MESSAGE_BYTES as u64);
        let sync = request_response::Behaviour::with_codec(
            codec,
            [(SYNC_PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
        );
        Ok(Behaviour {
            allow: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established_per_peer(Some(2))
                    .with_max_pending_incoming(Some(64))
                    .with_max_established(Some(1024)),
            ),
            identify: identify::Behaviour::new(identify::Config::new("/kawan/1".into(), key.public())),
            ping: ping::Behaviour::default(),
            gossipsub,
            sync,
        })
    }
}
