//! ADTS headers (ISO 14496-3 1.A.2) for raw AAC frames, built from the AudioSpecificConfig
//! of the sequence header: TS carries AAC only in this self-describing framing.

use crate::media::bits::BitReader;

pub const HEADER_LEN: usize = 7;
/// frame_length is 13 bits and includes the header.
pub const MAX_FRAME: usize = (1 << 13) - 1 - HEADER_LEN;

const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

const AOT_SBR: u32 = 5;
const AOT_PS: u32 = 29;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsParams {
    /// ADTS profile: the MPEG-4 object type minus one (0 Main, 1 LC, 2 SSR, 3 LTP).
    pub profile: u8,
    pub sample_rate_index: u8,
    pub channel_config: u8,
    /// The AAC core's rate, which is what frames are counted in (for HE-AAC, half the
    /// output rate: an ADTS stream of LC at the core rate is how SBR is signalled implicitly).
    pub sample_rate: u32,
    /// Samples per frame: 1024, or 960 when frameLengthFlag is set.
    pub frame_samples: u32,
}

/// Reads what an ADTS header needs from an AudioSpecificConfig.
pub fn parse_config(asc: &[u8]) -> Option<AdtsParams> {
    let mut r = BitReader::new(asc);
    let object_type = match r.bits(5)? {
        // Escaped object types (>= 32) have no ADTS profile and no decoder here.
        0 | 31 => return None,
        t => t,
    };
    let sample_rate_index = r.bits(4)?;
    // An explicit 24-bit rate cannot be put in an ADTS header.
    let sample_rate = *SAMPLE_RATES.get(usize::try_from(sample_rate_index).ok()?)?;
    let channel_config = r.bits(4)? as u8;
    let mut core = object_type;
    if object_type == AOT_SBR || object_type == AOT_PS {
        if r.bits(4)? == 15 {
            r.skip(24)?;
        }
        core = r.bits(5)?;
    }
    // GASpecificConfig's first bit; object types without it keep the 1024 default.
    let frame_samples = match core {
        1..=4 | 6 | 7 | 17 | 19..=23 if r.bit() == Some(true) => 960,
        _ => 1024,
    };
    // Android's decoders choke on anything but the four ADTS profiles; LC decodes HE-AAC's
    // core, and SBR is then found implicitly, so the rest are marked LC as nginx-rtmp does.
    let profile = match object_type {
        1..=4 => object_type as u8 - 1,
        _ => 1,
    };
    Some(AdtsParams {
        profile,
        sample_rate_index: sample_rate_index as u8,
        channel_config,
        sample_rate,
        frame_samples,
    })
}

/// The header for a raw frame of `payload_len` bytes; `None` if it does not fit 13 bits.
pub fn header(p: &AdtsParams, payload_len: usize) -> Option<[u8; HEADER_LEN]> {
    if payload_len > MAX_FRAME {
        return None;
    }
    let len = payload_len + HEADER_LEN;
    Some([
        0xff,
        // Sync word end, MPEG-4, layer 0, no CRC.
        0xf1,
        (p.profile << 6) | ((p.sample_rate_index & 0x0f) << 2) | ((p.channel_config >> 2) & 0x01),
        ((p.channel_config & 0x03) << 6) | ((len >> 11) as u8 & 0x03),
        (len >> 3) as u8,
        ((len as u8 & 0x07) << 5) | 0x1f,
        // Buffer fullness 0x7FF (variable rate), one raw data block.
        0xfc,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the fields back the way a demuxer does.
    fn fields(h: &[u8; 7]) -> (u16, u8, u8, u8, u8, usize, u16, u8) {
        let sync = u16::from(h[0]) << 4 | u16::from(h[1] >> 4);
        let protection_absent = h[1] & 1;
        let profile = h[2] >> 6;
        let sfi = (h[2] >> 2) & 0x0f;
        let ch = ((h[2] & 1) << 2) | (h[3] >> 6);
        let len = usize::from(h[3] & 3) << 11 | usize::from(h[4]) << 3 | usize::from(h[5] >> 5);
        let fullness = u16::from(h[5] & 0x1f) << 6 | u16::from(h[6] >> 2);
        let blocks = h[6] & 3;
        (
            sync,
            protection_absent,
            profile,
            sfi,
            ch,
            len,
            fullness,
            blocks,
        )
    }

    #[test]
    fn lc_44100_mono() {
        // ffmpeg's aac encoder, 44100 Hz mono, with a "no SBR" sync extension.
        let p = parse_config(&[0x12, 0x08, 0x56, 0xe5, 0x00]).unwrap();
        assert_eq!(
            (p.profile, p.sample_rate_index, p.channel_config),
            (1, 4, 1)
        );
        assert_eq!((p.sample_rate, p.frame_samples), (44100, 1024));
        let h = header(&p, 300).unwrap();
        assert_eq!(fields(&h), (0xfff, 1, 1, 4, 1, 307, 0x7ff, 0));
    }

    #[test]
    fn stereo_48k_and_six_channels() {
        let p = parse_config(&[0x11, 0x90]).unwrap();
        assert_eq!((p.sample_rate_index, p.channel_config), (3, 2));
        let p = parse_config(&[0x11, 0xb0]).unwrap();
        assert_eq!(p.channel_config, 6);
        let h = header(&p, MAX_FRAME).unwrap();
        assert_eq!(fields(&h).4, 6);
        assert_eq!(fields(&h).5, 8191);
        assert_eq!(header(&p, MAX_FRAME + 1), None);
    }

    #[test]
    fn he_aac_is_lc_at_the_core_rate() {
        // AOT 5, 24000 core, stereo, extension 48000, core AOT 2.
        let p = parse_config(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(
            (p.profile, p.sample_rate_index, p.sample_rate),
            (1, 6, 24000)
        );
    }

    #[test]
    fn frame_length_flag_and_rejects() {
        // LC 48000 stereo with frameLengthFlag set.
        assert_eq!(parse_config(&[0x11, 0x94]).unwrap().frame_samples, 960);
        assert_eq!(parse_config(&[]), None);
        assert_eq!(parse_config(&[0x00, 0x00]), None, "object type 0");
        assert_eq!(
            parse_config(&[0xf8, 0x08, 0x20]),
            None,
            "escaped object type"
        );
        assert_eq!(
            parse_config(&[0x17, 0x80, 0x18, 0x1c, 0xb0]),
            None,
            "explicit rate"
        );
        assert_eq!(parse_config(&[0x16, 0x80]), None, "reserved rate index 13");
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = parse_config(&[a, b]).and_then(|p| header(&p, 10));
            }
        }
    }
}
