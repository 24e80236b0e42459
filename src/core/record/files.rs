//! The seam between the recorder and the shell's file I/O, and what the recorder reports.

use std::io;

/// The shell's side: one open file at a time. An error from any call stops the recorder,
/// which then reports [`RecordEvent::Failed`].
pub trait RecordFiles {
    /// Opens piece number `piece` (0, 1, 2, ... within this recorder's life) for writing.
    /// With `append` existing content is kept and its length returned; otherwise the file
    /// is created or truncated and 0 is returned.
    fn open(&mut self, piece: u32, append: bool) -> io::Result<u64>;
    /// Reads exactly `buf.len()` bytes at `offset` of the open file (append mode looks at
    /// the existing tags with it).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Appends at the end of the open file. One call per FLV tag, so a crash leaves the
    /// file cut at a tag boundary or inside the last tag only. On error nothing of this
    /// call may stay in the file (a full disk takes part of a tag): the file still ends
    /// on a whole tag.
    fn append(&mut self, bufs: &[&[u8]]) -> io::Result<()>;
    /// Overwrites bytes at `offset` (duration and filesize in onMetaData, at close).
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    fn close(&mut self) -> io::Result<()>;
}

#[derive(Debug)]
pub enum RecordEvent {
    Opened {
        piece: u32,
    },
    /// `bytes` is the file's length and `duration_ms` the duration written into its
    /// onMetaData; in append mode both include what the file held before.
    Closed {
        piece: u32,
        bytes: u64,
        video_frames: u64,
        duration_ms: u64,
    },
    /// The piece is closed (errors from that close are dropped) and the recorder stays
    /// idle until `start()`.
    Failed {
        piece: u32,
        error: io::Error,
    },
}
