//! `on_update`: every `notify_update_timeout` while a session publishes or plays, a call with
//! the time since it began. The next call is scheduled when the answer is in, as in the C
//! module. A refusal drops the session: any non-2xx answer, and with `notify_update_strict`
//! also a 3xx, an unreachable server or a timeout.
use super::app_ctx;
use super::call::OnDone;
use super::endpoint::{about, endpoint};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::{close_connection, now, Conn};
use crate::ngx::ffi::log;
use crate::ngx::ngx_rtmp_notify_module::notify_conf;
use crate::ngx::worker;
use nginx_sys::{ngx_connection_t, ngx_event_t, ngx_msec_t, NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::notify::{decide, Call, Gate, Outcome, Verdict};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn interval(ctx: &RtmpConfCtx) -> Option<ngx_msec_t> {
    let conf = notify_conf(ctx);
    conf.on_update.as_ref()?;
    Some(conf.update_timeout.unwrap_or(30_000) as ngx_msec_t).filter(|&t| t > 0)
}

/// Arms the timer for the session's publish or play, unless it runs already.
pub fn start(conn: &mut Conn, ctx: &RtmpConfCtx) {
    let Some(ms) = interval(ctx) else {
        return;
    };
    let c = conn.c;
    let ev = conn.hooks.update_ev.get_or_insert_with(|| {
        // SAFETY: an all-zero ngx_event_t is nginx's own starting state.
        let mut ev: Box<ngx_event_t> = Box::new(unsafe { std::mem::zeroed() });
        ev.handler = Some(fire);
        ev.data = c as *mut std::ffi::c_void;
        // SAFETY: c is the session's live connection; its log lives as long as it does.
        ev.log = unsafe { (*c).log };
        // A worker that shuts down need not wait for the next update.
        ev.set_cancelable(1);
        ev
    });
    if ev.timer_set() == 0 {
        // SAFETY: the event lives in the Conn's hooks until the session closes (stop()).
        unsafe { nginx_sys::ngx_add_timer(&mut **ev, ms) };
    }
}

/// The session stopped publishing or playing, or is closing.
pub fn stop(conn: &mut Conn) {
    if let Some(ev) = conn.hooks.update_ev.as_mut() {
        // SAFETY: the event is ours; deleting a timer or posted event only unlinks it.
        unsafe {
            if ev.timer_set() != 0 {
                nginx_sys::ngx_del_timer(&mut **ev);
            }
            if ev.posted() != 0 {
                nginx_sys::ngx_delete_posted_event(&mut **ev);
            }
        }
    }
    if let Some(id) = conn.hooks.update_call.take() {
        super::call::detach(id);
    }
}

unsafe extern "C" fn fire(ev: *mut ngx_event_t) {
    // SAFETY: the update event's data is the session's connection; the timer is deleted
    // before the connection closes.
    let c = unsafe { (*ev).data as *mut ngx_connection_t };
    // SAFETY: as above; close_connection clears c->data first.
    let conn = unsafe { (*c).data as *mut Conn };
    if conn.is_null() {
        return;
    }
    // SAFETY: a live Conn, and no other handler holds it while this one runs.
    let conn = unsafe { &mut *conn };
    if catch_unwind(AssertUnwindSafe(|| call(conn))).is_err() {
        // SAFETY: the connection is still open; nothing uses conn afterwards.
        unsafe {
            log(
                (*c).log,
                NGX_LOG_ERR,
                "rtmp: internal error in on_update, closing connection",
            );
            close_connection(c);
        }
    }
}

fn call(conn: &mut Conn) {
    let (Some(ctx), Some(a)) = (app_ctx(conn), conn.hooks.active.as_ref()) else {
        return;
    };
    let Some(e) = endpoint(ctx, |c| &c.on_update) else {
        return;
    };
    let elapsed = now().wrapping_sub(a.since);
    let call = Call::Update {
        publishing: a.publishing,
        time: elapsed as u64 / 1000,
        timestamp: elapsed as u32,
        name: a.name.clone(),
        args: a.args.clone(),
    };
    let fields = conn.hooks.fields.clone().unwrap_or_default();
    let id = e.call(&call, &fields, about(conn), Some(on_answer(conn.id)));
    conn.hooks.update_call = Some(id);
}

fn on_answer(conn_id: u64) -> OnDone {
    Box::new(move |outcome: Outcome| {
        let Some(ptr) = worker::conn_ptr(conn_id) else {
            return;
        };
        // SAFETY: registered Conns are live; this runs in a call's handler.
        let conn = unsafe { &mut *ptr };
        conn.hooks.update_call = None;
        let Some(ctx) = app_ctx(conn) else {
            return;
        };
        if conn.hooks.active.is_none() {
            return;
        }
        let conf = notify_conf(ctx);
        let url = conf
            .on_update
            .as_ref()
            .map(|h| h.url.text.clone())
            .unwrap_or_default();
        let strict = conf.update_strict == Some(true);
        // SAFETY: conn.c is the session's live connection.
        let clog = unsafe { (*conn.c).log };
        match decide(Gate::Update { strict }, &outcome) {
            Verdict::Refuse(why) => {
                log(
                    clog,
                    NGX_LOG_ERR,
                    &format!("on_update: {url}: {why}, closing connection"),
                );
                // SAFETY: as above; nothing uses conn afterwards.
                unsafe { close_connection(conn.c) };
            }
            _ => {
                if let Outcome::Failed(why) = &outcome {
                    log(
                        clog,
                        NGX_LOG_INFO,
                        &format!("on_update: {url}: {why} (notify_update_strict is off)"),
                    );
                }
                start(conn, ctx);
            }
        }
    })
}
