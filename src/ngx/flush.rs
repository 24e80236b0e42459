//! Writing an outbox to a socket with writev: the one write path of RTMP sessions (conn.rs)
//! and push relays (relay/push.rs). The queued `Bytes` are the hub's shared, pre-chunked
//! messages, written without a copy. A TLS connection writes the same slices through
//! nginx's TLS layer instead (tls/io.rs), which encrypts them.
use super::tls;
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

/// What a write to a connection achieved.
pub enum Wrote {
    /// `n` bytes of the queue were taken; more may follow at once.
    Some(usize),
    /// `n` bytes were taken, then the socket was full: wait for the write event.
    Blocked(usize),
    Err(String),
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
            if o.is_empty() && !tls::buffered(c) {
                o.wake_pending = false;
                if (*wev).timer_set() != 0 {
                    nginx_sys::ngx_del_timer(wev);
                }
                return Flush::Drained;
            }
            let wrote = match tls::send(c, o.slices(IOVECS)) {
                Some(w) => w,
                None => writev(c, o.slices(IOVECS)),
            };
            let taken = match wrote {
                Wrote::Some(n) => {
                    o.consume(n);
                    continue;
                }
                Wrote::Blocked(n) => n,
                Wrote::Err(e) => return Flush::Failed(e),
            };
            o.consume(taken);
            drop(o);
            (*wev).set_ready(0);
            nginx_sys::ngx_add_timer(wev, send_timeout);
            if nginx_sys::ngx_handle_write_event(wev, 0) != nginx_sys::NGX_OK as isize {
                return Flush::Failed("could not arm the write event".into());
            }
            return Flush::Blocked;
        }
    }
}

/// One writev of the slices on the connection's descriptor.
///
/// # Safety
/// `c` must be a live connection; the slices stay valid until the call returns.
unsafe fn writev<'a>(c: *mut ngx_connection_t, slices: impl Iterator<Item = &'a [u8]>) -> Wrote {
    let iov: Vec<libc::iovec> = slices
        .map(|s| libc::iovec {
            iov_base: s.as_ptr() as *mut _,
            iov_len: s.len(),
        })
        .collect();
    // SAFETY: the iovecs point into the slices, valid for this call (guaranteed by the caller).
    let n = unsafe { libc::writev((*c).fd, iov.as_ptr(), iov.len() as i32) };
    if n > 0 {
        return Wrote::Some(n as usize);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINTR) => Wrote::Some(0),
        Some(libc::EAGAIN) => Wrote::Blocked(0),
        _ => Wrote::Err(err.to_string()),
    }
}
