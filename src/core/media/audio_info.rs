//! Channels and sample rate of Enhanced RTMP audio for `/stat`: the Opus ID header
//! (RFC 7845 5.1), the FLAC STREAMINFO block, and an AC-3 syncframe (ATSC A/52 5.3),
//! whose SequenceStart is empty.

use super::bits::BitReader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    pub channels: u32,
    pub sample_rate: u32,
}

/// `OpusHead`: version, channel count, pre-skip, input sample rate (little-endian).
pub fn opus_head(p: &[u8]) -> Option<AudioInfo> {
    let b = p.get(..16)?;
    if &b[..8] != b"OpusHead" {
        return None;
    }
    Some(AudioInfo {
        channels: u32::from(b[9]),
        sample_rate: u32::from_le_bytes(b[12..16].try_into().ok()?),
    })
}

/// STREAMINFO, bare (as FFmpeg's FLV muxer writes it) or after `fLaC` and the metadata
/// block header.
pub fn flac_streaminfo(p: &[u8]) -> Option<AudioInfo> {
    let info = match p.strip_prefix(b"fLaC") {
        Some(rest) => rest.get(4..)?,
        None => p,
    };
    let mut r = BitReader::new(info.get(..34)?);
    r.skip(16 + 16 + 24 + 24)?; // block sizes, frame sizes
    let sample_rate = r.bits(20)?;
    let channels = r.bits(3)? + 1;
    Some(AudioInfo {
        channels,
        sample_rate,
    })
}

/// An AC-3 syncframe's sample rate and channel count (main channels plus LFE).
pub fn ac3_frame(p: &[u8]) -> Option<AudioInfo> {
    let mut r = BitReader::new(p);
    if r.bits(16)? != 0x0b77 {
        return None;
    }
    r.skip(16)?; // crc1
    let sample_rate = match r.bits(2)? {
        0 => 48000,
        1 => 44100,
        2 => 32000,
        _ => return None,
    };
    r.skip(6)?; // frmsizecod
    if r.bits(5)? > 10 {
        return None; // bsid: E-AC-3 or newer, another syntax
    }
    r.skip(3)?; // bsmod
    let acmod = r.bits(3)?;
    if acmod & 1 != 0 && acmod != 1 {
        r.skip(2)?; // cmixlev
    }
    if acmod & 4 != 0 {
        r.skip(2)?; // surmixlev
    }
    if acmod == 2 {
        r.skip(2)?; // dsurmod
    }
    let lfe = u32::from(r.bit()?);
    let channels = [2, 1, 2, 3, 3, 4, 4, 5][acmod as usize] + lfe;
    Some(AudioInfo {
        channels,
        sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPUS_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");
    const FLAC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_flac_seq");
    const AC3_FRAME: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_ac3_frame");

    #[test]
    fn real_headers() {
        // FFmpeg 8.1 from Debian ffmpeg's libopus, flac and ac3 encodings of a mono sine.
        let mono_48k = AudioInfo {
            channels: 1,
            sample_rate: 48000,
        };
        assert_eq!(opus_head(&OPUS_SEQ[5..]), Some(mono_48k));
        assert_eq!(flac_streaminfo(&FLAC_SEQ[5..]), Some(mono_48k));
        assert_eq!(ac3_frame(&AC3_FRAME[5..]), Some(mono_48k));
        let mut with_signature = b"fLaC\x80\x00\x00\x22".to_vec();
        with_signature.extend_from_slice(&FLAC_SEQ[5..]);
        assert_eq!(flac_streaminfo(&with_signature), Some(mono_48k));
    }

    #[test]
    fn garbage() {
        assert_eq!(opus_head(b"OpusTags12345678"), None);
        assert_eq!(flac_streaminfo(&[0; 33]), None);
        assert_eq!(ac3_frame(&[0x0b, 0x77, 0, 0, 0xc0, 0, 0]), None);
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = ac3_frame(&[0x0b, 0x77, 0, 0, a, b, a]);
            }
        }
    }
}
