//! What an RTMP audio/video message payload (an FLV tag body) is: keyframe, sequence header,
//! codec. Understands legacy FLV and Enhanced RTMP v1/v2 (ExHeader, ModEx, Multitrack).
//!
//! Every function takes hostile bytes and answers `false`/`None` for anything it cannot read.

pub use super::codec::{AudioCodec, VideoCodec};
use super::enhanced::{self, audio_packet, frame, video_packet};

/// Legacy AVC (7) and the de-facto legacy HEVC id (12) carry an AVCPacketType byte.
fn legacy_avc_like(b0: u8) -> bool {
    matches!(b0 & 0x0f, 7 | 12)
}

const LEGACY_SEQUENCE_HEADER: u8 = 0;
const LEGACY_END_OF_SEQUENCE: u8 = 2;
const AUDIO_FORMAT_AAC: u8 = 10;

fn is_enhanced_video(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b & 0x80 != 0)
}

/// True for a frame a player can start decoding from: what `wait_key`, HLS cuts, the GOP
/// cache and recording's `keyframes` mode key on. Configuration, metadata and
/// end-of-sequence packets (legacy AVC/HEVC and Enhanced) carry the key frame type too but
/// hold no picture; ffmpeg ends every legacy stream with such an end of sequence.
pub fn video_is_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if !is_enhanced_video(p) {
        let no_picture = legacy_avc_like(b0)
            && matches!(
                p.get(1),
                Some(&LEGACY_SEQUENCE_HEADER) | Some(&LEGACY_END_OF_SEQUENCE)
            );
        return b0 >> 4 == frame::KEY && !no_picture;
    }
    enhanced::video(p).is_some_and(|h| {
        h.frame_type == frame::KEY
            && matches!(
                h.packet_type,
                video_packet::CODED_FRAMES | video_packet::CODED_FRAMES_X
            )
    })
}

/// Which video keyframes start a GOP (the GOP cache, a recording piece, a slow player's
/// resumption). With Multitrack (FFmpeg 8 sends each extra video stream as its own track,
/// OBS its renditions) the tracks' keyframes come as separate messages: a GOP starts at the
/// keyframes of one track only, track 0 (the spec's default), or for a stream without one
/// the track of the first keyframe; otherwise the GOP would restart at every track's
/// keyframe and late joiners would miss the default track's.
#[derive(Debug, Clone, Copy, Default)]
pub struct GopTrack(Option<u8>);

impl GopTrack {
    pub fn starts_gop(&mut self, p: &[u8]) -> bool {
        if !video_is_keyframe(p) {
            return false;
        }
        let Some(h) = enhanced::video(p).filter(|h| h.multitrack.is_some()) else {
            self.0 = Some(0);
            return true;
        };
        let carries = |id: u8| h.tracks().any(|t| t.id == id);
        if carries(0) {
            self.0 = Some(0);
            return true;
        }
        match self.0 {
            Some(track) => carries(track),
            None => {
                self.0 = h.first_track().map(|t| t.id);
                self.0.is_some()
            }
        }
    }
}

/// True for the decoder configuration that late joiners must receive before any frame:
/// the legacy AVC/HEVC sequence header, or an Enhanced SequenceStart (either form).
pub fn video_is_sequence_header(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if !is_enhanced_video(p) {
        return legacy_avc_like(b0) && p.get(1) == Some(&LEGACY_SEQUENCE_HEADER);
    }
    enhanced::video(p).is_some_and(|h| {
        matches!(
            h.packet_type,
            video_packet::SEQUENCE_START | video_packet::MPEG2TS_SEQUENCE_START
        )
    })
}

/// True for any video packet a late joiner needs before the frames: the sequence header,
/// and Enhanced RTMP's Metadata packet (`colorInfo`: HDR and colour description of the
/// frames that follow, sent once by encoders).
pub fn video_is_config(p: &[u8]) -> bool {
    video_is_sequence_header(p)
        || enhanced::video(p).is_some_and(|h| h.packet_type == video_packet::METADATA)
}

/// An end of sequence, legacy (AVC/HEVC `2`) or Enhanced (SequenceEnd): no picture, never
/// a place to cut.
pub fn video_is_end_of_sequence(p: &[u8]) -> bool {
    match p {
        [b0, ..] if b0 & 0x80 != 0 => {
            enhanced::video(p).is_some_and(|h| h.packet_type == video_packet::SEQUENCE_END)
        }
        [b0, packet_type, ..] => legacy_avc_like(*b0) && *packet_type == LEGACY_END_OF_SEQUENCE,
        _ => false,
    }
}

/// True for the AAC AudioSpecificConfig or an Enhanced audio SequenceStart.
pub fn audio_is_sequence_header(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if b0 >> 4 == AUDIO_FORMAT_AAC {
        return p.get(1) == Some(&0);
    }
    enhanced::audio(p).is_some_and(|h| h.packet_type == audio_packet::SEQUENCE_START)
}

/// True for any audio configuration packet that must be replayed to late joiners: the
/// sequence header, and Enhanced audio's MultichannelConfig, which players need to map
/// channels but which is not a decoder config.
pub fn audio_is_config(p: &[u8]) -> bool {
    audio_is_sequence_header(p)
        || enhanced::audio(p).is_some_and(|h| h.packet_type == audio_packet::MULTICHANNEL_CONFIG)
}

/// Which configuration a packet is, so that a newer one replaces it and different ones
/// (a multichannel layout beside its sequence start, each track of a multitrack stream)
/// are all kept for late joiners. The codec is part of it: FFmpeg 8 sends the colour
/// metadata of a second video track without the Multitrack wrapper, as if it were track 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigKey {
    video: bool,
    /// 0 for a sequence header of either form; the Enhanced packet type otherwise.
    packet_type: u8,
    /// The first track's id; 0 without Multitrack.
    track: u8,
    /// The first track's FourCC; legacy AVC, HEVC and AAC count as `avc1`, `hvc1`, `mp4a`.
    fourcc: [u8; 4],
}

/// The key of a video configuration packet ([`video_is_config`]), `None` for others.
pub fn video_config_key(p: &[u8]) -> Option<ConfigKey> {
    if !video_is_config(p) {
        return None;
    }
    let (packet_type, track, fourcc) = match enhanced::video(p) {
        Some(h) => {
            let (track, fourcc) = h.first_track().map_or((0, [0; 4]), |t| (t.id, t.fourcc));
            (h.packet_type, track, fourcc)
        }
        None if p.first()? & 0x0f == 12 => (video_packet::SEQUENCE_START, 0, *b"hvc1"),
        None => (video_packet::SEQUENCE_START, 0, *b"avc1"),
    };
    Some(ConfigKey {
        video: true,
        packet_type,
        track,
        fourcc,
    })
}

/// The key of an audio configuration packet ([`audio_is_config`]), `None` for others.
pub fn audio_config_key(p: &[u8]) -> Option<ConfigKey> {
    if !audio_is_config(p) {
        return None;
    }
    let (packet_type, track, fourcc) = match enhanced::audio(p) {
        Some(h) => {
            let (track, fourcc) = h.first_track().map_or((0, [0; 4]), |t| (t.id, t.fourcc));
            (h.packet_type, track, fourcc)
        }
        None => (audio_packet::SEQUENCE_START, 0, *b"mp4a"),
    };
    Some(ConfigKey {
        video: false,
        packet_type,
        track,
        fourcc,
    })
}

pub fn video_codec(p: &[u8]) -> Option<VideoCodec> {
    let b0 = *p.first()?;
    if !is_enhanced_video(p) {
        return Some(VideoCodec::from_legacy_id(b0 & 0x0f));
    }
    enhanced::video(p)?.fourcc().map(VideoCodec::from_fourcc)
}

pub fn audio_codec(p: &[u8]) -> Option<AudioCodec> {
    let b0 = *p.first()?;
    if b0 >> 4 != enhanced::AUDIO_EX_HEADER {
        return Some(AudioCodec::from_legacy_id(b0 >> 4));
    }
    enhanced::audio(p)?.fourcc().map(AudioCodec::from_fourcc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First video tag body of an ffmpeg libx264 FLV (AVC sequence header).
    const AVC_SEQ: &[u8] = &[
        0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67,
    ];
    /// First audio tag body of an ffmpeg aac FLV (AAC sequence header).
    const AAC_SEQ: &[u8] = &[0xaf, 0x00, 0x12, 0x08, 0x56, 0xe5, 0x00];

    fn ex_video(frame: u8, pkt: u8, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0x80 | (frame << 4) | pkt];
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn legacy_video() {
        // A sequence header or end of sequence is marked key but holds no picture.
        assert!(!video_is_keyframe(AVC_SEQ));
        assert!(!video_is_keyframe(&[0x17, 0x02, 0, 0, 0]));
        assert!(video_is_sequence_header(AVC_SEQ));
        assert_eq!(video_codec(AVC_SEQ), Some(VideoCodec::Avc));
        let inter = [0x27, 0x01, 0, 0, 0];
        assert!(!video_is_keyframe(&inter));
        assert!(!video_is_sequence_header(&inter));
        let key_nalu = [0x17, 0x01, 0, 0, 0];
        assert!(video_is_keyframe(&key_nalu));
        assert!(!video_is_sequence_header(&key_nalu));
        // Legacy HEVC (codec id 12).
        assert!(video_is_sequence_header(&[0x1c, 0x00]));
        assert_eq!(video_codec(&[0x1c]), Some(VideoCodec::Hevc));
        // VP6 has no sequence header.
        assert!(!video_is_sequence_header(&[0x14, 0x00]));
    }

    #[test]
    fn enhanced_video() {
        let seq = ex_video(1, 0, b"hvc1\x01\x02");
        assert!(video_is_sequence_header(&seq));
        assert!(!video_is_keyframe(&seq));
        assert_eq!(video_codec(&seq), Some(VideoCodec::Hevc));

        let key = ex_video(1, 1, b"av01\x00\x00\x00");
        assert!(video_is_keyframe(&key));
        assert!(!video_is_sequence_header(&key));
        assert_eq!(video_codec(&key), Some(VideoCodec::Av1));

        let key_x = ex_video(1, 3, b"vp09");
        assert!(video_is_keyframe(&key_x));
        let inter = ex_video(2, 1, b"hvc1");
        assert!(!video_is_keyframe(&inter));

        for pkt in [2u8, 4, 5] {
            assert!(!video_is_keyframe(&ex_video(1, pkt, b"hvc1")), "pkt {pkt}");
        }
        assert!(video_is_sequence_header(&ex_video(1, 5, b"hvc1")));
        assert!(!video_is_sequence_header(&ex_video(1, 2, b"hvc1")));
    }

    #[test]
    fn enhanced_video_multitrack_and_modex() {
        // OneTrack multitrack wrapping a SequenceStart.
        let mt_seq = ex_video(1, 6, b"\x00hvc1\x00rest");
        assert!(video_is_sequence_header(&mt_seq));
        assert!(!video_is_keyframe(&mt_seq));
        assert_eq!(video_codec(&mt_seq), Some(VideoCodec::Hevc));
        // ManyTracks of coded frames.
        let mt_key = ex_video(1, 6, b"\x11av01\x00\x00\x00\x01x");
        assert!(video_is_keyframe(&mt_key));
        assert!(!video_is_sequence_header(&mt_key));
        // ManyTracksManyCodecs: the first track's FourCC.
        let mt_many = ex_video(1, 6, b"\x21vp09\x00\x00\x00\x01x");
        assert_eq!(video_codec(&mt_many), Some(VideoCodec::Vp9));
        // ModEx (1 byte of data, then packet type CodedFrames).
        let modex = ex_video(1, 7, b"\x00\xaa\x01avc1");
        assert!(video_is_keyframe(&modex));
        assert_eq!(video_codec(&modex), Some(VideoCodec::Avc));
        // ModEx with the 16-bit size escape: 0xff -> read UI16 + 1 = 2 bytes of data.
        let modex16 = ex_video(1, 7, b"\xff\x00\x01\xaa\xbb\x00vvc1");
        assert!(video_is_sequence_header(&modex16));
        assert_eq!(video_codec(&modex16), Some(VideoCodec::Vvc));
        // ModEx then multitrack.
        let both = ex_video(1, 7, b"\x00\xaa\x06\x00hvc1");
        assert!(video_is_sequence_header(&both));
    }

    #[test]
    fn audio() {
        assert!(audio_is_sequence_header(AAC_SEQ));
        assert!(audio_is_config(AAC_SEQ));
        assert_eq!(audio_codec(AAC_SEQ), Some(AudioCodec::Aac));
        assert!(!audio_is_sequence_header(&[0xaf, 0x01, 0x21]));
        assert!(!audio_is_sequence_header(&[0x2f, 0x00]));
        assert_eq!(audio_codec(&[0x2f]), Some(AudioCodec::Mp3));

        let opus_seq = b"\x90Opus\x01";
        assert!(audio_is_sequence_header(opus_seq));
        assert_eq!(audio_codec(opus_seq), Some(AudioCodec::Opus));
        let multichannel = b"\x94Opus\x00\x02";
        assert!(!audio_is_sequence_header(multichannel));
        assert!(audio_is_config(multichannel));
        let coded = b"\x91fLaC";
        assert!(!audio_is_config(coded));
        assert_eq!(audio_codec(coded), Some(AudioCodec::Flac));
        let mt = b"\x95\x00mp4a\x00";
        assert!(audio_is_sequence_header(mt));
        assert_eq!(audio_codec(mt), Some(AudioCodec::Aac));
        let modex = b"\x97\x00\x01\x00ec-3";
        assert!(audio_is_sequence_header(modex));
        assert_eq!(audio_codec(modex), Some(AudioCodec::Eac3));
    }

    /// Tag bodies FFmpeg 8.1's FLV muxer wrote for HEVC/AV1/VP9 with Opus/FLAC/AC-3
    /// (`tests/fixtures/pyav_publish.py` over files Debian's ffmpeg encoded).
    mod real {
        pub const HEVC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");
        pub const HEVC_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_key");
        pub const HEVC_INTER: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_inter");
        pub const COLOR_INFO: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_colorinfo");
        pub const AV1_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_seq");
        pub const AV1_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_key");
        pub const AV1_INTER: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_inter");
        pub const VP9_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_vp9_seq");
        pub const VP9_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_vp9_key");
        pub const OPUS_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");
        pub const OPUS_CHANNELS: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_channels");
        pub const OPUS_FRAME: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_frame");
        pub const FLAC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_flac_seq");
        pub const AC3_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_ac3_seq");
        pub const AC3_FRAME: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_ac3_frame");
    }

    #[test]
    fn real_enhanced_video() {
        use real::*;
        for (seq, key, inter, codec) in [
            (HEVC_SEQ, HEVC_KEY, HEVC_INTER, VideoCodec::Hevc),
            (AV1_SEQ, AV1_KEY, AV1_INTER, VideoCodec::Av1),
        ] {
            assert!(video_is_sequence_header(seq) && video_is_config(seq));
            assert!(!video_is_keyframe(seq));
            assert!(video_is_keyframe(key) && !video_is_config(key));
            assert!(!video_is_keyframe(inter) && !video_is_config(inter));
            for p in [seq, key, inter] {
                assert_eq!(video_codec(p), Some(codec));
                assert!(!video_is_end_of_sequence(p));
            }
        }
        assert!(video_is_sequence_header(VP9_SEQ));
        assert!(video_is_keyframe(VP9_KEY));
        assert_eq!(video_codec(VP9_KEY), Some(VideoCodec::Vp9));
        // colorInfo: frame type 5 (command) with packet type Metadata; kept for late
        // joiners, never a keyframe nor a sequence header.
        assert!(video_is_config(COLOR_INFO));
        assert!(!video_is_sequence_header(COLOR_INFO) && !video_is_keyframe(COLOR_INFO));
        assert_eq!(video_codec(COLOR_INFO), Some(VideoCodec::Hevc));
        assert_ne!(video_config_key(COLOR_INFO), video_config_key(HEVC_SEQ));
        assert_ne!(video_config_key(HEVC_SEQ), video_config_key(AV1_SEQ));
        let mut seq2 = HEVC_SEQ.to_vec();
        seq2.push(0);
        assert_eq!(video_config_key(&seq2), video_config_key(HEVC_SEQ));
        assert_eq!(video_config_key(HEVC_KEY), None);
    }

    #[test]
    fn real_enhanced_audio() {
        use real::*;
        for (seq, codec) in [
            (OPUS_SEQ, AudioCodec::Opus),
            (FLAC_SEQ, AudioCodec::Flac),
            (AC3_SEQ, AudioCodec::Ac3),
        ] {
            assert!(audio_is_sequence_header(seq) && audio_is_config(seq));
            assert_eq!(audio_codec(seq), Some(codec));
        }
        assert!(audio_is_config(OPUS_CHANNELS) && !audio_is_sequence_header(OPUS_CHANNELS));
        for p in [OPUS_FRAME, AC3_FRAME] {
            assert!(!audio_is_config(p));
            assert_eq!(audio_config_key(p), None);
        }
        // The MultichannelConfig sits beside the sequence start, not over it.
        assert_ne!(audio_config_key(OPUS_SEQ), audio_config_key(OPUS_CHANNELS));
        assert_eq!(
            audio_config_key(b"\x90mp4a\x12\x10"),
            audio_config_key(AAC_SEQ)
        );
    }

    #[test]
    fn config_keys_follow_tracks() {
        let t0 = ex_video(1, 6, b"\x00hvc1\x00cfg");
        let t1 = ex_video(1, 6, b"\x00hvc1\x01cfg");
        assert!(video_config_key(&t0).is_some());
        assert_ne!(video_config_key(&t0), video_config_key(&t1));
        assert_eq!(
            video_config_key(&ex_video(1, 0, b"avc1cfg")),
            video_config_key(AVC_SEQ)
        );
        // FFmpeg 8's second video track: its colour metadata comes unwrapped.
        let color0 = ex_video(5, 4, b"hvc1meta");
        let color1 = ex_video(5, 4, b"av01meta");
        assert_ne!(video_config_key(&color0), video_config_key(&color1));
        let a1 = b"\x95\x00Opus\x01head";
        assert_ne!(audio_config_key(a1), audio_config_key(AAC_SEQ));
        assert_eq!(video_config_key(AAC_SEQ), None);
        assert_eq!(audio_config_key(AVC_SEQ), None);
    }

    #[test]
    fn gops_follow_one_track() {
        // FFmpeg 8's two video streams: track 0 unwrapped, track 1 as OneTrack.
        let key0 = ex_video(1, 1, b"hvc1\x00\x00\x00k");
        let key1 = ex_video(1, 6, b"\x01av01\x01k");
        let inter1 = ex_video(2, 6, b"\x03av01\x01i");
        let mut g = GopTrack::default();
        assert!(!g.starts_gop(&inter1));
        assert!(
            !g.starts_gop(&ex_video(1, 0, b"hvc1cfg")),
            "a config is no GOP"
        );
        assert!(g.starts_gop(&key0));
        assert!(
            !g.starts_gop(&key1),
            "track 1's keyframe does not restart the GOP"
        );
        assert!(g.starts_gop(&key0));
        // ManyTracks carrying track 0.
        assert!(g.starts_gop(&ex_video(
            1,
            6,
            b"\x11hvc1\x01\x00\x00\x01a\x00\x00\x00\x01b"
        )));
        // A stream without track 0 follows its first keyframe's track.
        let mut g = GopTrack::default();
        let key2 = ex_video(1, 6, b"\x01av01\x02k");
        assert!(g.starts_gop(&key1));
        assert!(!g.starts_gop(&key2));
        assert!(g.starts_gop(&key1));
        // Legacy keyframes always do.
        assert!(GopTrack::default().starts_gop(&[0x17, 1, 0, 0, 0]));
    }

    #[test]
    fn ends_of_sequence() {
        assert!(video_is_end_of_sequence(&[0x17, 0x02, 0, 0, 0]));
        assert!(video_is_end_of_sequence(&[0x1c, 0x02, 0, 0, 0]));
        assert!(video_is_end_of_sequence(&ex_video(1, 2, b"hvc1")));
        assert!(
            !video_is_end_of_sequence(&[0x12, 0x02]),
            "H.263 has no packet type"
        );
        assert!(!video_is_end_of_sequence(AVC_SEQ));
        assert!(!video_is_end_of_sequence(&ex_video(1, 2, b"hv")));
        // A command frame is none of these things.
        for p in [&[0xd1u8, 0x00][..], &[0x52, 0x00]] {
            assert!(!video_is_keyframe(p) && !video_is_config(p));
            assert!(!video_is_end_of_sequence(p));
        }
    }

    #[test]
    fn truncated_and_garbage() {
        let samples: &[&[u8]] = &[
            b"",
            b"\x17",
            b"\xaf",
            b"\x80",
            b"\x90",
            b"\x90Op",
            b"\x96",
            b"\x96\x00hv",
            b"\x97",
            b"\x97\xff",
            b"\x97\xff\xff",
            b"\x97\xff\xff\xff",
            b"\x97\x05\x00",
            b"\x97\x00\xaa\x07\x00",
            b"\xf7\xff\xff\xff\xff",
        ];
        for s in samples {
            let _ = video_is_keyframe(s);
            let _ = video_is_sequence_header(s);
            let _ = video_codec(s);
            let _ = audio_is_sequence_header(s);
            let _ = audio_is_config(s);
            let _ = audio_codec(s);
        }
        assert_eq!(video_codec(b""), None);
        assert_eq!(audio_codec(b""), None);
        assert_eq!(video_codec(b"\x90Op"), None);
        assert!(!video_is_sequence_header(b"\x96\x00hv"));
        // Every byte pattern of length <= 2, and all prefixes of the valid samples.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let s = [a, b];
                let _ = (video_is_keyframe(&s), video_codec(&s), audio_codec(&s));
                let _ = (video_is_sequence_header(&s), audio_is_config(&s));
            }
        }
    }
}
