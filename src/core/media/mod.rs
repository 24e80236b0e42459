//! FLV audio/video/data payloads: what a frame is (keyframe, sequence header), codec facts.

pub mod amf0_scan;
pub mod codec;
pub mod flv;
pub mod metadata;
