//! Arbitrary bytes as a hook's HTTP answer (fed in pieces) or as what a client puts in a hook
//! request; the properties checked are in `checks/notify.rs` (shared with
//! `notify::random_tests`).
#![no_main]
use libfuzzer_sys::fuzz_target;
// `checks` is written against `crate::` paths, as inside ngx-rtmp-core.
use ngx_rtmp_core::notify;

#[path = "../checks/notify.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::notify(data));
