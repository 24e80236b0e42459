//! FLV audio/video/data payloads: what a frame is (keyframe, sequence header), codec facts.

pub mod aac;
pub mod amf0_scan;
pub mod avc;
pub mod bits;
pub mod codec;
pub mod configs;
pub mod enhanced;
pub mod flv;
pub mod metadata;

#[cfg(test)]
mod random_tests;
