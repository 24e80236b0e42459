//! Protocol control (types 1-6) and user control (type 4) message bodies.
//!
//! These are a few big-endian integers, so they are read and written here directly rather than
//! through rml_rtmp's message types (which allocate and go through `io::Cursor`).

/// User control event types (RTMP spec §7.1.7).
pub mod event {
    pub const STREAM_BEGIN: u16 = 0;
    pub const STREAM_EOF: u16 = 1;
    pub const STREAM_DRY: u16 = 2;
    pub const SET_BUFFER_LENGTH: u16 = 3;
    pub const STREAM_IS_RECORDED: u16 = 4;
    pub const PING_REQUEST: u16 = 6;
    pub const PING_RESPONSE: u16 = 7;
}

/// Set Peer Bandwidth limit types.
pub mod limit {
    pub const HARD: u8 = 0;
    pub const SOFT: u8 = 1;
    pub const DYNAMIC: u8 = 2;
}

/// A decoded user control message; events we do not act on are `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserControl {
    PingRequest(u32),
    PingResponse(u32),
    SetBufferLength { stream_id: u32, buffer_ms: u32 },
    Other(u16),
}

/// The first four bytes as a big-endian u32; `None` if the body is shorter.
pub fn read_u32(body: &[u8]) -> Option<u32> {
    read_u32_at(body, 0)
}

fn read_u32_at(body: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = body.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// `None` when the body is too short for its event type.
pub fn parse_user_control(body: &[u8]) -> Option<UserControl> {
    let kind = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    Some(match kind {
        event::PING_REQUEST => UserControl::PingRequest(read_u32_at(body, 2)?),
        event::PING_RESPONSE => UserControl::PingResponse(read_u32_at(body, 2)?),
        event::SET_BUFFER_LENGTH => UserControl::SetBufferLength {
            stream_id: read_u32_at(body, 2)?,
            buffer_ms: read_u32_at(body, 6)?,
        },
        other => UserControl::Other(other),
    })
}

/// A user control body: event type then one u32 (stream id or timestamp).
pub fn user_control(kind: u16, value: u32) -> [u8; 6] {
    let k = kind.to_be_bytes();
    let v = value.to_be_bytes();
    [k[0], k[1], v[0], v[1], v[2], v[3]]
}

/// Set Buffer Length: the client tells the server how many milliseconds it buffers of a
/// message stream.
pub fn set_buffer_length(stream_id: u32, buffer_ms: u32) -> [u8; 10] {
    let mut b = [0u8; 10];
    b[..2].copy_from_slice(&event::SET_BUFFER_LENGTH.to_be_bytes());
    b[2..6].copy_from_slice(&stream_id.to_be_bytes());
    b[6..].copy_from_slice(&buffer_ms.to_be_bytes());
    b
}

pub fn set_peer_bandwidth(size: u32, limit_type: u8) -> [u8; 5] {
    let v = size.to_be_bytes();
    [v[0], v[1], v[2], v[3], limit_type]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_control_round_trip() {
        let ping = user_control(event::PING_REQUEST, 0xDEAD_BEEF);
        assert_eq!(ping, [0, 6, 0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(
            parse_user_control(&ping),
            Some(UserControl::PingRequest(0xDEAD_BEEF))
        );
        let pong = user_control(event::PING_RESPONSE, 7);
        assert_eq!(
            parse_user_control(&pong),
            Some(UserControl::PingResponse(7))
        );
        assert_eq!(
            parse_user_control(&[0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8]),
            Some(UserControl::SetBufferLength {
                stream_id: 1,
                buffer_ms: 3000
            })
        );
        assert_eq!(
            parse_user_control(&set_buffer_length(1, 3000)),
            Some(UserControl::SetBufferLength {
                stream_id: 1,
                buffer_ms: 3000
            })
        );
        assert_eq!(
            parse_user_control(&user_control(event::STREAM_BEGIN, 1)),
            Some(UserControl::Other(event::STREAM_BEGIN))
        );
    }

    #[test]
    fn short_bodies_are_none() {
        assert_eq!(parse_user_control(&[]), None);
        assert_eq!(parse_user_control(&[0]), None);
        assert_eq!(parse_user_control(&[0, 6, 1, 2, 3]), None);
        assert_eq!(parse_user_control(&[0, 3, 0, 0, 0, 1, 0]), None);
        assert_eq!(read_u32(&[1, 2, 3]), None);
        assert_eq!(read_u32(&[0, 0, 1, 0, 9]), Some(256));
        assert_eq!(
            set_peer_bandwidth(5_000_000, limit::DYNAMIC),
            [0, 0x4C, 0x4B, 0x40, 2]
        );
    }
}
