//! AAC AudioSpecificConfig facts for `/stat`: profile, sample rate, channels.
//!
//! Besides the explicit HE-AAC signalling nginx-rtmp reads (object type 5/29 first), this
//! also reads the backward-compatible sync extension (0x2b7) that ffmpeg and most hardware
//! encoders append, so HE-AAC streams report their output sample rate.

use super::bits::BitReader;

const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

const AOT_SBR: u32 = 5;
const AOT_PS: u32 = 29;
const SYNC_EXTENSION_SBR: u32 = 0x2b7;
const SYNC_EXTENSION_PS: u32 = 0x548;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacConfig {
    /// The core audio object type (2 = LC even for HE-AAC, which sets `sbr`).
    pub object_type: u32,
    /// The output sample rate (the SBR rate for HE-AAC); `None` for reserved indexes.
    pub sample_rate: Option<u32>,
    /// channelConfiguration; 0 means "defined in a program config element".
    pub channel_config: u8,
    pub sbr: bool,
    pub ps: bool,
}

impl AacConfig {
    /// The profile name nginx-rtmp's `/stat` prints.
    pub fn profile_name(&self) -> &'static str {
        match self.object_type {
            1 => "Main",
            2 if self.ps => "HEv2",
            2 if self.sbr => "HE",
            2 => "LC",
            3 => "SSR",
            4 => "LTP",
            5 => "SBR",
            _ => "",
        }
    }

    /// Channel count for the standard configurations; `None` for 0 (PCE) and reserved ones.
    pub fn channels(&self) -> Option<u8> {
        match self.channel_config {
            1..=6 => Some(self.channel_config),
            7 => Some(8),
            _ => None,
        }
    }
}

/// Parses the config inside an FLV AAC sequence header payload: legacy (`0xAx 0x00`) or an
/// Enhanced RTMP `mp4a` SequenceStart.
pub fn parse_aac_sequence_header(p: &[u8]) -> Option<AacConfig> {
    let b0 = *p.first()?;
    if b0 >> 4 == 10 && p.get(1) == Some(&0) {
        return parse_audio_specific_config(p.get(2..)?);
    }
    if b0 == 0x90 && p.get(1..5) == Some(b"mp4a") {
        return parse_audio_specific_config(p.get(5..)?);
    }
    None
}

/// Parses an AudioSpecificConfig (ISO 14496-3 1.6.2.1) as far as the facts above need.
pub fn parse_audio_specific_config(asc: &[u8]) -> Option<AacConfig> {
    let mut r = BitReader::new(asc);
    let mut object_type = object_type(&mut r)?;
    let mut sample_rate = sample_rate(&mut r)?;
    let channel_config = u8::try_from(r.bits(4)?).ok()?;
    let mut sbr = false;
    let mut ps = false;
    if object_type == AOT_SBR || object_type == AOT_PS {
        sbr = true;
        ps = object_type == AOT_PS;
        sample_rate = self::sample_rate(&mut r)?;
        object_type = self::object_type(&mut r)?;
    } else if object_type == 2 {
        // Backward-compatible signalling lives after the GASpecificConfig; a short or odd
        // tail just means plain LC.
        if let Some((s, p, rate)) = sync_extension(&mut r) {
            sbr = s;
            ps = p;
            if s {
                sample_rate = rate.or(sample_rate);
            }
        }
    }
    Some(AacConfig {
        object_type,
        sample_rate,
        channel_config,
        sbr,
        ps,
    })
}

fn object_type(r: &mut BitReader<'_>) -> Option<u32> {
    match r.bits(5)? {
        31 => Some(32 + r.bits(6)?),
        t => Some(t),
    }
}

fn sample_rate(r: &mut BitReader<'_>) -> Option<Option<u32>> {
    match r.bits(4)? {
        15 => Some(Some(r.bits(24)?)),
        i => Some(SAMPLE_RATES.get(usize::try_from(i).ok()?).copied()),
    }
}

/// GASpecificConfig (LC, no PCE) then the SBR/PS sync extensions:
/// `(sbr, ps, extension sample rate)`.
fn sync_extension(r: &mut BitReader<'_>) -> Option<(bool, bool, Option<u32>)> {
    r.bit()?; // frameLengthFlag
    if r.bit()? {
        r.skip(14)?; // coreCoderDelay
    }
    r.bit()?; // extensionFlag (always 0 for LC)
    if r.bits_left() < 16 || r.bits(11)? != SYNC_EXTENSION_SBR {
        return None;
    }
    if object_type(r)? != AOT_SBR || !r.bit()? {
        return Some((false, false, None));
    }
    let rate = sample_rate(r)?;
    let ps = r.bits_left() >= 12 && r.bits(11)? == SYNC_EXTENSION_PS && r.bit()?;
    Some((true, ps, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Facts = (&'static str, Option<u32>, Option<u8>);

    fn cfg(p: &[u8]) -> Option<Facts> {
        parse_aac_sequence_header(p).map(|c| (c.profile_name(), c.sample_rate, c.channels()))
    }

    #[test]
    fn real_and_crafted_configs() {
        let cases: &[(&[u8], Option<Facts>)] = &[
            // ffmpeg aac, 44100 mono, with a "no SBR" sync extension.
            (
                &[0xaf, 0x00, 0x12, 0x08, 0x56, 0xe5, 0x00],
                Some(("LC", Some(44100), Some(1))),
            ),
            // ffmpeg aac, 22050 mono.
            (
                &[0xaf, 0x00, 0x13, 0x88, 0x56, 0xe5, 0x00],
                Some(("LC", Some(22050), Some(1))),
            ),
            // Plain LC 48000 stereo.
            (
                &[0xaf, 0x00, 0x11, 0x90],
                Some(("LC", Some(48000), Some(2))),
            ),
            // Explicit HE-AAC: AOT 5, 24000 core, stereo, ext 48000, core AOT 2.
            (
                &[0xaf, 0x00, 0x2b, 0x11, 0x88, 0x00],
                Some(("HE", Some(48000), Some(2))),
            ),
            // Explicit HE-AACv2: AOT 29, 24000, mono, ext 48000, core AOT 2.
            (
                &[0xaf, 0x00, 0xeb, 0x09, 0x88, 0x00],
                Some(("HEv2", Some(48000), Some(1))),
            ),
            // Backward-compatible HE: LC 24000 stereo + 0x2b7, AOT 5, sbr=1, 48000.
            (
                &[0xaf, 0x00, 0x13, 0x10, 0x56, 0xe5, 0x98],
                Some(("HE", Some(48000), Some(2))),
            ),
            // Escape sample rate 15 -> 24-bit explicit 12345, 5.1.
            (
                &[0xaf, 0x00, 0x17, 0x80, 0x18, 0x1c, 0xb0],
                Some(("LC", Some(12345), Some(6))),
            ),
            // Reserved sample rate index 13, channel config 0.
            (&[0xaf, 0x00, 0x16, 0x80], Some(("LC", None, None))),
            // Escape object type 31 -> 32 + 6 bits.
            (
                &[0xaf, 0x00, 0xf8, 0x08, 0x20],
                Some(("", Some(44100), Some(1))),
            ),
            // Enhanced mp4a SequenceStart.
            (b"\x90mp4a\x11\x90", Some(("LC", Some(48000), Some(2)))),
            // Not sequence headers / truncated.
            (&[0xaf, 0x01, 0x11, 0x90], None),
            (&[0x2f, 0x00, 0x11, 0x90], None),
            (&[0xaf, 0x00, 0x11], None),
            (&[0xaf, 0x00], None),
            (&[], None),
            (b"\x91mp4a\x11\x90", None),
            (&[0xaf, 0x00, 0x2b, 0x11], None),
        ];
        for (input, want) in cases {
            assert_eq!(cfg(input), *want, "{input:02x?}");
        }
    }

    #[test]
    fn garbage() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = parse_audio_specific_config(&[a, b]);
                let _ = parse_audio_specific_config(&[a, b, a, b, 0xff]);
                let _ = parse_audio_specific_config(&[0x13, 0x10, 0x56, 0xe5, a, b]);
            }
        }
    }
}
