//! Arbitrary bytes into the aggregate message splitter; the properties checked are in
//! `checks/media.rs` (shared with `media::random_tests`).
#![no_main]
use libfuzzer_sys::fuzz_target;
// `checks` is written against `crate::` paths, as inside ngx-rtmp-core.
use ngx_rtmp_core::{media, protocol};

#[allow(dead_code)]
#[path = "../checks/media.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::aggregate(data));
