//! Arbitrary bytes as a `/control` request (path `?` query); the properties checked are in
//! `checks/control.rs` (shared with `control::random_tests`).
#![no_main]
use libfuzzer_sys::fuzz_target;
// `checks` is written against `crate::` paths, as inside ngx-rtmp-core.
use ngx_rtmp_core::control;

#[path = "../checks/control.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::control(data));
