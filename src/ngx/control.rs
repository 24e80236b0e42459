//! The worker side of `/control`: a poll timer reads requests from the mailbox (mailbox.rs),
//! acts on this worker's sessions and answers; the HTTP side (ngx_rtmp_control_module.rs)
//! adds up the answers of every worker.
use super::app;
use super::conn::{close_connection, send_notices, Conn, Role};
use super::relay;
use super::stat::zone;
use super::worker::for_each_conn;
use nginx_sys::{ngx_cycle_t, ngx_event_t};
use ngx_rtmp_core::control::{Answer, ControlRequest, Method, Target};

/// How often a worker looks for control requests: a request waits at most this long.
const POLL_MS: nginx_sys::ngx_msec_t = 20;

fn pid() -> u32 {
    // SAFETY: ngx_pid is set once per process.
    unsafe { nginx_sys::ngx_pid as u32 }
}

/// Starts the poll timer in a worker (init_process).
pub fn start(cycle: *mut ngx_cycle_t) {
    if super::stat::rtmp_ctx().is_none() {
        return;
    }
    // SAFETY: cycle is the worker's cycle; its log outlives the event.
    let ev = super::timer::worker_timer(unsafe { (*cycle).log }, Some(poll));
    // SAFETY: ev is a leaked, live event.
    unsafe { nginx_sys::ngx_add_timer(ev, POLL_MS) };
}

unsafe extern "C" fn poll(ev: *mut ngx_event_t) {
    super::ffi::catch("control poll", (), || {
        answer_pending();
        // SAFETY: ev is this worker's leaked poll event.
        unsafe { nginx_sys::ngx_add_timer(ev, POLL_MS) };
    });
}

/// Answers every request this worker has not answered yet. Also called directly by the
/// HTTP handler, so a request served by the worker that holds the sessions needs no wait.
pub fn answer_pending() {
    let Some(z) = zone() else { return };
    let mb = z.mailbox();
    let me = pid();
    for (slot, id, text) in mb.pending_for(me) {
        let answer = match ControlRequest::from_wire(&text) {
            Some(req) => execute(&req),
            None => Answer {
                error: Some((400, "unreadable control request".into())),
                ..Default::default()
            },
        };
        mb.answer(slot, id, me, &answer.to_wire());
    }
}

/// The facts a filter looks at, for a session that publishes or plays a stream.
fn selected(conn: &Conn, req: &ControlRequest) -> Option<bool> {
    let (key, publishing) = match &conn.role {
        Role::Publishing(k) => (k, true),
        Role::Playing(k) => (k, false),
        Role::Idle => return None,
    };
    let addr = conn.addr.map(|a| a.to_string()).unwrap_or_default();
    // SAFETY: conn.c is the live connection of a registered Conn.
    let number = unsafe { (*conn.c).number };
    req.filter
        .matches(key.server, &key.app, &key.name, &addr, number)
        .then_some(publishing)
}

fn wanted(target: Target, publishing: bool) -> bool {
    match target {
        Target::Publisher => publishing,
        Target::Subscriber => !publishing,
        Target::Client => true,
    }
}

fn execute(req: &ControlRequest) -> Answer {
    let target = match &req.method {
        Method::RecordStart | Method::RecordStop => Target::Publisher,
        Method::PushStart(_) | Method::PushStop(_) => Target::Publisher,
        Method::Drop(t) | Method::Redirect(t, _) => *t,
    };
    let mut conns = Vec::new();
    for_each_conn(|conn| {
        // A relay from another worker is that worker's publisher, which answers for itself.
        if !conn.from_worker && selected(conn, req).is_some_and(|p| wanted(target, p)) {
            conns.push(conn.c);
        }
    });
    let mut answer = Answer::default();
    for c in conns {
        // SAFETY: c was a registered connection a moment ago; nothing ran in between that
        // could close it except the actions on earlier connections, which close only those.
        let data = unsafe { (*c).data } as *mut Conn;
        if data.is_null() {
            continue;
        }
        match &req.method {
            Method::Drop(_) => {
                // SAFETY: a timer handler runs outside every connection handler.
                unsafe { close_connection(c) };
                answer.count += 1;
            }
            Method::Redirect(_, newname) => {
                // SAFETY: as above; the Conn is live and not borrowed elsewhere.
                let conn = unsafe { &mut *data };
                match app::redirect(conn, newname) {
                    Some(true) => super::conn::flush_later(conn),
                    // SAFETY: as for drop.
                    Some(false) => unsafe { close_connection(c) },
                    None => continue,
                }
                answer.count += 1;
            }
            Method::RecordStart | Method::RecordStop => {
                // SAFETY: as above.
                let conn = unsafe { &mut *data };
                record(conn, req, &mut answer);
            }
            Method::PushStart(url) | Method::PushStop(url) => {
                // SAFETY: as above.
                let conn = unsafe { &*data };
                let done = match (&req.method, &conn.role) {
                    (Method::PushStart(_), _) => relay::control_start(conn, url),
                    (_, Role::Publishing(key)) => relay::control_stop(key, url),
                    _ => Ok(false),
                };
                match done {
                    Ok(true) => answer.count += 1,
                    Ok(false) => {}
                    Err(e) => answer.error = Some(e),
                }
            }
        }
    }
    answer
}

fn record(conn: &mut Conn, req: &ControlRequest, answer: &mut Answer) {
    let start = req.method == Method::RecordStart;
    let mut notices = Vec::new();
    // SAFETY: conn.c is live.
    let clog = unsafe { (*conn.c).log };
    let done = conn
        .sinks
        .as_mut()
        .and_then(|s| s.control_record(clog, &req.recorder, start, &mut notices));
    match done {
        Some(path) => {
            answer.count += 1;
            if path.is_some() {
                answer.path = path;
            }
        }
        None => {
            answer.error = Some((404, format!("recorder \"{}\" not found", req.recorder)));
        }
    }
    send_notices(conn, notices);
    super::conn::flush_later(conn);
}
