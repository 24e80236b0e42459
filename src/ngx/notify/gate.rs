//! The hooks that decide: `on_connect`, `on_publish` and `on_play`. The session's request is
//! held (`Pending`) while the call runs; the worker goes on serving everyone else. When the
//! answer comes, the request goes on (perhaps renamed, perhaps with a push) or is refused
//! with an error status, and the connection is flushed or closed from the call's handler.
use super::endpoint::{about, endpoint, session_fields};
use super::md5::md5_hex;
use super::{app_ctx, is_internal, Active, Held, Pending};
use crate::ngx::app;
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::{close_after_flush, close_connection, flush_later, now, Conn, Role};
use crate::ngx::ffi::log;
use crate::ngx::ngx_rtmp_notify_module::notify_conf;
use crate::ngx::worker;
use nginx_sys::{NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::hub::stream_name_problem;
use ngx_rtmp_core::notify::{decide, Call, Gate, Outcome, Verdict};
use ngx_rtmp_core::protocol::{ConnectInfo, PlayRequest, PublishRequest};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn clog(conn: &Conn) -> *mut nginx_sys::ngx_log_t {
    // SAFETY: conn.c is the live connection of this Conn.
    unsafe { (*conn.c).log }
}

/// What a held request hears: the answer, delivered to the session if it still waits.
fn on_answer(conn_id: u64) -> super::call::OnDone {
    Box::new(move |outcome| {
        let Some(ptr) = worker::conn_ptr(conn_id) else {
            return;
        };
        // SAFETY: registered Conns are live, and this runs in a call's handler, where no
        // handler of the session holds it.
        let conn = unsafe { &mut *ptr };
        let Some(pending) = conn.hooks.pending.take() else {
            return;
        };
        let c = conn.c;
        let keep = catch_unwind(AssertUnwindSafe(|| decided(conn, pending.held, &outcome)))
            .unwrap_or_else(|_| {
                log(
                    clog(conn),
                    NGX_LOG_ERR,
                    "rtmp: internal error in a hook's answer, closing connection",
                );
                false
            });
        if keep {
            flush_later(conn);
        } else {
            // SAFETY: c is the session's live connection; nothing uses conn afterwards.
            unsafe { close_connection(c) };
        }
    })
}

/// `connect`: true when on_connect holds it.
pub fn hold_connect(conn: &mut Conn, info: &ConnectInfo) -> bool {
    conn.hooks.fields = Some(session_fields(conn, info));
    if is_internal(conn) {
        return false;
    }
    // SAFETY: conn.srv is the server context of the listening socket that accepted it.
    let srv = unsafe { &*conn.srv };
    let Some(e) = endpoint(srv, |c| &c.on_connect) else {
        return false;
    };
    let call = Call::Connect {
        epoch: conn.started as u32,
        args: info.args.clone(),
    };
    let fields = conn.hooks.fields.clone().unwrap_or_default();
    let id = e.call(&call, &fields, about(conn), Some(on_answer(conn.id)));
    conn.hooks.pending = Some(Pending {
        call: id,
        held: Held::Connect(info.clone()),
    });
    true
}

/// A publish or play begins: remember what the done and update hooks will report (the name
/// and args as the client asked, as the C module does), start the update timer, and hold
/// the request if the application has `on_publish`/`on_play`. True when held.
fn hold(conn: &mut Conn, ctx: &RtmpConfCtx, held: Held, call: Call) -> bool {
    if is_internal(conn) {
        return false;
    }
    let (publishing, name, args) = match &held {
        Held::Publish(r) => (true, r.name.clone(), r.args.clone()),
        Held::Play(r) => (false, r.name.clone(), r.args.clone()),
        Held::Connect(_) => return false,
    };
    conn.hooks.active = Some(Active {
        publishing,
        name,
        args,
        since: now(),
    });
    super::update::start(conn, ctx);
    let e = if publishing {
        endpoint(ctx, |c| &c.on_publish)
    } else {
        endpoint(ctx, |c| &c.on_play)
    };
    let Some(e) = e else {
        return false;
    };
    if let Some(earlier) = conn.hooks.pending.take() {
        super::call::detach(earlier.call);
    }
    let fields = conn.hooks.fields.clone().unwrap_or_default();
    let id = e.call(&call, &fields, about(conn), Some(on_answer(conn.id)));
    conn.hooks.pending = Some(Pending { call: id, held });
    true
}

pub fn hold_publish(conn: &mut Conn, ctx: &RtmpConfCtx, req: &PublishRequest) -> bool {
    let call = Call::Publish {
        name: req.name.clone(),
        kind: req.kind.clone(),
        args: req.args.clone(),
    };
    hold(conn, ctx, Held::Publish(req.clone()), call)
}

pub fn hold_play(conn: &mut Conn, ctx: &RtmpConfCtx, req: &PlayRequest) -> bool {
    let call = Call::Play {
        name: req.name.clone(),
        start: req.start,
        duration: req.duration,
        reset: req.reset,
        args: req.args.clone(),
    };
    hold(conn, ctx, Held::Play(req.clone()), call)
}

/// The hook refused: the error log says which hook, its URL and why.
fn refused(conn: &mut Conn, directive: &str, url: &str, why: &str) {
    log(
        clog(conn),
        NGX_LOG_ERR,
        &format!("{directive}: {url}: {why}, refused"),
    );
    conn.hooks.active = None;
    super::update::stop(conn);
}

/// A 3xx's new stream name must be as safe as a client's.
fn renamed_ok(conn: &Conn, directive: &str, name: &str) -> bool {
    match stream_name_problem(name) {
        None => true,
        Some(problem) => {
            let shown: String = name
                .chars()
                .take(64)
                .flat_map(char::escape_default)
                .collect();
            log(
                clog(conn),
                NGX_LOG_ERR,
                &format!("{directive}: the new stream name \"{shown}\" {problem}, refused"),
            );
            false
        }
    }
}

/// Acts on the answer; false closes the connection at once.
fn decided(conn: &mut Conn, held: Held, outcome: &Outcome) -> bool {
    match held {
        Held::Connect(info) => connect_decided(conn, info, outcome),
        Held::Publish(req) => publish_decided(conn, req, outcome),
        Held::Play(req) => play_decided(conn, req, outcome),
    }
}

fn connect_decided(conn: &mut Conn, mut info: ConnectInfo, outcome: &Outcome) -> bool {
    // SAFETY: conn.srv is the server context of the listening socket that accepted it.
    let conf = notify_conf(unsafe { &*conn.srv });
    let url = conf
        .on_connect
        .as_ref()
        .map(|h| h.url.text.clone())
        .unwrap_or_default();
    match decide(Gate::Connect, outcome) {
        Verdict::Allow | Verdict::Relay(_) => {}
        Verdict::Rename(app) => {
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!(
                    "notify: on_connect redirects \"{}\" to application \"{app}\"",
                    info.app
                ),
            );
            if let Some(f) = conn.hooks.fields.as_mut() {
                f.app = app.clone();
            }
            info.app = app;
        }
        Verdict::Refuse(why) => {
            refused(conn, "on_connect", &url, &why);
            conn.session.reject_connect("Refused by on_connect");
            close_after_flush(conn);
            return true;
        }
    }
    app::connect_app(conn, info)
}

fn publish_decided(conn: &mut Conn, mut req: PublishRequest, outcome: &Outcome) -> bool {
    let Some(ctx) = app_ctx(conn) else {
        return false;
    };
    let conf = notify_conf(ctx);
    let url = conf
        .on_publish
        .as_ref()
        .map(|h| h.url.text.clone())
        .unwrap_or_default();
    let refuse = |conn: &mut Conn, stream_id: u32, why: &str| {
        refused(conn, "on_publish", &url, why);
        conn.session.reject_publish(
            stream_id,
            "NetStream.Publish.BadName",
            "Refused by on_publish",
        );
        close_after_flush(conn);
        true
    };
    match decide(Gate::Publish, outcome) {
        Verdict::Allow => app::publish_admitted(conn, ctx, req),
        Verdict::Rename(name) => {
            if !renamed_ok(conn, "on_publish", &name) {
                return refuse(conn, req.stream_id, "bad redirect");
            }
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!(
                    "notify: on_publish redirects \"{}\" to \"{name}\"",
                    req.name
                ),
            );
            req.name = name;
            app::publish_admitted(conn, ctx, req)
        }
        Verdict::Relay(target) => {
            if conf.relay_redirect == Some(true) {
                req.name = md5_hex(target.as_bytes());
            }
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("notify: on_publish pushes \"{}\" to {target}", req.name),
            );
            let ok = app::publish_admitted(conn, ctx, req);
            if matches!(conn.role, Role::Publishing(_)) {
                // decide() matched the scheme in any case; the push parser wants it lower.
                let url = format!("rtmp://{}", &target[7..]);
                if let Err((_, e)) = crate::ngx::relay::start_url(conn, &url, "on_publish") {
                    log(
                        clog(conn),
                        NGX_LOG_ERR,
                        &format!("on_publish: {url}: cannot push to {target}: {e}"),
                    );
                }
            }
            ok
        }
        Verdict::Refuse(why) => refuse(conn, req.stream_id, &why),
    }
}

fn play_decided(conn: &mut Conn, mut req: PlayRequest, outcome: &Outcome) -> bool {
    let Some(ctx) = app_ctx(conn) else {
        return false;
    };
    let conf = notify_conf(ctx);
    let url = conf
        .on_play
        .as_ref()
        .map(|h| h.url.text.clone())
        .unwrap_or_default();
    let refuse = |conn: &mut Conn, stream_id: u32, why: &str| {
        refused(conn, "on_play", &url, why);
        conn.session.reject_play(
            stream_id,
            "NetStream.Play.StreamNotFound",
            "Refused by on_play",
        );
        close_after_flush(conn);
        true
    };
    match decide(Gate::Play, outcome) {
        Verdict::Allow => app::play_admitted(conn, ctx, req),
        Verdict::Rename(name) => {
            if !renamed_ok(conn, "on_play", &name) {
                return refuse(conn, req.stream_id, "bad redirect");
            }
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("notify: on_play redirects \"{}\" to \"{name}\"", req.name),
            );
            req.name = name;
            app::play_admitted(conn, ctx, req)
        }
        // Played from another server: a pull of that URL brings the stream here.
        Verdict::Relay(target) => {
            if conf.relay_redirect == Some(true) {
                req.name = md5_hex(target.as_bytes());
            }
            // decide() matched the scheme in any case; the pull parser wants it lower.
            let pull_url = format!("rtmp://{}", &target[7..]);
            let key = app::stream_key(conn, &req.name);
            if let Err(e) = crate::ngx::relay::redirect_pull(&key, &pull_url) {
                return refuse(conn, req.stream_id, &e);
            }
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("notify: on_play pulls \"{}\" from {target}", req.name),
            );
            app::play_admitted(conn, ctx, req)
        }
        Verdict::Refuse(why) => refuse(conn, req.stream_id, &why),
    }
}
