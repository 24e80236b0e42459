//! The server side of one RTMP connection: bytes in, events and bytes out.
//!
//! The session only speaks the protocol. Access decisions (may this client connect, publish,
//! play?) belong to the shell, which answers each request event with `accept_*` / `reject_*`.
use super::amf::{self, AmfError, Command, Value};
use super::chunk_reader::{ChunkError, ChunkReader, MAX_CHUNK_SIZE};
use super::chunk_writer::CSID_COMMAND;
use super::control::{self, event, limit, UserControl};
use super::enhanced_caps::{self, ClientCaps};
use super::handshake::{HandshakeProgress, ServerHandshake};
use super::message::{msg_type, strip_amf3_marker, RawMessage};
use super::outgoing::Outgoing;
use bytes::{Bytes, BytesMut};
use std::fmt;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our outgoing chunk size, announced after connect is accepted.
    pub chunk_size: u32,
    /// The window acknowledgement size we announce (and the peer bandwidth we set).
    pub ack_window: u32,
    /// The longest inbound message accepted; longer headers fail the session.
    pub max_message: u32,
    /// Caps both `createStream` calls and distinct inbound chunk stream ids
    /// (nginx-rtmp's `max_streams` limits chunk streams).
    pub max_streams: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectInfo {
    pub app: String,
    pub args: String,
    pub tc_url: String,
    pub flash_ver: String,
    pub swf_url: String,
    pub page_url: String,
    pub object_encoding: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    pub stream_id: u32,
    pub name: String,
    pub args: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    pub stream_id: u32,
    pub name: String,
    pub args: String,
    pub start: f64,
    pub duration: f64,
    pub reset: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Connect(ConnectInfo),
    Publish(PublishRequest),
    Play(PlayRequest),
    CloseStream { stream_id: u32 },
    Audio { timestamp: u32, payload: Bytes },
    Video { timestamp: u32, payload: Bytes },
    Data { timestamp: u32, payload: Bytes },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionError {
    Handshake(String),
    Chunk(super::ChunkError),
    Protocol(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Handshake(e) => write!(f, "{e}"),
            SessionError::Chunk(e) => write!(f, "{e}"),
            SessionError::Protocol(e) => write!(f, "RTMP protocol error: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<ChunkError> for SessionError {
    fn from(e: ChunkError) -> Self {
        SessionError::Chunk(e)
    }
}

/// The id every `createStream` gets, as in nginx-rtmp: one publish or play per connection.
pub const STREAM_ID: u32 = 1;
const FMS_VERSION: &str = "FMS/3,0,1,123";
const CAPABILITIES: f64 = 31.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Handshake,
    AwaitConnect,
    /// Connect event raised; the shell has not answered yet.
    ConnectPending {
        transaction_id: f64,
        object_encoding: f64,
    },
    Connected,
    Rejected,
}

pub struct ServerSession {
    cfg: SessionConfig,
    state: State,
    handshake: ServerHandshake,
    reader: ChunkReader,
    input: BytesMut,
    output: Outgoing,
    bytes_in: u64,
    bytes_out: u64,
    /// `bytes_in` when we last acknowledged.
    acked_at: u64,
    /// Window acknowledgement size the peer announced; `None`: never acknowledge.
    peer_window: Option<u32>,
    ping_outstanding: bool,
    buffer_length_ms: Option<u32>,
    open_streams: u32,
    failed: Option<SessionError>,
    /// What the client's connect said about Enhanced RTMP; `None` for a legacy client.
    enhanced: Option<ClientCaps>,
}

fn split_query(s: &str) -> (String, String) {
    match s.split_once('?') {
        Some((name, args)) => (name.to_string(), args.to_string()),
        None => (s.to_string(), String::new()),
    }
}

/// AMF0 numbers are f64; stream ids are u32. `as` saturates (NaN gives 0), so no UB or panic.
fn f64_to_u32(n: f64) -> u32 {
    n as u32
}

impl ServerSession {
    pub fn new(cfg: SessionConfig) -> Self {
        let reader = ChunkReader::new(cfg.max_message, cfg.max_streams as usize);
        ServerSession {
            cfg,
            state: State::Handshake,
            handshake: ServerHandshake::new(),
            reader,
            input: BytesMut::new(),
            output: Outgoing::held(),
            bytes_in: 0,
            bytes_out: 0,
            acked_at: 0,
            peer_window: None,
            ping_outstanding: false,
            buffer_length_ms: None,
            open_streams: 0,
            failed: None,
            enhanced: None,
        }
    }

    /// Feeds bytes from the peer. After an error the session is dead: every later call returns
    /// the same error, and the shell should close the connection.
    pub fn handle_input(
        &mut self,
        input: &[u8],
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.bytes_in = self.bytes_in.saturating_add(input.len() as u64);
        let result = self.process(input, events);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn process(
        &mut self,
        input: &[u8],
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        if self.state == State::Handshake {
            let mut out = Vec::new();
            let progress = self
                .handshake
                .feed(input, &mut out)
                .map_err(|e| SessionError::Handshake(e.to_string()));
            if !out.is_empty() {
                self.output.raw(Bytes::from(out));
            }
            match progress? {
                HandshakeProgress::InProgress => {}
                HandshakeProgress::Done { remaining } => {
                    self.state = State::AwaitConnect;
                    self.output.release();
                    self.input.extend_from_slice(&remaining);
                }
            }
        } else {
            self.input.extend_from_slice(input);
        }
        if self.state != State::Handshake {
            while let Some(msg) = self.reader.read(&mut self.input)? {
                self.dispatch(msg, events)?;
            }
        }
        self.maybe_ack();
        Ok(())
    }

    /// Acknowledges with the total byte count (spec §5.4.3), not the bytes since the last ack.
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
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let body = &msg.payload[..];
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
            msg_type::USER_CONTROL => self.user_control(body),
            _ if msg.is_media() && self.media_allowed() => {
                let parts = msg
                    .media_parts()
                    .map_err(|e| SessionError::Protocol(e.to_string()))?;
                for (type_id, timestamp, payload) in parts {
                    events.push(media_event(type_id, timestamp, payload));
                }
            }
            msg_type::COMMAND_AMF0 => self.command(&msg.payload, msg.stream_id, events)?,
            msg_type::COMMAND_AMF3 => {
                let payload = strip_amf3_marker(&msg.payload);
                self.command(&payload, msg.stream_id, events)?;
            }
            // Acknowledgement, Set Peer Bandwidth, shared objects, media before connect, and
            // unknown types carry nothing a live server acts on.
            _ => {}
        }
        Ok(())
    }

    fn media_allowed(&self) -> bool {
        matches!(self.state, State::Connected | State::ConnectPending { .. })
    }

    fn user_control(&mut self, body: &[u8]) {
        // Malformed user control messages are ignored, as they are harmless to skip.
        match control::parse_user_control(body) {
            Some(UserControl::PingRequest(ts)) => {
                self.output.user_control(event::PING_RESPONSE, ts);
            }
            Some(UserControl::PingResponse(_)) => self.ping_outstanding = false,
            Some(UserControl::SetBufferLength { buffer_ms, .. }) => {
                self.buffer_length_ms = Some(buffer_ms)
            }
            Some(UserControl::Other(_)) | None => {}
        }
    }

    fn command(
        &mut self,
        payload: &[u8],
        stream_id: u32,
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let cmd = Command::decode(payload).map_err(|e: AmfError| {
            SessionError::Protocol(format!("broken AMF0 in command message: {e}"))
        })?;
        match self.state {
            State::AwaitConnect if cmd.name == "connect" => return self.connect(cmd, events),
            State::AwaitConnect => {
                return Err(SessionError::Protocol(format!(
                    "command '{}' before connect",
                    cmd.name
                )))
            }
            State::Rejected => {
                return Err(SessionError::Protocol(format!(
                    "command '{}' after connect was rejected",
                    cmd.name
                )))
            }
            _ => {}
        }
        let txn = cmd.transaction_id;
        let arg = |i: usize| cmd.args.get(i);
        match cmd.name.as_str() {
            "connect" => return Err(SessionError::Protocol("second connect".to_string())),
            "createStream" => {
                if self.open_streams >= self.cfg.max_streams {
                    return Err(SessionError::Protocol(format!(
                        "more than {} createStream calls",
                        self.cfg.max_streams
                    )));
                }
                self.open_streams = self.open_streams.saturating_add(1);
                self.send_result(txn, vec![Value::Number(f64::from(STREAM_ID))]);
            }
            "publish" => {
                let name = amf::as_str(arg(0)).ok_or_else(|| {
                    SessionError::Protocol("publish without a stream name".into())
                })?;
                let (name, args) = split_query(name);
                let kind = amf::as_str(arg(1)).unwrap_or("live").to_string();
                events.push(SessionEvent::Publish(PublishRequest {
                    stream_id,
                    name,
                    args,
                    kind,
                }));
            }
            "play" => {
                let name = amf::as_str(arg(0))
                    .ok_or_else(|| SessionError::Protocol("play without a stream name".into()))?;
                let (name, args) = split_query(name);
                events.push(SessionEvent::Play(PlayRequest {
                    stream_id,
                    name,
                    args,
                    start: amf::as_number(arg(1)).unwrap_or(-2.0),
                    duration: amf::as_number(arg(2)).unwrap_or(-1.0),
                    reset: amf::as_bool(arg(3)).unwrap_or(true),
                }));
            }
            "closeStream" => events.push(SessionEvent::CloseStream { stream_id }),
            "deleteStream" => {
                let id = amf::as_number(arg(0)).map(f64_to_u32).unwrap_or(stream_id);
                self.open_streams = self.open_streams.saturating_sub(1);
                events.push(SessionEvent::CloseStream { stream_id: id });
            }
            "FCPublish" | "FCUnpublish" | "FCSubscribe" => {
                let name = amf::as_str(arg(0)).unwrap_or("");
                let (answer, code) = match cmd.name.as_str() {
                    "FCPublish" => ("onFCPublish", "NetStream.Publish.Start"),
                    "FCUnpublish" => ("onFCUnpublish", "NetStream.Unpublish.Success"),
                    _ => ("onFCSubscribe", "NetStream.Play.Start"),
                };
                let info = amf::status_info("status", code, name);
                self.output.command(0, answer, 0.0, Value::Null, vec![info]);
                self.send_result_if_wanted(txn, vec![]);
            }
            "getStreamLength" => self.send_result_if_wanted(txn, vec![Value::Number(0.0)]),
            "releaseStream" | "_checkbw" => self.send_result_if_wanted(txn, vec![]),
            // pause, seek, receiveAudio/Video, client-side _result/onStatus, custom calls.
            _ => {}
        }
        Ok(())
    }

    fn connect(
        &mut self,
        cmd: Command,
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let obj = &cmd.object;
        let text = |key: &str| amf::get_str(obj, key).unwrap_or("").to_string();
        let (mut app, args) = split_query(amf::get_str(obj, "app").unwrap_or(""));
        if app.ends_with('/') {
            app.pop();
        }
        let flash_ver = amf::get_str(obj, "flashVer")
            .or_else(|| amf::get_str(obj, "flashver"))
            .unwrap_or("")
            .to_string();
        let object_encoding = amf::get_number(obj, "objectEncoding").unwrap_or(0.0);
        self.enhanced = enhanced_caps::read(obj);
        self.state = State::ConnectPending {
            transaction_id: cmd.transaction_id,
            object_encoding,
        };
        events.push(SessionEvent::Connect(ConnectInfo {
            app,
            args,
            tc_url: text("tcUrl"),
            flash_ver,
            swf_url: text("swfUrl"),
            page_url: text("pageUrl"),
            object_encoding,
        }));
        Ok(())
    }

    pub fn take_output(&mut self) -> Option<Bytes> {
        let out = self.output.pop()?;
        self.bytes_out = self.bytes_out.saturating_add(out.len() as u64);
        Some(out)
    }

    pub fn handshake_done(&self) -> bool {
        self.state != State::Handshake
    }

    /// Answers the pending `connect`; does nothing if no connect is pending.
    pub fn accept_connect(&mut self) {
        let State::ConnectPending {
            transaction_id,
            object_encoding,
        } = self.state
        else {
            return;
        };
        let window = self.cfg.ack_window;
        self.output
            .control(msg_type::WINDOW_ACK_SIZE, &window.to_be_bytes());
        self.output.control(
            msg_type::SET_PEER_BANDWIDTH,
            &control::set_peer_bandwidth(window, limit::DYNAMIC),
        );
        let chunk_size = self.cfg.chunk_size.clamp(1, MAX_CHUNK_SIZE);
        self.output.set_chunk_size(chunk_size);
        let mut props = vec![
            ("fmsVer", amf::string(FMS_VERSION)),
            ("capabilities", Value::Number(CAPABILITIES)),
        ];
        if let Some(caps) = &self.enhanced {
            props.extend(enhanced_caps::answer(caps));
        }
        let props = amf::object(&props);
        let info = amf::object(&[
            ("level", amf::string("status")),
            ("code", amf::string("NetConnection.Connect.Success")),
            ("description", amf::string("Connection succeeded.")),
            ("objectEncoding", Value::Number(object_encoding)),
        ]);
        self.output
            .command(0, "_result", transaction_id, props, vec![info]);
        self.state = State::Connected;
    }

    /// Refuses the pending `connect`; later commands fail the session.
    pub fn reject_connect(&mut self, description: &str) {
        let State::ConnectPending { transaction_id, .. } = self.state else {
            return;
        };
        let info = amf::status_info("error", "NetConnection.Connect.Rejected", description);
        self.output
            .command(0, "_error", transaction_id, Value::Null, vec![info]);
        self.state = State::Rejected;
    }

    pub fn accept_publish(&mut self, stream_id: u32) {
        self.send_status(
            stream_id,
            "status",
            "NetStream.Publish.Start",
            "Start publishing",
        );
    }

    pub fn reject_publish(&mut self, stream_id: u32, code: &str, description: &str) {
        self.send_status(stream_id, "error", code, description);
    }

    pub fn accept_play(&mut self, stream_id: u32) {
        self.send_stream_begin(stream_id);
        self.send_status(
            stream_id,
            "status",
            "NetStream.Play.Reset",
            "Playing and resetting",
        );
        self.send_status(stream_id, "status", "NetStream.Play.Start", "Start live");
        let access = [
            amf::string("|RtmpSampleAccess"),
            Value::Boolean(true),
            Value::Boolean(true),
        ];
        if let Ok(body) = amf::encode(&access) {
            self.output
                .message(CSID_COMMAND, msg_type::DATA_AMF0, stream_id, &body);
        }
    }

    pub fn reject_play(&mut self, stream_id: u32, code: &str, description: &str) {
        self.send_status(stream_id, "error", code, description);
    }

    pub fn send_status(&mut self, stream_id: u32, level: &str, code: &str, description: &str) {
        let info = amf::status_info(level, code, description);
        self.output
            .command(stream_id, "onStatus", 0.0, Value::Null, vec![info]);
    }

    pub fn send_stream_begin(&mut self, stream_id: u32) {
        self.output.user_control(event::STREAM_BEGIN, stream_id);
    }

    pub fn send_stream_eof(&mut self, stream_id: u32) {
        self.output.user_control(event::STREAM_EOF, stream_id);
    }

    /// Queues a ping; `ping_outstanding()` stays true until the peer answers.
    pub fn send_ping(&mut self, now_ms: u32) {
        self.output.user_control(event::PING_REQUEST, now_ms);
        self.ping_outstanding = true;
    }

    pub fn ping_outstanding(&self) -> bool {
        self.ping_outstanding
    }

    pub fn out_chunk_size(&self) -> u32 {
        self.output.chunk_size()
    }

    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Total length of every buffer handed out by `take_output`.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// The buffer length the player asked for with Set Buffer Length, in milliseconds.
    pub fn buffer_length_ms(&self) -> Option<u32> {
        self.buffer_length_ms
    }

    /// The window acknowledgement size the peer announced.
    pub fn peer_ack_window(&self) -> Option<u32> {
        self.peer_window
    }

    /// The chunk size the peer uses for what it sends us.
    pub fn in_chunk_size(&self) -> u32 {
        self.reader.chunk_size()
    }

    fn send_result(&mut self, transaction_id: f64, args: Vec<Value>) {
        self.output
            .command(0, "_result", transaction_id, Value::Null, args);
    }

    /// Transaction id 0 means the client expects no answer.
    fn send_result_if_wanted(&mut self, transaction_id: f64, args: Vec<Value>) {
        if transaction_id > 0.0 {
            self.send_result(transaction_id, args);
        }
    }
}

fn short(what: &str) -> SessionError {
    SessionError::Protocol(format!("{what} message shorter than 4 bytes"))
}

fn media_event(type_id: u8, timestamp: u32, payload: Bytes) -> SessionEvent {
    match type_id {
        msg_type::AUDIO => SessionEvent::Audio { timestamp, payload },
        msg_type::VIDEO => SessionEvent::Video { timestamp, payload },
        _ => SessionEvent::Data { timestamp, payload },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_split() {
        assert_eq!(split_query("live?a=1?b"), ("live".into(), "a=1?b".into()));
        assert_eq!(split_query("live"), ("live".into(), String::new()));
        assert_eq!(split_query("?x"), (String::new(), "x".into()));
    }

    #[test]
    fn number_conversion_saturates() {
        assert_eq!(f64_to_u32(1.0), 1);
        assert_eq!(f64_to_u32(-5.0), 0);
        assert_eq!(f64_to_u32(f64::NAN), 0);
        assert_eq!(f64_to_u32(1e20), u32::MAX);
    }

    #[test]
    fn errors_read_well() {
        let e = SessionError::Chunk(ChunkError::MessageTooLarge {
            len: 16_777_215,
            max: 1_048_576,
        });
        assert_eq!(
            e.to_string(),
            "chunk header announces a 16777215-byte message, max_message is 1048576"
        );
    }
}
