//! `push`, `pull` and the relay settings with nginx-rtmp-module's syntax (plus `rtmps://`).
//! `push` and `pull` relays run (relay/; `rtmps://` pushes through TLS, with the
//! `rtmp_relay_ssl_*` settings of ngx_rtmp_ssl_module); `pull rtmps://` is checked and kept
//! for a later release.
use super::conf::{
    app_conf_ctx, directive, rtmp_module, set, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, RTMP_APP_CONF, RTMP_MS, RTMP_MSA,
};
use super::values::{flag, msec};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::relay::{parse_push, RelayTarget, Scheme};
use std::net::{IpAddr, SocketAddr};
use std::ptr::addr_of_mut;

/// A `push` or `pull` target and the addresses its host had when the configuration was
/// read (as the C module resolves with ngx_parse_url; a reload resolves again); empty for a
/// name that the server's `resolver` resolves at each connection, and for an `rtmps://`
/// target (never started).
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub target: RelayTarget,
    pub addrs: Vec<SocketAddr>,
    /// A unix socket path instead of `addrs`: another worker of this nginx (auto_push/).
    pub unix: Option<String>,
}

/// A `pull` target: the same as a push's.
pub type PullTarget = PushTarget;

#[derive(Default)]
pub struct RelayAppConf {
    pub pushes: Vec<PushTarget>,
    /// `pull` targets, `static` ones included.
    pub pulls: Vec<PullTarget>,
    pub push_reconnect: Option<u64>,
    pub pull_reconnect: Option<u64>,
    pub session_relay: Option<bool>,
    /// `relay_buffer`: the buffer length a pull asks its server for; pushes do not use it
    /// (nor does the C module).
    pub buffer: Option<u64>,
}

impl Conf for RelayAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        self.push_reconnect = self.push_reconnect.or(p.push_reconnect).or(Some(3000));
        self.pull_reconnect = self.pull_reconnect.or(p.pull_reconnect).or(Some(3000));
        self.session_relay = self.session_relay.or(p.session_relay).or(Some(false));
        self.buffer = self.buffer.or(p.buffer).or(Some(5000));
        Ok(())
    }
}

fn set_relay(c: &mut RelayAppConf, d: &Directive) -> Result<(), String> {
    let target = parse_push(&d.name, &d.values()).map_err(|e| e.to_string())?;
    if target.scheme == Scheme::Rtmps && !super::tls::AVAILABLE {
        return Err(super::tls::unavailable(&format!(
            "\"rtmps://\" in \"{}\"",
            d.name
        )));
    }
    if target.scheme == Scheme::Rtmps && d.name == "pull" {
        // RTMPS pulls come later; they are kept, named in the start-up warning, and never
        // started.
        super::deferred::note("pull rtmps://");
    }
    // A host name is resolved once the whole configuration is read, or at run time by the
    // server's `resolver` (resolver::resolve_config_names).
    let addrs = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => Vec::new(),
    };
    let t = PushTarget {
        target,
        addrs,
        unix: None,
    };
    if d.name == "push" {
        c.pushes.push(t);
    } else {
        c.pulls.push(t);
    }
    Ok(())
}

type R = RelayAppConf;
const A1M: ngx_uint_t = RTMP_APP_CONF | NGX_CONF_1MORE as ngx_uint_t;
const T1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;

static mut NGX_RTMP_RELAY_COMMANDS: [ngx_command_t; 7] = [
    directive!("push", A1M, APP_CONF_OFFSET, R, set_relay),
    directive!("pull", A1M, APP_CONF_OFFSET, R, set_relay),
    directive!(
        "push_reconnect",
        T1,
        APP_CONF_OFFSET,
        R,
        set!(R, push_reconnect, msec)
    ),
    directive!(
        "pull_reconnect",
        T1,
        APP_CONF_OFFSET,
        R,
        set!(R, pull_reconnect, msec)
    ),
    directive!(
        "session_relay",
        RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t,
        APP_CONF_OFFSET,
        R,
        set!(R, session_relay, flag)
    ),
    directive!(
        "relay_buffer",
        RTMP_MS | NGX_CONF_TAKE1 as ngx_uint_t,
        APP_CONF_OFFSET,
        R,
        set!(R, buffer, msec)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_RELAY_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(RelayAppConf);

#[no_mangle]
pub static mut ngx_rtmp_relay_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_RELAY_MODULE_CTX, NGX_RTMP_RELAY_COMMANDS);

/// The relay settings of an application.
pub fn relay_conf(ctx: &RtmpConfCtx) -> &RelayAppConf {
    // SAFETY: ctx is an application context of the running cycle, made with this module's
    // create_app_conf at index ctx_index.
    unsafe {
        super::conf::conf_at(
            ctx.app_conf,
            (*addr_of_mut!(ngx_rtmp_relay_module)).ctx_index,
        )
    }
}

/// The relay settings of a context, to fill in resolved addresses after the merge.
///
/// # Safety
/// `ctx` must be a context of the cycle being configured, and nothing else may hold its
/// relay settings meanwhile.
pub unsafe fn relay_conf_mut<'a>(ctx: *const RtmpConfCtx) -> &'a mut RelayAppConf {
    // SAFETY: guaranteed by the caller; the conf at ctx_index was made by create_app_conf.
    unsafe {
        super::conf::conf_at(
            (*ctx).app_conf,
            (*addr_of_mut!(ngx_rtmp_relay_module)).ctx_index,
        )
    }
}
