//! Arbitrary text into the `config` parser(s); the layout and the properties checked are in
//! `checks/config.rs` (shared with `config::random_tests`).
#![no_main]
use libfuzzer_sys::fuzz_target;
// `checks` is written against `crate::` paths, as inside ngx-rtmp-core.
use ngx_rtmp_core::{accesslog, config};

#[allow(dead_code)]
#[path = "../checks/config.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::config(data));
