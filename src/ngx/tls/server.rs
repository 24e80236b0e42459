//! The server side of `listen ... ssl`: the listening socket's handler runs a TLS handshake
//! with the server's context (non-blocking, bounded by `ssl_handshake_timeout`), then hands
//! the connection to the RTMP session as if it had just been accepted. A client that does
//! not speak TLS (plain RTMP, garbage) or never finishes is logged and closed.
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::{conn_log_context, ngx_rtmp_init_connection};
use crate::ngx::ffi::{catch, log};
use crate::ngx::ngx_rtmp_ssl_module::ssl_srv_conf;
use nginx_sys::{ngx_connection_t, ngx_ssl_t, NGX_AGAIN, NGX_LOG_INFO, NGX_OK, NGX_SSL_BUFFER};

/// The handler of an `ssl` listening socket.
pub unsafe extern "C" fn init_connection(c: *mut ngx_connection_t) {
    catch("TLS accept", (), || {
        // SAFETY: nginx hands us an accepted connection of one of our listening sockets.
        unsafe { start(c) }
    });
}

unsafe fn start(c: *mut ngx_connection_t) {
    // SAFETY: see init_connection; listening->servers is the server context listen.rs set,
    // whose ssl context conf.rs made for this `ssl` listener.
    unsafe {
        let srv = (*(*c).listening).servers as *const RtmpConfCtx;
        let conf = ssl_srv_conf(srv);
        let clog = (*c).log;
        (*clog).connection = (*c).number;
        (*clog).handler = Some(conn_log_context);
        (*clog).data = c as *mut std::ffi::c_void;
        (*clog).action = c"SSL handshaking".as_ptr() as *mut _;
        // A client's TLS errors (plain RTMP on this port, garbage) are logged at info, as
        // nginx's stream and http modules do; nginx would say crit.
        (*c).set_log_error(nginx_sys::ngx_connection_log_error_e_NGX_ERROR_INFO);
        let ssl = conf.ssl as *mut ngx_ssl_t;
        if ssl.is_null()
            || nginx_sys::ngx_ssl_create_connection(ssl, c, NGX_SSL_BUFFER as nginx_sys::ngx_uint_t)
                != NGX_OK as isize
        {
            log(clog, nginx_sys::NGX_LOG_ERR, "rtmp: cannot start TLS");
            super::close_socket(c);
            return;
        }
        let rc = nginx_sys::ngx_ssl_handshake(c);
        if rc == NGX_AGAIN as isize {
            if (*(*c).read).timer_set() == 0 {
                let ms = conf.handshake_timeout.unwrap_or(60_000);
                nginx_sys::ngx_add_timer((*c).read, ms as nginx_sys::ngx_msec_t);
            }
            (*(*c).ssl).handler = Some(handshake_done);
            return;
        }
        handshake_done(c);
    }
}

/// nginx calls this when the handshake ended (done, failed, or timed out).
unsafe extern "C" fn handshake_done(c: *mut ngx_connection_t) {
    catch("TLS handshake", (), || {
        // SAFETY: c is the accepted connection start() began the handshake on.
        unsafe {
            let clog = (*c).log;
            let rev = (*c).read;
            if (*(*c).ssl).handshaked() == 0 {
                let why = if (*rev).timedout() != 0 {
                    "timed out"
                } else {
                    // nginx logged the SSL error just before.
                    "failed"
                };
                log(
                    clog,
                    NGX_LOG_INFO,
                    &format!("rtmp: TLS handshake {why}, closing connection"),
                );
                super::close_connection(c);
                return;
            }
            if (*rev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(rev);
            }
            (*clog).action = std::ptr::null_mut();
            log(
                clog,
                NGX_LOG_INFO,
                &format!("rtmp: TLS handshake done: {}", super::io::describe(c)),
            );
            ngx_rtmp_init_connection(c);
        }
    });
}
