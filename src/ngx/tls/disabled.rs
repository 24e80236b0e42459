//! The TLS hooks of an nginx built without OpenSSL: plain connections only. The
//! configuration refuses `listen ... ssl` and `rtmps://` (see `super::unavailable`), so
//! nothing here ever meets a TLS connection.
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::flush::Wrote;
use nginx_sys::{ngx_conf_t, ngx_connection_t};

/// Nothing to make.
pub fn init(_cf: *mut ngx_conf_t, _ctx: &RtmpConfCtx) -> bool {
    true
}

/// A relay's TLS settings: none without OpenSSL.
#[derive(Debug, Clone, Copy)]
pub struct ClientTls;

impl ClientTls {
    pub fn of(_app: &RtmpConfCtx) -> ClientTls {
        ClientTls
    }

    /// # Safety
    /// None: nothing is touched.
    pub unsafe fn handshake(
        &self,
        _c: *mut ngx_connection_t,
        _host: &str,
        _done: nginx_sys::ngx_connection_handler_pt,
    ) -> Result<bool, String> {
        Err(super::unavailable("rtmps://"))
    }

    /// # Safety
    /// None: nothing is touched.
    pub unsafe fn finish(&self, _c: *mut ngx_connection_t) -> Result<String, String> {
        Err(super::unavailable("rtmps://"))
    }
}

pub use super::close_socket as close_connection;

/// Plain connections are written by the caller.
///
/// # Safety
/// None: nothing is touched.
pub unsafe fn send<'a>(
    _c: *mut ngx_connection_t,
    _slices: impl Iterator<Item = &'a [u8]>,
) -> Option<Wrote> {
    None
}

/// # Safety
/// None: nothing is touched.
pub unsafe fn buffered(_c: *mut ngx_connection_t) -> bool {
    false
}
