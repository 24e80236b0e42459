//! Arbitrary bytes into the server handshake, in two pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::protocol::handshake::{HandshakeProgress, ServerHandshake, HANDSHAKE_LEN};

fuzz_target!(|data: &[u8]| {
    let mut hs = ServerHandshake::new();
    let mut out = Vec::new();
    let (a, b) = data.split_at(data.len() / 2);
    for piece in [a, b] {
        match hs.feed(piece, &mut out) {
            Ok(HandshakeProgress::InProgress) => {}
            Ok(HandshakeProgress::Done { remaining }) => {
                assert!(remaining.len() <= data.len());
                break;
            }
            Err(_) => break,
        }
    }
    assert!(out.len() <= HANDSHAKE_LEN);
});
