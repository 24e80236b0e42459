//! http side of `/control` (`rtmp_control all|record|drop|redirect|push`): the C module's API,
//! answered for the whole server. The request is checked here, posted to every worker through
//! the control mailbox, and answered once every live worker has (control.rs acts on each
//! worker's sessions). The wait is a timer on the request, never a blocking loop.
use super::conf::{command, create_conf, Conf};
use super::ffi::{log, ngx_str, NGX_CONF_ERROR, NGX_CONF_OK};
use super::http_reply::{accept, send_body};
use super::ngx_rtmp_stat_module::{check_words, HTTP_ANY};
use super::stat::{zone, STALE_MS};
use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_event_t, ngx_http_module_t, ngx_http_request_t, ngx_int_t,
    ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MODULE,
    NGX_LOG_WARN,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};
use ngx_rtmp_core::control::{parse_request, Answer, Reply, Section};
use std::ffi::{c_char, c_void};
use std::ptr::addr_of_mut;

/// How long the answer of every worker is waited for.
const DEADLINE_MS: u64 = 3000;
const POLL_MS: nginx_sys::ngx_msec_t = 5;

#[derive(Default)]
struct ControlLocConf {
    /// Enabled sections, as `Section` bits.
    mask: u32,
}

impl Conf for ControlLocConf {}

unsafe extern "C" fn set_control(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    super::ffi::catch("rtmp_control", NGX_CONF_ERROR, || {
        let Ok(words) = check_words(cf, &["all", "record", "drop", "redirect", "push"]) else {
            return NGX_CONF_ERROR;
        };
        let mask = words.iter().fold(0u32, |m, w| {
            m | match w.as_str() {
                "record" => Section::Record as u32,
                "drop" => Section::Drop as u32,
                "redirect" => Section::Redirect as u32,
                "push" => Section::Push as u32,
                _ => 0xff,
            }
        });
        // SAFETY: conf is this module's loc conf; the core loc conf exists in a location.
        unsafe {
            (*(conf as *mut ControlLocConf)).mask = mask;
            match NgxHttpCoreModule::location_conf_mut(&*cf) {
                Some(clcf) => clcf.handler = Some(ngx_rtmp_control_handler),
                None => return NGX_CONF_ERROR,
            }
        }
        NGX_CONF_OK
    })
}

fn text_reply(status: u16, reason: &str) -> Reply {
    Reply {
        status,
        body: format!("{reason}\n"),
    }
}

unsafe extern "C" fn ngx_rtmp_control_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    let err = nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    super::ffi::catch("rtmp_control handler", err, || {
        // SAFETY: nginx calls a content handler with a live request.
        unsafe { handle(r) }
    })
}

unsafe fn handle(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: r is the live request (see ngx_rtmp_control_handler).
    unsafe {
        let allowed = nginx_sys::NGX_HTTP_GET | nginx_sys::NGX_HTTP_HEAD | nginx_sys::NGX_HTTP_POST;
        if let Err(rc) = accept(r, allowed) {
            return rc;
        }
        let index = (*addr_of_mut!(ngx_rtmp_control_module)).ctx_index;
        let lcf = &*(*(*r).loc_conf.add(index) as *const ControlLocConf);
        let req = match parse_request(&ngx_str(&(*r).uri), &ngx_str(&(*r).args)) {
            Ok(req) => req,
            Err((status, reason)) => return reply(r, &text_reply(status, &reason)),
        };
        if lcf.mask & req.section as u32 == 0 {
            let why = "this control section is not enabled by rtmp_control here";
            return reply(r, &text_reply(404, why));
        }
        let Some(z) = zone() else {
            return reply(r, &text_reply(503, "no rtmp{} block is running"));
        };
        let now = nginx_sys::ngx_current_msec as u64;
        let Some((slot, id)) = z.mailbox().post(&req.to_wire(), now) else {
            return reply(r, &text_reply(503, "too many control requests at once"));
        };
        let mut expected = z.live_pids(now, STALE_MS);
        let me = nginx_sys::ngx_pid as u32;
        if !expected.contains(&me) {
            expected.push(me);
        }
        // This worker answers at once; others within their poll interval.
        super::control::answer_pending();
        let waiter = Waiter {
            ev: std::mem::zeroed(),
            r,
            slot,
            id,
            record: req.section == Section::Record,
            expected,
            deadline: now + DEADLINE_MS,
        };
        if let Some(done) = waiter.try_finish() {
            return reply(r, &done);
        }
        // Wait on a timer: the request stays open (count) until the answers are in.
        let cln = nginx_sys::ngx_pool_cleanup_add((*r).pool, std::mem::size_of::<Waiter>());
        if cln.is_null() {
            z.mailbox().release(slot, id);
            return nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
        let w = (*cln).data as *mut Waiter;
        std::ptr::write(w, waiter);
        (*cln).handler = Some(drop_waiter);
        let ev = addr_of_mut!((*w).ev);
        (*ev).handler = Some(wait_tick);
        // nginx's debug log reads a timer event's data as a connection.
        (*ev).data = (*r).connection as *mut c_void;
        (*ev).log = (*(*r).connection).log;
        (*ev).set_cancelable(1);
        nginx_sys::ngx_add_timer(ev, POLL_MS);
        (*(*r).main).set_count((*(*r).main).count() + 1);
        nginx_sys::NGX_DONE as ngx_int_t
    }
}

/// A request waiting for the workers' answers; lives in the request pool (its cleanup).
#[repr(C)]
struct Waiter {
    /// First, so the timer's event pointer is the Waiter's.
    ev: ngx_event_t,
    r: *mut ngx_http_request_t,
    slot: usize,
    id: u64,
    record: bool,
    expected: Vec<u32>,
    deadline: u64,
}

impl Waiter {
    /// The reply once every expected worker answered, or a 504 at the deadline.
    fn try_finish(&self) -> Option<Reply> {
        let z = zone()?;
        let mb = z.mailbox();
        let got = mb.answers(self.slot, self.id);
        let missing: Vec<u32> = self
            .expected
            .iter()
            .copied()
            .filter(|pid| !got.iter().any(|(p, _)| p == pid))
            .collect();
        // SAFETY: reading nginx's cached clock.
        let now = unsafe { nginx_sys::ngx_current_msec } as u64;
        if !missing.is_empty() && now < self.deadline {
            return None;
        }
        mb.release(self.slot, self.id);
        if !missing.is_empty() {
            let pids: Vec<String> = missing.iter().map(u32::to_string).collect();
            let text = format!("worker process {} did not answer", pids.join(", "));
            // SAFETY: r is the live request this waiter belongs to.
            log(unsafe { (*(*self.r).connection).log }, NGX_LOG_WARN, &text);
            return Some(text_reply(504, &text));
        }
        let answers: Vec<Answer> = got
            .iter()
            .filter_map(|(_, t)| Answer::from_wire(t))
            .collect();
        Some(Answer::reply(&answers, self.record))
    }
}

unsafe extern "C" fn wait_tick(ev: *mut ngx_event_t) {
    super::ffi::catch("rtmp_control wait", (), || {
        // SAFETY: ev is the first field of a Waiter that lives until the request's pool goes,
        // which cannot happen before we finalize the request below.
        unsafe {
            let w = &*(ev as *const Waiter);
            let r = w.r;
            match w.try_finish() {
                None => nginx_sys::ngx_add_timer(ev, POLL_MS),
                Some(done) => {
                    let c = (*r).connection;
                    let rc = reply(r, &done);
                    nginx_sys::ngx_http_finalize_request(r, rc);
                    nginx_sys::ngx_http_run_posted_requests(c);
                }
            }
        }
    })
}

unsafe extern "C" fn drop_waiter(data: *mut c_void) {
    super::ffi::catch("rtmp_control cleanup", (), || {
        // SAFETY: data is the Waiter written into this cleanup's storage.
        unsafe {
            let w = data as *mut Waiter;
            if (*w).ev.timer_set() != 0 {
                nginx_sys::ngx_del_timer(addr_of_mut!((*w).ev));
            }
            std::ptr::drop_in_place(w);
        }
    })
}

unsafe fn reply(r: *mut ngx_http_request_t, reply: &Reply) -> ngx_int_t {
    // SAFETY: r is a live request with no response sent yet.
    unsafe { send_body(r, reply.status, "text/plain", reply.body.as_bytes()) }
}

static mut NGX_RTMP_CONTROL_COMMANDS: [ngx_command_t; 2] = [
    command!(
        "rtmp_control",
        HTTP_ANY | NGX_CONF_1MORE as ngx_uint_t,
        set_control,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    ngx_command_t::empty(),
];

static NGX_RTMP_CONTROL_MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: None,
    postconfiguration: None,
    create_main_conf: None,
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(create_conf::<ControlLocConf>),
    merge_loc_conf: None,
};

#[no_mangle]
pub static mut ngx_rtmp_control_module: ngx_module_t = ngx_module_t {
    ctx: &NGX_RTMP_CONTROL_MODULE_CTX as *const ngx_http_module_t as *mut c_void,
    commands: addr_of_mut!(NGX_RTMP_CONTROL_COMMANDS) as *mut ngx_command_t,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    ..ngx_module_t::default()
};
