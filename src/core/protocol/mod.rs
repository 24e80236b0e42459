//! RTMP on the wire: handshakes, chunk stream, AMF0 commands and the server session.
//!
//! `rml_rtmp` supplies the handshake digest logic, AMF0 and message types; the chunk reader,
//! the shared chunk writer and the session state machine are ours (see docs/architecture.md).

pub mod aggregate;
pub mod amf;
pub mod chunk_reader;
pub mod chunk_writer;
pub mod client_handshake;
pub mod control;
pub mod enhanced_caps;
pub mod handshake;
pub mod message;
pub mod outgoing;
pub mod server_session;

#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod session_tests;

pub use chunk_reader::{ChunkError, ChunkReader};
pub use chunk_writer::{
    encode_message, with_stream_id, CSID_AUDIO, CSID_COMMAND, CSID_CONTROL, CSID_DATA, CSID_VIDEO,
};
pub use client_handshake::ClientHandshake;
pub use handshake::{HandshakeError, HandshakeProgress, ServerHandshake};
pub use message::RawMessage;
pub use server_session::{
    ConnectInfo, PlayRequest, PublishRequest, ServerSession, SessionConfig, SessionError,
    SessionEvent,
};
