//! The hooks that only tell: `on_publish_done`/`on_play_done` and `on_done` when a publish
//! or play ends, `on_record_done` for each file a recorder closes, `on_disconnect` when the
//! session closes. Nobody waits for their answers.
use super::endpoint::{about, endpoint, Endpoint};
use super::{app_ctx, is_internal, Held};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::Conn;
use crate::ngx::ngx_rtmp_record_module::record_conf;
use ngx_rtmp_core::notify::{Call, DoneKind};
use std::rc::Rc;

/// The session stopped publishing or playing (closeStream, deleteStream, disconnect, or a
/// new publish or play): a held publish or play is forgotten; the done hooks are called.
pub fn leave(conn: &mut Conn) {
    if matches!(
        &conn.hooks.pending,
        Some(p) if !matches!(p.held, Held::Connect(_))
    ) {
        if let Some(p) = conn.hooks.pending.take() {
            super::call::detach(p.call);
        }
    }
    super::update::stop(conn);
    let Some(a) = conn.hooks.active.take() else {
        return;
    };
    let Some(ctx) = app_ctx(conn) else {
        return;
    };
    let fields = conn.hooks.fields.clone().unwrap_or_default();
    let (kind, first) = if a.publishing {
        (DoneKind::PublishDone, endpoint(ctx, |c| &c.on_publish_done))
    } else {
        (DoneKind::PlayDone, endpoint(ctx, |c| &c.on_play_done))
    };
    for (kind, e) in [
        (kind, first),
        (DoneKind::Done, endpoint(ctx, |c| &c.on_done)),
    ] {
        if let Some(e) = e {
            let call = Call::Done {
                kind,
                name: a.name.clone(),
                args: a.args.clone(),
            };
            e.call(&call, &fields, about(conn), None);
        }
    }
}

/// The session is closing: on_disconnect, for a session that said `connect`.
pub fn disconnect(conn: &mut Conn) {
    if let Some(p) = conn.hooks.pending.take() {
        super::call::detach(p.call);
    }
    super::update::stop(conn);
    if is_internal(conn) {
        return;
    }
    let Some(fields) = conn.hooks.fields.clone() else {
        return;
    };
    // SAFETY: conn.srv is the server context of the listening socket that accepted it.
    let Some(e) = endpoint(unsafe { &*conn.srv }, |c| &c.on_disconnect) else {
        return;
    };
    let args = conn
        .app
        .as_ref()
        .map(|a| a.info.args.clone())
        .unwrap_or_default();
    e.call(&Call::Disconnect { args }, &fields, about(conn), None);
}

/// The session's publish started with recorders: each file they close is announced by the
/// `on_record_done` of its recorder block, else of the application.
pub fn watch_records(conn: &mut Conn, ctx: &RtmpConfCtx) {
    if is_internal(conn) {
        return;
    }
    let app_hook = endpoint(ctx, |c| &c.on_record_done);
    let mut hooks: Vec<(String, Endpoint)> = Vec::new();
    if let Some(e) = &app_hook {
        hooks.push((String::new(), e.clone()));
    }
    for (id, rec) in &record_conf(ctx).recorders {
        // SAFETY: recorder contexts were made by new_level and live as long as the cycle.
        let e = endpoint(unsafe { &**rec }, |c| &c.on_record_done).or(app_hook.clone());
        if let Some(e) = e {
            hooks.push((id.clone(), e));
        }
    }
    if hooks.is_empty() {
        return;
    }
    let fields = conn.hooks.fields.clone().unwrap_or_default();
    let (name, args) = conn
        .hooks
        .active
        .as_ref()
        .map(|a| (a.name.clone(), a.args.clone()))
        .unwrap_or_default();
    let about = about(conn);
    let Some(sinks) = conn.sinks.as_mut() else {
        return;
    };
    sinks.on_record_closed(Rc::new(move |recorder: &str, path: &str| {
        let Some((_, e)) = hooks.iter().find(|(id, _)| id == recorder) else {
            return;
        };
        let call = Call::RecordDone {
            recorder: recorder.to_string(),
            name: name.clone(),
            path: path.to_string(),
            args: args.clone(),
        };
        e.call(&call, &fields, about.clone(), None);
    }));
}
