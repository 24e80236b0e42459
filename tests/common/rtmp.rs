//! RTMP clients of our own, independent of the server under test:
//! * `RtmpClient`: rml_rtmp 0.8.0 `ClientSession` over a blocking `TcpStream`; a second,
//!   passive deserializer reads the same bytes so tests see every message exactly
//!   (onStatus code/level/description, raw metadata values, media with timestamps).
//! * `RawClient`: handshake by hand (simple handshake), then exact bytes: chunks with any
//!   csid / format / extended timestamp, interleaving, broken messages.

use bytes::Bytes;
use rml_amf0::Amf0Value;
use rml_rtmp::chunk_io::ChunkDeserializer;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::messages::{MessagePayload, RtmpMessage};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionResult, PublishRequestType, StreamMetadata,
};
use rml_rtmp::time::RtmpTimestamp;
use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One message received from the server.
#[derive(Debug, Clone)]
pub enum Event {
    /// onStatus: info object's code, level, description.
    Status {
        code: String,
        level: String,
        description: String,
    },
    /// Any other AMF0 command (`_result`, `_error`, `onBWDone`, ...).
    Command {
        name: String,
        txn: f64,
        obj: Amf0Value,
        args: Vec<Amf0Value>,
    },
    /// AMF0 data message (type 18), e.g. ["onMetaData", {...}], ["|RtmpSampleAccess", ...].
    Data {
        values: Vec<Amf0Value>,
        ts: u32,
    },
    Video {
        ts: u32,
        data: Bytes,
        msid: u32,
    },
    Audio {
        ts: u32,
        data: Bytes,
        msid: u32,
    },
    /// Protocol control / user control / anything else.
    Other(String),
}

impl Event {
    pub fn status_code(&self) -> Option<&str> {
        match self {
            Event::Status { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum ClientError {
    Timeout,
    Closed,
    Io(std::io::Error),
    /// The server answered with an error status or `_error`.
    Refused(Event),
    Protocol(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:?}", self)
    }
}

/// Connect a TcpStream, optionally from a chosen local address (bind before connect).
pub fn tcp_connect(addr: SocketAddr, local: Option<IpAddr>) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let dom = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(dom, Type::STREAM, Some(Protocol::TCP))?;
    if let Some(ip) = local {
        s.bind(&SockAddr::from(SocketAddr::new(ip, 0)))?;
    }
    s.connect_timeout(&SockAddr::from(addr), Duration::from_secs(5))?;
    let t: TcpStream = s.into();
    t.set_nodelay(true)?;
    Ok(t)
}

/// Passive parser of server-to-client bytes.
pub struct Inbound {
    de: ChunkDeserializer,
}

impl Default for Inbound {
    fn default() -> Self {
        Self::new()
    }
}

impl Inbound {
    pub fn new() -> Self {
        Inbound {
            de: ChunkDeserializer::new(),
        }
    }

    pub fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Event>) -> Result<(), String> {
        let mut input = bytes;
        loop {
            let p = self
                .de
                .get_next_message(input)
                .map_err(|e| format!("{:?}", e))?;
            input = &[];
            match p {
                None => return Ok(()),
                Some(p) => {
                    if let Some(ev) = self.decode(&p)? {
                        out.push_back(ev);
                    }
                }
            }
        }
    }

    fn decode(&mut self, p: &MessagePayload) -> Result<Option<Event>, String> {
        let ts = p.timestamp.value;
        let m = p.to_rtmp_message().map_err(|e| format!("{:?}", e))?;
        Ok(Some(match m {
            RtmpMessage::SetChunkSize { size } => {
                self.de
                    .set_max_chunk_size(size as usize)
                    .map_err(|e| format!("{:?}", e))?;
                Event::Other(format!("SetChunkSize {}", size))
            }
            RtmpMessage::Amf0Command {
                command_name,
                transaction_id,
                command_object,
                additional_arguments,
            } => {
                if command_name == "onStatus" {
                    let mut code = String::new();
                    let mut level = String::new();
                    let mut description = String::new();
                    if let Some(Amf0Value::Object(o)) = additional_arguments.first() {
                        code = amf_str(o.get("code"));
                        level = amf_str(o.get("level"));
                        description = amf_str(o.get("description"));
                    }
                    Event::Status {
                        code,
                        level,
                        description,
                    }
                } else {
                    Event::Command {
                        name: command_name,
                        txn: transaction_id,
                        obj: command_object,
                        args: additional_arguments,
                    }
                }
            }
            RtmpMessage::Amf0Data { values } => Event::Data { values, ts },
            RtmpMessage::VideoData { data } => Event::Video {
                ts,
                data,
                msid: p.message_stream_id,
            },
            RtmpMessage::AudioData { data } => Event::Audio {
                ts,
                data,
                msid: p.message_stream_id,
            },
            other => Event::Other(format!("{:?}", other)),
        }))
    }
}

fn amf_str(v: Option<&Amf0Value>) -> String {
    match v {
        Some(Amf0Value::Utf8String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn read_some(sock: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, ClientError> {
    let now = Instant::now();
    if now >= deadline {
        return Err(ClientError::Timeout);
    }
    let left = (deadline - now).max(Duration::from_millis(1));
    sock.set_read_timeout(Some(left)).map_err(ClientError::Io)?;
    let mut buf = vec![0u8; 65536];
    match sock.read(&mut buf) {
        Ok(0) => Err(ClientError::Closed),
        Ok(n) => {
            buf.truncate(n);
            Ok(buf)
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
            Err(ClientError::Timeout)
        }
        Err(e)
            if e.kind() == ErrorKind::ConnectionReset
                || e.kind() == ErrorKind::ConnectionAborted
                || e.kind() == ErrorKind::BrokenPipe =>
        {
            Err(ClientError::Closed)
        }
        Err(e) => Err(ClientError::Io(e)),
    }
}

/// An RTMP client on rml_rtmp's `ClientSession`.
pub struct RtmpClient {
    pub sock: TcpStream,
    session: ClientSession,
    inbound: Inbound,
    pending: VecDeque<Event>,
    pub app: String,
}

impl RtmpClient {
    pub fn connect(addr: SocketAddr, app: &str) -> Result<RtmpClient, ClientError> {
        Self::connect_from(addr, app, None)
    }

    /// Connect from a chosen local source address (e.g. 127.0.0.2).
    pub fn connect_from(
        addr: SocketAddr,
        app: &str,
        local: Option<IpAddr>,
    ) -> Result<RtmpClient, ClientError> {
        let mut sock = tcp_connect(addr, local).map_err(ClientError::Io)?;
        sock.set_write_timeout(Some(Duration::from_secs(10)))
            .map_err(ClientError::Io)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut hs = Handshake::new(PeerType::Client);
        let c0c1 = hs
            .generate_outbound_p0_and_p1()
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        sock.write_all(&c0c1).map_err(ClientError::Io)?;
        let remaining = loop {
            let b = read_some(&mut sock, deadline)?;
            match hs
                .process_bytes(&b)
                .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?
            {
                HandshakeProcessResult::InProgress { response_bytes } => {
                    sock.write_all(&response_bytes).map_err(ClientError::Io)?;
                }
                HandshakeProcessResult::Completed {
                    response_bytes,
                    remaining_bytes,
                } => {
                    sock.write_all(&response_bytes).map_err(ClientError::Io)?;
                    break remaining_bytes;
                }
            }
        };
        let mut cfg = ClientSessionConfig::new();
        cfg.tc_url = Some(format!("rtmp://{}/{}", addr, app));
        let (session, initial) =
            ClientSession::new(cfg).map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        let mut c = RtmpClient {
            sock,
            session,
            inbound: Inbound::new(),
            pending: VecDeque::new(),
            app: app.to_string(),
        };
        c.handle_results(initial)?;
        if !remaining.is_empty() {
            c.feed(&remaining)?;
        }
        let r = c
            .session
            .request_connection(app.to_string())
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        c.handle_results(vec![r])?;
        // Wait for the connect answer.
        loop {
            match c.next_event_until(deadline)? {
                Event::Command {
                    name,
                    txn,
                    obj,
                    args,
                } if txn == 1.0 => {
                    if name == "_result" {
                        return Ok(c);
                    }
                    return Err(ClientError::Refused(Event::Command {
                        name,
                        txn,
                        obj,
                        args,
                    }));
                }
                _ => {}
            }
        }
    }

    fn handle_results(&mut self, rs: Vec<ClientSessionResult>) -> Result<(), ClientError> {
        for r in rs {
            if let ClientSessionResult::OutboundResponse(p) = r {
                self.sock.write_all(&p.bytes).map_err(ClientError::Io)?;
            }
        }
        Ok(())
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.inbound
            .feed(bytes, &mut self.pending)
            .map_err(ClientError::Protocol)?;
        // rml raises errors for messages it does not expect in its state (e.g. a second
        // Play.Start); keep draining so its deserializer stays in step.
        let mut input = bytes;
        for _ in 0..10_000 {
            match self.session.handle_input(input) {
                Ok(rs) => {
                    self.handle_results(rs)?;
                    return Ok(());
                }
                Err(_) => {
                    input = &[];
                }
            }
        }
        Ok(())
    }

    /// Read from the socket once (until `deadline`) and queue what arrives.
    fn pump(&mut self, deadline: Instant) -> Result<(), ClientError> {
        let b = read_some(&mut self.sock, deadline)?;
        self.feed(&b)
    }

    pub fn next_event_until(&mut self, deadline: Instant) -> Result<Event, ClientError> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(e);
            }
            self.pump(deadline)?;
        }
    }

    pub fn next_event(&mut self, timeout: Duration) -> Result<Event, ClientError> {
        self.next_event_until(Instant::now() + timeout)
    }

    /// Wait for an onStatus whose code starts with `prefix`; other events are returned
    /// in the Vec (in order) so callers can inspect what came before.
    pub fn wait_status(
        &mut self,
        prefix: &str,
        timeout: Duration,
    ) -> Result<(Event, Vec<Event>), ClientError> {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            let e = self.next_event_until(deadline)?;
            if let Event::Status { code, .. } = &e {
                if code.starts_with(prefix) {
                    return Ok((e, before));
                }
            }
            before.push(e);
        }
    }

    /// createStream + publish(name, "live"). Ok on NetStream.Publish.Start; Refused with the
    /// status event on any other NetStream.Publish.* status; Closed if the server drops us.
    pub fn publish(&mut self, name: &str) -> Result<(), ClientError> {
        let r = self
            .session
            .request_publishing(name.to_string(), PublishRequestType::Live)
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(vec![r])?;
        let (e, _) = self.wait_status("NetStream.Publish.", Duration::from_secs(10))?;
        if e.status_code() == Some("NetStream.Publish.Start") {
            Ok(())
        } else {
            Err(ClientError::Refused(e))
        }
    }

    /// createStream + play(name). Ok on NetStream.Play.Start; Refused on other Play statuses.
    pub fn play(&mut self, name: &str) -> Result<Vec<Event>, ClientError> {
        let r = self
            .session
            .request_playback(name.to_string())
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(vec![r])?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut before = Vec::new();
        loop {
            let e = self.next_event_until(deadline)?;
            match e.status_code() {
                Some("NetStream.Play.Start") => return Ok(before),
                Some(c)
                    if c.starts_with("NetStream.Play.")
                        && c != "NetStream.Play.Reset"
                        && c != "NetStream.Play.PublishNotify" =>
                {
                    return Err(ClientError::Refused(e))
                }
                _ => before.push(e),
            }
        }
    }

    pub fn send_video(&mut self, ts: u32, data: &[u8]) -> Result<(), ClientError> {
        let r = self
            .session
            .publish_video_data(Bytes::copy_from_slice(data), RtmpTimestamp::new(ts), false)
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(vec![r])
    }

    pub fn send_audio(&mut self, ts: u32, data: &[u8]) -> Result<(), ClientError> {
        let r = self
            .session
            .publish_audio_data(Bytes::copy_from_slice(data), RtmpTimestamp::new(ts), false)
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(vec![r])
    }

    /// `@setDataFrame onMetaData {...}` (rml's publish_metadata).
    pub fn send_metadata(&mut self, md: &StreamMetadata) -> Result<(), ClientError> {
        let r = self
            .session
            .publish_metadata(md)
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(vec![r])
    }

    /// Stops playing (rml sends deleteStream); the connection stays open.
    pub fn stop_playback(&mut self) -> Result<(), ClientError> {
        let r = self
            .session
            .stop_playback()
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(r)
    }

    pub fn stop_publishing(&mut self) -> Result<(), ClientError> {
        let r = self
            .session
            .stop_publishing()
            .map_err(|e| ClientError::Protocol(format!("{:?}", e)))?;
        self.handle_results(r)
    }

    /// Drain everything for `dur` (keeps acks flowing), returning what arrived.
    pub fn collect_for(&mut self, dur: Duration) -> Result<Vec<Event>, ClientError> {
        let deadline = Instant::now() + dur;
        let mut v = Vec::new();
        loop {
            match self.next_event_until(deadline) {
                Ok(e) => v.push(e),
                Err(ClientError::Timeout) => return Ok(v),
                Err(e) => {
                    if v.is_empty() {
                        return Err(e);
                    }
                    return Ok(v);
                }
            }
        }
    }

    /// Does the server close this connection within `d`? (Events that arrive meanwhile
    /// are discarded.)
    pub fn closed_within(&mut self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        loop {
            match self.next_event_until(deadline) {
                Ok(_) => {}
                Err(ClientError::Timeout) => return false,
                Err(_) => return true,
            }
        }
    }

    /// Collect media events until `n` media (audio+video) messages arrived or timeout.
    pub fn collect_media(&mut self, n: usize, timeout: Duration) -> Vec<Event> {
        let deadline = Instant::now() + timeout;
        let mut v = Vec::new();
        let mut media = 0;
        while media < n {
            match self.next_event_until(deadline) {
                Ok(e) => {
                    if matches!(e, Event::Video { .. } | Event::Audio { .. }) {
                        media += 1;
                    }
                    v.push(e);
                }
                Err(_) => break,
            }
        }
        v
    }
}

// ---------------------------------------------------------------------------------------
// Raw bytes

/// Basic header for a chunk. `long_form` forces the 3-byte form for csid 64..=319.
pub fn basic_header(fmt: u8, csid: u32, long_form: bool) -> Vec<u8> {
    assert!(fmt < 4 && (2..=65599).contains(&csid));
    if csid <= 63 {
        vec![(fmt << 6) | csid as u8]
    } else if csid <= 319 && !long_form {
        vec![fmt << 6, (csid - 64) as u8]
    } else {
        let x = csid - 64;
        vec![(fmt << 6) | 1, (x & 0xff) as u8, (x >> 8) as u8]
    }
}

/// A message split into chunks: first chunk with a type-0 header (absolute timestamp,
/// extended if >= 0xFFFFFF), then type-3 continuations (repeating the extended timestamp,
/// as nginx-rtmp, ffmpeg and librtmp do). Returns the chunks separately so callers can
/// interleave them with other chunk streams.
pub fn message_chunks(
    csid: u32,
    ts: u32,
    type_id: u8,
    msid: u32,
    payload: &[u8],
    chunk_size: usize,
) -> Vec<Vec<u8>> {
    message_chunks_fmt(0, csid, ts, type_id, msid, payload, chunk_size, false)
}

/// As `message_chunks`, with header format 0, 1 or 2 for the first chunk (`ts` is then the
/// timestamp delta for fmt 1/2; fmt 2 omits length/type, so the previous ones must match).
#[allow(clippy::too_many_arguments)]
pub fn message_chunks_fmt(
    fmt: u8,
    csid: u32,
    ts: u32,
    type_id: u8,
    msid: u32,
    payload: &[u8],
    chunk_size: usize,
    long_form: bool,
) -> Vec<Vec<u8>> {
    let ext = ts >= 0xFF_FFFF;
    let tsf = if ext { 0xFF_FFFF } else { ts };
    let mut first = basic_header(fmt, csid, long_form);
    first.extend_from_slice(&tsf.to_be_bytes()[1..]);
    if fmt <= 1 {
        first.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        first.push(type_id);
    }
    if fmt == 0 {
        first.extend_from_slice(&msid.to_le_bytes());
    }
    if ext {
        first.extend_from_slice(&ts.to_be_bytes());
    }
    let mut out = Vec::new();
    let mut parts = payload.chunks(chunk_size.max(1));
    let p0 = parts.next().unwrap_or(&[]);
    first.extend_from_slice(p0);
    out.push(first);
    for p in parts {
        let mut c = basic_header(3, csid, long_form);
        if ext {
            c.extend_from_slice(&ts.to_be_bytes());
        }
        c.extend_from_slice(p);
        out.push(c);
    }
    out
}

pub fn amf(values: &[Amf0Value]) -> Vec<u8> {
    rml_amf0::serialize(&values.to_vec()).expect("amf0 serialize")
}

pub fn s(v: &str) -> Amf0Value {
    Amf0Value::Utf8String(v.to_string())
}

pub fn n(v: f64) -> Amf0Value {
    Amf0Value::Number(v)
}

pub fn obj(props: &[(&str, Amf0Value)]) -> Amf0Value {
    let mut m = HashMap::new();
    for (k, v) in props {
        m.insert(k.to_string(), v.clone());
    }
    Amf0Value::Object(m)
}

/// A client that writes exact bytes. `connect_raw` gives only the TCP stream; `connect`
/// also performs a simple handshake (C0 = 3, C1 with zero version, C2 = S1).
pub struct RawClient {
    pub sock: TcpStream,
    inbound: Inbound,
    pending: VecDeque<Event>,
    pub out_chunk_size: usize,
    /// Bytes received from the server since the handshake (raw, for byte-level checks).
    pub received: usize,
}

impl RawClient {
    pub fn connect_raw(addr: SocketAddr, local: Option<IpAddr>) -> std::io::Result<TcpStream> {
        let s = tcp_connect(addr, local)?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(s)
    }

    pub fn connect(addr: SocketAddr) -> Result<RawClient, ClientError> {
        Self::connect_from(addr, None)
    }

    pub fn connect_from(addr: SocketAddr, local: Option<IpAddr>) -> Result<RawClient, ClientError> {
        let mut sock = Self::connect_raw(addr, local).map_err(ClientError::Io)?;
        let mut c0c1 = vec![3u8];
        c0c1.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        let mut x: u32 = 0x1234_5678;
        for _ in 0..1528 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            c0c1.push(x as u8);
        }
        sock.write_all(&c0c1).map_err(ClientError::Io)?;
        let mut s012 = vec![0u8; 1 + 1536 + 1536];
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(ClientError::Io)?;
        sock.read_exact(&mut s012).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => ClientError::Closed,
            ErrorKind::WouldBlock | ErrorKind::TimedOut => ClientError::Timeout,
            _ => ClientError::Io(e),
        })?;
        if s012[0] != 3 {
            return Err(ClientError::Protocol(format!("S0 = {}", s012[0])));
        }
        sock.write_all(&s012[1..1537]).map_err(ClientError::Io)?;
        Ok(RawClient {
            sock,
            inbound: Inbound::new(),
            pending: VecDeque::new(),
            out_chunk_size: 128,
            received: 0,
        })
    }

    pub fn send_raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.sock.write_all(b)
    }

    pub fn send_chunks(&mut self, chunks: &[Vec<u8>]) -> std::io::Result<()> {
        let all: Vec<u8> = chunks.concat();
        self.sock.write_all(&all)
    }

    /// Send one whole message on `csid` with a type-0 header.
    pub fn send_msg(
        &mut self,
        csid: u32,
        ts: u32,
        type_id: u8,
        msid: u32,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let ch = message_chunks(csid, ts, type_id, msid, payload, self.out_chunk_size);
        self.send_chunks(&ch)
    }

    /// Set Chunk Size (type 1) on csid 2, and use it for what we send next.
    pub fn set_chunk_size(&mut self, size: u32) -> std::io::Result<()> {
        self.send_msg(2, 0, 1, 0, &size.to_be_bytes())?;
        if size > 0 && size < 0x8000_0000 {
            self.out_chunk_size = size as usize;
        }
        Ok(())
    }

    pub fn command(
        &mut self,
        msid: u32,
        name: &str,
        txn: f64,
        cmd_obj: Amf0Value,
        args: &[Amf0Value],
    ) -> std::io::Result<()> {
        let mut v = vec![s(name), n(txn), cmd_obj];
        v.extend_from_slice(args);
        let csid = if msid == 0 { 3 } else { 8 };
        self.send_msg(csid, 0, 20, msid, &amf(&v))
    }

    fn pump(&mut self, deadline: Instant) -> Result<(), ClientError> {
        let b = read_some(&mut self.sock, deadline)?;
        self.received += b.len();
        self.inbound
            .feed(&b, &mut self.pending)
            .map_err(ClientError::Protocol)
    }

    pub fn next_event(&mut self, timeout: Duration) -> Result<Event, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(e);
            }
            self.pump(deadline)?;
        }
    }

    /// connect(app) and wait for `_result` (Ok) / `_error` (Refused).
    pub fn rtmp_connect(&mut self, app: &str) -> Result<(), ClientError> {
        let tc = format!("rtmp://127.0.0.1/{}", app);
        self.command(
            0,
            "connect",
            1.0,
            obj(&[
                ("app", s(app)),
                ("flashVer", s("LNX 9,0,124,2")),
                ("tcUrl", s(&tc)),
                ("fpad", Amf0Value::Boolean(false)),
                ("capabilities", n(15.0)),
                ("audioCodecs", n(4071.0)),
                ("videoCodecs", n(252.0)),
                ("videoFunction", n(1.0)),
            ]),
            &[],
        )
        .map_err(ClientError::Io)?;
        self.wait_result(1.0).map(|_| ())
    }

    fn wait_result(&mut self, txn: f64) -> Result<Vec<Amf0Value>, ClientError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left)? {
                Event::Command {
                    name,
                    txn: t,
                    obj,
                    args,
                } if t == txn => {
                    if name == "_result" {
                        return Ok(args);
                    }
                    return Err(ClientError::Refused(Event::Command {
                        name,
                        txn: t,
                        obj,
                        args,
                    }));
                }
                _ => {}
            }
        }
    }

    /// createStream; returns the message stream id.
    pub fn create_stream(&mut self) -> Result<u32, ClientError> {
        self.command(0, "createStream", 2.0, Amf0Value::Null, &[])
            .map_err(ClientError::Io)?;
        let args = self.wait_result(2.0)?;
        match args.first() {
            Some(Amf0Value::Number(x)) => Ok(*x as u32),
            _ => Err(ClientError::Protocol("createStream result".into())),
        }
    }

    /// publish(name, "live") on msid, waiting for a NetStream.Publish.* status.
    pub fn publish(&mut self, msid: u32, name: &str) -> Result<(), ClientError> {
        self.command(msid, "publish", 0.0, Amf0Value::Null, &[s(name), s("live")])
            .map_err(ClientError::Io)?;
        self.wait_status_result("NetStream.Publish.", "NetStream.Publish.Start")
    }

    pub fn play(&mut self, msid: u32, name: &str) -> Result<(), ClientError> {
        self.command(msid, "play", 0.0, Amf0Value::Null, &[s(name)])
            .map_err(ClientError::Io)?;
        self.wait_status_result("NetStream.Play.", "NetStream.Play.Start")
    }

    fn wait_status_result(&mut self, prefix: &str, ok: &str) -> Result<(), ClientError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self.next_event(left)?;
            if let Some(c) = e.status_code() {
                if c == ok {
                    return Ok(());
                }
                if c.starts_with(prefix) && c != "NetStream.Play.Reset" {
                    return Err(ClientError::Refused(e));
                }
            }
        }
    }

    /// Handshake + connect + createStream + publish. Returns the msid.
    pub fn start_publish(&mut self, app: &str, name: &str) -> Result<u32, ClientError> {
        self.rtmp_connect(app)?;
        let id = self.create_stream()?;
        self.publish(id, name)?;
        Ok(id)
    }

    /// Read and discard until the server closes the connection (true) or `timeout` (false).
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        wait_closed(&mut self.sock, timeout)
    }

    /// Drain events for `dur`.
    pub fn collect_for(&mut self, dur: Duration) -> Vec<Event> {
        let deadline = Instant::now() + dur;
        let mut v = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return v;
            }
            match self.next_event(left) {
                Ok(e) => v.push(e),
                Err(_) => return v,
            }
        }
    }
}

/// Read and discard until EOF/reset (true) or `timeout` (false).
pub fn wait_closed(sock: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let _ = sock.set_read_timeout(Some(deadline - now));
        match sock.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                return false
            }
            Err(_) => return true,
        }
    }
}
