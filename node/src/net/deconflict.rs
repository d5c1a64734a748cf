//! The deconfliction protocol (docs/protocol.md §7) as an [`Exchange`]:
//! private hit/no-hit questions, evaluations and contact requests, each
//! answered by the node that holds the cases.

use kawan_protocol::deconflict::{MAX_MESSAGE_BYTES, Refusal, Request, Response};
use libp2p::StreamProtocol;

use super::exchange::{self, Exchange};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/deconflict/1");

/// The deconfliction exchange.
pub enum Deconflict {}

impl Exchange for Deconflict {
    type Request = Request;
    type Response = Response;
    const MAX_BYTES: usize = MAX_MESSAGE_BYTES;

    fn encode_request(r: &Request) -> Result<Vec<u8>, String> {
        r.to_bytes().map_err(|e| e.to_string())
    }
    fn decode_request(bytes: &[u8]) -> Result<Request, String> {
        Request::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn encode_response(r: &Response) -> Result<Vec<u8>, String> {
        r.to_bytes().map_err(|e| e.to_string())
    }
    fn decode_response(bytes: &[u8]) -> Result<Response, String> {
        Response::from_bytes(bytes).map_err(|e| e.to_string())
    }
    fn busy() -> Response {
        Response::Refused(Refusal::BadRequest("the node is busy; ask again shortly".into()))
    }
    fn failed() -> Response {
        Response::Refused(Refusal::BadRequest("the node could not answer".into()))
    }
    fn respond(id: u64, response: Response) -> super::Command {
        super::Command::Respond { id, response }
    }
}

pub type Codec = exchange::Codec<Deconflict>;
pub type Routing = exchange::Routing<Deconflict>;
pub type Question = exchange::Question<Deconflict>;
pub type Answer = exchange::Answer<Deconflict>;
