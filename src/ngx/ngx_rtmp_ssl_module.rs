//! RTMPS settings. A server's `ssl_*` directives (for `listen ... ssl`) are spelled as in
//! nginx's stream module and allowed in rtmp{} and server{}; the `rtmp_relay_ssl_*`
//! directives of outgoing `push rtmps://` relays are the sergey-dryabzhinsky fork's names
//! (modelled on `proxy_ssl_*`) and allowed in rtmp{}, server{} and application{}.
//! The OpenSSL contexts are made from these once the block is merged (tls/conf.rs).
use super::conf::{
    create_conf, directive, merge_conf, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, NGX_RTMP_MODULE, RTMP_MS, RTMP_MSA, SRV_CONF_OFFSET,
};
use super::values::{flag, msec, number, sec, string};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::tls::{
    parse_protocols, parse_session_cache, SessionCache, DEFAULT_ECDH_CURVE,
    DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_PROTOCOLS, DEFAULT_RELAY_CIPHERS, DEFAULT_SERVER_CIPHERS,
    DEFAULT_SESSION_TIMEOUT_SECS, DEFAULT_TRUSTED_CERTIFICATE, DEFAULT_VERIFY_DEPTH,
};
use std::ffi::c_void;
use std::ptr::addr_of_mut;

/// The OpenSSL client contexts of the configuration, one per distinct set of relay settings
/// (most configurations have one), shared by the applications that use it.
#[derive(Default)]
pub struct SslMainConf {
    pub clients: Vec<(ClientKey, usize)>,
}
impl Conf for SslMainConf {}

/// What an OpenSSL client context is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub verify: bool,
    pub verify_depth: u64,
    pub trusted_certificate: String,
    pub protocols: u32,
    pub ciphers: String,
}

/// `ssl_*` of a server (stream module names and defaults).
#[derive(Default)]
pub struct SslSrvConf {
    pub certificates: Vec<String>,
    pub certificate_keys: Vec<String>,
    pub protocols: Option<u32>,
    pub ciphers: Option<String>,
    pub prefer_server_ciphers: Option<bool>,
    pub dhparam: Option<String>,
    pub ecdh_curve: Option<String>,
    pub session_cache: Option<SessionCache>,
    pub session_timeout: Option<u64>,
    pub handshake_timeout: Option<u64>,
    /// The server's `ngx_ssl_t` (in the cycle pool) once a `listen ... ssl` needs it.
    pub ssl: usize,
}

impl Conf for SslSrvConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        // As nginx's array slots: a level without certificates takes the enclosing level's.
        if self.certificates.is_empty() {
            self.certificates = p.certificates.clone();
        }
        if self.certificate_keys.is_empty() {
            self.certificate_keys = p.certificate_keys.clone();
        }
        self.protocols = self.protocols.or(p.protocols).or(Some(DEFAULT_PROTOCOLS));
        merge_str(&mut self.ciphers, &p.ciphers, DEFAULT_SERVER_CIPHERS);
        self.prefer_server_ciphers = self
            .prefer_server_ciphers
            .or(p.prefer_server_ciphers)
            .or(Some(false));
        merge_str(&mut self.dhparam, &p.dhparam, "");
        merge_str(&mut self.ecdh_curve, &p.ecdh_curve, DEFAULT_ECDH_CURVE);
        if self.session_cache.is_none() {
            self.session_cache = Some(p.session_cache.clone().unwrap_or_default());
        }
        self.session_timeout = self
            .session_timeout
            .or(p.session_timeout)
            .or(Some(DEFAULT_SESSION_TIMEOUT_SECS));
        self.handshake_timeout = self
            .handshake_timeout
            .or(p.handshake_timeout)
            .or(Some(DEFAULT_HANDSHAKE_TIMEOUT_MS));
        if let Some(cert) = self.certificates.get(self.certificate_keys.len()) {
            return Err(format!(
                "no \"ssl_certificate_key\" is defined for certificate \"{cert}\""
            ));
        }
        Ok(())
    }
}

/// `rtmp_relay_ssl_*` of an application: how its `push rtmps://` relays speak TLS.
#[derive(Default)]
pub struct RelaySslConf {
    pub verify: Option<bool>,
    pub verify_depth: Option<u64>,
    pub trusted_certificate: Option<String>,
    pub server_name: Option<bool>,
    /// `rtmp_relay_ssl_name`: the name sent as SNI and checked in the certificate instead of
    /// the URL's host (as `proxy_ssl_name`).
    pub name: Option<String>,
    pub protocols: Option<u32>,
    pub ciphers: Option<String>,
    /// The application's OpenSSL client context (an `ngx_ssl_t` in the cycle pool).
    pub ssl: usize,
}

impl RelaySslConf {
    pub fn key(&self) -> ClientKey {
        ClientKey {
            verify: self.verify.unwrap_or(true),
            verify_depth: self.verify_depth.unwrap_or(DEFAULT_VERIFY_DEPTH),
            trusted_certificate: self
                .trusted_certificate
                .clone()
                .unwrap_or_else(|| DEFAULT_TRUSTED_CERTIFICATE.to_string()),
            protocols: self.protocols.unwrap_or(DEFAULT_PROTOCOLS),
            ciphers: self
                .ciphers
                .clone()
                .unwrap_or_else(|| DEFAULT_RELAY_CIPHERS.to_string()),
        }
    }
}

impl Conf for RelaySslConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        // Verification and SNI are on unless turned off: Facebook and YouTube need both.
        self.verify = self.verify.or(p.verify).or(Some(true));
        self.verify_depth = self
            .verify_depth
            .or(p.verify_depth)
            .or(Some(DEFAULT_VERIFY_DEPTH));
        merge_str(
            &mut self.trusted_certificate,
            &p.trusted_certificate,
            DEFAULT_TRUSTED_CERTIFICATE,
        );
        self.server_name = self.server_name.or(p.server_name).or(Some(true));
        if self.name.is_none() {
            self.name = p.name.clone();
        }
        self.protocols = self.protocols.or(p.protocols).or(Some(DEFAULT_PROTOCOLS));
        merge_str(&mut self.ciphers, &p.ciphers, DEFAULT_RELAY_CIPHERS);
        Ok(())
    }
}

fn merge_str(v: &mut Option<String>, parent: &Option<String>, default: &str) {
    if v.is_none() {
        *v = Some(parent.clone().unwrap_or_else(|| default.to_string()));
    }
}

/// Without OpenSSL these settings could do nothing: refuse them rather than ignore them.
fn needs_openssl(d: &Directive) -> Result<(), String> {
    if super::tls::AVAILABLE {
        return Ok(());
    }
    Err(super::tls::unavailable(&format!(
        "the \"{}\" directive",
        d.name
    )))
}

/// A setter that parses the value with `$parse` and stores it once.
macro_rules! tls_set {
    ($t:ty, $field:ident, $parse:expr) => {
        |c: &mut $t, d: &Directive| {
            needs_openssl(d)?;
            let v = $parse(d)?;
            d.set_once(&mut c.$field, v)
        }
    };
}

fn set_certificate(c: &mut SslSrvConf, d: &Directive) -> Result<(), String> {
    needs_openssl(d)?;
    let v = string(d)?;
    if d.name == "ssl_certificate" {
        c.certificates.push(v);
    } else {
        c.certificate_keys.push(v);
    }
    Ok(())
}

fn set_protocols(d: &Directive) -> Result<u32, String> {
    parse_protocols(&d.name, &d.values()).map_err(|e| e.to_string())
}

fn set_session_cache(c: &mut SslSrvConf, d: &Directive) -> Result<(), String> {
    needs_openssl(d)?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    let v = parse_session_cache(&d.values(), page).map_err(|e| e.to_string())?;
    d.set_once(&mut c.session_cache, v)
}

fn set_verify_depth(d: &Directive) -> Result<u64, String> {
    let n = number(d)?;
    if n > i32::MAX as u64 {
        return Err(format!(
            "invalid value \"{}\" in \"{}\" directive",
            d.value(),
            d.name
        ));
    }
    Ok(n)
}

type S = SslSrvConf;
type R = RelaySslConf;
const MS1: ngx_uint_t = RTMP_MS | NGX_CONF_TAKE1 as ngx_uint_t;
const MS1M: ngx_uint_t = RTMP_MS | NGX_CONF_1MORE as ngx_uint_t;
const MSF: ngx_uint_t = RTMP_MS | NGX_CONF_FLAG as ngx_uint_t;
const MSA1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;
const MSA1M: ngx_uint_t = RTMP_MSA | NGX_CONF_1MORE as ngx_uint_t;
const MSAF: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_SSL_COMMANDS: [ngx_command_t; 18] = [
    directive!("ssl_certificate", MS1, SRV_CONF_OFFSET, S, set_certificate),
    directive!(
        "ssl_certificate_key",
        MS1,
        SRV_CONF_OFFSET,
        S,
        set_certificate
    ),
    directive!(
        "ssl_protocols",
        MS1M,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, protocols, set_protocols)
    ),
    directive!(
        "ssl_ciphers",
        MS1,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, ciphers, string)
    ),
    directive!(
        "ssl_prefer_server_ciphers",
        MSF,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, prefer_server_ciphers, flag)
    ),
    directive!(
        "ssl_dhparam",
        MS1,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, dhparam, string)
    ),
    directive!(
        "ssl_ecdh_curve",
        MS1,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, ecdh_curve, string)
    ),
    directive!(
        "ssl_session_cache",
        MS1M,
        SRV_CONF_OFFSET,
        S,
        set_session_cache
    ),
    directive!(
        "ssl_session_timeout",
        MS1,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, session_timeout, sec)
    ),
    directive!(
        "ssl_handshake_timeout",
        MS1,
        SRV_CONF_OFFSET,
        S,
        tls_set!(S, handshake_timeout, msec)
    ),
    directive!(
        "rtmp_relay_ssl_verify",
        MSAF,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, verify, flag)
    ),
    directive!(
        "rtmp_relay_ssl_verify_depth",
        MSA1,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, verify_depth, set_verify_depth)
    ),
    directive!(
        "rtmp_relay_ssl_trusted_certificate",
        MSA1,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, trusted_certificate, string)
    ),
    directive!(
        "rtmp_relay_ssl_server_name",
        MSAF,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, server_name, flag)
    ),
    directive!(
        "rtmp_relay_ssl_name",
        MSA1,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, name, string)
    ),
    directive!(
        "rtmp_relay_ssl_protocols",
        MSA1M,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, protocols, set_protocols)
    ),
    directive!(
        "rtmp_relay_ssl_ciphers",
        MSA1,
        APP_CONF_OFFSET,
        R,
        tls_set!(R, ciphers, string)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_SSL_MODULE_CTX: RtmpModuleCtx = RtmpModuleCtx {
    create_main_conf: Some(create_conf::<SslMainConf>),
    create_srv_conf: Some(create_conf::<SslSrvConf>),
    merge_srv_conf: Some(merge_conf::<SslSrvConf>),
    create_app_conf: Some(create_conf::<RelaySslConf>),
    merge_app_conf: Some(merge_conf::<RelaySslConf>),
};

#[no_mangle]
pub static mut ngx_rtmp_ssl_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_SSL_MODULE_CTX as *const RtmpModuleCtx as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_SSL_COMMANDS) as *mut ngx_command_t,
    type_: NGX_RTMP_MODULE,
    ..ngx_module_t::default()
};

fn index() -> usize {
    // SAFETY: ctx_index is set by ngx_count_modules before any RTMP conf exists.
    unsafe { (*addr_of_mut!(ngx_rtmp_ssl_module)).ctx_index }
}

/// # Safety
/// `ctx` must be a conf context of the current cycle.
pub unsafe fn ssl_main_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut SslMainConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).main_conf, index()) }
}

/// # Safety
/// As for [`ssl_main_conf`], a server (or application) context.
pub unsafe fn ssl_srv_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut SslSrvConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).srv_conf, index()) }
}

/// # Safety
/// As for [`ssl_main_conf`], an application context.
pub unsafe fn relay_ssl_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut RelaySslConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).app_conf, index()) }
}
