//! `live` and the live-stream settings of an application.
use super::conf::{
    app_conf_ctx, directive, later, later_set, rtmp_module, set, Conf, Directive, RtmpConfCtx,
    RtmpModuleCtx, APP_CONF_OFFSET, RTMP_MSA,
};
use super::values::{flag, msec, number};
use nginx_sys::{ngx_command_t, ngx_module_t, ngx_uint_t, NGX_CONF_FLAG, NGX_CONF_TAKE1};
use std::ptr::addr_of_mut;

#[derive(Default)]
pub struct LiveAppConf {
    pub live: Option<bool>,
    pub meta: Option<String>,
    pub stream_buckets: Option<u64>,
    pub buffer: Option<u64>,
    pub sync: Option<u64>,
    pub interleave: Option<bool>,
    pub wait_key: Option<bool>,
    pub wait_video: Option<bool>,
    pub publish_notify: Option<bool>,
    pub play_restart: Option<bool>,
    pub idle_streams: Option<bool>,
    pub drop_idle_publisher: Option<u64>,
}

impl Conf for LiveAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        self.live = self.live.or(p.live);
        if self.meta.is_none() {
            self.meta = p.meta.clone();
        }
        self.stream_buckets = self.stream_buckets.or(p.stream_buckets);
        self.buffer = self.buffer.or(p.buffer);
        self.sync = self.sync.or(p.sync);
        self.interleave = self.interleave.or(p.interleave);
        self.wait_key = self.wait_key.or(p.wait_key).or(Some(true));
        self.wait_video = self.wait_video.or(p.wait_video);
        self.publish_notify = self.publish_notify.or(p.publish_notify);
        self.play_restart = self.play_restart.or(p.play_restart);
        self.idle_streams = self.idle_streams.or(p.idle_streams).or(Some(true));
        self.drop_idle_publisher = self.drop_idle_publisher.or(p.drop_idle_publisher);
        Ok(())
    }
}

fn set_meta(c: &mut LiveAppConf, d: &Directive) -> Result<(), String> {
    match d.value() {
        // Metadata always passes through as the publisher sent it, which is `meta copy`.
        "copy" => d.set_once(&mut c.meta, "copy".into()),
        "on" | "off" => later(&mut c.meta, d, d.value().to_string()),
        v => Err(format!(
            "invalid value \"{v}\" in \"meta\" directive, it must be \"on\", \"copy\" or \"off\""
        )),
    }
}

const F: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;
const T1: ngx_uint_t = RTMP_MSA | NGX_CONF_TAKE1 as ngx_uint_t;
type L = LiveAppConf;

static mut NGX_RTMP_LIVE_COMMANDS: [ngx_command_t; 13] = [
    directive!("live", F, APP_CONF_OFFSET, L, set!(L, live, flag)),
    directive!("meta", T1, APP_CONF_OFFSET, L, set_meta),
    directive!(
        "stream_buckets",
        T1,
        APP_CONF_OFFSET,
        L,
        set!(L, stream_buckets, number)
    ),
    directive!(
        "buffer",
        T1,
        APP_CONF_OFFSET,
        L,
        later_set!(L, buffer, msec)
    ),
    directive!("sync", T1, APP_CONF_OFFSET, L, later_set!(L, sync, msec)),
    directive!(
        "interleave",
        F,
        APP_CONF_OFFSET,
        L,
        later_set!(L, interleave, flag)
    ),
    directive!("wait_key", F, APP_CONF_OFFSET, L, set!(L, wait_key, flag)),
    directive!(
        "wait_video",
        F,
        APP_CONF_OFFSET,
        L,
        set!(L, wait_video, flag)
    ),
    directive!(
        "publish_notify",
        F,
        APP_CONF_OFFSET,
        L,
        set!(L, publish_notify, flag)
    ),
    directive!(
        "play_restart",
        F,
        APP_CONF_OFFSET,
        L,
        later_set!(L, play_restart, flag)
    ),
    directive!(
        "idle_streams",
        F,
        APP_CONF_OFFSET,
        L,
        set!(L, idle_streams, flag)
    ),
    directive!(
        "drop_idle_publisher",
        T1,
        APP_CONF_OFFSET,
        L,
        set!(L, drop_idle_publisher, msec)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_LIVE_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(LiveAppConf);

#[no_mangle]
pub static mut ngx_rtmp_live_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_LIVE_MODULE_CTX, NGX_RTMP_LIVE_COMMANDS);

pub fn live_conf(ctx: &RtmpConfCtx) -> &LiveAppConf {
    // SAFETY: ctx is an application context of the running cycle, made with this module's
    // create_app_conf at index ctx_index.
    unsafe {
        super::conf::conf_at(
            ctx.app_conf,
            (*addr_of_mut!(ngx_rtmp_live_module)).ctx_index,
        )
    }
}
