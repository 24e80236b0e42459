//! The pull session driven against our own ServerSession and hub (a player's outbox carries
//! the stream to it, as in the shell), against a scripted server for what ours never sends
//! (media without Play.Start, aggregates, another stream id), and against hostile bytes.
use super::tests::{server, Scripted};
use super::*;
use crate::config::relay::parse_push;
use crate::hub::{FrameKind, Hub, Outbox, OutboxLimits, PlayOptions, SharedOutbox, StreamKey};
use crate::protocol::amf::{self, Command, Value};
use crate::protocol::chunk_writer::{
    encode_message, CSID_AUDIO, CSID_CONTROL, CSID_DATA, CSID_VIDEO,
};
use crate::protocol::control::{event, user_control, UserControl};
use crate::protocol::message::msg_type;
use crate::protocol::{ServerSession, SessionEvent};
use bytes::Bytes;

fn config(args: &[&str]) -> PullConfig {
    let mut all = vec!["rtmp://127.0.0.1:1936/origin"];
    all.extend_from_slice(args);
    let target = parse_push("pull", &all).unwrap();
    let (start, duration) = play_range(&target);
    PullConfig {
        params: RelayParams::for_pull(&target, "edge", "cam"),
        start,
        duration,
        buffer_ms: 5000,
        chunk_size: 4096,
        ack_window: 5_000_000,
        max_message: 1 << 20,
    }
}

fn key() -> StreamKey {
    StreamKey {
        server: 0,
        app: "origin".into(),
        name: "cam".into(),
    }
}

/// What an encoder publishes: metadata, both sequence headers, then a GOP.
fn frames() -> Vec<(FrameKind, u32, Vec<u8>)> {
    let mut meta = vec![0x02, 0x00, 13];
    meta.extend_from_slice(b"@setDataFrame");
    meta.extend_from_slice(&[0x02, 0x00, 10]);
    meta.extend_from_slice(b"onMetaData");
    meta.extend_from_slice(&[0x03, 0x00, 0x00, 0x09]);
    vec![
        (FrameKind::Data, 0, meta),
        (FrameKind::Video, 0, vec![0x17, 0x00, 0, 0, 0, 1, 0x64]),
        (FrameKind::Audio, 0, vec![0xaf, 0x00, 0x12, 0x10]),
        (FrameKind::Video, 40, vec![0x17, 0x01, 0, 0, 0, 1]),
        (FrameKind::Audio, 46, vec![0xaf, 0x01, 3]),
        (FrameKind::Video, 80, vec![0x27, 0x01, 0, 0, 0, 2]),
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Play,
    NotFound,
}

/// Our server with a hub that has `origin/cam` published; the pull's play becomes a hub
/// player whose outbox is what the pull reads.
struct Wire {
    pull: PullSession,
    server: ServerSession,
    hub: Hub,
    outbox: SharedOutbox,
    events: Vec<PullEvent>,
    seen: Vec<SessionEvent>,
    answer: Answer,
    piece: usize,
    /// Everything the server sent, for fuzz seeds.
    from_server: Vec<u8>,
}

impl Wire {
    fn new(cfg: PullConfig, answer: Answer, piece: usize) -> Wire {
        let mut hub = Hub::new();
        hub.publish(&key(), 1, 4096, false, &mut |_| {}).unwrap();
        for (kind, ts, p) in frames() {
            hub.frame(&key(), kind, ts, Bytes::from(p), &mut |_| {});
        }
        Wire {
            pull: PullSession::new(cfg).unwrap(),
            server: server(),
            hub,
            outbox: Outbox::shared(2, OutboxLimits::default()),
            events: Vec::new(),
            seen: Vec::new(),
            answer,
            piece,
            from_server: Vec::new(),
        }
    }

    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(b) = self.pull.take_output() {
                moved = true;
                let mut events = Vec::new();
                for p in b.chunks(self.piece) {
                    self.server.handle_input(p, &mut events).unwrap();
                }
                for ev in events {
                    match &ev {
                        SessionEvent::Connect(_) => self.server.accept_connect(),
                        SessionEvent::Play(r) if self.answer == Answer::NotFound => {
                            self.server.reject_play(
                                r.stream_id,
                                "NetStream.Play.StreamNotFound",
                                "No such stream",
                            )
                        }
                        SessionEvent::Play(r) => {
                            self.server.accept_play(r.stream_id);
                            self.server_output();
                            let opts = PlayOptions {
                                idle_streams: false,
                                wait_video: false,
                            };
                            let o = self.outbox.clone();
                            self.hub
                                .play(&key(), 2, o, 4096, opts, &mut |_| {})
                                .unwrap();
                        }
                        _ => {}
                    }
                    self.seen.push(ev);
                }
            }
            self.server_output();
            let bytes: Vec<u8> = {
                let mut o = self.outbox.borrow_mut();
                let v: Vec<u8> = o.slices(usize::MAX).flat_map(|s| s.to_vec()).collect();
                o.consume(v.len());
                v
            };
            if !bytes.is_empty() {
                moved = true;
                self.from_server.extend_from_slice(&bytes);
                for p in bytes.chunks(self.piece) {
                    self.pull.handle_input(p, &mut self.events).unwrap();
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// The session's own messages go ahead of the hub's, as conn.rs queues them.
    fn server_output(&mut self) {
        while let Some(b) = self.server.take_output() {
            self.outbox.borrow_mut().push_control(b);
        }
    }

    fn frames(&self) -> Vec<(FrameKind, u32, Bytes)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                PullEvent::Frame {
                    kind,
                    timestamp,
                    payload,
                } => Some((*kind, *timestamp, payload.clone())),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn plays_from_our_server_and_gets_what_a_late_player_gets() {
    for piece in [1, 100, 1 << 16] {
        let mut w = Wire::new(config(&[]), Answer::Play, piece);
        w.pump();
        assert_eq!(
            w.events.first(),
            Some(&PullEvent::Ready { stream_id: 1 }),
            "{piece}"
        );
        assert_eq!(w.pull.ready_stream(), Some(1));
        let SessionEvent::Connect(info) = &w.seen[0] else {
            panic!("{:?}", w.seen)
        };
        assert_eq!(info.app, "origin");
        assert_eq!(info.tc_url, "rtmp://127.0.0.1:1936/origin");
        assert_eq!(info.flash_ver, PULL_FLASH_VER);
        let play = w
            .seen
            .iter()
            .find_map(|e| match e {
                SessionEvent::Play(r) => Some(r.clone()),
                _ => None,
            })
            .expect("a play");
        assert_eq!(
            (
                play.name.as_str(),
                play.stream_id,
                play.start,
                play.duration
            ),
            ("cam", 1, -2.0, -1.0)
        );
        assert_eq!(w.server.buffer_length_ms(), Some(5000), "relay_buffer");
        // Metadata (as `onMetaData`), both sequence headers and the GOP, in order, with
        // the publisher's timestamps; the server's |RtmpSampleAccess is not a frame.
        let got: Vec<(FrameKind, u32)> = w.frames().iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            got,
            vec![
                (FrameKind::Data, 0),
                (FrameKind::Video, 0),
                (FrameKind::Audio, 0),
                (FrameKind::Video, 40),
                (FrameKind::Audio, 46),
                (FrameKind::Video, 80),
            ]
        );
        let sent = frames();
        assert!(w.frames()[0].2.starts_with(b"\x02\x00\x0aonMetaData"));
        for (i, f) in w.frames().iter().enumerate().skip(1) {
            assert_eq!(f.2[..], sent[i].2[..], "frame {i} arrives unchanged");
        }
        // Frames published later arrive as they come.
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut big_frame = vec![0x27, 0x01, 0, 0, 0];
        big_frame.extend_from_slice(&big);
        w.hub.frame(
            &key(),
            FrameKind::Video,
            120,
            Bytes::from(big_frame.clone()),
            &mut |_| {},
        );
        w.pump();
        let last = w.frames().pop().unwrap();
        assert_eq!(
            (last.0, last.1, &last.2[..]),
            (FrameKind::Video, 120, &big_frame[..])
        );
    }
}

#[test]
fn pings_get_answers() {
    let mut w = Wire::new(config(&[]), Answer::Play, 4096);
    w.pump();
    let before = w.pull.bytes_in();
    w.pull.ping(1234);
    w.pump();
    // Our server answered with a ping response: 6 bytes of body behind a chunk header.
    assert!(
        w.pull.bytes_in() >= before + 6 + 12,
        "no answer to the ping"
    );
    assert_eq!(w.pull.ready_stream(), Some(1));
    // Before the handshake is done a ping would corrupt it: nothing is queued.
    let mut fresh = PullSession::new(config(&[])).unwrap();
    let c0c1 = fresh.take_output().unwrap();
    fresh.ping(1);
    assert!(fresh.take_output().is_none());
    assert_eq!(c0c1.len(), 1537);
}

#[test]
fn options_name_the_remote_stream_and_range() {
    let mut w = Wire::new(
        config(&["app=other", "playPath=cam", "live=1", "flashVer=X"]),
        Answer::Play,
        4096,
    );
    w.pump();
    let SessionEvent::Connect(info) = &w.seen[0] else {
        panic!("{:?}", w.seen)
    };
    assert_eq!((info.app.as_str(), info.flash_ver.as_str()), ("other", "X"));
    let play = w.seen.iter().find_map(|e| match e {
        SessionEvent::Play(r) => Some(r.clone()),
        _ => None,
    });
    let play = play.expect("a play");
    assert_eq!((play.name.as_str(), play.start), ("cam", -1.0));
}

#[test]
fn stream_not_found_is_a_failure_in_the_servers_words() {
    let mut w = Wire::new(config(&[]), Answer::NotFound, 4096);
    w.pump();
    assert_eq!(
        w.events,
        vec![PullEvent::Failed(
            "NetStream.Play.StreamNotFound: No such stream".into()
        )]
    );
    assert_eq!(w.pull.ready_stream(), None);
    let mut ev = Vec::new();
    w.pull.handle_input(b"anything", &mut ev).unwrap();
    assert!(ev.is_empty(), "input after a failure is ignored");
}

fn feed(pull: &mut PullSession, bytes: &[u8]) -> Vec<PullEvent> {
    let mut ev = Vec::new();
    pull.handle_input(bytes, &mut ev).unwrap();
    ev
}

/// Up to the play on stream 5 of a scripted server.
fn scripted_to_play(args: &[&str]) -> (PullSession, Scripted) {
    let mut pull = PullSession::new(config(args)).unwrap();
    let mut s = Scripted::new();
    let hs = s.take(&mut pull);
    assert!(feed(&mut pull, &hs).is_empty());
    s.take(&mut pull);
    assert!(pull.handshake_done());
    assert!(feed(&mut pull, &s.reply(0, "_result", 1.0, vec![])).is_empty());
    s.take(&mut pull);
    let names: Vec<String> = s.commands().into_iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        ["connect", "createStream"],
        "a player asks for no more"
    );
    let created = s.reply(0, "_result", 4.0, vec![Value::Number(5.0)]);
    assert!(feed(&mut pull, &created).is_empty());
    s.take(&mut pull);
    (pull, s)
}

#[test]
fn scripted_server_sends_media_without_play_start() {
    let (mut pull, mut s) = scripted_to_play(&["start=1000", "stop=3000"]);
    let play = s
        .got
        .iter()
        .find(|m| {
            m.type_id == msg_type::COMMAND_AMF0
                && Command::decode(&m.payload).unwrap().name == "play"
        })
        .expect("play sent");
    assert_eq!(play.stream_id, 5);
    let cmd = Command::decode(&play.payload).unwrap();
    assert_eq!(amf::as_str(cmd.args.first()), Some("cam"));
    assert_eq!(amf::as_number(cmd.args.get(1)), Some(1000.0));
    assert_eq!(amf::as_number(cmd.args.get(2)), Some(2000.0));
    let buffer = s
        .got
        .iter()
        .filter(|m| m.type_id == msg_type::USER_CONTROL)
        .find_map(|m| crate::protocol::control::parse_user_control(&m.payload));
    assert_eq!(
        buffer,
        Some(UserControl::SetBufferLength {
            stream_id: 5,
            buffer_ms: 5000
        })
    );

    // Sample access alone proves nothing; the first frame does, and comes after Ready.
    let access = amf::encode(&[
        amf::string("|RtmpSampleAccess"),
        Value::Boolean(true),
        Value::Boolean(true),
    ])
    .unwrap();
    let wire = encode_message(CSID_DATA, 0, msg_type::DATA_AMF0, 5, &access, 128);
    assert!(feed(&mut pull, &wire).is_empty());
    let mut wire =
        encode_message(CSID_VIDEO, 1000, msg_type::VIDEO, 5, &[0x17, 0, 1], 128).to_vec();
    // An aggregate of audio and video, and an AMF3 data message.
    let mut agg = Vec::new();
    for (t, ts, body) in [(8u8, 0u32, &b"\xaf\x01a"[..]), (9, 20, &b"\x27\x01v"[..])] {
        agg.push(t);
        agg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        agg.extend_from_slice(&ts.to_be_bytes()[1..]);
        agg.extend_from_slice(&[0, 0, 0, 0]);
        agg.extend_from_slice(body);
        agg.extend_from_slice(&((body.len() + 11) as u32).to_be_bytes());
    }
    wire.extend_from_slice(&encode_message(
        CSID_AUDIO,
        1040,
        msg_type::AGGREGATE,
        5,
        &agg,
        128,
    ));
    wire.extend_from_slice(&encode_message(
        CSID_DATA,
        1050,
        msg_type::DATA_AMF3,
        5,
        b"\x00\x02\x00\x01x",
        128,
    ));
    // A ping on the way.
    wire.extend_from_slice(&encode_message(
        CSID_CONTROL,
        0,
        msg_type::USER_CONTROL,
        0,
        &user_control(event::PING_REQUEST, 77),
        128,
    ));
    let ev = feed(&mut pull, &wire);
    let f = |kind, timestamp, payload: &'static [u8]| PullEvent::Frame {
        kind,
        timestamp,
        payload: Bytes::from_static(payload),
    };
    assert_eq!(
        ev,
        vec![
            PullEvent::Ready { stream_id: 5 },
            f(FrameKind::Video, 1000, b"\x17\x00\x01"),
            f(FrameKind::Audio, 1040, b"\xaf\x01a"),
            f(FrameKind::Video, 1060, b"\x27\x01v"),
            f(FrameKind::Data, 1050, b"\x02\x00\x01x"),
        ]
    );
    assert_eq!(pull.ready_stream(), Some(5));
    s.take(&mut pull);
    let pong = user_control(event::PING_RESPONSE, 77);
    assert!(s
        .got
        .iter()
        .any(|m| m.type_id == msg_type::USER_CONTROL && m.payload[..] == pong));
    // A late Play.Start changes nothing; an error status ends it.
    let start = s.reply(
        5,
        "onStatus",
        0.0,
        vec![amf::status_info("status", "NetStream.Play.Start", "")],
    );
    assert!(feed(&mut pull, &start).is_empty());
    let eof = s.reply(
        5,
        "onStatus",
        0.0,
        vec![amf::status_info("error", "NetStream.Play.Failed", "gone")],
    );
    assert_eq!(
        feed(&mut pull, &eof),
        vec![PullEvent::Failed("NetStream.Play.Failed: gone".into())]
    );
}

#[test]
fn media_before_the_play_is_ignored_and_play_errors_are_named() {
    let mut pull = PullSession::new(config(&[])).unwrap();
    let mut s = Scripted::new();
    let hs = s.take(&mut pull);
    feed(&mut pull, &hs);
    s.take(&mut pull);
    let early = encode_message(CSID_VIDEO, 0, msg_type::VIDEO, 1, &[0x17, 0, 1], 128);
    assert!(feed(&mut pull, &early).is_empty());
    feed(&mut pull, &s.reply(0, "_result", 1.0, vec![]));
    feed(
        &mut pull,
        &s.reply(0, "_result", 4.0, vec![Value::Number(1.0)]),
    );
    let refused = s.reply(0, "_error", 5.0, vec![amf::status_info("error", "X", "no")]);
    assert_eq!(
        feed(&mut pull, &refused),
        vec![PullEvent::Failed("play refused: X: no".into())]
    );
}

#[test]
fn hostile_servers_never_panic() {
    let mut x: u64 = 0x5eed_1234_9876_0001;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut pull = PullSession::new(config(&[])).unwrap();
        let mut s = Scripted::new();
        let hs = s.take(&mut pull);
        let mut ev = Vec::new();
        let garbage: Vec<u8> = (0..(rnd() % 4000)).map(|_| rnd() as u8).collect();
        let input = if round % 2 == 0 {
            garbage
        } else {
            [hs.clone(), garbage].concat()
        };
        for piece in input.chunks(1 + (rnd() % 700) as usize) {
            if pull.handle_input(piece, &mut ev).is_err() {
                break;
            }
        }
        while pull.take_output().is_some() {}
    }
}

/// The recorded server side of a whole pull (the fuzz seed), mutated past the handshake.
#[test]
fn mutated_server_sessions_never_panic() {
    let seed = include_bytes!("../fuzz/seeds/pull_session/play");
    let body = &seed[1..];
    let mut x: u64 = 0xfeed_f00d;
    let mut rnd = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let (mut ready, mut frames) = (0, 0);
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
        let mut pull = PullSession::new(config(&[])).unwrap();
        let mut ev = Vec::new();
        for piece in v.chunks(1 + rnd(600)) {
            if pull.handle_input(piece, &mut ev).is_err() {
                break;
            }
            while pull.take_output().is_some() {}
        }
        for e in &ev {
            match e {
                PullEvent::Ready { .. } => ready += 1,
                PullEvent::Frame { .. } => frames += 1,
                PullEvent::Failed(_) => {}
            }
        }
    }
    assert!(
        ready > 100 && frames > 1000,
        "mutations too destructive to test much: {ready} ready, {frames} frames"
    );
}

/// Writes the `pull_session` fuzz seed: what our server sends a pull, from the handshake to
/// the GOP, after the target's piece-size byte.
#[test]
#[ignore]
fn write_pull_fuzz_seed() {
    let mut w = Wire::new(config(&[]), Answer::Play, 1 << 16);
    w.pump();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/pull_session");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = [&[0u8][..], &w.from_server].concat();
    std::fs::write(dir.join("play"), seed).unwrap();
}
