//! The deconfliction protocol's wire codec (docs/protocol.md §7): one
//! length-prefixed CBOR request, one length-prefixed CBOR response, each
//! decoded with the protocol's bounded decoder. Unlike sync, these are real
//! questions with answers (a filter, an evaluation, a receipt).

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use kawan_protocol::deconflict::{MAX_MESSAGE_BYTES, Request, Response};
use libp2p::{StreamProtocol, request_response};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/deconflict/1");

#[derive(Debug, Clone, Default)]
pub struct Codec;

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_MESSAGE_BYTES {
        return Err(invalid(format!("deconfliction message of {len} bytes; at most {MAX_MESSAGE_BYTES}")));
    }
    let mut bytes = vec![0u8; len];
    io.read_exact(&mut bytes).await?;
    log_received(&bytes);
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: Vec<u8>) -> io::Result<()> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(invalid("deconfliction message over the limit"));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
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
        Request::from_bytes(&read_frame(io).await?).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Response::from_bytes(&read_frame(io).await?).map_err(invalid)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Request) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, req.to_bytes().map_err(invalid)?).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: Response) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, res.to_bytes().map_err(invalid)?).await
    }
}
