//! The deconfliction protocol's wire codec (docs/protocol.md §7): one
//! length-prefixed CBOR request, one length-prefixed CBOR response, each
//! decoded with the protocol's bounded decoder. Unlike sync, these are real
//! questions with answers (a filter, an evaluation, a receipt). And the
//! routing of those questions and answers inside the network task
//! ([`Routing`]): every outbound question is accounted for by its request
//! id, and every peer's question is handed to the node, which answers.

use std::{
    collections::{HashMap, HashSet},
    io,
    time::{Duration, Instant},
};

use futures::{AsyncRead, AsyncWrite};
use kawan_protocol::{
    AgencyKey,
    deconflict::{MAX_MESSAGE_BYTES, Refusal, Request, Response},
};
use libp2p::{
    PeerId, StreamProtocol,
    request_response::{self, OutboundRequestId, ResponseChannel},
};
use tokio::sync::{mpsc, oneshot};

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

/// A deconfliction request from a peer, for the node to answer.
pub struct Question {
    pub from: AgencyKey,
    pub request: Request,
    pub reply: oneshot::Sender<Response>,
}

/// Where the member's answer to one of our questions goes (or why none came).
pub type Answer = oneshot::Sender<Result<Response, String>>;

/// How long a question waits for a connection to its member.
pub const DIAL_WAIT: Duration = Duration::from_secs(5);

/// The deconfliction side of the network task: our questions waiting for a
/// connection or an answer, and peers' questions waiting for the node. The
/// network task owns the swarm and hands this its request-response
/// behaviour; the node answers questions (it holds the cases), never this.
pub struct Routing {
    /// Questions sent, by request id.
    asks: HashMap<OutboundRequestId, Answer>,
    /// Questions held until their member connects: (member, question, where
    /// the answer goes, deadline).
    waiting: Vec<(PeerId, Request, Answer, Instant)>,
    /// Peers' questions the node is answering, by our own id.
    answers: HashMap<u64, ResponseChannel<Response>>,
    next_answer: u64,
    /// To the node, which answers.
    questions: mpsc::Sender<Question>,
    /// Back to the network task, with the node's answer.
    commands: mpsc::Sender<super::Command>,
}

impl Routing {
    pub fn new(questions: mpsc::Sender<Question>, commands: mpsc::Sender<super::Command>) -> Routing {
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
        rr: &mut request_response::Behaviour<Codec>,
        peer: PeerId,
        connected: bool,
        request: Request,
        reply: Answer,
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
    pub fn retry(&mut self, rr: &mut request_response::Behaviour<Codec>, connected: &HashSet<PeerId>) {
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

    /// The node's answer to a peer's question (`Command::Respond`).
    pub fn respond(&mut self, rr: &mut request_response::Behaviour<Codec>, id: u64, response: Response) {
        if let Some(channel) = self.answers.remove(&id) {
            let _ = rr.send_response(channel, response);
        }
    }

    /// What the behaviour reported: a peer's question (handed to the node;
    /// its answer comes back through `respond`), or an answer to ours.
    pub fn on_event(
        &mut self,
        rr: &mut request_response::Behaviour<Codec>,
        event: request_response::Event<Request, Response>,
    ) {
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
        rr: &mut request_response::Behaviour<Codec>,
        peer: PeerId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let Some(from) = crate::identity::agency_key(&peer) else { return };
        let (reply, rx) = oneshot::channel();
        if self.questions.try_send(Question { from, request, reply }).is_err() {
            let busy = Response::Refused(Refusal::BadRequest("the node is busy; ask again shortly".into()));
            let _ = rr.send_response(channel, busy);
            return;
        }
        let id = self.next_answer;
        self.next_answer += 1;
        self.answers.insert(id, channel);
        let commands = self.commands.clone();
        tokio::spawn(async move {
            let response =
                rx.await.unwrap_or_else(|_| Response::Refused(Refusal::BadRequest("the node could not answer".into())));
            let _ = commands.send(super::Command::Respond { id, response }).await;
        });
    }
}
