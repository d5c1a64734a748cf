//! Question-and-answer protocols between members (deconfliction, file
//! fetches): the wire codec, one length-prefixed CBOR request and one
//! length-prefixed CBOR response, each decoded with the protocol's bounded
//! decoder; and the routing of those questions and answers inside the
//! network task ([`Routing`]): every outbound question is accounted for by
//! its request id, and every peer's question is handed to the node, which
//! answers (it holds the cases and the files, never the network task).
//!
//! A new protocol of this kind is one [`Exchange`] implementation, one
//! behaviour field and one `Routing` in the network task.

use std::{
    collections::{HashMap, HashSet},
    io,
    marker::PhantomData,
    time::{Duration, Instant},
};

use futures::{AsyncRead, AsyncWrite};
use kawan_protocol::AgencyKey;
use libp2p::{
    PeerId, StreamProtocol,
    request_response::{self, OutboundRequestId, ResponseChannel},
};
use tokio::sync::{mpsc, oneshot};

use super::codec::{invalid, read_frame, write_frame};

/// One question-and-answer protocol: its messages and how they travel.
pub trait Exchange: Send + 'static {
    type Request: Send + 'static;
    type Response: Send + 'static;
    /// The largest message either way.
    const MAX_BYTES: usize;
    fn encode_request(r: &Self::Request) -> Result<Vec<u8>, String>;
    fn decode_request(bytes: &[u8]) -> Result<Self::Request, String>;
    fn encode_response(r: &Self::Response) -> Result<Vec<u8>, String>;
    fn decode_response(bytes: &[u8]) -> Result<Self::Response, String>;
    /// What a peer is told when the node cannot take its question now.
    fn busy() -> Self::Response;
    /// What a peer is told when the node failed to answer.
    fn failed() -> Self::Response;
    /// The command that carries the node's answer back to the task.
    fn respond(id: u64, response: Self::Response) -> super::Command;
}

/// The codec of an [`Exchange`].
pub struct Codec<E>(PhantomData<fn() -> E>);

impl<E> Clone for Codec<E> {
    fn clone(&self) -> Self {
        Codec(PhantomData)
    }
}

impl<E> Default for Codec<E> {
    fn default() -> Self {
        Codec(PhantomData)
    }
}

async fn read<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let bytes = read_frame(io, max).await?;
    log_received(&bytes);
    Ok(bytes)
}

/// With the `wire-log` feature (tests only), every question or answer this
/// node receives is appended to `KAWAN_WIRE_LOG`, so a test can look for
/// bytes that must never arrive.
fn log_received(bytes: &[u8]) {
    if cfg!(feature = "wire-log")
        && let Some(path) = std::env::var_os("KAWAN_WIRE_LOG")
    {
        use std::io::Write as _;
        let _ = std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(bytes));
    }
}

impl<E: Exchange> request_response::Codec for Codec<E> {
    type Protocol = StreamProtocol;
    type Request = E::Request;
    type Response = E::Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<E::Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        E::decode_request(&read(io, E::MAX_BYTES).await?).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<E::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        E::decode_response(&read(io, E::MAX_BYTES).await?).map_err(invalid)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: E::Request) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &E::encode_request(&req).map_err(invalid)?, E::MAX_BYTES).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: E::Response) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &E::encode_response(&res).map_err(invalid)?, E::MAX_BYTES).await
    }
}

/// A question from a peer, for the node to answer.
pub struct Question<E: Exchange> {
    pub from: AgencyKey,
    pub request: E::Request,
    pub reply: oneshot::Sender<E::Response>,
}

/// Where the member's answer to one of our questions goes (or why none came).
pub type Answer<E> = oneshot::Sender<Result<<E as Exchange>::Response, String>>;

/// How long a question waits for a connection to its member.
pub const DIAL_WAIT: Duration = Duration::from_secs(5);

/// One exchange's side of the network task: our questions waiting for a
/// connection or an answer, and peers' questions waiting for the node.
pub struct Routing<E: Exchange> {
    /// Questions sent, by request id.
    asks: HashMap<OutboundRequestId, Answer<E>>,
    /// Questions held until their member connects: (member, question, where
    /// the answer goes, deadline).
    waiting: Vec<(PeerId, E::Request, Answer<E>, Instant)>,
    /// Peers' questions the node is answering, by our own id.
    answers: HashMap<u64, ResponseChannel<E::Response>>,
    next_answer: u64,
    /// To the node, which answers.
    questions: mpsc::Sender<Question<E>>,
    /// Back to the network task, with the node's answer.
    commands: mpsc::Sender<super::Command>,
}

type Behaviour<E> = request_response::Behaviour<Codec<E>>;

impl<E: Exchange> Routing<E> {
    pub fn new(questions: mpsc::Sender<Question<E>>, commands: mpsc::Sender<super::Command>) -> Routing<E> {
        Routing {
            asks: HashMap::new(),
            waiting: Vec::new(),
            answers: HashMap::new(),
            next_answer: 0,
            questions,
            commands,
        }
    }

    /// Sends `request` to `peer` if connected; otherwise holds it (at most
    /// [`DIAL_WAIT`]) and says the caller should dial.
    pub fn ask(
        &mut self,
        rr: &mut Behaviour<E>,
        peer: PeerId,
        connected: bool,
        request: E::Request,
        reply: Answer<E>,
    ) -> bool {
        if connected {
            let id = rr.send_request(&peer, request);
            self.asks.insert(id, reply);
            false
        } else {
            self.waiting.push((peer, request, reply, Instant::now() + DIAL_WAIT));
            true
        }
    }

    /// The members held questions wait for.
    pub fn waiting_for(&self) -> impl Iterator<Item = &PeerId> {
        self.waiting.iter().map(|(p, ..)| p)
    }

    /// Sends held questions whose member is now `connected`; gives up on
    /// those that waited too long.
    pub fn retry(&mut self, rr: &mut Behaviour<E>, connected: &HashSet<PeerId>) {
        let now = Instant::now();
        for (peer, request, reply, deadline) in std::mem::take(&mut self.waiting) {
            if connected.contains(&peer) {
                let id = rr.send_request(&peer, request);
                self.asks.insert(id, reply);
            } else if now >= deadline {
                let _ = reply.send(Err("not reachable now (no connection)".into()));
            } else {
                self.waiting.push((peer, request, reply, deadline));
            }
        }
    }

    /// The node's answer to a peer's question.
    pub fn respond(&mut self, rr: &mut Behaviour<E>, id: u64, response: E::Response) {
        if let Some(channel) = self.answers.remove(&id) {
            let _ = rr.send_response(channel, response);
        }
    }

    /// What the behaviour reported: a peer's question (handed to the node;
    /// its answer comes back through `respond`), or an answer to ours.
    pub fn on_event(&mut self, rr: &mut Behaviour<E>, event: request_response::Event<E::Request, E::Response>) {
        match event {
            request_response::Event::Message {
                peer,
                message: request_response::Message::Request { request, channel, .. },
                ..
            } => self.on_question(rr, peer, request, channel),
            request_response::Event::Message {
                message: request_response::Message::Response { request_id, response },
                ..
            } => {
                if let Some(reply) = self.asks.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                }
            }
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                if let Some(reply) = self.asks.remove(&request_id) {
                    let _ = reply.send(Err(format!("no answer: {error}")));
                }
            }
            request_response::Event::InboundFailure { .. } | request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_question(
        &mut self,
        rr: &mut Behaviour<E>,
        peer: PeerId,
        request: E::Request,
        channel: ResponseChannel<E::Response>,
    ) {
        let Some(from) = crate::identity::agency_key(&peer) else { return };
        let (reply, rx) = oneshot::channel();
        if self.questions.try_send(Question { from, request, reply }).is_err() {
            let _ = rr.send_response(channel, E::busy());
            return;
        }
        let id = self.next_answer;
        self.next_answer += 1;
        self.answers.insert(id, channel);
        let commands = self.commands.clone();
        tokio::spawn(async move {
            let response = rx.await.unwrap_or_else(|_| E::failed());
            let _ = commands.send(E::respond(id, response)).await;
        });
    }
}
