//! The file-fetch protocol (docs/protocol.md, "Attachments") as an
//! [`Exchange`]: a member asks for a file's manifest, then its chunks; the
//! node serves them only if a record naming the file may go to that member
//! (`policy::Path::Attachment`), and the fetcher checks every piece.

use kawan_protocol::attachment::{Fetch, MAX_MESSAGE_BYTES, Served};
use libp2p::StreamProtocol;

use super::exchange::{self, Exchange};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/attach/1");

/// The file-fetch exchange.
pub enum Attach {}

impl Exchange for Attach {
    type Request = Fetch;
    type Response = Served;
    const MAX_BYTES: usize = MAX_MESSAGE_BYTES;

    fn encode_request(r: &Fetch) -> Result<Vec<u8>, String> {
        r.to_bytes().map_err(|e| e.to_string())
    }
    fn decode_request(bytes: &[u8]) -> Result<Fetch, String> {
        Fetch::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn encode_response(r: &Served) -> Result<Vec<u8>, String> {
        r.to_bytes().map_err(|e| e.to_string())
    }
    fn decode_response(bytes: &[u8]) -> Result<Served, String> {
        Served::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn busy() -> Served {
        Served::Busy
    }
    fn failed() -> Served {
        Served::Busy
    }
    fn respond(id: u64, response: Served) -> super::Command {
        super::Command::Serve { id, response }
    }
}

pub type Codec = exchange::Codec<Attach>;
pub type Routing = exchange::Routing<Attach>;
pub type Question = exchange::Question<Attach>;
pub type Answer = exchange::Answer<Attach>;
