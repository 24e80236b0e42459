//! The looped source: an FLV file's tags, and the in-band latency stamp.
//!
//! Every video frame a publisher sends gets an H.264 SEI NAL (user_data_unregistered) put in
//! front of its NALs, carrying the stream's frame sequence number and the wall-clock time it
//! was sent. A player reads it back from the first bytes of the message, so relay latency and
//! lost frames are measured in-band, through any server, with no side channel.

use crate::rtmp::amf::{self, Amf};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Tag {
    /// FLV tag type: 8 audio, 9 video.
    pub typ: u8,
    pub ts: u32,
    pub data: Vec<u8>,
}

pub struct Media {
    /// `@setDataFrame` + the file's onMetaData, ready to send as a data message.
    pub meta: Option<Vec<u8>>,
    pub video_header: Vec<u8>,
    pub audio_header: Option<Vec<u8>>,
    pub tags: Vec<Tag>,
    /// The loop period: the last video timestamp plus one frame.
    pub dur_ms: u32,
    /// AVC NAL length size; the stamp needs 4.
    pub nal_len: usize,
    pub bitrate_kbps: f64,
}

const UUID: &[u8; 16] = b"NGXRTMPBENCHv1!!";
/// The user data: 8 hex digits of sequence number, 16 of nanoseconds since the epoch.
const STAMP_HEX: usize = 24;
/// Bytes from the start of a video message to the end of the stamp: the FLV video header (5),
/// the NAL length (4), NAL type and SEI type and size (3), the UUID (16), the digits.
pub const STAMP_END: usize = 5 + 4 + 3 + 16 + STAMP_HEX;

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn be24(b: &[u8]) -> u32 {
    (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
}

pub fn load(path: &str) -> Result<Media, String> {
    let d = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    if d.len() < 13 || &d[0..3] != b"FLV" {
        return Err(format!("{path}: not an FLV file"));
    }
    let mut p = u32::from_be_bytes([d[5], d[6], d[7], d[8]]) as usize + 4;
    let (mut meta, mut video_header, mut audio_header, mut tags) =
        (None, Vec::new(), None, Vec::new());
    let mut nal_len = 4;
    while p + 11 <= d.len() {
        let typ = d[p] & 0x1f;
        let size = be24(&d[p + 1..]) as usize;
        let ts = be24(&d[p + 4..]) | (d[p + 7] as u32) << 24;
        if p + 11 + size > d.len() {
            break;
        }
        let data = d[p + 11..p + 11 + size].to_vec();
        p += 11 + size + 4;
        match typ {
            9 if data.len() > 9 && data[1] == 0 => {
                nal_len = (data[9] & 3) as usize + 1;
                video_header = data
            }
            // Coded frames only: an end-of-sequence packet would reach players as a frame
            // that is never counted, and tell decoders the stream ended at every lap.
            9 if data.len() > 5 && data[1] == 1 => tags.push(Tag { typ, ts, data }),
            8 if data.len() > 1 && data[0] >> 4 == 10 && data[1] == 0 => audio_header = Some(data),
            8 => tags.push(Tag { typ, ts, data }),
            18 => {
                let mut b = Vec::new();
                amf::write(&mut b, &Amf::Str("@setDataFrame".into()));
                b.extend_from_slice(&data);
                meta = Some(b)
            }
            _ => {}
        }
    }
    let v: Vec<u32> = tags.iter().filter(|t| t.typ == 9).map(|t| t.ts).collect();
    if v.len() < 3 || video_header.is_empty() {
        return Err(format!("{path}: no H.264 video"));
    }
    if nal_len != 4 {
        return Err(format!(
            "{path}: NAL length size {nal_len}, the latency stamp needs 4"
        ));
    }
    let step = (v[v.len() - 1] - v[0]) as f64 / (v.len() - 1) as f64;
    let dur_ms = (v[v.len() - 1] as f64 + step).round() as u32;
    let bytes: usize = tags.iter().map(|t| t.data.len()).sum();
    Ok(Media {
        meta,
        video_header,
        audio_header,
        tags,
        dur_ms,
        nal_len,
        bitrate_kbps: bytes as f64 * 8.0 / dur_ms as f64,
    })
}

/// A video tag's payload with the stamp NAL inserted before its first NAL.
pub fn stamped(video: &[u8], seq: u32, sent_ns: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(video.len() + STAMP_END);
    p.extend_from_slice(&video[..5]);
    let hex = format!("{seq:08x}{sent_ns:016x}");
    let sei_len = 3 + UUID.len() + STAMP_HEX + 1;
    p.extend_from_slice(&(sei_len as u32).to_be_bytes());
    p.extend_from_slice(&[0x06, 0x05, (UUID.len() + STAMP_HEX) as u8]);
    p.extend_from_slice(UUID);
    p.extend_from_slice(hex.as_bytes());
    p.push(0x80);
    p.extend_from_slice(&video[5..]);
    p
}

/// (sequence number, send time in ns) from the head of a stamped video message.
pub fn read_stamp(h: &[u8]) -> Option<(u32, u64)> {
    if h.len() < STAMP_END || h[9] != 0x06 || h[10] != 0x05 || &h[12..28] != UUID {
        return None;
    }
    let s = std::str::from_utf8(&h[28..STAMP_END]).ok()?;
    Some((
        u32::from_str_radix(&s[..8], 16).ok()?,
        u64::from_str_radix(&s[8..], 16).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trip() {
        let frame = [0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a];
        let s = stamped(&frame, 77, 0x1234_5678_9abc_def0);
        assert_eq!(read_stamp(&s), Some((77, 0x1234_5678_9abc_def0)));
        assert_eq!(&s[s.len() - 6..], &frame[5..]);
        assert_eq!(read_stamp(&frame), None);
    }
}
