//! Deterministic randomized robustness tests: thousands of random and mutated-valid inputs
//! into the chunk reader, the handshake and the session. They only assert "no panic"; the
//! cargo-fuzz targets in src/core/fuzz do the same with coverage guidance.
use super::amf::{self, Value};
use super::chunk_reader::ChunkReader;
use super::chunk_writer::encode_message;
use super::handshake::ServerHandshake;
use super::server_session::{ServerSession, SessionEvent};
use super::session_tests::{cfg, command, connected_server, handshake};
use crate::test_rng::XorShift;
use bytes::BytesMut;

/// A valid post-handshake publisher byte stream, chunked at 128.
fn valid_publish_stream() -> Vec<u8> {
    let mut v = Vec::new();
    let obj = amf::object(&[
        ("app", amf::string("live")),
        ("tcUrl", amf::string("rtmp://h/live")),
    ]);
    v.extend_from_slice(&command(0, "connect", 1.0, obj, vec![]));
    v.extend_from_slice(&encode_message(
        2,
        0,
        5,
        0,
        &2_500_000u32.to_be_bytes(),
        128,
    ));
    v.extend_from_slice(&command(
        0,
        "releaseStream",
        2.0,
        Value::Null,
        vec![amf::string("k")],
    ));
    v.extend_from_slice(&command(
        0,
        "FCPublish",
        3.0,
        Value::Null,
        vec![amf::string("k")],
    ));
    v.extend_from_slice(&command(0, "createStream", 4.0, Value::Null, vec![]));
    v.extend_from_slice(&command(
        1,
        "publish",
        5.0,
        Value::Null,
        vec![amf::string("k?a=b"), amf::string("live")],
    ));
    v.extend_from_slice(&encode_message(5, 0, 18, 1, &[2, 0, 2, b'h', b'i'], 128));
    v.extend_from_slice(&encode_message(7, 0x00FF_FFFF, 9, 1, &[0x17; 700], 128));
    v.extend_from_slice(&encode_message(6, 10, 8, 1, &[0xAF; 300], 128));
    v.extend_from_slice(&encode_message(2, 0, 4, 0, &[0, 6, 0, 0, 0, 9], 128));
    v.extend_from_slice(&encode_message(2, 0, 1, 0, &4096u32.to_be_bytes(), 128));
    v.extend_from_slice(&encode_message(
        4,
        20,
        22,
        1,
        &[9, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 12],
        4096,
    ));
    v
}

/// Feeds `data` in random-sized pieces; returns whether the session stayed alive.
fn feed_session(rng: &mut XorShift, s: &mut ServerSession, data: &[u8]) -> bool {
    let mut events: Vec<SessionEvent> = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(600));
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        if s.handle_input(piece, &mut events).is_err() {
            return false;
        }
        while s.take_output().is_some() {}
        if rng.below(50) == 0 {
            s.accept_connect();
            s.accept_publish(1);
            s.send_ping(7);
        }
    }
    true
}

#[test]
fn chunk_reader_survives_random_input() {
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    let valid = valid_publish_stream();
    for i in 0..3000 {
        let mut data = if i % 2 == 0 {
            valid.clone()
        } else {
            {
                let n = rng.below(2000);
                rng.bytes(n)
            }
        };
        if i % 2 == 0 {
            rng.mutate(&mut data);
        }
        let mut r = ChunkReader::new(1 << 16, 8);
        let _ = r.set_chunk_size(1 + rng.below(300) as u32);
        let mut buf = BytesMut::new();
        for piece in data.chunks(1 + rng.below(200)) {
            buf.extend_from_slice(piece);
            while let Ok(Some(m)) = r.read(&mut buf) {
                assert!(m.payload.len() <= 1 << 16);
                if rng.below(20) == 0 {
                    r.abort(m.csid);
                }
            }
        }
    }
}

#[test]
fn handshake_survives_random_input() {
    let mut rng = XorShift(0xDEAD_BEEF_0BAD_F00D);
    for i in 0..300 {
        let mut hs = ServerHandshake::new();
        let mut data = {
            let n = rng.below(8000);
            rng.bytes(n)
        };
        if i % 3 != 0 {
            if let Some(b) = data.first_mut() {
                *b = 3;
            }
        }
        let mut out = Vec::new();
        for piece in data.chunks(1 + rng.below(4000)) {
            if hs.feed(piece, &mut out).is_err() {
                break;
            }
        }
        assert!(out.len() <= 1 + 1536 + 1536);
    }
}

#[test]
fn session_survives_random_and_mutated_input() {
    let mut rng = XorShift(0x0F0F_1234_4321_F0F0);
    let valid = valid_publish_stream();
    // The valid stream must itself work, or the mutations test nothing.
    let mut s = ServerSession::new(cfg());
    handshake(&mut s);
    assert!(feed_session(&mut rng, &mut s, &valid));
    for i in 0..1500 {
        let mut s = match i % 3 {
            0 => ServerSession::new(cfg()),
            1 => {
                let mut s = ServerSession::new(cfg());
                handshake(&mut s);
                s
            }
            _ => connected_server(),
        };
        let mut data = if i % 3 == 0 {
            let mut d = {
                let n = rng.below(5000);
                rng.bytes(n)
            };
            if let Some(b) = d.first_mut() {
                *b = 3;
            }
            d
        } else {
            valid.clone()
        };
        rng.mutate(&mut data);
        feed_session(&mut rng, &mut s, &data);
    }
}
