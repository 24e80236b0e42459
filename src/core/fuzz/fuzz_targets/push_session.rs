//! Arbitrary bytes as what a push relay's server sends (handshake and all): the first byte
//! picks the piece size the rest is fed in. No panic; the session's output stays bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::config::relay::parse_push;
use ngx_rtmp_core::relay::{PushConfig, PushParams, PushSession};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let target = parse_push("push", &["rtmp://h/app"]).expect("a fixed target");
    let mut push = PushSession::new(PushConfig {
        params: PushParams::new(&target, "live", "x"),
        chunk_size: 4096,
        ack_window: 1000,
        max_message: 1 << 16,
    })
    .expect("a session");
    let mut events = Vec::new();
    let mut sent = 0usize;
    for piece in rest.chunks(usize::from(mode) + 1) {
        let failed = push.handle_input(piece, &mut events).is_err();
        while let Some(b) = push.take_output() {
            sent += b.len();
        }
        if failed {
            break;
        }
    }
    // C0+C1, C2 and the commands, plus at most an ack or pong per message received.
    assert!(sent <= 8192 + 64 * rest.len(), "{sent} bytes out for {}", rest.len());
    assert!(events.len() <= 2);
});
