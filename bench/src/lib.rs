//! scripts/bench's tools: `rtmp-load` (publishers and players in one process, latency stamped
//! in-band), `rtmp-floor` (the same bytes written by a trivial fan-out writer) and
//! `rtmp-bench` (the driver: both modules on the same nginx, every scenario, the report).

pub mod args;
pub mod driver;
pub mod floor;
pub mod flv;
pub mod load;
pub mod procfs;
pub mod rtmp;
pub mod stats;
