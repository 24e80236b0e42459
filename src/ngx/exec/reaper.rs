//! Learning that our children exited, before nginx does.
//!
//! nginx's SIGCHLD handler in a worker reaps every child with `waitpid(-1)` and logs each
//! as an "unknown process": at `alert` ("exited on signal 9") for every exec child killed
//! with its stream, and every delivery interrupts the event loop (an `epoll_wait() failed`
//! line). So once the worker has children, SIGCHLD is blocked in it and read from a
//! signalfd, an ordinary nginx read event: the event loop reaps the pids it spawned with
//! their status, which the exec code logs and acts on, and hands nginx's own handler any
//! other child that waits to be reaped.
//!
//! The signalfd is an nginx connection marked idle, so it also hears when the worker starts
//! shutting down (nginx closes idle connections then).
use super::super::ffi::{catch, log};
use nginx_sys::{ngx_connection_t, ngx_event_t, NGX_LOG_ALERT};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::ffi::{c_int, c_void};

/// The status of a child someone else reaped (we cannot know how it ended).
pub const STATUS_UNKNOWN: i32 = -1;

/// What the event loop does with exits and with the start of a shutdown.
pub struct Hooks {
    pub exited: fn(pid: i32, status: i32),
    pub shutting_down: fn(),
}

thread_local! {
    static CONN: Cell<*mut ngx_connection_t> = const { Cell::new(std::ptr::null_mut()) };
    static HOOKS: Cell<Option<&'static Hooks>> = const { Cell::new(None) };
    /// Children spawned and not reaped yet.
    static TRACKED: RefCell<BTreeSet<i32>> = const { RefCell::new(BTreeSet::new()) };
    /// nginx's SIGCHLD handler and its sa_flags, for the children that are not ours.
    static NGINX_HANDLER: Cell<(usize, c_int)> = const { Cell::new((0, 0)) };
}

fn sigchld_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data filled by sigemptyset/sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        set
    }
}

/// Starts watching the worker's children (once); false (logged) when it cannot, and then
/// nothing is spawned.
pub fn ensure(hooks: &'static Hooks) -> bool {
    if !CONN.with(Cell::get).is_null() {
        return true;
    }
    // SAFETY: ngx_cycle is the running cycle; its log is valid.
    let clog = unsafe { (*nginx_sys::ngx_cycle).log };
    let set = sigchld_set();
    // SAFETY: blocking a signal in the worker's (only event) thread; nginx's thread-pool
    // threads block every signal already, so SIGCHLD stays pending for the signalfd.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    // SAFETY: set is a valid signal set.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: undoes the block above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        log(
            clog,
            NGX_LOG_ALERT,
            &format!("exec: signalfd() failed: {e}"),
        );
        return false;
    }
    // SAFETY: ngx_get_connection takes the descriptor; the connection is ours until closed.
    let c = unsafe { nginx_sys::ngx_get_connection(fd, clog) };
    if c.is_null() {
        // SAFETY: fd is ours; the mask goes back to what nginx expects.
        unsafe {
            libc::close(fd);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        log(
            clog,
            NGX_LOG_ALERT,
            "exec: no free connection to watch children",
        );
        return false;
    }
    // SAFETY: c is a fresh connection with its read and write events; nginx leaves their
    // log unset (ngx_event_accept sets it for accepted ones).
    unsafe {
        (*(*c).read).log = clog;
        (*(*c).write).log = clog;
        (*(*c).read).handler = Some(on_wake);
        (*(*c).write).handler = Some(on_wake);
        // Idle: nginx "closes" it when the worker starts shutting down, which we want to hear.
        (*c).set_idle(1);
        if nginx_sys::ngx_handle_read_event((*c).read, 0) != nginx_sys::NGX_OK as isize {
            nginx_sys::ngx_close_connection(c);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            log(clog, NGX_LOG_ALERT, "exec: cannot watch children");
            return false;
        }
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old);
        NGINX_HANDLER.with(|h| h.set((old.sa_sigaction, old.sa_flags)));
    }
    HOOKS.with(|h| h.set(Some(hooks)));
    CONN.with(|cell| cell.set(c));
    true
}

/// Tracks a child just spawned.
pub fn track(pid: i32) {
    TRACKED.with(|t| t.borrow_mut().insert(pid));
}

/// Whether `pid` is ours and not reaped: until then its pid cannot be reused. Reaping
/// happens only in this thread's event handler.
pub fn unreaped(pid: i32) -> bool {
    TRACKED.with(|t| t.borrow().contains(&pid))
}

/// Stops watching (worker exit). SIGCHLD stays blocked: the worker is about to exit.
pub fn close() {
    let c = CONN.with(|cell| cell.replace(std::ptr::null_mut()));
    if !c.is_null() {
        // SAFETY: c is the connection ensure() made.
        unsafe { nginx_sys::ngx_close_connection(c) };
    }
}

/// Our children that have exited, with their wait status.
fn reap() -> Vec<(i32, i32)> {
    let pids: Vec<i32> = TRACKED.with(|t| t.borrow().iter().copied().collect());
    let mut out = Vec::new();
    for pid in pids {
        let mut status: c_int = 0;
        // SAFETY: waitpid with WNOHANG on a pid we spawned; status is a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        let err = std::io::Error::last_os_error().raw_os_error();
        if r == pid || (r == -1 && err == Some(libc::ECHILD)) {
            TRACKED.with(|t| t.borrow_mut().remove(&pid));
            out.push((pid, if r == pid { status } else { STATUS_UNKNOWN }));
        }
    }
    out
}

/// Hands nginx's own handler the children that are not ours, if any has exited (WNOWAIT
/// only looks).
fn reap_others() {
    // SAFETY: an all-zero siginfo_t is a valid out-parameter; waitid only writes to it.
    let waiting = unsafe {
        let mut si: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(
            libc::P_ALL,
            0,
            &mut si,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        ) == 0
            && si.si_pid() != 0
    };
    if !waiting {
        return;
    }
    let (h, flags) = NGINX_HANDLER.with(Cell::get);
    if h == libc::SIG_DFL || h == libc::SIG_IGN || h == 0 {
        return;
    }
    // SAFETY: h is the handler nginx installed for SIGCHLD, of the shape its flags say;
    // nginx's handler accepts a null siginfo (it only reads it when set).
    unsafe {
        if flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) = std::mem::transmute(h);
            f(libc::SIGCHLD, std::ptr::null_mut(), std::ptr::null_mut());
        } else {
            let f: extern "C" fn(c_int) = std::mem::transmute(h);
            f(libc::SIGCHLD);
        }
    }
}

unsafe extern "C" fn on_wake(ev: *mut ngx_event_t) {
    catch("exec child watch", (), || {
        // SAFETY: the events of the watch connection carry it in data.
        let c = unsafe { (*ev).data as *mut ngx_connection_t };
        let Some(hooks) = HOOKS.with(Cell::get) else {
            return;
        };
        // SAFETY: c is the live watch connection (close() clears CONN before freeing it).
        unsafe {
            if (*c).close() != 0 {
                (*c).set_close(0);
                (*c).set_idle(0);
                (hooks.shutting_down)();
            }
            // Edge-triggered: drain every queued signal record.
            let mut buf = [0u8; 8 * std::mem::size_of::<libc::signalfd_siginfo>()];
            while libc::read((*c).fd, buf.as_mut_ptr() as *mut c_void, buf.len()) > 0 {}
        }
        for (pid, status) in reap() {
            (hooks.exited)(pid, status);
        }
        reap_others();
        // SAFETY: as above; the descriptor stays registered.
        unsafe {
            if !CONN.with(Cell::get).is_null() {
                nginx_sys::ngx_handle_read_event((*c).read, 0);
            }
        }
    });
}
