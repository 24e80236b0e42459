//! ngx-rtmp: the nginx shell. All `unsafe` and every nginx symbol live under `ngx/`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod ngx;
