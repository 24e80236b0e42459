//! Fragmented MP4 (CMAF) for HLS: an initialization segment per track configuration
//! (`EXT-X-MAP`) and media segments of movie fragments. H.264, HEVC, AV1 and VP9 video;
//! AAC and Opus audio. MPEG-TS cannot carry AV1 at all, nor HEVC for every player.

mod boxes;
mod fragment;
mod init;
mod mux;

#[cfg(test)]
pub(super) mod tests;

pub use init::init_segment;
pub use mux::Fmp4Mux;

use crate::media::aac::parse_audio_specific_config;
use crate::media::audio_info::opus_head;
use crate::media::avc::parse_decoder_config;
use crate::media::codec::{AudioCodec, VideoCodec};
use crate::media::{av1, hevc, vp9};

pub const VIDEO_TRACK_ID: u32 = 1;
pub const AUDIO_TRACK_ID: u32 = 2;
pub const VIDEO_TIMESCALE: u32 = 90_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoKind {
    Avc,
    Hevc,
    Av1,
    Vp9,
}

impl VideoKind {
    pub fn from_codec(c: VideoCodec) -> Option<VideoKind> {
        match c {
            VideoCodec::Avc => Some(VideoKind::Avc),
            VideoCodec::Hevc => Some(VideoKind::Hevc),
            VideoCodec::Av1 => Some(VideoKind::Av1),
            VideoCodec::Vp9 => Some(VideoKind::Vp9),
            _ => None,
        }
    }

    fn sample_entry(self) -> [u8; 4] {
        match self {
            VideoKind::Avc => *b"avc1",
            // hvc1: parameter sets in hvcC, which Apple's players require.
            VideoKind::Hevc => *b"hvc1",
            VideoKind::Av1 => *b"av01",
            VideoKind::Vp9 => *b"vp09",
        }
    }

    fn config_box(self) -> [u8; 4] {
        match self {
            VideoKind::Avc => *b"avcC",
            VideoKind::Hevc => *b"hvcC",
            VideoKind::Av1 => *b"av1C",
            VideoKind::Vp9 => *b"vpcC",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    Aac,
    Opus,
}

impl AudioKind {
    pub fn from_codec(c: AudioCodec) -> Option<AudioKind> {
        match c {
            AudioCodec::Aac => Some(AudioKind::Aac),
            AudioCodec::Opus => Some(AudioKind::Opus),
            _ => None,
        }
    }

    fn sample_entry(self) -> [u8; 4] {
        match self {
            AudioKind::Aac => *b"mp4a",
            AudioKind::Opus => *b"Opus",
        }
    }
}

/// A video track's sample description: the codec's configuration record as the publisher
/// sent it, and the picture size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    pub codec: VideoKind,
    pub record: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl VideoTrack {
    /// `None` when the record cannot be read. VP9's record has no size: it is 0 until
    /// [`VideoTrack::learn_size`] reads a keyframe.
    pub fn new(codec: VideoKind, record: &[u8]) -> Option<VideoTrack> {
        let size = match codec {
            VideoKind::Avc => parse_decoder_config(record)?.size,
            VideoKind::Hevc => hevc::parse_hvcc(record)?.size,
            VideoKind::Av1 => av1::parse_av1c(record)?.size,
            VideoKind::Vp9 => {
                vp9::parse_vpcc(record)?;
                None
            }
        };
        let (width, height) = size.unwrap_or((0, 0));
        Some(VideoTrack {
            codec,
            record: record.to_vec(),
            width,
            height,
        })
    }

    /// Takes the picture size from a keyframe when the record gave none.
    pub fn learn_size(&mut self, keyframe: &[u8]) {
        if self.width != 0 {
            return;
        }
        let size = match self.codec {
            VideoKind::Vp9 => vp9::keyframe_size(keyframe),
            VideoKind::Av1 => av1::sequence_header_size(keyframe),
            _ => None,
        };
        if let Some((w, h)) = size {
            self.width = w;
            self.height = h;
        }
    }
}

/// An audio track's sample description: the AudioSpecificConfig or OpusHead, and what
/// the sample entry states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    pub codec: AudioKind,
    pub config: Vec<u8>,
    pub sample_rate: u32,
    pub channels: u16,
}

impl AudioTrack {
    pub fn new(codec: AudioKind, config: &[u8]) -> Option<AudioTrack> {
        let (sample_rate, channels) = match codec {
            AudioKind::Aac => {
                let c = parse_audio_specific_config(config)?;
                (c.sample_rate?, u16::from(c.channels().unwrap_or(2)))
            }
            AudioKind::Opus => {
                let head = opus_head(config)?;
                // dOps copies the channel mapping table that families other than 0 add.
                let mapping = config.get(18).copied()?;
                let needed = 19
                    + if mapping == 0 {
                        0
                    } else {
                        2 + head.channels as usize
                    };
                if config.len() < needed || head.channels == 0 {
                    return None;
                }
                // Opus always decodes at 48 kHz; the head's rate is the input's.
                (48_000, u16::try_from(head.channels).ok()?)
            }
        };
        if sample_rate == 0 {
            return None;
        }
        Some(AudioTrack {
            codec,
            config: config.to_vec(),
            sample_rate,
            channels,
        })
    }
}
