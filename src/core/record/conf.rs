//! A recorder's settings and how its `record` flags read, per frame, the way
//! nginx-rtmp's recorder reads them.

use crate::config::record::{
    RECORD_AUDIO, RECORD_KEYFRAMES, RECORD_MANUAL, RECORD_OFF, RECORD_VIDEO,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecorderConf {
    /// `crate::config::record::RECORD_*` bits.
    pub flags: u32,
    /// Bytes; 0 = no limit.
    pub max_size: u64,
    /// 0 = no limit. Counts video frames written (audio frames in a recorder that does
    /// not record video, where video frames would never come).
    pub max_frames: u64,
    /// `record_interval`; `None` = unset.
    pub interval_ms: Option<u64>,
    /// `record_append`.
    pub append: bool,
}

impl RecorderConf {
    /// nginx-rtmp checks `off` before anything else, so `record off all` records nothing.
    pub(super) fn records_nothing(&self) -> bool {
        self.flags & RECORD_OFF != 0
            || self.flags & (RECORD_AUDIO | RECORD_VIDEO | RECORD_KEYFRAMES) == 0
    }

    pub(super) fn manual(&self) -> bool {
        self.flags & RECORD_MANUAL != 0
    }

    pub(super) fn audio(&self) -> bool {
        self.flags & RECORD_AUDIO != 0
    }

    /// Video is recorded, whole or keyframes only.
    pub(super) fn video(&self) -> bool {
        self.flags & (RECORD_VIDEO | RECORD_KEYFRAMES) != 0
    }

    pub(super) fn keyframes_only(&self) -> bool {
        self.flags & RECORD_VIDEO == 0 && self.flags & RECORD_KEYFRAMES != 0
    }
}
