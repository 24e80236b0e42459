//! The per-connection driver: socket bytes into the core session, session events into the
//! hub, the player's outbox onto the socket with writev. Timers: handshake/connect timeout,
//! ping and ping timeout, send timeout.
use super::app::{self, App};
use super::conf::RtmpConfCtx;
use super::ffi::log;
use super::flush::{flush_outbox, Flush};
use super::ngx_rtmp_core_module::{core_srv_conf, CoreSrvConf};
use super::ngx_rtmp_log_module as access_log;
use super::read_loop::{read_bounded, ReadEnd};
use super::storage::{Notice, Sinks};
use super::worker::{self, next_session_id, with_hub};
use bytes::Bytes;
use nginx_sys::{ngx_connection_t, ngx_event_t, ngx_msec_t, NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::hub::{FrameKind, Outbox, OutboxLimits, SharedOutbox, StreamKey};
use ngx_rtmp_core::media::configs::ConfigSet;
use ngx_rtmp_core::media::flv::{audio_config_key, video_config_key};
use ngx_rtmp_core::media::metadata::is_metadata;
use ngx_rtmp_core::protocol::{ServerSession, SessionConfig, SessionEvent};
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::addr_of_mut;

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    Idle,
    Publishing(StreamKey),
    Playing(StreamKey),
}

pub struct Conn {
    pub c: *mut ngx_connection_t,
    pub id: u64,
    pub srv: *mut RtmpConfCtx,
    pub server_index: usize,
    pub addr: Option<IpAddr>,
    /// The session is a relay from another worker of this nginx (auto_push/): its publisher
    /// was admitted there, and recording, HLS, exec, pushes and notifications happen there.
    pub from_worker: bool,
    pub session: ServerSession,
    events: Vec<SessionEvent>,
    pub outbox: SharedOutbox,
    pub app: Option<App>,
    pub role: Role,
    /// The message stream the session publishes or plays on.
    pub stream_id: u32,
    ping: ngx_event_t,
    timeout: ngx_msec_t,
    ping_interval: ngx_msec_t,
    ping_timeout: ngx_msec_t,
    last_input: ngx_msec_t,
    /// When the worker started shutting down, while this session drains.
    drain_since: Option<ngx_msec_t>,
    /// `drop_idle_publisher`: a publisher sending no media for this long is closed (0: off).
    pub idle_publisher_limit: ngx_msec_t,
    pub last_media: ngx_msec_t,
    pub started: ngx_msec_t,
    pub log_entry: access_log::Entry,
    /// Recorders and HLS of the stream this session publishes.
    pub sinks: Option<Box<Sinks>>,
    /// The publisher's latest metadata and decoder configs, which a redirect to another
    /// name must hand to the new stream (the publisher sends them only once).
    pub headers: PublisherHeaders,
    /// HTTP hooks: a request held for its answer, the update timer (notify/).
    pub hooks: super::notify::SessionHooks,
    closing: bool,
}

const FROM_WORKER: &str = "another worker";

pub fn now() -> ngx_msec_t {
    // SAFETY: nginx updates ngx_current_msec in the worker's own thread.
    unsafe { nginx_sys::ngx_current_msec }
}

fn peer_addr(c: *mut ngx_connection_t) -> Option<IpAddr> {
    // SAFETY: c->sockaddr points at c->socklen bytes of the peer's address.
    unsafe {
        let sa = (*c).sockaddr;
        if sa.is_null() {
            return None;
        }
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::from(
                    u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                ))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::from(sin6.sin6_addr.s6_addr))
            }
            _ => None,
        }
    }
}

/// Whether the peer came in over a unix socket: only the worker sockets of auto_push/ are.
fn is_unix(c: *mut ngx_connection_t) -> bool {
    // SAFETY: c->sockaddr is null or points at the peer's address.
    unsafe {
        let sa = (*c).sockaddr;
        !sa.is_null() && i32::from((*sa).sa_family) == libc::AF_UNIX
    }
}

/// Runs an event handler body; a panic closes the connection instead of unwinding into nginx.
fn guarded(c: *mut ngx_connection_t, what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        // SAFETY: c is the connection the handler was called for; the panic left it open.
        let clog = unsafe { (*c).log };
        log(
            clog,
            NGX_LOG_ERR,
            &format!("rtmp: internal error in {what}, closing connection"),
        );
        // SAFETY: as above; c->data is still our Conn (close_connection clears it).
        unsafe { close_connection(c) };
    }
}

/// The listening socket's handler: a new RTMP connection.
pub unsafe extern "C" fn ngx_rtmp_init_connection(c: *mut ngx_connection_t) {
    guarded(c, "accept", || {
        // SAFETY: nginx hands us an accepted connection whose listening->servers is the
        // server context open_listeners stored.
        unsafe { init_connection(c) }
    });
}

unsafe fn init_connection(c: *mut ngx_connection_t) {
    // SAFETY: see ngx_rtmp_init_connection.
    unsafe {
        let srv = (*(*c).listening).servers as *mut RtmpConfCtx;
        let cscf: &CoreSrvConf = core_srv_conf(&*srv);
        (*(*c).log).connection = (*c).number;
        (*(*c).log).handler = Some(conn_log_context);
        (*(*c).log).data = c as *mut std::ffi::c_void;
        let id = next_session_id();
        let chunk_size = cscf.chunk_size.unwrap_or(4096) as u32;
        let session = ServerSession::new(SessionConfig {
            chunk_size,
            ack_window: cscf.ack_window.unwrap_or(5_000_000) as u32,
            max_message: cscf.max_message.unwrap_or(1 << 20) as u32,
            max_streams: cscf.max_streams.unwrap_or(32) as u32,
        });
        let conn = Box::new(Conn {
            c,
            id,
            srv,
            server_index: cscf.index,
            addr: peer_addr(c),
            from_worker: is_unix(c),
            session,
            events: Vec::new(),
            outbox: Outbox::shared(0, OutboxLimits::default()),
            app: None,
            role: Role::Idle,
            stream_id: 0,
            ping: std::mem::zeroed(),
            timeout: cscf.timeout.unwrap_or(60_000) as ngx_msec_t,
            ping_interval: cscf.ping.unwrap_or(60_000) as ngx_msec_t,
            ping_timeout: cscf.ping_timeout.unwrap_or(30_000) as ngx_msec_t,
            last_input: now(),
            drain_since: None,
            idle_publisher_limit: 0,
            last_media: now(),
            started: now(),
            log_entry: access_log::Entry::default(),
            sinks: None,
            headers: PublisherHeaders::default(),
            hooks: Default::default(),
            closing: false,
        });
        if conn.from_worker {
            // nginx names no unix peer (an unbound socket); the log says where it came from.
            (*c).addr_text = nginx_sys::ngx_str_t {
                len: FROM_WORKER.len(),
                data: FROM_WORKER.as_ptr() as *mut u8,
            };
        }
        let conn = Box::into_raw(conn);
        // The hub wakes a subscriber by posting its write event (see `wake`).
        (*conn).outbox.borrow_mut().token = (*c).write as usize;
        worker::register(conn, id);
        (*c).data = conn as *mut std::ffi::c_void;
        let ping = addr_of_mut!((*conn).ping);
        (*ping).handler = Some(ping_handler);
        (*ping).data = c as *mut std::ffi::c_void;
        (*ping).log = (*c).log;
        (*ping).set_cancelable(1);

        // The log handler adds the client and server addresses.
        log((*c).log, NGX_LOG_INFO, "rtmp: client connected");
        nginx_sys::ngx_tcp_nodelay(c);
        // Idle connections are the ones nginx hands back (c->close) when it shuts down.
        (*c).set_idle(1);
        (*(*c).read).handler = Some(read_handler);
        (*(*c).write).handler = Some(write_handler);
        nginx_sys::ngx_add_timer((*c).read, (*conn).timeout);
        if (*(*c).read).ready() != 0 {
            read_handler((*c).read);
        } else if nginx_sys::ngx_handle_read_event((*c).read, 0) != nginx_sys::NGX_OK as isize {
            close_connection(c);
        }
    }
}

/// Appends ", client: ADDR, server: ADDR" to every log line of a connection, as nginx's own
/// stream and mail modules do, so a session's lines can be told apart.
pub(crate) unsafe extern "C" fn conn_log_context(
    l: *mut nginx_sys::ngx_log_t,
    buf: *mut u8,
    len: usize,
) -> *mut u8 {
    // No logging on failure here: this runs inside nginx's logger.
    let body = || {
        // SAFETY: nginx passes the connection's log (data = the connection) and `len`
        // writable bytes at buf; the listening socket outlives its connections.
        unsafe {
            let c = (*l).data as *mut ngx_connection_t;
            if c.is_null() {
                return buf;
            }
            let server = if (*c).listening.is_null() {
                String::new()
            } else {
                super::ffi::ngx_str(&(*(*c).listening).addr_text)
            };
            let text = format!(
                ", client: {}, server: {}",
                super::ffi::ngx_str(&(*c).addr_text),
                server
            );
            let n = text.len().min(len);
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
            buf.add(n)
        }
    };
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(buf)
}

/// # Safety
/// `c` must be a live RTMP connection whose `data` is its `Conn`.
unsafe fn conn_of<'a>(c: *mut ngx_connection_t) -> &'a mut Conn {
    // SAFETY: guaranteed by the caller.
    unsafe { &mut *((*c).data as *mut Conn) }
}

unsafe extern "C" fn read_handler(rev: *mut ngx_event_t) {
    // SAFETY: a connection's read event carries the connection in data.
    let c = unsafe { (*rev).data as *mut ngx_connection_t };
    guarded(c, "read", || {
        // SAFETY: c is live; nginx calls handlers only for open connections.
        unsafe { on_read(c, rev) }
    });
}

unsafe fn on_read(c: *mut ngx_connection_t, rev: *mut ngx_event_t) {
    // SAFETY: see read_handler.
    unsafe {
        let conn = conn_of(c);
        if (*c).close() != 0 {
            // The worker is shutting down (reload or quit). A client still in the handshake
            // goes at once (it reconnects to the new workers); a connected session drains for
            // a bounded time rather than cutting a live stream.
            if conn.app.is_none() {
                log(
                    (*c).log,
                    NGX_LOG_INFO,
                    "rtmp: worker is shutting down, closing connection",
                );
                close_connection(c);
                return;
            }
            (*c).set_close(0);
            (*c).set_idle(0);
            start_drain(conn);
        }
        if (*rev).timedout() != 0 {
            (*rev).set_timedout(0);
            if !idle_publisher_check(conn) {
                close_connection(c);
                return;
            }
        }
        let end = read_bounded(c, rev, |input| {
            if let Err(e) = conn.session.handle_input(input, &mut conn.events) {
                log(
                    (*c).log,
                    NGX_LOG_ERR,
                    &format!("rtmp: {e}, closing connection"),
                );
                return false;
            }
            conn.last_input = now();
            process_events(conn)
        });
        match end {
            ReadEnd::Wait => {}
            ReadEnd::Closed | ReadEnd::RecvFailed => {
                log((*c).log, NGX_LOG_INFO, "rtmp: client closed connection");
                close_connection(c);
                return;
            }
            ReadEnd::Stopped | ReadEnd::ArmFailed => {
                close_connection(c);
                return;
            }
        }
        if conn.session.handshake_done()
            && conn.app.is_some()
            && conn.idle_publisher_limit == 0
            && (*rev).timer_set() != 0
        {
            // Past connect, liveness is the ping's job.
            nginx_sys::ngx_del_timer(rev);
        }
        flush(c);
    }
}

/// Handles what the session reported; false closes the connection.
fn process_events(conn: &mut Conn) -> bool {
    let mut events = std::mem::take(&mut conn.events);
    let mut ok = true;
    for ev in events.drain(..) {
        if !ok {
            break;
        }
        ok = match ev {
            SessionEvent::Connect(info) => app::on_connect(conn, info),
            SessionEvent::Publish(req) => app::on_publish(conn, req),
            SessionEvent::Play(req) => app::on_play(conn, req),
            SessionEvent::CloseStream { stream_id } => {
                let was_publishing = matches!(conn.role, Role::Publishing(_));
                app::leave(conn);
                if was_publishing {
                    conn.session.send_status(
                        stream_id,
                        "status",
                        "NetStream.Unpublish.Success",
                        "Stop publishing",
                    );
                }
                true
            }
            SessionEvent::Audio { timestamp, payload } => {
                media(conn, FrameKind::Audio, timestamp, payload)
            }
            SessionEvent::Video { timestamp, payload } => {
                media(conn, FrameKind::Video, timestamp, payload)
            }
            SessionEvent::Data { timestamp, payload } => {
                media(conn, FrameKind::Data, timestamp, payload)
            }
        };
        move_session_output(conn);
    }
    conn.events = events;
    ok
}

/// The read timer fired: before connect that is the `timeout`; for a publisher with
/// `drop_idle_publisher` it is time to see whether media still arrives. False closes.
fn idle_publisher_check(conn: &mut Conn) -> bool {
    // SAFETY: conn.c is the live connection whose read timer fired.
    let (clog, rev) = unsafe { ((*conn.c).log, (*conn.c).read) };
    if conn.idle_publisher_limit == 0 || !matches!(conn.role, Role::Publishing(_)) {
        log(clog, NGX_LOG_INFO, "rtmp: client timed out");
        return false;
    }
    let idle = now().wrapping_sub(conn.last_media);
    if idle >= conn.idle_publisher_limit {
        log(
            clog,
            NGX_LOG_INFO,
            &format!("rtmp: drop idle publisher: no media for {idle} ms"),
        );
        return false;
    }
    // SAFETY: rev is the connection's read event.
    unsafe { nginx_sys::ngx_add_timer(rev, conn.idle_publisher_limit - idle) };
    true
}

/// Arms the `drop_idle_publisher` check for a session that just started publishing.
pub fn watch_idle_publisher(conn: &mut Conn, limit: ngx_msec_t) {
    conn.idle_publisher_limit = limit;
    conn.last_media = now();
    if limit > 0 {
        // SAFETY: conn.c is live; its read event's timer is ours to set.
        unsafe { nginx_sys::ngx_add_timer((*conn.c).read, limit) };
    }
}

fn media(conn: &mut Conn, kind: FrameKind, timestamp: u32, payload: Bytes) -> bool {
    if let Some(sinks) = &mut conn.sinks {
        let mut notices = Vec::new();
        // SAFETY: conn.c is the live connection the frame came from.
        sinks.frame(
            unsafe { (*conn.c).log },
            kind,
            timestamp,
            &payload,
            &mut notices,
        );
        send_notices(conn, notices);
    }
    if let Role::Publishing(key) = &conn.role {
        conn.last_media = now();
        conn.headers.observe(kind, timestamp, &payload);
        with_hub(|hub| hub.frame(key, kind, timestamp, payload, &mut wake));
    }
    true
}

/// What a new stream needs before the publisher's next frame decodes.
#[derive(Default)]
pub struct PublisherHeaders {
    metadata: Option<(u32, Bytes)>,
    video: ConfigSet<(u32, Bytes)>,
    audio: ConfigSet<(u32, Bytes)>,
}

impl PublisherHeaders {
    fn observe(&mut self, kind: FrameKind, timestamp: u32, payload: &Bytes) {
        let value = (timestamp, payload.clone());
        match kind {
            FrameKind::Data if is_metadata(payload) => self.metadata = Some(value),
            FrameKind::Video => {
                if let Some(k) = video_config_key(payload) {
                    self.video.put(k, value);
                }
            }
            FrameKind::Audio => {
                if let Some(k) = audio_config_key(payload) {
                    self.audio.put(k, value);
                }
            }
            FrameKind::Data => {}
        }
    }

    /// Feeds the remembered headers to the stream `conn` publishes now (hub and sinks).
    pub fn replay(conn: &mut Conn) {
        if !matches!(conn.role, Role::Publishing(_)) {
            return;
        }
        let h = &conn.headers;
        let tagged = |kind: FrameKind| move |(ts, p): &(u32, Bytes)| (kind, *ts, p.clone());
        let frames: Vec<(FrameKind, u32, Bytes)> = (h.metadata.iter().map(tagged(FrameKind::Data)))
            .chain(h.video.iter().map(tagged(FrameKind::Video)))
            .chain(h.audio.iter().map(tagged(FrameKind::Audio)))
            .collect();
        for (kind, ts, payload) in frames {
            media(conn, kind, ts, payload);
        }
    }
}

/// Tells the publisher what its recorders did (`record_notify`).
pub fn send_notices(conn: &mut Conn, notices: Vec<Notice>) {
    for n in notices {
        conn.session
            .send_status(n.stream_id, n.level, n.code, &n.description);
    }
}

/// Queues the session's own output (handshake, control, commands) before anything the hub
/// adds next, so a player sees its Play.Start before the first frame.
pub fn move_session_output(conn: &mut Conn) {
    let mut o = conn.outbox.borrow_mut();
    while let Some(b) = conn.session.take_output() {
        o.push_control(b);
    }
}

/// Queues the session's output and schedules a write: for actions that come from outside
/// the connection's own handlers (the control API).
pub fn flush_later(conn: &mut Conn) {
    move_session_output(conn);
    // SAFETY: conn.c is the live connection of this Conn.
    wake(unsafe { (*conn.c).write } as usize);
}

/// The hub's wake-up: schedule a write on a subscriber's connection. A token is the write
/// event of the connection (a player's or a push relay's), whose handler flushes its outbox.
pub fn wake(token: usize) {
    let wev = token as *mut ngx_event_t;
    // SAFETY: tokens are write events of connections still subscribed (they unsubscribe
    // before the connection closes); posting an event only links it into nginx's queue.
    unsafe {
        if (*wev).posted() == 0 {
            nginx_sys::ngx_post_event(wev, addr_of_mut!(nginx_sys::ngx_posted_events));
        }
    }
}

unsafe extern "C" fn write_handler(wev: *mut ngx_event_t) {
    // SAFETY: a connection's write event carries the connection in data.
    let c = unsafe { (*wev).data as *mut ngx_connection_t };
    guarded(c, "write", || {
        // SAFETY: c is live.
        unsafe {
            if (*wev).timedout() != 0 {
                log((*c).log, NGX_LOG_INFO, "rtmp: client send timed out");
                close_connection(c);
                return;
            }
            flush(c);
        }
    });
}

/// Writes as much of the outbox as the socket takes; arms the write event for the rest.
unsafe fn flush(c: *mut ngx_connection_t) {
    // SAFETY: c is a live RTMP connection.
    unsafe {
        let conn = conn_of(c);
        move_session_output(conn);
        match flush_outbox(c, &conn.outbox, conn.timeout) {
            Flush::Drained if conn.closing => close_connection(c),
            Flush::Drained | Flush::Blocked => {}
            Flush::Fatal(why) => {
                log(
                    (*c).log,
                    NGX_LOG_ERR,
                    &format!("rtmp: {why}, closing connection"),
                );
                close_connection(c);
            }
            Flush::Failed(err) => {
                log((*c).log, NGX_LOG_INFO, &format!("rtmp: send failed: {err}"));
                close_connection(c);
            }
        }
    }
}

/// Sends what is queued (an error status, say), then closes.
pub fn close_after_flush(conn: &mut Conn) {
    conn.closing = true;
}

/// Starts the ping cycle once the client is connected to an application.
pub fn start_ping(conn: &mut Conn) {
    if conn.ping_interval > 0 {
        // SAFETY: the ping event lives inside the boxed Conn, which outlives its timer.
        unsafe { nginx_sys::ngx_add_timer(addr_of_mut!(conn.ping), conn.ping_interval) };
    }
}

/// How often a draining session checks that it still has a live stream.
const DRAIN_CHECK_MSEC: ngx_msec_t = 1000;
/// A draining session that neither publishes nor plays goes after this long.
const DRAIN_IDLE_MSEC: ngx_msec_t = 5000;

/// Whether a session of a worker that is shutting down stays: a publisher stays (its stream
/// is relayed to the new workers, auto_push/), and so does a player of a published stream.
/// The rest go, to reconnect to the new workers. nginx's `worker_shutdown_timeout` bounds
/// the whole.
fn drain_keeps(conn: &Conn, since: ngx_msec_t) -> bool {
    match &conn.role {
        // A relay from another worker stays for the players here, not for itself: the
        // worker it comes from keeps relaying while this one lives, so staying for its
        // own sake would keep every old generation alive as long as the publisher.
        Role::Publishing(key) if conn.from_worker => {
            with_hub(|hub| hub.info(key).is_some_and(|i| i.players > 0))
        }
        Role::Publishing(_) => true,
        Role::Playing(key) => with_hub(|hub| hub.info(key).is_some_and(|i| i.publishing)),
        Role::Idle => now().wrapping_sub(since) < DRAIN_IDLE_MSEC,
    }
}

fn start_drain(conn: &mut Conn) {
    if conn.drain_since.is_some() {
        return;
    }
    conn.drain_since = Some(now());
    // SAFETY: conn.c is live; the ping event lives inside the boxed Conn.
    unsafe {
        log(
            (*conn.c).log,
            NGX_LOG_INFO,
            "rtmp: worker is shutting down, the session stays while its stream is live",
        );
        let ev = addr_of_mut!(conn.ping);
        if (*ev).timer_set() != 0 {
            nginx_sys::ngx_del_timer(ev);
        }
        // A pending timer keeps the old worker alive while the session lasts.
        (*ev).set_cancelable(0);
        nginx_sys::ngx_add_timer(ev, DRAIN_CHECK_MSEC);
    }
}

unsafe extern "C" fn ping_handler(ev: *mut ngx_event_t) {
    // SAFETY: the ping event's data is its connection.
    let c = unsafe { (*ev).data as *mut ngx_connection_t };
    guarded(c, "ping", || {
        // SAFETY: the timer is deleted when the connection closes, so c is live.
        unsafe {
            let conn = conn_of(c);
            if conn.session.ping_outstanding()
                && now().wrapping_sub(conn.last_input) >= conn.ping_timeout
            {
                log(
                    (*c).log,
                    NGX_LOG_INFO,
                    "rtmp: ping timed out, closing connection",
                );
                close_connection(c);
                return;
            }
            let ping_next = if conn.ping_interval == 0 {
                None
            } else if now().wrapping_sub(conn.last_input) >= conn.ping_interval {
                conn.session.send_ping(now() as u32);
                Some(conn.ping_timeout.max(1))
            } else {
                Some(conn.ping_interval)
            };
            if let Some(since) = conn.drain_since {
                if !drain_keeps(conn, since) {
                    log(
                        (*c).log,
                        NGX_LOG_INFO,
                        "rtmp: worker is shutting down and the session has no live stream, closing",
                    );
                    close_connection(c);
                    return;
                }
            }
            let drain_next = conn.drain_since.map(|_| DRAIN_CHECK_MSEC);
            let next = match (ping_next, drain_next) {
                (Some(p), Some(d)) => p.min(d),
                (Some(p), None) => p,
                (None, Some(d)) => d,
                (None, None) => {
                    flush(c);
                    return;
                }
            };
            nginx_sys::ngx_add_timer(ev, next);
            flush(c);
        }
    });
}

/// Leaves the hub, writes the access log line, frees the session and closes the socket.
///
/// # Safety
/// `c` must be a live RTMP connection; it is gone afterwards.
pub unsafe fn close_connection(c: *mut ngx_connection_t) {
    // SAFETY: guaranteed by the caller; c->data is cleared so a second call is a no-op.
    unsafe {
        let conn = (*c).data as *mut Conn;
        if conn.is_null() {
            return;
        }
        (*c).data = std::ptr::null_mut();
        let mut conn = Box::from_raw(conn);
        // Traffic between workers is neither the server's nor a client's.
        let (bytes_in, bytes_out) = match conn.from_worker {
            true => (0, 0),
            false => (conn.session.bytes_in(), conn.outbox.borrow().bytes_out),
        };
        worker::unregister(conn.id, bytes_in, bytes_out);
        app::leave(&mut conn);
        super::notify::disconnect(&mut conn);
        super::relay::session_closed(conn.id);
        if !conn.from_worker {
            access_log::write(&conn);
        }
        if conn.ping.timer_set() != 0 {
            nginx_sys::ngx_del_timer(addr_of_mut!(conn.ping));
        }
        if conn.ping.posted() != 0 {
            nginx_sys::ngx_delete_posted_event(addr_of_mut!(conn.ping));
        }
        drop(conn);
        super::tls::close_connection(c);
    }
}
