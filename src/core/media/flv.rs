//! What an RTMP audio/video message payload (an FLV tag body) is: keyframe, sequence header,
//! codec. Understands legacy FLV and Enhanced RTMP v1/v2 (ExHeader, ModEx, Multitrack).
//!
//! Every function takes hostile bytes and answers `false`/`None` for anything it cannot read.

pub use super::codec::{AudioCodec, VideoCodec};

const VIDEO_FRAME_KEY: u8 = 1;

const VIDEO_PKT_SEQUENCE_START: u8 = 0;
const VIDEO_PKT_SEQUENCE_END: u8 = 2;
const VIDEO_PKT_METADATA: u8 = 4;
const VIDEO_PKT_MPEG2TS_SEQUENCE_START: u8 = 5;
const VIDEO_PKT_MULTITRACK: u8 = 6;
const VIDEO_PKT_MODEX: u8 = 7;

const AUDIO_FORMAT_AAC: u8 = 10;
const AUDIO_FORMAT_EX_HEADER: u8 = 9;
const AUDIO_PKT_SEQUENCE_START: u8 = 0;
const AUDIO_PKT_MULTICHANNEL_CONFIG: u8 = 4;
const AUDIO_PKT_MULTITRACK: u8 = 5;
const AUDIO_PKT_MODEX: u8 = 7;

/// The part of an Enhanced RTMP header that the predicates need, after ModEx and the
/// Multitrack wrapper have been peeled off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExHeader {
    packet_type: u8,
    /// The shared FourCC, or the first track's when every track has its own.
    fourcc: Option<[u8; 4]>,
}

/// Reads the ExHeader that follows the first byte. `first` is that byte's low nibble
/// (the packet type); `modex`/`multitrack` are the medium's packet type values.
fn read_ex_header(rest: &[u8], first: u8, modex: u8, multitrack: u8) -> Option<ExHeader> {
    let mut packet_type = first;
    let mut at = 0usize;
    // ModEx packets prefix modifier data and then restate the real packet type; each
    // iteration consumes at least two bytes, so hostile input cannot spin here.
    while packet_type == modex {
        let mut size = usize::from(*rest.get(at)?) + 1;
        at += 1;
        if size == 256 {
            let hi = *rest.get(at)?;
            let lo = *rest.get(at + 1)?;
            size = usize::from(u16::from_be_bytes([hi, lo])) + 1;
            at += 2;
        }
        at = at.checked_add(size)?;
        packet_type = *rest.get(at)? & 0x0f;
        at += 1;
    }
    if packet_type == multitrack {
        // The high nibble is AvMultitrackType. Whatever it is, four bytes of FourCC come
        // next: shared by all tracks, or (ManyTracksManyCodecs) the first track's own,
        // which is a fair answer to "what codec is this stream".
        packet_type = *rest.get(at)? & 0x0f;
        at += 1;
        return Some(ExHeader {
            packet_type,
            fourcc: Some(read_fourcc(rest.get(at..)?)?),
        });
    }
    let fourcc = read_fourcc(rest.get(at..)?);
    Some(ExHeader {
        packet_type,
        fourcc,
    })
}

fn read_fourcc(p: &[u8]) -> Option<[u8; 4]> {
    p.get(..4)?.try_into().ok()
}

fn video_ex_header(p: &[u8]) -> Option<(u8, ExHeader)> {
    let b0 = *p.first()?;
    if b0 & 0x80 == 0 {
        return None;
    }
    let frame_type = (b0 >> 4) & 0x07;
    let hdr = read_ex_header(
        p.get(1..)?,
        b0 & 0x0f,
        VIDEO_PKT_MODEX,
        VIDEO_PKT_MULTITRACK,
    )?;
    Some((frame_type, hdr))
}

fn audio_ex_header(p: &[u8]) -> Option<ExHeader> {
    let b0 = *p.first()?;
    if b0 >> 4 != AUDIO_FORMAT_EX_HEADER {
        return None;
    }
    read_ex_header(
        p.get(1..)?,
        b0 & 0x0f,
        AUDIO_PKT_MODEX,
        AUDIO_PKT_MULTITRACK,
    )
}

fn is_enhanced_video(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b & 0x80 != 0)
}

/// True for a frame a player can start decoding from: what `wait_key`, HLS cuts and
/// recording's `keyframes` mode key on. Config and end-of-sequence packets (legacy AVC/HEVC
/// and Enhanced) carry the key frame type too but hold no picture; ffmpeg ends every
/// stream with such an end of sequence.
pub fn video_is_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if !is_enhanced_video(p) {
        let codec = b0 & 0x0f;
        let no_picture = (codec == 7 || codec == 12) && matches!(p.get(1), Some(0) | Some(2));
        return b0 >> 4 == VIDEO_FRAME_KEY && !no_picture;
    }
    match video_ex_header(p) {
        Some((frame_type, hdr)) => {
            frame_type == VIDEO_FRAME_KEY
                && !matches!(
                    hdr.packet_type,
                    VIDEO_PKT_SEQUENCE_START
                        | VIDEO_PKT_SEQUENCE_END
                        | VIDEO_PKT_METADATA
                        | VIDEO_PKT_MPEG2TS_SEQUENCE_START
                )
        }
        None => false,
    }
}

/// True for the decoder configuration that late joiners must receive before any frame.
pub fn video_is_sequence_header(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if !is_enhanced_video(p) {
        let codec = b0 & 0x0f;
        return (codec == 7 || codec == 12) && p.get(1) == Some(&0);
    }
    matches!(
        video_ex_header(p),
        Some((_, hdr)) if matches!(
            hdr.packet_type,
            VIDEO_PKT_SEQUENCE_START | VIDEO_PKT_MPEG2TS_SEQUENCE_START
        )
    )
}

/// True for the AAC AudioSpecificConfig or an Enhanced audio SequenceStart.
pub fn audio_is_sequence_header(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else {
        return false;
    };
    if b0 >> 4 == AUDIO_FORMAT_AAC {
        return p.get(1) == Some(&0);
    }
    matches!(audio_ex_header(p), Some(h) if h.packet_type == AUDIO_PKT_SEQUENCE_START)
}

/// True for any audio configuration packet that must be replayed to late joiners: the
/// sequence header, and Enhanced audio's MultichannelConfig, which players need to map
/// channels but which is not a decoder config.
pub fn audio_is_config(p: &[u8]) -> bool {
    audio_is_sequence_header(p)
        || matches!(audio_ex_header(p), Some(h) if h.packet_type == AUDIO_PKT_MULTICHANNEL_CONFIG)
}

pub fn video_codec(p: &[u8]) -> Option<VideoCodec> {
    let b0 = *p.first()?;
    if !is_enhanced_video(p) {
        return Some(VideoCodec::from_legacy_id(b0 & 0x0f));
    }
    let (_, hdr) = video_ex_header(p)?;
    hdr.fourcc.map(VideoCodec::from_fourcc)
}

pub fn audio_codec(p: &[u8]) -> Option<AudioCodec> {
    let b0 = *p.first()?;
    if b0 >> 4 != AUDIO_FORMAT_EX_HEADER {
        return Some(AudioCodec::from_legacy_id(b0 >> 4));
    }
    audio_ex_header(p)?.fourcc.map(AudioCodec::from_fourcc)
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
