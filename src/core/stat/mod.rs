//! The stat snapshot: what each worker reports, merged into one view of the whole server, and
//! rendered as nginx-rtmp-module's `/stat` XML and as JSON.

pub mod json;
pub mod merge;
pub mod rate;
pub mod snapshot;
pub mod wire;
pub mod xml;

pub use snapshot::{
    AppSnap, AudioMeta, ClientSnap, MetaSnap, ServerSnap, StreamSnap, VideoMeta, WorkerSnapshot,
};
