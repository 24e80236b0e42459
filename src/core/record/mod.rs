//! FLV recording (nginx-rtmp-module's `record` family): which frames go into which file, the
//! FLV bytes, and the file names. The shell does the file I/O through [`RecordFiles`].
//!
//! A recording is a series of pieces (files). Each starts on a frame a player can start
//! from, with the FLV header, an onMetaData tag and the decoder configurations, so every
//! piece plays on its own; `duration` and `filesize` are patched in when it closes.

mod amf0_write;
mod conf;
mod ends;
mod existing;
mod file_name;
mod files;
mod flv_tag;
mod latest;
mod on_metadata;
mod piece;
mod recorder;
mod strftime;

pub use conf::RecorderConf;
pub use file_name::{file_name, Tm};
pub use files::{RecordEvent, RecordFiles};
pub use recorder::FlvRecorder;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
