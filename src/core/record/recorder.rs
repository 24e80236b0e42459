//! The recorder: which publisher frames go into the file, and when a piece opens and
//! closes (nginx-rtmp's `ngx_rtmp_record_node_av`, with pieces that always start
//! decodable).

use bytes::Bytes;
use std::io;

use crate::hub::FrameKind;
use crate::media::codec::{AudioCodec, VideoCodec};
use crate::media::flv::{
    audio_codec, audio_is_config, video_codec, video_is_config, video_is_end_of_sequence, GopTrack,
};

use super::conf::RecorderConf;
use super::files::{RecordEvent, RecordFiles};
use super::flv_tag::{TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO};
use super::latest::{Latest, Seen};
use super::on_metadata::{midstream_metadata, Media};
use super::piece::{Head, Piece};

#[derive(Debug)]
pub struct FlvRecorder {
    conf: RecorderConf,
    latest: Latest,
    /// Recording is wanted: from the start, or with `manual` after `start()`.
    armed: bool,
    failed: bool,
    next_piece: u32,
    piece: Option<Piece>,
    /// Which keyframes a piece may start on (one track's, with Multitrack).
    gop_track: GopTrack,
}

/// How one media frame reads under the recorder's flags and what the stream has sent.
#[derive(Debug, Clone, Copy)]
struct Class {
    tag_type: u8,
    /// No picture or sound: a decoder configuration or an end of sequence. Not counted as
    /// a frame, never a cut.
    aux: bool,
    key: bool,
    /// A piece may start here.
    cut: bool,
    /// False while the codec's decoder configuration has not arrived: the frame could
    /// not be decoded.
    writable: bool,
}

impl FlvRecorder {
    pub fn new(conf: RecorderConf) -> Self {
        FlvRecorder {
            conf,
            latest: Latest::default(),
            armed: !conf.manual(),
            failed: false,
            next_piece: 0,
            piece: None,
            gop_track: GopTrack::default(),
        }
    }

    /// Every frame the publisher sends, in order, from publish start. `now_ms` is a
    /// monotonic clock and drives `interval_ms`.
    pub fn frame(
        &mut self,
        files: &mut dyn RecordFiles,
        now_ms: u64,
        kind: FrameKind,
        timestamp: u32,
        payload: &Bytes,
        events: &mut Vec<RecordEvent>,
    ) {
        // Metadata and decoder configs are kept even while idle, for the next piece.
        let seen = self.latest.observe(kind, payload);
        if !self.armed || self.failed || self.conf.records_nothing() {
            return;
        }
        match seen {
            Seen::Metadata { changed: true } => self.write_metadata(files, timestamp, events),
            Seen::Metadata { changed: false } | Seen::OtherData => {}
            Seen::Media => self.media(files, now_ms, kind, timestamp, payload, events),
        }
    }

    /// Arms the recorder: the file opens at the next frame a piece can start on. Clears a
    /// failure. False when a piece is already open.
    pub fn start(&mut self) -> bool {
        if self.piece.is_some() {
            return false;
        }
        self.armed = true;
        self.failed = false;
        true
    }

    /// Closes the current piece (patching its onMetaData) and disarms until `start()`.
    pub fn stop(&mut self, files: &mut dyn RecordFiles, events: &mut Vec<RecordEvent>) {
        self.close(files, events);
        self.armed = false;
    }

    /// A piece is open.
    pub fn is_recording(&self) -> bool {
        self.piece.is_some()
    }

    pub fn has_failed(&self) -> bool {
        self.failed
    }

    fn media(
        &mut self,
        files: &mut dyn RecordFiles,
        now_ms: u64,
        kind: FrameKind,
        timestamp: u32,
        payload: &Bytes,
        events: &mut Vec<RecordEvent>,
    ) {
        let Some(c) = self.classify(kind, payload) else {
            return;
        };
        if c.cut && c.writable {
            if self.interval_elapsed(now_ms) {
                self.close(files, events);
            }
            if self.piece.is_none() && !self.open(files, now_ms, timestamp, events) {
                return;
            }
        }
        let Some(piece) = self.piece.as_mut() else {
            return;
        };
        let before_key = c.tag_type == TAG_VIDEO && !c.aux && !c.key && !piece.video_key_written;
        if !c.writable || before_key {
            return;
        }
        if let Err(e) = piece.write(files, c.tag_type, timestamp, payload, c.aux) {
            let number = piece.number;
            self.fail(files, number, e, events);
            return;
        }
        if c.key {
            piece.video_key_written = true;
        }
        if self.limit_reached() {
            self.close(files, events);
        }
    }

    /// `None` for frames the flags do not record, read as nginx-rtmp reads them.
    fn classify(&mut self, kind: FrameKind, p: &[u8]) -> Option<Class> {
        match kind {
            FrameKind::Video => {
                if !self.conf.video() {
                    return None;
                }
                let config = video_is_config(p);
                let aux = config || video_is_end_of_sequence(p);
                let key = !aux && self.gop_track.starts_gop(p);
                if self.conf.keyframes_only() && !key && !config {
                    return None;
                }
                let needs_config = matches!(
                    video_codec(p),
                    Some(VideoCodec::Avc | VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vvc)
                );
                Some(Class {
                    tag_type: TAG_VIDEO,
                    aux,
                    key,
                    cut: key,
                    writable: config || !needs_config || self.latest.video_sequence.is_some(),
                })
            }
            FrameKind::Audio => {
                if !self.conf.audio() {
                    return None;
                }
                let config = audio_is_config(p);
                let needs_config = audio_codec(p) == Some(AudioCodec::Aac);
                Some(Class {
                    tag_type: TAG_AUDIO,
                    aux: config,
                    key: false,
                    cut: !config && !self.cuts_on_video(),
                    writable: config || !needs_config || self.latest.audio_sequence.is_some(),
                })
            }
            FrameKind::Data => None,
        }
    }

    /// Pieces start on video keyframes when video is recorded and the stream has video;
    /// otherwise on any audio frame.
    fn cuts_on_video(&self) -> bool {
        self.conf.video() && self.latest.video_expected()
    }

    fn media_recorded(&self) -> Media {
        Media {
            audio: self.conf.audio(),
            video: self.conf.video(),
        }
    }

    fn interval_elapsed(&self, now_ms: u64) -> bool {
        match (&self.piece, self.conf.interval_ms) {
            (Some(p), Some(interval)) => now_ms.saturating_sub(p.opened_ms) >= interval,
            _ => false,
        }
    }

    fn limit_reached(&self) -> bool {
        let Some(p) = &self.piece else {
            return false;
        };
        let frames = if self.cuts_on_video() {
            p.video_frames
        } else {
            p.audio_frames
        };
        (self.conf.max_size > 0 && p.len >= self.conf.max_size)
            || (self.conf.max_frames > 0 && frames >= self.conf.max_frames)
    }

    /// Opens the next piece with `timestamp` as its start. False (and failed) when the
    /// file could not be opened or its head written.
    fn open(
        &mut self,
        files: &mut dyn RecordFiles,
        now_ms: u64,
        timestamp: u32,
        events: &mut Vec<RecordEvent>,
    ) -> bool {
        let number = self.next_piece;
        self.next_piece = self.next_piece.wrapping_add(1);
        let existing_len = match files.open(number, self.conf.append) {
            Ok(len) if self.conf.append => len,
            Ok(_) => 0,
            Err(error) => {
                self.failed = true;
                events.push(RecordEvent::Failed {
                    piece: number,
                    error,
                });
                return false;
            }
        };
        events.push(RecordEvent::Opened { piece: number });
        let head = Head {
            number,
            opened_ms: now_ms,
            epoch: timestamp,
            existing_len,
            media: self.media_recorded(),
            latest: &self.latest,
        };
        match Piece::begin(files, head) {
            Ok(p) => {
                self.piece = Some(p);
                true
            }
            Err(error) => {
                let _ = files.close();
                self.failed = true;
                events.push(RecordEvent::Failed {
                    piece: number,
                    error,
                });
                false
            }
        }
    }

    fn write_metadata(
        &mut self,
        files: &mut dyn RecordFiles,
        timestamp: u32,
        events: &mut Vec<RecordEvent>,
    ) {
        let media = self.media_recorded();
        let (Some(piece), Some(meta)) = (self.piece.as_mut(), &self.latest.metadata) else {
            return;
        };
        let Some(body) = midstream_metadata(meta, media) else {
            return;
        };
        if let Err(e) = piece.write(files, TAG_SCRIPT, timestamp, &body, false) {
            let number = piece.number;
            self.fail(files, number, e, events);
        }
    }

    fn close(&mut self, files: &mut dyn RecordFiles, events: &mut Vec<RecordEvent>) {
        let Some(p) = self.piece.take() else {
            return;
        };
        match p.finish(files) {
            Ok(()) => events.push(RecordEvent::Closed {
                piece: p.number,
                bytes: p.len,
                video_frames: p.video_frames,
                duration_ms: p.duration_ms(),
            }),
            Err(error) => {
                self.failed = true;
                events.push(RecordEvent::Failed {
                    piece: p.number,
                    error,
                });
            }
        }
    }

    /// A write failed: the piece is closed with what was appended so far (whole tags, so it
    /// stays playable), its head patched with their duration and size as at any close
    /// (overwriting bytes in the file needs no space on a full disk), and the recorder
    /// idles until `start()`.
    fn fail(
        &mut self,
        files: &mut dyn RecordFiles,
        piece: u32,
        error: io::Error,
        events: &mut Vec<RecordEvent>,
    ) {
        match self.piece.take() {
            Some(p) => {
                let _ = p.finish(files);
            }
            None => {
                let _ = files.close();
            }
        }
        self.failed = true;
        events.push(RecordEvent::Failed { piece, error });
    }
}
