//! RTMPS through nginx's own OpenSSL layer (`ngx_ssl_*`): the server side of `listen ... ssl`
//! (server.rs), the client side of `push rtmps://` (client.rs), the contexts both are made
//! from (conf.rs) and the encrypted write and the close (io.rs). Once a handshake is done,
//! nginx's `c->recv` reads through TLS, so the session code never knows; writes and closes
//! come here.
//!
//! Compiled only when nginx was built with OpenSSL (`NGX_OPENSSL`, nginx-sys feature `ssl`);
//! without it (disabled.rs), `listen ... ssl` and `rtmps://` are configuration errors.
#[cfg(ngx_feature = "ssl")]
pub mod client;
#[cfg(ngx_feature = "ssl")]
mod conf;
#[cfg(not(ngx_feature = "ssl"))]
mod disabled;
#[cfg(ngx_feature = "ssl")]
mod io;
#[cfg(ngx_feature = "ssl")]
pub mod server;

#[cfg(ngx_feature = "ssl")]
pub use client::ClientTls;
#[cfg(ngx_feature = "ssl")]
pub use conf::init;
#[cfg(not(ngx_feature = "ssl"))]
pub use disabled::*;
#[cfg(ngx_feature = "ssl")]
pub use io::{buffered, close_connection, send};

/// Whether this nginx can speak TLS.
pub const AVAILABLE: bool = cfg!(ngx_feature = "ssl");

/// The configuration error for `listen ... ssl` or `rtmps://` in an nginx without OpenSSL.
pub fn unavailable(what: &str) -> String {
    format!("{what} requires nginx built with OpenSSL")
}

/// Closes an nginx connection without a word and frees its pool.
///
/// # Safety
/// `c` must be an open connection that nothing uses afterwards.
pub unsafe fn close_socket(c: *mut nginx_sys::ngx_connection_t) {
    // SAFETY: c is open; its pool (if any) is freed after the connection that uses it.
    unsafe {
        let pool = (*c).pool;
        nginx_sys::ngx_close_connection(c);
        if !pool.is_null() {
            nginx_sys::ngx_destroy_pool(pool);
        }
    }
}
