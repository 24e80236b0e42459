//! `access_log` and `log_format` of the rtmp block: one line per session when it ends, in
//! nginx-rtmp-module's default `combined` format unless a named format is given.
use super::conf::{
    create_conf, directive, merge_conf, Conf, Directive, RtmpConfCtx, RtmpModuleCtx,
    APP_CONF_OFFSET, MAIN_CONF_OFFSET, NGX_RTMP_MODULE, RTMP_MAIN_CONF, RTMP_MSA,
};
use super::conn::{now, Conn};
use super::ffi::{ngx_str, pool_str};
use nginx_sys::{
    ngx_command_t, ngx_module_t, ngx_open_file_t, ngx_uint_t, NGX_CONF_2MORE, NGX_CONF_TAKE12,
};
use ngx_rtmp_core::accesslog::{command, readable_time, LogFormat, COMBINED};
use ngx_rtmp_core::protocol::ConnectInfo;
use std::ffi::c_void;
use std::ptr::addr_of_mut;

#[derive(Default)]
pub struct LogMainConf {
    formats: Vec<(String, LogFormat)>,
}
impl Conf for LogMainConf {}

#[derive(Clone)]
struct LogTarget {
    file: *mut ngx_open_file_t,
    format: LogFormat,
}

#[derive(Default)]
pub struct LogAppConf {
    /// None: not set at this level; Some(empty): `access_log off`.
    logs: Option<Vec<LogTarget>>,
}

impl Conf for LogAppConf {
    fn merge(&mut self, p: &Self) -> Result<(), String> {
        if self.logs.is_none() {
            self.logs = p.logs.clone();
        }
        Ok(())
    }
}

fn set_access_log(c: &mut LogAppConf, d: &Directive) -> Result<(), String> {
    let v = d.values();
    if v[0] == "off" {
        if v.len() > 1 {
            return Err(format!("invalid parameter \"{}\"", v[1]));
        }
        c.logs = Some(Vec::new());
        return Ok(());
    }
    let format = match v.get(1) {
        None | Some(&"combined") => LogFormat::parse(COMBINED)?,
        Some(name) => {
            // SAFETY: inside rtmp{} cf->ctx is an RtmpConfCtx; log_format lives in main conf.
            let main: &LogMainConf = unsafe {
                let ctx = &*((*d.cf).ctx as *const RtmpConfCtx);
                super::conf::conf_at(
                    ctx.main_conf,
                    (*addr_of_mut!(ngx_rtmp_log_module)).ctx_index,
                )
            };
            main.formats
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, f)| f.clone())
                .ok_or_else(|| format!("unknown log format \"{name}\""))?
        }
    };
    // SAFETY: nginx opens (and on USR1 reopens) the file for the cycle; the name is pool memory.
    let file = unsafe {
        let mut name = pool_str((*d.cf).pool, v[0]);
        nginx_sys::ngx_conf_open_file((*d.cf).cycle, &mut name)
    };
    if file.is_null() {
        return Err(format!("cannot open access log \"{}\"", v[0]));
    }
    c.logs
        .get_or_insert_with(Vec::new)
        .push(LogTarget { file, format });
    Ok(())
}

fn set_log_format(c: &mut LogMainConf, d: &Directive) -> Result<(), String> {
    let name = d.value().to_string();
    if name == "combined" || c.formats.iter().any(|(n, _)| *n == name) {
        return Err(format!("duplicate \"log_format\" name \"{name}\""));
    }
    let template: String = d.values[1..].concat();
    let format = LogFormat::parse(&template)?;
    c.formats.push((name, format));
    Ok(())
}

static mut NGX_RTMP_LOG_COMMANDS: [ngx_command_t; 3] = [
    directive!(
        "access_log",
        RTMP_MSA | NGX_CONF_TAKE12 as ngx_uint_t,
        APP_CONF_OFFSET,
        LogAppConf,
        set_access_log
    ),
    directive!(
        "log_format",
        RTMP_MAIN_CONF | NGX_CONF_2MORE as ngx_uint_t,
        MAIN_CONF_OFFSET,
        LogMainConf,
        set_log_format
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_LOG_MODULE_CTX: RtmpModuleCtx = RtmpModuleCtx {
    create_main_conf: Some(create_conf::<LogMainConf>),
    create_srv_conf: None,
    merge_srv_conf: None,
    create_app_conf: Some(create_conf::<LogAppConf>),
    merge_app_conf: Some(merge_conf::<LogAppConf>),
};

#[no_mangle]
pub static mut ngx_rtmp_log_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_LOG_MODULE_CTX as *const RtmpModuleCtx as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_LOG_COMMANDS) as *mut ngx_command_t,
    type_: NGX_RTMP_MODULE,
    ..ngx_module_t::default()
};

/// What a session did, for its log line.
#[derive(Default)]
pub struct Entry {
    info: ConnectInfo,
    name: String,
    args: String,
    played: bool,
    published: bool,
}

impl Entry {
    pub fn connect(&mut self, info: &ConnectInfo) {
        self.info = info.clone();
    }
    pub fn command(&mut self, cmd: &str, name: &str, args: &str) {
        self.name = name.to_string();
        self.args = args.to_string();
        match cmd {
            "PUBLISH" => self.published = true,
            _ => self.played = true,
        }
    }
}

/// Writes the session's line to every log of its application (or of its server, before the
/// client chose an application).
pub fn write(conn: &Conn) {
    let ctx = match &conn.app {
        Some(app) => app.ctx,
        None => conn.srv,
    };
    // SAFETY: application and server contexts live as long as the connection's cycle.
    let conf: &LogAppConf = unsafe {
        super::conf::conf_at(
            (*ctx).app_conf,
            (*addr_of_mut!(ngx_rtmp_log_module)).ctx_index,
        )
    };
    let Some(logs) = &conf.logs else { return };
    if logs.is_empty() {
        return;
    }
    let e = &conn.log_entry;
    // SAFETY: conn.c is still open while its session is being closed.
    let (addr, number) = unsafe { (ngx_str(&(*conn.c).addr_text), (*conn.c).number) };
    let secs = (now().wrapping_sub(conn.started) / 1000) as u64;
    let value = |v: &str| -> String {
        match v {
            "connection" => number.to_string(),
            "remote_addr" => addr.clone(),
            "app" => e.info.app.clone(),
            "flashver" => e.info.flash_ver.clone(),
            "swfurl" => e.info.swf_url.clone(),
            "tcurl" => e.info.tc_url.clone(),
            "pageurl" => e.info.page_url.clone(),
            "command" => command(e.played, e.published).to_string(),
            "name" => e.name.clone(),
            "args" => e.args.clone(),
            "bytes_sent" => conn.outbox.borrow().bytes_out.to_string(),
            "bytes_received" => conn.session.bytes_in().to_string(),
            // SAFETY: nginx keeps this cached string current in the worker's thread.
            "time_local" => unsafe { ngx_str(&*addr_of_mut!(nginx_sys::ngx_cached_http_log_time)) },
            "msec" => format!("{}.{:03}", now() / 1000, now() % 1000),
            "session_time" => secs.to_string(),
            "session_readable_time" => readable_time(secs),
            _ => String::new(),
        }
    };
    for l in logs {
        let mut line = l.format.render(&value);
        line.push('\n');
        // SAFETY: the open file belongs to the cycle; a short or failed write loses one line.
        unsafe {
            libc::write((*l.file).fd, line.as_ptr() as *const c_void, line.len());
        }
    }
}
