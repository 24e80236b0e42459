//! H.264 from FLV's AVCC form (length-prefixed NAL units) to the Annex B byte stream that
//! MPEG-TS carries. Each access unit starts with an access unit delimiter (required in TS,
//! H.222.0 2.14), and key frames carry SPS and PPS in-band, so a player can start decoding
//! at any fragment.

use crate::media::avc::parse_decoder_config;

const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;

const START_CODE: [u8; 4] = [0, 0, 0, 1];
/// primary_pic_type 7 ("any slice type") and the RBSP stop bit.
const AUD: [u8; 2] = [0x09, 0xf0];

/// What the sequence header tells us: how NAL lengths are prefixed, and the parameter sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcParams {
    pub nal_length_size: usize,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
}

/// Parses an AVCDecoderConfigurationRecord. `None` if it is too short to say how NAL units
/// are prefixed; parameter sets that are cut off are left out.
pub fn parse_config(record: &[u8]) -> Option<AvcParams> {
    let config = parse_decoder_config(record)?;
    let mut at = 5usize;
    let sps = parameter_sets(record, 0x1f, &mut at);
    let pps = parameter_sets(record, 0xff, &mut at);
    Some(AvcParams {
        nal_length_size: usize::from(config.nal_length_size),
        sps,
        pps,
    })
}

/// Reads a count byte (masked) and that many u16-length-prefixed NAL units from `at`.
fn parameter_sets(record: &[u8], count_mask: u8, at: &mut usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(&count) = record.get(*at) else {
        return out;
    };
    *at += 1;
    for _ in 0..(count & count_mask) {
        let Some(len) = record.get(*at..*at + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let Some(nal) = record.get(*at + 2..*at + 2 + len) else {
            *at = record.len();
            break;
        };
        if !nal.is_empty() {
            out.push(nal.to_vec());
        }
        *at += 2 + len;
    }
    out
}

/// The NAL units of an AVCC payload; stops at the first length that runs past the end.
fn nal_units(data: &[u8], length_size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || loop {
        let prefix = rest.get(..length_size)?;
        let len = prefix
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        let Some(nal) = rest.get(length_size..length_size.checked_add(len)?) else {
            rest = &[];
            return None;
        };
        rest = &rest[length_size + len..];
        if !nal.is_empty() {
            return Some(nal);
        }
    })
}

fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// Appends one access unit in Annex B form to `out`. `key` is the FLV key-frame flag; SPS
/// and PPS go in for it and for any unit with an IDR slice, unless the unit carries both
/// itself. Returns false (and appends nothing) when the payload holds no NAL unit.
pub fn write_access_unit(out: &mut Vec<u8>, params: &AvcParams, key: bool, data: &[u8]) -> bool {
    let size = params.nal_length_size;
    let (mut any, mut idr, mut sps, mut pps) = (false, false, false, false);
    for nal in nal_units(data, size) {
        any = true;
        match nal_type(nal) {
            NAL_IDR => idr = true,
            NAL_SPS => sps = true,
            NAL_PPS => pps = true,
            _ => {}
        }
    }
    if !any {
        return false;
    }
    let start = out.len();
    out.extend_from_slice(&START_CODE);
    out.extend_from_slice(&AUD);
    if (key || idr) && !(sps && pps) {
        for set in params.sps.iter().chain(&params.pps) {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(set);
        }
    }
    for nal in nal_units(data, size) {
        // The delimiter we wrote stands in for the publisher's; one anywhere else would
        // start a new access unit in the middle of this one.
        if nal_type(nal) != NAL_AUD {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(nal);
        }
    }
    debug_assert!(out.len() > start);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with profile 100, 4-byte lengths, one SPS and one PPS.
    pub fn record() -> Vec<u8> {
        let mut r = vec![1, 100, 0, 31, 0xff, 0xe1];
        r.extend_from_slice(&[0, 4, 0x67, 0x64, 0x00, 0x1f]);
        r.push(1);
        r.extend_from_slice(&[0, 3, 0x68, 0xeb, 0xe3]);
        r
    }

    fn avcc(nals: &[&[u8]], size: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for n in nals {
            let len = (n.len() as u32).to_be_bytes();
            v.extend_from_slice(&len[4 - size..]);
            v.extend_from_slice(n);
        }
        v
    }

    fn split_annexb(b: &[u8]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut i = 0;
        while i + 4 <= b.len() {
            if b[i..i + 4] == START_CODE {
                out.push(Vec::new());
                i += 4;
            } else {
                out.last_mut().unwrap().push(b[i]);
                i += 1;
            }
        }
        if let Some(last) = out.last_mut() {
            last.extend_from_slice(&b[i..]);
        }
        out
    }

    #[test]
    fn config() {
        let p = parse_config(&record()).unwrap();
        assert_eq!(p.nal_length_size, 4);
        assert_eq!(p.sps, vec![vec![0x67, 0x64, 0x00, 0x1f]]);
        assert_eq!(p.pps, vec![vec![0x68, 0xeb, 0xe3]]);
        // Cut inside the PPS: the SPS survives.
        let r = record();
        let p = parse_config(&r[..r.len() - 1]).unwrap();
        assert_eq!(p.sps.len(), 1);
        assert!(p.pps.is_empty());
        assert_eq!(parse_config(&r[..5]), None);
    }

    #[test]
    fn idr_gets_aud_sps_pps() {
        let p = parse_config(&record()).unwrap();
        let sei: &[u8] = &[0x06, 5, 1, 0x80];
        let idr: &[u8] = &[0x65, 0x88, 0x84, 0x00, 0x33];
        let mut out = Vec::new();
        assert!(write_access_unit(&mut out, &p, true, &avcc(&[sei, idr], 4)));
        let nals = split_annexb(&out);
        let types: Vec<u8> = nals.iter().map(|n| n[0] & 0x1f).collect();
        assert_eq!(types, vec![9, 7, 8, 6, 5]);
        assert_eq!(nals[0], AUD);
        assert_eq!(nals[4], idr);
    }

    #[test]
    fn inter_frame_gets_one_leading_aud_and_no_parameter_sets() {
        let mut p = parse_config(&record()).unwrap();
        p.nal_length_size = 2;
        let aud: &[u8] = &[0x09, 0x30];
        let slice: &[u8] = &[0x41, 0x9a, 0x02];
        let stray_aud: &[u8] = &[0x09, 0x10];
        let mut out = Vec::new();
        write_access_unit(&mut out, &p, false, &avcc(&[aud, slice, stray_aud], 2));
        let types: Vec<u8> = split_annexb(&out).iter().map(|n| n[0] & 0x1f).collect();
        assert_eq!(types, vec![9, 1], "one delimiter, first");
    }

    #[test]
    fn in_band_parameter_sets_are_not_doubled() {
        let mut p = parse_config(&record()).unwrap();
        p.nal_length_size = 1;
        let sps: &[u8] = &[0x67, 1];
        let pps: &[u8] = &[0x68, 2];
        let idr: &[u8] = &[0x65, 3];
        let mut out = Vec::new();
        write_access_unit(&mut out, &p, true, &avcc(&[sps, pps, idr], 1));
        let nals = split_annexb(&out);
        assert_eq!(
            nals,
            vec![AUD.to_vec(), sps.to_vec(), pps.to_vec(), idr.to_vec()]
        );
    }

    #[test]
    fn truncated_and_empty() {
        let p = parse_config(&record()).unwrap();
        let mut out = Vec::new();
        assert!(!write_access_unit(&mut out, &p, true, &[]));
        assert!(!write_access_unit(
            &mut out,
            &p,
            true,
            &[0, 0, 0, 0, 0, 0, 0, 0]
        ));
        assert!(!write_access_unit(&mut out, &p, true, &[0, 0, 0, 9, 0x65]));
        assert!(!write_access_unit(
            &mut out,
            &p,
            true,
            &[0xff, 0xff, 0xff, 0xff, 0x65]
        ));
        assert!(out.is_empty());
        // A good NAL then a truncated one: the good one is kept.
        let mut data = avcc(&[&[0x41, 1, 2]], 4);
        data.extend_from_slice(&[0, 0, 1, 0, 0x41]);
        assert!(write_access_unit(&mut out, &p, false, &data));
        assert_eq!(split_annexb(&out).len(), 2);
    }
}
