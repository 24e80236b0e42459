//! One push relay: an outbound connection (link.rs) that publishes a local stream on a
//! remote server. The PushSession (core) speaks the protocol; once the server has started
//! the publish, the relay subscribes to the hub like a player and its write handler writes
//! the stream's shared bytes with writev. When the connection fails or the server closes
//! it, the relay waits (backoff) and connects again, for as long as the local stream is
//! published.
use super::link::{owner_of, Link, Opened};
use crate::ngx::conn::{now, wake};
use crate::ngx::flush::{flush_outbox, Flush};
use crate::ngx::ngx_rtmp_relay_module::PushTarget;
use crate::ngx::read_loop::{read_bounded, ReadEnd};
use crate::ngx::resolver::{cancel, lookup, route, Resolved, Resolver, Route, Started};
use crate::ngx::tls::ClientTls;
use crate::ngx::worker::with_hub;
use nginx_sys::{ngx_connection_t, ngx_event_t, ngx_msec_t, NGX_LOG_ERR};
use ngx_rtmp_core::config::relay::Scheme;
use ngx_rtmp_core::hub::{Outbox, OutboxLimits, SharedOutbox, StreamKey};
use ngx_rtmp_core::relay::{PushConfig, PushEvent, PushParams, PushSession};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a relay takes from the publisher's server and application.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `timeout`: to connect and get the publish started, and to send once started.
    pub timeout: ngx_msec_t,
    pub ack_window: u32,
    pub max_message: u32,
    /// `push_reconnect`: the first wait after a failure.
    pub reconnect_ms: u64,
    /// The server's `resolver`: a host name is resolved before each connection.
    pub resolver: Option<Resolver>,
    /// How an `rtmps://` target is spoken to (`rtmp_relay_ssl_*`); None for relays to
    /// another worker.
    pub tls: Option<ClientTls>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No connection: the retry timer is (or is about to be) set.
    Waiting,
    /// The resolver is looking up the target's host name.
    Resolving(u64),
    /// connect() in progress.
    Connecting,
    /// The TLS handshake of an `rtmps://` target (nginx drives it).
    Securing,
    /// Handshake, connect, createStream, publish.
    Talking,
    /// Publishing since this time: subscribed to the hub.
    Ready(ngx_msec_t),
}

pub struct Push {
    /// Also the relay's subscriber id in the hub.
    pub id: u64,
    pub key: StreamKey,
    pub target: PushTarget,
    /// What started it: "the push directive", "/control/push/start", "on_publish".
    pub origin: &'static str,
    settings: Settings,
    phase: Phase,
    /// The connection; its local address tells our own push coming back in (see
    /// `super::from_own_push`).
    pub link: Link,
    session: Option<PushSession>,
    outbox: SharedOutbox,
    events: Vec<PushEvent>,
}

impl Push {
    /// Bytes received and sent on the current connection.
    pub fn bytes(&self) -> (u64, u64) {
        let bytes_in = self.session.as_ref().map_or(0, PushSession::bytes_in);
        (bytes_in, self.outbox.borrow().bytes_out)
    }

    /// A relay to another worker of this nginx (auto_push/), not to a server.
    pub fn to_worker(&self) -> bool {
        self.target.unix.is_some()
    }

    /// The target as the configuration wrote it.
    pub fn url(&self) -> String {
        let scheme = match self.target.target.scheme {
            Scheme::Rtmp => "rtmp",
            Scheme::Rtmps => "rtmps",
        };
        format!("{scheme}://{}", self.target.target.url)
    }
}

/// Makes a relay for `key` and starts connecting. The caller registers the pointer.
pub fn create(
    id: u64,
    key: StreamKey,
    target: PushTarget,
    origin: &'static str,
    settings: Settings,
) -> *mut Push {
    let p = Box::into_raw(Box::new(Push {
        id,
        key,
        target,
        origin,
        settings: settings.clone(),
        phase: Phase::Waiting,
        link: Link::new(settings.reconnect_ms),
        session: None,
        outbox: Outbox::shared(0, OutboxLimits::default()),
        events: Vec::new(),
    }));
    // SAFETY: p was just made; the link lives in the same box, which lives until `destroy`.
    unsafe {
        let push = &mut *p;
        let context = format!(
            ", url: {}, stream: {}/{}",
            push.url(),
            push.key.app,
            push.key.name
        );
        push.link
            .init(p as *mut std::ffi::c_void, Some(retry_handler), context);
        push.link
            .info(&format!("relay: push started ({})", push.origin));
        connect(p);
    }
    p
}

/// Closes the relay's connection, cancels its timer and frees it. The caller has removed
/// it from the registry.
///
/// # Safety
/// `p` came from `create` and is not used afterwards.
pub unsafe fn destroy(p: *mut Push, why: &str) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        disconnect(p);
        let push = &mut *p;
        push.link.cancel_retry();
        push.link.info(&format!("relay: push stopped: {why}"));
        drop(Box::from_raw(p));
    }
}

/// Runs a handler body; a panic fails the attempt instead of unwinding into nginx.
fn guarded(p: *mut Push, what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        // SAFETY: p is a live relay (handlers run only for registered relays).
        unsafe { fail(p, &format!("internal error in {what}")) };
    }
}

/// Starts one connection attempt.
unsafe fn connect(p: *mut Push) {
    // SAFETY: p is a live relay without a connection.
    unsafe {
        let push = &mut *p;
        let Some(chunk_size) = with_hub(|h| h.info(&push.key))
            .filter(|i| i.publishing)
            .map(|i| i.chunk_size)
        else {
            // The stream is gone; publish_stopped removes the relay.
            return;
        };
        if push.target.unix.is_some() {
            // Another worker's socket: nothing to resolve.
            return connect_to(p, &[], chunk_size);
        }
        let host = push.target.target.host.clone();
        let port = push.target.target.port;
        let addrs = match route(&host, port, &push.target.addrs, push.settings.resolver) {
            Err(e) => return fail(p, &e),
            Ok(Route::Addrs(addrs)) => addrs,
            Ok(Route::Resolve(r)) => {
                let id = push.id;
                let done = Box::new(move |res: Resolved| after_lookup(id, chunk_size, res));
                match lookup(r, &host, port, done) {
                    Started::Pending(lookup_id) => push.phase = Phase::Resolving(lookup_id),
                    Started::Ready(Ok(addrs)) => connect_to(p, &addrs, chunk_size),
                    Started::Ready(Err(e)) => fail(p, &e),
                }
                return;
            }
        };
        connect_to(p, &addrs, chunk_size);
    }
}

/// The resolver answered for relay `id` (if it is still registered: destroy cancels lookups).
fn after_lookup(id: u64, chunk_size: u32, res: Resolved) {
    let Some(p) = super::get(id) else { return };
    guarded(p, "resolve", || {
        // SAFETY: a registered relay is live; it was Resolving.
        unsafe {
            (*p).phase = Phase::Waiting;
            match res {
                Ok(addrs) => connect_to(p, &addrs, chunk_size),
                Err(e) => fail(p, &e),
            }
        }
    });
}

/// Connects to the target's socket or one of `addrs` (the next in turn at each attempt).
unsafe fn connect_to(p: *mut Push, addrs: &[SocketAddr], chunk_size: u32) {
    // SAFETY: p is a live relay without a connection.
    unsafe {
        let push = &mut *p;
        let owner = p as *mut std::ffi::c_void;
        let read = Some(read_handler as unsafe extern "C" fn(*mut ngx_event_t));
        let write = Some(write_handler as unsafe extern "C" fn(*mut ngx_event_t));
        let opened = match push
            .link
            .open(&push.target, addrs, owner, read, write, "push")
        {
            Ok(o) => o,
            Err(why) => return fail(p, why),
        };
        let c = push.link.c;
        let params = PushParams::new(&push.target.target, &push.key.app, &push.key.name);
        let session = PushSession::new(PushConfig {
            params,
            chunk_size,
            ack_window: push.settings.ack_window,
            max_message: push.settings.max_message,
        });
        match session {
            Ok(s) => push.session = Some(s),
            Err(e) => {
                fail(p, &e.to_string());
                return;
            }
        }
        // The hub wakes the relay by posting this connection's write event.
        push.outbox = Outbox::shared((*c).write as usize, OutboxLimits::default());
        // The whole way to a started publish has one deadline.
        nginx_sys::ngx_add_timer((*c).read, push.settings.timeout);
        match opened {
            Opened::Connected => connected(p),
            Opened::InProgress => push.phase = Phase::Connecting,
        }
    }
}

/// The TCP connection is up: TLS first for an `rtmps://` target, then C0+C1.
unsafe fn connected(p: *mut Push) {
    // SAFETY: p is a live relay with a connection.
    unsafe {
        let push = &mut *p;
        push.phase = Phase::Talking;
        nginx_sys::ngx_tcp_nodelay(push.link.c);
        if push.target.target.scheme == Scheme::Rtmps {
            push.phase = Phase::Securing;
            let host = &push.target.target.host;
            let started = match &push.settings.tls {
                Some(tls) => tls.handshake(push.link.c, host, Some(tls_done)),
                None => Err("no TLS settings".into()),
            };
            match started {
                Ok(true) => secured(p),
                Ok(false) => {}
                Err(why) => fail(p, &why),
            }
            return;
        }
        flush(p);
    }
}

/// nginx ends the TLS handshake (done, failed or past the relay's deadline).
unsafe extern "C" fn tls_done(c: *mut ngx_connection_t) {
    // SAFETY: the relay's connection carries it in data (cleared before the relay is freed).
    let p = unsafe { (*c).data as *mut Push };
    if p.is_null() {
        return;
    }
    guarded(p, "TLS handshake", || {
        // SAFETY: p is live and its connection is c.
        unsafe { secured(p) }
    });
}

/// The handshake is over: with a good certificate the relay speaks RTMP through TLS.
unsafe fn secured(p: *mut Push) {
    // SAFETY: p is a live relay whose connection did its TLS handshake.
    unsafe {
        let push = &mut *p;
        let c = push.link.c;
        let finished = match &push.settings.tls {
            Some(tls) => tls.finish(c),
            None => Err("no TLS settings".to_string()),
        };
        match finished {
            Err(why) => fail(p, &why),
            Ok(how) => {
                push.link.info(&format!("relay: push TLS: {how}"));
                // nginx's handshake handlers stood in for ours.
                (*(*c).read).handler = Some(read_handler);
                (*(*c).write).handler = Some(write_handler);
                push.phase = Phase::Talking;
                flush(p);
            }
        }
    }
}

unsafe extern "C" fn retry_handler(ev: *mut ngx_event_t) {
    // SAFETY: the retry event's data is its relay, alive while the timer is set.
    let p = unsafe { (*ev).data as *mut Push };
    guarded(p, "retry", || {
        // SAFETY: as above; the relay has no connection while it waits.
        unsafe { connect(p) }
    });
}

unsafe extern "C" fn write_handler(wev: *mut ngx_event_t) {
    // SAFETY: a relay connection's write event carries the connection, whose data is the
    // relay (the connection is closed before the relay is freed).
    let p = unsafe { owner_of::<Push>(wev) };
    if p.is_null() {
        return;
    }
    guarded(p, "write", || {
        // SAFETY: p is live; its connection is the one this event belongs to.
        unsafe {
            if (*wev).timedout() != 0 {
                fail(p, "send timed out");
                return;
            }
            if (*p).phase == Phase::Connecting {
                if let Some(err) = (*p).link.connect_error() {
                    fail(p, &format!("connect() failed: {err}"));
                    return;
                }
                connected(p);
                return;
            }
            flush(p);
        }
    });
}

unsafe extern "C" fn read_handler(rev: *mut ngx_event_t) {
    // SAFETY: as for write_handler.
    let p = unsafe { owner_of::<Push>(rev) };
    if p.is_null() {
        return;
    }
    guarded(p, "read", || {
        // SAFETY: p is live; its connection is the one this event belongs to.
        unsafe { on_read(p, rev) }
    });
}

unsafe fn on_read(p: *mut Push, rev: *mut ngx_event_t) {
    // SAFETY: p is a live relay with a connection (see read_handler).
    unsafe {
        let c = (*p).link.c;
        if (*rev).timedout() != 0 {
            let ms = (*p).settings.timeout;
            fail(
                p,
                &format!("the server did not start the publish within {ms} ms"),
            );
            return;
        }
        let end = read_bounded(c, rev, |input| {
            let push = &mut *p;
            if let Some(s) = &mut push.session {
                if let Err(e) = s.handle_input(input, &mut push.events) {
                    fail(p, &e.to_string());
                    return false;
                }
            }
            handle_events(p)
        });
        match end {
            ReadEnd::Wait => {}
            ReadEnd::Stopped => return,
            ReadEnd::Closed => return fail(p, "the server closed the connection"),
            ReadEnd::RecvFailed => return fail(p, "recv() failed"),
            ReadEnd::ArmFailed => return fail(p, "cannot wait for input"),
        }
        flush(p);
    }
}

/// Acts on what the session reported; false when the relay failed (its connection is gone).
unsafe fn handle_events(p: *mut Push) -> bool {
    // SAFETY: p is a live relay with a connection.
    unsafe {
        let events = std::mem::take(&mut (*p).events);
        for ev in events {
            match ev {
                PushEvent::Ready { stream_id } => {
                    let push = &mut *p;
                    push.phase = Phase::Ready(now());
                    let rev = (*push.link.c).read;
                    if (*rev).timer_set() != 0 {
                        nginx_sys::ngx_del_timer(rev);
                    }
                    push.outbox.borrow_mut().set_stream_id(stream_id);
                    // What the session queued so far (commands) goes before the media.
                    move_session_output(push);
                    let outbox = push.outbox.clone();
                    let subscribed =
                        with_hub(|h| h.subscribe_relay(&push.key, push.id, outbox, &mut wake));
                    if subscribed.is_err() {
                        // The publisher left within this event; publish_stopped follows.
                        fail(p, "the stream is no longer published");
                        return false;
                    }
                    push.link.info(&format!(
                        "relay: push publishing (message stream {stream_id})"
                    ));
                }
                PushEvent::Failed(why) => {
                    fail(p, &format!("the server refused: {why}"));
                    return false;
                }
            }
        }
        true
    }
}

fn move_session_output(push: &mut Push) {
    if let Some(s) = &mut push.session {
        let mut o = push.outbox.borrow_mut();
        while let Some(b) = s.take_output() {
            o.push_control(b);
        }
    }
}

unsafe fn flush(p: *mut Push) {
    // SAFETY: p is a live relay with a connection.
    unsafe {
        let push = &mut *p;
        if push.link.c.is_null() || matches!(push.phase, Phase::Connecting | Phase::Securing) {
            return;
        }
        move_session_output(push);
        match flush_outbox(push.link.c, &push.outbox, push.settings.timeout) {
            Flush::Drained | Flush::Blocked => {}
            Flush::Fatal(why) => fail(p, why),
            Flush::Failed(err) => fail(p, &format!("send failed: {err}")),
        }
    }
}

/// Ends the current attempt with an error line and schedules the next one.
unsafe fn fail(p: *mut Push, why: &str) {
    // SAFETY: p is a live relay.
    unsafe {
        let push = &mut *p;
        let published = match push.phase {
            Phase::Ready(since) => Some(now().wrapping_sub(since) as u64),
            _ => None,
        };
        push.link
            .log_at(NGX_LOG_ERR, &format!("relay: push failed: {why}"));
        disconnect(p);
        (*p).link.schedule_retry(published, "push");
    }
}

/// Leaves the hub and closes the connection, if there is one.
unsafe fn disconnect(p: *mut Push) {
    // SAFETY: p is a live relay; its connection (if any) is open and ours.
    unsafe {
        let push = &mut *p;
        match push.phase {
            Phase::Ready(_) => with_hub(|h| h.stop_playing(&push.key, push.id)),
            Phase::Resolving(lookup_id) => cancel(lookup_id),
            _ => {}
        }
        push.phase = Phase::Waiting;
        if !push.to_worker() {
            let bytes_in = push.session.as_ref().map_or(0, PushSession::bytes_in);
            super::count_closed(bytes_in, push.outbox.borrow().bytes_out);
        }
        push.session = None;
        push.events.clear();
        // Drop queued bytes (and their references to shared media) now.
        push.outbox = Outbox::shared(0, OutboxLimits::default());
        push.link.close();
    }
}
