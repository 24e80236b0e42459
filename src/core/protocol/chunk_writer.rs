//! STUB: replaced by the protocol work. Signatures are the contract.
use bytes::Bytes;

pub const CSID_CONTROL: u32 = 2;
pub const CSID_COMMAND: u32 = 3;
pub const CSID_DATA: u32 = 5;
pub const CSID_AUDIO: u32 = 6;
pub const CSID_VIDEO: u32 = 7;

pub fn encode_message(
    _csid: u32,
    _timestamp: u32,
    _type_id: u8,
    _stream_id: u32,
    _payload: &[u8],
    _chunk_size: u32,
) -> Bytes {
    Bytes::new()
}
