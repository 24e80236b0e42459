//! PES packet headers (ISO 13818-1 2.4.3.6) with PTS and, when it differs, DTS.

pub const STREAM_ID_VIDEO: u8 = 0xe0;
pub const STREAM_ID_AUDIO: u8 = 0xc0;

/// The most payload one PES can declare in its 16-bit length field (after the 3 flag bytes
/// and a PTS). Audio must stay under it; video may use length 0 ("unbounded").
pub const MAX_AUDIO_PAYLOAD: usize = 0xffff - 3 - 5;

const TS_MASK: u64 = (1 << 33) - 1;

/// Appends a PES header for `payload_len` bytes. `pts`/`dts` are 90 kHz ticks, written
/// modulo 2^33 as the format wraps them.
pub fn write_header(
    out: &mut Vec<u8>,
    stream_id: u8,
    pts: u64,
    dts: Option<u64>,
    payload_len: usize,
) {
    let dts = dts.filter(|&d| d & TS_MASK != pts & TS_MASK);
    let header_data = if dts.is_some() { 10 } else { 5 };
    let declared = 3 + header_data + payload_len;
    let length = if declared > 0xffff {
        0
    } else {
        declared as u16
    };
    out.extend_from_slice(&[0, 0, 1, stream_id]);
    out.extend_from_slice(&length.to_be_bytes());
    out.push(0x80); // '10' marker, no scrambling, no priority/alignment/copyright flags
    out.push(if dts.is_some() { 0xc0 } else { 0x80 });
    out.push(header_data as u8);
    match dts {
        Some(d) => {
            write_timestamp(out, 0b0011, pts);
            write_timestamp(out, 0b0001, d);
        }
        None => write_timestamp(out, 0b0010, pts),
    }
}

/// The 5-byte PTS/DTS field: a 4-bit prefix and 33 bits split 3/15/15 by marker bits.
fn write_timestamp(out: &mut Vec<u8>, prefix: u8, ts: u64) {
    let ts = ts & TS_MASK;
    out.push((prefix << 4) | (((ts >> 30) as u8 & 0x07) << 1) | 1);
    let mid = (((ts >> 15) & 0x7fff) << 1 | 1) as u16;
    out.extend_from_slice(&mid.to_be_bytes());
    let low = ((ts & 0x7fff) << 1 | 1) as u16;
    out.extend_from_slice(&low.to_be_bytes());
}

/// Reads a PTS/DTS field back, for tests.
#[cfg(test)]
pub fn read_timestamp(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pts_only() {
        let mut out = Vec::new();
        write_header(&mut out, STREAM_ID_AUDIO, 0x1_2345_6789, None, 100);
        assert_eq!(out.len(), 14);
        assert_eq!(&out[..4], &[0, 0, 1, 0xc0]);
        assert_eq!(u16::from_be_bytes([out[4], out[5]]), 3 + 5 + 100);
        assert_eq!(&out[6..9], &[0x80, 0x80, 5]);
        assert_eq!(out[9] >> 4, 0b0010);
        assert_eq!(read_timestamp(&out[9..14]), 0x1_2345_6789);
        // Marker bits.
        assert_eq!(out[9] & 1, 1);
        assert_eq!(out[11] & 1, 1);
        assert_eq!(out[13] & 1, 1);
    }

    #[test]
    fn pts_and_dts_and_unbounded_length() {
        let mut out = Vec::new();
        write_header(&mut out, STREAM_ID_VIDEO, 9000 + 3600, Some(9000), 70_000);
        assert_eq!(out.len(), 19);
        assert_eq!(&out[4..6], &[0, 0], "video over 64 KiB declares length 0");
        assert_eq!(&out[6..9], &[0x80, 0xc0, 10]);
        assert_eq!(out[9] >> 4, 0b0011);
        assert_eq!(out[14] >> 4, 0b0001);
        assert_eq!(read_timestamp(&out[9..14]), 12600);
        assert_eq!(read_timestamp(&out[14..19]), 9000);
    }

    #[test]
    fn equal_dts_is_omitted_and_values_wrap() {
        let mut out = Vec::new();
        write_header(&mut out, STREAM_ID_VIDEO, (1 << 33) + 5, Some(5), 1);
        assert_eq!(out[7], 0x80);
        assert_eq!(read_timestamp(&out[9..14]), 5);
    }
}
