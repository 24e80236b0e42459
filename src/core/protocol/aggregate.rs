//! Aggregate messages (type 22): several FLV tags in one RTMP message.
//!
//! Each sub-tag is: type (1), data size (3), timestamp (3) + extension (1), stream id (3), body,
//! previous-tag size (4). Sub-tag timestamps are relative to whatever clock the sender used, so
//! they are rebased: the first sub-tag lands on the aggregate's own timestamp.
use bytes::Bytes;
use std::fmt;

const TAG_HEADER_LEN: usize = 11;
const BACK_POINTER_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubMessage {
    pub type_id: u8,
    pub timestamp: u32,
    pub payload: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateError {
    pub offset: usize,
}

impl fmt::Display for AggregateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "aggregate message: sub-tag at offset {} runs past the end",
            self.offset
        )
    }
}

impl std::error::Error for AggregateError {}

/// Splits an aggregate payload; sub-tag bodies are slices of `payload`, not copies.
pub fn split(payload: &Bytes, timestamp: u32) -> Result<Vec<SubMessage>, AggregateError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut base: Option<u32> = None;
    while pos < payload.len() {
        let err = AggregateError { offset: pos };
        let header = payload
            .get(pos..pos.saturating_add(TAG_HEADER_LEN))
            .ok_or(err.clone())?;
        let [type_id, s0, s1, s2, t0, t1, t2, t3, ..] = *header else {
            return Err(err);
        };
        let size = u32::from_be_bytes([0, s0, s1, s2]) as usize;
        let sub_ts = u32::from_be_bytes([t3, t0, t1, t2]);
        let start = pos.saturating_add(TAG_HEADER_LEN);
        let end = start.checked_add(size).ok_or(err.clone())?;
        if end > payload.len() {
            return Err(err);
        }
        let first = *base.get_or_insert(sub_ts);
        out.push(SubMessage {
            type_id,
            timestamp: timestamp.wrapping_add(sub_ts.wrapping_sub(first)),
            payload: payload.slice(start..end),
        });
        // Senders sometimes drop the final back pointer; a short tail is not an error.
        pos = end.saturating_add(BACK_POINTER_LEN);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(type_id: u8, ts: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![type_id];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&ts.to_be_bytes()[1..]);
        v.push((ts >> 24) as u8);
        v.extend_from_slice(&[0, 0, 0]);
        v.extend_from_slice(body);
        v.extend_from_slice(&((body.len() + 11) as u32).to_be_bytes());
        v
    }

    #[test]
    fn splits_and_rebases() {
        let mut data = tag(9, 0x0100_0000, b"video");
        data.extend(tag(8, 0x0100_0014, b"au"));
        data.extend(tag(18, 0x0100_0028, b""));
        let payload = Bytes::from(data);
        let subs = split(&payload, 5000).unwrap();
        assert_eq!(
            subs,
            vec![
                SubMessage {
                    type_id: 9,
                    timestamp: 5000,
                    payload: Bytes::from_static(b"video")
                },
                SubMessage {
                    type_id: 8,
                    timestamp: 5020,
                    payload: Bytes::from_static(b"au")
                },
                SubMessage {
                    type_id: 18,
                    timestamp: 5040,
                    payload: Bytes::new()
                },
            ]
        );
    }

    #[test]
    fn missing_last_back_pointer_is_fine() {
        let mut data = tag(9, 10, b"abc");
        data.truncate(data.len() - 4);
        assert_eq!(split(&Bytes::from(data), 0).unwrap().len(), 1);
        assert_eq!(split(&Bytes::new(), 0).unwrap(), vec![]);
    }

    #[test]
    fn truncated_tags_are_errors() {
        let data = tag(9, 10, b"abcdef");
        for cut in 1..(data.len() - 4) {
            assert!(split(&Bytes::copy_from_slice(&data[..cut]), 0).is_err());
        }
    }
}
