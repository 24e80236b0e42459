//! Arbitrary bytes into the chunk reader. The first byte picks the starting chunk size
//! (0: the default 128); Set Chunk Size messages in the stream are applied as a session would.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::protocol::ChunkReader;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut reader = ChunkReader::new(1 << 20, 16);
    if first != 0 {
        let _ = reader.set_chunk_size(u32::from(first) * 64);
    }
    // Feed in two halves so partial-chunk paths run too.
    let (a, b) = rest.split_at(rest.len() / 2);
    let mut buf = BytesMut::new();
    for piece in [a, b] {
        buf.extend_from_slice(piece);
        while let Ok(Some(msg)) = reader.read(&mut buf) {
            assert!(msg.payload.len() <= 1 << 20);
            if msg.type_id == 1 {
                if let Some(b) = msg.payload.get(..4) {
                    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    if reader.set_chunk_size(size).is_err() {
                        return;
                    }
                }
            }
        }
    }
});
