//! One published stream's HLS: when to cut, what goes in a fragment, when playlists are
//! written and old fragments removed.
//!
//! Cutting follows nginx-rtmp: at a video key frame once the fragment is hls_fragment long
//! (or, aligned, once stream time enters a new multiple of it); on audio frames when the
//! stream has no H.264; forced at hls_max_fragment whatever the frame; and at a timestamp
//! jump, which also marks a discontinuity. Differences, each for a reason given where it is
//! done: buffered audio is flushed into the fragment being closed, not the next one; key
//! frames cut without waiting for audio; the PMT announces only the tracks that exist; DTS
//! never goes backwards within a timeline; a forced cut is no discontinuity.
//!
//! The container is chosen at the first frame (hls_fragment_type, and the codecs known
//! then) and kept for the publish. fMP4 fragments take every frame as a sample, with no
//! audio batching; a new initialization segment (new codec parameters, a track joining)
//! starts with a new fragment and a discontinuity.

use super::adts::{self, AdtsParams};
use super::annexb::{self, AvcParams};
use super::audio::{AudioBuffer, FrameClock};
use super::cleanup::{Retired, Stale};
use super::fmp4::{init_segment, AudioKind, AudioTrack, Fmp4Mux, VideoKind, VideoTrack};
use super::naming::{self, Names};
use super::playlist::{self, Fragment, Playlist};
use super::tag::{self, Tag};
use super::timeline::{Timeline, Track};
use super::ts::{pes, AudioFormat, Muxer, Tracks};
use super::{FragmentType, HlsConf, HlsFiles, PlaylistType, Slicing};
use crate::hub::FrameKind;
use crate::media::av1;
use crate::media::codec::{AudioCodec, VideoCodec};

/// A video frame lasts until the next one, which is unknown when a fragment ends with it:
/// the previous frame distance stands in, but a gap longer than this is a pause in the
/// stream, not a frame length.
const MAX_FRAME_MS: i64 = 1000;

/// fMP4 samples buffered past this go out as a movie fragment of their own, so a long
/// fragment never sits whole in memory.
const FMP4_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Ts,
    Fmp4,
}

#[derive(Debug)]
struct OpenFragment {
    id: u64,
    start_ms: i64,
    /// Where the media written so far ends (the last frame's time plus its length).
    end_ms: i64,
    discont: bool,
    tracks: Tracks,
    /// fMP4: the initialization segment the fragment uses.
    init: Option<u64>,
}

/// The fMP4 side: the initialization segment in use (named after the fragment that first
/// used it) with the tracks it describes, and the samples of the open fragment.
#[derive(Debug)]
struct Mp4Out {
    mux: Fmp4Mux,
    init: u64,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
}

#[derive(Debug)]
pub struct HlsStream {
    conf: HlsConf,
    names: Names,
    playlist: Playlist,
    retired: Retired,
    /// Media in fragments closed since publish, in ms: the clock cleanup waits on.
    written_ms: u64,
    muxer: Muxer,
    /// Bytes for the open fragment, handed to the shell once per frame.
    out: Vec<u8>,
    /// The Annex B access unit being built.
    au: Vec<u8>,
    timeline: Timeline,
    avc: Option<AvcParams>,
    aac: Option<AdtsParams>,
    audio_format: Option<AudioFormat>,
    audio: AudioBuffer,
    open: Option<OpenFragment>,
    /// The next fragment starts after a jump, a restart or a codec change.
    pending_discont: bool,
    /// Tracks or parameters changed: cut at the next chance whatever the fragment's length.
    cut_soon: bool,
    /// Aligned slicing before the first fragment: the last frame seen in the current slot.
    aligned_ref: Option<i64>,
    last_video_ms: Option<i64>,
    /// The latest distance between two video frames: the length given to the last one.
    video_gap_ms: i64,
    last_video_dts: Option<i64>,
    last_audio_pts: Option<i64>,
    finished: bool,
    /// The codecs seen so far, which decide the container.
    video_codec: Option<VideoCodec>,
    audio_codec: Option<AudioCodec>,
    container: Option<Container>,
    /// The latest configurations fMP4 can describe.
    video_track: Option<VideoTrack>,
    audio_track: Option<AudioTrack>,
    mp4: Option<Mp4Out>,
    last_audio_ms: Option<i64>,
    audio_gap_ms: i64,
}

/// The distance from a track's previous frame (a frame's length when the next one is
/// unknown): `gap` unchanged after a jump, a pause or a step back.
fn frame_gap(last_ms: &mut Option<i64>, ms: i64, jumped: bool, gap: i64) -> i64 {
    let prev = if jumped { None } else { *last_ms };
    *last_ms = Some(ms);
    match prev {
        Some(prev) if ms > prev => (ms - prev).min(MAX_FRAME_MS),
        _ => gap,
    }
}

fn io_error(what: &str, name: &str, e: std::io::Error) -> String {
    format!("hls: {what} \"{name}\": {e}")
}

impl HlsStream {
    /// At publish. `unix_ms` is wall-clock ms (for timestamp/system naming); may read the
    /// old playlist (continuous).
    pub fn new(conf: HlsConf, stream_name: &str, files: &mut dyn HlsFiles, unix_ms: u64) -> Self {
        let _ = unix_ms; // names take the clock when each fragment opens
        let mut conf = conf;
        conf.fragment_ms = conf.fragment_ms.max(1);
        conf.max_fragment_ms = match conf.max_fragment_ms {
            0 => conf.fragment_ms.saturating_mul(10),
            m => m.max(conf.fragment_ms),
        };
        let names = Names::new(&conf, stream_name);
        let mut playlist = Playlist::new(&conf);
        let mut retired = Retired::new(playlist::EVENT_MAX_FRAGMENTS);
        let cleanup = conf.cleanup && conf.playlist_type == PlaylistType::Live;
        if conf.continuous || cleanup {
            if let Some(text) = files.read_file(&names.playlist()) {
                if conf.continuous {
                    for f in playlist.restore(&text) {
                        if cleanup {
                            retired.retire((f.id, f.init), 0);
                        }
                    }
                } else {
                    // Numbering starts over and overwrites what it reaches; the rest of the
                    // old fragments would otherwise be left behind for good.
                    for f in playlist::listed(&text, playlist::EVENT_MAX_FRAGMENTS) {
                        retired.retire(f, 0);
                    }
                }
            }
        }
        let audio_cap = conf.audio_buffer_size.min(pes::MAX_AUDIO_PAYLOAD);
        HlsStream {
            names,
            pending_discont: !playlist.is_empty(),
            playlist,
            retired,
            written_ms: 0,
            muxer: Muxer::new(conf.muxdelay_ms),
            out: Vec::new(),
            au: Vec::new(),
            timeline: Timeline::new(conf.max_fragment_ms),
            avc: None,
            aac: None,
            audio_format: None,
            audio: AudioBuffer::new(audio_cap, conf.sync_ms),
            open: None,
            cut_soon: false,
            aligned_ref: None,
            last_video_ms: None,
            video_gap_ms: 0,
            last_video_dts: None,
            last_audio_pts: None,
            finished: false,
            video_codec: None,
            audio_codec: None,
            container: None,
            video_track: None,
            audio_track: None,
            mp4: None,
            last_audio_ms: None,
            audio_gap_ms: 0,
            conf,
        }
    }

    /// Every frame the publisher sends, in order. Err = a file error: the shell logs it and
    /// drops HLS for this stream. No input makes it panic.
    pub fn frame(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        kind: FrameKind,
        timestamp: u32,
        payload: &bytes::Bytes,
    ) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        let tag = match kind {
            FrameKind::Data => return Ok(()),
            FrameKind::Video => tag::video(payload),
            FrameKind::Audio => tag::audio(payload),
        };
        match tag {
            Tag::VideoConfig { codec, record } => self.set_video_config(codec, record),
            Tag::AudioConfig { codec, record } => self.set_audio_config(codec, record),
            Tag::VideoFrame {
                codec,
                key,
                cts,
                data,
            } => {
                self.video_codec.get_or_insert(codec);
                match (self.container(), codec) {
                    (Container::Fmp4, _) => {
                        let frame = (codec, key, cts, data);
                        return self.video_mp4(files, unix_ms, timestamp, frame);
                    }
                    (Container::Ts, VideoCodec::Avc) => {
                        return self.video(files, unix_ms, timestamp, key, cts, data)
                    }
                    _ => {}
                }
            }
            Tag::AudioFrame { codec, data } => {
                self.audio_codec.get_or_insert(codec);
                let format = match codec {
                    AudioCodec::Aac => Some(AudioFormat::Aac),
                    AudioCodec::Mp3 => Some(AudioFormat::Mp3),
                    _ => None,
                };
                match (self.container(), format) {
                    (Container::Fmp4, _) => {
                        return self.audio_mp4(files, unix_ms, timestamp, codec, data)
                    }
                    (Container::Ts, Some(format)) => {
                        return self.audio(files, unix_ms, timestamp, format, data)
                    }
                    _ => {}
                }
            }
            Tag::Other => {}
        }
        Ok(())
    }

    /// The container, chosen once at the first frame from hls_fragment_type and the codecs
    /// known then (configurations come first from every encoder).
    fn container(&mut self) -> Container {
        if let Some(c) = self.container {
            return c;
        }
        let ts_video = self.video_codec.is_none_or(|c| c == VideoCodec::Avc);
        let ts_audio = self
            .audio_codec
            .is_none_or(|c| matches!(c, AudioCodec::Aac | AudioCodec::Mp3));
        let c = match self.conf.fragment_type {
            FragmentType::MpegTs => Container::Ts,
            FragmentType::Fmp4 => Container::Fmp4,
            FragmentType::Auto if ts_video && ts_audio => Container::Ts,
            FragmentType::Auto => Container::Fmp4,
        };
        self.container = Some(c);
        c
    }

    fn set_video_config(&mut self, codec: VideoCodec, record: &[u8]) {
        self.video_codec = Some(codec);
        if codec == VideoCodec::Avc {
            self.set_avc(record);
        }
        let Some(mut track) =
            VideoKind::from_codec(codec).and_then(|kind| VideoTrack::new(kind, record))
        else {
            return;
        };
        if let Some(old) = &self.video_track {
            if old.record == track.record {
                // The same sequence start again: keep the size a keyframe taught.
                track.width = old.width;
                track.height = old.height;
            }
        }
        self.video_track = Some(track);
        self.mp4_tracks_changed();
    }

    fn set_audio_config(&mut self, codec: AudioCodec, record: &[u8]) {
        self.audio_codec = Some(codec);
        if codec == AudioCodec::Aac {
            self.set_aac(record);
        }
        if let Some(track) =
            AudioKind::from_codec(codec).and_then(|kind| AudioTrack::new(kind, record))
        {
            self.audio_track = Some(track);
            self.mp4_tracks_changed();
        }
    }

    /// fMP4: new track descriptions need a new initialization segment, which starts with a
    /// new fragment at the next chance.
    fn mp4_tracks_changed(&mut self) {
        let Some(m) = &self.mp4 else {
            return;
        };
        let video_changed = match (&m.video, &self.video_track) {
            (Some(old), Some(new)) => old.codec != new.codec || old.record != new.record,
            (old, new) => old.is_some() != new.is_some(),
        };
        if video_changed || m.audio != self.audio_track {
            self.cut_soon = true;
            self.pending_discont = true;
        }
    }

    /// Unpublish: closes the open fragment and writes the final playlist, without
    /// EXT-X-ENDLIST (as nginx-rtmp: a publisher that reconnects continues the same
    /// playlist, and players keep polling). With hls_cleanup, fragments already out of the
    /// playlist are removed now, since nothing runs later to remove them; the playlist and
    /// the fragments it lists stay.
    pub fn finish(&mut self, files: &mut dyn HlsFiles) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if let Some(end) = self.open.as_ref().map(|o| o.end_ms) {
            self.close_fragment(files, end)?;
        }
        if self.cleanup_enabled() {
            for f in self.retired.drain() {
                self.remove_fragment(files, f);
            }
        }
        Ok(())
    }

    fn cleanup_enabled(&self) -> bool {
        self.conf.cleanup && self.conf.playlist_type == PlaylistType::Live
    }

    fn known_tracks(&self) -> Tracks {
        Tracks {
            video: self.avc.is_some(),
            audio: self.audio_format,
        }
    }

    fn set_avc(&mut self, record: &[u8]) {
        let Some(params) = annexb::parse_config(record) else {
            return;
        };
        if self.avc.as_ref().is_some_and(|old| *old != params) {
            // New parameters take effect at the next key frame, in a new fragment.
            self.cut_soon = true;
            self.pending_discont = true;
        }
        self.avc = Some(params);
    }

    fn set_aac(&mut self, asc: &[u8]) {
        let Some(params) = adts::parse_config(asc) else {
            return;
        };
        if self.aac.is_some_and(|old| old != params) {
            self.cut_soon = true;
            self.pending_discont = true;
        }
        self.aac = Some(params);
        self.audio_format = Some(AudioFormat::Aac);
    }

    fn video(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        timestamp: u32,
        key: bool,
        cts: i32,
        data: &[u8],
    ) -> Result<(), String> {
        if self.avc.is_none() {
            return Ok(());
        }
        let (ms, jumped) = self.place_video(timestamp);
        self.update(files, unix_ms, ms, jumped, key, 1)?;

        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if !open.tracks.video {
            self.cut_soon = true;
            self.pending_discont = true;
            return Ok(());
        }
        let Some(params) = self.avc.as_ref() else {
            return Ok(());
        };
        self.au.clear();
        if !annexb::write_access_unit(&mut self.au, params, key, data) {
            return Ok(());
        }
        // A decoder cannot take a DTS at or before the previous one; small steps back that
        // are not a jump are pushed just past it.
        let dts = match self.last_video_dts {
            Some(last) if ms <= last => last.saturating_add(1),
            _ => ms,
        };
        let pts = ms.saturating_add(i64::from(cts)).max(dts);
        self.last_video_dts = Some(dts);
        open.end_ms = open.end_ms.max(dts.saturating_add(self.video_gap_ms));
        self.muxer.video(
            &mut self.out,
            dts.saturating_mul(90),
            pts.saturating_mul(90),
            key,
            &self.au,
        );
        self.write_out(files)
    }

    /// Places a video frame on the timeline and learns the frame distance.
    fn place_video(&mut self, timestamp: u32) -> (i64, bool) {
        let (ms, jumped) = self.timeline.place(Track::Video, timestamp);
        self.video_gap_ms = frame_gap(&mut self.last_video_ms, ms, jumped, self.video_gap_ms);
        (ms, jumped)
    }

    fn video_mp4(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        timestamp: u32,
        frame: (VideoCodec, bool, i32, &[u8]),
    ) -> Result<(), String> {
        let (codec, key, cts, data) = frame;
        // A frame of another codec than the track's (a FourCC change without a new
        // sequence start) cannot go under its sample description.
        let Some(track) = self
            .video_track
            .as_mut()
            .filter(|t| VideoKind::from_codec(codec) == Some(t.codec))
        else {
            return Ok(());
        };
        if key {
            track.learn_size(data);
        }
        let (ms, jumped) = self.place_video(timestamp);
        self.update(files, unix_ms, ms, jumped, key, 1)?;
        let (Some(open), Some(mp4)) = (self.open.as_mut(), self.mp4.as_mut()) else {
            return Ok(());
        };
        if !mp4.mux.has_video() {
            self.cut_soon = true;
            self.pending_discont = true;
            return Ok(());
        }
        let stripped = match mp4.video.as_ref().map(|v| v.codec) {
            Some(VideoKind::Av1) => av1::without_temporal_delimiters(data),
            _ => None,
        };
        mp4.mux
            .push_video(ms, cts, key, stripped.as_deref().unwrap_or(data));
        open.end_ms = open.end_ms.max(ms.saturating_add(self.video_gap_ms));
        self.mp4_chunk(files)
    }

    fn audio_mp4(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        timestamp: u32,
        codec: AudioCodec,
        data: &[u8],
    ) -> Result<(), String> {
        let ours = self
            .audio_track
            .as_ref()
            .is_some_and(|t| AudioKind::from_codec(codec) == Some(t.codec));
        if data.is_empty() || !ours {
            return Ok(());
        }
        let (ms, jumped) = self.timeline.place(Track::Audio, timestamp);
        self.audio_gap_ms = frame_gap(&mut self.last_audio_ms, ms, jumped, self.audio_gap_ms);
        // Without video there are no key frames to wait for: audio decides the cuts.
        let cut_ok = self.video_track.is_none();
        self.update(files, unix_ms, ms, jumped, cut_ok, 2)?;
        let (Some(open), Some(mp4)) = (self.open.as_mut(), self.mp4.as_mut()) else {
            return Ok(());
        };
        if !mp4.mux.has_audio() {
            self.cut_soon = true;
            self.pending_discont = true;
            return Ok(());
        }
        mp4.mux.push_audio(ms, data);
        open.end_ms = open.end_ms.max(ms.saturating_add(self.audio_gap_ms));
        self.mp4_chunk(files)
    }

    /// Writes out the samples of a long fragment as a movie fragment of their own.
    fn mp4_chunk(&mut self, files: &mut dyn HlsFiles) -> Result<(), String> {
        match self.mp4.as_mut() {
            Some(m) if m.mux.buffered() > FMP4_CHUNK_BYTES => {
                m.mux.chunk(&mut self.out);
                self.write_out(files)
            }
            _ => Ok(()),
        }
    }

    /// Before an fMP4 fragment `id` opens: the initialization segment for the tracks known
    /// now, written (named after `id`) when it differs from the one in use.
    fn prepare_mp4(&mut self, files: &mut dyn HlsFiles, id: u64) -> Result<u64, String> {
        let video = self.video_track.clone();
        let audio = self.audio_track.clone();
        if let Some(m) = &self.mp4 {
            if m.video == video && m.audio == audio {
                return Ok(m.init);
            }
            // A new initialization segment: players must reset their decoders.
            self.pending_discont = true;
        }
        let name = self.names.init(id);
        files
            .write_init(&name, &init_segment(video.as_ref(), audio.as_ref()))
            .map_err(|e| io_error("cannot write initialization segment", &name, e))?;
        let mux = Fmp4Mux::new(video.is_some(), audio.as_ref().map(|a| a.sample_rate));
        self.mp4 = Some(Mp4Out {
            mux,
            init: id,
            video,
            audio,
        });
        Ok(id)
    }

    fn audio(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        timestamp: u32,
        format: AudioFormat,
        raw: &[u8],
    ) -> Result<(), String> {
        if raw.is_empty() {
            return Ok(());
        }
        let (header, clock) = match format {
            AudioFormat::Aac => {
                let Some(p) = self.aac else {
                    return Ok(());
                };
                let Some(h) = adts::header(&p, raw.len()) else {
                    return Ok(());
                };
                let clock = FrameClock {
                    samples: p.frame_samples,
                    rate: p.sample_rate,
                };
                (Some(h), Some(clock))
            }
            AudioFormat::Mp3 => (None, None),
        };
        let size = raw.len() + header.map_or(0, |h| h.len());
        if !self.audio.could_fit(size) {
            return Ok(());
        }
        if self.audio_format != Some(format) {
            self.audio_format = Some(format);
            self.audio.clear();
        }
        let (ms, jumped) = self.timeline.place(Track::Audio, timestamp);
        // Without H.264 there are no key frames to wait for: audio decides the cuts.
        let cut_ok = self.avc.is_none();
        self.update(files, unix_ms, ms, jumped, cut_ok, 2)?;

        let frame_ms = clock.map_or(0, |c| {
            i64::from(c.samples) * 1000 / i64::from(c.rate.max(1))
        });
        match self.open.as_mut() {
            None => {
                // Kept for the fragment a key frame will open, but only as much as would
                // have been muxed by then anyway.
                let delay = i64::try_from(self.conf.max_audio_delay_ms).unwrap_or(i64::MAX);
                if !self.audio.is_empty()
                    && self.audio.pts().saturating_add(delay.saturating_mul(90))
                        < ms.saturating_mul(90)
                    || !self.audio.fits(size)
                {
                    self.audio.clear();
                }
            }
            Some(open) => {
                if open.tracks.audio != Some(format) {
                    self.cut_soon = true;
                    self.pending_discont = true;
                    return Ok(());
                }
                open.end_ms = open.end_ms.max(ms.saturating_add(frame_ms));
                if !self.audio.fits(size) {
                    self.flush_audio(files)?;
                }
            }
        }
        let parts: [&[u8]; 2] = match &header {
            Some(h) => [h, raw],
            None => [raw, &[]],
        };
        self.audio.push(ms.saturating_mul(90), &parts, clock);
        Ok(())
    }

    /// Decides whether this frame (at `ms`) closes the open fragment or opens the first
    /// one, then flushes audio that has waited long enough. `cut_ok`: a frame a fragment
    /// may start with. `flush_rate`: audio frames flush at half the delay, as nginx-rtmp.
    fn update(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        ms: i64,
        jumped: bool,
        cut_ok: bool,
        flush_rate: i64,
    ) -> Result<(), String> {
        let fragment = i64::try_from(self.conf.fragment_ms).unwrap_or(i64::MAX);
        let max_fragment = i64::try_from(self.conf.max_fragment_ms).unwrap_or(i64::MAX);
        let slot = |t: i64| t.div_euclid(fragment);
        match self.open.as_ref() {
            Some(open) => {
                let length = ms.saturating_sub(open.start_ms);
                // A long GOP forced out at hls_max_fragment keeps its timeline, so unlike
                // nginx-rtmp only a jump marks a discontinuity.
                let force = jumped || length > max_fragment;
                // nginx-rtmp also waits for buffered audio before cutting at a key frame,
                // so a stream whose audio stops never cuts before hls_max_fragment; we don't.
                let boundary = cut_ok
                    && (self.cut_soon
                        || match self.conf.slicing {
                            Slicing::Plain => length >= fragment,
                            Slicing::Aligned => slot(ms) != slot(open.start_ms),
                        });
                if force || boundary {
                    // At a jump the fragment ends with its own last frame, not at a time
                    // from the new timeline.
                    let end = if jumped { open.end_ms } else { ms };
                    self.close_fragment(files, end)?;
                    if jumped {
                        self.restart_clocks();
                    }
                    self.open_fragment(files, unix_ms, ms)?;
                }
            }
            None => {
                if jumped {
                    self.restart_clocks();
                    self.audio.clear();
                }
                let open_now = match self.conf.slicing {
                    Slicing::Plain => cut_ok,
                    Slicing::Aligned => match self.aligned_ref {
                        // Wait for a slot boundary, so the first fragment is aligned too.
                        Some(r) if slot(r) != slot(ms) => cut_ok,
                        _ => {
                            self.aligned_ref = Some(ms);
                            false
                        }
                    },
                };
                if open_now {
                    self.open_fragment(files, unix_ms, ms)?;
                }
            }
        }
        if self.open.is_some() && !self.audio.is_empty() {
            let delay = i64::try_from(self.conf.max_audio_delay_ms).unwrap_or(i64::MAX);
            let due = self
                .audio
                .pts()
                .saturating_add(delay.saturating_mul(90) / flush_rate);
            if due < ms.saturating_mul(90) {
                self.flush_audio(files)?;
            }
        }
        Ok(())
    }

    fn restart_clocks(&mut self) {
        self.pending_discont = true;
        self.muxer.mark_discontinuity();
        self.last_video_dts = None;
        self.last_audio_pts = None;
        if let Some(m) = self.mp4.as_mut() {
            m.mux.restart();
        }
    }

    fn open_fragment(
        &mut self,
        files: &mut dyn HlsFiles,
        unix_ms: u64,
        ms: i64,
    ) -> Result<(), String> {
        if let Some(dir) = self.names.dir() {
            files
                .create_dir(dir)
                .map_err(|e| io_error("cannot create directory", dir, e))?;
        }
        let sequence = self.playlist.next_sequence();
        let mut id = naming::fragment_id(&self.conf, sequence, ms.saturating_mul(90), unix_ms);
        // Never reuse a name the playlist still lists (timestamps restarting, a clock
        // stepping back, granularity buckets): nginx-rtmp would overwrite it under players.
        if let Some(last) = self.playlist.last_id() {
            if id <= last {
                id = last.saturating_add(1);
            }
        }
        let init = match self.container() {
            Container::Fmp4 => Some(self.prepare_mp4(files, id)?),
            Container::Ts => None,
        };
        let name = self.names.fragment(id, init.is_some());
        files
            .open_fragment(&name)
            .map_err(|e| io_error("cannot open fragment", &name, e))?;
        self.retired.reuse(id);
        let tracks = self.known_tracks();
        self.out.clear();
        if init.is_none() {
            self.muxer.start_fragment(&mut self.out, tracks);
        }
        self.open = Some(OpenFragment {
            id,
            start_ms: ms,
            end_ms: ms,
            discont: self.pending_discont && !self.playlist.is_empty(),
            tracks,
            init,
        });
        self.pending_discont = false;
        self.cut_soon = false;
        self.write_out(files)
    }

    /// Writes the fragment's last audio, closes it, and publishes it in the playlist.
    fn close_fragment(&mut self, files: &mut dyn HlsFiles, end_ms: i64) -> Result<(), String> {
        // The audio waiting in the buffer belongs to this fragment's time span; putting it
        // here (nginx-rtmp puts it in the next one) lets every fragment start with its key
        // frame, which is where players begin decoding.
        self.flush_audio(files)?;
        if let (Some(_), Some(m)) = (self.open.as_ref(), self.mp4.as_mut()) {
            m.mux.finish(&mut self.out, end_ms);
            self.write_out(files)?;
        }
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let mp4 = open.init.is_some();
        files.close_fragment().map_err(|e| {
            io_error(
                "cannot close fragment",
                &self.names.fragment(open.id, mp4),
                e,
            )
        })?;
        let duration_ms = u64::try_from(end_ms.saturating_sub(open.start_ms)).unwrap_or(0);
        let dropped = self.playlist.push(Fragment {
            id: open.id,
            duration_ms,
            discont: open.discont,
            init: open.init,
        });
        self.written_ms = self.written_ms.saturating_add(duration_ms);
        let cleanup = self.cleanup_enabled();
        if cleanup {
            for f in dropped {
                self.retired.retire((f.id, f.init), self.written_ms);
            }
        }
        self.write_playlists(files)?;
        if cleanup {
            for f in self
                .retired
                .due(self.written_ms, self.conf.playlist_length_ms)
            {
                self.remove_fragment(files, f);
            }
        }
        Ok(())
    }

    fn write_playlists(&mut self, files: &mut dyn HlsFiles) -> Result<(), String> {
        let name = self.names.playlist();
        files
            .write_playlist(&name, &self.playlist.render(&self.names))
            .map_err(|e| io_error("cannot write playlist", &name, e))?;
        if let (Some(name), Some(text)) = (
            self.names.master(),
            self.names.master_text(&self.conf.variants),
        ) {
            files
                .write_playlist(&name, &text)
                .map_err(|e| io_error("cannot write variant playlist", &name, e))?;
        }
        Ok(())
    }

    /// Removes a stale fragment, and its initialization segment once nothing still around
    /// (listed, waiting for removal, open, or the one in use) needs it.
    fn remove_fragment(&mut self, files: &mut dyn HlsFiles, (id, init): Stale) {
        let in_use = self.playlist.contains(id) || self.open.as_ref().is_some_and(|o| o.id == id);
        if !in_use {
            files.remove(&self.names.fragment(id, init.is_some()));
        }
        let Some(init) = init else {
            return;
        };
        let needed = self.playlist.uses_init(init)
            || self.retired.uses_init(init)
            || self.open.as_ref().is_some_and(|o| o.init == Some(init))
            || self.mp4.as_ref().is_some_and(|m| m.init == init);
        if !needed {
            files.remove(&self.names.init(init));
        }
    }

    fn flush_audio(&mut self, files: &mut dyn HlsFiles) -> Result<(), String> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let Some((pts, data)) = self.audio.pending() else {
            return Ok(());
        };
        if open.tracks.audio.is_some() {
            let pts = match self.last_audio_pts {
                Some(last) if pts <= last => last.saturating_add(1),
                _ => pts,
            };
            self.last_audio_pts = Some(pts);
            self.muxer.audio(&mut self.out, pts, data);
        }
        self.audio.clear();
        self.write_out(files)
    }

    fn write_out(&mut self, files: &mut dyn HlsFiles) -> Result<(), String> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = files.write_fragment(&self.out);
        self.out.clear();
        result.map_err(|e| {
            let name = self
                .open
                .as_ref()
                .map(|o| self.names.fragment(o.id, o.init.is_some()));
            io_error("cannot write fragment", name.as_deref().unwrap_or("?"), e)
        })
    }
}
