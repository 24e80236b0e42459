//! The export tables nginx reads from a dynamic module (`ngx_modules`, `ngx_module_names`,
//! `ngx_module_order`), written by hand: `ngx::ngx_modules!` does not compile for more than one
//! module in ngx 0.5.1. Built with the `export-modules` feature (default). nginx's own build
//! system (`config`) generates these tables itself from the list in `config`, which names the
//! same modules in the same order (tests/packaging.rs checks it).
use super::ngx_rtmp::ngx_rtmp_module;
use super::ngx_rtmp_access_module::ngx_rtmp_access_module;
use super::ngx_rtmp_auto_push_module::ngx_rtmp_auto_push_module;
use super::ngx_rtmp_control_module::ngx_rtmp_control_module;
use super::ngx_rtmp_core_module::ngx_rtmp_core_module;
use super::ngx_rtmp_exec_module::ngx_rtmp_exec_module;
use super::ngx_rtmp_hls_module::ngx_rtmp_hls_module;
use super::ngx_rtmp_live_module::ngx_rtmp_live_module;
use super::ngx_rtmp_log_module::ngx_rtmp_log_module;
use super::ngx_rtmp_notify_module::ngx_rtmp_notify_module;
use super::ngx_rtmp_record_module::ngx_rtmp_record_module;
use super::ngx_rtmp_relay_module::ngx_rtmp_relay_module;
use super::ngx_rtmp_ssl_module::ngx_rtmp_ssl_module;
use super::ngx_rtmp_stat_module::ngx_rtmp_stat_module;
use nginx_sys::ngx_module_t;
use std::ffi::c_char;
use std::ptr::{addr_of, null};

const N: usize = 15;

#[no_mangle]
pub static mut ngx_modules: [*const ngx_module_t; N] = [
    addr_of!(ngx_rtmp_module),
    addr_of!(ngx_rtmp_auto_push_module),
    addr_of!(ngx_rtmp_core_module),
    addr_of!(ngx_rtmp_access_module),
    addr_of!(ngx_rtmp_live_module),
    addr_of!(ngx_rtmp_log_module),
    addr_of!(ngx_rtmp_record_module),
    addr_of!(ngx_rtmp_hls_module),
    addr_of!(ngx_rtmp_relay_module),
    addr_of!(ngx_rtmp_ssl_module),
    addr_of!(ngx_rtmp_exec_module),
    addr_of!(ngx_rtmp_notify_module),
    addr_of!(ngx_rtmp_stat_module),
    addr_of!(ngx_rtmp_control_module),
    null(),
];

#[no_mangle]
pub static mut ngx_module_names: [*const c_char; N] = [
    c"ngx_rtmp_module".as_ptr(),
    c"ngx_rtmp_auto_push_module".as_ptr(),
    c"ngx_rtmp_core_module".as_ptr(),
    c"ngx_rtmp_access_module".as_ptr(),
    c"ngx_rtmp_live_module".as_ptr(),
    c"ngx_rtmp_log_module".as_ptr(),
    c"ngx_rtmp_record_module".as_ptr(),
    c"ngx_rtmp_hls_module".as_ptr(),
    c"ngx_rtmp_relay_module".as_ptr(),
    c"ngx_rtmp_ssl_module".as_ptr(),
    c"ngx_rtmp_exec_module".as_ptr(),
    c"ngx_rtmp_notify_module".as_ptr(),
    c"ngx_rtmp_stat_module".as_ptr(),
    c"ngx_rtmp_control_module".as_ptr(),
    null(),
];

#[no_mangle]
pub static mut ngx_module_order: [*const c_char; 1] = [null()];
