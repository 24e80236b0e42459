//! ServerSession driven by an independent peer: rml_rtmp's client handshake and ClientSession.
//! Hand-built byte streams cover what rml's client cannot send (interleaving, bad headers).
use super::amf::{self, Command, Value};
use super::chunk_writer::{encode_message, CSID_COMMAND, CSID_CONTROL, CSID_VIDEO};
use super::message::msg_type;
use super::server_session::*;
use super::ChunkError;
use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult,
    PublishRequestType, StreamMetadata,
};
use rml_rtmp::time::RtmpTimestamp;

pub(crate) fn cfg() -> SessionConfig {
    SessionConfig {
        chunk_size: 4096,
        ack_window: 5_000_000,
        max_message: 1 << 20,
        max_streams: 8,
    }
}

fn drain(server: &mut ServerSession) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = server.take_output() {
        out.extend_from_slice(&b);
    }
    out
}

/// Runs rml's client handshake against `server`; returns every byte the client sent.
pub(crate) fn handshake(server: &mut ServerSession) -> Vec<u8> {
    let mut hs = Handshake::new(PeerType::Client);
    let c0c1 = hs.generate_outbound_p0_and_p1().unwrap();
    let mut events = Vec::new();
    server.handle_input(&c0c1, &mut events).unwrap();
    assert!(!server.handshake_done());
    let s0s1s2 = drain(server);
    let HandshakeProcessResult::Completed { response_bytes, .. } =
        hs.process_bytes(&s0s1s2).unwrap()
    else {
        panic!("client handshake did not complete");
    };
    server.handle_input(&response_bytes, &mut events).unwrap();
    assert!(server.handshake_done());
    assert!(events.is_empty());
    let mut sent = c0c1;
    sent.extend(response_bytes);
    sent
}

struct Pair {
    server: ServerSession,
    client: ClientSession,
    events: Vec<SessionEvent>,
    client_events: Vec<ClientSessionEvent>,
    /// Everything the client sent, for fuzz seeds.
    wire: Vec<u8>,
}

impl Pair {
    fn new() -> Pair {
        let mut server = ServerSession::new(cfg());
        let wire = handshake(&mut server);
        let mut config = ClientSessionConfig::new();
        config.tc_url = Some("rtmp://example.com/live".to_string());
        let (client, _) = ClientSession::new(config).unwrap();
        Pair {
            server,
            client,
            events: Vec::new(),
            client_events: Vec::new(),
            wire,
        }
    }

    /// Sends client output to the server and server output back, until both are quiet.
    fn send(&mut self, result: ClientSessionResult) {
        let mut pending = vec![result];
        loop {
            for r in pending.drain(..) {
                match r {
                    ClientSessionResult::OutboundResponse(p) => {
                        self.wire.extend_from_slice(&p.bytes);
                        self.server
                            .handle_input(&p.bytes, &mut self.events)
                            .unwrap();
                    }
                    ClientSessionResult::RaisedEvent(e) => self.client_events.push(e),
                    ClientSessionResult::UnhandleableMessageReceived(_) => {}
                }
            }
            let out = drain(&mut self.server);
            if out.is_empty() {
                return;
            }
            pending = self.client.handle_input(&out).unwrap();
        }
    }

    fn pump(&mut self) {
        let out = drain(&mut self.server);
        if !out.is_empty() {
            for r in self.client.handle_input(&out).unwrap() {
                self.send(r);
            }
        }
    }

    fn connect(&mut self) {
        let r = self.client.request_connection("live/".to_string()).unwrap();
        self.send(r);
        assert!(matches!(self.events.pop(), Some(SessionEvent::Connect(_))));
        self.server.accept_connect();
        self.pump();
        assert!(self
            .client_events
            .contains(&ClientSessionEvent::ConnectionRequestAccepted));
    }

    fn publish(&mut self, key: &str) -> PublishRequest {
        self.connect();
        let r = self
            .client
            .request_publishing(key.to_string(), PublishRequestType::Live)
            .unwrap();
        self.send(r);
        let Some(SessionEvent::Publish(req)) = self.events.pop() else {
            panic!("no publish event");
        };
        self.server.accept_publish(req.stream_id);
        self.pump();
        assert!(self
            .client_events
            .contains(&ClientSessionEvent::PublishRequestAccepted));
        req
    }
}

pub(crate) fn command(
    stream_id: u32,
    name: &str,
    txn: f64,
    object: Value,
    args: Vec<Value>,
) -> Bytes {
    let body = Command {
        name: name.to_string(),
        transaction_id: txn,
        object,
        args,
    }
    .encode()
    .unwrap();
    encode_message(
        CSID_COMMAND,
        0,
        msg_type::COMMAND_AMF0,
        stream_id,
        &body,
        128,
    )
}

/// A server after handshake and an accepted hand-built connect, output drained.
pub(crate) fn connected_server() -> ServerSession {
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    let mut ev = Vec::new();
    let obj = amf::object(&[("app", amf::string("live"))]);
    s.handle_input(&command(0, "connect", 1.0, obj, vec![]), &mut ev)
        .unwrap();
    s.accept_connect();
    drain(&mut s);
    s
}

/// Decodes every command our server sent, in order (our output is never interleaved).
fn sent_commands(bytes: &[u8]) -> Vec<(u8, u32, Command)> {
    let mut reader = super::ChunkReader::new(1 << 24, 16);
    let mut buf = bytes::BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(m) = reader.read(&mut buf).unwrap() {
        if m.type_id == msg_type::SET_CHUNK_SIZE {
            let size = u32::from_be_bytes(m.payload[..4].try_into().unwrap());
            reader.set_chunk_size(size).unwrap();
        }
        if m.type_id == msg_type::COMMAND_AMF0 {
            out.push((m.type_id, m.stream_id, Command::decode(&m.payload).unwrap()));
        }
    }
    out
}

#[test]
fn connect_carries_all_fields_and_is_accepted() {
    let mut p = Pair::new();
    let r = p
        .client
        .request_connection("live/?token=abc".to_string())
        .unwrap();
    p.send(r);
    assert_eq!(
        p.events,
        vec![SessionEvent::Connect(ConnectInfo {
            app: "live".into(),
            args: "token=abc".into(),
            tc_url: "rtmp://example.com/live".into(),
            flash_ver: "WIN 23,0,0,207".into(),
            swf_url: String::new(),
            page_url: String::new(),
            object_encoding: 0.0,
        })]
    );
    assert_eq!(p.server.out_chunk_size(), 128);
    p.server.accept_connect();
    assert_eq!(p.server.out_chunk_size(), 4096);
    p.pump();
    assert!(p
        .client_events
        .contains(&ClientSessionEvent::ConnectionRequestAccepted));
    assert_eq!(p.server.peer_ack_window(), Some(2_500_000));
}

#[test]
fn accept_connect_output_layout() {
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    let mut ev = Vec::new();
    let obj = amf::object(&[
        ("app", amf::string("app")),
        ("flashver", amf::string("FMLE/3.0")),
        ("swfUrl", amf::string("swf")),
        ("pageUrl", amf::string("page")),
        ("objectEncoding", Value::Number(3.0)),
    ]);
    s.handle_input(&command(0, "connect", 1.0, obj, vec![]), &mut ev)
        .unwrap();
    let Some(SessionEvent::Connect(info)) = ev.pop() else {
        panic!()
    };
    assert_eq!(
        (&info.flash_ver[..], &info.swf_url[..], &info.page_url[..]),
        ("FMLE/3.0", "swf", "page")
    );
    s.accept_connect();
    let control: Vec<Bytes> = std::iter::from_fn(|| s.take_output()).collect();
    assert_eq!(control.len(), 4);
    assert_eq!(
        &control[0][..],
        &encode_message(CSID_CONTROL, 0, 5, 0, &5_000_000u32.to_be_bytes(), 128)[..]
    );
    assert_eq!(
        &control[1][..],
        &encode_message(CSID_CONTROL, 0, 6, 0, &[0, 0x4C, 0x4B, 0x40, 2], 128)[..]
    );
    assert_eq!(
        &control[2][..],
        &encode_message(CSID_CONTROL, 0, 1, 0, &4096u32.to_be_bytes(), 128)[..]
    );
    let all: Vec<u8> = control.iter().flat_map(|b| b.to_vec()).collect();
    let cmds = sent_commands(&all);
    let (_, sid, result) = &cmds[0];
    assert_eq!(
        (&result.name[..], result.transaction_id, *sid),
        ("_result", 1.0, 0)
    );
    assert_eq!(
        amf::get_str(&result.object, "fmsVer"),
        Some("FMS/3,0,1,123")
    );
    assert_eq!(amf::get_number(&result.object, "capabilities"), Some(31.0));
    let info = &result.args[0];
    assert_eq!(
        amf::get_str(info, "code"),
        Some("NetConnection.Connect.Success")
    );
    assert_eq!(
        amf::get_str(info, "description"),
        Some("Connection succeeded.")
    );
    assert_eq!(amf::get_number(info, "objectEncoding"), Some(3.0));
    assert_eq!(s.bytes_out(), 3073 + all.len() as u64);
}

/// The `_result` of a connect, decoded, for a hand-built connect object.
fn connect_result(obj: Value) -> Command {
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    let mut ev = Vec::new();
    s.handle_input(&command(0, "connect", 1.0, obj, vec![]), &mut ev)
        .unwrap();
    s.accept_connect();
    let all: Vec<u8> = std::iter::from_fn(|| s.take_output())
        .flat_map(|b| b.to_vec())
        .collect();
    let mut cmds = sent_commands(&all);
    assert_eq!(cmds.len(), 1);
    cmds.remove(0).2
}

#[test]
fn an_enhanced_client_learns_what_the_server_forwards() {
    let list = Value::StrictArray(vec![amf::string("hvc1"), amf::string("av01")]);
    let r = connect_result(amf::object(&[
        ("app", amf::string("live")),
        ("fourCcList", list.clone()),
        ("capsEx", Value::Number(2.0)),
    ]));
    assert_eq!(amf::property(&r.object, "fourCcList"), Some(&list));
    let forward = amf::object(&[("*", Value::Number(4.0))]);
    assert_eq!(
        amf::property(&r.object, "videoFourCcInfoMap"),
        Some(&forward)
    );
    assert_eq!(
        amf::property(&r.object, "audioFourCcInfoMap"),
        Some(&forward)
    );
    assert_eq!(amf::get_number(&r.object, "capsEx"), Some(6.0));
    assert_eq!(amf::get_str(&r.object, "fmsVer"), Some("FMS/3,0,1,123"));
    // A legacy client's answer has only the legacy properties.
    let r = connect_result(amf::object(&[("app", amf::string("live"))]));
    let Value::Object(props) = &r.object else {
        panic!("properties are an object")
    };
    let mut names: Vec<_> = props.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["capabilities", "fmsVer"]);
}

#[test]
fn reject_connect_reaches_client() {
    let mut p = Pair::new();
    let r = p.client.request_connection("live".to_string()).unwrap();
    p.send(r);
    p.server.reject_connect("not allowed");
    p.pump();
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, ClientSessionEvent::ConnectionRequestRejected { .. })));
}

#[test]
fn publish_and_media_flow_byte_identical() {
    let mut p = Pair::new();
    let req = p.publish("cam1?token=t");
    assert_eq!(
        req,
        PublishRequest {
            stream_id: 1,
            name: "cam1".into(),
            args: "token=t".into(),
            kind: "live".into(),
        }
    );
    let video = Bytes::from((0..100_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let audio = Bytes::from_static(&[0xAF, 0x01, 1, 2, 3]);
    let r = p
        .client
        .publish_video_data(video.clone(), RtmpTimestamp::new(40), false)
        .unwrap();
    p.send(r);
    let r = p
        .client
        .publish_audio_data(audio.clone(), RtmpTimestamp::new(0x0100_0000), false)
        .unwrap();
    p.send(r);
    let mut meta = StreamMetadata::new();
    meta.video_width = Some(1280);
    let r = p.client.publish_metadata(&meta).unwrap();
    p.send(r);
    assert_eq!(p.events.len(), 3);
    assert_eq!(
        p.events[0],
        SessionEvent::Video {
            timestamp: 40,
            payload: video
        }
    );
    assert_eq!(
        p.events[1],
        SessionEvent::Audio {
            timestamp: 0x0100_0000,
            payload: audio
        }
    );
    let SessionEvent::Data { payload, .. } = &p.events[2] else {
        panic!("no data event");
    };
    let values = amf::decode(payload).unwrap();
    assert_eq!(values[0], amf::string("@setDataFrame"));
    assert_eq!(values[1], amf::string("onMetaData"));
    assert_eq!(amf::get_number(&values[2], "width"), Some(1280.0));
}

#[test]
fn play_is_accepted_and_shared_media_reaches_client() {
    let mut p = Pair::new();
    p.connect();
    let r = p.client.request_playback("cam1?x=1".to_string()).unwrap();
    p.send(r);
    assert_eq!(
        p.events.pop(),
        Some(SessionEvent::Play(PlayRequest {
            stream_id: 1,
            name: "cam1".into(),
            args: "x=1".into(),
            start: -2.0,
            duration: -1.0,
            reset: true,
        }))
    );
    assert_eq!(p.server.buffer_length_ms(), Some(2000));
    p.server.accept_play(1);
    p.pump();
    assert!(p
        .client_events
        .contains(&ClientSessionEvent::PlaybackRequestAccepted));
    let frame: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let shared = encode_message(CSID_VIDEO, 1234, 9, 1, &frame, p.server.out_chunk_size());
    let results = p.client.handle_input(&shared).unwrap();
    assert!(results.iter().any(|r| matches!(
        r,
        ClientSessionResult::RaisedEvent(ClientSessionEvent::VideoDataReceived { data, timestamp })
            if data[..] == frame[..] && timestamp.value == 1234
    )));
}

#[test]
fn acknowledgements_carry_the_total() {
    let mut p = Pair::new();
    p.publish("s");
    let frame = Bytes::from(vec![0x17u8; 200_000]);
    for i in 0..60 {
        let r = p
            .client
            .publish_video_data(frame.clone(), RtmpTimestamp::new(i * 40), false)
            .unwrap();
        p.send(r);
    }
    let acks: Vec<u32> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientSessionEvent::AcknowledgementReceived { bytes_received } => Some(*bytes_received),
            _ => None,
        })
        .collect();
    assert!(acks.len() >= 4, "acks {acks:?}");
    for pair in acks.windows(2) {
        assert!(pair[1] >= pair[0] + 2_500_000, "acks {acks:?}");
    }
    assert!(u64::from(*acks.last().unwrap()) <= p.server.bytes_in());
    assert!(p.server.bytes_in() >= 12_000_000);
}

#[test]
fn nothing_is_queued_before_the_handshake_ends() {
    let mut s = ServerSession::new(cfg());
    s.send_ping(1);
    s.send_status(1, "status", "x", "y");
    assert_eq!(s.take_output(), None);
    assert_eq!(s.bytes_out(), 0);
}

#[test]
fn ping_both_ways() {
    let mut p = Pair::new();
    p.connect();
    p.server.send_ping(777);
    assert!(p.server.ping_outstanding());
    p.pump();
    assert!(!p.server.ping_outstanding());
    let (packet, ts) = p.client.send_ping_request().unwrap();
    p.send(ClientSessionResult::OutboundResponse(packet));
    assert!(p
        .client_events
        .contains(&ClientSessionEvent::PingResponseReceived { timestamp: ts }));
}

#[test]
fn bad_chunk_sizes_kill_the_session() {
    for size in [0u32, 0x8000_0000, 0x0100_0000] {
        let mut s = connected_server();
        let msg = encode_message(CSID_CONTROL, 0, 1, 0, &size.to_be_bytes(), 128);
        let err = s.handle_input(&msg, &mut Vec::new()).unwrap_err();
        assert_eq!(err, SessionError::Chunk(ChunkError::BadChunkSize(size)));
        assert_eq!(s.handle_input(b"", &mut Vec::new()), Err(err));
    }
}

#[test]
fn huge_message_header_is_rejected() {
    let mut s = connected_server();
    let header = [3u8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0];
    let err = s.handle_input(&header, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "chunk header announces a 16777215-byte message, max_message is 1048576"
    );
}

#[test]
fn interleaved_chunks_from_a_hand_built_stream() {
    let mut s = connected_server();
    let mut ev = Vec::new();
    s.handle_input(
        &encode_message(2, 0, 1, 0, &4096u32.to_be_bytes(), 128),
        &mut ev,
    )
    .unwrap();
    let video: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let whole = encode_message(20, 100, 9, 1, &video, 4096);
    let (first, rest) = whole.split_at(12 + 4096);
    let mut input = first.to_vec();
    input.extend_from_slice(&encode_message(21, 90, 8, 1, b"aac", 4096));
    input.extend_from_slice(rest);
    s.handle_input(&input, &mut ev).unwrap();
    assert_eq!(
        ev,
        vec![
            SessionEvent::Audio {
                timestamp: 90,
                payload: Bytes::from_static(b"aac")
            },
            SessionEvent::Video {
                timestamp: 100,
                payload: Bytes::from(video)
            },
        ]
    );
}

#[test]
fn command_rules() {
    // Before connect only connect is allowed.
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    let err = s
        .handle_input(
            &command(0, "createStream", 2.0, Value::Null, vec![]),
            &mut Vec::new(),
        )
        .unwrap_err();
    assert!(matches!(err, SessionError::Protocol(_)));

    let mut s = connected_server();
    let mut ev = Vec::new();
    let err = s
        .handle_input(&command(0, "connect", 1.0, Value::Null, vec![]), &mut ev)
        .unwrap_err();
    assert_eq!(err.to_string(), "RTMP protocol error: second connect");

    let mut s = connected_server();
    let mut input = Vec::new();
    for (name, txn) in [
        ("releaseStream", 2.0),
        ("FCPublish", 3.0),
        ("createStream", 4.0),
        ("_checkbw", 0.0),
        ("getStreamLength", 5.0),
        ("someUnknownCall", 6.0),
        ("FCUnpublish", 0.0),
        ("FCSubscribe", 7.0),
    ] {
        input.extend_from_slice(&command(0, name, txn, Value::Null, vec![amf::string("k")]));
    }
    // A publish with only the name, as some clients send it.
    input.extend_from_slice(&command(
        1,
        "publish",
        0.0,
        Value::Null,
        vec![amf::string("k")],
    ));
    input.extend_from_slice(&command(1, "closeStream", 0.0, Value::Null, vec![]));
    input.extend_from_slice(&command(
        0,
        "deleteStream",
        8.0,
        Value::Null,
        vec![Value::Number(1.0)],
    ));
    s.handle_input(&input, &mut ev).unwrap();
    assert_eq!(
        ev,
        vec![
            SessionEvent::Publish(PublishRequest {
                stream_id: 1,
                name: "k".into(),
                args: String::new(),
                kind: "live".into(),
            }),
            SessionEvent::CloseStream { stream_id: 1 },
            SessionEvent::CloseStream { stream_id: 1 },
        ]
    );
    let answers: Vec<(String, f64)> = sent_commands(&drain(&mut s))
        .into_iter()
        .map(|(_, _, c)| (c.name, c.transaction_id))
        .collect();
    let expect = [
        ("_result", 2.0),
        ("onFCPublish", 0.0),
        ("_result", 3.0),
        ("_result", 4.0),
        ("_result", 5.0),
        ("onFCUnpublish", 0.0),
        ("onFCSubscribe", 0.0),
        ("_result", 7.0),
    ];
    let expect: Vec<(String, f64)> = expect.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    assert_eq!(answers, expect);
}

#[test]
fn create_stream_is_capped() {
    let mut s = connected_server();
    let mut ev = Vec::new();
    for i in 0..8 {
        s.handle_input(
            &command(0, "createStream", 2.0 + i as f64, Value::Null, vec![]),
            &mut ev,
        )
        .unwrap();
    }
    assert!(s
        .handle_input(
            &command(0, "createStream", 20.0, Value::Null, vec![]),
            &mut ev
        )
        .is_err());
}

#[test]
fn amf3_command_and_aggregate() {
    let mut s = connected_server();
    let mut ev = Vec::new();
    let mut body = vec![0u8];
    body.extend(
        Command {
            name: "play".into(),
            transaction_id: 0.0,
            object: Value::Null,
            args: vec![
                amf::string("x"),
                Value::Number(0.0),
                Value::Number(5.0),
                Value::Boolean(false),
            ],
        }
        .encode()
        .unwrap(),
    );
    s.handle_input(&encode_message(3, 0, 17, 1, &body, 128), &mut ev)
        .unwrap();
    assert_eq!(
        ev.pop(),
        Some(SessionEvent::Play(PlayRequest {
            stream_id: 1,
            name: "x".into(),
            args: String::new(),
            start: 0.0,
            duration: 5.0,
            reset: false,
        }))
    );
    let mut agg = Vec::new();
    for (t, ts, b) in [(9u8, 1000u32, &b"vv"[..]), (8, 1020, &b"a"[..])] {
        agg.push(t);
        agg.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        agg.extend_from_slice(&ts.to_be_bytes()[1..]);
        agg.extend_from_slice(&[0, 0, 0, 0]);
        agg.extend_from_slice(b);
        agg.extend_from_slice(&(11 + b.len() as u32).to_be_bytes());
    }
    s.handle_input(&encode_message(4, 50, 22, 1, &agg, 128), &mut ev)
        .unwrap();
    assert_eq!(
        ev,
        vec![
            SessionEvent::Video {
                timestamp: 50,
                payload: Bytes::from_static(b"vv")
            },
            SessionEvent::Audio {
                timestamp: 70,
                payload: Bytes::from_static(b"a")
            },
        ]
    );
}

#[test]
fn play_and_publish_answers() {
    let mut s = connected_server();
    s.accept_play(1);
    s.reject_publish(1, "NetStream.Publish.BadName", "Already publishing");
    s.send_status(1, "status", "NetStream.Play.UnpublishNotify", "gone");
    s.send_stream_eof(1);
    let out = drain(&mut s);
    let cmds: Vec<(u32, String, Option<String>)> = sent_commands(&out)
        .into_iter()
        .map(|(_, sid, c)| {
            let code = c
                .args
                .first()
                .and_then(|i| amf::get_str(i, "code"))
                .map(String::from);
            (sid, c.name, code)
        })
        .collect();
    let code = |c: &str| Some(c.to_string());
    assert_eq!(
        cmds,
        vec![
            (1, "onStatus".to_string(), code("NetStream.Play.Reset")),
            (1, "onStatus".to_string(), code("NetStream.Play.Start")),
            (1, "onStatus".to_string(), code("NetStream.Publish.BadName")),
            (
                1,
                "onStatus".to_string(),
                code("NetStream.Play.UnpublishNotify")
            ),
        ]
    );
    // StreamBegin first, |RtmpSampleAccess after Play.Start, StreamEOF last.
    let begin = encode_message(CSID_CONTROL, 0, 4, 0, &[0, 0, 0, 0, 0, 1], 4096);
    assert_eq!(&out[..begin.len()], &begin[..]);
    let eof = encode_message(CSID_CONTROL, 0, 4, 0, &[0, 1, 0, 0, 0, 1], 4096);
    assert_eq!(&out[out.len() - eof.len()..], &eof[..]);
    let access = amf::encode(&[
        amf::string("|RtmpSampleAccess"),
        Value::Boolean(true),
        Value::Boolean(true),
    ])
    .unwrap();
    assert!(out.windows(access.len()).any(|w| w == &access[..]));
}

#[test]
fn media_before_connect_is_ignored_and_garbage_is_an_error() {
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    let mut ev = Vec::new();
    s.handle_input(&encode_message(6, 0, 8, 1, b"early", 128), &mut ev)
        .unwrap();
    assert!(ev.is_empty());

    let mut s = ServerSession::new(cfg());
    let err = s.handle_input(b"GET / HTTP/1.1\r\n", &mut ev).unwrap_err();
    assert!(matches!(err, SessionError::Handshake(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "handshake C0 is 71, only plain RTMP (3) is supported"
    );

    let mut s = connected_server();
    let err = s.handle_input(&[0xC9, 0], &mut ev).unwrap_err();
    assert_eq!(err, SessionError::Chunk(ChunkError::NoPreviousHeader(9)));
}

/// Writes seed inputs for the fuzz targets. Run with `--ignored` to refresh them.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut p = Pair::new();
    p.publish("seed?k=v");
    let r = p
        .client
        .publish_video_data(
            Bytes::from(vec![0x17u8; 9000]),
            RtmpTimestamp::new(40),
            false,
        )
        .unwrap();
    p.send(r);
    let publish = p.wire.clone();
    let mut q = Pair::new();
    q.connect();
    let r = q.client.request_playback("seed".to_string()).unwrap();
    q.send(r);
    let play = q.wire.clone();
    let handshake_len = 1 + 1536 + 1536;
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    // server_session: the first byte picks the mode; even = raw bytes in 128-byte pieces,
    // odd = a valid handshake first. chunk_reader: the first byte 0 keeps chunk size 128.
    let with = |mode: u8, data: &[u8]| [&[mode][..], data].concat();
    write("server_session", "publish_raw", &with(0xFE, &publish));
    write("server_session", "play_raw", &with(0xFE, &play));
    write(
        "server_session",
        "publish",
        &with(0xFF, &publish[handshake_len..]),
    );
    write(
        "server_session",
        "play",
        &with(0x01, &play[handshake_len..]),
    );
    write("handshake", "publish", &publish[..handshake_len + 40]);
    write(
        "chunk_reader",
        "publish",
        &with(0, &publish[handshake_len..]),
    );
    write("chunk_reader", "play", &with(0, &play[handshake_len..]));
    let connect = Command {
        name: "connect".into(),
        transaction_id: 1.0,
        object: amf::object(&[
            ("app", amf::string("live")),
            ("tcUrl", amf::string("rtmp://h/live")),
        ]),
        args: vec![],
    }
    .encode()
    .unwrap();
    write("amf0", "connect", &connect);
}
