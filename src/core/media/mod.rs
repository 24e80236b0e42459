//! FLV audio/video/data payloads: what a frame is (keyframe, sequence header), codec facts.

pub mod aac;
pub mod amf0_scan;
pub mod audio_info;
pub mod av1;
pub mod avc;
pub mod bits;
pub mod codec;
pub mod configs;
pub mod enhanced;
pub mod flv;
pub mod hevc;
pub mod metadata;
pub mod vp9;

#[cfg(test)]
mod random_tests;
