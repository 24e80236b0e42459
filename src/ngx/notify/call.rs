//! One HTTP call of a hook, in nginx's event loop: resolve the host if the server has a
//! `resolver`, connect (ngx_event_connect_peer, non-blocking), send the request, read the
//! answer's headers (bounded), close. One deadline, `netcall_timeout`, covers connecting,
//! sending and the answer. The outcome goes to the caller's `OnDone`, never from inside
//! `start` (an early failure is delivered through a posted event), so a caller is never
//! re-entered.
use crate::ngx::ffi::log;
use crate::ngx::peer::{connect_error, fixed_peer};
use crate::ngx::read_loop::{read_bounded, ReadEnd};
use crate::ngx::relay::to_sockaddr;
use crate::ngx::resolver::{self, route, Resolved, Resolver, Route, Started};
use nginx_sys::{
    ngx_connection_t, ngx_event_t, ngx_int_t, ngx_log_t, ngx_msec_t, ngx_peer_connection_t,
    ngx_str_t, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx_rtmp_core::notify::{HookUrl, Outcome, Progress, ResponseParser};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{addr_of_mut, null_mut};

/// What to call.
pub struct Spec {
    /// The directive, for log lines: `on_publish`.
    pub directive: &'static str,
    pub url: HookUrl,
    /// The addresses from the configuration (resolver::route decides whether they are used).
    pub addrs: Vec<SocketAddr>,
    pub resolver: Option<Resolver>,
    pub request: Vec<u8>,
    pub timeout: ngx_msec_t,
    /// Appended to the call's log lines: who the call is about (", client: ...").
    pub about: String,
}

pub type OnDone = Box<dyn FnOnce(Outcome)>;

pub struct Call {
    id: u64,
    spec: Spec,
    on_done: Option<OnDone>,
    /// While `start` runs: an outcome then is posted, not delivered.
    starting: bool,
    outcome: Option<Outcome>,
    lookup: Option<u64>,
    /// The host's addresses, tried in turn while connecting fails.
    addrs: Vec<SocketAddr>,
    tried: usize,
    connecting: bool,
    sent: usize,
    parser: ResponseParser,
    c: *mut ngx_connection_t,
    pc: ngx_peer_connection_t,
    sockaddr: libc::sockaddr_storage,
    peer_text: String,
    peer_name: ngx_str_t,
    finish_ev: ngx_event_t,
    log: ngx_log_t,
    context: String,
}

thread_local! {
    static CALLS: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(1) };
}

fn get(id: u64) -> Option<*mut Call> {
    CALLS.with(|m| m.borrow().get(&id).map(|&p| p as *mut Call))
}

/// Starts a call; `on_done` hears its outcome later (not for a call detached before).
pub fn start(spec: Spec, on_done: Option<OnDone>) -> u64 {
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    // SAFETY: the cycle's log is valid in a running worker; all-zero is nginx's starting
    // state for events and peer connections.
    let p = unsafe {
        Box::into_raw(Box::new(Call {
            id,
            spec,
            on_done,
            starting: true,
            outcome: None,
            lookup: None,
            addrs: Vec::new(),
            tried: 0,
            connecting: false,
            sent: 0,
            parser: ResponseParser::new(),
            c: null_mut(),
            pc: std::mem::zeroed(),
            sockaddr: std::mem::zeroed(),
            peer_text: String::new(),
            peer_name: std::mem::zeroed(),
            finish_ev: std::mem::zeroed(),
            log: *(*nginx_sys::ngx_cycle).log,
            context: String::new(),
        }))
    };
    CALLS.with(|m| m.borrow_mut().insert(id, p as usize));
    guarded(p, "start", || {
        // SAFETY: p was just made; its events and log point into the same box, which lives
        // until `release`.
        unsafe {
            let call = &mut *p;
            call.context = format!(
                ", {}: {}{}",
                call.spec.directive, call.spec.url.text, call.spec.about
            );
            call.log.handler = Some(call_log_context);
            call.log.data = p as *mut std::ffi::c_void;
            call.log.connection = 0;
            call.finish_ev.handler = Some(finish_handler);
            call.finish_ev.data = p as *mut std::ffi::c_void;
            call.finish_ev.log = addr_of_mut!(call.log);
            log(addr_of_mut!(call.log), NGX_LOG_INFO, "notify: calling");
            let url = &call.spec.url;
            match route(&url.host, url.port, &call.spec.addrs, call.spec.resolver) {
                Err(e) => finish(p, Outcome::Failed(e)),
                Ok(Route::Addrs(addrs)) => connect(p, addrs),
                Ok(Route::Resolve(r)) => {
                    let host = url.host.clone();
                    let port = url.port;
                    let done = Box::new(move |res: Resolved| after_lookup(id, res));
                    match resolver::lookup(r, &host, port, done) {
                        Started::Pending(l) => call.lookup = Some(l),
                        Started::Ready(res) => resolved(p, res),
                    }
                }
            }
            if let Some(call) = get(id) {
                (*call).starting = false;
            }
        }
    });
    id
}

/// The session the call was about is gone or no longer waits: the call runs to its end
/// (as the C module's detached netcalls do), but nobody hears its outcome.
pub fn detach(id: u64) {
    if let Some(p) = get(id) {
        // SAFETY: registered calls are live.
        unsafe { (*p).on_done = None };
    }
}

/// The resolver answered for call `id` (if the call still exists: release cancels lookups).
fn after_lookup(id: u64, res: Resolved) {
    let Some(p) = get(id) else { return };
    guarded(p, "resolve", || {
        // SAFETY: a registered call is live.
        unsafe {
            (*p).lookup = None;
            resolved(p, res);
        }
    });
}

unsafe fn resolved(p: *mut Call, res: Resolved) {
    match res {
        // SAFETY: p is a live call without a connection.
        Ok(addrs) => unsafe { connect(p, addrs) },
        // SAFETY: as above.
        Err(e) => unsafe { finish(p, Outcome::Failed(e)) },
    }
}

/// Appends the hook and its URL to the call's log lines.
unsafe extern "C" fn call_log_context(l: *mut ngx_log_t, buf: *mut u8, len: usize) -> *mut u8 {
    let body = || {
        // SAFETY: l is a call's log (data = the Call), buf has len writable bytes.
        unsafe {
            let p = (*l).data as *const Call;
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

/// Runs a handler body; a panic fails the call instead of unwinding into nginx.
fn guarded(p: *mut Call, what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        let outcome = Outcome::Failed(format!("internal error in {what}"));
        // SAFETY: p is live unless the panic came after release, which is the last step of
        // every path (nothing can panic after it).
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { finish(p, outcome) }));
    }
}

unsafe fn connect(p: *mut Call, addrs: Vec<SocketAddr>) {
    // SAFETY: p is a live call without a connection.
    unsafe {
        (*p).addrs = addrs;
        (*p).tried = 0;
        connect_next(p, "no address".into());
    }
}

/// Connects to the next address; `why` is the outcome when none is left.
unsafe fn connect_next(p: *mut Call, why: String) {
    // SAFETY: p is a live call; its connection (if any) failed to connect.
    unsafe {
        let call = &mut *p;
        close(call);
        let Some(&addr) = call.addrs.get(call.tried) else {
            return finish(p, Outcome::Failed(why));
        };
        call.tried += 1;
        call.pc = std::mem::zeroed();
        call.connecting = false;
        let (storage, socklen) = to_sockaddr(&addr);
        call.sockaddr = storage;
        call.peer_text = addr.to_string();
        call.peer_name = ngx_str_t {
            len: call.peer_text.len(),
            data: call.peer_text.as_ptr() as *mut u8,
        };
        call.pc.sockaddr = addr_of_mut!(call.sockaddr) as *mut nginx_sys::sockaddr;
        call.pc.socklen = socklen;
        call.pc.name = addr_of_mut!(call.peer_name);
        call.pc.get = Some(fixed_peer);
        call.pc.log = addr_of_mut!(call.log);
        // A reset by the hook's server is an error of this call, not an alert.
        call.pc
            .set_log_error(nginx_sys::ngx_connection_log_error_e_NGX_ERROR_ERR);
        let rc = nginx_sys::ngx_event_connect_peer(addr_of_mut!(call.pc));
        if rc != nginx_sys::NGX_OK as ngx_int_t && rc != nginx_sys::NGX_AGAIN as ngx_int_t {
            // nginx logged why (connect() to ... failed) and closed the socket.
            return connect_next(p, format!("cannot connect to {addr}"));
        }
        let c = call.pc.connection;
        call.c = c;
        (*c).pool = nginx_sys::ngx_create_pool(1024, addr_of_mut!(call.log));
        if (*c).pool.is_null() {
            return finish(p, Outcome::Failed("out of memory".into()));
        }
        (*c).data = p as *mut std::ffi::c_void;
        (*(*c).read).handler = Some(read_handler);
        (*(*c).write).handler = Some(write_handler);
        call.log.connection = (*c).number;
        nginx_sys::ngx_add_timer((*c).read, call.spec.timeout);
        if rc == nginx_sys::NGX_OK as ngx_int_t {
            send(p);
        } else {
            call.connecting = true;
        }
    }
}

/// The call of a connection's event, if the connection is still a call's.
unsafe fn call_of(ev: *mut ngx_event_t) -> Option<*mut Call> {
    // SAFETY: a call connection's events carry the connection, whose data is the call (the
    // connection is closed before the call is freed).
    let p = unsafe { (*((*ev).data as *mut ngx_connection_t)).data as *mut Call };
    (!p.is_null()).then_some(p)
}

unsafe extern "C" fn write_handler(wev: *mut ngx_event_t) {
    // SAFETY: see call_of.
    let Some(p) = (unsafe { call_of(wev) }) else {
        return;
    };
    guarded(p, "write", || {
        // SAFETY: p is live; its connection is the one this event belongs to.
        unsafe {
            if (*p).connecting {
                if let Some(err) = connect_error((*(*p).c).fd) {
                    let why = format!("connect() to {} failed: {err}", (*p).peer_text);
                    return connect_next(p, why);
                }
                (*p).connecting = false;
            }
            send(p);
        }
    });
}

/// Sends what is left of the request.
unsafe fn send(p: *mut Call) {
    // SAFETY: p is a live call with a connected connection.
    unsafe {
        let call = &mut *p;
        let c = call.c;
        while call.sent < call.spec.request.len() {
            let rest = &call.spec.request[call.sent..];
            let n = ((*c).send.unwrap())(c, rest.as_ptr() as *mut u8, rest.len());
            if n > 0 {
                call.sent += n as usize;
            } else if n == nginx_sys::NGX_AGAIN as isize {
                if nginx_sys::ngx_handle_write_event((*c).write, 0) != nginx_sys::NGX_OK as isize {
                    finish(p, Outcome::Failed("cannot wait to send".into()));
                }
                return;
            } else {
                return finish(p, Outcome::Failed("send() failed".into()));
            }
        }
        // The answer may be there already.
        receive(p, (*c).read);
    }
}

unsafe extern "C" fn read_handler(rev: *mut ngx_event_t) {
    // SAFETY: see call_of.
    let Some(p) = (unsafe { call_of(rev) }) else {
        return;
    };
    guarded(p, "read", || {
        // SAFETY: p is live; its connection is the one this event belongs to.
        unsafe {
            if (*rev).timedout() != 0 {
                let ms = (*p).spec.timeout;
                return finish(p, Outcome::Failed(format!("no answer within {ms} ms")));
            }
            if (*p).connecting || (*p).sent < (*p).spec.request.len() {
                // Readable before the request is out: only a closed socket does that;
                // the write side reports it.
                return;
            }
            receive(p, rev);
        }
    });
}

unsafe fn receive(p: *mut Call, rev: *mut ngx_event_t) {
    // SAFETY: p is a live call with a connection; rev is its read event.
    unsafe {
        let mut answer = None;
        let end = read_bounded((*p).c, rev, |bytes| match (*p).parser.feed(bytes) {
            Progress::More => true,
            done => {
                answer = Some(done);
                false
            }
        });
        let progress = match end {
            ReadEnd::Wait => return,
            ReadEnd::Stopped => answer.unwrap_or(Progress::More),
            ReadEnd::Closed => (*p).parser.eof(),
            ReadEnd::RecvFailed => Progress::Failed("recv() failed".into()),
            ReadEnd::ArmFailed => Progress::Failed("cannot wait for the answer".into()),
        };
        let outcome = match progress {
            Progress::Done(r) => Outcome::Answered(r),
            Progress::Failed(e) => Outcome::Failed(e),
            Progress::More => Outcome::Failed("no answer".into()),
        };
        finish(p, outcome);
    }
}

unsafe extern "C" fn finish_handler(ev: *mut ngx_event_t) {
    // SAFETY: the finish event's data is its call, alive while the event is posted.
    let p = unsafe { (*ev).data as *mut Call };
    guarded(p, "finish", || {
        // SAFETY: as above; the outcome was stored before the event was posted.
        unsafe {
            let outcome = (*p)
                .outcome
                .take()
                .unwrap_or_else(|| Outcome::Failed("no answer".into()));
            finish(p, outcome)
        }
    });
}

/// Ends the call: logs the outcome, frees everything, then tells `on_done` (later, if the
/// call is still starting).
unsafe fn finish(p: *mut Call, outcome: Outcome) {
    // SAFETY: p is a live call.
    unsafe {
        let call = &mut *p;
        if call.starting {
            call.outcome = Some(outcome);
            if call.finish_ev.posted() == 0 {
                let ev = addr_of_mut!(call.finish_ev);
                nginx_sys::ngx_post_event(ev, addr_of_mut!(nginx_sys::ngx_posted_events));
            }
            return;
        }
        let clog = addr_of_mut!(call.log);
        match &outcome {
            Outcome::Answered(r) => log(
                clog,
                NGX_LOG_INFO,
                &format!("notify: answered {}", r.status),
            ),
            // Nobody else hears of a failed call that nobody waits for.
            Outcome::Failed(e) if call.on_done.is_none() => {
                log(clog, NGX_LOG_ERR, &format!("notify: failed: {e}"))
            }
            Outcome::Failed(e) => log(clog, NGX_LOG_INFO, &format!("notify: failed: {e}")),
        }
        let on_done = call.on_done.take();
        release(p);
        // The call is gone: a panic here must not reach `guarded`, which would fail it again.
        if let Some(f) = on_done {
            crate::ngx::ffi::catch("notify answer", (), || f(outcome));
        }
    }
}

/// Unregisters the call, cancels its lookup and event, closes its connection, frees it.
unsafe fn release(p: *mut Call) {
    // SAFETY: p is a live call; nothing uses it afterwards.
    unsafe {
        let call = &mut *p;
        CALLS.with(|m| m.borrow_mut().remove(&call.id));
        if let Some(l) = call.lookup.take() {
            resolver::cancel(l);
        }
        if call.finish_ev.posted() != 0 {
            nginx_sys::ngx_delete_posted_event(addr_of_mut!(call.finish_ev));
        }
        close(call);
        drop(Box::from_raw(p));
    }
}

/// Closes the call's connection, if it has one.
fn close(call: &mut Call) {
    let c = std::mem::replace(&mut call.c, null_mut());
    if c.is_null() {
        return;
    }
    // SAFETY: c is the call's open connection, with the pool it was given.
    unsafe {
        (*c).data = null_mut();
        let pool = (*c).pool;
        nginx_sys::ngx_close_connection(c);
        if !pool.is_null() {
            nginx_sys::ngx_destroy_pool(pool);
        }
    }
    call.log.connection = 0;
}
