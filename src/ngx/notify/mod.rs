//! HTTP notifications: `on_connect`, `on_publish`, `on_play` decide (the session's request
//! waits for the answer while the worker serves everyone else), `on_update` checks a running
//! session, the `on_*done`, `on_record_done` and `on_disconnect` calls only tell. The calls
//! are made in nginx's event loop (call.rs); what they send and what an answer means is in
//! the core (ngx_rtmp_core::notify).
//!
//! app.rs and conn.rs call: `hold_connect`/`hold_publish`/`hold_play` before a request is
//! accepted, `watch_records` when a publish starts recording, `leave` when a publish or play
//! ends, `disconnect` when the session closes.
mod call;
mod done;
mod endpoint;
mod gate;
mod md5;
mod update;

pub use done::{disconnect, leave, watch_records};
pub use gate::{hold_connect, hold_play, hold_publish};

use super::conf::RtmpConfCtx;
use super::conn::Conn;
use nginx_sys::{ngx_event_t, ngx_msec_t};
use ngx_rtmp_core::notify::SessionFields;
use ngx_rtmp_core::protocol::{ConnectInfo, PlayRequest, PublishRequest};

/// A session's hook state (a field of its Conn).
#[derive(Default)]
pub struct SessionHooks {
    /// The request waiting for its hook's answer.
    pending: Option<Pending>,
    /// The session's fields as the calls send them, from its `connect`.
    fields: Option<SessionFields>,
    /// The publish or play the done and update calls are about.
    active: Option<Active>,
    /// The on_update timer (made on first use; its address must not move).
    update_ev: Option<Box<ngx_event_t>>,
    /// An on_update call in flight.
    update_call: Option<u64>,
}

struct Pending {
    call: u64,
    held: Held,
}

enum Held {
    Connect(ConnectInfo),
    Publish(PublishRequest),
    Play(PlayRequest),
}

struct Active {
    publishing: bool,
    /// As the client asked (before any redirect), as the C module reports it.
    name: String,
    args: String,
    since: ngx_msec_t,
}

/// The application a connected session is in.
fn app_ctx<'a>(conn: &Conn) -> Option<&'a RtmpConfCtx> {
    // SAFETY: application contexts live as long as the cycle that accepted the connection.
    conn.app.as_ref().map(|a| unsafe { &*a.ctx })
}

/// Sessions the hooks never hear of, as the C module skips its auto-pushed sessions: the
/// connections between this server's own workers (auto-push, over unix sockets). Every
/// hook asks this one place.
pub fn is_internal(conn: &Conn) -> bool {
    conn.from_worker
}
