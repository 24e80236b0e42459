//! HEVC facts from an HEVCDecoderConfigurationRecord (`hvcC`, ISO 14496-15 8.3.3.1): the
//! profile, tier and level for `/stat`, the NAL length size for muxing, and the picture
//! size from the first SPS (H.265 7.3.2.2).

use super::bits::{unescape_rbsp, BitReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HevcConfig {
    pub profile: u8,
    pub high_tier: bool,
    /// general_level_idc: 30 times the level number (93 = level 3.1).
    pub level: u8,
    /// Bytes in each NALU length prefix (1, 2 or 4).
    pub nal_length_size: u8,
    /// From the first SPS, after the conformance window.
    pub size: Option<(u32, u32)>,
}

const NAL_SPS: u8 = 33;

impl HevcConfig {
    pub fn profile_name(&self) -> &'static str {
        match self.profile {
            1 => "Main",
            2 => "Main 10",
            3 => "Main Still Picture",
            4 => "Rext",
            9 => "SCC",
            _ => "",
        }
    }

    /// "3.1", "4", ... (the level number is general_level_idc / 30).
    pub fn level_name(&self) -> String {
        let major = self.level / 30;
        match (self.level % 30) / 3 {
            0 => format!("{major}"),
            minor => format!("{major}.{minor}"),
        }
    }
}

/// Parses an hvcC record.
pub fn parse_hvcc(rec: &[u8]) -> Option<HevcConfig> {
    let head = rec.get(..23)?;
    let profile = head[1] & 0x1f;
    let high_tier = head[1] & 0x20 != 0;
    let level = head[12];
    let nal_length_size = (head[21] & 0x03) + 1;
    let mut size = None;
    let mut at = 23usize;
    for _ in 0..head[22] {
        let Some(&nal_type) = rec.get(at) else { break };
        let count = u16::from_be_bytes(rec.get(at + 1..at + 3)?.try_into().ok()?);
        at += 3;
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes(rec.get(at..at + 2)?.try_into().ok()?));
            let nal = rec.get(at + 2..at + 2 + len)?;
            at += 2 + len;
            if size.is_none() && nal_type & 0x3f == NAL_SPS {
                size = sps_picture_size(nal);
            }
        }
    }
    Some(HevcConfig {
        profile,
        high_tier,
        level,
        nal_length_size,
        size,
    })
}

/// Width and height after the conformance window, from an SPS NAL unit (with its 2-byte
/// header).
pub fn sps_picture_size(nal: &[u8]) -> Option<(u32, u32)> {
    if (nal.first()? >> 1) & 0x3f != NAL_SPS {
        return None;
    }
    let rbsp = unescape_rbsp(nal.get(2..)?);
    let mut r = BitReader::new(&rbsp);
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3)? as usize;
    r.skip(1)?; // sps_temporal_id_nesting_flag
    skip_profile_tier_level(&mut r, max_sub_layers_minus1)?;
    r.ue()?; // sps_seq_parameter_set_id
    let chroma_format_idc = r.ue()?;
    let separate_colour_plane = chroma_format_idc == 3 && r.bit()?;
    let width = u64::from(r.ue()?);
    let height = u64::from(r.ue()?);
    let (mut left, mut right, mut top, mut bottom) = (0u64, 0u64, 0u64, 0u64);
    if r.bit()? {
        left = r.ue()?.into();
        right = r.ue()?.into();
        top = r.ue()?.into();
        bottom = r.ue()?.into();
    }
    // Offsets count in chroma samples (SubWidthC/SubHeightC, H.265 table 6-1).
    let (unit_x, unit_y) = match (chroma_format_idc, separate_colour_plane) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        (0, _) | (3, _) => (1, 1),
        _ => return None,
    };
    let width = width.checked_sub(left.checked_add(right)?.checked_mul(unit_x)?)?;
    let height = height.checked_sub(top.checked_add(bottom)?.checked_mul(unit_y)?)?;
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
}

/// profile_tier_level(1, maxNumSubLayersMinus1) (H.265 7.3.3): only its length matters.
fn skip_profile_tier_level(r: &mut BitReader<'_>, max_sub_layers_minus1: usize) -> Option<()> {
    // General profile space, tier, idc, 32 compatibility flags, 48 bits of constraint
    // flags, then general_level_idc.
    r.skip(2 + 1 + 5 + 32 + 48 + 8)?;
    let mut profile_present = [false; 8];
    let mut level_present = [false; 8];
    for i in 0..max_sub_layers_minus1 {
        profile_present[i] = r.bit()?;
        level_present[i] = r.bit()?;
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1))?;
    }
    for i in 0..max_sub_layers_minus1 {
        if profile_present[i] {
            r.skip(88)?;
        }
        if level_present[i] {
            r.skip(8)?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFmpeg 8.1's `0x90 hvc1` sequence start for libx265 320x240 Main.
    const SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");

    #[test]
    fn real_record() {
        let c = parse_hvcc(&SEQ[5..]).unwrap();
        assert_eq!(
            c,
            HevcConfig {
                profile: 1,
                high_tier: false,
                level: 60,
                nal_length_size: 4,
                size: Some((320, 240)),
            }
        );
        assert_eq!((c.profile_name(), c.level_name().as_str()), ("Main", "2"));
        let l = HevcConfig { level: 93, ..c };
        assert_eq!(l.level_name(), "3.1");
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok())
            .collect()
    }

    #[test]
    fn cropped_sizes() {
        // libx265 1918x1078: coded 1920x1080 with a conformance window (Debian's ffmpeg).
        let sps = unhex("420101016000000300900000030000030078a003c08010e75596566924caf0168080000003008000000c84");
        assert_eq!(sps_picture_size(&sps), Some((1918, 1078)));
    }

    #[test]
    fn garbage() {
        assert_eq!(parse_hvcc(&[1; 22]), None);
        for n in 0..SEQ.len() - 5 {
            let _ = parse_hvcc(&SEQ[5..5 + n]);
        }
        assert_eq!(sps_picture_size(&[0x40, 0x01, 0xff]), None, "a VPS");
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = sps_picture_size(&[0x42, 0x01, a, b, a, b, 0xff, 0xff, 0, 1]);
            }
        }
    }
}
