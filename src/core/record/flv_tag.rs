//! FLV file framing: the file header, tag headers and the size trailer after each tag.

use std::io;

use super::files::RecordFiles;

pub(super) const TAG_AUDIO: u8 = 8;
pub(super) const TAG_VIDEO: u8 = 9;
pub(super) const TAG_SCRIPT: u8 = 18;

pub(super) const FLAG_AUDIO: u8 = 0x04;
pub(super) const FLAG_VIDEO: u8 = 0x01;
/// Where the audio/video flags byte sits in the file header.
pub(super) const FLAGS_AT: u64 = 4;

/// The 9-byte header plus PreviousTagSize0.
pub(super) const FILE_HEADER_LEN: usize = 13;
pub(super) const TAG_HEADER_LEN: usize = 11;
const TRAILER_LEN: usize = 4;
/// The tag header stores the body size in 24 bits.
pub(super) const MAX_BODY: usize = 0xff_ffff;

pub(super) fn file_header(flags: u8) -> [u8; FILE_HEADER_LEN] {
    [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TagHeader {
    pub tag_type: u8,
    pub body_len: u32,
    pub timestamp: u32,
}

impl TagHeader {
    /// FLV splits the 32-bit timestamp: low 24 bits first, the high byte after them.
    pub(super) fn encode(&self) -> [u8; TAG_HEADER_LEN] {
        let [_, l2, l1, l0] = self.body_len.to_be_bytes();
        let [t3, t2, t1, t0] = self.timestamp.to_be_bytes();
        [self.tag_type, l2, l1, l0, t2, t1, t0, t3, 0, 0, 0]
    }

    pub(super) fn decode(b: &[u8; TAG_HEADER_LEN]) -> TagHeader {
        let [tag_type, l2, l1, l0, t2, t1, t0, t3, ..] = *b;
        TagHeader {
            tag_type: tag_type & 0x1f,
            body_len: u32::from_be_bytes([0, l2, l1, l0]),
            timestamp: u32::from_be_bytes([t3, t2, t1, t0]),
        }
    }

    /// The PreviousTagSize that follows this tag.
    pub(super) fn tag_size(&self) -> u32 {
        self.body_len + TAG_HEADER_LEN as u32
    }
}

/// Appends one whole tag in one call and returns the bytes it took. The caller keeps
/// bodies within [`MAX_BODY`].
pub(super) fn append_tag(
    files: &mut dyn RecordFiles,
    tag_type: u8,
    timestamp: u32,
    body: &[u8],
) -> io::Result<u64> {
    let body_len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n as usize <= MAX_BODY)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "FLV tag body too large"))?;
    let header = TagHeader {
        tag_type,
        body_len,
        timestamp,
    };
    let trailer = header.tag_size().to_be_bytes();
    files.append(&[&header.encode(), body, &trailer])?;
    Ok((TAG_HEADER_LEN + body.len() + TRAILER_LEN) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_header_round_trip() {
        let h = TagHeader {
            tag_type: TAG_VIDEO,
            body_len: 0x01_0203,
            timestamp: 0x8a0b_0c0d,
        };
        let b = h.encode();
        assert_eq!(b, [9, 1, 2, 3, 0x0b, 0x0c, 0x0d, 0x8a, 0, 0, 0]);
        assert_eq!(TagHeader::decode(&b), h);
        assert_eq!(h.tag_size(), 0x01_0203 + 11);
    }

    #[test]
    fn file_header_flags() {
        let h = file_header(FLAG_AUDIO | FLAG_VIDEO);
        assert_eq!(&h[..9], b"FLV\x01\x05\x00\x00\x00\x09");
        assert_eq!(h.get(FLAGS_AT as usize), Some(&5));
    }
}
