//! Outbound host names (hook URLs, push targets): `resolver` and `resolver_timeout` in rtmp{}
//! or server{}, spelled as in nginx's stream module. With a resolver, names are resolved when
//! they are used, without blocking the worker (lookup.rs); without one, names written in the
//! configuration are resolved once when it is read (config_names.rs), as the C module does,
//! and names that arrive at run time are refused.
mod config_names;
mod lookup;

pub use config_names::resolve_config_names;
pub use lookup::{cancel, lookup, Resolved, Started};

use super::conf::RtmpConfCtx;
use super::ffi::{conf_emerg, NGX_CONF_ERROR, NGX_CONF_OK};
use super::ngx_rtmp_core_module::{core_srv_conf, CoreSrvConf};
use nginx_sys::{ngx_command_t, ngx_conf_t, ngx_msec_t, ngx_resolver_t, ngx_str_t};
use std::ffi::{c_char, c_void};
use std::net::{IpAddr, SocketAddr};

/// A resolver of this cycle and how long one lookup may take.
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    pub r: *mut ngx_resolver_t,
    pub timeout: ngx_msec_t,
}

/// The conf field `resolver` fills: nginx's resolver object, made at configuration time.
#[derive(Debug, Clone, Copy)]
pub struct ResolverRef(pub *mut ngx_resolver_t);

/// nginx's default `resolver_timeout`.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// The resolver of the server a context belongs to (server or application level).
pub fn of(ctx: &RtmpConfCtx) -> Option<Resolver> {
    // SAFETY: ctx is a context of the running cycle; its srv_conf is its server's.
    resolver_of_srv(unsafe { core_srv_conf(ctx) })
}

pub fn resolver_of_srv(cscf: &CoreSrvConf) -> Option<Resolver> {
    cscf.resolver.map(|r| Resolver {
        r: r.0,
        timeout: cscf.resolver_timeout.unwrap_or(DEFAULT_TIMEOUT_MS) as ngx_msec_t,
    })
}

/// How to reach a host when a connection is about to be made.
pub enum Route {
    Addrs(Vec<SocketAddr>),
    Resolve(Resolver),
}

/// An address is used as it is; a name goes to the resolver if the server has one, else to
/// the addresses it had when the configuration was read, if it was in the configuration.
pub fn route(
    host: &str,
    port: u16,
    known: &[SocketAddr],
    resolver: Option<Resolver>,
) -> Result<Route, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Route::Addrs(vec![SocketAddr::new(ip, port)]));
    }
    match resolver {
        Some(r) => Ok(Route::Resolve(r)),
        None if !known.is_empty() => Ok(Route::Addrs(known.to_vec())),
        None => Err(format!(
            "the host name \"{host}\" needs a resolver in rtmp{{}} (resolver ADDRESS;)"
        )),
    }
}

/// `resolver ADDRESS ... [valid=TIME] [ipv4=on|off] [ipv6=on|off]`: nginx parses the
/// arguments itself (ngx_resolver_create) and logs what it finds wrong.
pub unsafe extern "C" fn set_resolver(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("resolver", NGX_CONF_ERROR, || {
        // SAFETY: the command's conf offset is the server level: conf is a CoreSrvConf made by
        // create_conf; cf->args holds the directive and at least one value (NGX_CONF_1MORE).
        unsafe {
            let cscf = &mut *(conf as *mut CoreSrvConf);
            if cscf.resolver.is_some() {
                conf_emerg(cf, "\"resolver\" directive is duplicate");
                return NGX_CONF_ERROR;
            }
            let args = &*(*cf).args;
            let values = (args.elts as *mut ngx_str_t).add(1);
            let r = nginx_sys::ngx_resolver_create(cf, values, args.nelts - 1);
            if r.is_null() {
                return NGX_CONF_ERROR;
            }
            cscf.resolver = Some(ResolverRef(r));
            NGX_CONF_OK
        }
    })
}
