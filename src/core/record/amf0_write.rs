//! The few AMF0 encodings an onMetaData tag needs. Values copied from the publisher are
//! passed through as bytes, so only what the recorder adds is encoded here.

const NUMBER: u8 = 0x00;
const STRING: u8 = 0x02;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;

/// A short string value. Callers pass names of their own, far below the 64 KiB limit.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(STRING);
    name(out, s.as_bytes());
}

/// A property name: a short string without its marker. Longer names are cut to the
/// limit rather than written with a wrong length.
pub(super) fn name(out: &mut Vec<u8>, n: &[u8]) {
    let n = n.get(..usize::from(u16::MAX)).unwrap_or(n);
    let len = u16::try_from(n.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(n);
}

/// Writes a number and returns where its eight bytes start, for patching later.
pub(super) fn number(out: &mut Vec<u8>, v: f64) -> usize {
    out.push(NUMBER);
    let at = out.len();
    out.extend_from_slice(&v.to_be_bytes());
    at
}

/// The count is only a hint to readers; it must still match what follows, as ffmpeg
/// and flvmeta report a mismatch.
pub(super) fn ecma_array_start(out: &mut Vec<u8>, count: u32) {
    out.push(ECMA_ARRAY);
    out.extend_from_slice(&count.to_be_bytes());
}

pub(super) fn object_end(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, OBJECT_END]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut out = Vec::new();
        string(&mut out, "onMetaData");
        ecma_array_start(&mut out, 1);
        name(&mut out, b"duration");
        let at = number(&mut out, 1.5);
        object_end(&mut out);
        let mut want = b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x01\x00\x08duration\x00".to_vec();
        assert_eq!(at, want.len());
        want.extend_from_slice(&1.5f64.to_be_bytes());
        want.extend_from_slice(b"\x00\x00\x09");
        assert_eq!(out, want);
    }

    #[test]
    fn overlong_name_is_cut() {
        let mut out = Vec::new();
        name(&mut out, &vec![b'a'; 70_000]);
        assert_eq!(out.len(), 2 + 65_535);
        assert_eq!(out.get(..2), Some(&[0xff, 0xff][..]));
    }
}
