//! http side: `rtmp_stat` and `rtmp_stat_stylesheet`, and `rtmp_control`. Parsed and checked
//! with the C module's syntax; the pages themselves come with the monitoring release.
use super::deferred;
use super::ffi::{conf_args, conf_emerg, NGX_CONF_ERROR, NGX_CONF_OK};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_http_module_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE,
    NGX_CONF_TAKE1, NGX_HTTP_LOC_CONF, NGX_HTTP_MAIN_CONF, NGX_HTTP_MODULE, NGX_HTTP_SRV_CONF,
};
use std::ffi::{c_char, c_void};
use std::ptr::{addr_of_mut, null_mut};

const HTTP_ANY: ngx_uint_t =
    (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF) as ngx_uint_t;

/// Checks a bitmask-style argument list against the words the C module accepts.
fn check_words(cf: *mut ngx_conf_t, allowed: &[&str]) -> *mut c_char {
    let args = conf_args(cf);
    for w in &args[1..] {
        if !allowed.contains(&w.as_str()) {
            conf_emerg(
                cf,
                &format!("invalid value \"{w}\" in \"{}\" directive", args[0]),
            );
            return NGX_CONF_ERROR;
        }
    }
    deferred::note(&args[0]);
    NGX_CONF_OK
}

unsafe extern "C" fn set_stat(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("set_stat", super::ffi::NGX_CONF_ERROR, || {
        check_words(cf, &["all", "global", "live", "clients", "play"])
    })
}

unsafe extern "C" fn set_stylesheet(
    _cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("set_stylesheet", super::ffi::NGX_CONF_ERROR, || {
        deferred::note("rtmp_stat_stylesheet");
        NGX_CONF_OK
    })
}

unsafe extern "C" fn set_control(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("set_control", super::ffi::NGX_CONF_ERROR, || {
        check_words(cf, &["all", "record", "drop", "redirect"])
    })
}

static mut NGX_RTMP_STAT_COMMANDS: [ngx_command_t; 3] = [
    ngx_command_t {
        name: ngx::ngx_string!("rtmp_stat"),
        type_: HTTP_ANY | NGX_CONF_1MORE as ngx_uint_t,
        set: Some(set_stat),
        conf: 0,
        offset: 0,
        post: null_mut(),
    },
    ngx_command_t {
        name: ngx::ngx_string!("rtmp_stat_stylesheet"),
        type_: HTTP_ANY | NGX_CONF_TAKE1 as ngx_uint_t,
        set: Some(set_stylesheet),
        conf: 0,
        offset: 0,
        post: null_mut(),
    },
    ngx_command_t::empty(),
];

static mut NGX_RTMP_CONTROL_COMMANDS: [ngx_command_t; 2] = [
    ngx_command_t {
        name: ngx::ngx_string!("rtmp_control"),
        type_: HTTP_ANY | NGX_CONF_1MORE as ngx_uint_t,
        set: Some(set_control),
        conf: 0,
        offset: 0,
        post: null_mut(),
    },
    ngx_command_t::empty(),
];

static NGX_RTMP_HTTP_MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: None,
    postconfiguration: None,
    create_main_conf: None,
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: None,
    merge_loc_conf: None,
};

#[no_mangle]
pub static mut ngx_rtmp_stat_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_HTTP_MODULE_CTX as *const ngx_http_module_t as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_STAT_COMMANDS) as *mut ngx_command_t,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};

#[no_mangle]
pub static mut ngx_rtmp_control_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_HTTP_MODULE_CTX as *const ngx_http_module_t as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_CONTROL_COMMANDS) as *mut ngx_command_t,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};
