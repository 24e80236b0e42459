//! `listen` addresses and the nginx listening sockets made from them.
use super::conf::RtmpConfCtx;
use super::conn::ngx_rtmp_init_connection;
#[cfg(ngx_feature = "ssl")]
use super::tls::server::init_connection as tls_init_connection;
// Without OpenSSL an `ssl` listen is a configuration error: no socket ever takes this.
#[cfg(not(ngx_feature = "ssl"))]
use super::conn::ngx_rtmp_init_connection as tls_init_connection;
use super::ffi::{conf_args, conf_emerg, ngx_str, pool_str};
use super::ngx_rtmp_core_module::{core_main_conf, CoreMainConf};
use nginx_sys::{ngx_conf_t, ngx_sockaddr_t, ngx_url_t, socklen_t};
use ngx_rtmp_core::config::listen::{parse_listen_opts, ListenOpts};
use std::mem::zeroed;

pub struct ListenSpec {
    pub sockaddr: ngx_sockaddr_t,
    pub socklen: socklen_t,
    pub text: String,
    pub opts: ListenOpts,
    pub srv_ctx: *mut RtmpConfCtx,
    /// "FILE:LINE" of the directive, for errors found once the block is read.
    #[cfg_attr(not(ngx_feature = "ssl"), allow(dead_code))]
    pub conf_at: String,
}

/// Parses `listen ADDR [options]` into the rtmp{} list of addresses.
pub fn add_listen(cf: *mut ngx_conf_t, ctx: &RtmpConfCtx) -> Result<(), String> {
    let args = conf_args(cf);
    let addr = args.get(1).cloned().unwrap_or_default();
    let opts_args: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let opts = parse_listen_opts(&opts_args).map_err(|e| e.to_string())?;
    if opts.ssl && !super::tls::AVAILABLE {
        return Err(super::tls::unavailable(
            "the \"ssl\" parameter of \"listen\"",
        ));
    }
    if opts.proxy_protocol {
        return Err("the \"proxy_protocol\" parameter of \"listen\" is not supported yet".into());
    }
    // SAFETY: ngx_url_t is plain data that ngx_parse_url fills; the pool is the cycle's.
    let (sockaddr, socklen) = unsafe {
        let mut u: ngx_url_t = zeroed();
        u.url = pool_str((*cf).pool, &addr);
        u.set_listen(1);
        u.default_port = 1935;
        if nginx_sys::ngx_parse_url((*cf).pool, &mut u) != nginx_sys::NGX_OK as isize {
            let why = if u.err.is_null() {
                "invalid address".to_string()
            } else {
                std::ffi::CStr::from_ptr(u.err)
                    .to_string_lossy()
                    .into_owned()
            };
            return Err(format!("{why} in \"{addr}\" of the \"listen\" directive"));
        }
        (u.sockaddr, u.socklen)
    };
    // SAFETY: ctx is the parser's context; its main conf is the core module's.
    let cmcf = unsafe { core_main_conf(ctx) };
    let bytes = |s: &ngx_sockaddr_t, n: socklen_t| {
        // SAFETY: the union holds n initialised bytes of socket address.
        unsafe { std::slice::from_raw_parts(s as *const _ as *const u8, n as usize).to_vec() }
    };
    let mine = bytes(&sockaddr, socklen);
    if cmcf
        .listens
        .iter()
        .any(|l| bytes(&l.sockaddr, l.socklen) == mine)
    {
        return Err(format!("duplicate \"{addr}\" address and port pair"));
    }
    // SAFETY: while a directive is parsed cf->conf_file is the file it is in.
    let conf_at = unsafe {
        let f = (*cf).conf_file;
        format!("{}:{}", ngx_str(&(*f).file.name), (*f).line)
    };
    cmcf.listens.push(ListenSpec {
        sockaddr,
        socklen,
        text: addr,
        opts,
        srv_ctx: ctx as *const _ as *mut _,
        conf_at,
    });
    Ok(())
}

/// Creates an nginx listening socket per address; nginx opens them (or inherits them on reload)
/// and each worker's accept calls `ngx_rtmp_init_connection` (after the TLS handshake, for
/// an `ssl` socket).
pub fn open_listeners(cf: *mut ngx_conf_t, cmcf: &mut CoreMainConf) -> bool {
    for l in &mut cmcf.listens {
        // SAFETY: sockaddr/socklen came from ngx_parse_url; nginx copies them.
        unsafe {
            let ls = nginx_sys::ngx_create_listening(
                cf,
                &mut l.sockaddr as *mut ngx_sockaddr_t as *mut nginx_sys::sockaddr,
                l.socklen,
            );
            if ls.is_null() {
                conf_emerg(cf, &format!("cannot listen on \"{}\"", l.text));
                return false;
            }
            let ls = &mut *ls;
            ls.set_addr_ntop(1);
            // An `ssl` socket speaks TLS first, then RTMP.
            ls.handler = Some(if l.opts.ssl {
                tls_init_connection
            } else {
                ngx_rtmp_init_connection
            });
            // nginx http's own default (connection_pool_size): the pool holds only what accept
            // and TLS allocate; it grows in blocks if it must.
            ls.pool_size = 512;
            ls.logp = &mut (*(*cf).cycle).new_log;
            ls.log.data = &mut ls.addr_text as *mut _ as *mut std::ffi::c_void;
            ls.log.handler = Some(nginx_sys::ngx_accept_log_error);
            ls.servers = l.srv_ctx as *mut std::ffi::c_void;
            if let Some(b) = l.opts.backlog {
                ls.backlog = b;
            }
            if let Some(v6only) = l.opts.ipv6only {
                ls.set_ipv6only(v6only as u32);
            }
            // `reuseport` (the listen option) is accepted; every RTMP socket becomes a reuseport
            // socket of worker 0 in ngx_rtmp_init_conf.
        }
    }
    true
}
