//! The sync protocol's wire codec: one length-prefixed CBOR message per
//! request, decoded with the protocol's bounded decoder (never more than
//! [`MAX_SYNC_MESSAGE_BYTES`], no allocation sized from an untrusted length),
//! answered by a one-byte acknowledgement. Messages are one-way; the
//! acknowledgement only closes the stream.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use kawan_protocol::{Message, limits::MAX_SYNC_MESSAGE_BYTES};
use libp2p::{StreamProtocol, request_response};

pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kawan/sync/4");

/// A message and the size it had on the wire (set when read).
#[derive(Debug, Clone)]
pub struct Wire {
    pub msg: Message,
    pub size: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Ack;

#[derive(Debug, Clone, Default)]
pub struct Codec;

pub(super) fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// One length-prefixed (u32, big-endian) frame of at most `max` bytes; a
/// longer declared length is refused before anything is allocated.
pub(super) async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(invalid(format!("message of {len} bytes; at most {max}")));
    }
    let mut bytes = vec![0u8; len];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

/// Writes one length-prefixed frame, then closes the stream.
pub(super) async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8], max: usize) -> io::Result<()> {
    if bytes.len() > max {
        return Err(invalid("message over the limit"));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

impl request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Wire;
    type Response = Ack;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Wire>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, MAX_SYNC_MESSAGE_BYTES).await?;
        let msg = Message::from_bytes(&bytes).map_err(invalid)?;
        Ok(Wire { msg, size: bytes.len() + 4 })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Ack>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut ack = [0u8; 1];
        io.read_exact(&mut ack).await?;
        Ok(Ack)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Wire) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.msg.to_bytes().map_err(invalid)?, MAX_SYNC_MESSAGE_BYTES).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, _: Ack) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[0]).await?;
        io.close().await
    }
}
