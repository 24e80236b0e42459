//! The live streams of one worker: `(server, app, name)` to a stream with its publisher,
//! sequence headers, metadata, GOP cache and players.
//!
//! A frame is chunked once ([`crate::protocol::encode_message`]) and the same refcounted bytes
//! go to every player's bounded [`Outbox`]; the shell writes each outbox with writev.

mod facts;
mod outbox;
mod registry;
mod status;
mod stream;

pub use facts::StreamFacts;
pub use outbox::{Outbox, OutboxLimits, SharedOutbox};
pub use registry::{stream_name_problem, Hub, HubError, StreamKey, MAX_STREAM_NAME};
pub use status::{status_message, user_control};
pub use stream::{FrameKind, PlayOptions, StreamInfo};

#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod tests;
