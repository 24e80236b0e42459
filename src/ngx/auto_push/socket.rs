//! The worker's unix listening sockets, one per rtmp server: where its peers relay their
//! streams in. They are not in the cycle's listening list (every worker has its own, made
//! after nginx registered the shared ones); nginx's own accept handler serves them and
//! hands each connection to the RTMP session driver, which sees an AF_UNIX peer and marks
//! the session as a relay from a peer.
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::ngx_rtmp_init_connection;
use crate::ngx::ffi::log;
use crate::ngx::relay::unix_sockaddr;
use nginx_sys::{ngx_listening_t, ngx_log_t, ngx_str_t, NGX_LOG_ERR};
use std::cell::RefCell;
use std::ffi::CString;

struct Listener {
    ls: *mut ngx_listening_t,
    path: String,
}

thread_local! {
    static LISTENERS: RefCell<Vec<Listener>> = const { RefCell::new(Vec::new()) };
}

/// Opens `paths[i]` for `servers[i]`; false (logged) if any could not be opened.
pub fn open(clog: *mut ngx_log_t, sockets: &[(String, *mut RtmpConfCtx)]) -> bool {
    let mut ok = true;
    for (path, srv) in sockets {
        // SAFETY: clog is the cycle's log; srv is a server context of the running cycle.
        match unsafe { open_one(clog, path, *srv) } {
            Ok(ls) => LISTENERS.with(|l| {
                l.borrow_mut().push(Listener {
                    ls,
                    path: path.clone(),
                })
            }),
            Err(e) => {
                log(
                    clog,
                    NGX_LOG_ERR,
                    &format!(
                        "rtmp: cannot listen on \"unix:{path}\" for relays between workers: {e}"
                    ),
                );
                ok = false;
            }
        }
    }
    ok
}

pub fn is_open() -> bool {
    LISTENERS.with(|l| !l.borrow().is_empty())
}

/// Stops taking relays: closes every socket and removes its file. Connections already
/// accepted go on.
pub fn close() {
    for l in LISTENERS.with(|l| std::mem::take(&mut *l.borrow_mut())) {
        // SAFETY: ls and its connection were made by open_one and are closed only here.
        unsafe {
            let c = (*l.ls).connection;
            if !c.is_null() {
                (*l.ls).connection = std::ptr::null_mut();
                nginx_sys::ngx_close_connection(c);
            }
        }
        let _ = std::fs::remove_file(&l.path);
    }
}

/// A leaked nginx string (listening sockets live as long as the worker).
fn leaked_str(s: String) -> ngx_str_t {
    let s = s.leak();
    ngx_str_t {
        len: s.len(),
        data: s.as_mut_ptr(),
    }
}

unsafe fn open_one(
    clog: *mut ngx_log_t,
    path: &str,
    srv: *mut RtmpConfCtx,
) -> Result<*mut ngx_listening_t, String> {
    // SAFETY: plain socket calls on a descriptor this function owns until it is handed to
    // nginx; the listening struct and address are leaked, so they outlive the connection.
    unsafe {
        let sun = unix_sockaddr(path).ok_or("the path is too long")?;
        let err = || std::io::Error::last_os_error().to_string();
        // A file left by a crashed worker whose pid came round again.
        let _ = std::fs::remove_file(path);
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(format!("socket() failed: {}", err()));
        }
        let fail = |what: &str| {
            let e = format!("{what} failed: {}", err());
            libc::close(fd);
            let _ = std::fs::remove_file(path);
            Err(e)
        };
        let socklen = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        if libc::bind(fd, &sun as *const _ as *const libc::sockaddr, socklen) < 0 {
            return fail("bind()");
        }
        // Only this nginx's workers (one user) may connect: a relay from a peer skips the
        // access rules, which the publisher passed on its own worker.
        let cpath = CString::new(path).map_err(|_| "the path has a NUL byte".to_string())?;
        if libc::chmod(cpath.as_ptr(), 0o600) < 0 {
            return fail("chmod()");
        }
        if libc::listen(fd, 511) < 0 {
            return fail("listen()");
        }
        let c = nginx_sys::ngx_get_connection(fd, clog);
        if c.is_null() {
            libc::close(fd);
            let _ = std::fs::remove_file(path);
            return Err("no free connection".into());
        }
        let ls: &mut ngx_listening_t = Box::leak(Box::new(std::mem::zeroed()));
        ls.fd = fd;
        ls.sockaddr = Box::leak(Box::new(sun)) as *mut libc::sockaddr_un as *mut _;
        ls.socklen = socklen;
        ls.type_ = libc::SOCK_STREAM;
        ls.addr_text = leaked_str(format!("unix:{path}"));
        ls.handler = Some(ngx_rtmp_init_connection);
        ls.servers = srv as *mut std::ffi::c_void;
        ls.pool_size = 512;
        ls.log = *clog;
        ls.logp = clog;
        ls.log.data = &mut ls.addr_text as *mut ngx_str_t as *mut std::ffi::c_void;
        ls.log.handler = Some(nginx_sys::ngx_accept_log_error);
        ls.set_listen(1);
        ls.connection = c;
        (*c).type_ = libc::SOCK_STREAM;
        (*c).log = &mut ls.log;
        (*c).listening = ls;
        let rev = (*c).read;
        (*rev).log = (*c).log;
        (*rev).set_accept(1);
        (*rev).handler = Some(nginx_sys::ngx_event_accept);
        // Level-triggered, as nginx registers its own listening sockets: its accept handler
        // takes one connection per event unless multi_accept is on.
        let add = nginx_sys::ngx_event_actions.add;
        let ok = add.is_some_and(|add| add(rev, READ_EVENT, 0) == nginx_sys::NGX_OK as isize);
        if !ok {
            ls.connection = std::ptr::null_mut();
            nginx_sys::ngx_close_connection(c);
            let _ = std::fs::remove_file(path);
            return Err("cannot wait for connections".into());
        }
        Ok(ls)
    }
}

/// nginx's NGX_READ_EVENT for the event method Linux builds use (epoll): the value its
/// headers give at compile time, which the bindings do not carry.
const READ_EVENT: nginx_sys::ngx_int_t = (libc::EPOLLIN | libc::EPOLLRDHUP) as nginx_sys::ngx_int_t;
