//! What a session's requests mean in an application: connect to an `application`, publish
//! and play a live stream, subject to `allow`/`deny` and the live settings.
use super::conf::RtmpConfCtx;
use super::conn::{
    close_after_flush, move_session_output, send_notices, start_ping, wake, watch_idle_publisher,
    Conn, PublisherHeaders, Role,
};
use super::ffi::log;
use super::ngx_rtmp_access_module::access_allows;
use super::ngx_rtmp_core_module::core_srv_conf;
use super::ngx_rtmp_live_module::live_conf;
use super::storage::Sinks;
use super::worker::with_hub;
use nginx_sys::ngx_msec_t;
use nginx_sys::{NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::hub::{stream_name_problem, PlayOptions, StreamKey};
use ngx_rtmp_core::protocol::{ConnectInfo, PlayRequest, PublishRequest};

pub struct App {
    pub ctx: *mut RtmpConfCtx,
    pub info: ConnectInfo,
}

fn clog(conn: &Conn) -> *mut nginx_sys::ngx_log_t {
    // SAFETY: conn.c is the live connection this Conn belongs to.
    unsafe { (*conn.c).log }
}

pub fn on_connect(conn: &mut Conn, info: ConnectInfo) -> bool {
    conn.log_entry.connect(&info);
    if super::notify::hold_connect(conn, &info) {
        return true;
    }
    connect_app(conn, info)
}

/// `connect` once its hook (if any) allowed it: the application by name.
pub fn connect_app(conn: &mut Conn, info: ConnectInfo) -> bool {
    // SAFETY: conn.srv is the server context of the listening socket.
    let cscf = unsafe { core_srv_conf(&*conn.srv) };
    let Some(app) = cscf.applications.iter().find(|a| a.name == info.app) else {
        log(
            clog(conn),
            NGX_LOG_ERR,
            &format!("rtmp: application not found: \"{}\"", info.app),
        );
        conn.session.reject_connect("Application not found");
        close_after_flush(conn);
        return true;
    };
    log(
        clog(conn),
        NGX_LOG_INFO,
        &format!(
            "rtmp: connect app=\"{}\" flashver=\"{}\" tcurl=\"{}\"",
            info.app, info.flash_ver, info.tc_url
        ),
    );
    conn.app = Some(App { ctx: app.ctx, info });
    conn.session.accept_connect();
    start_ping(conn);
    true
}

fn checked_name(conn: &mut Conn, name: &str, what: &str) -> bool {
    if let Some(problem) = stream_name_problem(name) {
        let shown: String = name
            .chars()
            .take(64)
            .flat_map(char::escape_default)
            .collect();
        log(
            clog(conn),
            NGX_LOG_ERR,
            &format!("rtmp: {what} refused: stream name \"{shown}\" {problem}"),
        );
        return false;
    }
    true
}

/// Why a publish or play was not admitted.
enum Refusal {
    /// The stream name could leave a directory or is absurd: answered, then closed.
    BadName,
    /// No application, or `deny` matched: closed at once, as nginx-rtmp does.
    Closed,
}

/// The checks publish and play share: a connected application, a safe stream name and the
/// `allow`/`deny` rules. Leaves any earlier role of the session.
fn admit<'a>(
    conn: &mut Conn,
    name: &str,
    args: &str,
    publish: bool,
) -> Result<&'a RtmpConfCtx, Refusal> {
    let what = if publish { "publish" } else { "play" };
    let Some(app) = &conn.app else {
        return Err(Refusal::Closed);
    };
    // SAFETY: application contexts live as long as the cycle that accepted this connection.
    let ctx: &'a RtmpConfCtx = unsafe { &*app.ctx };
    conn.log_entry
        .command(if publish { "PUBLISH" } else { "PLAY" }, name, args);
    if !checked_name(conn, name, what) {
        return Err(Refusal::BadName);
    }
    // A relay from another worker carries a publisher that worker admitted.
    if !conn.from_worker && !access_allows(ctx, publish, conn.addr) {
        log(
            clog(conn),
            NGX_LOG_ERR,
            &format!("rtmp: access forbidden by rule: {what} \"{name}\""),
        );
        return Err(Refusal::Closed);
    }
    if conn.role != Role::Idle || conn.sinks.is_some() {
        leave(conn);
    }
    Ok(ctx)
}

pub fn on_publish(conn: &mut Conn, req: PublishRequest) -> bool {
    publish(conn, req, true)
}

/// `hooks`: whether `on_publish` is asked (not for the control API's redirects).
fn publish(conn: &mut Conn, req: PublishRequest, hooks: bool) -> bool {
    let ctx = match admit(conn, &req.name, &req.args, true) {
        Ok(ctx) => ctx,
        Err(Refusal::Closed) => return false,
        Err(Refusal::BadName) => {
            conn.session.reject_publish(
                req.stream_id,
                "NetStream.Publish.BadName",
                "Invalid stream name",
            );
            close_after_flush(conn);
            return true;
        }
    };
    if hooks && super::notify::hold_publish(conn, ctx, &req) {
        return true;
    }
    publish_admitted(conn, ctx, req)
}

/// A publish that passed every check and hook.
pub fn publish_admitted(conn: &mut Conn, ctx: &RtmpConfCtx, req: PublishRequest) -> bool {
    conn.stream_id = req.stream_id;
    let live = live_conf(ctx);
    if !live.live.unwrap_or(false) {
        // As nginx-rtmp: without `live on` a publish is accepted and goes nowhere live, but
        // it is still recorded and segmented.
        conn.session.accept_publish(req.stream_id);
        conn.sinks = Sinks::start(ctx, &req.name, req.stream_id, clog(conn));
        super::notify::watch_records(conn, ctx);
        super::exec::publish(conn, ctx, &req);
        return true;
    }
    let key = stream_key(conn, &req.name);
    let chunk_size = conn.session.out_chunk_size();
    let notify = live.publish_notify.unwrap_or(false);
    match with_hub(|hub| hub.publish(&key, conn.id, chunk_size, notify, &mut wake)) {
        Ok(()) => {
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("rtmp: publish \"{}\" in \"{}\"", req.name, key.app),
            );
            conn.session.accept_publish(req.stream_id);
            if !conn.from_worker {
                // The worker the client publishes to records, segments, runs and pushes.
                super::relay::publish_started(conn, ctx, &key);
                super::auto_push::publish_started(&key);
                conn.sinks = Sinks::start(ctx, &req.name, req.stream_id, clog(conn));
                super::notify::watch_records(conn, ctx);
                super::exec::publish(conn, ctx, &req);
            }
            conn.role = Role::Publishing(key);
            watch_idle_publisher(conn, live.drop_idle_publisher.unwrap_or(0) as ngx_msec_t);
        }
        Err(_) => {
            log(
                clog(conn),
                NGX_LOG_ERR,
                &format!("rtmp: already publishing \"{}\"", req.name),
            );
            conn.session.reject_publish(
                req.stream_id,
                "NetStream.Publish.BadName",
                "Already publishing",
            );
        }
    }
    true
}

pub fn on_play(conn: &mut Conn, req: PlayRequest) -> bool {
    play(conn, req, true)
}

/// `hooks`: whether `on_play` is asked (not for the control API's redirects).
fn play(conn: &mut Conn, req: PlayRequest, hooks: bool) -> bool {
    let ctx = match admit(conn, &req.name, &req.args, false) {
        Ok(ctx) => ctx,
        Err(Refusal::Closed) => return false,
        Err(Refusal::BadName) => {
            conn.session.reject_play(
                req.stream_id,
                "NetStream.Play.StreamNotFound",
                "Invalid stream name",
            );
            close_after_flush(conn);
            return true;
        }
    };
    if hooks && super::notify::hold_play(conn, ctx, &req) {
        return true;
    }
    play_admitted(conn, ctx, req)
}

/// A play that passed every check and hook.
pub fn play_admitted(conn: &mut Conn, ctx: &RtmpConfCtx, req: PlayRequest) -> bool {
    conn.stream_id = req.stream_id;
    let live = live_conf(ctx);
    let key = stream_key(conn, &req.name);
    // A stream that a pull brings is waited for, as with `idle_streams`.
    let idle_streams = live.idle_streams.unwrap_or(true) || super::relay::pulls_stream(ctx, &key);
    let found = live.live.unwrap_or(false)
        && (idle_streams || with_hub(|hub| hub.info(&key).is_some_and(|i| i.publishing)));
    if !found {
        log(
            clog(conn),
            NGX_LOG_ERR,
            &format!("rtmp: stream not found \"{}\"", req.name),
        );
        conn.session.reject_play(
            req.stream_id,
            "NetStream.Play.StreamNotFound",
            "No such stream",
        );
        close_after_flush(conn);
        return true;
    }
    let opts = PlayOptions {
        idle_streams,
        wait_video: live.wait_video.unwrap_or(false),
    };
    let chunk_size = conn.session.out_chunk_size();
    // Play.Start must reach the player before the hub's catch-up frames.
    conn.session.accept_play(req.stream_id);
    move_session_output(conn);
    let outbox = conn.outbox.clone();
    match with_hub(|hub| hub.play(&key, conn.id, outbox, chunk_size, opts, &mut wake)) {
        Ok(()) => {
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("rtmp: play \"{}\" in \"{}\"", req.name, key.app),
            );
            super::relay::player_joined(conn, ctx, &key);
            conn.role = Role::Playing(key);
            super::exec::play(conn, ctx, &req);
            true
        }
        // Checked above; the hub agrees within one event.
        Err(_) => false,
    }
}

/// The control API's redirect: the session publishes or plays `newname` instead, as if it had
/// asked for it (every check applies; on_publish/on_play are not asked again). None if it
/// was doing neither; Some(false) when the session is to be closed (refused).
pub fn redirect(conn: &mut Conn, newname: &str) -> Option<bool> {
    let stream_id = conn.stream_id;
    Some(match conn.role.clone() {
        Role::Publishing(_) => {
            let ok = publish(
                conn,
                PublishRequest {
                    stream_id,
                    name: newname.to_string(),
                    args: String::new(),
                    kind: "live".into(),
                },
                false,
            );
            PublisherHeaders::replay(conn);
            ok
        }
        Role::Playing(_) => play(
            conn,
            PlayRequest {
                stream_id,
                name: newname.to_string(),
                args: String::new(),
                start: -2.0,
                duration: -1.0,
                reset: false,
            },
            false,
        ),
        Role::Idle => return None,
    })
}

/// Ends whatever the session was doing in the hub (closeStream, deleteStream, disconnect).
pub fn leave(conn: &mut Conn) {
    if let Some(mut sinks) = conn.sinks.take() {
        let mut notices = Vec::new();
        sinks.finish(clog(conn), &mut notices);
        send_notices(conn, notices);
    }
    match std::mem::replace(&mut conn.role, Role::Idle) {
        Role::Publishing(key) => {
            log(
                clog(conn),
                NGX_LOG_INFO,
                &format!("rtmp: unpublish \"{}\"", key.name),
            );
            with_hub(|hub| hub.unpublish(&key, conn.id, &mut wake));
            super::relay::publish_stopped(&key);
            super::auto_push::publish_stopped(&key);
        }
        Role::Playing(key) => {
            with_hub(|hub| hub.stop_playing(&key, conn.id));
            super::relay::player_left(conn, &key);
        }
        Role::Idle => {}
    }
    super::exec::leave(conn);
    super::notify::leave(conn);
}

pub fn stream_key(conn: &Conn, name: &str) -> StreamKey {
    let app = conn
        .app
        .as_ref()
        .map(|a| a.info.app.clone())
        .unwrap_or_default();
    StreamKey {
        server: conn.server_index,
        app,
        name: name.to_string(),
    }
}
