//! `rtmp_auto_push`, `rtmp_auto_push_reconnect`, `rtmp_socket_dir`: top-level nginx directives
//! (outside `rtmp {}`), so this is a core module with a conf of its own. Its `create_conf` runs
//! first in every configuration read and its `init_conf` last, which is where the start-up
//! warning about accepted-but-inactive directives is logged. What the settings drive is in
//! auto_push/.
use super::conf::command;
use super::deferred;
use super::ffi::{conf_args, conf_emerg, conf_full_path, log, NGX_CONF_ERROR, NGX_CONF_OK};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_core_module_t, ngx_cycle_t, ngx_module_t, ngx_uint_t,
    NGX_CONF_FLAG, NGX_CONF_TAKE1, NGX_CORE_MODULE, NGX_DIRECT_CONF, NGX_LOG_WARN, NGX_MAIN_CONF,
};
use ngx_rtmp_core::config::values::{parse_flag, parse_msec};
use std::ffi::{c_char, c_void};
use std::ptr::addr_of_mut;

#[derive(Default)]
pub struct AutoPushConf {
    pub auto_push: Option<bool>,
    pub reconnect: Option<u64>,
    pub socket_dir: Option<String>,
}

impl AutoPushConf {
    pub fn enabled(&self) -> bool {
        self.auto_push.unwrap_or(false)
    }

    /// `rtmp_auto_push_reconnect`: the first wait before a relay to a worker connects
    /// again (the C module's default, 100 ms).
    pub fn reconnect_ms(&self) -> u64 {
        self.reconnect.unwrap_or(100)
    }

    pub fn socket_dir(&self) -> &str {
        self.socket_dir.as_deref().unwrap_or("/tmp")
    }
}

/// The settings of `cycle` (the defaults if the module is not in it).
pub fn auto_push_conf<'a>(cycle: *const ngx_cycle_t) -> Option<&'a AutoPushConf> {
    // SAFETY: conf_ctx has a slot per module index; this core module's slot holds the conf
    // create_conf made (NGX_DIRECT_CONF), which lives as long as the cycle.
    unsafe {
        let index = (*addr_of_mut!(ngx_rtmp_auto_push_module)).index;
        if cycle.is_null() || index == usize::MAX || (*cycle).conf_ctx.is_null() {
            return None;
        }
        let conf = *(*cycle).conf_ctx.add(index) as *const AutoPushConf;
        conf.as_ref()
    }
}

unsafe extern "C" fn create_conf(cycle: *mut ngx_cycle_t) -> *mut c_void {
    super::ffi::catch("create_conf", std::ptr::null_mut(), || {
        deferred::reset();
        // SAFETY: the cycle pool lives as long as this configuration.
        let pool = unsafe { ngx::core::Pool::from_ngx_pool((*cycle).pool) };
        pool.allocate(AutoPushConf::default()) as *mut c_void
    })
}

unsafe extern "C" fn init_conf(cycle: *mut ngx_cycle_t, _conf: *mut c_void) -> *mut c_char {
    super::ffi::catch("init_conf", super::ffi::NGX_CONF_ERROR, || {
        let names = deferred::take();
        if !names.is_empty() {
            // SAFETY: the cycle's log is valid while the configuration is being initialised.
            let clog = unsafe { (*cycle).log };
            log(
                clog,
                NGX_LOG_WARN,
                &format!(
                "rtmp: these directives are accepted but have no effect yet in this version: {}",
                names.join(", ")
            ),
            );
        }
        NGX_CONF_OK
    })
}

unsafe extern "C" fn set(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("set", super::ffi::NGX_CONF_ERROR, || {
        let args = conf_args(cf);
        // SAFETY: NGX_DIRECT_CONF: nginx passes the conf create_conf made.
        let c = unsafe { &mut *(conf as *mut AutoPushConf) };
        let (name, value) = (
            args[0].as_str(),
            args.get(1).map(String::as_str).unwrap_or(""),
        );
        let r = match name {
            "rtmp_auto_push" => parse_flag(name, value).map(|v| c.auto_push.replace(v).is_some()),
            "rtmp_auto_push_reconnect" => {
                parse_msec(name, value).map(|v| c.reconnect.replace(v).is_some())
            }
            // Relative to nginx's prefix, as nginx reads paths.
            _ => Ok(c.socket_dir.replace(conf_full_path(cf, value)).is_some()),
        };
        match r {
            Ok(false) => NGX_CONF_OK,
            Ok(true) => {
                conf_emerg(cf, &format!("\"{name}\" directive is duplicate"));
                NGX_CONF_ERROR
            }
            Err(e) => {
                conf_emerg(cf, &e.to_string());
                NGX_CONF_ERROR
            }
        }
    })
}

const MAIN: ngx_uint_t = (NGX_MAIN_CONF | NGX_DIRECT_CONF) as ngx_uint_t;

static mut NGX_RTMP_AUTO_PUSH_COMMANDS: [ngx_command_t; 4] = [
    command!("rtmp_auto_push", MAIN | NGX_CONF_FLAG as ngx_uint_t, set, 0),
    command!(
        "rtmp_auto_push_reconnect",
        MAIN | NGX_CONF_TAKE1 as ngx_uint_t,
        set,
        0
    ),
    command!(
        "rtmp_socket_dir",
        MAIN | NGX_CONF_TAKE1 as ngx_uint_t,
        set,
        0
    ),
    ngx_command_t::empty(),
];

static mut NGX_RTMP_AUTO_PUSH_MODULE_CTX: ngx_core_module_t = ngx_core_module_t {
    name: ngx::ngx_string!("rtmp_auto_push"),
    create_conf: Some(create_conf),
    init_conf: Some(init_conf),
};

#[no_mangle]
pub static mut ngx_rtmp_auto_push_module: ngx_module_t = ngx_module_t {
    ctx: addr_of_mut!(NGX_RTMP_AUTO_PUSH_MODULE_CTX) as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_AUTO_PUSH_COMMANDS) as *mut ngx_command_t,
    type_: NGX_CORE_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};
