//! The client side of `push rtmps://`: once the TCP connection is up, a TLS handshake through
//! nginx (`ngx_ssl_create_connection` + `ngx_ssl_handshake`) with SNI and a certificate check,
//! then the relay speaks RTMP as over plain TCP.
//!
//! The certificate is checked the way nginx's proxy does it: OpenSSL verifies the chain
//! against the application's trusted certificates during the handshake but does not abort it
//! (nginx's verify callback lets it finish); afterwards `SSL_get_verify_result` says whether
//! the chain and the name were good. The name (the URL's host, or `rtmp_relay_ssl_name`) is
//! given to OpenSSL before the handshake, as a host name or an IP address.
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::ngx_rtmp_ssl_module::relay_ssl_conf;
use nginx_sys::{
    ngx_connection_handler_pt, ngx_connection_t, ngx_ssl_t, TLSEXT_NAMETYPE_host_name, NGX_AGAIN,
    NGX_OK, NGX_SSL_BUFFER, NGX_SSL_CLIENT, SSL_CTRL_SET_TLSEXT_HOSTNAME, X509_V_OK,
};
use ngx_rtmp_core::config::tls::sni_name;
use std::ffi::CString;
use std::net::IpAddr;

/// How an application's relays speak TLS (from its `rtmp_relay_ssl_*` settings).
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// The OpenSSL client context (an `ngx_ssl_t` of the cycle).
    ssl: *mut ngx_ssl_t,
    verify: bool,
    server_name: bool,
    /// `rtmp_relay_ssl_name`, else the URL's host.
    name: Option<String>,
}

impl ClientTls {
    /// The settings of the application `app` (merged, its context made by conf.rs).
    pub fn of(app: &RtmpConfCtx) -> ClientTls {
        // SAFETY: app is an application context of the running cycle.
        let conf = unsafe { relay_ssl_conf(app) };
        ClientTls {
            ssl: conf.ssl as *mut ngx_ssl_t,
            verify: conf.verify.unwrap_or(true),
            server_name: conf.server_name.unwrap_or(true),
            name: conf.name.clone(),
        }
    }

    /// Starts the handshake on the connected `c` to `host`. Ok(true): done already; Ok(false):
    /// nginx calls `done(c)` when it is over (or failed, or timed out on `c`'s timers).
    ///
    /// # Safety
    /// `c` must be a connected nginx connection with a pool, not yet speaking TLS.
    pub unsafe fn handshake(
        &self,
        c: *mut ngx_connection_t,
        host: &str,
        done: ngx_connection_handler_pt,
    ) -> Result<bool, String> {
        if self.ssl.is_null() {
            return Err("no TLS context for this application".into());
        }
        let name = self.name.as_deref().unwrap_or(host);
        // SAFETY: c is connected (guaranteed by the caller); ngx_ssl_create_connection
        // allocates in c->pool and sets c->ssl; the SSL object copies the names it is given.
        unsafe {
            let flags = (NGX_SSL_BUFFER | NGX_SSL_CLIENT) as nginx_sys::ngx_uint_t;
            if nginx_sys::ngx_ssl_create_connection(self.ssl, c, flags) != NGX_OK as isize {
                return Err("cannot create the TLS connection".into());
            }
            let ssl = (*(*c).ssl).connection;
            if self.server_name {
                if let Some(sni) = sni_name(name).and_then(|n| CString::new(n).ok()) {
                    // SSL_set_tlsext_host_name is this SSL_ctrl (a macro in OpenSSL's header).
                    nginx_sys::SSL_ctrl(
                        ssl,
                        SSL_CTRL_SET_TLSEXT_HOSTNAME as i32,
                        TLSEXT_NAMETYPE_host_name as libc::c_long,
                        sni.as_ptr() as *mut libc::c_void,
                    );
                }
            }
            if self.verify && !expect_name(ssl, name) {
                return Err(format!("cannot check the certificate for \"{name}\""));
            }
            match nginx_sys::ngx_ssl_handshake(c) {
                rc if rc == NGX_OK as isize => Ok(true),
                rc if rc == NGX_AGAIN as isize => {
                    (*(*c).ssl).handler = done;
                    Ok(false)
                }
                // nginx has logged the SSL error.
                _ => Err("TLS handshake failed".into()),
            }
        }
    }

    /// After the handshake: Ok with the protocol and cipher, or why the connection must not
    /// be used (failed, timed out, an untrusted or mismatched certificate).
    ///
    /// # Safety
    /// `c` must be the connection `handshake` started on.
    pub unsafe fn finish(&self, c: *mut ngx_connection_t) -> Result<String, String> {
        // SAFETY: c speaks TLS (handshake made c->ssl).
        unsafe {
            let sc = (*c).ssl;
            if sc.is_null() || (*sc).handshaked() == 0 {
                if (*(*c).read).timedout() != 0 || (*(*c).write).timedout() != 0 {
                    return Err("TLS handshake timed out".into());
                }
                return Err("TLS handshake failed".into());
            }
            let ssl = (*sc).connection;
            if self.verify {
                let rc = nginx_sys::SSL_get_verify_result(ssl);
                if rc != X509_V_OK as libc::c_long {
                    let why = super::io::text(nginx_sys::X509_verify_cert_error_string(rc));
                    return Err(format!("certificate verify failed: {why} ({rc})"));
                }
            }
            let verified = if self.verify {
                "certificate verified"
            } else {
                "certificate not verified (rtmp_relay_ssl_verify off)"
            };
            Ok(format!("{}, {verified}", super::io::describe(c)))
        }
    }
}

/// Tells OpenSSL which name the certificate must carry: a DNS name, or an IP address for an
/// IP literal (which X509_check_host would never match).
///
/// # Safety
/// `ssl` must be a live SSL object before its handshake.
unsafe fn expect_name(ssl: *mut nginx_sys::SSL, name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    let Ok(text) = CString::new(bare) else {
        return false;
    };
    // SAFETY: the parameters belong to ssl; OpenSSL copies the name.
    unsafe {
        let param = nginx_sys::SSL_get0_param(ssl);
        if bare.parse::<IpAddr>().is_ok() {
            nginx_sys::X509_VERIFY_PARAM_set1_ip_asc(param, text.as_ptr()) == 1
        } else {
            nginx_sys::X509_VERIFY_PARAM_set1_host(param, text.as_ptr(), bare.len()) == 1
        }
    }
}
