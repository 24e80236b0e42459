//! Arbitrary bytes into a ServerSession. The first byte chooses whether a valid handshake
//! (from rml_rtmp's client) runs first, so the fuzzer reaches the chunk and command layers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::protocol::{ServerSession, SessionConfig};
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};

fn session() -> ServerSession {
    ServerSession::new(SessionConfig {
        chunk_size: 4096,
        ack_window: 5_000_000,
        max_message: 1 << 20,
        max_streams: 8,
    })
}

fn drain(s: &mut ServerSession) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = s.take_output() {
        out.extend_from_slice(&b);
    }
    out
}

fn handshaken() -> Option<ServerSession> {
    let mut s = session();
    let mut client = Handshake::new(PeerType::Client);
    let c0c1 = client.generate_outbound_p0_and_p1().ok()?;
    s.handle_input(&c0c1, &mut Vec::new()).ok()?;
    let reply = drain(&mut s);
    match client.process_bytes(&reply).ok()? {
        HandshakeProcessResult::Completed { response_bytes, .. } => {
            s.handle_input(&response_bytes, &mut Vec::new()).ok()?;
            Some(s)
        }
        HandshakeProcessResult::InProgress { .. } => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut s = if mode & 1 == 1 {
        match handshaken() {
            Some(s) => s,
            None => return,
        }
    } else {
        session()
    };
    let mut events = Vec::new();
    for piece in rest.chunks(usize::from(mode >> 1) + 1) {
        if s.handle_input(piece, &mut events).is_err() {
            break;
        }
        // Answer everything, as a permissive shell would.
        s.accept_connect();
        s.accept_publish(1);
        drain(&mut s);
    }
});
