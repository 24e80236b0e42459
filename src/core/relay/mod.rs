//! Relays: a published stream pushed to another RTMP server. The push session speaks the
//! client side of the protocol; the shell connects it and subscribes it to the hub like a
//! player, so each frame is still chunked once and the relay writes the shared bytes.
mod backoff;
mod params;
mod push_session;

pub use backoff::{Backoff, MAX_DELAY_MS, STABLE_MS};
pub use params::{PushParams, FLASH_VER};
pub use push_session::{PushConfig, PushError, PushEvent, PushSession};

#[cfg(test)]
mod tests;
