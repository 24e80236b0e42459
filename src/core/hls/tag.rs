//! What an FLV tag body holds for MPEG-TS: H.264 and AAC (legacy FLV or Enhanced RTMP's
//! single-track `avc1`/`mp4a` forms) and MP3. Everything else is `Other` and skipped:
//! HEVC, AV1 and the rest need fMP4 segments, which is a later step.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag<'a> {
    /// An AVCDecoderConfigurationRecord.
    AvcConfig(&'a [u8]),
    /// AVCC NAL units; `cts` is the composition time offset in ms (PTS - DTS).
    AvcFrame {
        key: bool,
        cts: i32,
        data: &'a [u8],
    },
    /// An AudioSpecificConfig.
    AacConfig(&'a [u8]),
    AacFrame(&'a [u8]),
    Mp3Frame(&'a [u8]),
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
        if b0 & 0x0f != 7 {
            return Some(Tag::Other);
        }
        return Some(match *p.get(1)? {
            0 => Tag::AvcConfig(p.get(5..)?),
            1 => Tag::AvcFrame {
                key,
                cts: si24(p.get(2..)?)?,
                data: p.get(5..)?,
            },
            _ => Tag::Other,
        });
    }
    // Enhanced RTMP: packet type in the low nibble, then the FourCC. ModEx and multitrack
    // wrappers (types 6 and 7) are left for the fMP4 work.
    if p.get(1..5)? != b"avc1" {
        return Some(Tag::Other);
    }
    Some(match b0 & 0x0f {
        0 => Tag::AvcConfig(p.get(5..)?),
        1 => Tag::AvcFrame {
            key,
            cts: si24(p.get(5..)?)?,
            data: p.get(8..)?,
        },
        3 => Tag::AvcFrame {
            key,
            cts: 0,
            data: p.get(5..)?,
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
            0 => Tag::AacConfig(p.get(2..)?),
            1 => Tag::AacFrame(p.get(2..)?),
            _ => Tag::Other,
        }),
        // MP3, and "MP3 8 kHz".
        2 | 14 => Some(Tag::Mp3Frame(p.get(1..)?)),
        9 => {
            let fourcc = p.get(1..5)?;
            Some(match (b0 & 0x0f, fourcc) {
                (0, b"mp4a") => Tag::AacConfig(p.get(5..)?),
                (1, b"mp4a") => Tag::AacFrame(p.get(5..)?),
                (1, b".mp3") => Tag::Mp3Frame(p.get(5..)?),
                _ => Tag::Other,
            })
        }
        _ => Some(Tag::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_video() {
        let seq = include_bytes!("../fuzz/seeds/flv/avc_seq");
        assert!(matches!(video(seq), Tag::AvcConfig(r) if r[0] == 1));
        let key = include_bytes!("../fuzz/seeds/flv/avc_key");
        assert!(matches!(video(key), Tag::AvcFrame { key: true, .. }));
        let inter = include_bytes!("../fuzz/seeds/flv/avc_inter");
        assert!(matches!(video(inter), Tag::AvcFrame { key: false, .. }));
        assert_eq!(
            video(&[0x27, 1, 0xff, 0xff, 0xd8, 9]),
            Tag::AvcFrame {
                key: false,
                cts: -40,
                data: &[9]
            }
        );
        assert_eq!(video(&[0x17, 2, 0, 0, 0]), Tag::Other, "end of sequence");
        assert_eq!(video(&[0x52, 0]), Tag::Other, "command frame");
        assert_eq!(video(&[0x1c, 1, 0, 0, 0, 1]), Tag::Other, "legacy HEVC");
    }

    #[test]
    fn enhanced_video() {
        let seq = include_bytes!("../fuzz/seeds/flv/ex_avc_seq");
        assert!(matches!(video(seq), Tag::AvcConfig(r) if r[0] == 1));
        assert_eq!(
            video(b"\x91avc1\x00\x00\x28\x01"),
            Tag::AvcFrame {
                key: true,
                cts: 40,
                data: &[1]
            }
        );
        assert_eq!(
            video(b"\xa3avc1\x02"),
            Tag::AvcFrame {
                key: false,
                cts: 0,
                data: &[2]
            }
        );
        assert_eq!(video(b"\x91hvc1\x00\x00\x00\x01"), Tag::Other);
        let modex = include_bytes!("../fuzz/seeds/flv/ex_avc_key_modex");
        assert_eq!(video(modex), Tag::Other);
    }

    #[test]
    fn audio_tags() {
        let seq = include_bytes!("../fuzz/seeds/flv/aac_seq");
        assert_eq!(audio(seq), Tag::AacConfig(&seq[2..]));
        let raw = include_bytes!("../fuzz/seeds/flv/aac_raw");
        assert_eq!(audio(raw), Tag::AacFrame(&raw[2..]));
        let ex = include_bytes!("../fuzz/seeds/flv/ex_aac_seq");
        assert_eq!(audio(ex), Tag::AacConfig(&ex[5..]));
        assert_eq!(audio(b"\x91mp4a\x21"), Tag::AacFrame(&[0x21]));
        assert_eq!(audio(&[0x2f, 0xff, 0xfb]), Tag::Mp3Frame(&[0xff, 0xfb]));
        assert_eq!(audio(b"\x91.mp3\xff"), Tag::Mp3Frame(&[0xff]));
        assert_eq!(audio(b"\x91Opus\x01"), Tag::Other);
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
