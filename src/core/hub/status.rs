//! Messages the hub sends to players itself: stream begin/EOF and onStatus notifications.
use crate::protocol::chunk_writer::{encode_message, CSID_COMMAND, CSID_CONTROL};
use crate::protocol::message::msg_type;
use bytes::Bytes;
use rml_amf0::Amf0Value;
use std::collections::HashMap;

/// The message stream id every player and publisher gets (as nginx-rtmp answers createStream).
pub const MSID: u32 = 1;

pub const STREAM_BEGIN: u16 = 0;
pub const STREAM_EOF: u16 = 1;

/// A chunked `onStatus(level, code, description)` on message stream `MSID`.
pub fn status_message(level: &str, code: &str, description: &str, chunk_size: u32) -> Bytes {
    let mut info = HashMap::new();
    info.insert(
        "level".to_string(),
        Amf0Value::Utf8String(level.to_string()),
    );
    info.insert("code".to_string(), Amf0Value::Utf8String(code.to_string()));
    info.insert(
        "description".to_string(),
        Amf0Value::Utf8String(description.to_string()),
    );
    let values = vec![
        Amf0Value::Utf8String("onStatus".to_string()),
        Amf0Value::Number(0.0),
        Amf0Value::Null,
        Amf0Value::Object(info),
    ];
    // Serializing values we built ourselves cannot fail; an empty message is the safe fallback.
    let payload = rml_amf0::serialize(&values).unwrap_or_default();
    encode_message(
        CSID_COMMAND,
        0,
        msg_type::COMMAND_AMF0,
        MSID,
        &payload,
        chunk_size,
    )
}

/// A chunked User Control event carrying a stream id (StreamBegin, StreamEOF).
pub fn user_control(event: u16, stream_id: u32, chunk_size: u32) -> Bytes {
    let mut payload = [0u8; 6];
    payload[..2].copy_from_slice(&event.to_be_bytes());
    payload[2..].copy_from_slice(&stream_id.to_be_bytes());
    encode_message(
        CSID_CONTROL,
        0,
        msg_type::USER_CONTROL,
        0,
        &payload,
        chunk_size,
    )
}
