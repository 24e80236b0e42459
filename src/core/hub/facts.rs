//! What the stat page says about a stream's media, learned from the frames as they pass:
//! codecs and their parameters from the sequence headers (H.264, HEVC, AV1 and VP9 video;
//! AAC, Opus, FLAC and AC-3 audio, legacy or Enhanced RTMP) and onMetaData, byte counts
//! per kind, and the last timestamps (for A/V sync).
use crate::media::aac::parse_aac_sequence_header;
use crate::media::audio_info::{self, AudioInfo};
use crate::media::av1;
use crate::media::avc::parse_avc_sequence_header;
use crate::media::codec::{AudioCodec, VideoCodec};
use crate::media::enhanced::{self, ExHeader, Track};
use crate::media::flv::{
    audio_codec, audio_is_config, video_codec, video_is_config, video_is_end_of_sequence,
    video_is_keyframe, video_is_sequence_header,
};
use crate::media::hevc;
use crate::media::metadata::{parse_metadata, StreamMeta};
use crate::media::vp9;
use crate::stat::{AudioMeta, VideoMeta};

use super::stream::FrameKind;

/// Video frames counted for a frame rate when onMetaData gives none.
const RATE_WINDOW_MS: u32 = 2000;

#[derive(Debug, Clone, Default)]
pub struct StreamFacts {
    pub video: Option<VideoMeta>,
    pub audio: Option<AudioMeta>,
    pub audio_bytes: u64,
    pub video_bytes: u64,
    pub last_audio_ts: Option<u32>,
    pub last_video_ts: Option<u32>,
    pub frames: u64,
    /// onMetaData named the frame rate: it is not measured.
    rate_from_metadata: bool,
    /// (first timestamp, pictures after it) while measuring the frame rate.
    rate_count: Option<(u32, u32)>,
}

impl StreamFacts {
    /// Learns from one frame (payload as received; data messages after @setDataFrame).
    pub fn observe(&mut self, kind: FrameKind, timestamp: u32, payload: &[u8]) {
        self.frames += 1;
        match kind {
            FrameKind::Video => {
                self.video_bytes += payload.len() as u64;
                self.last_video_ts = Some(timestamp);
                if video_is_sequence_header(payload) {
                    self.learn_video(payload);
                } else if video_is_keyframe(payload) {
                    self.learn_from_keyframe(payload);
                }
                if self.video.is_some() && !self.rate_from_metadata {
                    self.measure_rate(timestamp, payload);
                }
            }
            FrameKind::Audio => {
                self.audio_bytes += payload.len() as u64;
                self.last_audio_ts = Some(timestamp);
                if audio_is_config(payload) || self.audio.is_none() {
                    self.learn_audio(payload);
                } else if self.audio.as_ref().is_some_and(|a| a.channels == 0) {
                    self.learn_from_audio_frame(payload);
                }
            }
            FrameKind::Data => {
                if let Some(meta) = parse_metadata(payload) {
                    self.learn_metadata(&meta);
                }
            }
        }
    }

    /// Audio minus video timestamp of the last frames, as nginx-rtmp's `avsync`.
    pub fn avsync(&self) -> i64 {
        match (self.last_audio_ts, self.last_video_ts) {
            (Some(a), Some(v)) => i64::from(a) - i64::from(v),
            _ => 0,
        }
    }

    fn learn_video(&mut self, p: &[u8]) {
        let Some(track) = track0(enhanced::video(p)) else {
            return;
        };
        let codec = track.map_or(video_codec(p), |t| Some(VideoCodec::from_fourcc(t.fourcc)));
        let v = self.video.get_or_insert_with(VideoMeta::default);
        if let Some(codec) = codec {
            v.codec = codec.name().to_string();
        }
        if let Some(avc) = parse_avc_sequence_header(p) {
            v.profile = avc.profile_name().to_string();
            v.compat = u32::from(avc.compat);
            v.level = format!("{}.{}", avc.level / 10, avc.level % 10);
            set_size(v, avc.size);
            return;
        }
        let Some(record) = body(track) else {
            return;
        };
        match codec {
            Some(VideoCodec::Hevc) => {
                if let Some(c) = hevc::parse_hvcc(record) {
                    v.profile = c.profile_name().to_string();
                    v.level = c.level_name();
                    set_size(v, c.size);
                }
            }
            Some(VideoCodec::Av1) => {
                if let Some(c) = av1::parse_av1c(record) {
                    v.profile = c.profile_name().to_string();
                    v.level = c.level_name();
                    set_size(v, c.size);
                }
            }
            Some(VideoCodec::Vp9) => {
                if let Some(c) = vp9::parse_vpcc(record) {
                    v.profile = c.profile_name();
                    v.level = c.level_name();
                }
            }
            _ => {}
        }
    }

    /// VP9 configuration records hold no picture size, and an av1C may hold no sequence
    /// header: the first keyframe tells.
    fn learn_from_keyframe(&mut self, p: &[u8]) {
        let Some(v) = self.video.as_mut().filter(|v| v.width == 0) else {
            return;
        };
        let Some(Some(track)) = track0(enhanced::video(p)) else {
            return;
        };
        let frame = track.body;
        let size = match VideoCodec::from_fourcc(track.fourcc) {
            VideoCodec::Vp9 => vp9::keyframe_size(frame),
            VideoCodec::Av1 => av1::sequence_header_size(frame),
            _ => None,
        };
        set_size(v, size);
    }

    /// Pictures per second over the first seconds of video, for publishers whose
    /// onMetaData has no `framerate`.
    fn measure_rate(&mut self, timestamp: u32, p: &[u8]) {
        if video_is_config(p) || video_is_end_of_sequence(p) {
            return;
        }
        let Some((first, pictures)) = self.rate_count else {
            self.rate_count = Some((timestamp, 0));
            return;
        };
        let span = timestamp.wrapping_sub(first);
        if span > u32::MAX / 2 {
            // Time went backwards: start over from here.
            self.rate_count = Some((timestamp, 0));
            return;
        }
        let pictures = pictures + 1;
        self.rate_count = Some((first, pictures));
        if span >= RATE_WINDOW_MS {
            let rate = f64::from(pictures) * 1000.0 / f64::from(span);
            if let Some(v) = self.video.as_mut() {
                v.frame_rate = (rate * 100.0).round() / 100.0;
            }
            self.rate_count = Some((timestamp, 0));
        }
    }

    fn learn_audio(&mut self, p: &[u8]) {
        let Some(track) = track0(enhanced::audio(p)) else {
            return;
        };
        let codec = track.map_or(audio_codec(p), |t| Some(AudioCodec::from_fourcc(t.fourcc)));
        let a = self.audio.get_or_insert_with(AudioMeta::default);
        if let Some(codec) = codec {
            a.codec = codec.name().to_string();
        }
        if let Some(aac) = parse_aac_sequence_header(p) {
            a.profile = aac.profile_name().to_string();
            if let Some(ch) = aac.channels() {
                a.channels = u32::from(ch);
            }
            if let Some(rate) = aac.sample_rate {
                a.sample_rate = rate;
            }
            return;
        }
        let info = match (codec, body(track)) {
            (Some(AudioCodec::Opus), Some(b)) => audio_info::opus_head(b),
            (Some(AudioCodec::Flac), Some(b)) => audio_info::flac_streaminfo(b),
            _ => None,
        };
        set_audio(a, info);
    }

    /// AC-3's SequenceStart is empty: its frames tell.
    fn learn_from_audio_frame(&mut self, p: &[u8]) {
        let (Some(a), Some(Some(track))) = (self.audio.as_mut(), track0(enhanced::audio(p))) else {
            return;
        };
        if AudioCodec::from_fourcc(track.fourcc) == AudioCodec::Ac3 {
            set_audio(a, audio_info::ac3_frame(track.body));
        }
    }

    fn learn_metadata(&mut self, m: &StreamMeta) {
        if m.width.is_some() || m.height.is_some() || m.frame_rate.is_some() {
            let v = self.video.get_or_insert_with(VideoMeta::default);
            if v.width == 0 {
                v.width = m.width.unwrap_or(0);
            }
            if v.height == 0 {
                v.height = m.height.unwrap_or(0);
            }
            if let Some(fps) = m.frame_rate.filter(|f| f.is_finite() && *f >= 0.0) {
                v.frame_rate = fps;
                self.rate_from_metadata = true;
            }
        }
        if let Some(ch) = m.audio_channels {
            let a = self.audio.get_or_insert_with(AudioMeta::default);
            if a.channels == 0 {
                a.channels = ch;
            }
        }
        if let Some(rate) = m.audio_sample_rate {
            let a = self.audio.get_or_insert_with(AudioMeta::default);
            if a.sample_rate == 0 {
                a.sample_rate = rate;
            }
        }
    }
}

/// For an Enhanced message its track 0, and `None` when it carries other tracks only: of
/// a Multitrack stream the page describes track 0, the track HLS carries. A legacy message
/// is `Some(None)`.
fn track0(header: Option<ExHeader<'_>>) -> Option<Option<Track<'_>>> {
    match header {
        Some(h) => h.default_track().map(Some),
        None => Some(None),
    }
}

/// A track's body, unless empty.
fn body<'a>(t: Option<Track<'a>>) -> Option<&'a [u8]> {
    t.map(|t| t.body).filter(|b| !b.is_empty())
}

fn set_size(v: &mut VideoMeta, size: Option<(u32, u32)>) {
    if let Some((w, h)) = size {
        v.width = w;
        v.height = h;
    }
}

fn set_audio(a: &mut AudioMeta, info: Option<AudioInfo>) {
    if let Some(i) = info {
        a.channels = i.channels;
        a.sample_rate = i.sample_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_codecs_sizes_and_sync() {
        let mut f = StreamFacts::default();
        // An AVC sequence header for a 16x16 High-profile SPS is overkill here; a bare
        // AVCDecoderConfigurationRecord header gives profile, compat and level.
        let avc = [
            0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00,
        ];
        f.observe(FrameKind::Video, 0, &avc);
        let v = f.video.clone().unwrap();
        assert_eq!(
            (v.codec.as_str(), v.profile.as_str(), v.level.as_str()),
            ("H264", "High", "3.1")
        );
        let aac = [0xaf, 0x00, 0x12, 0x10];
        f.observe(FrameKind::Audio, 0, &aac);
        let a = f.audio.clone().unwrap();
        assert_eq!(
            (
                a.codec.as_str(),
                a.profile.as_str(),
                a.sample_rate,
                a.channels
            ),
            ("AAC", "LC", 44100, 2)
        );
        f.observe(FrameKind::Video, 1000, &[0x27, 0x01, 0, 0, 0]);
        f.observe(FrameKind::Audio, 1023, &[0xaf, 0x01, 1]);
        assert_eq!(f.avsync(), 23);
        assert_eq!(f.frames, 4);
        assert_eq!(f.video_bytes, 12 + 5);
    }

    fn seed(name: &str) -> &'static [u8] {
        match name {
            "hevc_seq" => include_bytes!("../fuzz/seeds/flv/ex_hevc_seq"),
            "hevc_key" => include_bytes!("../fuzz/seeds/flv/ex_hevc_key"),
            "hevc_inter" => include_bytes!("../fuzz/seeds/flv/ex_hevc_inter"),
            "color" => include_bytes!("../fuzz/seeds/flv/ex_colorinfo"),
            "av1_seq" => include_bytes!("../fuzz/seeds/flv/ex_av1_seq"),
            "vp9_seq" => include_bytes!("../fuzz/seeds/flv/ex_vp9_seq"),
            "vp9_key" => include_bytes!("../fuzz/seeds/flv/ex_vp9_key"),
            "opus_seq" => include_bytes!("../fuzz/seeds/flv/ex_opus_seq"),
            "opus_channels" => include_bytes!("../fuzz/seeds/flv/ex_opus_channels"),
            "flac_seq" => include_bytes!("../fuzz/seeds/flv/ex_flac_seq"),
            "ac3_seq" => include_bytes!("../fuzz/seeds/flv/ex_ac3_seq"),
            "ac3_frame" => include_bytes!("../fuzz/seeds/flv/ex_ac3_frame"),
            _ => unreachable!(),
        }
    }

    fn video_of(frames: &[&str]) -> VideoMeta {
        let mut f = StreamFacts::default();
        for (i, name) in frames.iter().enumerate() {
            f.observe(FrameKind::Video, 40 * i as u32, seed(name));
        }
        f.video.unwrap()
    }

    fn audio_of(frames: &[&str]) -> AudioMeta {
        let mut f = StreamFacts::default();
        for name in frames {
            f.observe(FrameKind::Audio, 0, seed(name));
        }
        f.audio.unwrap()
    }

    #[test]
    fn enhanced_rtmp_codecs_sizes_and_audio() {
        // Tag bodies FFmpeg 8.1 wrote for 320x240 encodings by Debian's ffmpeg.
        let v = video_of(&["hevc_seq", "color", "hevc_key"]);
        assert_eq!(
            (
                &v.codec[..],
                &v.profile[..],
                &v.level[..],
                v.width,
                v.height
            ),
            ("HEVC", "Main", "2", 320, 240)
        );
        let v = video_of(&["av1_seq"]);
        assert_eq!(
            (
                &v.codec[..],
                &v.profile[..],
                &v.level[..],
                v.width,
                v.height
            ),
            ("AV1", "Main", "2.0", 320, 240)
        );
        // vpcC has no size: the keyframe gives it.
        let v = video_of(&["vp9_seq"]);
        assert_eq!((&v.codec[..], v.width), ("VP9", 0));
        let v = video_of(&["vp9_seq", "vp9_key"]);
        assert_eq!(
            (
                &v.codec[..],
                &v.profile[..],
                &v.level[..],
                v.width,
                v.height
            ),
            ("VP9", "Profile 0", "2", 320, 240)
        );
        for (frames, codec) in [
            (&["opus_seq", "opus_channels"][..], "Opus"),
            (&["flac_seq"][..], "FLAC"),
            (&["ac3_seq", "ac3_frame"][..], "AC3"),
        ] {
            let a = audio_of(frames);
            assert_eq!((&a.codec[..], a.channels, a.sample_rate), (codec, 1, 48000));
        }
    }

    #[test]
    fn a_multitrack_stream_is_described_by_track_0() {
        let mut f = StreamFacts::default();
        f.observe(FrameKind::Video, 0, seed("hevc_seq"));
        // FFmpeg 8's second video stream: an AV1 sequence start on track 1.
        let mut av1_track1 = b"\x96\x00av01\x01".to_vec();
        av1_track1.extend_from_slice(&seed("av1_seq")[5..]);
        f.observe(FrameKind::Video, 0, &av1_track1);
        let v = f.video.unwrap();
        assert_eq!((&v.codec[..], &v.profile[..]), ("HEVC", "Main"));
    }

    #[test]
    fn frame_rate_is_measured_without_metadata_and_taken_from_it() {
        let mut f = StreamFacts::default();
        f.observe(FrameKind::Video, 0, seed("hevc_seq"));
        f.observe(FrameKind::Video, 0, seed("color"));
        for i in 0..=60u32 {
            f.observe(FrameKind::Video, i * 40, seed("hevc_inter"));
        }
        assert_eq!(f.video.as_ref().map(|v| v.frame_rate), Some(25.0));
        let meta = b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x01\x00\x09framerate\x00\x40\x3e\x00\x00\x00\x00\x00\x00\x00\x00\x09";
        f.observe(FrameKind::Data, 0, meta);
        for i in 61..=200u32 {
            f.observe(FrameKind::Video, i * 40, seed("hevc_inter"));
        }
        assert_eq!(f.video.map(|v| v.frame_rate), Some(30.0));
    }

    #[test]
    fn garbage_teaches_nothing_and_never_panics() {
        let mut f = StreamFacts::default();
        for p in [
            &[][..],
            &[0x17][..],
            &[0x17, 0x00][..],
            &[0xaf, 0x00][..],
            &[0xff; 3][..],
        ] {
            f.observe(FrameKind::Video, 0, p);
            f.observe(FrameKind::Audio, 0, p);
            f.observe(FrameKind::Data, 0, p);
        }
        assert_eq!(f.frames, 15);
    }
}
