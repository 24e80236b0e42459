//! The nginx shell: module tables, directives, the connection driver. All `unsafe` lives here.
#![allow(non_upper_case_globals)]

mod app;
mod auto_push;
mod conf;
mod conn;
mod control;
mod deferred;
mod exec;
mod ffi;
mod flush;
mod http_reply;
mod listen;
mod mailbox;
#[cfg(feature = "export-modules")]
mod modules;
mod ngx_rtmp;
mod ngx_rtmp_access_module;
mod ngx_rtmp_auto_push_module;
mod ngx_rtmp_control_module;
mod ngx_rtmp_core_module;
mod ngx_rtmp_exec_module;
mod ngx_rtmp_hls_module;
mod ngx_rtmp_live_module;
mod ngx_rtmp_log_module;
mod ngx_rtmp_notify_module;
mod ngx_rtmp_record_module;
mod ngx_rtmp_relay_module;
// Without OpenSSL its settings are refused and its conf is never read.
#[cfg_attr(not(ngx_feature = "ssl"), allow(dead_code))]
mod ngx_rtmp_ssl_module;
mod ngx_rtmp_stat_module;
mod notify;
mod peer;
mod read_loop;
mod relay;
mod resolver;
mod shm;
mod stat;
mod storage;
mod timer;
mod tls;
mod values;
mod worker;
