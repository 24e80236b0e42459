//! What the stat page says about a stream's media, learned from the frames as they pass:
//! codecs and their parameters from the sequence headers and onMetaData, byte counts per
//! kind, and the last timestamps (for A/V sync).
use crate::media::aac::parse_aac_sequence_header;
use crate::media::avc::parse_avc_sequence_header;
use crate::media::flv::{audio_codec, audio_is_config, video_codec, video_is_sequence_header};
use crate::media::metadata::{parse_metadata, StreamMeta};
use crate::stat::{AudioMeta, VideoMeta};

use super::stream::FrameKind;

#[derive(Debug, Clone, Default)]
pub struct StreamFacts {
    pub video: Option<VideoMeta>,
    pub audio: Option<AudioMeta>,
    pub audio_bytes: u64,
    pub video_bytes: u64,
    pub last_audio_ts: Option<u32>,
    pub last_video_ts: Option<u32>,
    pub frames: u64,
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
                }
            }
            FrameKind::Audio => {
                self.audio_bytes += payload.len() as u64;
                self.last_audio_ts = Some(timestamp);
                if audio_is_config(payload) || self.audio.is_none() {
                    self.learn_audio(payload);
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
        let v = self.video.get_or_insert_with(VideoMeta::default);
        if let Some(codec) = video_codec(p) {
            v.codec = codec.name().to_string();
        }
        if let Some(avc) = parse_avc_sequence_header(p) {
            v.profile = avc.profile_name().to_string();
            v.compat = u32::from(avc.compat);
            v.level = format!("{}.{}", avc.level / 10, avc.level % 10);
            if let Some((w, h)) = avc.size {
                v.width = w;
                v.height = h;
            }
        }
    }

    fn learn_audio(&mut self, p: &[u8]) {
        let a = self.audio.get_or_insert_with(AudioMeta::default);
        if let Some(codec) = audio_codec(p) {
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
