//! Hostile and unusual input. Each test runs a real ffmpeg publisher and a real ffmpeg
//! player in the same application ("the watch") and asserts afterwards: the worker PID is
//! unchanged, the watching player kept decoding, and error.log has a line for the bad
//! session. Bad sessions connect from 127.0.0.2 so their log lines can be told apart.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::io::Write;
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

const WATCH_SECONDS: u32 = 8;

fn bad_ip() -> Option<IpAddr> {
    Some("127.0.0.2".parse().unwrap())
}

struct Watch {
    ng: Nginx,
    publisher: Option<ChildGuard>,
    player: Option<ChildGuard>,
    worker: Vec<i32>,
}

impl Watch {
    fn start() -> Watch {
        Self::start_with("live on;")
    }

    fn start_with(app_body: &str) -> Watch {
        let ng = Nginx::start(&simple_rtmp("live", app_body));
        let url = ng.rtmp_url("live", "watch");
        let player = spawn_ffmpeg_player(&url, WATCH_SECONDS as f64 - 0.4);
        std::thread::sleep(Duration::from_millis(1000));
        let publisher = publish_ffmpeg(&url, WATCH_SECONDS);
        std::thread::sleep(Duration::from_millis(1500));
        let worker = ng.worker_pids();
        assert_eq!(worker.len(), 1, "expected one worker, got {:?}", worker);
        Watch {
            ng,
            publisher: Some(publisher),
            player: Some(player),
            worker,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.ng.rtmp_addr()
    }

    /// Lines of error.log about 127.0.0.2 sessions other than the routine ones every
    /// session has (connected / connect / createStream / disconnect / deleteStream).
    fn bad_session_lines(&self) -> Vec<String> {
        self.ng
            .error_log()
            .lines()
            .filter(|l| l.contains("127.0.0.2"))
            .map(|s| s.to_string())
            .collect()
    }

    /// The checks every hostile test ends with. `log_must_match` is a regex that some
    /// error.log line about a 127.0.0.2 session must match.
    fn finish(mut self, log_must_match: &str) {
        let pub_out = self
            .publisher
            .take()
            .unwrap()
            .wait_bounded(Duration::from_secs(40));
        let r = finish_play(self.player.take().unwrap(), Duration::from_secs(40));
        let lines = self.bad_session_lines();
        let connected = lines
            .iter()
            .filter(|l| l.contains("client connected"))
            .count();
        let other: Vec<&String> = lines
            .iter()
            .filter(|l| !l.contains("client connected"))
            .take(20)
            .collect();
        eprintln!(
            "bad-session log: {} 'client connected' lines; others (first 20):\n  {}",
            connected,
            other
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
        eprintln!(
            "watching player: {:?} {} video frames, {} audio frames",
            r.video_codec, r.video_frames, r.audio_frames
        );
        let now = self.ng.worker_pids();
        assert_eq!(now, self.worker, "worker PID changed: a worker died");
        self.ng.assert_no_alerts();
        assert!(
            pub_out.success(),
            "watched publisher failed: {}",
            pub_out.stderr
        );
        let expect = ((WATCH_SECONDS as f64 - 0.4) * FPS as f64 * 0.9) as u32;
        assert!(
            r.video_frames >= expect,
            "watching player decoded {} video frames (< {})",
            r.video_frames,
            expect
        );
        let re = regex::Regex::new(log_must_match).unwrap();
        assert!(
            lines.iter().any(|l| re.is_match(l)),
            "error.log has no line for the bad session matching /{}/",
            log_must_match
        );
    }
}

fn pseudo(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn bad_raw(w: &Watch) -> TcpStream {
    RawClient::connect_raw(w.addr(), bad_ip()).expect("connect")
}

fn bad_session(w: &Watch) -> RawClient {
    let mut c = RawClient::connect_from(w.addr(), bad_ip()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    c
}

#[test]
fn random_bytes_instead_of_handshake() {
    let w = Watch::start();
    let mut s = bad_raw(&w);
    let mut junk = pseudo(1, 4000);
    junk[0] = 0x47; // not version 3
    let _ = s.write_all(&junk);
    let closed = wait_closed(&mut s, Duration::from_secs(5));
    eprintln!("server closed the junk connection: {}", closed);
    assert!(
        closed,
        "server kept a connection that sent junk instead of a handshake"
    );
    w.finish(r"(?i)handshake|version");
}

#[test]
fn message_length_16mb() {
    let w = Watch::start();
    let mut c = bad_session(&w);
    // type-0 header, csid 3, ts 0, length 0xFFFFFF, type 9 (video), msid 1, then data.
    let mut b = vec![0x03, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0];
    b.extend(pseudo(2, 128));
    let _ = c.send_raw(&b);
    for i in 0..200u32 {
        let mut cont = vec![0xc3];
        cont.extend(pseudo(i, 128));
        if c.send_raw(&cont).is_err() {
            break;
        }
    }
    let closed = c.wait_closed(Duration::from_secs(5));
    eprintln!("server closed the 16 MB session: {}", closed);
    w.finish(r"(?i)too big|message|length");
}

fn set_chunk_size_case(size: u32) {
    let w = Watch::start();
    let mut c = bad_session(&w);
    let _ = c.send_raw(
        &[
            &[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0][..],
            &size.to_be_bytes()[..],
        ]
        .concat(),
    );
    // Follow with a command so the server has to parse with the new chunk size.
    let _ = c.command(0, "createStream", 2.0, rml_amf0::Amf0Value::Null, &[]);
    let closed = c.wait_closed(Duration::from_secs(5));
    eprintln!("server closed after Set Chunk Size {}: {}", size, closed);
    w.finish(r"(?i)chunk|too big|message");
}

#[test]
fn set_chunk_size_zero() {
    set_chunk_size_case(0);
}

#[test]
fn set_chunk_size_2_pow_31() {
    set_chunk_size_case(0x8000_0000);
}

#[test]
fn unknown_message_type() {
    let w = Watch::start();
    let mut c = bad_session(&w);
    for t in [0x7fu8, 0x30, 0xff] {
        let _ = c.send_msg(5, 0, t, 0, &pseudo(t as u32, 300));
    }
    // The session must still work afterwards (or be closed); never crash.
    let r = c.create_stream();
    eprintln!(
        "createStream after unknown types: {:?}",
        r.as_ref().map(|_| ())
    );
    w.finish(r"127\.0\.0\.2");
}

#[test]
fn truncated_connect_amf() {
    let w = Watch::start();
    let mut c = RawClient::connect_from(w.addr(), bad_ip()).expect("handshake");
    // "connect", 1.0, { "app": "li   <- cut inside the string, message length matches
    let mut p = amf(&[s("connect"), n(1.0)]);
    p.extend_from_slice(&[
        0x03, 0x00, 0x03, b'a', b'p', b'p', 0x02, 0x00, 0x10, b'l', b'i',
    ]);
    let _ = c.send_msg(3, 0, 20, 0, &p);
    // And a command that is only a number.
    let _ = c.send_msg(3, 0, 20, 0, &[0x00, 0x3f]);
    let closed = c.wait_closed(Duration::from_secs(5));
    eprintln!("server closed after broken AMF: {}", closed);
    w.finish(r"127\.0\.0\.2");
}

#[test]
fn stalled_half_handshakes() {
    let w = Watch::start();
    let mut held = Vec::new();
    for i in 0..200 {
        match RawClient::connect_raw(w.addr(), bad_ip()) {
            Ok(mut s) => {
                let mut half = vec![3u8];
                half.extend(pseudo(i, 768));
                let _ = s.write_all(&half);
                held.push(s);
            }
            Err(e) => panic!("stalled connection {} refused by the OS: {}", i, e),
        }
    }
    // A real client still connects and plays while the 200 are held.
    let r = finish_play(
        spawn_ffmpeg_player(&w.ng.rtmp_url("live", "watch"), 2.0),
        Duration::from_secs(30),
    );
    eprintln!(
        "player during stall: {:?} {} frames",
        r.video_codec, r.video_frames
    );
    assert_eq!(
        r.video_codec.as_deref(),
        Some("h264"),
        "player could not play during the stall"
    );
    assert!(
        r.video_frames >= 25,
        "player during the stall decoded {} frames",
        r.video_frames
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(500));
    w.finish(r"127\.0\.0\.2");
}

fn odd_name_case(name: &str) {
    let w = Watch::start();
    let mut c = RawClient::connect_from(w.addr(), bad_ip()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    let id = c.create_stream().expect("createStream");
    let r = c.publish(id, name);
    eprintln!("publish {:?}: {:?}", &name[..name.len().min(40)], r);
    match r {
        Ok(()) => {
            // Accepted (sanitized or as is): media must not hurt anyone.
            let _ = c.send_msg(6, 0, 9, id, &[0x17, 0x00, 0, 0, 0, 1, 2, 3]);
            let _ = c.send_msg(6, 40, 9, id, &[0x17, 0x01, 0, 0, 0, 4, 5, 6]);
        }
        Err(ClientError::Refused(_)) | Err(ClientError::Closed) => {}
        Err(e) => panic!("publish {:?}: unexpected {:?}", name, e),
    }
    drop(c);
    std::thread::sleep(Duration::from_millis(300));
    w.finish(r"127\.0\.0\.2");
}

#[test]
fn stream_name_with_slash() {
    odd_name_case("a/b/c");
}

#[test]
fn stream_name_with_dotdot() {
    odd_name_case("../../../etc/passwd");
}

#[test]
fn stream_name_with_nul() {
    odd_name_case("bad\0name");
}

#[test]
fn stream_name_longer_than_1k() {
    odd_name_case(&"x".repeat(1500));
}

// ---- legal but unusual: these must work ---------------------------------------------

/// Publish with a raw client (chunk layout under our control), play with rml.
fn raw_publisher_and_player(w: &Watch, name: &str) -> (RawClient, u32, RtmpClient) {
    let mut player = RtmpClient::connect(w.addr(), "live").expect("player connect");
    player.play(name).expect("play");
    let mut p = RawClient::connect_from(w.addr(), bad_ip()).expect("publisher handshake");
    let id = p.start_publish("live", name).expect("publish");
    (p, id, player)
}

fn video_payloads(evs: &[Event]) -> Vec<(u32, Vec<u8>)> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Video { ts, data, .. } => Some((*ts, data.to_vec())),
            _ => None,
        })
        .collect()
}

fn keyframe(seed: u32, len: usize) -> Vec<u8> {
    [vec![0x17, 0x01, 0, 0, 0], pseudo(seed, len)].concat()
}

#[test]
fn interleaved_audio_video_chunks() {
    let w = Watch::start();
    let (mut p, id, mut player) = raw_publisher_and_player(&w, "inter");
    let v1 = keyframe(1, 1000); // 8 chunks at 128
    let a1 = [vec![0xaf, 0x01], pseudo(2, 300)].concat(); // 3 chunks
    let v_chunks = message_chunks(6, 0, 9, id, &v1, 128);
    let a_chunks = message_chunks(4, 0, 8, id, &a1, 128);
    // v0 a0 v1 a1 v2 a2 v3 ... : audio chunks in the middle of the video message
    let mut seq = Vec::new();
    for i in 0..v_chunks.len().max(a_chunks.len()) {
        if let Some(c) = v_chunks.get(i) {
            seq.push(c.clone());
        }
        if let Some(c) = a_chunks.get(i) {
            seq.push(c.clone());
        }
    }
    p.send_chunks(&seq).unwrap();
    let v2 = keyframe(3, 500);
    p.send_msg(6, 40, 9, id, &v2).unwrap();
    let evs = player.collect_media(3, Duration::from_secs(5));
    let vids = video_payloads(&evs);
    let auds: Vec<Vec<u8>> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Audio { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect();
    assert!(
        vids.iter().any(|(_, d)| d == &v1),
        "interleaved video message not delivered intact"
    );
    assert!(
        vids.iter().any(|(_, d)| d == &v2),
        "video after interleaving not delivered"
    );
    assert!(
        auds.contains(&a1),
        "interleaved audio message not delivered intact"
    );
    drop(p);
    w.finish(r"127\.0\.0\.2");
}

#[test]
fn large_chunk_stream_ids() {
    let w = Watch::start();
    let (mut p, id, mut player) = raw_publisher_and_player(&w, "csid");
    let mut sent = Vec::new();
    for (i, (csid, long)) in [
        (64u32, false),
        (100, true),
        (319, false),
        (320, false),
        (65599, false),
    ]
    .iter()
    .enumerate()
    {
        let payload = keyframe(10 + i as u32, 400);
        let ch = message_chunks_fmt(0, *csid, (i as u32) * 40, 9, id, &payload, 128, *long);
        p.send_chunks(&ch).unwrap_or_else(|e| {
            panic!(
                "server dropped the publisher sending on chunk stream id {}: {}",
                csid, e
            )
        });
        std::thread::sleep(Duration::from_millis(50));
        sent.push(payload);
    }
    let got = video_payloads(&player.collect_media(sent.len(), Duration::from_secs(5)));
    for (i, s) in sent.iter().enumerate() {
        assert!(
            got.iter().any(|(_, d)| d == s),
            "message {} on a large csid not delivered",
            i
        );
    }
    drop(p);
    w.finish(r"127\.0\.0\.2");
}

#[test]
fn extended_timestamps_and_wrap() {
    let w = Watch::start();
    let (mut p, id, mut player) = raw_publisher_and_player(&w, "ts");
    // Absolute timestamps at and above 0xFFFFFF (extended field, also in type-3 chunks).
    let base = 0x00FF_FFFFu32;
    let a = keyframe(20, 600);
    let b = keyframe(21, 600);
    p.send_chunks(&message_chunks(6, base, 9, id, &a, 128))
        .unwrap();
    p.send_chunks(&message_chunks(6, base + 40, 9, id, &b, 128))
        .unwrap();
    // Then near 2^32 and across the wrap, with type-1 deltas.
    let c = keyframe(22, 300);
    let d = keyframe(23, 300);
    let e = keyframe(24, 300);
    p.send_chunks(&message_chunks(6, 0xFFFF_FFB0, 9, id, &c, 128))
        .unwrap();
    p.send_chunks(&message_chunks_fmt(1, 6, 40, 9, id, &d, 128, false))
        .unwrap(); // 0xFFFFFFD8
    p.send_chunks(&message_chunks_fmt(1, 6, 80, 9, id, &e, 128, false))
        .unwrap(); // 0x1_0000_0028: wraps to 0x28
    let got = video_payloads(&player.collect_media(5, Duration::from_secs(5)));
    eprintln!(
        "timestamps received: {:?}",
        got.iter().map(|(t, _)| *t).collect::<Vec<_>>()
    );
    for (name, payload) in [("a", &a), ("b", &b), ("c", &c), ("d", &d), ("e", &e)] {
        assert!(
            got.iter().any(|(_, x)| x == payload),
            "frame {} not delivered",
            name
        );
    }
    // Relative timing is preserved between a and b (40 ms), and across the wrap
    // (d - c = 40, e - d = 80 modulo 2^32).
    let ts_of = |payload: &Vec<u8>| {
        got.iter()
            .find(|(_, x)| x == payload)
            .map(|(t, _)| *t)
            .unwrap()
    };
    assert_eq!(
        ts_of(&b).wrapping_sub(ts_of(&a)),
        40,
        "extended timestamp delta"
    );
    assert_eq!(
        ts_of(&d).wrapping_sub(ts_of(&c)),
        40,
        "delta before the wrap"
    );
    assert_eq!(
        ts_of(&e).wrapping_sub(ts_of(&d)),
        80,
        "delta across the 2^32 wrap"
    );
    drop(p);
    w.finish(r"127\.0\.0\.2");
}
