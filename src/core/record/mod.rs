//! FLV recording (nginx-rtmp-module's `record` family): which frames go into which file, the
//! FLV bytes, and the file names. The shell does the file I/O through [`RecordFiles`].

mod amf0_write;
mod file_name;
mod files;
mod flv_tag;
mod on_metadata;
mod strftime;

pub use file_name::{file_name, Tm};
pub use files::{RecordEvent, RecordFiles};
