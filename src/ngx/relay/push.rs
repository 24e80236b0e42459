//! One push relay: an outbound connection in nginx's event loop (ngx_event_connect_peer,
//! non-blocking) that publishes a local stream on a remote server. The PushSession (core)
//! speaks the protocol; once the server has started the publish, the relay subscribes to the
//! hub like a player and its write handler writes the stream's shared bytes with writev.
//! When the connection fails or the server closes it, the relay waits (backoff) and
//! connects again, for as long as the local stream is published.
use super::addr::{local_addr, to_sockaddr};
use crate::ngx::conn::{now, wake};
use crate::ngx::ffi::log;
use crate::ngx::flush::{flush_outbox, Flush};
use crate::ngx::ngx_rtmp_relay_module::PushTarget;
use crate::ngx::read_loop::{read_bounded, ReadEnd};
use crate::ngx::tls::ClientTls;
use crate::ngx::worker::with_hub;
use nginx_sys::{
    ngx_connection_t, ngx_event_t, ngx_int_t, ngx_log_t, ngx_msec_t, ngx_peer_connection_t,
    ngx_str_t, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx_rtmp_core::config::relay::Scheme;
use ngx_rtmp_core::hub::{Outbox, OutboxLimits, SharedOutbox, StreamKey};
use ngx_rtmp_core::relay::{Backoff, PushConfig, PushEvent, PushParams, PushSession};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{addr_of_mut, null_mut};

/// What a relay takes from the publisher's server and application.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `timeout`: to connect and get the publish started, and to send once started.
    pub timeout: ngx_msec_t,
    pub ack_window: u32,
    pub max_message: u32,
    /// `push_reconnect`: the first wait after a failure.
    pub reconnect_ms: u64,
    /// How an `rtmps://` target is spoken to (`rtmp_relay_ssl_*`).
    pub tls: ClientTls,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No connection: the retry timer is (or is about to be) set.
    Waiting,
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
    /// Added with /control/push/start (rather than a `push` directive).
    pub from_control: bool,
    settings: Settings,
    phase: Phase,
    c: *mut ngx_connection_t,
    pc: ngx_peer_connection_t,
    sockaddr: libc::sockaddr_storage,
    /// "host:port", for nginx's own connect() messages.
    peer_text: String,
    peer_name: ngx_str_t,
    session: Option<PushSession>,
    outbox: SharedOutbox,
    events: Vec<PushEvent>,
    backoff: Backoff,
    attempts: usize,
    retry: ngx_event_t,
    log: ngx_log_t,
    /// ", url: URL, stream: app/name", appended to every log line of the relay.
    context: String,
    /// The local address of the current connection: a publish that arrives from it on this
    /// server is our own push coming back in (see `super::from_own_push`).
    pub local: Option<SocketAddr>,
}

impl Push {
    /// Bytes received and sent on the current connection.
    pub fn bytes(&self) -> (u64, u64) {
        let bytes_in = self.session.as_ref().map_or(0, PushSession::bytes_in);
        (bytes_in, self.outbox.borrow().bytes_out)
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
    from_control: bool,
    settings: Settings,
) -> *mut Push {
    let backoff = Backoff::new(settings.reconnect_ms);
    // SAFETY: the cycle's log is valid in a running worker; all-zero is nginx's starting
    // state for events and peer connections.
    let p = unsafe {
        Box::into_raw(Box::new(Push {
            id,
            key,
            target,
            from_control,
            settings,
            phase: Phase::Waiting,
            c: null_mut(),
            pc: std::mem::zeroed(),
            sockaddr: std::mem::zeroed(),
            peer_text: String::new(),
            peer_name: std::mem::zeroed(),
            session: None,
            outbox: Outbox::shared(0, OutboxLimits::default()),
            events: Vec::new(),
            backoff,
            attempts: 0,
            retry: std::mem::zeroed(),
            log: *(*nginx_sys::ngx_cycle).log,
            context: String::new(),
            local: None,
        }))
    };
    // SAFETY: p was just made; its events and log point into the same box, which lives
    // until `destroy`.
    unsafe {
        let push = &mut *p;
        push.context = format!(
            ", url: {}, stream: {}/{}",
            push.url(),
            push.key.app,
            push.key.name
        );
        push.log.handler = Some(push_log_context);
        push.log.data = p as *mut std::ffi::c_void;
        push.log.connection = 0;
        push.retry.handler = Some(retry_handler);
        push.retry.data = p as *mut std::ffi::c_void;
        push.retry.log = addr_of_mut!(push.log);
        // A worker that shuts down need not wait for a retry.
        push.retry.set_cancelable(1);
        let how = if push.from_control {
            "/control/push/start"
        } else {
            "the push directive"
        };
        log(
            addr_of_mut!(push.log),
            NGX_LOG_INFO,
            &format!("relay: push started ({how})"),
        );
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
        if push.retry.timer_set() != 0 {
            nginx_sys::ngx_del_timer(addr_of_mut!(push.retry));
        }
        if push.retry.posted() != 0 {
            nginx_sys::ngx_delete_posted_event(addr_of_mut!(push.retry));
        }
        log(
            addr_of_mut!(push.log),
            NGX_LOG_INFO,
            &format!("relay: push stopped: {why}"),
        );
        drop(Box::from_raw(p));
    }
}

/// Appends the relay's URL and stream to its log lines, as the connection log handler does
/// for sessions.
unsafe extern "C" fn push_log_context(l: *mut ngx_log_t, buf: *mut u8, len: usize) -> *mut u8 {
    let body = || {
        // SAFETY: l is a relay's log (data = the Push), buf has len writable bytes.
        unsafe {
            let p = (*l).data as *const Push;
            if p.is_null() {
                return buf;
            }
            let text = &(*p).context;
            let n = text.len().min(len);
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
            buf.add(n)
        }
    };
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(buf)
}

/// nginx asks the balancer for a peer; ours is fixed before the call.
unsafe extern "C" fn get_peer(
    _pc: *mut ngx_peer_connection_t,
    _data: *mut std::ffi::c_void,
) -> ngx_int_t {
    let ok = nginx_sys::NGX_OK as ngx_int_t;
    crate::ngx::ffi::catch("relay get_peer", ok, || ok)
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
        let Some(addr) = push
            .target
            .addrs
            .get(push.attempts % push.target.addrs.len().max(1))
            .copied()
        else {
            return;
        };
        push.attempts = push.attempts.wrapping_add(1);
        let (storage, socklen) = to_sockaddr(&addr);
        push.sockaddr = storage;
        push.peer_text = addr.to_string();
        push.peer_name = ngx_str_t {
            len: push.peer_text.len(),
            data: push.peer_text.as_ptr() as *mut u8,
        };
        push.pc = std::mem::zeroed();
        push.pc.sockaddr = addr_of_mut!(push.sockaddr) as *mut nginx_sys::sockaddr;
        push.pc.socklen = socklen;
        push.pc.name = addr_of_mut!(push.peer_name);
        push.pc.get = Some(get_peer);
        push.pc.log = addr_of_mut!(push.log);
        // recv/send errors (a reset) are the relay's to report: nginx logs them at info.
        push.pc
            .set_log_error(nginx_sys::ngx_connection_log_error_e_NGX_ERROR_INFO);
        log(
            addr_of_mut!(push.log),
            NGX_LOG_INFO,
            &format!("relay: push connecting to {addr}"),
        );
        let rc = nginx_sys::ngx_event_connect_peer(addr_of_mut!(push.pc));
        if rc != nginx_sys::NGX_OK as ngx_int_t && rc != nginx_sys::NGX_AGAIN as ngx_int_t {
            // nginx logged why (connect() failed ...) and closed the socket.
            fail(p, "cannot connect");
            return;
        }
        let c = push.pc.connection;
        push.c = c;
        (*c).pool = nginx_sys::ngx_create_pool(4096, addr_of_mut!(push.log));
        if (*c).pool.is_null() {
            fail(p, "out of memory");
            return;
        }
        (*c).data = p as *mut std::ffi::c_void;
        (*(*c).read).handler = Some(read_handler);
        (*(*c).write).handler = Some(write_handler);
        push.log.connection = (*c).number;
        push.local = local_addr((*c).fd).map(super::addr::canonical);
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
        if rc == nginx_sys::NGX_OK as ngx_int_t {
            connected(p);
        } else {
            push.phase = Phase::Connecting;
        }
    }
}

/// The TCP connection is up: TLS first for an `rtmps://` target, then C0+C1.
unsafe fn connected(p: *mut Push) {
    // SAFETY: p is a live relay with a connection.
    unsafe {
        let push = &mut *p;
        push.phase = Phase::Talking;
        nginx_sys::ngx_tcp_nodelay(push.c);
        if push.target.target.scheme == Scheme::Rtmps {
            push.phase = Phase::Securing;
            let host = &push.target.target.host;
            match push.settings.tls.handshake(push.c, host, Some(tls_done)) {
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
        let c = push.c;
        match push.settings.tls.finish(c) {
            Err(why) => fail(p, &why),
            Ok(how) => {
                log(
                    addr_of_mut!(push.log),
                    NGX_LOG_INFO,
                    &format!("relay: push TLS: {how}"),
                );
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
    let p = unsafe { (*((*wev).data as *mut ngx_connection_t)).data as *mut Push };
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
                if let Some(err) = connect_error((*(*p).c).fd) {
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

/// The outcome of a non-blocking connect (SO_ERROR), once the socket is writable.
fn connect_error(fd: libc::c_int) -> Option<std::io::Error> {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid for getsockopt to write.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut err as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Some(std::io::Error::last_os_error());
    }
    (err != 0).then(|| std::io::Error::from_raw_os_error(err))
}

unsafe extern "C" fn read_handler(rev: *mut ngx_event_t) {
    // SAFETY: as for write_handler.
    let p = unsafe { (*((*rev).data as *mut ngx_connection_t)).data as *mut Push };
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
        let c = (*p).c;
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
                    let rev = (*push.c).read;
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
                    log(
                        addr_of_mut!(push.log),
                        NGX_LOG_INFO,
                        &format!("relay: push publishing (message stream {stream_id})"),
                    );
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
        if push.c.is_null() || matches!(push.phase, Phase::Connecting | Phase::Securing) {
            return;
        }
        move_session_output(push);
        match flush_outbox(push.c, &push.outbox, push.settings.timeout) {
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
        log(
            addr_of_mut!(push.log),
            NGX_LOG_ERR,
            &format!("relay: push failed: {why}"),
        );
        disconnect(p);
        let push = &mut *p;
        let delay = push.backoff.next_delay(published);
        log(
            addr_of_mut!(push.log),
            NGX_LOG_INFO,
            &format!(
                "relay: push reconnects in {delay} ms (attempt {})",
                push.backoff.failures() + 1
            ),
        );
        if push.retry.timer_set() != 0 {
            nginx_sys::ngx_del_timer(addr_of_mut!(push.retry));
        }
        nginx_sys::ngx_add_timer(addr_of_mut!(push.retry), delay.max(1) as ngx_msec_t);
    }
}

/// Leaves the hub and closes the connection, if there is one.
unsafe fn disconnect(p: *mut Push) {
    // SAFETY: p is a live relay; its connection (if any) is open and ours.
    unsafe {
        let push = &mut *p;
        if let Phase::Ready(_) = push.phase {
            with_hub(|h| h.stop_playing(&push.key, push.id));
        }
        push.phase = Phase::Waiting;
        let bytes_in = push.session.as_ref().map_or(0, PushSession::bytes_in);
        super::count_closed(bytes_in, push.outbox.borrow().bytes_out);
        push.session = None;
        push.local = None;
        push.events.clear();
        // Drop queued bytes (and their references to shared media) now.
        push.outbox = Outbox::shared(0, OutboxLimits::default());
        let c = push.c;
        if c.is_null() {
            return;
        }
        push.c = null_mut();
        push.log.connection = 0;
        (*c).data = null_mut();
        crate::ngx::tls::close_connection(c);
    }
}
