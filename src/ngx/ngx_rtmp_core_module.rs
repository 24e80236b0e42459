//! `server {}`, `listen`, `application {}` and the connection-level settings
//! (timeouts, ping, chunk size, limits), created at each level and merged down.
use super::conf::{
    command, create_conf, directive, merge_conf, set, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, NGX_RTMP_MODULE, RTMP_APP_CONF, RTMP_MAIN_CONF, RTMP_MS, RTMP_MSA,
    RTMP_SRV_CONF, SRV_CONF_OFFSET,
};
use super::ffi::{conf_args, conf_emerg, NGX_CONF_ERROR, NGX_CONF_OK};
use super::listen::{add_listen, ListenSpec};
use super::ngx_rtmp::{new_level, parse_block};
use super::values::{flag, msec, number, size};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_BLOCK,
    NGX_CONF_FLAG, NGX_CONF_NOARGS, NGX_CONF_TAKE1,
};
use std::ffi::{c_char, c_void};
use std::ptr::addr_of_mut;

/// rtmp{}-wide state built while parsing: the servers, their listen addresses, nested levels.
#[derive(Default)]
pub struct CoreMainConf {
    pub servers: Vec<*mut RtmpConfCtx>,
    pub listens: Vec<ListenSpec>,
    /// (parent application, recorder) contexts, merged after the applications.
    pub nested: Vec<(*mut RtmpConfCtx, *mut RtmpConfCtx)>,
    /// The shared memory zone of `/stat` (an `ngx_shm_zone_t`).
    pub stat_zone: usize,
    /// When this configuration was read (seconds since the epoch), for `uptime`.
    pub started_secs: u64,
}
impl Conf for CoreMainConf {}

pub struct AppEntry {
    pub name: String,
    pub ctx: *mut RtmpConfCtx,
}

#[derive(Default)]
pub struct CoreSrvConf {
    pub index: usize,
    pub ctx: usize,
    pub applications: Vec<AppEntry>,
    pub timeout: Option<u64>,
    pub ping: Option<u64>,
    pub ping_timeout: Option<u64>,
    pub max_streams: Option<u64>,
    pub ack_window: Option<u64>,
    pub chunk_size: Option<u64>,
    pub max_message: Option<u64>,
    pub out_queue: Option<u64>,
    pub out_cork: Option<u64>,
    pub busy: Option<bool>,
    pub buflen: Option<u64>,
    pub so_keepalive: Option<bool>,
    /// `resolver`: names of hook URLs and push targets are resolved at run time.
    pub resolver: Option<super::resolver::ResolverRef>,
    pub resolver_timeout: Option<u64>,
}

impl Conf for CoreSrvConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        // Defaults are nginx-rtmp-module's.
        self.timeout = self.timeout.or(p.timeout).or(Some(60_000));
        self.ping = self.ping.or(p.ping).or(Some(60_000));
        self.ping_timeout = self.ping_timeout.or(p.ping_timeout).or(Some(30_000));
        self.max_streams = self.max_streams.or(p.max_streams).or(Some(32));
        self.ack_window = self.ack_window.or(p.ack_window).or(Some(5_000_000));
        self.chunk_size = self.chunk_size.or(p.chunk_size).or(Some(4096));
        self.max_message = self.max_message.or(p.max_message).or(Some(1024 * 1024));
        self.out_queue = self.out_queue.or(p.out_queue).or(Some(256));
        self.out_cork = self
            .out_cork
            .or(p.out_cork)
            .or(self.out_queue.map(|q| q / 8));
        self.busy = self.busy.or(p.busy).or(Some(false));
        self.buflen = self.buflen.or(p.buflen).or(Some(1000));
        self.so_keepalive = self.so_keepalive.or(p.so_keepalive).or(Some(false));
        self.resolver = self.resolver.or(p.resolver);
        self.resolver_timeout = self
            .resolver_timeout
            .or(p.resolver_timeout)
            .or(Some(super::resolver::DEFAULT_TIMEOUT_MS));
        Ok(())
    }
}

#[derive(Default)]
pub struct CoreAppConf {
    pub name: String,
    pub play_time_fix: Option<bool>,
    pub publish_time_fix: Option<bool>,
}

impl Conf for CoreAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        self.play_time_fix = self.play_time_fix.or(p.play_time_fix).or(Some(true));
        self.publish_time_fix = self.publish_time_fix.or(p.publish_time_fix).or(Some(true));
        Ok(())
    }
}

fn set_chunk_size(c: &mut CoreSrvConf, d: &Directive) -> Result<(), String> {
    let v = number(d)?;
    // The RTMP chunk size field is 31 bits; below 128 only costs headers.
    if !(128..=16_777_215).contains(&v) {
        return Err(format!(
            "invalid value \"{}\" in \"{}\" directive, it must be between 128 and 16777215",
            d.value(),
            d.name
        ));
    }
    d.set_once(&mut c.chunk_size, v)
}

fn set_max_message(c: &mut CoreSrvConf, d: &Directive) -> Result<(), String> {
    let v = size(d)?;
    if !(1..=16_777_215).contains(&v) {
        return Err(format!(
            "invalid value \"{}\" in \"{}\" directive, it must be between 1 and 16777215",
            d.value(),
            d.name
        ));
    }
    d.set_once(&mut c.max_message, v)
}

const MS1: ngx_uint_t = RTMP_MS | NGX_CONF_TAKE1 as ngx_uint_t;
const MSF: ngx_uint_t = RTMP_MS | NGX_CONF_FLAG as ngx_uint_t;
const MSAF: ngx_uint_t = RTMP_MSA | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_CORE_COMMANDS: [ngx_command_t; 20] = [
    command!(
        "server",
        RTMP_MAIN_CONF | (NGX_CONF_BLOCK | NGX_CONF_NOARGS) as ngx_uint_t,
        ngx_rtmp_core_server,
        0
    ),
    command!(
        "listen",
        RTMP_SRV_CONF | NGX_CONF_1MORE as ngx_uint_t,
        ngx_rtmp_core_listen,
        SRV_CONF_OFFSET
    ),
    command!(
        "application",
        RTMP_SRV_CONF | (NGX_CONF_BLOCK | NGX_CONF_TAKE1) as ngx_uint_t,
        ngx_rtmp_core_application,
        SRV_CONF_OFFSET
    ),
    directive!(
        "timeout",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, timeout, msec)
    ),
    directive!(
        "ping",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, ping, msec)
    ),
    directive!(
        "ping_timeout",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, ping_timeout, msec)
    ),
    directive!(
        "max_streams",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, max_streams, number)
    ),
    directive!(
        "ack_window",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, ack_window, number)
    ),
    directive!(
        "chunk_size",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set_chunk_size
    ),
    directive!(
        "max_message",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set_max_message
    ),
    directive!(
        "out_queue",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, out_queue, size)
    ),
    directive!(
        "out_cork",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, out_cork, size)
    ),
    directive!(
        "busy",
        MSF,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, busy, flag)
    ),
    directive!(
        "buflen",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, buflen, msec)
    ),
    directive!(
        "so_keepalive",
        MSF,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, so_keepalive, flag)
    ),
    command!(
        "resolver",
        RTMP_MS | NGX_CONF_1MORE as ngx_uint_t,
        super::resolver::set_resolver,
        SRV_CONF_OFFSET
    ),
    directive!(
        "resolver_timeout",
        MS1,
        SRV_CONF_OFFSET,
        CoreSrvConf,
        set!(CoreSrvConf, resolver_timeout, msec)
    ),
    directive!(
        "play_time_fix",
        MSAF,
        APP_CONF_OFFSET,
        CoreAppConf,
        set!(CoreAppConf, play_time_fix, flag)
    ),
    directive!(
        "publish_time_fix",
        MSAF,
        APP_CONF_OFFSET,
        CoreAppConf,
        set!(CoreAppConf, publish_time_fix, flag)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_CORE_MODULE_CTX: RtmpModuleCtx = RtmpModuleCtx {
    create_main_conf: Some(create_conf::<CoreMainConf>),
    create_srv_conf: Some(create_conf::<CoreSrvConf>),
    merge_srv_conf: Some(merge_conf::<CoreSrvConf>),
    create_app_conf: Some(create_conf::<CoreAppConf>),
    merge_app_conf: Some(merge_conf::<CoreAppConf>),
};

#[no_mangle]
pub static mut ngx_rtmp_core_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_CORE_MODULE_CTX as *const RtmpModuleCtx as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_CORE_COMMANDS) as *mut ngx_command_t,
    type_: NGX_RTMP_MODULE,
    ..ngx_module_t::default()
};

fn core_index() -> usize {
    // SAFETY: ctx_index is set by ngx_count_modules before any RTMP conf exists.
    unsafe { (*addr_of_mut!(ngx_rtmp_core_module)).ctx_index }
}

/// # Safety
/// `ctx` must be a context built by `new_level` for the current cycle.
pub unsafe fn core_main_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut CoreMainConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).main_conf, core_index()) }
}

/// # Safety
/// As for [`core_main_conf`].
pub unsafe fn core_srv_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut CoreSrvConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).srv_conf, core_index()) }
}

/// # Safety
/// As for [`core_main_conf`].
pub unsafe fn core_app_conf<'a>(ctx: *const RtmpConfCtx) -> &'a mut CoreAppConf {
    // SAFETY: guaranteed by the caller.
    unsafe { super::conf::conf_at((*ctx).app_conf, core_index()) }
}

fn parser_ctx<'a>(cf: *mut ngx_conf_t) -> &'a RtmpConfCtx {
    // SAFETY: inside rtmp{} cf->ctx is always an RtmpConfCtx built by new_level.
    unsafe { &*((*cf).ctx as *const RtmpConfCtx) }
}

unsafe extern "C" fn ngx_rtmp_core_server(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("ngx_rtmp_core_server", super::ffi::NGX_CONF_ERROR, || {
        let parent = parser_ctx(cf);
        let Some(ctx) = new_level(cf, Some(parent), (false, true)) else {
            return NGX_CONF_ERROR;
        };
        // SAFETY: ctx and parent were built by new_level.
        let (cmcf, cscf) = unsafe { (core_main_conf(parent), core_srv_conf(&*ctx)) };
        cscf.index = cmcf.servers.len();
        cscf.ctx = ctx as usize;
        cmcf.servers.push(ctx);
        if !parse_block(cf, ctx, RTMP_SRV_CONF) {
            return NGX_CONF_ERROR;
        }
        NGX_CONF_OK
    })
}

unsafe extern "C" fn ngx_rtmp_core_application(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch(
        "ngx_rtmp_core_application",
        super::ffi::NGX_CONF_ERROR,
        || {
            let args = conf_args(cf);
            let name = args.get(1).cloned().unwrap_or_default();
            // SAFETY: nginx passes this module's srv conf (cmd.conf = SRV_CONF_OFFSET).
            let cscf = unsafe { &mut *(conf as *mut CoreSrvConf) };
            if cscf.applications.iter().any(|a| a.name == name) {
                conf_emerg(cf, &format!("duplicate application \"{name}\""));
                return NGX_CONF_ERROR;
            }
            let parent = parser_ctx(cf);
            let Some(ctx) = new_level(cf, Some(parent), (false, false)) else {
                return NGX_CONF_ERROR;
            };
            // SAFETY: ctx was built by new_level.
            unsafe { core_app_conf(&*ctx) }.name = name.clone();
            cscf.applications.push(AppEntry { name, ctx });
            if !parse_block(cf, ctx, RTMP_APP_CONF) {
                return NGX_CONF_ERROR;
            }
            NGX_CONF_OK
        },
    )
}

unsafe extern "C" fn ngx_rtmp_core_listen(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("ngx_rtmp_core_listen", super::ffi::NGX_CONF_ERROR, || {
        let ctx = parser_ctx(cf);
        match add_listen(cf, ctx) {
            Ok(()) => NGX_CONF_OK,
            Err(e) => {
                conf_emerg(cf, &e);
                NGX_CONF_ERROR
            }
        }
    })
}
