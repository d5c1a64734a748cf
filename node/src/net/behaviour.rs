//! The libp2p behaviour: who may connect, the sync protocol, the
//! deconfliction protocol, file fetches and trust-list proposals. One
//! behaviour, driven by the event loop in `mod.rs`.

use std::time::Duration;

use libp2p::{
    allow_block_list, connection_limits, identify,
    identity::Keypair,
    ping,
    request_response::{self, ProtocolSupport},
    swarm::NetworkBehaviour,
};

use super::{
    attach,
    codec::{Codec, PROTOCOL},
    coordinate, deconflict,
};

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Only current trust-list members can complete a connection.
    pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    pub limits: connection_limits::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    /// The replica's messages, one-way, each on its own stream.
    pub sync: request_response::Behaviour<Codec>,
    /// Private hit/no-hit questions and follow-ups, answered.
    pub deconflict: request_response::Behaviour<deconflict::Codec>,
    /// Files records carry, fetched chunk by chunk.
    pub attach: request_response::Behaviour<attach::Codec>,
    /// Trust-list proposals between coordinators' nodes.
    pub coordinate: request_response::Behaviour<coordinate::Codec>,
}

impl Behaviour {
    pub fn new(key: &Keypair) -> Behaviour {
        let sync = request_response::Behaviour::with_codec(
            Codec,
            [(PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(30))
                .with_max_concurrent_streams(256),
        );
        let deconflict = request_response::Behaviour::with_codec(
            deconflict::Codec::default(),
            [(deconflict::PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(20))
                .with_max_concurrent_streams(64),
        );
        // A chunk is 256 KiB: a slow link still moves one in 30 s.
        let attach = request_response::Behaviour::with_codec(
            attach::Codec::default(),
            [(attach::PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(30))
                .with_max_concurrent_streams(64),
        );
        let coordinate = request_response::Behaviour::with_codec(
            coordinate::Codec::default(),
            [(coordinate::PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(20))
                .with_max_concurrent_streams(16),
        );
        Behaviour {
            allow: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established_per_peer(Some(2))
                    .with_max_pending_incoming(Some(64))
                    .with_max_established(Some(256)),
            ),
            identify: identify::Behaviour::new(
                identify::Config::new("/kawan/2".into(), key.public())
                    .with_agent_version(kawan_protocol::newer::agent(env!("CARGO_PKG_VERSION"))),
            ),
            // A link that stops answering is found within 20 s and replaced
            // (the replica's `PeerSilent`), not kept until TCP gives up.
            ping: ping::Behaviour::new(
                ping::Config::new().with_interval(Duration::from_secs(10)).with_timeout(Duration::from_secs(10)),
            ),
            sync,
            deconflict,
            attach,
            coordinate,
        }
    }
}
