//! 188-byte transport packets (ISO 13818-1 2.4.3): the header, the adaptation field with PCR
//! and random-access flag, and stuffing so a payload unit ends exactly at a packet's end.

pub const PACKET_SIZE: usize = 188;
const HEADER_SIZE: usize = 4;
const SYNC_BYTE: u8 = 0x47;

/// What the adaptation field of a unit's first packet carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Adaptation {
    /// PCR base in 90 kHz ticks (taken modulo 2^33).
    pub pcr: Option<u64>,
    pub random_access: bool,
    /// The PCR restarts a new timeline (after a timestamp jump in the publisher's stream).
    pub discontinuity: bool,
}

impl Adaptation {
    fn is_empty(&self) -> bool {
        self.pcr.is_none() && !self.random_access && !self.discontinuity
    }

    /// Bytes of the field including its length byte, before stuffing.
    fn size(&self) -> usize {
        if self.is_empty() {
            0
        } else if self.pcr.is_some() {
            8
        } else {
            2
        }
    }
}

/// Splits one payload unit (a PES packet) into packets appended to `out`. The continuity
/// counter `cc` belongs to the PID and is advanced once per packet.
pub fn write_unit(out: &mut Vec<u8>, pid: u16, cc: &mut u8, first: Adaptation, unit: &[u8]) {
    let mut rest = unit;
    let mut adaptation = first;
    let mut start = true;
    // Even an empty unit gets one packet so the PUSI and adaptation field are not lost.
    loop {
        let af_base = adaptation.size();
        let room = PACKET_SIZE - HEADER_SIZE - af_base;
        let take = rest.len().min(room);
        let stuffing = room - take;
        let af_total = af_base + stuffing;

        let pusi: u8 = if start { 0x40 } else { 0 };
        out.push(SYNC_BYTE);
        out.push(pusi | ((pid >> 8) as u8 & 0x1f));
        out.push(pid as u8);
        let control: u8 = if af_total > 0 { 0x30 } else { 0x10 };
        out.push(control | (*cc & 0x0f));
        *cc = cc.wrapping_add(1) & 0x0f;

        if af_total > 0 {
            write_adaptation(out, &adaptation, af_total);
        }
        let (now, later) = rest.split_at(take);
        out.extend_from_slice(now);
        rest = later;
        start = false;
        adaptation = Adaptation::default();
        if rest.is_empty() {
            break;
        }
    }
}

/// Writes an adaptation field of exactly `total` bytes (length byte included), padding the
/// part after the flags (and PCR) with 0xFF stuffing.
fn write_adaptation(out: &mut Vec<u8>, a: &Adaptation, total: usize) {
    out.push((total - 1) as u8);
    if total == 1 {
        return;
    }
    let mut flags = 0u8;
    if a.discontinuity {
        flags |= 0x80;
    }
    if a.random_access {
        flags |= 0x40;
    }
    let mut used = 2;
    if let Some(pcr) = a.pcr {
        flags |= 0x10;
        out.push(flags);
        let base = pcr & ((1 << 33) - 1);
        // 33-bit base, 6 reserved bits, 9-bit extension (always 0: we count in 90 kHz).
        out.push((base >> 25) as u8);
        out.push((base >> 17) as u8);
        out.push((base >> 9) as u8);
        out.push((base >> 1) as u8);
        out.push(((base << 7) as u8) | 0x7e);
        out.push(0);
        used = 8;
    } else {
        out.push(flags);
    }
    out.resize(out.len() + (total - used), 0xff);
}

/// Writes a PSI section in a single packet: pointer_field 0, the section, 0xFF fill (the way
/// PSI is padded, ISO 13818-1 2.4.4.2). Sections here are far below one packet.
pub fn write_section(out: &mut Vec<u8>, pid: u16, cc: &mut u8, section: &[u8]) {
    let room = PACKET_SIZE - HEADER_SIZE - 1;
    let body = &section[..section.len().min(room)];
    out.push(SYNC_BYTE);
    out.push(0x40 | ((pid >> 8) as u8 & 0x1f));
    out.push(pid as u8);
    out.push(0x10 | (*cc & 0x0f));
    *cc = cc.wrapping_add(1) & 0x0f;
    out.push(0); // pointer_field
    out.extend_from_slice(body);
    out.resize(out.len() + (room - body.len()), 0xff);
}

/// Reads the PCR base back out of a packet, for tests and checks.
#[cfg(test)]
pub fn read_pcr(packet: &[u8]) -> Option<u64> {
    if packet.get(3)? & 0x20 == 0 || *packet.get(4)? < 7 || packet.get(5)? & 0x10 == 0 {
        return None;
    }
    let b = packet.get(6..11)?;
    Some(
        u64::from(b[0]) << 25
            | u64::from(b[1]) << 17
            | u64::from(b[2]) << 9
            | u64::from(b[3]) << 1
            | u64::from(b[4] >> 7),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_of(packet: &[u8]) -> &[u8] {
        if packet[3] & 0x20 != 0 {
            &packet[5 + usize::from(packet[4])..]
        } else {
            &packet[4..]
        }
    }

    #[test]
    fn sizes_around_packet_boundaries() {
        for len in [
            0usize, 1, 2, 170, 175, 176, 177, 183, 184, 185, 368, 369, 1000,
        ] {
            for a in [
                Adaptation::default(),
                Adaptation {
                    pcr: Some(0x1_2345_6789),
                    random_access: true,
                    discontinuity: false,
                },
            ] {
                let unit: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = Vec::new();
                let mut cc = 14;
                write_unit(&mut out, 0x100, &mut cc, a, &unit);
                assert_eq!(out.len() % PACKET_SIZE, 0, "len {len}");
                let packets: Vec<&[u8]> = out.chunks(PACKET_SIZE).collect();
                let mut joined = Vec::new();
                for (i, p) in packets.iter().enumerate() {
                    assert_eq!(p[0], 0x47);
                    assert_eq!(p[1] & 0x40 != 0, i == 0, "PUSI only on the first");
                    assert_eq!(u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]), 0x100);
                    assert_eq!(p[3] & 0x0f, ((14 + i) % 16) as u8, "cc");
                    joined.extend_from_slice(payload_of(p));
                }
                assert_eq!(joined, unit, "len {len}");
                assert_eq!(cc, ((14 + packets.len()) % 16) as u8);
                if a.pcr.is_some() {
                    assert_eq!(read_pcr(packets[0]), Some(0x1_2345_6789));
                    assert_eq!(packets[0][5] & 0x40, 0x40, "random access");
                }
            }
        }
    }

    #[test]
    fn one_byte_of_stuffing_is_an_empty_adaptation_field() {
        let mut out = Vec::new();
        let mut cc = 0;
        write_unit(&mut out, 0x101, &mut cc, Adaptation::default(), &[7u8; 183]);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(out[3], 0x30);
        assert_eq!(out[4], 0);
        assert_eq!(&out[5..], &[7u8; 183][..]);
    }

    #[test]
    fn section_packet() {
        let mut out = Vec::new();
        let mut cc = 15;
        write_section(&mut out, 0, &mut cc, &[1, 2, 3]);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(&out[..8], &[0x47, 0x40, 0x00, 0x1f, 0x00, 1, 2, 3]);
        assert!(out[8..].iter().all(|&b| b == 0xff));
        assert_eq!(cc, 0);
    }
}
