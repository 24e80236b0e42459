//! What an FLV tag body holds for HLS: a decoder configuration or a frame, with its codec,
//! from legacy FLV (H.264, AAC, MP3) or Enhanced RTMP (any FourCC). HLS carries one video
//! and one audio track: of Multitrack messages, track 0 (the spec's default); messages of
//! other tracks alone are `Other`. MPEG-TS takes H.264 with AAC or MP3; fMP4 takes H.264,
//! HEVC, AV1 and VP9 with AAC and Opus.

use crate::media::codec::{AudioCodec, VideoCodec};
use crate::media::enhanced::{self, audio_packet, video_packet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag<'a> {
    /// A decoder configuration record (avcC, hvcC, av1C, vpcC body).
    VideoConfig {
        codec: VideoCodec,
        record: &'a [u8],
    },
    /// One picture: length-prefixed NAL units (H.264, HEVC), a temporal unit (AV1), a
    /// frame (VP9). `cts` is the composition time offset in ms (PTS - DTS).
    VideoFrame {
        codec: VideoCodec,
        key: bool,
        cts: i32,
        data: &'a [u8],
    },
    /// An AudioSpecificConfig or OpusHead.
    AudioConfig {
        codec: AudioCodec,
        record: &'a [u8],
    },
    AudioFrame {
        codec: AudioCodec,
        data: &'a [u8],
    },
    Other,
}

const FRAME_KEY: u8 = 1;
/// Video info/command frames carry no picture.
const FRAME_COMMAND: u8 = 5;

fn si24(b: &[u8]) -> Option<i32> {
    let b = b.get(..3)?;
    // Sign-extend: FLV's CompositionTime is SI24 and encoders do send negative values.
    Some(i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8)
}

/// Codecs whose coded frames start with a composition time offset.
fn has_cts(codec: VideoCodec) -> bool {
    matches!(codec, VideoCodec::Avc | VideoCodec::Hevc | VideoCodec::Vvc)
}

pub fn video(p: &[u8]) -> Tag<'_> {
    video_inner(p).unwrap_or(Tag::Other)
}

fn video_inner(p: &[u8]) -> Option<Tag<'_>> {
    let b0 = *p.first()?;
    let frame_type = (b0 >> 4) & 0x07;
    if frame_type == FRAME_COMMAND {
        return Some(Tag::Other);
    }
    let key = frame_type == FRAME_KEY;
    if b0 & 0x80 == 0 {
        // Legacy: only H.264 (and the de-facto HEVC id 12) have a packet type and CTS.
        let codec = match b0 & 0x0f {
            7 => VideoCodec::Avc,
            12 => VideoCodec::Hevc,
            _ => return Some(Tag::Other),
        };
        return Some(match *p.get(1)? {
            0 => Tag::VideoConfig {
                codec,
                record: p.get(5..)?,
            },
            1 => Tag::VideoFrame {
                codec,
                key,
                cts: si24(p.get(2..)?)?,
                data: p.get(5..)?,
            },
            _ => Tag::Other,
        });
    }
    let h = enhanced::video(p)?;
    let track = h.default_track()?;
    let codec = VideoCodec::from_fourcc(track.fourcc);
    let body = track.body;
    Some(match h.packet_type {
        video_packet::SEQUENCE_START => Tag::VideoConfig {
            codec,
            record: body,
        },
        video_packet::CODED_FRAMES if has_cts(codec) => Tag::VideoFrame {
            codec,
            key,
            cts: si24(body)?,
            data: body.get(3..)?,
        },
        video_packet::CODED_FRAMES | video_packet::CODED_FRAMES_X => Tag::VideoFrame {
            codec,
            key,
            cts: 0,
            data: body,
        },
        _ => Tag::Other,
    })
}

pub fn audio(p: &[u8]) -> Tag<'_> {
    audio_inner(p).unwrap_or(Tag::Other)
}

fn audio_inner(p: &[u8]) -> Option<Tag<'_>> {
    let b0 = *p.first()?;
    match b0 >> 4 {
        10 => Some(match *p.get(1)? {
            0 => Tag::AudioConfig {
                codec: AudioCodec::Aac,
                record: p.get(2..)?,
            },
            1 => Tag::AudioFrame {
                codec: AudioCodec::Aac,
                data: p.get(2..)?,
            },
            _ => Tag::Other,
        }),
        // MP3, and "MP3 8 kHz".
        2 | 14 => Some(Tag::AudioFrame {
            codec: AudioCodec::Mp3,
            data: p.get(1..)?,
        }),
        enhanced::AUDIO_EX_HEADER => {
            let h = enhanced::audio(p)?;
            let track = h.default_track()?;
            let codec = AudioCodec::from_fourcc(track.fourcc);
            Some(match h.packet_type {
                audio_packet::SEQUENCE_START => Tag::AudioConfig {
                    codec,
                    record: track.body,
                },
                audio_packet::CODED_FRAMES => Tag::AudioFrame {
                    codec,
                    data: track.body,
                },
                _ => Tag::Other,
            })
        }
        _ => Some(Tag::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVC: VideoCodec = VideoCodec::Avc;
    const AAC: AudioCodec = AudioCodec::Aac;

    #[test]
    fn legacy_video() {
        let seq = include_bytes!("../fuzz/seeds/flv/avc_seq");
        assert!(matches!(video(seq), Tag::VideoConfig { codec: AVC, record } if record[0] == 1));
        let key = include_bytes!("../fuzz/seeds/flv/avc_key");
        assert!(matches!(
            video(key),
            Tag::VideoFrame {
                key: true,
                codec: AVC,
                ..
            }
        ));
        let inter = include_bytes!("../fuzz/seeds/flv/avc_inter");
        assert!(matches!(video(inter), Tag::VideoFrame { key: false, .. }));
        assert_eq!(
            video(&[0x27, 1, 0xff, 0xff, 0xd8, 9]),
            Tag::VideoFrame {
                codec: AVC,
                key: false,
                cts: -40,
                data: &[9]
            }
        );
        assert_eq!(video(&[0x17, 2, 0, 0, 0]), Tag::Other, "end of sequence");
        assert_eq!(video(&[0x52, 0]), Tag::Other, "command frame");
        assert_eq!(video(&[0x12, 0, 0]), Tag::Other, "H.263");
        assert_eq!(
            video(&[0x1c, 1, 0, 0, 0, 1]),
            Tag::VideoFrame {
                codec: VideoCodec::Hevc,
                key: true,
                cts: 0,
                data: &[1]
            },
            "legacy HEVC (id 12)"
        );
    }

    #[test]
    fn enhanced_video() {
        let seq = include_bytes!("../fuzz/seeds/flv/ex_avc_seq");
        assert!(matches!(video(seq), Tag::VideoConfig { codec: AVC, record } if record[0] == 1));
        assert_eq!(
            video(b"\x91avc1\x00\x00\x28\x01"),
            Tag::VideoFrame {
                codec: AVC,
                key: true,
                cts: 40,
                data: &[1]
            }
        );
        assert_eq!(
            video(b"\xa3avc1\x02"),
            Tag::VideoFrame {
                codec: AVC,
                key: false,
                cts: 0,
                data: &[2]
            }
        );
        // ModEx, then CodedFrames.
        let modex = include_bytes!("../fuzz/seeds/flv/ex_avc_key_modex");
        assert!(matches!(
            video(modex),
            Tag::VideoFrame {
                codec: AVC,
                key: true,
                ..
            }
        ));
        // FFmpeg 8.1's HEVC, AV1 and VP9: AV1 and VP9 frames have no composition time.
        let hevc_seq = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");
        assert_eq!(
            video(hevc_seq),
            Tag::VideoConfig {
                codec: VideoCodec::Hevc,
                record: &hevc_seq[5..]
            }
        );
        let hevc_key = include_bytes!("../fuzz/seeds/flv/ex_hevc_key");
        assert_eq!(
            video(hevc_key),
            Tag::VideoFrame {
                codec: VideoCodec::Hevc,
                key: true,
                cts: 80,
                data: &hevc_key[8..]
            }
        );
        let av1_key = include_bytes!("../fuzz/seeds/flv/ex_av1_key");
        assert_eq!(
            video(av1_key),
            Tag::VideoFrame {
                codec: VideoCodec::Av1,
                key: true,
                cts: 0,
                data: &av1_key[5..]
            }
        );
        let colorinfo = include_bytes!("../fuzz/seeds/flv/ex_colorinfo");
        assert_eq!(video(colorinfo), Tag::Other);
        // Multitrack: track 0, wherever it is; another track alone is not for HLS.
        let p = b"\x96\x11vp09\x01\x00\x00\x01a\x00\x00\x00\x01b";
        assert_eq!(
            video(p),
            Tag::VideoFrame {
                codec: VideoCodec::Vp9,
                key: true,
                cts: 0,
                data: b"b"
            }
        );
        assert_eq!(video(b"\x96\x01av01\x01k"), Tag::Other);
        assert!(matches!(
            video(b"\x96\x01av01\x00k"),
            Tag::VideoFrame {
                codec: VideoCodec::Av1,
                ..
            }
        ));
    }

    #[test]
    fn audio_tags() {
        let seq = include_bytes!("../fuzz/seeds/flv/aac_seq");
        let cfg = |codec, record| Tag::AudioConfig { codec, record };
        let frame = |codec, data| Tag::AudioFrame { codec, data };
        assert_eq!(audio(seq), cfg(AAC, &seq[2..]));
        let raw = include_bytes!("../fuzz/seeds/flv/aac_raw");
        assert_eq!(audio(raw), frame(AAC, &raw[2..]));
        let ex = include_bytes!("../fuzz/seeds/flv/ex_aac_seq");
        assert_eq!(audio(ex), cfg(AAC, &ex[5..]));
        assert_eq!(audio(b"\x91mp4a\x21"), frame(AAC, &[0x21]));
        assert_eq!(
            audio(&[0x2f, 0xff, 0xfb]),
            frame(AudioCodec::Mp3, &[0xff, 0xfb])
        );
        assert_eq!(audio(b"\x91.mp3\xff"), frame(AudioCodec::Mp3, &[0xff]));
        let opus = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");
        assert_eq!(audio(opus), cfg(AudioCodec::Opus, &opus[5..]));
        assert_eq!(audio(b"\x91Opus\x01"), frame(AudioCodec::Opus, &[1]));
        let channels = include_bytes!("../fuzz/seeds/flv/ex_opus_channels");
        assert_eq!(audio(channels), Tag::Other);
        assert_eq!(audio(&[0xaf]), Tag::Other);
        assert_eq!(audio(&[0x6f, 1, 2]), Tag::Other, "Nellymoser");
    }

    #[test]
    fn short_inputs() {
        for a in 0..=255u8 {
            for len in 0..8 {
                let p: Vec<u8> = std::iter::once(a).chain(0..len).collect();
                let _ = (video(&p), audio(&p));
            }
        }
        assert_eq!(video(&[]), Tag::Other);
        assert_eq!(audio(&[]), Tag::Other);
    }
}
