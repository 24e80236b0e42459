//! http side of `/stat`: `rtmp_stat` (the page, XML or JSON, merged across every worker
//! through the stat zone) and `rtmp_stat_stylesheet`.
use super::conf::{command, create_conf, merge_conf, Conf};
use super::ffi::{conf_args, conf_emerg, ngx_str, NGX_CONF_ERROR, NGX_CONF_OK};
use super::http_reply::accept;
use super::stat::{zone, STALE_MS};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_http_module_t, ngx_http_request_t, ngx_int_t, ngx_module_t,
    ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_TAKE1, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET,
    NGX_HTTP_MAIN_CONF, NGX_HTTP_MODULE, NGX_HTTP_SRV_CONF,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};
use ngx_rtmp_core::stat::json::render_json;
use ngx_rtmp_core::stat::merge::merge;
use ngx_rtmp_core::stat::wire;
use ngx_rtmp_core::stat::xml::{parse_stat_mask, render_xml, XmlInfo, STAT_ALL};
use std::ffi::{c_char, c_void};
use std::ptr::addr_of_mut;

pub const HTTP_ANY: ngx_uint_t =
    (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF) as ngx_uint_t;

#[derive(Default)]
struct StatLocConf {
    /// `rtmp_stat` words: all, global, live, clients (None: not set here).
    mask: Option<Vec<String>>,
    stylesheet: Option<String>,
}

impl Conf for StatLocConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        if self.stylesheet.is_none() {
            self.stylesheet = p.stylesheet.clone();
        }
        Ok(())
    }
}

/// Checks the words of `rtmp_stat` / `rtmp_control` against the C module's.
pub fn check_words(cf: *mut ngx_conf_t, allowed: &[&str]) -> Result<Vec<String>, ()> {
    let args = conf_args(cf);
    for w in &args[1..] {
        if !allowed.contains(&w.as_str()) {
            conf_emerg(
                cf,
                &format!("invalid value \"{w}\" in \"{}\" directive", args[0]),
            );
            return Err(());
        }
    }
    Ok(args[1..].to_vec())
}

unsafe extern "C" fn set_stat(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("rtmp_stat", NGX_CONF_ERROR, || {
        let Ok(words) = check_words(cf, &["all", "global", "live", "clients", "play"]) else {
            return NGX_CONF_ERROR;
        };
        // SAFETY: conf is this module's loc conf; the core loc conf exists in an http location.
        unsafe {
            (*(conf as *mut StatLocConf)).mask = Some(words);
            match NgxHttpCoreModule::location_conf_mut(&*cf) {
                Some(clcf) => clcf.handler = Some(ngx_rtmp_stat_handler),
                None => return NGX_CONF_ERROR,
            }
        }
        NGX_CONF_OK
    })
}

unsafe extern "C" fn set_stylesheet(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("rtmp_stat_stylesheet", NGX_CONF_ERROR, || {
        let args = conf_args(cf);
        // SAFETY: conf is this module's loc conf.
        let c = unsafe { &mut *(conf as *mut StatLocConf) };
        if c.stylesheet.is_some() {
            conf_emerg(cf, "\"rtmp_stat_stylesheet\" directive is duplicate");
            return NGX_CONF_ERROR;
        }
        c.stylesheet = args.get(1).cloned();
        NGX_CONF_OK
    })
}

/// Whether the client asked for JSON: `?format=json` or an Accept header naming JSON.
fn wants_json(r: *mut ngx_http_request_t) -> bool {
    // SAFETY: r is the request being handled.
    let args = unsafe { ngx_str(&(*r).args) };
    if args.split('&').any(|kv| kv == "format=json") {
        return true;
    }
    // SAFETY: as above; the iterator walks nginx's list of request headers.
    let req = unsafe { ngx::http::Request::from_ngx_http_request(r) };
    req.headers_in_iterator().any(|(k, v)| {
        k.as_bytes().eq_ignore_ascii_case(b"accept")
            && String::from_utf8_lossy(v.as_bytes()).contains("application/json")
    })
}

unsafe extern "C" fn ngx_rtmp_stat_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    let err = nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    super::ffi::catch("rtmp_stat handler", err, || {
        // SAFETY: nginx calls a content handler with a live request.
        unsafe { stat_response(r) }
    })
}

unsafe fn stat_response(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: r is the live request (see ngx_rtmp_stat_handler).
    unsafe {
        if let Err(rc) = accept(r, nginx_sys::NGX_HTTP_GET | nginx_sys::NGX_HTTP_HEAD) {
            return rc;
        }
        let index = (*addr_of_mut!(ngx_rtmp_stat_module)).ctx_index;
        let lcf = &*(*(*r).loc_conf.add(index) as *const StatLocConf);
        let now = nginx_sys::ngx_current_msec as u64;
        let parts: Vec<_> = zone()
            .map(|z| z.read_all(now, STALE_MS))
            .unwrap_or_default()
            .iter()
            .filter_map(|b| wire::decode(b).ok())
            .collect();
        let snapshot = merge(&parts);
        let info = XmlInfo {
            nginx_version: ngx_str_c(nginx_sys::NGINX_VERSION),
            pid: nginx_sys::ngx_pid as u32,
            uptime_secs: super::stat::uptime_secs(),
            stylesheet: lcf.stylesheet.clone(),
            compiler: ngx_str_c(nginx_sys::NGX_COMPILER).trim().to_string(),
            built: String::new(),
            mask: lcf
                .mask
                .as_ref()
                .and_then(|w| parse_stat_mask(w.iter().map(String::as_str)))
                .unwrap_or(STAT_ALL),
        };
        let (body, ctype) = if wants_json(r) {
            (render_json(&snapshot, &info), "application/json")
        } else {
            (render_xml(&snapshot, &info), "text/xml")
        };
        super::http_reply::send_body(r, 200, ctype, body.as_bytes())
    }
}

fn ngx_str_c(s: &std::ffi::CStr) -> String {
    s.to_string_lossy().into_owned()
}

static mut NGX_RTMP_STAT_COMMANDS: [ngx_command_t; 3] = [
    command!(
        "rtmp_stat",
        HTTP_ANY | NGX_CONF_1MORE as ngx_uint_t,
        set_stat,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    command!(
        "rtmp_stat_stylesheet",
        HTTP_ANY | NGX_CONF_TAKE1 as ngx_uint_t,
        set_stylesheet,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_STAT_MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: None,
    postconfiguration: None,
    create_main_conf: None,
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(create_conf::<StatLocConf>),
    merge_loc_conf: Some(merge_conf::<StatLocConf>),
};

#[no_mangle]
pub static mut ngx_rtmp_stat_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_STAT_MODULE_CTX as *const ngx_http_module_t as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_STAT_COMMANDS) as *mut ngx_command_t,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};
