//! The client side of a push relay: `releaseStream`, `FCPublish` and `createStream` as
//! ffmpeg and OBS send them, then `publish(name, "live")`; once the server started it the
//! shell writes the stream's shared media after it. The connection itself (handshake,
//! `connect`, acknowledgements, pings) is the shared client session's.
use super::client::{ClientLimits, ClientSession, Role};
use super::params::PushParams;
use crate::protocol::amf::{self, Value};
use crate::protocol::outgoing::Outgoing;

#[derive(Debug, Clone)]
pub struct PushConfig {
    pub params: PushParams,
    /// The chunk size announced right after the handshake. The shell's shared media is
    /// chunked with the stream's chunk size, so this must be that size.
    pub chunk_size: u32,
    /// The window acknowledgement size announced to the server.
    pub ack_window: u32,
    /// The longest message accepted from the server.
    pub max_message: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// The server started our publish: media may follow, on this message stream.
    Ready { stream_id: u32 },
    /// The server refused or ended the publish (its words); the connection is useless now.
    Failed(String),
}

/// What ends a push session: the same failures as a server session's.
pub type PushError = crate::protocol::SessionError;

/// The publishing role; media a server sends a publisher is ignored.
pub struct Publish;

impl Role for Publish {
    type Event = PushEvent;
    const VERB: &'static str = "publish";
    const STARTED: &'static str = "NetStream.Publish.Start";

    /// Some ingest servers (and the C module's own relays' targets) expect these; the rest
    /// ignore them.
    fn before_create_stream(&self, params: &PushParams, out: &mut Outgoing) {
        use super::client::txn;
        let stream = amf::string(&params.stream);
        out.command(
            0,
            "releaseStream",
            txn::RELEASE_STREAM,
            Value::Null,
            vec![stream.clone()],
        );
        out.command(0, "FCPublish", txn::FC_PUBLISH, Value::Null, vec![stream]);
    }

    fn start(&self, params: &PushParams, stream_id: u32, txn: f64, out: &mut Outgoing) {
        let args = vec![amf::string(&params.stream), amf::string("live")];
        out.command(stream_id, "publish", txn, Value::Null, args);
    }

    fn ready(stream_id: u32) -> PushEvent {
        PushEvent::Ready { stream_id }
    }

    fn failed(why: String) -> PushEvent {
        PushEvent::Failed(why)
    }
}

pub type PushSession = ClientSession<Publish>;

impl ClientSession<Publish> {
    /// A session whose first output is C0+C1.
    pub fn new(cfg: PushConfig) -> Result<PushSession, PushError> {
        let limits = ClientLimits {
            chunk_size: cfg.chunk_size,
            ack_window: cfg.ack_window,
            max_message: cfg.max_message,
        };
        ClientSession::start(cfg.params, limits, Publish)
    }
}
