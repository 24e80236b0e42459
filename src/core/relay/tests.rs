//! The push session driven against our own ServerSession (both sans-I/O, in memory), against
//! a scripted server for what ours never sends (another stream id, a tiny chunk size,
//! interleaved chunks, pings), and against hostile bytes.
use super::*;
use crate::config::relay::parse_push;
use crate::hub::{FrameKind, Hub, Outbox, OutboxLimits, StreamKey};
use crate::protocol::amf::{self, Command, Value};
use crate::protocol::chunk_writer::{encode_message, CSID_COMMAND, CSID_CONTROL, CSID_VIDEO};
use crate::protocol::control::{event, user_control};
use crate::protocol::handshake::{HandshakeProgress, ServerHandshake};
use crate::protocol::message::{msg_type, RawMessage};
use crate::protocol::{ChunkReader, ServerSession, SessionConfig, SessionEvent};
use bytes::{Bytes, BytesMut};

fn config(args: &[&str]) -> PushConfig {
    PushConfig {
        params: PushParams::new(&parse_push("push", args).unwrap(), "live", "cam"),
        chunk_size: 4096,
        ack_window: 5_000_000,
        max_message: 1 << 20,
    }
}

pub(super) fn server() -> ServerSession {
    ServerSession::new(SessionConfig {
        chunk_size: 4096,
        ack_window: 5_000_000,
        max_message: 1 << 20,
        max_streams: 8,
    })
}

/// How the test server answers requests.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Accept,
    RefuseConnect,
    RefusePublish,
}

struct Wire {
    push: PushSession,
    server: ServerSession,
    push_events: Vec<PushEvent>,
    seen: Vec<SessionEvent>,
    answer: Answer,
    /// Bytes per delivery in each direction (1: a byte at a time).
    piece: usize,
    /// Everything the server sent, for fuzz seeds.
    from_server: Vec<u8>,
}

impl Wire {
    fn new(args: &[&str], answer: Answer, piece: usize) -> Wire {
        Wire {
            push: PushSession::new(config(args)).unwrap(),
            server: server(),
            push_events: Vec::new(),
            seen: Vec::new(),
            answer,
            piece,
            from_server: Vec::new(),
        }
    }

    /// Moves bytes both ways until both sides are quiet.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(b) = self.push.take_output() {
                moved = true;
                let mut events = Vec::new();
                for p in b.chunks(self.piece) {
                    self.server.handle_input(p, &mut events).unwrap();
                }
                for ev in events {
                    match &ev {
                        SessionEvent::Connect(_) if self.answer == Answer::RefuseConnect => {
                            self.server.reject_connect("go away")
                        }
                        SessionEvent::Connect(_) => self.server.accept_connect(),
                        SessionEvent::Publish(r) if self.answer == Answer::RefusePublish => self
                            .server
                            .reject_publish(r.stream_id, "NetStream.Publish.BadName", "taken"),
                        SessionEvent::Publish(r) => self.server.accept_publish(r.stream_id),
                        _ => {}
                    }
                    self.seen.push(ev);
                }
            }
            while let Some(b) = self.server.take_output() {
                moved = true;
                self.from_server.extend_from_slice(&b);
                for p in b.chunks(self.piece) {
                    self.push.handle_input(p, &mut self.push_events).unwrap();
                }
            }
            if !moved {
                return;
            }
        }
    }
}

#[test]
fn publishes_to_our_server() {
    for piece in [1, 100, 1 << 16] {
        let mut w = Wire::new(&["rtmp://127.0.0.1:1936/app"], Answer::Accept, piece);
        w.pump();
        assert_eq!(w.push_events, vec![PushEvent::Ready { stream_id: 1 }]);
        assert_eq!(w.push.ready_stream(), Some(1));
        let SessionEvent::Connect(info) = &w.seen[0] else {
            panic!("{:?}", w.seen)
        };
        assert_eq!(info.app, "app");
        assert_eq!(info.tc_url, "rtmp://127.0.0.1:1936/app");
        assert_eq!(info.flash_ver, FLASH_VER);
        let publish = w
            .seen
            .iter()
            .find_map(|e| match e {
                SessionEvent::Publish(r) => Some(r.clone()),
                _ => None,
            })
            .expect("a publish");
        assert_eq!(
            (publish.name.as_str(), publish.kind.as_str()),
            ("cam", "live")
        );
        assert_eq!(publish.stream_id, 1);
        // The server reads our messages with the chunk size we announced: a big frame
        // chunked at 4096 (as the hub chunks it) arrives whole.
        let frame: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let wire = encode_message(CSID_VIDEO, 40, msg_type::VIDEO, 1, &frame, 4096);
        let mut events = Vec::new();
        w.server.handle_input(&wire, &mut events).unwrap();
        assert_eq!(
            events,
            vec![SessionEvent::Video {
                timestamp: 40,
                payload: Bytes::from(frame)
            }]
        );
    }
}

#[test]
fn refusals_are_failures_with_the_servers_words() {
    let mut w = Wire::new(&["rtmp://h/app"], Answer::RefuseConnect, 4096);
    w.pump();
    assert_eq!(
        w.push_events,
        vec![PushEvent::Failed(
            "connect refused: NetConnection.Connect.Rejected: go away".into()
        )]
    );
    let mut w = Wire::new(&["rtmp://h/app"], Answer::RefusePublish, 4096);
    w.pump();
    assert_eq!(
        w.push_events,
        vec![PushEvent::Failed("NetStream.Publish.BadName: taken".into())]
    );
    assert_eq!(w.push.ready_stream(), None);
    // After a failure the session ignores input.
    let mut ev = Vec::new();
    w.push.handle_input(b"anything", &mut ev).unwrap();
    assert!(ev.is_empty());
}

/// A server written out message by message: our handshake, our chunk reader, and replies
/// built with the chunk writer.
pub(super) struct Scripted {
    hs: ServerHandshake,
    pub(super) reader: ChunkReader,
    buf: BytesMut,
    pub(super) chunk_size: u32,
    pub(super) got: Vec<RawMessage>,
}

impl Scripted {
    pub(super) fn new() -> Scripted {
        Scripted {
            hs: ServerHandshake::new(),
            reader: ChunkReader::new(1 << 20, 8),
            buf: BytesMut::new(),
            chunk_size: 128,
            got: Vec::new(),
        }
    }

    /// Takes what the client session sent; returns handshake bytes to answer with.
    pub(super) fn take<R: Role>(&mut self, push: &mut ClientSession<R>) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = push.take_output() {
            let mut rest = b.to_vec();
            if !self.hs.is_done() {
                match self.hs.feed(&b, &mut out).unwrap() {
                    HandshakeProgress::InProgress => continue,
                    HandshakeProgress::Done { remaining } => rest = remaining,
                }
            }
            self.buf.extend_from_slice(&rest);
            while let Some(m) = self.reader.read(&mut self.buf).unwrap() {
                if m.type_id == msg_type::SET_CHUNK_SIZE {
                    let size = u32::from_be_bytes(m.payload[..4].try_into().unwrap());
                    self.reader.set_chunk_size(size).unwrap();
                }
                self.got.push(m);
            }
        }
        out
    }

    pub(super) fn commands(&self) -> Vec<(String, f64, u32)> {
        self.got
            .iter()
            .filter(|m| m.type_id == msg_type::COMMAND_AMF0)
            .map(|m| {
                let c = Command::decode(&m.payload).unwrap();
                (c.name, c.transaction_id, m.stream_id)
            })
            .collect()
    }

    pub(super) fn reply(&self, stream_id: u32, name: &str, txn: f64, args: Vec<Value>) -> Bytes {
        let cmd = Command {
            name: name.into(),
            transaction_id: txn,
            object: Value::Null,
            args,
        };
        let body = cmd.encode().unwrap();
        encode_message(
            CSID_COMMAND,
            0,
            msg_type::COMMAND_AMF0,
            stream_id,
            &body,
            self.chunk_size,
        )
    }
}

fn feed(push: &mut PushSession, bytes: &[u8]) -> Vec<PushEvent> {
    let mut ev = Vec::new();
    push.handle_input(bytes, &mut ev).unwrap();
    ev
}

#[test]
fn scripted_server_with_another_stream_id_tiny_chunks_and_pings() {
    let mut push = PushSession::new(config(&["rtmp://h/app", "playPath=key"])).unwrap();
    let mut s = Scripted::new();
    let hs = s.take(&mut push);
    assert!(feed(&mut push, &hs).is_empty());
    s.take(&mut push);
    assert!(push.handshake_done());
    assert_eq!(s.reader.chunk_size(), 4096, "SetChunkSize comes first");
    assert_eq!(s.commands(), vec![("connect".to_string(), 1.0, 0)]);

    // The server now uses 1-byte chunks and a small window, and interleaves two messages on
    // two chunk streams (what makes rml's deserializer panic).
    s.chunk_size = 1;
    let mut wire = encode_message(
        CSID_CONTROL,
        0,
        msg_type::SET_CHUNK_SIZE,
        0,
        &1u32.to_be_bytes(),
        128,
    )
    .to_vec();
    wire.extend_from_slice(&encode_message(
        CSID_CONTROL,
        0,
        msg_type::WINDOW_ACK_SIZE,
        0,
        &1000u32.to_be_bytes(),
        1,
    ));
    let ok = s.reply(
        0,
        "_result",
        1.0,
        vec![amf::status_info(
            "status",
            "NetConnection.Connect.Success",
            "",
        )],
    );
    let bw = encode_message(
        6,
        0,
        msg_type::COMMAND_AMF0,
        0,
        &Command {
            name: "onBWDone".into(),
            transaction_id: 0.0,
            object: Value::Null,
            args: vec![],
        }
        .encode()
        .unwrap(),
        1,
    );
    // Chunks of 1 byte: a one-byte basic header then one payload byte. Interleave them.
    let a = split_chunks(&ok, 1);
    let b = split_chunks(&bw, 1);
    let n = a.len().max(b.len());
    for i in 0..n {
        if let Some(c) = a.get(i) {
            wire.extend_from_slice(c);
        }
        if let Some(c) = b.get(i) {
            wire.extend_from_slice(c);
        }
    }
    assert!(feed(&mut push, &wire).is_empty());
    s.take(&mut push);
    let names: Vec<String> = s.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        ["connect", "releaseStream", "FCPublish", "createStream"]
    );
    // More than the 1000-byte window has come in: an acknowledgement with the total.
    let acks: Vec<u32> = s
        .got
        .iter()
        .filter(|m| m.type_id == msg_type::ACK)
        .map(|m| u32::from_be_bytes(m.payload[..4].try_into().unwrap()))
        .collect();
    assert_eq!(acks, vec![push.bytes_in() as u32]);

    // createStream answered with 7; a ping on the way.
    let mut wire = s
        .reply(0, "_result", 4.0, vec![Value::Number(7.0)])
        .to_vec();
    wire.extend_from_slice(&encode_message(
        CSID_CONTROL,
        0,
        msg_type::USER_CONTROL,
        0,
        &user_control(event::PING_REQUEST, 0xABCD),
        1,
    ));
    assert!(feed(&mut push, &wire).is_empty());
    s.take(&mut push);
    let publish = s.got.iter().find(|m| {
        m.type_id == msg_type::COMMAND_AMF0
            && Command::decode(&m.payload).unwrap().name == "publish"
    });
    let publish = publish.expect("publish sent");
    assert_eq!(publish.stream_id, 7);
    let cmd = Command::decode(&publish.payload).unwrap();
    assert_eq!(amf::as_str(cmd.args.first()), Some("key"));
    assert_eq!(amf::as_str(cmd.args.get(1)), Some("live"));
    let pong = user_control(event::PING_RESPONSE, 0xABCD);
    assert!(s
        .got
        .iter()
        .any(|m| m.type_id == msg_type::USER_CONTROL && m.payload[..] == pong));

    let start = s.reply(
        7,
        "onStatus",
        0.0,
        vec![amf::status_info("status", "NetStream.Publish.Start", "go")],
    );
    assert_eq!(
        feed(&mut push, &start),
        vec![PushEvent::Ready { stream_id: 7 }]
    );
    assert_eq!(push.ready_stream(), Some(7));
    // Later errors end it.
    let bad = s.reply(
        7,
        "onStatus",
        0.0,
        vec![amf::status_info(
            "error",
            "NetStream.Publish.Denied",
            "bye\n",
        )],
    );
    assert_eq!(
        feed(&mut push, &bad),
        vec![PushEvent::Failed("NetStream.Publish.Denied: bye\\n".into())]
    );
}

/// The chunks of a message encoded with chunk size 1 (fmt 0 header + 1 byte, then
/// fmt 3 header + 1 byte each).
pub(super) fn split_chunks(msg: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    assert_eq!(chunk, 1);
    let first = 12 + 1;
    let mut out = vec![msg[..first.min(msg.len())].to_vec()];
    let mut at = first;
    while at < msg.len() {
        out.push(msg[at..at + 2].to_vec());
        at += 2;
    }
    out
}

#[test]
fn create_stream_without_an_id_fails() {
    let mut push = PushSession::new(config(&["rtmp://h/app"])).unwrap();
    let mut s = Scripted::new();
    let hs = s.take(&mut push);
    feed(&mut push, &hs);
    s.take(&mut push);
    feed(&mut push, &s.reply(0, "_result", 1.0, vec![]));
    for bad in [
        Value::Null,
        Value::Number(0.0),
        Value::Number(f64::NAN),
        Value::Number(1e12),
    ] {
        let mut p2 = PushSession::new(config(&["rtmp://h/app"])).unwrap();
        let mut s2 = Scripted::new();
        let hs = s2.take(&mut p2);
        feed(&mut p2, &hs);
        s2.take(&mut p2);
        feed(&mut p2, &s2.reply(0, "_result", 1.0, vec![]));
        let ev = feed(&mut p2, &s2.reply(0, "_result", 4.0, vec![bad.clone()]));
        assert_eq!(
            ev,
            vec![PushEvent::Failed(
                "createStream answered without a stream id".into()
            )],
            "{bad:?}"
        );
    }
    // _error to releaseStream is harmless; to createStream it is not.
    let e = |txn| s.reply(0, "_error", txn, vec![amf::status_info("error", "X", "no")]);
    assert!(feed(&mut push, &e(2.0)).is_empty());
    assert_eq!(
        feed(&mut push, &e(4.0)),
        vec![PushEvent::Failed("createStream refused: X: no".into())]
    );
}

#[test]
fn hostile_servers_never_panic() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut push = PushSession::new(config(&["rtmp://h/app"])).unwrap();
        let mut s = Scripted::new();
        let hs = s.take(&mut push);
        let mut ev = Vec::new();
        let garbage: Vec<u8> = (0..(rnd() % 4000)).map(|_| rnd() as u8).collect();
        let input = if round % 2 == 0 {
            // Garbage as the handshake itself.
            garbage
        } else {
            let mut v = hs.clone();
            v.extend_from_slice(&garbage);
            v
        };
        for piece in input.chunks(1 + (rnd() % 700) as usize) {
            if push.handle_input(piece, &mut ev).is_err() {
                break;
            }
        }
        while push.take_output().is_some() {}
    }
}

/// The recorded server side of a whole session (the fuzz seed), mutated past the handshake:
/// reaches the states plain garbage cannot.
#[test]
fn mutated_server_sessions_never_panic() {
    let seed = include_bytes!("../fuzz/seeds/push_session/publish");
    let body = &seed[1..];
    let mut x: u64 = 0x0dd_ba11;
    let mut rnd = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut ready = 0;
    for _ in 0..3000 {
        let mut v = body.to_vec();
        for _ in 0..1 + rnd(4) {
            let at = 3073 + rnd(v.len() - 3073);
            match rnd(3) {
                0 => v[at] = rnd(256) as u8,
                1 => {
                    v.remove(at);
                }
                _ => v.insert(at, rnd(256) as u8),
            }
        }
        let mut push = PushSession::new(config(&["rtmp://h/app"])).unwrap();
        let mut ev = Vec::new();
        for piece in v.chunks(1 + rnd(600)) {
            if push.handle_input(piece, &mut ev).is_err() {
                break;
            }
            while push.take_output().is_some() {}
        }
        ready += ev
            .iter()
            .filter(|e| matches!(e, PushEvent::Ready { .. }))
            .count();
    }
    assert!(
        ready > 100,
        "mutations too destructive to test much: {ready}"
    );
}

#[test]
fn a_relay_subscriber_gets_what_a_late_player_gets_without_notices() {
    // The hub, a publisher, and a relay that subscribes late with stream id 3.
    let mut hub = Hub::new();
    let key = StreamKey {
        server: 0,
        app: "live".into(),
        name: "cam".into(),
    };
    hub.publish(&key, 1, 4096, true, &mut |_| {}).unwrap();
    let mut meta = vec![0x02, 0x00, 13];
    meta.extend_from_slice(b"@setDataFrame");
    meta.extend_from_slice(&[0x02, 0x00, 10]);
    meta.extend_from_slice(b"onMetaData");
    meta.extend_from_slice(&[0x03, 0x00, 0x00, 0x09]);
    let frames: Vec<(FrameKind, Vec<u8>)> = vec![
        (FrameKind::Data, meta),
        (FrameKind::Video, vec![0x17, 0x00, 0, 0, 0, 1, 0x64]),
        (FrameKind::Audio, vec![0xaf, 0x00, 0x12, 0x10]),
        (FrameKind::Video, vec![0x27, 0x01, 0, 0, 0, 1]),
        (FrameKind::Video, vec![0x17, 0x01, 0, 0, 0, 2]),
        (FrameKind::Audio, vec![0xaf, 0x01, 3]),
    ];
    for (i, (kind, p)) in frames.iter().enumerate() {
        hub.frame(
            &key,
            *kind,
            i as u32 * 40,
            Bytes::from(p.clone()),
            &mut |_| {},
        );
    }
    assert_eq!(hub.info(&key).unwrap().chunk_size, 4096);

    // The relay's session reaches Ready against our server, through its outbox.
    let mut w = Wire::new(&["rtmp://h/app"], Answer::Accept, 4096);
    w.pump();
    assert_eq!(w.push.ready_stream(), Some(1));
    let outbox = Outbox::shared(9, OutboxLimits::default());
    outbox.borrow_mut().set_stream_id(3);
    hub.subscribe_relay(&key, 50, outbox.clone(), &mut |_| {})
        .unwrap();
    let info = hub.info(&key).unwrap();
    assert_eq!((info.players, info.relays), (0, 1));
    hub.frame(
        &key,
        FrameKind::Video,
        400,
        Bytes::from_static(&[0x27, 0x01, 0, 0, 0, 3]),
        &mut |_| {},
    );
    hub.unpublish(&key, 1, &mut |_| {});

    let mut buf = BytesMut::new();
    {
        let o = outbox.borrow();
        for s in o.slices(usize::MAX) {
            buf.extend_from_slice(s);
        }
    }
    let mut r = ChunkReader::new(1 << 20, 8);
    r.set_chunk_size(4096).unwrap();
    let mut got = Vec::new();
    while let Some(m) = r.read(&mut buf).unwrap() {
        got.push(m);
    }
    assert!(buf.is_empty());
    // Metadata, both sequence headers, the GOP from the last keyframe, the new frame: all on
    // stream 3; no StreamBegin/EOF or UnpublishNotify.
    let summary: Vec<(u8, u32, u32)> = got
        .iter()
        .map(|m| (m.type_id, m.timestamp, m.stream_id))
        .collect();
    assert_eq!(
        summary,
        vec![
            (msg_type::DATA_AMF0, 0, 3),
            (msg_type::VIDEO, 40, 3),
            (msg_type::AUDIO, 80, 3),
            (msg_type::VIDEO, 160, 3),
            (msg_type::AUDIO, 200, 3),
            (msg_type::VIDEO, 400, 3),
        ]
    );
    // The metadata went out as `onMetaData` (no `@setDataFrame`), which servers keep too.
    assert!(got[0].payload.starts_with(b"\x02\x00\x0aonMetaData"));
}

#[test]
fn bare_on_metadata_from_a_relay_is_kept_for_late_joiners() {
    let mut hub = Hub::new();
    let key = StreamKey {
        server: 0,
        app: "app".into(),
        name: "cam".into(),
    };
    hub.publish(&key, 1, 4096, false, &mut |_| {}).unwrap();
    let mut meta = vec![0x02, 0x00, 10];
    meta.extend_from_slice(b"onMetaData");
    meta.extend_from_slice(&[0x03, 0x00, 0x05, b'w', b'i', b'd', b't', b'h', 0x00]);
    meta.extend_from_slice(&640f64.to_be_bytes());
    meta.extend_from_slice(&[0x00, 0x00, 0x09]);
    hub.frame(
        &key,
        FrameKind::Data,
        0,
        Bytes::from(meta.clone()),
        &mut |_| {},
    );
    let late = Outbox::shared(2, OutboxLimits::default());
    let opts = crate::hub::PlayOptions {
        idle_streams: false,
        wait_video: false,
    };
    hub.play(&key, 2, late.clone(), 4096, opts, &mut |_| {})
        .unwrap();
    let queued: Vec<u8> = late.borrow().slices(8).flat_map(|s| s.to_vec()).collect();
    assert!(
        queued.ends_with(&meta),
        "the late player got the metadata first"
    );
    assert_eq!(
        hub.info(&key).unwrap().facts.video.map(|v| v.width),
        Some(640)
    );
}

/// Writes the `push_session` fuzz seed: what our server sends a relay, from the handshake to
/// the started publish, after the target's piece-size byte.
#[test]
#[ignore]
fn write_push_fuzz_seed() {
    let mut w = Wire::new(&["rtmp://h/app"], Answer::Accept, 1 << 16);
    w.pump();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/push_session");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = [&[0u8][..], &w.from_server].concat();
    std::fs::write(dir.join("publish"), seed).unwrap();
}
