//! The smallest RTMP client a load generator needs: the simple handshake, a chunk writer, an
//! incremental chunk reader that keeps only the head of audio/video payloads, and AMF0.

pub mod amf;
pub mod chunk;
pub mod conn;

pub use amf::Amf;
pub use conn::Conn;
