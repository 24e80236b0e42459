//! Relays of this worker. Pushes: started when a stream is published in an application with
//! `push` targets, stopped when its publisher leaves, added and removed at run time through
//! /control/push; each (push.rs) is its own outbound connection and hub subscriber. Pulls
//! (pulls.rs, pull.rs): started when a stream nobody publishes is played, or with the
//! worker (`static`); each publishes what it plays elsewhere into the hub.
mod addr;
mod link;
mod pull;
mod pulls;
mod push;

pub use addr::{from_sockaddr, resolve, to_sockaddr, unix_sockaddr};
pub use pulls::{
    player_joined, player_left, pull_clients, pulls_stream, redirect_pull, session_closed,
    start_statics, stop_pulls,
};
pub use push::Settings;

use super::conf::RtmpConfCtx;
use super::conn::{Conn, Role};
use super::ffi::log;
use super::ngx_rtmp_core_module::core_srv_conf;
use super::ngx_rtmp_relay_module::{relay_conf, PushTarget};
use super::resolver::{route, Route};
use super::worker::next_session_id;
use nginx_sys::{ngx_msec_t, NGX_LOG_INFO};
use ngx_rtmp_core::config::relay::{parse_push, RelayTarget, Scheme};
use ngx_rtmp_core::hub::StreamKey;
use push::Push;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

thread_local! {
    /// The worker's relays by id (the boxes push.rs frees in `destroy`).
    static PUSHES: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
    /// Bytes in and out of relay connections that have closed.
    static CLOSED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn count_closed(bytes_in: u64, bytes_out: u64) {
    CLOSED.with(|c| {
        let (i, o) = c.get();
        c.set((i.saturating_add(bytes_in), o.saturating_add(bytes_out)));
    });
}

/// Bytes in and out of every relay connection of the worker so far, for the server totals
/// of /stat (pushes are not clients of a stream there).
pub fn bytes() -> (u64, u64) {
    let (mut total_in, mut total_out) = CLOSED.with(Cell::get);
    ids_where(|p| {
        if p.to_worker() {
            // Traffic between workers is not the server's.
            return false;
        }
        let (i, o) = p.bytes();
        total_in += i;
        total_out += o;
        false
    });
    let (pulled_in, pulled_out) = pulls::live_bytes();
    (total_in + pulled_in, total_out + pulled_out)
}

/// The relays of the worker, as pointers: handlers may free relays, so callers look each up
/// again (`get`) before use.
fn ids_where(mut f: impl FnMut(&Push) -> bool) -> Vec<u64> {
    PUSHES.with(|m| {
        m.borrow()
            .iter()
            .filter(|(_, &p)| {
                // SAFETY: registered pointers are live relays (removed before they are freed).
                f(unsafe { &*(p as *const Push) })
            })
            .map(|(&id, _)| id)
            .collect()
    })
}

/// The relay with this id, if it is still registered.
fn get(id: u64) -> Option<*mut Push> {
    PUSHES.with(|m| m.borrow().get(&id).map(|&p| p as *mut Push))
}

fn remove(id: u64, why: &str) {
    let p = PUSHES.with(|m| m.borrow_mut().remove(&id));
    if let Some(p) = p {
        // SAFETY: the pointer came from push::create and is no longer registered.
        unsafe { push::destroy(p as *mut Push, why) };
    }
}

/// The settings of relays from server `srv`, waiting `reconnect_ms` after a first failure.
pub fn server_settings(srv: *const RtmpConfCtx, reconnect_ms: u64) -> Settings {
    // SAFETY: server contexts live as long as the cycle of the sessions and relays.
    let cscf = unsafe { core_srv_conf(srv) };
    Settings {
        timeout: cscf.timeout.unwrap_or(60_000) as ngx_msec_t,
        ack_window: cscf.ack_window.unwrap_or(5_000_000) as u32,
        max_message: cscf.max_message.unwrap_or(1 << 20) as u32,
        reconnect_ms,
        resolver: super::resolver::resolver_of_srv(cscf),
        tls: None,
    }
}

fn settings(srv: *mut RtmpConfCtx, app: &RtmpConfCtx) -> Settings {
    Settings {
        tls: Some(super::tls::ClientTls::of(app)),
        ..server_settings(srv, relay_conf(app).push_reconnect.unwrap_or(3000))
    }
}

/// Host, port and path: two spellings of one target compare equal.
fn same_target(a: &RelayTarget, b: &RelayTarget) -> bool {
    let path = |t: &RelayTarget| t.url.split_once('/').map(|(_, p)| p.to_string());
    a.scheme == b.scheme
        && a.host.eq_ignore_ascii_case(&b.host)
        && a.port == b.port
        && path(a) == path(b)
}

fn start(
    srv: *mut RtmpConfCtx,
    app: &RtmpConfCtx,
    key: &StreamKey,
    target: PushTarget,
    origin: &'static str,
) {
    let id = next_session_id();
    let p = push::create(id, key.clone(), target, origin, settings(srv, app));
    PUSHES.with(|m| m.borrow_mut().insert(id, p as usize));
}

/// Relays `key` to the worker listening on the unix socket `path` (auto_push/): the same
/// relay as a `push`, addressed to a peer. Its id, to stop it with `stop`.
pub fn start_to_worker(key: &StreamKey, path: &str, settings: Settings) -> u64 {
    let url = format!("unix:{path}");
    let target = RelayTarget {
        app: Some(key.app.clone()),
        play_path: Some(key.name.clone()),
        tc_url: Some(format!("rtmp://localhost/{}", key.app)),
        ..RelayTarget::new(Scheme::Rtmp, &url, 0, &url)
    };
    let target = PushTarget {
        target,
        addrs: Vec::new(),
        unix: Some(path.to_string()),
    };
    let id = next_session_id();
    let p = push::create(id, key.clone(), target, "to another worker", settings);
    PUSHES.with(|m| m.borrow_mut().insert(id, p as usize));
    id
}

/// Stops one relay, if it still runs.
pub fn stop(id: u64, why: &str) {
    remove(id, why);
}

/// Whether the session's connection is one of this worker's own relays coming back in: its
/// peer address is the local address of a relay connection.
fn from_own_push(conn: &Conn) -> bool {
    // SAFETY: conn.c is the live connection of this session; nginx set its peer address.
    let peer = unsafe { addr::from_sockaddr((*conn.c).sockaddr as *const libc::sockaddr) };
    let Some(peer) = peer.map(addr::canonical) else {
        return false;
    };
    !ids_where(|p| p.link.local == Some(peer)).is_empty()
}

/// A stream began publishing in an application with `live on` (app.rs): its `push` targets
/// start. A stream that arrives over this server's own push is not pushed again by the
/// receiving application (the C module would, and `push`es between two applications of one
/// server would feed each other for ever).
pub fn publish_started(conn: &Conn, app: &RtmpConfCtx, key: &StreamKey) {
    let targets = push_targets(app, key);
    if targets.is_empty() {
        return;
    }
    if from_own_push(conn) {
        // SAFETY: conn.c is live.
        let clog = unsafe { (*conn.c).log };
        log(
            clog,
            NGX_LOG_INFO,
            &format!(
                "relay: \"{}\" comes from this server's own push, not pushed again",
                key.name
            ),
        );
        return;
    }
    for t in targets {
        start(conn.srv, app, key, t, "the push directive");
    }
}

/// The application's `push` targets for stream `key` (their `name=` filter).
fn push_targets(app: &RtmpConfCtx, key: &StreamKey) -> Vec<PushTarget> {
    relay_conf(app)
        .pushes
        .iter()
        .filter(|t| t.target.name.as_deref().is_none_or(|n| n == key.name))
        .cloned()
        .collect()
}

/// The publisher of `key` left: every relay of the stream stops.
pub fn publish_stopped(key: &StreamKey) {
    for id in ids_where(|p| &p.key == key) {
        remove(id, "the publisher left");
    }
}

/// /control/push/start for the stream `conn` publishes. Ok(true): a relay started;
/// Ok(false): the stream already pushes there.
pub fn control_start(conn: &Conn, url: &str) -> Result<bool, (u16, String)> {
    start_url(conn, url, "/control/push/start")
}

/// A push that a run-time request names by URL (the control API, an `on_publish` redirect)
/// for the stream `conn` publishes. A host name needs the server's `resolver`: the worker
/// never blocks on a lookup.
pub fn start_url(conn: &Conn, url: &str, origin: &'static str) -> Result<bool, (u16, String)> {
    let (Role::Publishing(key), Some(app)) = (&conn.role, &conn.app) else {
        return Ok(false);
    };
    let target = parse_push("push", &[url]).map_err(|e| (400, e.to_string()))?;
    if target.scheme == Scheme::Rtmps && !super::tls::AVAILABLE {
        return Err((501, super::tls::unavailable("rtmps://")));
    }
    if !ids_where(|p| &p.key == key && same_target(&p.target.target, &target)).is_empty() {
        return Ok(false);
    }
    // SAFETY: application contexts live as long as the cycle that accepted the session.
    let ctx = unsafe { &*app.ctx };
    let resolver = super::resolver::of(ctx);
    let addrs = match route(&target.host, target.port, &[], resolver)
        .map_err(|e| (400, format!("{e}: url \"{}\"", target.url)))?
    {
        Route::Addrs(addrs) => addrs,
        Route::Resolve(_) => Vec::new(),
    };
    let target = PushTarget {
        target,
        addrs,
        unix: None,
    };
    start(conn.srv, ctx, key, target, origin);
    Ok(true)
}

/// /control/push/stop: the relays of `key` to `url` (from `push` or from the control API)
/// stop and are not reconnected. Whether there was one.
pub fn control_stop(key: &StreamKey, url: &str) -> Result<bool, (u16, String)> {
    let target = parse_push("push", &[url]).map_err(|e| (400, e.to_string()))?;
    let ids = ids_where(|p| &p.key == key && same_target(&p.target.target, &target));
    for &id in &ids {
        remove(id, "stopped by /control/push/stop");
    }
    Ok(!ids.is_empty())
}
