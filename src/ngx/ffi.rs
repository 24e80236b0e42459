//! Safe views of the raw nginx structs the shell touches; the only place they are dereferenced
//! outside the connection driver.
use nginx_sys::{ngx_array_t, ngx_conf_t, ngx_str_t, ngx_uint_t, NGX_LOG_EMERG, NGX_LOG_WARN};
use ngx_rtmp_core::log_text::escape_control;
use std::ffi::c_char;

pub const NGX_CONF_OK: *mut c_char = std::ptr::null_mut();
pub const NGX_CONF_ERROR: *mut c_char = usize::MAX as *mut c_char;

/// The text of an nginx string; config and protocol text is not always UTF-8, so be lossy.
pub fn ngx_str(s: &ngx_str_t) -> String {
    if s.len == 0 || s.data.is_null() {
        return String::new();
    }
    // SAFETY: nginx strings point at `len` readable bytes for as long as the string lives.
    let bytes = unsafe { std::slice::from_raw_parts(s.data, s.len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// The arguments of the directive being parsed: the name first, then its values.
pub fn conf_args(cf: *mut ngx_conf_t) -> Vec<String> {
    // SAFETY: during parsing cf->args is an array of ngx_str_t holding the current directive.
    unsafe {
        let args: &ngx_array_t = &*(*cf).args;
        args.as_slice::<ngx_str_t>().iter().map(ngx_str).collect()
    }
}

/// Logs at `emerg` with the file and line nginx appends, as nginx's own directives do.
pub fn conf_emerg(cf: *mut ngx_conf_t, msg: &str) {
    conf_log(cf, NGX_LOG_EMERG as ngx_uint_t, msg);
}

pub fn conf_warn(cf: *mut ngx_conf_t, msg: &str) {
    conf_log(cf, NGX_LOG_WARN as ngx_uint_t, msg);
}

fn conf_log(cf: *mut ngx_conf_t, level: ngx_uint_t, msg: &str) {
    // SAFETY: cf is the live parser state; "%*s" reads exactly len bytes of msg.
    unsafe {
        nginx_sys::ngx_conf_log_error(level, cf, 0, c"%*s".as_ptr(), msg.len(), msg.as_ptr());
    }
}

/// Logs through an nginx log object at the given level.
pub fn log(log: *mut nginx_sys::ngx_log_t, level: u32, msg: &str) {
    if log.is_null() {
        return;
    }
    // SAFETY: log points at a live ngx_log_t (a connection's or the cycle's).
    unsafe {
        if (level as ngx_uint_t) <= (*log).log_level {
            // Messages quote what clients sent: none may start a line of its own.
            let msg = escape_control(msg);
            nginx_sys::ngx_log_error_core(
                level as ngx_uint_t,
                log,
                0,
                c"%*s".as_ptr(),
                msg.len(),
                msg.as_ptr(),
            );
        }
    }
}

/// Copies `s` into the pool as an ngx_str_t, NUL-terminated like nginx's own config strings
/// (file names are handed to open(2) as they are).
pub fn pool_str(pool: *mut nginx_sys::ngx_pool_t, s: &str) -> ngx_str_t {
    // SAFETY: ngx_pnalloc returns len + 1 writable bytes or null.
    unsafe {
        let p = nginx_sys::ngx_pnalloc(pool, s.len() + 1) as *mut u8;
        if p.is_null() {
            return ngx_str_t {
                len: 0,
                data: std::ptr::null_mut(),
            };
        }
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        ngx_str_t {
            len: s.len(),
            data: p,
        }
    }
}

/// Runs an `extern "C"` body; a panic becomes `fallback` instead of unwinding into nginx.
pub fn catch<T>(what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            // SAFETY: ngx_cycle is the running cycle; its log is always valid.
            let clog = unsafe { (*nginx_sys::ngx_cycle).log };
            log(
                clog,
                nginx_sys::NGX_LOG_ALERT,
                &format!("rtmp: internal error in {what}"),
            );
            fallback
        }
    }
}

/// A path from the configuration made absolute against nginx's prefix (`-p`), as nginx does
/// for its own file directives, so it does not depend on the directory nginx started in.
pub fn conf_full_path(cf: *mut ngx_conf_t, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    // SAFETY: cf->cycle is the cycle being configured; its prefix is set before parsing.
    let prefix = unsafe { ngx_str(&(*(*cf).cycle).prefix) };
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}
