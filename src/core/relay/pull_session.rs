//! The client side of a pull relay: `createStream`, then `play(name, start, duration)` and
//! Set Buffer Length (`relay_buffer`) on the stream the server gave; what the server then
//! sends on it comes out as frames with their timestamps, for the shell to publish into the
//! local hub. The connection itself (handshake, `connect`, acknowledgements, pings) is the
//! shared client session's.
use super::client::{ClientLimits, ClientSession, Role};
use super::params::RelayParams;
use crate::hub::FrameKind;
use crate::protocol::amf::{self, Value};
use crate::protocol::control::set_buffer_length;
use crate::protocol::message::{msg_type, RawMessage};
use crate::protocol::outgoing::Outgoing;
use crate::protocol::SessionError;
use bytes::Bytes;

#[derive(Debug, Clone)]
pub struct PullConfig {
    pub params: RelayParams,
    /// `play`'s start and duration (see [`super::play_range`]).
    pub start: f64,
    pub duration: f64,
    /// `relay_buffer`: the buffer length announced after `play`, in milliseconds.
    pub buffer_ms: u32,
    /// The chunk size announced after the handshake (a pull sends little).
    pub chunk_size: u32,
    /// The window acknowledgement size announced to the server.
    pub ack_window: u32,
    /// The longest message accepted from the server; a frame is one message.
    pub max_message: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PullEvent {
    /// The server started playing the stream to us (`NetStream.Play.Start`, or its first
    /// frame from a server that does not say so), on this message stream.
    Ready { stream_id: u32 },
    /// A frame of the played stream, with its timestamp.
    Frame {
        kind: FrameKind,
        timestamp: u32,
        payload: Bytes,
    },
    /// The server refused or ended the play (its words, e.g.
    /// `NetStream.Play.StreamNotFound`); the connection is useless now.
    Failed(String),
}

/// The playing role.
pub struct Play {
    start: f64,
    duration: f64,
    buffer_ms: u32,
}

impl Role for Play {
    type Event = PullEvent;
    const VERB: &'static str = "play";
    const STARTED: &'static str = "NetStream.Play.Start";

    fn start(&self, params: &RelayParams, stream_id: u32, txn: f64, out: &mut Outgoing) {
        let args = vec![
            amf::string(&params.stream),
            Value::Number(self.start),
            Value::Number(self.duration),
        ];
        out.command(stream_id, "play", txn, Value::Null, args);
        out.control(
            msg_type::USER_CONTROL,
            &set_buffer_length(stream_id, self.buffer_ms),
        );
    }

    fn ready(stream_id: u32) -> PullEvent {
        PullEvent::Ready { stream_id }
    }

    fn failed(why: String) -> PullEvent {
        PullEvent::Failed(why)
    }

    fn media(
        &mut self,
        msg: &RawMessage,
        events: &mut Vec<PullEvent>,
    ) -> Result<bool, SessionError> {
        let parts = msg
            .media_parts()
            .map_err(|e| SessionError::Protocol(e.to_string()))?;
        let before = events.len();
        for (type_id, timestamp, payload) in parts {
            let kind = match type_id {
                msg_type::AUDIO => FrameKind::Audio,
                msg_type::VIDEO => FrameKind::Video,
                // The server's sample-access grant is for its own players; ours get theirs
                // from us.
                _ if is_sample_access(&payload) => continue,
                _ => FrameKind::Data,
            };
            events.push(PullEvent::Frame {
                kind,
                timestamp,
                payload,
            });
        }
        // Any frame of the stream (metadata included) means it is playing.
        Ok(events.len() > before)
    }
}

/// `|RtmpSampleAccess`, the data message servers send players after `Play.Start`.
fn is_sample_access(payload: &[u8]) -> bool {
    const NAME: &[u8] = b"|RtmpSampleAccess";
    payload.first() == Some(&2)
        && payload.get(1..3) == Some(&(NAME.len() as u16).to_be_bytes()[..])
        && payload.get(3..3 + NAME.len()) == Some(NAME)
}

pub type PullSession = ClientSession<Play>;

impl ClientSession<Play> {
    /// A session whose first output is C0+C1.
    pub fn new(cfg: PullConfig) -> Result<PullSession, SessionError> {
        let limits = ClientLimits {
            chunk_size: cfg.chunk_size,
            ack_window: cfg.ack_window,
            max_message: cfg.max_message,
        };
        let role = Play {
            start: cfg.start,
            duration: cfg.duration,
            buffer_ms: cfg.buffer_ms,
        };
        ClientSession::start(cfg.params, limits, role)
    }
}
