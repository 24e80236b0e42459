//! `push`, `pull` and the relay settings with nginx-rtmp-module's syntax (plus `rtmps://`).
//! `push` relays run (relay/; `rtmps://` ones through TLS, with the `rtmp_relay_ssl_*`
//! settings of ngx_rtmp_ssl_module); `pull` and `session_relay` are checked and kept for a
//! later release.
use super::conf::{
    app_conf_ctx, directive, later_set, rtmp_module, set, Conf, Directive, RtmpConfCtx,
    RtmpModuleCtx, APP_CONF_OFFSET, RTMP_APP_CONF, RTMP_MS, RTMP_MSA,
};
use super::relay::resolve;
use super::values::{flag, msec};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::relay::{parse_push, RelayTarget, Scheme};
use std::net::SocketAddr;
use std::ptr::addr_of_mut;

/// A `push` target and the addresses its host had when the configuration was read (as the
/// C module resolves with ngx_parse_url; a reload resolves again).
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub target: RelayTarget,
    pub addrs: Vec<SocketAddr>,
}

#[derive(Default)]
pub struct RelayAppConf {
    pub pushes: Vec<PushTarget>,
    pub pulls: Vec<RelayTarget>,
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
        self.session_relay = self.session_relay.or(p.session_relay);
        self.buffer = self.buffer.or(p.buffer).or(Some(5000));
        Ok(())
    }
}

fn set_relay(c: &mut RelayAppConf, d: &Directive) -> Result<(), String> {
    let target = parse_push(&d.name, &d.values()).map_err(|e| e.to_string())?;
    if d.name != "push" {
        super::deferred::note(&d.name);
        c.pulls.push(target);
        return Ok(());
    }
    if target.scheme == Scheme::Rtmps && !super::tls::AVAILABLE {
        return Err(super::tls::unavailable("\"rtmps://\" in \"push\""));
    }
    let addrs =
        resolve(&target.host, target.port).map_err(|e| format!("{e} in url \"{}\"", target.url))?;
    c.pushes.push(PushTarget { target, addrs });
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
        later_set!(R, pull_reconnect, msec)
    ),
    directive!(
        "session_relay",
        RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t,
        APP_CONF_OFFSET,
        R,
        later_set!(R, session_relay, flag)
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
