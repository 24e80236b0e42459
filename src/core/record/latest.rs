//! What the publisher has sent so far that a piece opened later must start with: the
//! latest metadata and decoder configurations, and which media the stream carries.

use bytes::Bytes;

use crate::hub::FrameKind;
use crate::media::configs::ConfigSet;
use crate::media::enhanced;
use crate::media::flv::{
    audio_config_key, audio_is_sequence_header, video_config_key, video_is_sequence_header,
};
use crate::media::metadata::{is_metadata, strip_set_data_frame};

/// What one publisher frame turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// `onMetaData`; `changed` when it differs from the previous one.
    Metadata {
        changed: bool,
    },
    /// Any other data message (cue points, text): never recorded.
    OtherData,
    Media,
}

#[derive(Debug, Default)]
pub(super) struct Latest {
    /// `"onMetaData", {…}` without `@setDataFrame`.
    pub metadata: Option<Bytes>,
    /// Every configuration packet a piece starts with: sequence headers, and Enhanced
    /// RTMP's colour metadata and MultichannelConfig (not decoder configs, but players
    /// need them), per track.
    pub video_configs: ConfigSet<Bytes>,
    pub audio_configs: ConfigSet<Bytes>,
    /// The latest sequence headers of track 0: frames of codecs that need one are not
    /// written before it, and onMetaData names the codec from it.
    pub video_sequence: Option<Bytes>,
    pub audio_sequence: Option<Bytes>,
    video_seen: bool,
    audio_seen: bool,
}

impl Latest {
    pub(super) fn observe(&mut self, kind: FrameKind, payload: &Bytes) -> Seen {
        match kind {
            FrameKind::Data => return self.observe_data(payload),
            FrameKind::Video => {
                self.video_seen = true;
                if let Some(k) = video_config_key(payload) {
                    self.video_configs.put(k, payload.clone());
                }
                // onMetaData names track 0's codec, as HLS and /stat describe it.
                let track0 = enhanced::video(payload).is_none_or(|h| h.default_track().is_some());
                if video_is_sequence_header(payload) && track0 {
                    self.video_sequence = Some(payload.clone());
                }
            }
            FrameKind::Audio => {
                self.audio_seen = true;
                if let Some(k) = audio_config_key(payload) {
                    self.audio_configs.put(k, payload.clone());
                }
                let track0 = enhanced::audio(payload).is_none_or(|h| h.default_track().is_some());
                if audio_is_sequence_header(payload) && track0 {
                    self.audio_sequence = Some(payload.clone());
                }
            }
        }
        Seen::Media
    }

    fn observe_data(&mut self, payload: &Bytes) -> Seen {
        if !is_metadata(payload) {
            return Seen::OtherData;
        }
        let meta = strip_set_data_frame(payload).unwrap_or_else(|| payload.clone());
        if self.metadata.as_ref() == Some(&meta) {
            return Seen::Metadata { changed: false };
        }
        self.metadata = Some(meta);
        Seen::Metadata { changed: true }
    }

    /// Whether the stream has video. Until a video frame comes, a recorder of audio and
    /// video cuts on audio frames, so an audio-only stream is still recorded (as
    /// nginx-rtmp does). Metadata is not trusted for this: an encoder that declares a
    /// video codec and sends none would otherwise never be recorded.
    pub(super) fn video_expected(&self) -> bool {
        self.video_seen
    }

    pub(super) fn audio_expected(&self) -> bool {
        self.audio_seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_latest_configs_and_metadata() {
        let mut l = Latest::default();
        assert!(!l.video_expected() && !l.audio_expected());
        let meta = Bytes::from_static(b"\x02\x00\x0d@setDataFrame\x02\x00\x0aonMetaData\x03\x00\x0cvideocodecid\x00\x40\x1c\0\0\0\0\0\0\0\0\x09");
        assert_eq!(
            l.observe(FrameKind::Data, &meta),
            Seen::Metadata { changed: true }
        );
        assert!(!l.video_expected() && !l.audio_expected());
        assert_eq!(l.metadata.as_ref().map(|m| m.len()), Some(meta.len() - 16));
        assert_eq!(
            l.observe(FrameKind::Data, &meta),
            Seen::Metadata { changed: false }
        );
        let cue = Bytes::from_static(b"\x02\x00\x0aonCuePoint");
        assert_eq!(l.observe(FrameKind::Data, &cue), Seen::OtherData);

        let seq = Bytes::from_static(b"\x17\x00\x00\x00\x00\x01");
        assert_eq!(l.observe(FrameKind::Video, &seq), Seen::Media);
        assert_eq!(l.video_sequence, Some(seq.clone()));
        assert_eq!(l.video_configs.iter().collect::<Vec<_>>(), vec![&seq]);
        assert!(l.video_expected());
        let aac = Bytes::from_static(b"\xaf\x00\x12\x10");
        l.observe(FrameKind::Audio, &aac);
        let channels = Bytes::from_static(b"\x94Opus\x00\x02");
        l.observe(FrameKind::Audio, &channels);
        assert_eq!(l.audio_sequence, Some(aac.clone()));
        let configs: Vec<_> = l.audio_configs.iter().collect();
        assert_eq!(configs, vec![&aac, &channels]);
        assert!(l.audio_expected());
        // A second track's sequence start is kept, but onMetaData names track 0's codec.
        let track1 = Bytes::from_static(b"\x96\x00av01\x01\x81\x00\x0c\x00");
        l.observe(FrameKind::Video, &track1);
        assert_eq!(l.video_sequence, Some(seq.clone()));
        assert_eq!(l.video_configs.iter().count(), 2);
    }
}
