//! Relays: a published stream pushed to another RTMP server, or a stream played from
//! another server and published here (pull). Both speak the client side of the protocol
//! through one client session; the shell connects them, subscribes a push to the hub like a
//! player (so each frame is still chunked once and the relay writes the shared bytes) and
//! publishes what a pull receives into the hub like a publisher.
mod backoff;
mod client;
mod params;
mod pull_session;
mod push_session;

pub use backoff::{Backoff, MAX_DELAY_MS, STABLE_MS};
pub use client::{ClientLimits, ClientSession, Role};
pub use params::{play_range, PushParams, RelayParams, FLASH_VER, PULL_FLASH_VER};
pub use pull_session::{Play, PullConfig, PullEvent, PullSession};
pub use push_session::{Publish, PushConfig, PushError, PushEvent, PushSession};

#[cfg(test)]
mod pull_tests;
#[cfg(test)]
mod tests;
