//! STUB: replaced by the protocol work. Signatures are the contract.
use super::message::RawMessage;
use bytes::BytesMut;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Set Chunk Size with a value outside 1..=MAX_CHUNK_SIZE.
    BadChunkSize(u32),
    /// A message header announces more than the configured `max_message`.
    MessageTooLarge { len: u32, max: u32 },
    /// More distinct chunk stream ids in flight than allowed.
    TooManyChunkStreams(usize),
    /// A type 1/2/3 header on a chunk stream that never had a type 0 header.
    NoPreviousHeader(u32),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

pub struct ChunkReader {}

impl ChunkReader {
    pub fn new(_max_message: u32, _max_chunk_streams: usize) -> Self {
        ChunkReader {}
    }
    pub fn set_chunk_size(&mut self, _size: u32) -> Result<(), ChunkError> {
        Ok(())
    }
    pub fn chunk_size(&self) -> u32 {
        128
    }
    pub fn read(&mut self, _buf: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        Ok(None)
    }
    pub fn abort(&mut self, _csid: u32) {}
}
