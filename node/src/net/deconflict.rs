//! The deconfliction protocol's wire codec (docs/protocol.md §7): one
//! length-prefixed CBOR request, one length-prefixed CBOR response, each
//! decoded with the protocol's bounded decoder. Unlike sync, these are real
//! questions with answers (a filter, an evaluation, a receipt).

use std::io;

use futures::{AsyncRead, AsyncWrite};
use kawan_protocol::deconflict::{MAX_MESSAGE_BYTES, Request, Response};
use libp2p::{StreamProtocol, request_response};

use super::codec::{invalid, read_frame, write_frame};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/deconflict/1");

#[derive(Debug, Clone, Default)]
pub struct Codec;

async fn read<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let bytes = read_frame(io, MAX_MESSAGE_BYTES).await?;
    log_received(&bytes);
    Ok(bytes)
}

/// With the `wire-log` feature (tests only), every deconfliction message
/// this node receives is appended to `KAWAN_WIRE_LOG`, so a test can look
/// for bytes that must never arrive.
fn log_received(bytes: &[u8]) {
    if cfg!(feature = "wire-log")
        && let Some(path) = std::env::var_os("KAWAN_WIRE_LOG")
    {
        use std::io::Write as _;
        let _ = std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(bytes));
    }
}

impl request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        Request::from_bytes(&read(io).await?).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Response::from_bytes(&read(io).await?).map_err(invalid)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Request) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.to_bytes().map_err(invalid)?, MAX_MESSAGE_BYTES).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: Response) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res.to_bytes().map_err(invalid)?, MAX_MESSAGE_BYTES).await
    }
}
