//! The client side of a relay connection, shared by pushes and pulls: handshake, `connect`,
//! `createStream`, then the role's own start (`publish` or `play`), and keeping the
//! connection in order (acknowledgements, pings, the server's chunk size) for as long as it
//! lasts. Bytes in, events and bytes out; the server is a stranger, so everything it sends
//! is bounded and parsed by our own chunk reader and AMF code.
use super::params::RelayParams;
use crate::protocol::amf::{self, AmfError, Command, Value};
use crate::protocol::chunk_reader::{ChunkReader, MAX_CHUNK_SIZE};
use crate::protocol::client_handshake::ClientHandshake;
use crate::protocol::control::{self, event, UserControl};
use crate::protocol::handshake::HandshakeProgress;
use crate::protocol::message::{msg_type, strip_amf3_marker, RawMessage};
use crate::protocol::outgoing::Outgoing;
use crate::protocol::SessionError;
use bytes::{Bytes, BytesMut};

/// What the client announces and accepts, besides its role.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    /// The chunk size announced right after the handshake.
    pub chunk_size: u32,
    /// The window acknowledgement size announced to the server.
    pub ack_window: u32,
    /// The longest message accepted from the server.
    pub max_message: u32,
}

/// What a push or a pull does on the stream it created.
pub trait Role {
    type Event;
    /// The start command, for "refused" messages: "publish" or "play".
    const VERB: &'static str;
    /// The onStatus code that means the server started it.
    const STARTED: &'static str;
    /// Commands between `connect`'s answer and `createStream`.
    fn before_create_stream(&self, _params: &RelayParams, _out: &mut Outgoing) {}
    /// Sends the start command (and what goes with it) on `stream_id`.
    fn start(&self, params: &RelayParams, stream_id: u32, txn: f64, out: &mut Outgoing);
    fn ready(stream_id: u32) -> Self::Event;
    fn failed(why: String) -> Self::Event;
    /// A media or data message after the start was sent. True when it shows that the server
    /// started the stream (a server that sends media without saying so first).
    fn media(
        &mut self,
        _msg: &RawMessage,
        _events: &mut Vec<Self::Event>,
    ) -> Result<bool, SessionError> {
        Ok(false)
    }
}

/// Transaction ids of our commands; answers are matched by them, in any order.
pub mod txn {
    pub const CONNECT: f64 = 1.0;
    pub const RELEASE_STREAM: f64 = 2.0;
    pub const FC_PUBLISH: f64 = 3.0;
    pub const CREATE_STREAM: f64 = 4.0;
    /// `publish` or `play`.
    pub const START: f64 = 5.0;
}

/// Chunk streams the server may use at once; servers use 2 to 8.
const MAX_CHUNK_STREAMS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Handshake,
    /// `connect` sent.
    Connecting,
    /// `createStream` sent.
    CreatingStream,
    /// The start command sent on this stream.
    Starting(u32),
    Ready(u32),
    /// A failure was reported; input is ignored from now on.
    Done,
}

pub struct ClientSession<R: Role> {
    params: RelayParams,
    limits: ClientLimits,
    role: R,
    state: State,
    handshake: ClientHandshake,
    reader: ChunkReader,
    input: BytesMut,
    output: Outgoing,
    bytes_in: u64,
    acked_at: u64,
    peer_window: Option<u32>,
    failed: Option<SessionError>,
}

impl<R: Role> ClientSession<R> {
    /// A session whose first output is C0+C1.
    pub(super) fn start(
        params: RelayParams,
        limits: ClientLimits,
        role: R,
    ) -> Result<Self, SessionError> {
        let (handshake, c0c1) =
            ClientHandshake::start().map_err(|e| SessionError::Handshake(e.to_string()))?;
        let reader = ChunkReader::new(limits.max_message, MAX_CHUNK_STREAMS);
        let mut output = Outgoing::default();
        output.raw(Bytes::from(c0c1));
        Ok(ClientSession {
            params,
            limits,
            role,
            state: State::Handshake,
            handshake,
            reader,
            input: BytesMut::new(),
            output,
            bytes_in: 0,
            acked_at: 0,
            peer_window: None,
            failed: None,
        })
    }

    /// Feeds bytes from the server. An error is final: every later call returns it again.
    pub fn handle_input(
        &mut self,
        input: &[u8],
        events: &mut Vec<R::Event>,
    ) -> Result<(), SessionError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.state == State::Done {
            return Ok(());
        }
        self.bytes_in = self.bytes_in.saturating_add(input.len() as u64);
        let result = self.process(input, events);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn process(&mut self, input: &[u8], events: &mut Vec<R::Event>) -> Result<(), SessionError> {
        if self.state == State::Handshake {
            let mut c2 = Vec::new();
            let progress = self
                .handshake
                .feed(input, &mut c2)
                .map_err(|e| SessionError::Handshake(e.to_string()));
            if !c2.is_empty() {
                self.output.raw(Bytes::from(c2));
            }
            match progress? {
                HandshakeProgress::InProgress => return Ok(()),
                HandshakeProgress::Done { remaining } => {
                    self.send_connect();
                    self.input.extend_from_slice(&remaining);
                }
            }
        } else {
            self.input.extend_from_slice(input);
        }
        while self.state != State::Done {
            let Some(msg) = self.reader.read(&mut self.input)? else {
                break;
            };
            self.dispatch(msg, events)?;
        }
        self.maybe_ack();
        Ok(())
    }

    /// Chunk size, window and `connect`, straight after the handshake (as ffmpeg and the C
    /// module do, without waiting for the server's own announcements).
    fn send_connect(&mut self) {
        let chunk_size = self.limits.chunk_size.clamp(1, MAX_CHUNK_SIZE);
        self.output.set_chunk_size(chunk_size);
        let window = self.limits.ack_window;
        self.output
            .control(msg_type::WINDOW_ACK_SIZE, &window.to_be_bytes());
        let p = &self.params;
        let mut props = vec![
            ("app", amf::string(&p.app)),
            ("type", amf::string("nonprivate")),
            ("flashVer", amf::string(&p.flash_ver)),
            ("tcUrl", amf::string(&p.tc_url)),
        ];
        if !p.swf_url.is_empty() {
            props.push(("swfUrl", amf::string(&p.swf_url)));
        }
        if !p.page_url.is_empty() {
            props.push(("pageUrl", amf::string(&p.page_url)));
        }
        let object = amf::object(&props);
        self.output
            .command(0, "connect", txn::CONNECT, object, vec![]);
        self.state = State::Connecting;
    }

    /// Acknowledges with the total byte count, once per window the server announced.
    fn maybe_ack(&mut self) {
        let Some(window) = self.peer_window.filter(|w| *w > 0) else {
            return;
        };
        if self.bytes_in.saturating_sub(self.acked_at) >= u64::from(window) {
            self.acked_at = self.bytes_in;
            let total = (self.bytes_in & u64::from(u32::MAX)) as u32;
            self.output.control(msg_type::ACK, &total.to_be_bytes());
        }
    }

    fn dispatch(
        &mut self,
        msg: RawMessage,
        events: &mut Vec<R::Event>,
    ) -> Result<(), SessionError> {
        let body = &msg.payload[..];
        let short =
            |what: &str| SessionError::Protocol(format!("{what} message shorter than 4 bytes"));
        match msg.type_id {
            msg_type::SET_CHUNK_SIZE => {
                let size = control::read_u32(body).ok_or_else(|| short("Set Chunk Size"))?;
                self.reader.set_chunk_size(size)?;
            }
            msg_type::ABORT => {
                let csid = control::read_u32(body).ok_or_else(|| short("Abort"))?;
                self.reader.abort(csid);
            }
            msg_type::WINDOW_ACK_SIZE => {
                let size = control::read_u32(body).ok_or_else(|| short("Window Ack Size"))?;
                self.peer_window = Some(size);
            }
            msg_type::USER_CONTROL => {
                // Only pings need an answer; malformed ones are skipped, as the server does.
                if let Some(UserControl::PingRequest(ts)) = control::parse_user_control(body) {
                    self.output.user_control(event::PING_RESPONSE, ts);
                }
            }
            msg_type::COMMAND_AMF0 => self.command(&msg.payload, events)?,
            msg_type::COMMAND_AMF3 => self.command(&strip_amf3_marker(&msg.payload), events)?,
            _ if msg.is_media() => {
                if let State::Starting(id) | State::Ready(id) = self.state {
                    let mut media = Vec::new();
                    let started = self.role.media(&msg, &mut media)?;
                    if started && self.state == State::Starting(id) {
                        self.become_ready(id, events);
                    }
                    events.append(&mut media);
                }
            }
            // Acknowledgements, Set Peer Bandwidth, shared objects, media before the start:
            // nothing to do.
            _ => {}
        }
        Ok(())
    }

    fn command(&mut self, payload: &[u8], events: &mut Vec<R::Event>) -> Result<(), SessionError> {
        let cmd = Command::decode(payload).map_err(|e: AmfError| {
            SessionError::Protocol(format!("broken AMF0 in command message: {e}"))
        })?;
        let txn = cmd.transaction_id;
        match (cmd.name.as_str(), self.state) {
            ("_result", State::Connecting) if txn == txn::CONNECT => {
                self.role
                    .before_create_stream(&self.params, &mut self.output);
                self.output
                    .command(0, "createStream", txn::CREATE_STREAM, Value::Null, vec![]);
                self.state = State::CreatingStream;
            }
            ("_result", State::CreatingStream) if txn == txn::CREATE_STREAM => {
                let id = amf::as_number(cmd.args.first())
                    .or(amf::as_number(Some(&cmd.object)))
                    .filter(|n| n.is_finite() && *n >= 1.0 && *n <= f64::from(u32::MAX));
                match id {
                    Some(id) => {
                        let id = id as u32;
                        self.role
                            .start(&self.params, id, txn::START, &mut self.output);
                        self.state = State::Starting(id);
                    }
                    None => self.fail(events, "createStream answered without a stream id".into()),
                }
            }
            ("_error", _) if txn == txn::RELEASE_STREAM || txn == txn::FC_PUBLISH => {
                // Servers that do not know these commands say so; that changes nothing.
            }
            ("_error", _) => {
                let what = match txn {
                    t if t == txn::CONNECT => "connect",
                    t if t == txn::CREATE_STREAM => "createStream",
                    t if t == txn::START => R::VERB,
                    _ => "a command",
                };
                let why = describe(&cmd);
                self.fail(events, format!("{what} refused: {why}"));
            }
            ("onStatus", _) => self.on_status(&cmd, events),
            ("close", _) => self.fail(events, "server sent close".into()),
            // onBWDone, onFCPublish, answers to releaseStream/FCPublish, server calls.
            _ => {}
        }
        Ok(())
    }

    fn on_status(&mut self, cmd: &Command, events: &mut Vec<R::Event>) {
        let info = cmd.args.first().unwrap_or(&cmd.object);
        let code = amf::get_str(info, "code").unwrap_or("");
        let level = amf::get_str(info, "level").unwrap_or("");
        if level.eq_ignore_ascii_case("error") {
            let why = describe(cmd);
            self.fail(events, why);
            return;
        }
        if let State::Starting(stream_id) = self.state {
            if code == R::STARTED {
                self.become_ready(stream_id, events);
            }
        }
    }

    fn become_ready(&mut self, stream_id: u32, events: &mut Vec<R::Event>) {
        self.state = State::Ready(stream_id);
        events.push(R::ready(stream_id));
    }

    fn fail(&mut self, events: &mut Vec<R::Event>, why: String) {
        self.state = State::Done;
        events.push(R::failed(why));
    }

    /// Queues a ping request (the server answers with a response, which is input).
    pub fn ping(&mut self, now_ms: u32) {
        if self.handshake_done() {
            self.output.user_control(event::PING_REQUEST, now_ms);
        }
    }

    pub fn take_output(&mut self) -> Option<Bytes> {
        self.output.pop()
    }

    /// The message stream the role runs on, once the server started it.
    pub fn ready_stream(&self) -> Option<u32> {
        match self.state {
            State::Ready(id) => Some(id),
            _ => None,
        }
    }

    pub fn handshake_done(&self) -> bool {
        self.state != State::Handshake
    }

    /// The chunk size our messages use (the announced one, once the handshake is done).
    pub fn out_chunk_size(&self) -> u32 {
        self.output.chunk_size()
    }

    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// What the session says in `connect` and names in its start command.
    pub fn params(&self) -> &RelayParams {
        &self.params
    }
}

/// "code: description" of an `_error` or `onStatus`, for the log: the server's words, cut
/// short and with control characters escaped.
fn describe(cmd: &Command) -> String {
    let info = cmd.args.first().unwrap_or(&cmd.object);
    let code = amf::get_str(info, "code").unwrap_or("no code");
    let text = match amf::get_str(info, "description") {
        Some(d) if !d.is_empty() => format!("{code}: {d}"),
        _ => code.to_string(),
    };
    text.chars()
        .take(200)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
