//! `on_*` HTTP callbacks and their settings: parsed, checked and kept with
//! nginx-rtmp-module's syntax; the calls come with the hooks release.
use super::conf::{
    app_conf_ctx, directive, later_set, rtmp_module, Conf, RtmpModuleCtx, APP_CONF_OFFSET, RTMP_MS,
    RTMP_MSA, RTMP_REC_CONF,
};
use super::values::{flag, http_url, msec, one_of};
use nginx_sys::{ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_FLAG, NGX_CONF_TAKE1};

#[derive(Default)]
pub struct NotifyAppConf {
    pub on_connect: Option<String>,
    pub on_disconnect: Option<String>,
    pub on_publish: Option<String>,
    pub on_play: Option<String>,
    pub on_publish_done: Option<String>,
    pub on_play_done: Option<String>,
    pub on_done: Option<String>,
    pub on_record_done: Option<String>,
    pub on_update: Option<String>,
    pub method: Option<String>,
    pub update_timeout: Option<u64>,
    pub update_strict: Option<bool>,
    pub relay_redirect: Option<bool>,
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
            on_update,
            method,
            update_timeout,
            update_strict,
            relay_redirect
        );
        Ok(())
    }
}

type N = NotifyAppConf;
const MS1: ngx_uint_t = RTMP_MS | NGX_CONF_TAKE1 as ngx_uint_t;
const MSA1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;
const MSAF: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_NOTIFY_COMMANDS: [ngx_command_t; 14] = [
    directive!(
        "on_connect",
        MS1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_connect, http_url)
    ),
    directive!(
        "on_disconnect",
        MS1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_disconnect, http_url)
    ),
    directive!(
        "on_publish",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_publish, http_url)
    ),
    directive!(
        "on_play",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_play, http_url)
    ),
    directive!(
        "on_publish_done",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_publish_done, http_url)
    ),
    directive!(
        "on_play_done",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_play_done, http_url)
    ),
    directive!(
        "on_done",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_done, http_url)
    ),
    directive!(
        "on_record_done",
        MSA1 | RTMP_REC_CONF,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_record_done, http_url)
    ),
    directive!(
        "on_update",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, on_update, http_url)
    ),
    directive!(
        "notify_method",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, method, |d| one_of(d, &["get", "post"]))
    ),
    directive!(
        "notify_update_timeout",
        MSA1,
        APP_CONF_OFFSET,
        N,
        later_set!(N, update_timeout, msec)
    ),
    directive!(
        "notify_update_strict",
        MSAF,
        APP_CONF_OFFSET,
        N,
        later_set!(N, update_strict, flag)
    ),
    directive!(
        "notify_relay_redirect",
        MSAF,
        APP_CONF_OFFSET,
        N,
        later_set!(N, relay_redirect, flag)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_NOTIFY_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(NotifyAppConf);

#[no_mangle]
pub static mut ngx_rtmp_notify_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_NOTIFY_MODULE_CTX, NGX_RTMP_NOTIFY_COMMANDS);
