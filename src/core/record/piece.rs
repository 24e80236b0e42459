//! One open file of a recording: its head (FLV header, onMetaData, decoder configs),
//! timestamps rebased to its first frame, its length and counts, and the patches that
//! make its onMetaData true when it closes.

use std::io;

use super::ends::End;
use super::existing;
use super::files::RecordFiles;
use super::flv_tag::{
    append_tag, file_header, FLAGS_AT, FLAG_AUDIO, FLAG_VIDEO, TAG_AUDIO, TAG_HEADER_LEN,
    TAG_SCRIPT, TAG_VIDEO,
};
use super::latest::Latest;
use super::on_metadata::{head_metadata, CodecIds, Media};

#[derive(Debug)]
pub(super) struct Piece {
    pub number: u32,
    pub opened_ms: u64,
    /// The publisher's timestamp that lands at `time_shift` in the file.
    epoch: u32,
    /// Where the new frames start in the file's time: 0, or where the frames of a file
    /// being appended to end.
    time_shift: u32,
    pub len: u64,
    duration_at: Option<u64>,
    filesize_at: Option<u64>,
    /// The flags byte of the file header, as written or found.
    header_flags: Option<u8>,
    /// The media in the file: what this piece wrote, plus in append mode what the file
    /// said it had.
    written_flags: u8,
    pub video_frames: u64,
    pub audio_frames: u64,
    /// Video frames before the first keyframe cannot be decoded: they are skipped.
    pub video_key_written: bool,
    video_end: End,
    audio_end: End,
    /// In append mode, where the file's earlier content ends.
    base_end_ms: u64,
    /// The latest timestamp written; script tags never go back before it.
    last_file_ts: u32,
}

/// What a new piece starts with.
pub(super) struct Head<'a> {
    pub number: u32,
    pub opened_ms: u64,
    pub epoch: u32,
    /// The length `RecordFiles::open` returned.
    pub existing_len: u64,
    pub media: Media,
    pub latest: &'a Latest,
}

impl Piece {
    /// Writes the head of a fresh file, or reads the end of the file being appended to;
    /// then the decoder configurations, so the piece (or the part after the join)
    /// decodes on its own.
    pub(super) fn begin(files: &mut dyn RecordFiles, head: Head<'_>) -> io::Result<Piece> {
        let mut p = Piece {
            number: head.number,
            opened_ms: head.opened_ms,
            epoch: head.epoch,
            time_shift: 0,
            len: head.existing_len,
            duration_at: None,
            filesize_at: None,
            header_flags: None,
            written_flags: 0,
            video_frames: 0,
            audio_frames: 0,
            video_key_written: false,
            video_end: End::default(),
            audio_end: End::default(),
            base_end_ms: 0,
            last_file_ts: 0,
        };
        let latest = head.latest;
        let media = head.media;
        if head.existing_len == 0 {
            let mut flags = 0;
            if media.audio && latest.audio_expected() {
                flags |= FLAG_AUDIO;
            }
            if media.video && latest.video_expected() {
                flags |= FLAG_VIDEO;
            }
            let header = file_header(flags);
            files.append(&[&header])?;
            p.len = header.len() as u64;
            p.header_flags = Some(flags);

            let codecs = CodecIds::from_configs(
                latest.video_sequence.as_deref(),
                latest.audio_sequence.as_deref(),
            );
            let meta = head_metadata(latest.metadata.as_deref(), media, codecs);
            let body_at = p.len + TAG_HEADER_LEN as u64;
            p.len += append_tag(files, TAG_SCRIPT, 0, &meta.body)?;
            p.duration_at = Some(body_at + meta.duration_at as u64);
            p.filesize_at = Some(body_at + meta.filesize_at as u64);
        } else {
            let e = existing::inspect(files, head.existing_len)?;
            p.time_shift = e.end_ms;
            p.header_flags = e.flags;
            p.written_flags = e.flags.unwrap_or(0) & (FLAG_AUDIO | FLAG_VIDEO);
            p.duration_at = e.duration_at;
            p.filesize_at = e.filesize_at;
            p.base_end_ms = u64::from(e.end_ms);
        }
        let at = p.epoch;
        if media.video {
            for c in latest.video_configs.iter() {
                p.write(files, TAG_VIDEO, at, c, true)?;
            }
        }
        if media.audio {
            for c in latest.audio_configs.iter() {
                p.write(files, TAG_AUDIO, at, c, true)?;
            }
        }
        Ok(p)
    }

    /// The file timestamp of a publisher timestamp. RTMP timestamps wrap at 2^32, so the
    /// difference is read as signed; frames from before the piece's start are written
    /// at its start, as nginx-rtmp does.
    fn file_ts(&self, ts: u32) -> u32 {
        let since = ts.wrapping_sub(self.epoch);
        let since = if (since as i32) < 0 { 0 } else { since };
        self.time_shift.wrapping_add(since)
    }

    /// Writes one tag. `aux` marks tags with no picture or sound (decoder
    /// configurations, end of sequence), which do not count as frames or extend the
    /// duration.
    pub(super) fn write(
        &mut self,
        files: &mut dyn RecordFiles,
        tag_type: u8,
        ts: u32,
        body: &[u8],
        aux: bool,
    ) -> io::Result<()> {
        let mut file_ts = self.file_ts(ts);
        if tag_type == TAG_SCRIPT {
            // Publishers stamp data messages with the time they were first sent (often
            // 0), which is not where they belong in this file.
            file_ts = file_ts.max(self.last_file_ts);
        }
        self.len += append_tag(files, tag_type, file_ts, body)?;
        self.last_file_ts = self.last_file_ts.max(file_ts);
        let (flag, end, frames) = match tag_type {
            TAG_VIDEO => (FLAG_VIDEO, &mut self.video_end, &mut self.video_frames),
            TAG_AUDIO => (FLAG_AUDIO, &mut self.audio_end, &mut self.audio_frames),
            _ => return Ok(()),
        };
        self.written_flags |= flag;
        if !aux {
            end.push(file_ts);
            *frames += 1;
        }
        Ok(())
    }

    pub(super) fn duration_ms(&self) -> u64 {
        self.video_end
            .end_ms()
            .max(self.audio_end.end_ms())
            .max(self.base_end_ms)
    }

    /// Patches the head and closes the file. The file is closed exactly once, whether or
    /// not the patches were written.
    pub(super) fn finish(&self, files: &mut dyn RecordFiles) -> io::Result<()> {
        let patched = self.patch(files);
        let closed = files.close();
        patched.and(closed)
    }

    fn patch(&self, files: &mut dyn RecordFiles) -> io::Result<()> {
        if let Some(at) = self.duration_at {
            let secs = self.duration_ms() as f64 / 1000.0;
            files.write_at(at, &secs.to_be_bytes())?;
        }
        if let Some(at) = self.filesize_at {
            files.write_at(at, &(self.len as f64).to_be_bytes())?;
        }
        // The header's flags were a guess made before any frame; players such as ffmpeg
        // wait for a stream the flags promise, so they are made to match what was written.
        if let Some(flags) = self.header_flags {
            if self.written_flags != 0 && self.written_flags != flags {
                files.write_at(FLAGS_AT, &[self.written_flags])?;
            }
        }
        Ok(())
    }
}
