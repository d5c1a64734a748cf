//! Trust-list proposals between coordinators' nodes (docs/protocol.md
//! §3.2) as an [`Exchange`]: a node sends its copy of a proposal, with
//! every signature it holds, to each other coordinator's node; the
//! receiver merges it with its own (`Service::receive_proposal`). Only
//! coordinators' nodes are sent proposals, and only they take them.

use kawan_protocol::proposal::{MAX_MESSAGE_BYTES, Proposal, Reply};
use libp2p::StreamProtocol;

use super::exchange::{self, Exchange};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/coordinate/1");

/// The proposal exchange.
pub enum Coordinate {}

impl Exchange for Coordinate {
    type Request = Proposal;
    type Response = Reply;
    const MAX_BYTES: usize = MAX_MESSAGE_BYTES;

    fn encode_request(r: &Proposal) -> Result<Vec<u8>, String> {
        Ok(r.to_bytes())
    }
    fn decode_request(bytes: &[u8]) -> Result<Proposal, String> {
        Proposal::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn encode_response(r: &Reply) -> Result<Vec<u8>, String> {
        Ok(r.to_bytes())
    }
    fn decode_response(bytes: &[u8]) -> Result<Reply, String> {
        Reply::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn busy() -> Reply {
        Reply::Refused("the node is busy; it will be sent again".into())
    }
    fn failed() -> Reply {
        Reply::Refused("the node could not take it".into())
    }
    fn respond(id: u64, response: Reply) -> super::Command {
        super::Command::Coordinated { id, response }
    }
}

pub type Codec = exchange::Codec<Coordinate>;
pub type Routing = exchange::Routing<Coordinate>;
pub type Question = exchange::Question<Coordinate>;
pub type Answer = exchange::Answer<Coordinate>;
