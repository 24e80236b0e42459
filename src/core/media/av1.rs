//! AV1 facts from an AV1CodecConfigurationRecord (`av1C`) and the Sequence Header OBU in
//! it (AV1 spec 5.5): profile and level for `/stat`, and the largest frame size.

use super::bits::BitReader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Av1Config {
    pub profile: u8,
    /// seq_level_idx of operating point 0 (31 = no level constraints).
    pub level_idx: u8,
    /// max_frame_width/height from the sequence header, when the record carries one.
    pub size: Option<(u32, u32)>,
}

const OBU_SEQUENCE_HEADER: u8 = 1;

impl Av1Config {
    pub fn profile_name(&self) -> &'static str {
        match self.profile {
            0 => "Main",
            1 => "High",
            2 => "Professional",
            _ => "",
        }
    }

    /// "4.0", "5.1"... (AV1 annex A.3: level X.Y = idx as 4 * (X - 2) + Y); empty for 31.
    pub fn level_name(&self) -> String {
        if self.level_idx >= 24 {
            return String::new();
        }
        format!("{}.{}", 2 + self.level_idx / 4, self.level_idx % 4)
    }
}

/// Parses an av1C record (marker and version 1 in the first byte).
pub fn parse_av1c(rec: &[u8]) -> Option<Av1Config> {
    let head = rec.get(..4)?;
    if head[0] != 0x81 {
        return None;
    }
    Some(Av1Config {
        profile: head[1] >> 5,
        level_idx: head[1] & 0x1f,
        size: sequence_header_size(rec.get(4..)?),
    })
}

/// The largest frame size from the first Sequence Header OBU among `obus` (the configOBUs
/// of an av1C, or a temporal unit).
pub fn sequence_header_size(mut obus: &[u8]) -> Option<(u32, u32)> {
    while let Some((obu_type, payload, rest)) = next_obu(obus) {
        if obu_type == OBU_SEQUENCE_HEADER {
            return parse_sequence_header(payload);
        }
        obus = rest;
    }
    None
}

/// Splits the first OBU (with `obu_has_size_field`; a sizeless OBU runs to the end).
fn next_obu(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let header = *b.first()?;
    let obu_type = (header >> 3) & 0x0f;
    let mut at = 1 + usize::from(header & 0x04 != 0);
    if header & 0x02 == 0 {
        return Some((obu_type, b.get(at..)?, &[]));
    }
    let mut size = 0u64;
    for i in 0..8 {
        let byte = *b.get(at)?;
        at += 1;
        size |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    let end = at.checked_add(usize::try_from(size).ok()?)?;
    Some((obu_type, b.get(at..end)?, b.get(end..)?))
}

const OBU_TEMPORAL_DELIMITER: u8 = 2;

/// A temporal unit without its temporal delimiter OBUs, which an MP4 sample must not hold
/// (AV1-ISOBMFF 2.4); `None` when there is none to remove or an OBU has no size field.
pub fn without_temporal_delimiters(tu: &[u8]) -> Option<Vec<u8>> {
    let mut rest = tu;
    let mut kept = Vec::with_capacity(tu.len());
    let mut removed = false;
    while !rest.is_empty() {
        if rest[0] & 0x02 == 0 {
            return None;
        }
        let (obu_type, _, next) = next_obu(rest)?;
        let whole = &rest[..rest.len() - next.len()];
        if obu_type == OBU_TEMPORAL_DELIMITER {
            removed = true;
        } else {
            kept.extend_from_slice(whole);
        }
        rest = next;
    }
    removed.then_some(kept)
}

/// sequence_header_obu() up to max_frame_height_minus_1.
fn parse_sequence_header(p: &[u8]) -> Option<(u32, u32)> {
    let mut r = BitReader::new(p);
    r.skip(3)?; // seq_profile
    r.skip(1)?; // still_picture
    let reduced = r.bit()?;
    if reduced {
        r.skip(5)?; // seq_level_idx[0]
    } else {
        let mut buffer_delay_bits = 0;
        let timing_info = r.bit()?;
        let mut decoder_model_info = false;
        if timing_info {
            r.skip(64)?; // num_units_in_display_tick, time_scale
            if r.bit()? {
                uvlc(&mut r)?; // num_ticks_per_picture_minus_1
            }
            decoder_model_info = r.bit()?;
            if decoder_model_info {
                buffer_delay_bits = r.bits(5)? as usize + 1;
                r.skip(32 + 5 + 5)?;
            }
        }
        let initial_display_delay = r.bit()?;
        let operating_points = r.bits(5)? + 1;
        for _ in 0..operating_points {
            r.skip(12)?; // operating_point_idc
            if r.bits(5)? > 7 {
                r.skip(1)?; // seq_tier
            }
            if decoder_model_info && r.bit()? {
                r.skip(2 * buffer_delay_bits + 1)?;
            }
            if initial_display_delay && r.bit()? {
                r.skip(4)?;
            }
        }
    }
    let width_bits = r.bits(4)? + 1;
    let height_bits = r.bits(4)? + 1;
    let width = u64::from(r.bits(width_bits)?) + 1;
    let height = u64::from(r.bits(height_bits)?) + 1;
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
}

/// uvlc() (AV1 4.10.3): only its length matters.
fn uvlc(r: &mut BitReader<'_>) -> Option<()> {
    let mut zeros = 0;
    while !r.bit()? {
        zeros += 1;
        if zeros >= 32 {
            return Some(());
        }
    }
    r.skip(zeros)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFmpeg 8.1's `0x90 av01` sequence start for libaom 320x240.
    const SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_seq");
    /// Its first keyframe: temporal delimiter, sequence header, frame.
    const KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_key");

    #[test]
    fn real_record_and_keyframe() {
        let c = parse_av1c(&SEQ[5..]).unwrap();
        assert_eq!(
            c,
            Av1Config {
                profile: 0,
                level_idx: 0,
                size: Some((320, 240)),
            }
        );
        assert_eq!((c.profile_name(), c.level_name().as_str()), ("Main", "2.0"));
        assert_eq!(sequence_header_size(&KEY[5..]), Some((320, 240)));
        let l = Av1Config { level_idx: 13, ..c };
        assert_eq!(l.level_name(), "5.1");
        assert_eq!(Av1Config { level_idx: 31, ..c }.level_name(), "");
    }

    #[test]
    fn temporal_delimiters_are_removed() {
        // FFmpeg's FLV muxer already leaves temporal delimiters (0x12 0x00) out; a
        // publisher may not.
        assert_eq!(without_temporal_delimiters(&KEY[5..]), None);
        let with_td = [&[0x12, 0x00][..], &KEY[5..]].concat();
        assert_eq!(
            without_temporal_delimiters(&with_td).as_deref(),
            Some(&KEY[5..])
        );
        assert_eq!(without_temporal_delimiters(&[0x10]), None, "no size field");
        assert_eq!(without_temporal_delimiters(&[0x12, 0x05, 0]), None, "cut");
    }

    #[test]
    fn reduced_still_picture_header() {
        // seq_profile 0, still picture, reduced header, level 0; 11-bit sizes 1919, 1079.
        let bits = [
            "000",
            "1",
            "1",
            "00000",
            "1010",
            "1010",
            "11101111111",
            "10000110111",
        ];
        let bits: String = bits.concat() + "0000000";
        let w: Vec<u8> = bits
            .as_bytes()
            .chunks_exact(8)
            .map(|c| c.iter().fold(0u8, |b, &bit| b << 1 | u8::from(bit == b'1')))
            .collect();
        assert_eq!(parse_sequence_header(&w), Some((1920, 1080)));
    }

    #[test]
    fn garbage() {
        assert_eq!(parse_av1c(&[0x80, 0, 0, 0]), None, "wrong version");
        assert_eq!(parse_av1c(&[0x81, 0, 0, 0]).map(|c| c.size), Some(None));
        for tag in [SEQ, KEY] {
            for n in 0..tag.len().min(64) {
                let _ = sequence_header_size(&tag[5.min(n)..n]);
            }
        }
        assert_eq!(
            next_obu(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = sequence_header_size(&[0x0a, 4, a, b, a, b]);
                let _ = parse_sequence_header(&[a, b, 0xff, 0xff, a]);
            }
        }
    }
}
