//! The outbound connection of a relay (push or pull) in nginx's event loop: a
//! non-blocking ngx_event_connect_peer to one of the target's addresses in turn (or its
//! unix socket: another worker of this nginx), the
//! relay's own log (its lines end with the URL and stream), and the retry timer with its
//! backoff. The relay that embeds a Link owns the protocol; the Link owns the socket.
use super::addr::{canonical, local_addr, to_sockaddr, unix_sockaddr};
use crate::ngx::ffi::log;
use crate::ngx::ngx_rtmp_relay_module::PushTarget;
use crate::ngx::peer::{connect_error, fixed_peer};
use nginx_sys::{
    ngx_connection_t, ngx_event_handler_pt, ngx_event_t, ngx_int_t, ngx_log_t, ngx_msec_t,
    ngx_peer_connection_t, ngx_str_t, NGX_LOG_INFO,
};
use ngx_rtmp_core::relay::Backoff;
use std::ffi::c_void;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{addr_of_mut, null_mut};

pub struct Link {
    /// The current connection (null while waiting).
    pub c: *mut ngx_connection_t,
    pc: ngx_peer_connection_t,
    sockaddr: libc::sockaddr_storage,
    /// "host:port", for nginx's own connect() messages.
    peer_text: String,
    peer_name: ngx_str_t,
    pub backoff: Backoff,
    attempts: usize,
    retry: ngx_event_t,
    pub log: ngx_log_t,
    /// ", url: URL, stream: app/name", appended to every log line of the relay.
    context: String,
    /// The local address of the current connection: a client of this server that comes
    /// from it is the relay itself (loop guards).
    pub local: Option<SocketAddr>,
}

/// How a connection attempt began.
pub enum Opened {
    /// connect() succeeded at once.
    Connected,
    /// connect() is in progress: the write event says when it is done (see `connect_error`).
    InProgress,
}

impl Link {
    /// A link with no connection. `init` must run once the Link is at its final address.
    pub fn new(reconnect_ms: u64) -> Link {
        // SAFETY: the cycle's log is valid in a running worker; all-zero is nginx's starting
        // state for events and peer connections.
        unsafe {
            Link {
                c: null_mut(),
                pc: std::mem::zeroed(),
                sockaddr: std::mem::zeroed(),
                peer_text: String::new(),
                peer_name: std::mem::zeroed(),
                backoff: Backoff::new(reconnect_ms),
                attempts: 0,
                retry: std::mem::zeroed(),
                log: *(*nginx_sys::ngx_cycle).log,
                context: String::new(),
                local: None,
            }
        }
    }

    /// Points the log and the retry timer at this Link and its owner (`retry` gets the owner
    /// as its event data).
    ///
    /// # Safety
    /// `self` must not move afterwards (it lives in a box), and `owner` must outlive it.
    pub unsafe fn init(
        &mut self,
        owner: *mut c_void,
        retry: ngx_event_handler_pt,
        context: String,
    ) {
        self.context = context;
        self.log.handler = Some(log_context);
        self.log.data = self as *mut Link as *mut c_void;
        self.log.connection = 0;
        self.retry.handler = retry;
        self.retry.data = owner;
        self.retry.log = addr_of_mut!(self.log);
        // A worker that shuts down need not wait for a retry.
        self.retry.set_cancelable(1);
    }

    pub fn info(&mut self, msg: &str) {
        log(addr_of_mut!(self.log), NGX_LOG_INFO, msg);
    }

    pub fn log_at(&mut self, level: u32, msg: &str) {
        log(addr_of_mut!(self.log), level, msg);
    }

    /// The next address to try: `target`'s unix socket, or `addrs` in turn.
    fn next_address(
        &mut self,
        target: &PushTarget,
        addrs: &[SocketAddr],
    ) -> Option<(libc::sockaddr_storage, libc::socklen_t, String)> {
        if let Some(path) = &target.unix {
            let sun = unix_sockaddr(path)?;
            // SAFETY: all-zero is a valid sockaddr_storage, which is larger than sockaddr_un.
            let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            // SAFETY: as above; sockaddr_storage is aligned for every address type.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_un, sun) };
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            return Some((storage, len, format!("unix:{path}")));
        }
        let addr = addrs.get(self.attempts % addrs.len().max(1))?;
        self.attempts = self.attempts.wrapping_add(1);
        let (storage, len) = to_sockaddr(addr);
        Some((storage, len, addr.to_string()))
    }

    /// Starts connecting to `target`'s unix socket or the next of `addrs` (the target's,
    /// or what the resolver found); the connection's data is `owner` and its events get
    /// `read` and `write`. `what` names the relay in the log ("push", "pull").
    ///
    /// # Safety
    /// The Link has no connection; `owner` outlives the connection.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn open(
        &mut self,
        target: &PushTarget,
        addrs: &[SocketAddr],
        owner: *mut c_void,
        read: ngx_event_handler_pt,
        write: ngx_event_handler_pt,
        what: &str,
    ) -> Result<Opened, &'static str> {
        let Some((storage, socklen, text)) = self.next_address(target, addrs) else {
            return Err("no address");
        };
        self.sockaddr = storage;
        self.peer_text = text;
        self.peer_name = ngx_str_t {
            len: self.peer_text.len(),
            data: self.peer_text.as_ptr() as *mut u8,
        };
        // SAFETY: all-zero is a peer connection's starting state; every pointer stored in it
        // points into this Link, which does not move.
        unsafe {
            self.pc = std::mem::zeroed();
            self.pc.sockaddr = addr_of_mut!(self.sockaddr) as *mut nginx_sys::sockaddr;
            self.pc.socklen = socklen;
            self.pc.name = addr_of_mut!(self.peer_name);
            self.pc.get = Some(fixed_peer);
            self.pc.log = addr_of_mut!(self.log);
            // recv/send errors (a reset) are the relay's to report: nginx logs them at info.
            self.pc
                .set_log_error(nginx_sys::ngx_connection_log_error_e_NGX_ERROR_INFO);
            self.info(&format!("relay: {what} connecting to {}", self.peer_text));
            let rc = nginx_sys::ngx_event_connect_peer(addr_of_mut!(self.pc));
            if rc != nginx_sys::NGX_OK as ngx_int_t && rc != nginx_sys::NGX_AGAIN as ngx_int_t {
                // nginx logged why (connect() failed ...) and closed the socket.
                return Err("cannot connect");
            }
            let c = self.pc.connection;
            self.c = c;
            (*c).pool = nginx_sys::ngx_create_pool(4096, addr_of_mut!(self.log));
            if (*c).pool.is_null() {
                return Err("out of memory");
            }
            (*c).data = owner;
            (*(*c).read).handler = read;
            (*(*c).write).handler = write;
            self.log.connection = (*c).number;
            self.local = local_addr((*c).fd).map(canonical);
            Ok(if rc == nginx_sys::NGX_OK as ngx_int_t {
                Opened::Connected
            } else {
                Opened::InProgress
            })
        }
    }

    /// The outcome of a connect that was in progress, once the socket is writable.
    pub fn connect_error(&self) -> Option<std::io::Error> {
        if self.c.is_null() {
            return None;
        }
        // SAFETY: c is our open connection.
        connect_error(unsafe { (*self.c).fd })
    }

    /// Closes the connection, if there is one.
    pub fn close(&mut self) {
        self.local = None;
        let c = self.c;
        if c.is_null() {
            return;
        }
        self.c = null_mut();
        self.log.connection = 0;
        // SAFETY: c is our open connection; its pool (if made) is ours too. A TLS connection
        // says goodbye first.
        unsafe {
            (*c).data = null_mut();
            crate::ngx::tls::close_connection(c);
        }
    }

    /// Sets the retry timer after an attempt that ended (`ran_ms`: how long it had been
    /// running, None if it never got started); returns the delay.
    pub fn schedule_retry(&mut self, ran_ms: Option<u64>, what: &str) -> u64 {
        let delay = self.backoff.next_delay(ran_ms);
        let attempt = self.backoff.failures() + 1;
        self.info(&format!(
            "relay: {what} reconnects in {delay} ms (attempt {attempt})"
        ));
        self.cancel_retry();
        // SAFETY: the retry event lives in this Link, which outlives its timer.
        unsafe { nginx_sys::ngx_add_timer(addr_of_mut!(self.retry), delay.max(1) as ngx_msec_t) };
        delay
    }

    pub fn cancel_retry(&mut self) {
        let ev = addr_of_mut!(self.retry);
        // SAFETY: ev is this Link's own event.
        unsafe {
            if (*ev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(ev);
            }
            if (*ev).posted() != 0 {
                nginx_sys::ngx_delete_posted_event(ev);
            }
        }
    }
}

/// Appends the relay's URL and stream to its log lines, as the connection log handler does
/// for sessions.
unsafe extern "C" fn log_context(l: *mut ngx_log_t, buf: *mut u8, len: usize) -> *mut u8 {
    let body = || {
        // SAFETY: l is a Link's log (data = the Link), buf has len writable bytes.
        unsafe {
            let link = (*l).data as *const Link;
            if link.is_null() {
                return buf;
            }
            let text = &(*link).context;
            let n = text.len().min(len);
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
            buf.add(n)
        }
    };
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(buf)
}

/// The event's connection's data: the relay that owns it (null once the connection is
/// closed).
///
/// # Safety
/// `ev` is the read or write event of a relay connection.
pub unsafe fn owner_of<T>(ev: *mut ngx_event_t) -> *mut T {
    // SAFETY: guaranteed by the caller: the event's data is its connection.
    unsafe { (*((*ev).data as *mut ngx_connection_t)).data as *mut T }
}
