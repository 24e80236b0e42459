//! Arbitrary bytes as a program of publish/unpublish/play/stop/frame/write operations against
//! `hub::Hub`; the encoding and the invariants are in `checks/hub.rs` (shared with
//! `hub::random_tests`).
#![no_main]
use libfuzzer_sys::fuzz_target;
// `checks` is written against `crate::` paths, as inside ngx-rtmp-core.
use ngx_rtmp_core::{hub, media, protocol};

#[path = "../checks/hub.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::hub(data));
