//! STUB: replaced by the protocol work. Signatures are the contract.
use bytes::Bytes;
use std::fmt;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub chunk_size: u32,
    pub ack_window: u32,
    pub max_message: u32,
    pub max_streams: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectInfo {
    pub app: String,
    pub args: String,
    pub tc_url: String,
    pub flash_ver: String,
    pub swf_url: String,
    pub page_url: String,
    pub object_encoding: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    pub stream_id: u32,
    pub name: String,
    pub args: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    pub stream_id: u32,
    pub name: String,
    pub args: String,
    pub start: f64,
    pub duration: f64,
    pub reset: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Connect(ConnectInfo),
    Publish(PublishRequest),
    Play(PlayRequest),
    CloseStream { stream_id: u32 },
    Audio { timestamp: u32, payload: Bytes },
    Video { timestamp: u32, payload: Bytes },
    Data { timestamp: u32, payload: Bytes },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionError {
    Handshake(String),
    Chunk(super::ChunkError),
    Protocol(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

pub struct ServerSession {}

impl ServerSession {
    pub fn new(_cfg: SessionConfig) -> Self {
        ServerSession {}
    }
    pub fn handle_input(
        &mut self,
        _input: &[u8],
        _events: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        Ok(())
    }
    pub fn take_output(&mut self) -> Option<Bytes> {
        None
    }
    pub fn handshake_done(&self) -> bool {
        false
    }
    pub fn accept_connect(&mut self) {}
    pub fn reject_connect(&mut self, _description: &str) {}
    pub fn accept_publish(&mut self, _stream_id: u32) {}
    pub fn reject_publish(&mut self, _stream_id: u32, _code: &str, _description: &str) {}
    pub fn accept_play(&mut self, _stream_id: u32) {}
    pub fn reject_play(&mut self, _stream_id: u32, _code: &str, _description: &str) {}
    pub fn send_status(&mut self, _stream_id: u32, _level: &str, _code: &str, _description: &str) {}
    pub fn send_ping(&mut self, _now_ms: u32) {}
    pub fn ping_outstanding(&self) -> bool {
        false
    }
    pub fn out_chunk_size(&self) -> u32 {
        128
    }
    pub fn bytes_in(&self) -> u64 {
        0
    }
    pub fn bytes_out(&self) -> u64 {
        0
    }
}
