//! Writing an outbox to a socket with writev: the one write path of RTMP sessions (conn.rs)
//! and push relays (relay/push.rs). The queued `Bytes` are the hub's shared, pre-chunked
//! messages, written without a copy.
//!
//! RTMPS will add a branch here: a TLS connection (`c->ssl`) must write through nginx's
//! `c->send_chain`, which encrypts, instead of writev on the raw descriptor.
use nginx_sys::{ngx_connection_t, ngx_msec_t};
use ngx_rtmp_core::hub::SharedOutbox;

/// iovecs per writev call; the kernel takes at most IOV_MAX (1024), nginx uses 64 too.
const IOVECS: usize = 64;

pub enum Flush {
    /// Everything queued is written; the send timer is off.
    Drained,
    /// The socket is full: the write event is armed, with a `send_timeout` timer.
    Blocked,
    /// The outbox wants the connection closed (a peer too slow to keep up).
    Fatal(&'static str),
    /// The socket refused the bytes or the write event could not be armed.
    Failed(String),
}

/// Writes as much of `outbox` as the socket of `c` takes.
///
/// # Safety
/// `c` must be a live, connected nginx connection.
pub unsafe fn flush_outbox(
    c: *mut ngx_connection_t,
    outbox: &SharedOutbox,
    send_timeout: ngx_msec_t,
) -> Flush {
    // SAFETY: guaranteed by the caller; the iovecs point into Bytes the outbox keeps alive
    // until consume(), which runs after writev returns.
    unsafe {
        let wev = (*c).write;
        let mut o = outbox.borrow_mut();
        loop {
            if let Some(why) = o.fatal {
                return Flush::Fatal(why);
            }
            if o.is_empty() {
                o.wake_pending = false;
                if (*wev).timer_set() != 0 {
                    nginx_sys::ngx_del_timer(wev);
                }
                return Flush::Drained;
            }
            let iov: Vec<libc::iovec> = o
                .slices(IOVECS)
                .map(|s| libc::iovec {
                    iov_base: s.as_ptr() as *mut _,
                    iov_len: s.len(),
                })
                .collect();
            let n = libc::writev((*c).fd, iov.as_ptr(), iov.len() as i32);
            if n > 0 {
                o.consume(n as usize);
                continue;
            }
            let err = std::io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => {
                    drop(o);
                    (*wev).set_ready(0);
                    nginx_sys::ngx_add_timer(wev, send_timeout);
                    if nginx_sys::ngx_handle_write_event(wev, 0) != nginx_sys::NGX_OK as isize {
                        return Flush::Failed("could not arm the write event".into());
                    }
                    return Flush::Blocked;
                }
                _ => return Flush::Failed(err.to_string()),
            }
        }
    }
}
