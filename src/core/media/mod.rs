//! FLV audio/video/data payloads: what a frame is (keyframe, sequence header), codec facts.
