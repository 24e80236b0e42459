//! One pull relay: an outbound connection (link.rs) that plays a stream on a remote server
//! and publishes what it receives into the local hub, as a publisher would: players of the
//! stream get it with its GOP cache and sequence headers, and the application's recorders,
//! HLS, `push` targets and exec_publish/exec_push commands run for it. The PullSession (core) speaks the protocol. When the
//! connection fails or the server ends the play, the local stream is unpublished (its
//! players stay and wait) and the relay connects again after a backoff, for as long as it
//! is wanted (pulls.rs decides that).
use super::link::{owner_of, Link, Opened};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::{now, wake};
use crate::ngx::flush::{flush_outbox, Flush};
use crate::ngx::ngx_rtmp_core_module::core_srv_conf;
use crate::ngx::ngx_rtmp_live_module::live_conf;
use crate::ngx::ngx_rtmp_relay_module::{relay_conf, PullTarget};
use crate::ngx::read_loop::{read_bounded, ReadEnd};
use crate::ngx::storage::Sinks;
use crate::ngx::worker::with_hub;
use nginx_sys::{ngx_event_t, ngx_msec_t, NGX_LOG_ERR};
use ngx_rtmp_core::hub::{Outbox, OutboxLimits, SharedOutbox, StreamKey};
use ngx_rtmp_core::relay::{play_range, PullConfig, PullEvent, PullSession, RelayParams};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::addr_of_mut;

/// What a pull takes from its server and application.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `timeout`: to connect and get the play started, and to send.
    pub timeout: ngx_msec_t,
    /// `ping` / `ping_timeout`: once playing, a silent server is pinged, then given up.
    pub ping: ngx_msec_t,
    pub ping_timeout: ngx_msec_t,
    pub ack_window: u32,
    pub max_message: u32,
    pub chunk_size: u32,
    /// `pull_reconnect`: the first wait after a failure.
    pub reconnect_ms: u64,
    /// `relay_buffer`.
    pub buffer_ms: u32,
    /// `live on`: the stream goes into the hub (recorders and HLS run either way).
    pub live: bool,
    pub publish_notify: bool,
}

impl Settings {
    /// # Safety
    /// `srv` and `app` are a server context and one of its application contexts.
    pub unsafe fn of(srv: *mut RtmpConfCtx, app: &RtmpConfCtx) -> Settings {
        // SAFETY: guaranteed by the caller.
        let cscf = unsafe { core_srv_conf(&*srv) };
        let racf = relay_conf(app);
        let live = live_conf(app);
        Settings {
            timeout: cscf.timeout.unwrap_or(60_000) as ngx_msec_t,
            ping: cscf.ping.unwrap_or(60_000) as ngx_msec_t,
            ping_timeout: cscf.ping_timeout.unwrap_or(30_000) as ngx_msec_t,
            ack_window: cscf.ack_window.unwrap_or(5_000_000) as u32,
            max_message: cscf.max_message.unwrap_or(1 << 20) as u32,
            chunk_size: cscf.chunk_size.unwrap_or(4096) as u32,
            reconnect_ms: racf.pull_reconnect.unwrap_or(3000),
            buffer_ms: racf.buffer.unwrap_or(5000).min(u64::from(u32::MAX)) as u32,
            live: live.live.unwrap_or(false),
            publish_notify: live.publish_notify.unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No connection: the retry timer is (or is about to be) set.
    Waiting,
    /// connect() in progress.
    Connecting,
    /// Handshake, connect, createStream, play.
    Talking,
    /// Playing since this time: the local stream is published.
    Playing(ngx_msec_t),
}

pub struct Pull {
    /// Also the stream's publisher id in the hub.
    pub id: u64,
    /// The local stream.
    pub key: StreamKey,
    pub target: PullTarget,
    /// Started with the worker, runs without players.
    pub is_static: bool,
    /// The pulls whose own connections asked for this one, nearest last (loop guard).
    pub ancestors: Vec<u64>,
    /// The application's context: its recorders, HLS and pushes apply to the stream.
    app: *mut RtmpConfCtx,
    srv: *mut RtmpConfCtx,
    settings: Settings,
    /// What `connect` and `play` say.
    pub params: RelayParams,
    phase: Phase,
    pub link: Link,
    session: Option<PullSession>,
    outbox: SharedOutbox,
    events: Vec<PullEvent>,
    sinks: Option<Box<Sinks>>,
    ping_sent: bool,
    /// When the relay was made (the stat page's client time).
    pub created: ngx_msec_t,
}

impl Pull {
    /// Bytes received and sent on the current connection.
    pub fn bytes(&self) -> (u64, u64) {
        let bytes_in = self.session.as_ref().map_or(0, PullSession::bytes_in);
        (bytes_in, self.outbox.borrow().bytes_out)
    }

    /// The target as the configuration wrote it.
    pub fn url(&self) -> String {
        format!("rtmp://{}", self.target.target.url)
    }

    /// Whether the local stream is published by this pull now.
    pub fn playing(&self) -> bool {
        matches!(self.phase, Phase::Playing(_))
    }
}

/// What a pull is made of; `create` takes it.
pub struct Spec {
    pub id: u64,
    pub key: StreamKey,
    pub target: PullTarget,
    pub is_static: bool,
    pub ancestors: Vec<u64>,
    pub srv: *mut RtmpConfCtx,
    pub app: *mut RtmpConfCtx,
}

/// Makes a pull and starts connecting. The caller registers the pointer.
///
/// # Safety
/// `spec.srv` and `spec.app` are contexts of the running cycle.
pub unsafe fn create(spec: Spec, why: &str) -> *mut Pull {
    // SAFETY: guaranteed by the caller.
    let settings = unsafe { Settings::of(spec.srv, &*spec.app) };
    let params = RelayParams::for_pull(&spec.target.target, &spec.key.app, &spec.key.name);
    let p = Box::into_raw(Box::new(Pull {
        id: spec.id,
        key: spec.key,
        target: spec.target,
        is_static: spec.is_static,
        ancestors: spec.ancestors,
        app: spec.app,
        srv: spec.srv,
        settings,
        params,
        phase: Phase::Waiting,
        link: Link::new(settings.reconnect_ms),
        session: None,
        outbox: Outbox::shared(0, OutboxLimits::default()),
        events: Vec::new(),
        sinks: None,
        ping_sent: false,
        created: now(),
    }));
    // SAFETY: p was just made; the link lives in the same box, which lives until `destroy`.
    unsafe {
        let pull = &mut *p;
        let context = format!(
            ", url: {}, stream: {}/{}",
            pull.url(),
            pull.key.app,
            pull.key.name
        );
        pull.link
            .init(p as *mut std::ffi::c_void, Some(retry_handler), context);
        pull.link.info(&format!(
            "relay: pull started ({why}): plays \"{}\" in \"{}\"",
            pull.params.stream, pull.params.app
        ));
        connect(p);
    }
    p
}

/// Unpublishes the stream, closes the connection, cancels the timer and frees the pull. The
/// caller has removed it from the registry.
///
/// # Safety
/// `p` came from `create` and is not used afterwards.
pub unsafe fn destroy(p: *mut Pull, why: &str) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        disconnect(p);
        let pull = &mut *p;
        pull.link.cancel_retry();
        pull.link.info(&format!("relay: pull stopped: {why}"));
        drop(Box::from_raw(p));
    }
}

/// Runs a handler body; a panic fails the attempt instead of unwinding into nginx.
fn guarded(p: *mut Pull, what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        // SAFETY: p is a live pull (handlers run only for registered pulls).
        unsafe { fail(p, &format!("internal error in {what}")) };
    }
}

/// Starts one connection attempt.
unsafe fn connect(p: *mut Pull) {
    // SAFETY: p is a live pull without a connection.
    unsafe {
        let pull = &mut *p;
        if pull.is_static && nginx_sys::ngx_exiting != 0 {
            // The new workers of a reload pull it now.
            return;
        }
        let owner = p as *mut std::ffi::c_void;
        let read = Some(read_handler as unsafe extern "C" fn(*mut ngx_event_t));
        let write = Some(write_handler as unsafe extern "C" fn(*mut ngx_event_t));
        let opened =
            match pull
                .link
                .open(&pull.target, &pull.target.addrs, owner, read, write, "pull")
            {
                Ok(o) => o,
                Err(why) => return fail(p, why),
            };
        let c = pull.link.c;
        // A worker that shuts down tells its idle connections first (see on_read).
        (*c).set_idle(1);
        let (start, duration) = play_range(&pull.target.target);
        let s = &pull.settings;
        let session = PullSession::new(PullConfig {
            params: pull.params.clone(),
            start,
            duration,
            buffer_ms: s.buffer_ms,
            chunk_size: s.chunk_size,
            ack_window: s.ack_window,
            max_message: s.max_message,
        });
        match session {
            Ok(session) => pull.session = Some(session),
            Err(e) => return fail(p, &e.to_string()),
        }
        pull.outbox = Outbox::shared((*c).write as usize, OutboxLimits::default());
        pull.ping_sent = false;
        // The whole way to a started play has one deadline.
        nginx_sys::ngx_add_timer((*c).read, pull.settings.timeout);
        match opened {
            Opened::Connected => connected(p),
            Opened::InProgress => pull.phase = Phase::Connecting,
        }
    }
}

/// The TCP connection is up: send C0+C1.
unsafe fn connected(p: *mut Pull) {
    // SAFETY: p is a live pull with a connection.
    unsafe {
        let pull = &mut *p;
        pull.phase = Phase::Talking;
        nginx_sys::ngx_tcp_nodelay(pull.link.c);
        flush(p);
    }
}

unsafe extern "C" fn retry_handler(ev: *mut ngx_event_t) {
    // SAFETY: the retry event's data is its pull, alive while the timer is set.
    let p = unsafe { (*ev).data as *mut Pull };
    guarded(p, "retry", || {
        // SAFETY: as above; the pull has no connection while it waits.
        unsafe { connect(p) }
    });
}

unsafe extern "C" fn write_handler(wev: *mut ngx_event_t) {
    // SAFETY: a pull connection's write event carries the connection, whose data is the
    // pull (the connection is closed before the pull is freed).
    let p = unsafe { owner_of::<Pull>(wev) };
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
    let p = unsafe { owner_of::<Pull>(rev) };
    if p.is_null() {
        return;
    }
    guarded(p, "read", || {
        // SAFETY: p is live; its connection is the one this event belongs to.
        unsafe { on_read(p, rev) }
    });
}

unsafe fn on_read(p: *mut Pull, rev: *mut ngx_event_t) {
    // SAFETY: p is a live pull with a connection (see read_handler).
    unsafe {
        let c = (*p).link.c;
        if (*c).close() != 0 {
            // The worker is shutting down. A static pull ends (the new workers start
            // theirs); one with players keeps them fed while they drain.
            if (*p).is_static {
                super::pulls::remove((*p).id, "the worker is shutting down");
                return;
            }
            (*c).set_close(0);
            (*c).set_idle(0);
        }
        if (*rev).timedout() != 0 {
            (*rev).set_timedout(0);
            if !still_alive(p) {
                return;
            }
        }
        if (*p).phase == Phase::Connecting {
            // A refused connect can wake the read side first; say what happened.
            if let Some(err) = (*p).link.connect_error() {
                return fail(p, &format!("connect() failed: {err}"));
            }
            connected(p);
        }
        let mut got_input = false;
        let end = read_bounded(c, rev, |input| {
            got_input = true;
            let pull = &mut *p;
            if let Some(s) = &mut pull.session {
                if let Err(e) = s.handle_input(input, &mut pull.events) {
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
        if got_input && (*p).playing() {
            (*p).ping_sent = false;
            arm_ping(p);
        }
        flush(p);
    }
}

/// The read timer fired: before the play started that is `timeout`; once playing it is the
/// ping cycle. False when the attempt failed.
unsafe fn still_alive(p: *mut Pull) -> bool {
    // SAFETY: p is a live pull with a connection.
    unsafe {
        let pull = &mut *p;
        if !pull.playing() {
            let ms = pull.settings.timeout;
            fail(
                p,
                &format!("the server did not start playing within {ms} ms"),
            );
            return false;
        }
        if pull.ping_sent {
            let ms = pull.settings.ping + pull.settings.ping_timeout;
            fail(p, &format!("no input from the server for {ms} ms"));
            return false;
        }
        if let Some(s) = &mut pull.session {
            s.ping(now() as u32);
        }
        pull.ping_sent = true;
        nginx_sys::ngx_add_timer((*pull.link.c).read, pull.settings.ping_timeout.max(1));
        true
    }
}

/// Once playing, a server silent for `ping` gets a ping.
unsafe fn arm_ping(p: *mut Pull) {
    // SAFETY: p is a live pull with a connection.
    unsafe {
        let pull = &mut *p;
        let rev = (*pull.link.c).read;
        if pull.settings.ping == 0 {
            if (*rev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(rev);
            }
        } else {
            nginx_sys::ngx_add_timer(rev, pull.settings.ping);
        }
    }
}

/// Acts on what the session reported; false when the pull failed (its connection is gone).
unsafe fn handle_events(p: *mut Pull) -> bool {
    // SAFETY: p is a live pull with a connection.
    unsafe {
        let events = std::mem::take(&mut (*p).events);
        for ev in events {
            match ev {
                PullEvent::Ready { stream_id } => {
                    if !start_publishing(p, stream_id) {
                        return false;
                    }
                }
                PullEvent::Frame {
                    kind,
                    timestamp,
                    payload,
                } => {
                    let pull = &mut *p;
                    if let Some(sinks) = &mut pull.sinks {
                        let log = addr_of_mut!(pull.link.log);
                        // record_notify has no client to tell here.
                        sinks.frame(log, kind, timestamp, &payload, &mut Vec::new());
                    }
                    if pull.settings.live {
                        with_hub(|h| h.frame(&pull.key, kind, timestamp, payload, &mut wake));
                    }
                }
                PullEvent::Failed(why) => {
                    fail(p, &refusal(&(*p).params.stream, &why));
                    return false;
                }
            }
        }
        true
    }
}

/// The server's refusal, in words that say what is missing when it has no such stream.
fn refusal(stream: &str, why: &str) -> String {
    if why.contains("StreamNotFound") {
        format!("the server has no stream \"{stream}\" ({why})")
    } else {
        format!("the server refused: {why}")
    }
}

/// The server plays the stream to us: it becomes the local stream's publisher. False when
/// the pull failed.
unsafe fn start_publishing(p: *mut Pull, stream_id: u32) -> bool {
    // SAFETY: p is a live pull with a connection; its contexts live as long as the cycle.
    unsafe {
        let pull = &mut *p;
        if pull.settings.live {
            let (chunk, notify) = (pull.settings.chunk_size, pull.settings.publish_notify);
            let published = with_hub(|h| h.publish(&pull.key, pull.id, chunk, notify, &mut wake));
            if published.is_err() {
                fail(
                    p,
                    &format!("\"{}\" is already published here", pull.key.name),
                );
                return false;
            }
        }
        pull.phase = Phase::Playing(now());
        pull.link.info(&format!(
            "relay: pull playing \"{}\" (message stream {stream_id}), publishing it here",
            pull.params.stream
        ));
        arm_ping(p);
        let pull = &mut *p;
        let log = addr_of_mut!(pull.link.log);
        let app = &*pull.app;
        pull.sinks = Sinks::start(app, &pull.key.name, 1, log);
        let (url, tc_url) = (pull.target.target.url.as_str(), pull.params.tc_url.as_str());
        let (key, sinks) = (&pull.key, pull.sinks.as_deref_mut());
        crate::ngx::exec::relay_publish(pull.id, app, &key.app, &key.name, url, tc_url, sinks);
        if pull.settings.live {
            super::pulls::pulled_stream_started(pull.srv, app, &pull.key, &pull.target.target, log);
            if pull.is_static {
                // As in the C module, a static pull (worker 0's) reaches the other workers'
                // players; an on-demand one serves its own worker's, and each worker pulls
                // for its players.
                crate::ngx::auto_push::publish_started(&pull.key);
            }
        }
        true
    }
}

/// The local stream loses its publisher: recorders and HLS finish, pushes stop, players
/// are told and wait for the next attempt.
fn stop_publishing(pull: &mut Pull) {
    if !pull.playing() {
        return;
    }
    if let Some(mut sinks) = pull.sinks.take() {
        sinks.finish(addr_of_mut!(pull.link.log), &mut Vec::new());
    }
    if pull.settings.live {
        with_hub(|h| h.unpublish(&pull.key, pull.id, &mut wake));
        super::publish_stopped(&pull.key);
        if pull.is_static {
            crate::ngx::auto_push::publish_stopped(&pull.key);
        }
    }
    crate::ngx::exec::left(pull.id);
}

unsafe fn flush(p: *mut Pull) {
    // SAFETY: p is a live pull with a connection.
    unsafe {
        let pull = &mut *p;
        if pull.link.c.is_null() || pull.phase == Phase::Connecting {
            return;
        }
        if let Some(s) = &mut pull.session {
            let mut o = pull.outbox.borrow_mut();
            while let Some(b) = s.take_output() {
                o.push_control(b);
            }
        }
        match flush_outbox(pull.link.c, &pull.outbox, pull.settings.timeout) {
            Flush::Drained | Flush::Blocked => {}
            Flush::Fatal(why) => fail(p, why),
            Flush::Failed(err) => fail(p, &format!("send failed: {err}")),
        }
    }
}

/// Ends the current attempt with an error line and schedules the next one.
unsafe fn fail(p: *mut Pull, why: &str) {
    // SAFETY: p is a live pull.
    unsafe {
        let pull = &mut *p;
        let played = match pull.phase {
            Phase::Playing(since) => Some(now().wrapping_sub(since) as u64),
            _ => None,
        };
        pull.link
            .log_at(NGX_LOG_ERR, &format!("relay: pull failed: {why}"));
        disconnect(p);
        let pull = &mut *p;
        if pull.is_static && nginx_sys::ngx_exiting != 0 {
            return;
        }
        pull.link.schedule_retry(played, "pull");
    }
}

/// Unpublishes the stream and closes the connection, if there is one.
unsafe fn disconnect(p: *mut Pull) {
    // SAFETY: p is a live pull; its connection (if any) is open and ours.
    unsafe {
        let pull = &mut *p;
        stop_publishing(pull);
        pull.phase = Phase::Waiting;
        let (bytes_in, bytes_out) = pull.bytes();
        super::count_closed(bytes_in, bytes_out);
        pull.session = None;
        pull.events.clear();
        pull.outbox = Outbox::shared(0, OutboxLimits::default());
        pull.link.close();
    }
}
