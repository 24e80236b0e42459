//! Arbitrary bytes into the guarded AMF0 decoder and command parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ngx_rtmp_core::protocol::amf::{self, Command};

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = amf::decode(data) {
        // Whatever decodes must encode again (strings were <= 65535 bytes on the way in).
        let _ = amf::encode(&values);
    }
    let _ = Command::decode(data);
});
