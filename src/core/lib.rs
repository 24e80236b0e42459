//! The sans-I/O core of ngx-rtmp: no nginx symbols, no sockets, no clock, no globals.
//!
//! Bytes and time go in, events and bytes come out. The nginx shell (the cdylib at the
//! repository root) drives it; unit tests and fuzzers drive it without nginx.
#![forbid(unsafe_code)]

pub mod accesslog;
pub mod config;
pub mod control;
pub mod exec;
pub mod hls;
pub mod hub;
pub mod log_text;
pub mod media;
pub mod notify;
pub mod protocol;
pub mod record;
pub mod relay;
pub mod stat;
#[cfg(test)]
mod test_rng;
pub mod workers;
