//! Arbitrary bytes as what a pull relay's server sends (handshake and all): the first byte
//! picks the piece size the rest is fed in. No panic; the session's output stays bounded,
//! and every frame comes after the Ready that starts the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::config::relay::parse_push;
use ngx_rtmp_core::relay::{PullConfig, PullEvent, PullSession, RelayParams};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let target = parse_push("pull", &["rtmp://h/app"]).expect("a fixed target");
    let mut pull = PullSession::new(PullConfig {
        params: RelayParams::for_pull(&target, "live", "x"),
        start: -2.0,
        duration: -1.0,
        buffer_ms: 5000,
        chunk_size: 4096,
        ack_window: 1000,
        max_message: 1 << 16,
    })
    .expect("a session");
    let mut events = Vec::new();
    let mut sent = 0usize;
    for piece in rest.chunks(usize::from(mode) + 1) {
        let failed = pull.handle_input(piece, &mut events).is_err();
        while let Some(b) = pull.take_output() {
            sent += b.len();
        }
        if failed {
            break;
        }
    }
    // C0+C1, C2 and the commands, plus at most an ack or pong per message received.
    assert!(sent <= 8192 + 64 * rest.len(), "{sent} bytes out for {}", rest.len());
    // A frame is at least one byte of input.
    assert!(events.len() <= rest.len() + 2);
    let ready = events.iter().position(|e| matches!(e, PullEvent::Ready { .. }));
    let first_frame = events.iter().position(|e| matches!(e, PullEvent::Frame { .. }));
    if let Some(f) = first_frame {
        assert!(ready.is_some_and(|r| r < f), "a frame before Ready");
    }
});
