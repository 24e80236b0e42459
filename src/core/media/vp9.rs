//! VP9 facts: profile and level from a VPCodecConfigurationRecord (`vpcC`), and the frame
//! size from a keyframe's uncompressed header (VP9 spec 6.2), which vpcC does not carry.

use super::bits::BitReader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VpcConfig {
    pub profile: u8,
    /// 10 times the level number (31 = level 3.1); 0 when unspecified.
    pub level: u8,
    pub bit_depth: u8,
}

impl VpcConfig {
    pub fn profile_name(&self) -> String {
        format!("Profile {}", self.profile)
    }

    pub fn level_name(&self) -> String {
        match (self.level / 10, self.level % 10) {
            (0, _) => String::new(),
            (major, 0) => format!("{major}"),
            (major, minor) => format!("{major}.{minor}"),
        }
    }
}

/// Parses a vpcC box body (version 1: version and flags, then the fields).
pub fn parse_vpcc(rec: &[u8]) -> Option<VpcConfig> {
    let b = rec.get(..7)?;
    if b[0] != 1 {
        return None;
    }
    Some(VpcConfig {
        profile: b[4],
        level: b[5],
        bit_depth: b[6] >> 4,
    })
}

const SYNC_CODE: u32 = 0x49_83_42;
const CS_RGB: u32 = 7;

/// The frame size of a keyframe (the first frame of a superframe); `None` for other frames.
pub fn keyframe_size(frame: &[u8]) -> Option<(u32, u32)> {
    let mut r = BitReader::new(frame);
    if r.bits(2)? != 2 {
        return None; // frame_marker
    }
    let profile = r.bits(1)? | r.bits(1)? << 1;
    if profile == 3 {
        r.skip(1)?;
    }
    if r.bit()? {
        return None; // show_existing_frame
    }
    if r.bit()? {
        return None; // frame_type: not a keyframe
    }
    r.skip(2)?; // show_frame, error_resilient_mode
    if r.bits(24)? != SYNC_CODE {
        return None;
    }
    if profile >= 2 {
        r.skip(1)?; // ten_or_twelve_bit
    }
    let color_space = r.bits(3)?;
    if color_space != CS_RGB {
        r.skip(1)?; // color_range
        if profile == 1 || profile == 3 {
            r.skip(3)?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if profile == 1 || profile == 3 {
        r.skip(1)?;
    }
    let width = r.bits(16)? + 1;
    let height = r.bits(16)? + 1;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFmpeg 8.1's `0x90 vp09` sequence start and first keyframe (libvpx-vp9 320x240).
    const SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_vp9_seq");
    const KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_vp9_key");

    #[test]
    fn real_record_and_keyframe() {
        let c = parse_vpcc(&SEQ[5..]).unwrap();
        assert_eq!(
            c,
            VpcConfig {
                profile: 0,
                level: 20,
                bit_depth: 8
            }
        );
        assert_eq!(
            (c.profile_name().as_str(), c.level_name().as_str()),
            ("Profile 0", "2")
        );
        assert_eq!(VpcConfig { level: 31, ..c }.level_name(), "3.1");
        assert_eq!(keyframe_size(&KEY[5..]), Some((320, 240)));
        let inter = [0x86, 0x00, 0x40];
        assert_eq!(keyframe_size(&inter), None);
    }

    #[test]
    fn garbage() {
        assert_eq!(parse_vpcc(&[0, 0, 0, 0, 0, 0, 0]), None);
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = keyframe_size(&[a, 0x49, 0x83, 0x42, b, a, b]);
            }
        }
    }
}
