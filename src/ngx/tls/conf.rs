//! The OpenSSL contexts of a configuration, made once rtmp{} is merged: a server context for
//! each server with a `listen ... ssl`, and the relay client contexts of the applications
//! (shared between applications whose `rtmp_relay_ssl_*` settings are the same). Each is an
//! `ngx_ssl_t` in the cycle pool, freed with it (`ngx_ssl_cleanup_ctx`).
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::ffi::{log, pool_str};
use crate::ngx::ngx_rtmp_core_module::{core_main_conf, core_srv_conf};
use crate::ngx::ngx_rtmp_ssl_module::{
    ngx_rtmp_ssl_module, relay_ssl_conf, ssl_main_conf, ssl_srv_conf, ClientKey, SslSrvConf,
};
use nginx_sys::{ngx_array_t, ngx_conf_t, ngx_int_t, ngx_ssl_t, ngx_str_t, NGX_LOG_EMERG, NGX_OK};
use ngx_rtmp_core::config::tls::{self as settings, Builtin, DEFAULT_TRUSTED_CERTIFICATE};
use std::ffi::c_void;
use std::ptr::{addr_of_mut, null_mut};

// The protocol masks the core parses are nginx's own.
const _: () = assert!(
    settings::SSLV2 == nginx_sys::NGX_SSL_SSLv2
        && settings::SSLV3 == nginx_sys::NGX_SSL_SSLv3
        && settings::TLSV1 == nginx_sys::NGX_SSL_TLSv1
        && settings::TLSV1_1 == nginx_sys::NGX_SSL_TLSv1_1
        && settings::TLSV1_2 == nginx_sys::NGX_SSL_TLSv1_2
        && settings::TLSV1_3 == nginx_sys::NGX_SSL_TLSv1_3
);

/// The session id context of RTMP servers' session caches.
static mut SESSION_CONTEXT: ngx_str_t = ngx_str_t {
    len: 4,
    data: c"RTMP".as_ptr() as *mut u8,
};

/// Makes every context the merged rtmp{} block `ctx` needs. False when nginx was told why.
pub fn init(cf: *mut ngx_conf_t, ctx: &RtmpConfCtx) -> bool {
    // SAFETY: ctx is the merged rtmp{} context of the cycle being configured.
    let cmcf = unsafe { core_main_conf(ctx) };
    for l in cmcf.listens.iter().filter(|l| l.opts.ssl) {
        // SAFETY: listen specs carry the server context they were declared in.
        let sscf = unsafe { ssl_srv_conf(l.srv_ctx) };
        if sscf.ssl != 0 {
            continue;
        }
        if sscf.certificates.is_empty() {
            emerg(
                cf,
                &format!(
                    "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in {}",
                    l.conf_at
                ),
            );
            return false;
        }
        match server_context(cf, sscf) {
            Some(ssl) => sscf.ssl = ssl as usize,
            None => return false,
        }
    }
    for &srv in &cmcf.servers {
        // SAFETY: server contexts were made by new_level; their applications too.
        for app in unsafe { &core_srv_conf(srv).applications } {
            // SAFETY: as above.
            let rscf = unsafe { relay_ssl_conf(app.ctx) };
            let key = rscf.key();
            // SAFETY: ctx's main conf is this module's.
            let registry = unsafe { &mut ssl_main_conf(ctx).clients };
            if let Some((_, ssl)) = registry.iter().find(|(k, _)| *k == key) {
                rscf.ssl = *ssl;
                continue;
            }
            let Some(ssl) = client_context(cf, &key) else {
                return false;
            };
            registry.push((key, ssl as usize));
            rscf.ssl = ssl as usize;
        }
    }
    true
}

/// Logs at `emerg` without the file and line of the parser's position (the message names
/// the place it is about), as nginx's stream module does for this error.
fn emerg(cf: *mut ngx_conf_t, msg: &str) {
    // SAFETY: cf->log is the configuration's log.
    log(unsafe { (*cf).log }, NGX_LOG_EMERG, msg);
}

/// A new `ngx_ssl_t` in the cycle pool with an OpenSSL context for `protocols`, freed with
/// the pool.
fn new_context(cf: *mut ngx_conf_t, protocols: u32) -> Option<*mut ngx_ssl_t> {
    // SAFETY: cf is the live configuration; the pool outlives the context, whose cleanup it
    // runs.
    unsafe {
        let pool = (*cf).pool;
        let ssl = nginx_sys::ngx_pcalloc(pool, size_of::<ngx_ssl_t>()) as *mut ngx_ssl_t;
        if ssl.is_null() {
            return None;
        }
        (*ssl).log = (*cf).log;
        if nginx_sys::ngx_ssl_create(ssl, protocols as nginx_sys::ngx_uint_t, null_mut())
            != NGX_OK as ngx_int_t
        {
            return None;
        }
        let cln = nginx_sys::ngx_pool_cleanup_add(pool, 0);
        if cln.is_null() {
            nginx_sys::ngx_ssl_cleanup_ctx(ssl as *mut c_void);
            return None;
        }
        (*cln).handler = Some(nginx_sys::ngx_ssl_cleanup_ctx);
        (*cln).data = ssl as *mut c_void;
        Some(ssl)
    }
}

/// An nginx array of pool strings, as ngx_ssl_certificates takes them.
fn str_array(cf: *mut ngx_conf_t, items: &[String]) -> Option<*mut ngx_array_t> {
    // SAFETY: the array and its strings are allocated in the configuration's pool.
    unsafe {
        let pool = (*cf).pool;
        let arr = nginx_sys::ngx_array_create(pool, items.len().max(1), size_of::<ngx_str_t>());
        if arr.is_null() {
            return None;
        }
        for s in items {
            let slot = nginx_sys::ngx_array_push(arr) as *mut ngx_str_t;
            if slot.is_null() {
                return None;
            }
            *slot = pool_str(pool, s);
        }
        Some(arr)
    }
}

/// The server context of `listen ... ssl`: certificates, ciphers, curves, session cache.
/// nginx's functions log what fails (`cannot load certificate ...`).
fn server_context(cf: *mut ngx_conf_t, c: &SslSrvConf) -> Option<*mut ngx_ssl_t> {
    let ssl = new_context(cf, c.protocols.unwrap_or(settings::DEFAULT_PROTOCOLS))?;
    let certs = str_array(cf, &c.certificates)?;
    let keys = str_array(cf, &c.certificate_keys)?;
    // SAFETY: cf is the live configuration; ssl was just made; the strings are pool copies
    // (nginx rewrites them into full paths in place).
    unsafe {
        let pool = (*cf).pool;
        let ok = |rc: ngx_int_t| rc == NGX_OK as ngx_int_t;
        if !ok(nginx_sys::ngx_ssl_certificates(
            cf,
            ssl,
            certs,
            keys,
            null_mut(),
        )) {
            return None;
        }
        let mut ciphers = pool_str(pool, c.ciphers.as_deref().unwrap_or_default());
        let prefer = c.prefer_server_ciphers.unwrap_or(false) as nginx_sys::ngx_uint_t;
        if !ok(nginx_sys::ngx_ssl_ciphers(cf, ssl, &mut ciphers, prefer)) {
            return None;
        }
        let mut dhparam = pool_str(pool, c.dhparam.as_deref().unwrap_or_default());
        if !ok(nginx_sys::ngx_ssl_dhparam(cf, ssl, &mut dhparam)) {
            return None;
        }
        let mut curve = pool_str(pool, c.ecdh_curve.as_deref().unwrap_or("auto"));
        if !ok(nginx_sys::ngx_ssl_ecdh_curve(cf, ssl, &mut curve)) {
            return None;
        }
        let cache = c.session_cache.clone().unwrap_or_default();
        let builtin = match cache.builtin {
            Builtin::Off => nginx_sys::NGX_SSL_NO_SCACHE as isize,
            Builtin::None => nginx_sys::NGX_SSL_NONE_SCACHE as isize,
            Builtin::Default => nginx_sys::NGX_SSL_DFLT_BUILTIN_SCACHE as isize,
            Builtin::Size(n) => n.min(isize::MAX as u64) as isize,
            Builtin::Unused => nginx_sys::NGX_SSL_NO_BUILTIN_SCACHE as isize,
        };
        let zone = match &cache.shared {
            None => null_mut(),
            Some((name, size)) => {
                let mut name = pool_str(pool, name);
                let zone = nginx_sys::ngx_shared_memory_add(
                    cf,
                    &mut name,
                    *size as usize,
                    addr_of_mut!(ngx_rtmp_ssl_module) as *mut c_void,
                );
                if zone.is_null() {
                    return None;
                }
                (*zone).init = Some(nginx_sys::ngx_ssl_session_cache_init);
                zone
            }
        };
        let timeout = c
            .session_timeout
            .unwrap_or(settings::DEFAULT_SESSION_TIMEOUT_SECS);
        if !ok(nginx_sys::ngx_ssl_session_cache(
            ssl,
            addr_of_mut!(SESSION_CONTEXT),
            certs,
            builtin,
            zone,
            timeout as nginx_sys::time_t,
        )) {
            return None;
        }
    }
    Some(ssl)
}

/// A relay client context: protocols, ciphers and, when verification is on, the trusted
/// certificates and the chain depth.
fn client_context(cf: *mut ngx_conf_t, k: &ClientKey) -> Option<*mut ngx_ssl_t> {
    let ssl = new_context(cf, k.protocols)?;
    // SAFETY: cf is the live configuration; ssl was just made.
    unsafe {
        let pool = (*cf).pool;
        let ok = |rc: ngx_int_t| rc == NGX_OK as ngx_int_t;
        let mut ciphers = pool_str(pool, &k.ciphers);
        if !ok(nginx_sys::ngx_ssl_ciphers(cf, ssl, &mut ciphers, 0)) {
            return None;
        }
        if !k.verify {
            return Some(ssl);
        }
        let depth = k.verify_depth.min(i32::MAX as u64) as ngx_int_t;
        let default_missing = k.trusted_certificate == DEFAULT_TRUSTED_CERTIFICATE
            && !std::path::Path::new(DEFAULT_TRUSTED_CERTIFICATE).exists();
        if default_missing {
            // Not Debian's layout: OpenSSL's own default CA locations.
            let mut none = pool_str(pool, "");
            if !ok(nginx_sys::ngx_ssl_trusted_certificate(
                cf, ssl, &mut none, depth,
            )) || nginx_sys::SSL_CTX_set_default_verify_paths((*ssl).ctx) != 1
            {
                return None;
            }
            return Some(ssl);
        }
        let mut file = pool_str(pool, &k.trusted_certificate);
        if !ok(nginx_sys::ngx_ssl_trusted_certificate(
            cf, ssl, &mut file, depth,
        )) {
            return None;
        }
    }
    Some(ssl)
}
