//! Writing an outbox through TLS and closing a TLS connection.
//!
//! The write hands nginx's `ngx_ssl_send_chain` a chain of buffers that point into the
//! outbox's own `Bytes` (no copy on our side). The connection is made with `NGX_SSL_BUFFER`,
//! so nginx gathers small messages into 16 KB records (one SSL_write and one syscall for many
//! audio frames) in its own buffer: bytes moved there count as written, and the connection is
//! drained only once that buffer is empty too.
use super::close_socket;
use crate::ngx::flush::Wrote;
use nginx_sys::{ngx_buf_t, ngx_chain_t, ngx_connection_t, NGX_AGAIN, NGX_SSL_BUFFERED};
use std::mem::MaybeUninit;
use std::ptr::null_mut;

/// Buffers per call, as flush.rs's iovecs.
const BUFS: usize = 64;

/// Writes `slices` through TLS if `c` speaks it; None for a plain connection.
///
/// # Safety
/// `c` must be a live connection; the slices stay valid until the call returns.
pub unsafe fn send<'a>(
    c: *mut ngx_connection_t,
    slices: impl Iterator<Item = &'a [u8]>,
) -> Option<Wrote> {
    // SAFETY: guaranteed by the caller.
    if unsafe { (*c).ssl.is_null() } {
        return None;
    }
    // SAFETY: all-zero is an empty nginx buffer and chain link.
    let mut bufs: [ngx_buf_t; BUFS] = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: as above.
    let mut links: [ngx_chain_t; BUFS] = unsafe { MaybeUninit::zeroed().assume_init() };
    let mut n = 0;
    for s in slices.take(BUFS) {
        let b = &mut bufs[n];
        // nginx reads these in-memory buffers and only moves `pos`.
        b.start = s.as_ptr() as *mut u8;
        b.pos = b.start;
        // SAFETY: one past the end of the slice.
        b.last = unsafe { b.start.add(s.len()) };
        b.end = b.last;
        b.set_memory(1);
        n += 1;
    }
    let head = if n == 0 {
        // Nothing queued: write out what nginx's TLS buffer still holds.
        null_mut()
    } else {
        // Without `flush` nginx keeps a short tail in its buffer waiting for more.
        bufs[n - 1].set_flush(1);
        let (bp, lp) = (bufs.as_mut_ptr(), links.as_mut_ptr());
        // SAFETY: i < n <= BUFS: every pointer is into the two arrays, which outlive the call.
        unsafe {
            for i in 0..n {
                (*lp.add(i)).buf = bp.add(i);
                (*lp.add(i)).next = if i + 1 < n { lp.add(i + 1) } else { null_mut() };
            }
        }
        lp
    };
    // SAFETY: c speaks TLS; the chain and its buffers live on this stack frame.
    let rest = unsafe { nginx_sys::ngx_ssl_send_chain(c, head, 0) };
    // NGX_CHAIN_ERROR is (ngx_chain_t *) NGX_ERROR.
    if rest as isize == nginx_sys::NGX_ERROR as isize {
        // nginx has logged the SSL error.
        return Some(Wrote::Err("SSL_write() failed".into()));
    }
    let taken: usize = bufs[..n]
        .iter()
        // SAFETY: nginx only advances pos within [start, last].
        .map(|b| unsafe { b.pos.offset_from(b.start) } as usize)
        .sum();
    // SAFETY: c is live.
    let blocked = !rest.is_null() || unsafe { buffered(c) };
    Some(if blocked {
        Wrote::Blocked(taken)
    } else {
        Wrote::Some(taken)
    })
}

/// Whether nginx's TLS buffer of `c` holds bytes the socket has not taken.
///
/// # Safety
/// `c` must be a live connection.
pub unsafe fn buffered(c: *mut ngx_connection_t) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe { !(*c).ssl.is_null() && (*c).buffered() & NGX_SSL_BUFFERED != 0 }
}

/// Closes an nginx connection and frees its pool; a TLS connection first sends its
/// close_notify without waiting for the peer's. If the socket cannot take that now, nginx
/// finishes it (3 s at most) and then `closed` closes.
///
/// # Safety
/// `c` must be an open connection whose `data` no longer points at anything that may be
/// freed meanwhile (callers clear it first).
pub unsafe fn close_connection(c: *mut ngx_connection_t) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let ssl = (*c).ssl;
        if !ssl.is_null() {
            (*ssl).set_no_wait_shutdown(1);
            if nginx_sys::ngx_ssl_shutdown(c) == NGX_AGAIN as isize {
                (*(*c).ssl).handler = Some(closed);
                return;
            }
        }
        close_socket(c);
    }
}

unsafe extern "C" fn closed(c: *mut ngx_connection_t) {
    crate::ngx::ffi::catch("TLS shutdown", (), || {
        // SAFETY: nginx calls this once the shutdown of the open connection c is over.
        unsafe { close_socket(c) }
    });
}

/// The protocol and cipher of a TLS connection after its handshake, for log lines.
///
/// # Safety
/// `c` must be a live connection that has done its TLS handshake.
pub unsafe fn describe(c: *mut ngx_connection_t) -> String {
    // SAFETY: guaranteed by the caller; OpenSSL returns static strings.
    unsafe {
        let ssl = (*(*c).ssl).connection;
        let cipher = nginx_sys::SSL_get_current_cipher(ssl);
        let cipher = if cipher.is_null() {
            String::new()
        } else {
            text(nginx_sys::SSL_CIPHER_get_name(cipher))
        };
        format!("{} {cipher}", text(nginx_sys::SSL_get_version(ssl)))
    }
}

/// A static C string of OpenSSL's.
pub fn text(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: OpenSSL's names and messages are static NUL-terminated strings.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}
