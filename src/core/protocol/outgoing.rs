//! What a session has to send: chunked messages in order, at the chunk size it announced.
//! The server session and the push (client) session both queue through this one encoder.

use std::collections::VecDeque;

use bytes::Bytes;

use super::amf::{Command, Value};
use super::chunk_reader::DEFAULT_CHUNK_SIZE;
use super::chunk_writer::{encode_message, CSID_COMMAND, CSID_CONTROL};
use super::control;
use super::message::msg_type;

pub struct Outgoing {
    queue: VecDeque<Bytes>,
    chunk_size: u32,
}

impl Default for Outgoing {
    fn default() -> Self {
        Outgoing {
            queue: VecDeque::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl Outgoing {
    /// Raw bytes (handshake packets) that go out as they are.
    pub fn raw(&mut self, bytes: Bytes) {
        self.queue.push_back(bytes);
    }

    pub fn message(&mut self, csid: u32, type_id: u8, stream_id: u32, body: &[u8]) {
        let bytes = encode_message(csid, 0, type_id, stream_id, body, self.chunk_size);
        self.queue.push_back(bytes);
    }

    pub fn control(&mut self, type_id: u8, body: &[u8]) {
        self.message(CSID_CONTROL, type_id, 0, body);
    }

    pub fn user_control(&mut self, kind: u16, value: u32) {
        self.control(msg_type::USER_CONTROL, &control::user_control(kind, value));
    }

    /// Announces `size` to the peer; every later message is chunked at it.
    pub fn set_chunk_size(&mut self, size: u32) {
        self.control(msg_type::SET_CHUNK_SIZE, &size.to_be_bytes());
        self.chunk_size = size;
    }

    pub fn command(
        &mut self,
        stream_id: u32,
        name: &str,
        transaction_id: f64,
        object: Value,
        args: Vec<Value>,
    ) {
        let cmd = Command {
            name: name.to_string(),
            transaction_id,
            object,
            args,
        };
        // Encoding fails only for strings over 64 KiB, which no caller passes (configured
        // names are far shorter); such a command is dropped rather than sent truncated.
        if let Ok(body) = cmd.encode() {
            self.message(CSID_COMMAND, msg_type::COMMAND_AMF0, stream_id, &body);
        }
    }

    pub fn pop(&mut self) -> Option<Bytes> {
        self.queue.pop_front()
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }
}
