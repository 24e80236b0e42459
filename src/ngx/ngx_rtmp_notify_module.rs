//! `on_*` HTTP callbacks and their settings, with nginx-rtmp-module's syntax; the calls are
//! made by notify/. `netcall_timeout` is the C module's netcall setting for these calls.
use super::conf::{
    app_conf_ctx, directive, rtmp_module, set, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, RTMP_MS, RTMP_MSA, RTMP_REC_CONF,
};
use super::values::{flag, msec};
use nginx_sys::{ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_FLAG, NGX_CONF_TAKE1};
use ngx_rtmp_core::notify::{parse_hook_url, HookUrl, Method};
use std::net::{IpAddr, SocketAddr};
use std::ptr::addr_of_mut;

/// A hook URL and, for a host name without a `resolver`, the addresses it had when the
/// configuration was read (resolver::resolve_config_names).
#[derive(Debug, Clone)]
pub struct Hook {
    pub url: HookUrl,
    pub addrs: Vec<SocketAddr>,
}

#[derive(Default)]
pub struct NotifyAppConf {
    pub on_connect: Option<Hook>,
    pub on_disconnect: Option<Hook>,
    pub on_publish: Option<Hook>,
    pub on_play: Option<Hook>,
    pub on_publish_done: Option<Hook>,
    pub on_play_done: Option<Hook>,
    pub on_done: Option<Hook>,
    pub on_record_done: Option<Hook>,
    pub on_update: Option<Hook>,
    pub method: Option<Method>,
    pub update_timeout: Option<u64>,
    pub update_strict: Option<bool>,
    pub relay_redirect: Option<bool>,
    /// `netcall_timeout`: to connect, send and get the answer's headers.
    pub netcall_timeout: Option<u64>,
}

impl NotifyAppConf {
    /// Every hook slot, for the configuration pass that resolves their hosts.
    pub fn hooks_mut(&mut self) -> [&mut Option<Hook>; 9] {
        [
            &mut self.on_connect,
            &mut self.on_disconnect,
            &mut self.on_publish,
            &mut self.on_play,
            &mut self.on_publish_done,
            &mut self.on_play_done,
            &mut self.on_done,
            &mut self.on_record_done,
            &mut self.on_update,
        ]
    }
}

impl Conf for NotifyAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        macro_rules! inherit {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = p.$f.clone(); } )* };
        }
        inherit!(
            on_connect,
            on_disconnect,
            on_publish,
            on_play,
            on_publish_done,
            on_play_done,
            on_done,
            on_record_done,
            on_update
        );
        // Defaults are nginx-rtmp-module's.
        self.method = self.method.or(p.method).or(Some(Method::Post));
        self.update_timeout = self.update_timeout.or(p.update_timeout).or(Some(30_000));
        self.update_strict = self.update_strict.or(p.update_strict).or(Some(false));
        self.relay_redirect = self.relay_redirect.or(p.relay_redirect).or(Some(false));
        self.netcall_timeout = self.netcall_timeout.or(p.netcall_timeout).or(Some(10_000));
        Ok(())
    }
}

fn hook(d: &Directive) -> Result<Hook, String> {
    let url = parse_hook_url(&d.name, d.value()).map_err(|e| e.to_string())?;
    let addrs = match url.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, url.port)],
        Err(_) => Vec::new(),
    };
    Ok(Hook { url, addrs })
}

fn method(d: &Directive) -> Result<Method, String> {
    Method::parse(d.value()).ok_or_else(|| {
        format!(
            "invalid value \"{}\" in \"{}\" directive, it must be \"get\" or \"post\"",
            d.value(),
            d.name
        )
    })
}

type N = NotifyAppConf;
const MS1: ngx_uint_t = RTMP_MS | NGX_CONF_TAKE1 as ngx_uint_t;
const MSA1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;
const MSAF: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_NOTIFY_COMMANDS: [ngx_command_t; 15] = [
    directive!(
        "on_connect",
        MS1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_connect, hook)
    ),
    directive!(
        "on_disconnect",
        MS1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_disconnect, hook)
    ),
    directive!(
        "on_publish",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_publish, hook)
    ),
    directive!("on_play", MSA1, APP_CONF_OFFSET, N, set!(N, on_play, hook)),
    directive!(
        "on_publish_done",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_publish_done, hook)
    ),
    directive!(
        "on_play_done",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_play_done, hook)
    ),
    directive!("on_done", MSA1, APP_CONF_OFFSET, N, set!(N, on_done, hook)),
    directive!(
        "on_record_done",
        MSA1 | RTMP_REC_CONF,
        APP_CONF_OFFSET,
        N,
        set!(N, on_record_done, hook)
    ),
    directive!(
        "on_update",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, on_update, hook)
    ),
    directive!(
        "notify_method",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, method, method)
    ),
    directive!(
        "notify_update_timeout",
        MSA1,
        APP_CONF_OFFSET,
        N,
        set!(N, update_timeout, msec)
    ),
    directive!(
        "notify_update_strict",
        MSAF,
        APP_CONF_OFFSET,
        N,
        set!(N, update_strict, flag)
    ),
    directive!(
        "notify_relay_redirect",
        MSAF,
        APP_CONF_OFFSET,
        N,
        set!(N, relay_redirect, flag)
    ),
    directive!(
        "netcall_timeout",
        MS1,
        APP_CONF_OFFSET,
        N,
        set!(N, netcall_timeout, msec)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_NOTIFY_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(NotifyAppConf);

#[no_mangle]
pub static mut ngx_rtmp_notify_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_NOTIFY_MODULE_CTX, NGX_RTMP_NOTIFY_COMMANDS);

/// The notify settings of a context (a server's own level, an application, a recorder).
pub fn notify_conf(ctx: &RtmpConfCtx) -> &NotifyAppConf {
    // SAFETY: ctx is a context of the running cycle, made with this module's create_app_conf
    // at index ctx_index.
    unsafe { notify_conf_mut(ctx) }
}

/// As [`notify_conf`], to fill in resolved addresses after the merge.
///
/// # Safety
/// `ctx` must be a context of the cycle being configured, and nothing else may hold its
/// notify settings meanwhile.
pub unsafe fn notify_conf_mut<'a>(ctx: *const RtmpConfCtx) -> &'a mut NotifyAppConf {
    // SAFETY: guaranteed by the caller; the conf at ctx_index was made by create_app_conf.
    unsafe {
        super::conf::conf_at(
            (*ctx).app_conf,
            (*addr_of_mut!(ngx_rtmp_notify_module)).ctx_index,
        )
    }
}
