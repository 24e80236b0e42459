//! H.264 sequence header facts for `/stat`: profile, compatibility, level and the picture
//! size from the first SPS. Unlike nginx-rtmp, scaling lists are really skipped and frame
//! cropping uses the chroma format's crop units, so 4:4:4 and odd sizes come out right.

use super::bits::{unescape_rbsp, BitReader};

/// What `/stat` shows of an AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvcConfig {
    pub profile: u8,
    pub compat: u8,
    pub level: u8,
    /// Bytes in each NALU length prefix (1, 2 or 4).
    pub nal_length_size: u8,
    /// From the first SPS; `None` when there is none or it cannot be read.
    pub size: Option<(u32, u32)>,
}

impl AvcConfig {
    /// The name nginx-rtmp's `/stat` prints for the profile ("" for unnamed ones).
    pub fn profile_name(&self) -> &'static str {
        match self.profile {
            66 => "Baseline",
            77 => "Main",
            100 => "High",
            _ => "",
        }
    }
}

/// Parses the record inside an FLV AVC sequence header payload: legacy (`0x17 0x00` + CTS)
/// or Enhanced RTMP `avc1` SequenceStart. Both put the record at byte 5.
pub fn parse_avc_sequence_header(p: &[u8]) -> Option<AvcConfig> {
    let b0 = *p.first()?;
    let legacy = b0 & 0x80 == 0 && b0 & 0x0f == 7 && p.get(1) == Some(&0);
    let enhanced = b0 & 0x80 != 0 && b0 & 0x0f == 0 && p.get(1..5) == Some(b"avc1");
    if !(legacy || enhanced) {
        return None;
    }
    parse_decoder_config(p.get(5..)?)
}

/// Parses an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1).
pub fn parse_decoder_config(rec: &[u8]) -> Option<AvcConfig> {
    let header = rec.get(..6)?;
    let (profile, compat, level) = (*header.get(1)?, *header.get(2)?, *header.get(3)?);
    let nal_length_size = (*header.get(4)? & 0x03) + 1;
    let num_sps = *header.get(5)? & 0x1f;
    let size = if num_sps == 0 {
        None
    } else {
        let len = usize::from(u16::from_be_bytes(rec.get(6..8)?.try_into().ok()?));
        rec.get(8..8usize.checked_add(len)?)
            .and_then(sps_picture_size)
    };
    Some(AvcConfig {
        profile,
        compat,
        level,
        nal_length_size,
        size,
    })
}

/// Width and height in pixels after cropping, from an SPS NAL unit (with its header byte).
pub fn sps_picture_size(nal: &[u8]) -> Option<(u32, u32)> {
    if nal.first()? & 0x1f != 7 {
        return None;
    }
    let rbsp = unescape_rbsp(nal.get(1..)?);
    let mut r = BitReader::new(&rbsp);
    let profile_idc = r.bits(8)?;
    r.skip(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            separate_colour_plane = r.bit()?;
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
                     // At most 255 in a valid stream; a larger count just runs out of bits.
            let cycle = r.ue()?;
            for _ in 0..cycle.min(256) {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_map_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.bit()?;
    if !frame_mbs_only {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    let (mut left, mut right, mut top, mut bottom) = (0u64, 0u64, 0u64, 0u64);
    if r.bit()? {
        left = r.ue()?.into();
        right = r.ue()?.into();
        top = r.ue()?.into();
        bottom = r.ue()?.into();
    }
    let field_factor: u64 = if frame_mbs_only { 1 } else { 2 };
    // Crop offsets count in chroma samples (H.264 7.4.2.1.1, CropUnitX/CropUnitY).
    let chroma_array_type = if separate_colour_plane {
        0
    } else {
        chroma_format_idc
    };
    let (unit_x, unit_y) = match chroma_array_type {
        0 | 3 => (1, field_factor),
        1 => (2, 2 * field_factor),
        2 => (2, field_factor),
        _ => return None,
    };
    let width = width_mbs
        .checked_mul(16)?
        .checked_sub(left.checked_add(right)?.checked_mul(unit_x)?)?;
    let height = height_map_units
        .checked_mul(16)?
        .checked_mul(field_factor)?
        .checked_sub(top.checked_add(bottom)?.checked_mul(unit_y)?)?;
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
}

/// Skips a scaling_list() (H.264 7.3.2.1.1.1); only its length matters here.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Option<()> {
    let mut last: i64 = 8;
    let mut next: i64 = 8;
    for _ in 0..size {
        if next != 0 {
            let delta = r.se()?;
            next = (last + delta).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| s.get(i * 2..i * 2 + 2))
            .filter_map(|h| u8::from_str_radix(h, 16).ok())
            .collect()
    }

    /// First video tag of `ffmpeg -f lavfi -i testsrc2=size=1280x720 -c:v libx264 -f flv`.
    const HIGH_720P: &str = "17000000000164001fffe1001a6764001facd9405005bb011000000300100000030320f183196001000668ebe3cb22c0fdf8f800";
    /// The same with `-profile:v high444 -pix_fmt yuv444p` at 1278x718 (cropped, 4:4:4).
    const HIGH444_1278X718: &str = "170000000001f4001fffe1001b67f4001f919b280a00b7dde022000003000200000300641e30632c01000668ebe3c44844fff8f800";

    #[test]
    fn real_headers() {
        let c = parse_avc_sequence_header(&unhex(HIGH_720P));
        assert_eq!(
            c,
            Some(AvcConfig {
                profile: 100,
                compat: 0,
                level: 31,
                nal_length_size: 4,
                size: Some((1280, 720)),
            })
        );
        assert_eq!(c.map(|c| c.profile_name()), Some("High"));
        let c = parse_avc_sequence_header(&unhex(HIGH444_1278X718));
        assert_eq!(
            c.map(|c| (c.profile, c.size)),
            Some((244, Some((1278, 718))))
        );
        assert_eq!(c.map(|c| c.profile_name()), Some(""));
    }

    #[test]
    fn enhanced_avc1() {
        let mut p = b"\x90avc1".to_vec();
        p.extend_from_slice(unhex(HIGH_720P).get(5..).unwrap_or_default());
        assert_eq!(
            parse_avc_sequence_header(&p).and_then(|c| c.size),
            Some((1280, 720))
        );
        p[0] = 0x91;
        assert_eq!(parse_avc_sequence_header(&p), None);
    }

    #[test]
    fn baseline_sps() {
        // x264 `-profile:v baseline` 320x240 (has emulation-prevention bytes).
        let sps = unhex("6742c00dd90141fb011000000300100000030320f142a480");
        assert_eq!(sps_picture_size(&sps), Some((320, 240)));
        // x264 interlaced 720x576 with `cqm=jvt` scaling lists.
        let hdr = unhex("17000000000164001effe100186764001eacd940b424d8088000000300800000190f8a14cb01000768fba3cb3002c0fdf8f800");
        assert_eq!(
            parse_avc_sequence_header(&hdr).and_then(|c| c.size),
            Some((720, 576))
        );
    }

    #[test]
    fn no_sps_and_garbage() {
        let c = parse_decoder_config(&[1, 66, 0xc0, 30, 0xff, 0xe0]);
        assert_eq!(
            c.map(|c| (c.profile_name(), c.size)),
            Some(("Baseline", None))
        );
        assert_eq!(parse_decoder_config(&[1, 66, 0xc0, 30, 0xff]), None);
        assert_eq!(parse_avc_sequence_header(b""), None);
        assert_eq!(parse_avc_sequence_header(&[0x17, 0x01, 0, 0, 0]), None);
        assert_eq!(parse_avc_sequence_header(&[0x27, 0x00, 0, 0, 0]), None);
        // Truncated at every length: the record's header survives once complete.
        let full = unhex(HIGH_720P);
        for n in 0..full.len() {
            let r = parse_avc_sequence_header(full.get(..n).unwrap_or_default());
            if n < 11 {
                assert_eq!(r, None, "cut {n}");
            }
        }
        // Huge SPS fields: widths that overflow, crops larger than the picture.
        assert_eq!(sps_picture_size(&[0x67, 66, 0, 30, 0x80, 0, 0, 0, 0]), None);
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = sps_picture_size(&[0x67, 100, 0, 30, a, b, a, b]);
                let _ = sps_picture_size(&[0x67, 66, 0, 30, 0xf8, a, b, 0xff]);
            }
        }
    }
}
