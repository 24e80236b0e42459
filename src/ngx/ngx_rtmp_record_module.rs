//! `record*` and `recorder NAME {}` with nginx-rtmp-module's syntax: each application has an
//! implicit recorder (its own `record*` settings) and any number of named ones; the recorders
//! themselves run per published stream (see sinks.rs).
use super::conf::{
    app_conf_ctx, command, conf_at, directive, rtmp_module, set, Conf, Directive, RtmpConfCtx,
    RtmpModuleCtx, APP_CONF_OFFSET, RTMP_APP_CONF, RTMP_MSA, RTMP_REC_CONF,
};
use super::ffi::{conf_args, conf_emerg, conf_warn, NGX_CONF_ERROR, NGX_CONF_OK};
use super::ngx_rtmp::{new_level, parse_block};
use super::ngx_rtmp_core_module::core_main_conf;
use super::values::{flag, msec, number, path, size, string};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_BLOCK,
    NGX_CONF_FLAG, NGX_CONF_TAKE1,
};
use ngx_rtmp_core::config::record::{parse_record_flags, RECORD_OFF};
use std::ffi::{c_char, c_void};

#[derive(Default)]
pub struct RecordAppConf {
    pub flags: Option<u32>,
    pub path: Option<String>,
    pub suffix: Option<String>,
    pub unique: Option<bool>,
    pub append: Option<bool>,
    pub lock: Option<bool>,
    pub max_size: Option<u64>,
    pub max_frames: Option<u64>,
    pub interval: Option<u64>,
    pub notify: Option<bool>,
    /// `recorder` blocks of this application: name and conf context.
    pub recorders: Vec<(String, *mut RtmpConfCtx)>,
}

impl Conf for RecordAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        self.flags = self.flags.or(p.flags).or(Some(RECORD_OFF));
        self.path = self.path.take().or_else(|| p.path.clone());
        self.suffix = self
            .suffix
            .take()
            .or_else(|| p.suffix.clone())
            .or_else(|| Some(".flv".into()));
        self.unique = self.unique.or(p.unique);
        self.append = self.append.or(p.append);
        self.lock = self.lock.or(p.lock);
        self.max_size = self.max_size.or(p.max_size);
        self.max_frames = self.max_frames.or(p.max_frames);
        self.interval = self.interval.or(p.interval);
        self.notify = self.notify.or(p.notify);
        Ok(())
    }
}

fn set_record(c: &mut RecordAppConf, d: &Directive) -> Result<(), String> {
    let (flags, warnings) =
        parse_record_flags(&d.values()).map_err(|e| format!("{e} in \"record\" directive"))?;
    for w in warnings {
        conf_warn(d.cf, &w);
    }
    d.set_once(&mut c.flags, flags)
}

unsafe extern "C" fn ngx_rtmp_record_recorder(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch(
        "ngx_rtmp_record_recorder",
        super::ffi::NGX_CONF_ERROR,
        || {
            let name = conf_args(cf).get(1).cloned().unwrap_or_default();
            // SAFETY: nginx passes this module's app conf (APP_CONF_OFFSET); cf->ctx is the
            // application's RtmpConfCtx.
            let (racf, parent) = unsafe {
                (
                    &mut *(conf as *mut RecordAppConf),
                    (*cf).ctx as *mut RtmpConfCtx,
                )
            };
            if racf.recorders.iter().any(|(n, _)| *n == name) {
                conf_emerg(cf, &format!("duplicate recorder \"{name}\""));
                return NGX_CONF_ERROR;
            }
            // SAFETY: parent is a live context built by new_level.
            let Some(ctx) = new_level(cf, Some(unsafe { &*parent }), (false, false)) else {
                return NGX_CONF_ERROR;
            };
            racf.recorders.push((name, ctx));
            // SAFETY: as above; the main conf belongs to the core module.
            unsafe { core_main_conf(&*parent) }
                .nested
                .push((parent, ctx));
            if !parse_block(cf, ctx, RTMP_REC_CONF) {
                return NGX_CONF_ERROR;
            }
            NGX_CONF_OK
        },
    )
}

type R = RecordAppConf;
const REC: ngx_uint_t = RTMP_MSA | RTMP_REC_CONF;
const R1: ngx_uint_t = REC | NGX_CONF_TAKE1 as ngx_uint_t;
const RF: ngx_uint_t = REC | NGX_CONF_FLAG as ngx_uint_t;

static mut NGX_RTMP_RECORD_COMMANDS: [ngx_command_t; 12] = [
    command!(
        "recorder",
        RTMP_APP_CONF | (NGX_CONF_BLOCK | NGX_CONF_TAKE1) as ngx_uint_t,
        ngx_rtmp_record_recorder,
        APP_CONF_OFFSET
    ),
    directive!(
        "record",
        REC | NGX_CONF_1MORE as ngx_uint_t,
        APP_CONF_OFFSET,
        R,
        set_record
    ),
    directive!("record_path", R1, APP_CONF_OFFSET, R, set!(R, path, path)),
    directive!(
        "record_suffix",
        R1,
        APP_CONF_OFFSET,
        R,
        set!(R, suffix, string)
    ),
    directive!(
        "record_unique",
        RF,
        APP_CONF_OFFSET,
        R,
        set!(R, unique, flag)
    ),
    directive!(
        "record_append",
        RF,
        APP_CONF_OFFSET,
        R,
        set!(R, append, flag)
    ),
    directive!("record_lock", RF, APP_CONF_OFFSET, R, set!(R, lock, flag)),
    directive!(
        "record_max_size",
        R1,
        APP_CONF_OFFSET,
        R,
        set!(R, max_size, size)
    ),
    directive!(
        "record_max_frames",
        R1,
        APP_CONF_OFFSET,
        R,
        set!(R, max_frames, number)
    ),
    directive!(
        "record_interval",
        R1,
        APP_CONF_OFFSET,
        R,
        set!(R, interval, msec)
    ),
    directive!(
        "record_notify",
        RF,
        APP_CONF_OFFSET,
        R,
        set!(R, notify, flag)
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_RECORD_MODULE_CTX: RtmpModuleCtx = app_conf_ctx!(RecordAppConf);

#[no_mangle]
pub static mut ngx_rtmp_record_module: ngx_module_t =
    rtmp_module!(NGX_RTMP_RECORD_MODULE_CTX, NGX_RTMP_RECORD_COMMANDS);

/// The recorders of an application: the implicit one (id "") and the named blocks, each
/// with its merged settings. Recorders that record nothing are left out.
pub fn recorders(ctx: &RtmpConfCtx) -> Vec<(String, &RecordAppConf)> {
    let own = record_conf(ctx);
    let mut all = vec![(String::new(), own)];
    for (name, rec) in &own.recorders {
        // SAFETY: recorder contexts were made by new_level and live as long as the cycle.
        all.push((name.clone(), record_conf(unsafe { &**rec })));
    }
    all.retain(|(_, c)| c.flags.unwrap_or(RECORD_OFF) & !RECORD_OFF != 0);
    all
}

pub fn record_conf(ctx: &RtmpConfCtx) -> &RecordAppConf {
    // SAFETY: ctx is an application or recorder context of the running cycle, made with this
    // module's create_app_conf at index ctx_index.
    unsafe {
        conf_at(
            ctx.app_conf,
            (*std::ptr::addr_of_mut!(ngx_rtmp_record_module)).ctx_index,
        )
    }
}
