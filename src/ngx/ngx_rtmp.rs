//! The `rtmp {}` block: an nginx core module that creates the RTMP conf context, parses the
//! block with every RTMP-type module's directives, merges rtmp → server → application, and
//! opens the listening sockets.
use super::conf::{command, RtmpConfCtx, RtmpModuleCtx, NGX_RTMP_MODULE, RTMP_MAIN_CONF};
use super::ffi::{conf_emerg, NGX_CONF_ERROR, NGX_CONF_OK};
use super::listen;
use super::ngx_rtmp_auto_push_module::{auto_push_conf, AutoPushConf};
use super::ngx_rtmp_core_module::core_main_conf;
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_core_module_t, ngx_module_t, ngx_uint_t, NGX_CONF_BLOCK,
    NGX_CONF_NOARGS, NGX_CORE_MODULE, NGX_MAIN_CONF,
};
use std::ffi::{c_char, c_void};
use std::ptr::{addr_of_mut, null_mut};

static mut NGX_RTMP_COMMANDS: [ngx_command_t; 2] = [
    command!(
        "rtmp",
        (NGX_MAIN_CONF | NGX_CONF_BLOCK | NGX_CONF_NOARGS) as ngx_uint_t,
        ngx_rtmp_block,
        0
    ),
    ngx_command_t::empty(),
];

static mut NGX_RTMP_MODULE_CTX: ngx_core_module_t = ngx_core_module_t {
    name: ngx::ngx_string!("rtmp"),
    create_conf: None,
    init_conf: Some(ngx_rtmp_init_conf),
};

unsafe extern "C" fn ngx_rtmp_init_process(
    cycle: *mut nginx_sys::ngx_cycle_t,
) -> nginx_sys::ngx_int_t {
    super::ffi::catch(
        "ngx_rtmp_init_process",
        nginx_sys::NGX_OK as nginx_sys::ngx_int_t,
        || {
            super::auto_push::start(cycle);
            super::stat::start(cycle);
            super::control::start(cycle);
            super::exec::start();
            super::relay::start_statics();
            nginx_sys::NGX_OK as nginx_sys::ngx_int_t
        },
    )
}

unsafe extern "C" fn ngx_rtmp_exit_process(_cycle: *mut nginx_sys::ngx_cycle_t) {
    super::ffi::catch("ngx_rtmp_exit_process", (), || {
        super::relay::stop_pulls("the worker exits");
        super::exec::stop();
        super::auto_push::stop();
        super::stat::stop();
    });
}

/// Streams live in one worker's hub. With `rtmp_auto_push on` every worker accepts RTMP
/// clients and relays what is published to the others (auto_push/). Without it every RTMP
/// connection goes to worker 0, so players find publishers: nginx has exactly that for a
/// reuseport socket of worker 0 that it has not cloned: only worker 0 polls it, added
/// directly, with or without accept_mutex. The events module clones reuseport sockets for
/// every worker in its init_conf, which runs before this one; marking ours reuseport only now
/// keeps them single. http keeps every worker.
unsafe extern "C" fn ngx_rtmp_init_conf(
    cycle: *mut nginx_sys::ngx_cycle_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("ngx_rtmp_init_conf", NGX_CONF_ERROR, || {
        let auto_push = auto_push_conf(cycle).is_some_and(AutoPushConf::enabled);
        if conf.is_null() || auto_push {
            return NGX_CONF_OK;
        }
        // SAFETY: conf is this cycle's rtmp{} context; cycle->listening holds the cycle's
        // listening sockets, none opened yet.
        unsafe {
            let servers = &core_main_conf(conf as *const RtmpConfCtx).servers;
            for l in (*cycle)
                .listening
                .as_slice_mut::<nginx_sys::ngx_listening_t>()
            {
                if servers.contains(&(l.servers as *mut RtmpConfCtx)) {
                    l.set_reuseport(1);
                    l.worker = 0;
                }
            }
        }
        NGX_CONF_OK
    })
}

#[no_mangle]
pub static mut ngx_rtmp_module: ngx_module_t = ngx_module_t {
    ctx: addr_of_mut!(NGX_RTMP_MODULE_CTX) as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_COMMANDS) as *mut ngx_command_t,
    type_: NGX_CORE_MODULE as ngx_uint_t,
    init_process: Some(ngx_rtmp_init_process),
    exit_process: Some(ngx_rtmp_exit_process),
    ..ngx_module_t::default()
};

/// The RTMP-type modules of a cycle, in load order.
pub fn rtmp_modules(cycle: *mut nginx_sys::ngx_cycle_t) -> Vec<*mut ngx_module_t> {
    // SAFETY: cycle->modules holds modules_n valid module pointers.
    unsafe {
        let n = (*cycle).modules_n;
        (0..n)
            .map(|i| *(*cycle).modules.add(i))
            .filter(|m| !m.is_null() && (**m).type_ == NGX_RTMP_MODULE)
            .collect()
    }
}

/// Allocates conf arrays for a new level and lets each module create its conf there.
/// `main`/`srv` of `parent` are shared when the level does not create its own.
pub fn new_level(
    cf: *mut ngx_conf_t,
    parent: Option<&RtmpConfCtx>,
    levels: (bool, bool),
) -> Option<*mut RtmpConfCtx> {
    // SAFETY: cf is the live parser state; all memory comes from the cycle pool.
    unsafe {
        let cycle = (*cf).cycle;
        let n = nginx_sys::ngx_count_modules(cycle, NGX_RTMP_MODULE);
        if n < 0 {
            return None;
        }
        let n = n as usize;
        let pool = (*cf).pool;
        let ctx =
            nginx_sys::ngx_pcalloc(pool, std::mem::size_of::<RtmpConfCtx>()) as *mut RtmpConfCtx;
        if ctx.is_null() {
            return None;
        }
        let arr = || {
            nginx_sys::ngx_pcalloc(pool, n.max(1) * std::mem::size_of::<*mut c_void>())
                as *mut *mut c_void
        };
        let (new_main, new_srv) = levels;
        (*ctx).main_conf = match (new_main, parent) {
            (false, Some(p)) => p.main_conf,
            _ => arr(),
        };
        (*ctx).srv_conf = match (new_srv, parent) {
            (false, Some(p)) => p.srv_conf,
            _ => arr(),
        };
        (*ctx).app_conf = arr();
        if (*ctx).main_conf.is_null() || (*ctx).srv_conf.is_null() || (*ctx).app_conf.is_null() {
            return None;
        }
        for m in rtmp_modules(cycle) {
            let mctx = (*m).ctx as *const RtmpModuleCtx;
            let i = (*m).ctx_index;
            if new_main {
                if let Some(f) = (*mctx).create_main_conf {
                    let c = f(cf);
                    if c.is_null() {
                        return None;
                    }
                    *(*ctx).main_conf.add(i) = c;
                }
            }
            if new_srv {
                if let Some(f) = (*mctx).create_srv_conf {
                    let c = f(cf);
                    if c.is_null() {
                        return None;
                    }
                    *(*ctx).srv_conf.add(i) = c;
                }
            }
            if let Some(f) = (*mctx).create_app_conf {
                let c = f(cf);
                if c.is_null() {
                    return None;
                }
                *(*ctx).app_conf.add(i) = c;
            }
        }
        Some(ctx)
    }
}

/// Parses the current block with `ctx` as the conf context at level `cmd_type`.
pub fn parse_block(cf: *mut ngx_conf_t, ctx: *mut RtmpConfCtx, cmd_type: ngx_uint_t) -> bool {
    // SAFETY: cf is the live parser state; it is restored before returning.
    unsafe {
        let saved = *cf;
        (*cf).ctx = ctx as *mut c_void;
        (*cf).module_type = NGX_RTMP_MODULE;
        (*cf).cmd_type = cmd_type;
        let rv = nginx_sys::ngx_conf_parse(cf, null_mut());
        *cf = saved;
        rv.is_null()
    }
}

/// Merges the conf of every RTMP module from `parent` into `child` (server or app level).
pub fn merge_level(
    cf: *mut ngx_conf_t,
    parent: &RtmpConfCtx,
    child: &RtmpConfCtx,
    srv: bool,
) -> bool {
    // SAFETY: both contexts were made by new_level for this cycle's modules.
    unsafe {
        for m in rtmp_modules((*cf).cycle) {
            let mctx = (*m).ctx as *const RtmpModuleCtx;
            let i = (*m).ctx_index;
            if srv {
                if let Some(f) = (*mctx).merge_srv_conf {
                    if f(cf, *parent.srv_conf.add(i), *child.srv_conf.add(i)) != NGX_CONF_OK {
                        return false;
                    }
                }
            }
            if let Some(f) = (*mctx).merge_app_conf {
                if f(cf, *parent.app_conf.add(i), *child.app_conf.add(i)) != NGX_CONF_OK {
                    return false;
                }
            }
        }
    }
    true
}

unsafe extern "C" fn ngx_rtmp_block(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("ngx_rtmp_block", super::ffi::NGX_CONF_ERROR, || {
        let slot = conf as *mut *mut RtmpConfCtx;
        // SAFETY: for an NGX_MAIN_CONF block nginx passes &cycle->conf_ctx[ngx_rtmp_module.index].
        if unsafe { !(*slot).is_null() } {
            conf_emerg(cf, "\"rtmp\" directive is duplicate");
            return NGX_CONF_ERROR;
        }
        let Some(ctx) = new_level(cf, None, (true, true)) else {
            return NGX_CONF_ERROR;
        };
        // SAFETY: see above; the block's context lives in the cycle pool.
        unsafe { *slot = ctx };
        if !parse_block(cf, ctx, RTMP_MAIN_CONF) {
            return NGX_CONF_ERROR;
        }
        // SAFETY: ctx was just built; the core module is one of this cycle's RTMP modules.
        let (main_ctx, cmcf) = unsafe { (&*ctx, core_main_conf(&*ctx)) };
        for srv in &cmcf.servers {
            // SAFETY: server contexts were made by new_level in the `server` handler.
            let srv_ctx = unsafe { &**srv };
            if !merge_level(cf, main_ctx, srv_ctx, true) {
                return NGX_CONF_ERROR;
            }
            // SAFETY: as above.
            let cscf = unsafe { super::ngx_rtmp_core_module::core_srv_conf(srv_ctx) };
            for app in &cscf.applications {
                // SAFETY: application contexts were made by new_level in the `application` handler.
                let app_ctx = unsafe { &*app.ctx };
                if !merge_level(cf, srv_ctx, app_ctx, false) {
                    return NGX_CONF_ERROR;
                }
            }
        }
        for (app, rec) in &cmcf.nested {
            // SAFETY: nested (recorder) contexts and their parents were made by new_level.
            if !merge_level(cf, unsafe { &**app }, unsafe { &**rec }, false) {
                return NGX_CONF_ERROR;
            }
        }
        if !super::resolver::resolve_config_names(cf, cmcf) {
            return NGX_CONF_ERROR;
        }
        if !super::tls::init(cf, main_ctx) {
            return NGX_CONF_ERROR;
        }
        if !listen::open_listeners(cf, cmcf) {
            return NGX_CONF_ERROR;
        }
        // SAFETY: the core module's conf exists from the start of the configuration; an unset
        // worker_processes (-1) counts as one.
        let workers = unsafe {
            let cycle = (*cf).cycle;
            let ccf = *(*cycle)
                .conf_ctx
                .add((*addr_of_mut!(nginx_sys::ngx_core_module)).index)
                as *const nginx_sys::ngx_core_conf_t;
            if ccf.is_null() {
                1
            } else {
                (*ccf).worker_processes.max(1) as usize
            }
        };
        let tag = addr_of_mut!(ngx_rtmp_module) as *mut c_void;
        let zone = super::shm::add_zone(cf, workers, tag);
        if zone.is_null() {
            return NGX_CONF_ERROR;
        }
        cmcf.stat_zone = zone as usize;
        // SAFETY: nginx keeps ngx_cached_time current.
        cmcf.started_secs = unsafe { (*nginx_sys::ngx_cached_time).sec as u64 };
        NGX_CONF_OK
    })
}
