//! PAT and PMT sections (ISO 13818-1 2.4.4). One program, so the PAT never changes; the PMT
//! lists only the elementary streams the publisher actually sends, because players such as
//! hls.js wait forever for data on a stream the PMT announces but the segment never carries.

pub const PID_PMT: u16 = 0x1000;
pub const PROGRAM_NUMBER: u16 = 1;

/// CRC-32/MPEG-2: polynomial 0x04C11DB7, MSB first, initial value all ones, no final xor.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// One elementary stream entry of the PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elementary {
    pub stream_type: u8,
    pub pid: u16,
}

/// Appends the long-form section header, the body and the CRC. `id_ext` is the
/// transport_stream_id for the PAT and the program_number for the PMT.
fn section(table_id: u8, id_ext: u16, version: u8, body: &[u8]) -> Vec<u8> {
    // section_length counts from after itself: 5 header bytes + body + 4 CRC bytes.
    let len = 5 + body.len() + 4;
    let mut s = Vec::with_capacity(3 + len);
    s.push(table_id);
    // section_syntax_indicator, '0', two reserved bits, 12-bit length.
    s.push(0xb0 | ((len >> 8) as u8 & 0x0f));
    s.push(len as u8);
    s.extend_from_slice(&id_ext.to_be_bytes());
    // Two reserved bits, 5-bit version, current_next_indicator.
    s.push(0xc1 | ((version & 0x1f) << 1));
    s.push(0); // section_number
    s.push(0); // last_section_number
    s.extend_from_slice(body);
    let crc = crc32(&s);
    s.extend_from_slice(&crc.to_be_bytes());
    s
}

pub fn pat() -> Vec<u8> {
    let mut body = Vec::with_capacity(4);
    body.extend_from_slice(&PROGRAM_NUMBER.to_be_bytes());
    body.extend_from_slice(&(0xe000 | PID_PMT).to_be_bytes());
    section(0x00, 1, 0, &body)
}

pub fn pmt(pcr_pid: u16, streams: &[Elementary], version: u8) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + 5 * streams.len());
    body.extend_from_slice(&(0xe000 | (pcr_pid & 0x1fff)).to_be_bytes());
    body.extend_from_slice(&0xf000u16.to_be_bytes()); // no program descriptors
    for es in streams {
        body.push(es.stream_type);
        body.extend_from_slice(&(0xe000 | (es.pid & 0x1fff)).to_be_bytes());
        body.extend_from_slice(&0xf000u16.to_be_bytes()); // no ES descriptors
    }
    section(0x02, PROGRAM_NUMBER, version, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        // The catalogue check value of CRC-32/MPEG-2.
        assert_eq!(crc32(b"123456789"), 0x0376_E6E7);
        // A section with its CRC appended checks to zero, which is how demuxers verify it.
        let s = pat();
        assert_eq!(crc32(&s), 0);
    }

    #[test]
    fn pat_layout() {
        let s = pat();
        assert_eq!(s.len(), 3 + 13);
        assert_eq!(&s[..8], &[0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00]);
        assert_eq!(&s[8..12], &[0x00, 0x01, 0xf0, 0x00]);
    }

    #[test]
    fn pmt_layout() {
        let streams = [
            Elementary {
                stream_type: 0x1b,
                pid: 0x100,
            },
            Elementary {
                stream_type: 0x0f,
                pid: 0x101,
            },
        ];
        let s = pmt(0x100, &streams, 3);
        assert_eq!(crc32(&s), 0);
        assert_eq!(s[0], 0x02);
        assert_eq!(
            usize::from(s[1] & 0x0f) << 8 | usize::from(s[2]),
            s.len() - 3
        );
        assert_eq!(s[5], 0xc1 | (3 << 1));
        assert_eq!(&s[8..12], &[0xe1, 0x00, 0xf0, 0x00]);
        assert_eq!(&s[12..17], &[0x1b, 0xe1, 0x00, 0xf0, 0x00]);
        assert_eq!(&s[17..22], &[0x0f, 0xe1, 0x01, 0xf0, 0x00]);
    }
}
