//! The client side of a push relay: handshake, `connect`, `createStream` and `publish` on a
//! remote server, then keeping that connection in order (acknowledgements, pings, the
//! server's chunk size) while the shell writes the stream's shared media after it.
//! Bytes in, events and bytes out; the server is a stranger, so everything it sends is
//! bounded and parsed by our own chunk reader and AMF code.
use super::params::PushParams;
use crate::protocol::amf::{self, AmfError, Command, Value};
use crate::protocol::chunk_reader::{ChunkReader, MAX_CHUNK_SIZE};
use crate::protocol::client_handshake::ClientHandshake;
use crate::protocol::control::{self, event, UserControl};
use crate::protocol::handshake::HandshakeProgress;
use crate::protocol::message::{msg_type, RawMessage};
use crate::protocol::outgoing::Outgoing;
use bytes::{Bytes, BytesMut};

#[derive(Debug, Clone)]
pub struct PushConfig {
    pub params: PushParams,
    /// The chunk size announced right after the handshake. The shell's shared media is
    /// chunked with the stream's chunk size, so this must be that size.
    pub chunk_size: u32,
    /// The window acknowledgement size announced to the server.
    pub ack_window: u32,
    /// The longest message accepted from the server.
    pub max_message: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// The server started our publish: media may follow, on this message stream.
    Ready { stream_id: u32 },
    /// The server refused or ended the publish (its words); the connection is useless now.
    Failed(String),
}

/// What ends a push session: the same failures as a server session's.
pub type PushError = crate::protocol::SessionError;

/// Transaction ids of our commands; answers are matched by them, in any order.
mod txn {
    pub const CONNECT: f64 = 1.0;
    pub const RELEASE_STREAM: f64 = 2.0;
    pub const FC_PUBLISH: f64 = 3.0;
    pub const CREATE_STREAM: f64 = 4.0;
    pub const PUBLISH: f64 = 5.0;
}

/// Chunk streams the server may use at once; servers use 2 to 6.
const MAX_CHUNK_STREAMS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Handshake,
    /// `connect` sent.
    Connecting,
    /// `releaseStream`, `FCPublish` and `createStream` sent.
    CreatingStream,
    /// `publish` sent on this stream.
    Publishing(u32),
    Ready(u32),
    /// A `Failed` event was raised; input is ignored from now on.
    Done,
}

pub struct PushSession {
    cfg: PushConfig,
    state: State,
    handshake: ClientHandshake,
    reader: ChunkReader,
    input: BytesMut,
    output: Outgoing,
    bytes_in: u64,
    acked_at: u64,
    peer_window: Option<u32>,
    failed: Option<PushError>,
}

impl PushSession {
    /// A session whose first output is C0+C1.
    pub fn new(cfg: PushConfig) -> Result<PushSession, PushError> {
        let (handshake, c0c1) =
            ClientHandshake::start().map_err(|e| PushError::Handshake(e.to_string()))?;
        let reader = ChunkReader::new(cfg.max_message, MAX_CHUNK_STREAMS);
        let mut output = Outgoing::default();
        output.raw(Bytes::from(c0c1));
        Ok(PushSession {
            cfg,
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
        events: &mut Vec<PushEvent>,
    ) -> Result<(), PushError> {
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

    fn process(&mut self, input: &[u8], events: &mut Vec<PushEvent>) -> Result<(), PushError> {
        if self.state == State::Handshake {
            let mut c2 = Vec::new();
            let progress = self
                .handshake
                .feed(input, &mut c2)
                .map_err(|e| PushError::Handshake(e.to_string()));
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
        let chunk_size = self.cfg.chunk_size.clamp(1, MAX_CHUNK_SIZE);
        self.output.set_chunk_size(chunk_size);
        let window = self.cfg.ack_window;
        self.output.control(msg_type::WINDOW_ACK_SIZE, &window.to_be_bytes());
        let p = &self.cfg.params;
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
        self.output.command(0, "connect", txn::CONNECT, object, vec![]);
        self.state = State::Connecting;
    }

    /// What ffmpeg and OBS send before `createStream`: some ingest servers (and the C
    /// module's own relays' targets) expect `releaseStream`/`FCPublish`; the rest ignore them.
    fn send_create_stream(&mut self) {
        let stream = amf::string(&self.cfg.params.stream);
        self.output.command(
            0,
            "releaseStream",
            txn::RELEASE_STREAM,
            Value::Null,
            vec![stream.clone()],
        );
        self.output.command(0, "FCPublish", txn::FC_PUBLISH, Value::Null, vec![stream]);
        self.output.command(0, "createStream", txn::CREATE_STREAM, Value::Null, vec![]);
        self.state = State::CreatingStream;
    }

    fn send_publish(&mut self, stream_id: u32) {
        let args = vec![amf::string(&self.cfg.params.stream), amf::string("live")];
        self.output.command(stream_id, "publish", txn::PUBLISH, Value::Null, args);
        self.state = State::Publishing(stream_id);
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

    fn dispatch(&mut self, msg: RawMessage, events: &mut Vec<PushEvent>) -> Result<(), PushError> {
        let body = &msg.payload[..];
        let short =
            |what: &str| PushError::Protocol(format!("{what} message shorter than 4 bytes"));
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
                    let pong = control::user_control(event::PING_RESPONSE, ts);
                    self.output.control(msg_type::USER_CONTROL, &pong);
                }
            }
            msg_type::COMMAND_AMF0 => self.command(&msg.payload, events)?,
            msg_type::COMMAND_AMF3 => {
                let payload = match msg.payload.first() {
                    Some(0) => msg.payload.slice(1..),
                    _ => msg.payload.clone(),
                };
                self.command(&payload, events)?;
            }
            // Acknowledgements, Set Peer Bandwidth, media or data a server has no reason to
            // send a publisher: nothing to do.
            _ => {}
        }
        Ok(())
    }

    fn command(&mut self, payload: &[u8], events: &mut Vec<PushEvent>) -> Result<(), PushError> {
        let cmd = Command::decode(payload).map_err(|e: AmfError| {
            PushError::Protocol(format!("broken AMF0 in command message: {e}"))
        })?;
        let txn = cmd.transaction_id;
        match (cmd.name.as_str(), self.state) {
            ("_result", State::Connecting) if txn == txn::CONNECT => self.send_create_stream(),
            ("_result", State::CreatingStream) if txn == txn::CREATE_STREAM => {
                let id = amf::as_number(cmd.args.first())
                    .or(amf::as_number(Some(&cmd.object)))
                    .filter(|n| n.is_finite() && *n >= 1.0 && *n <= f64::from(u32::MAX));
                match id {
                    Some(id) => self.send_publish(id as u32),
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
                    t if t == txn::PUBLISH => "publish",
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

    fn on_status(&mut self, cmd: &Command, events: &mut Vec<PushEvent>) {
        let info = cmd.args.first().unwrap_or(&cmd.object);
        let code = amf::get_str(info, "code").unwrap_or("");
        let level = amf::get_str(info, "level").unwrap_or("");
        if level.eq_ignore_ascii_case("error") {
            let why = describe(cmd);
            self.fail(events, why);
            return;
        }
        if let State::Publishing(stream_id) = self.state {
            if code == "NetStream.Publish.Start" {
                self.state = State::Ready(stream_id);
                events.push(PushEvent::Ready { stream_id });
            }
        }
    }

    fn fail(&mut self, events: &mut Vec<PushEvent>, why: String) {
        self.state = State::Done;
        events.push(PushEvent::Failed(why));
    }

    pub fn take_output(&mut self) -> Option<Bytes> {
        self.output.pop()
    }

    /// The message stream our publish runs on, once the server started it.
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
