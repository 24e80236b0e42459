//! What every outbound connection (push relays, hook calls) needs around
//! `ngx_event_connect_peer`: a balancer that hands back the peer set before the call, and the
//! outcome of a non-blocking connect.
use nginx_sys::{ngx_int_t, ngx_peer_connection_t};

/// nginx asks the balancer for a peer; ours is set in the peer connection before the call.
pub unsafe extern "C" fn fixed_peer(
    _pc: *mut ngx_peer_connection_t,
    _data: *mut std::ffi::c_void,
) -> ngx_int_t {
    let ok = nginx_sys::NGX_OK as ngx_int_t;
    super::ffi::catch("get_peer", ok, || ok)
}

/// The outcome of a non-blocking connect (SO_ERROR), once the socket is writable.
pub fn connect_error(fd: libc::c_int) -> Option<std::io::Error> {
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
