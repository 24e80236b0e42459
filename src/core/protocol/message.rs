//! One whole RTMP message as it comes off (or goes onto) a chunk stream.
use bytes::Bytes;

/// RTMP message type ids (RTMP spec §5.4, §7.1).
pub mod msg_type {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACK: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    pub const COMMAND_AMF0: u8 = 20;
    pub const AGGREGATE: u8 = 22;
}

/// A reassembled message. `timestamp` is absolute (deltas already applied, wrapping at 2^32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub payload: Bytes,
}

/// AMF3 data and command messages (types 15/17) may start with a 0x00 format byte before
/// AMF0; the body without it.
pub fn strip_amf3_marker(payload: &Bytes) -> Bytes {
    match payload.first() {
        Some(0) => payload.slice(1..),
        _ => payload.clone(),
    }
}

impl RawMessage {
    /// Audio, video, data (AMF0 or AMF3) or aggregate: what a publisher or a played stream
    /// carries.
    pub fn is_media(&self) -> bool {
        matches!(
            self.type_id,
            msg_type::AUDIO
                | msg_type::VIDEO
                | msg_type::DATA_AMF0
                | msg_type::DATA_AMF3
                | msg_type::AGGREGATE
        )
    }

    /// The audio (8), video (9) and AMF0 data (18) messages this one carries, with their
    /// timestamps: itself, its AMF3 data as AMF0, or the sub-messages of an aggregate (other
    /// types inside one are skipped). Anything else carries none.
    pub fn media_parts(&self) -> Result<Vec<(u8, u32, Bytes)>, super::aggregate::AggregateError> {
        Ok(match self.type_id {
            msg_type::AUDIO | msg_type::VIDEO | msg_type::DATA_AMF0 => {
                vec![(self.type_id, self.timestamp, self.payload.clone())]
            }
            msg_type::DATA_AMF3 => vec![(
                msg_type::DATA_AMF0,
                self.timestamp,
                strip_amf3_marker(&self.payload),
            )],
            msg_type::AGGREGATE => super::aggregate::split(&self.payload, self.timestamp)?
                .into_iter()
                .filter(|s| {
                    matches!(
                        s.type_id,
                        msg_type::AUDIO | msg_type::VIDEO | msg_type::DATA_AMF0
                    )
                })
                .map(|s| (s.type_id, s.timestamp, s.payload))
                .collect(),
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(type_id: u8, payload: &'static [u8]) -> RawMessage {
        RawMessage {
            csid: 4,
            timestamp: 70,
            type_id,
            stream_id: 1,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn amf3_marker() {
        assert_eq!(strip_amf3_marker(&Bytes::from_static(&[0, 2])), &[2][..]);
        assert_eq!(strip_amf3_marker(&Bytes::from_static(&[2])), &[2][..]);
        assert_eq!(strip_amf3_marker(&Bytes::new()), Bytes::new());
    }

    #[test]
    fn media_parts_of_each_type() {
        let v = msg(msg_type::VIDEO, b"v");
        assert!(v.is_media());
        assert_eq!(
            v.media_parts().unwrap(),
            vec![(msg_type::VIDEO, 70, Bytes::from_static(b"v"))]
        );
        assert_eq!(
            msg(msg_type::DATA_AMF3, b"\x00\x02").media_parts().unwrap(),
            vec![(msg_type::DATA_AMF0, 70, Bytes::from_static(b"\x02"))]
        );
        // An aggregate with a video and a user-control sub-tag: only the video comes out.
        let agg: &'static [u8] = b"\x09\x00\x00\x01\x00\x00\x05\x00\x00\x00\x00V\x00\x00\x00\x0c\
            \x04\x00\x00\x01\x00\x00\x06\x00\x00\x00\x00U\x00\x00\x00\x0c";
        assert_eq!(
            msg(msg_type::AGGREGATE, agg).media_parts().unwrap(),
            vec![(msg_type::VIDEO, 70, Bytes::from_static(b"V"))]
        );
        assert!(msg(msg_type::AGGREGATE, b"\x09\x00").media_parts().is_err());
        let c = msg(msg_type::COMMAND_AMF0, b"x");
        assert!(!c.is_media());
        assert!(c.media_parts().unwrap().is_empty());
    }
}
