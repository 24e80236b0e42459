//! What a session's publish and play start, and what its end stops, as nginx-rtmp does:
//! `exec_publish`/`exec_play` run at the start, `exec_publish_done`/`exec_play_done` at the
//! end; `exec_push` commands run while the session publishes; a stream's `exec_pull`
//! commands run while it has players and no publisher; `exec_record_done` runs for every
//! recording the session's recorders close.
use super::children::{self, ChildId};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::Conn;
use crate::ngx::ngx_rtmp_exec_module::{exec_conf, ExecAppConf};
use crate::ngx::ngx_rtmp_record_module::record_conf;
use crate::ngx::storage::Sinks;
use crate::ngx::worker::with_hub;
use ngx_rtmp_core::config::exec::{ExecCommand, ExecKind};
use ngx_rtmp_core::exec::{plan, ExecVars, PullTracker, SessionVars};
use ngx_rtmp_core::hub::StreamKey;
use ngx_rtmp_core::protocol::{PlayRequest, PublishRequest};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What a publishing or playing session has running or still owes.
struct SessionExec {
    vars: ExecVars,
    /// exec_publish_done or exec_play_done, run when the session leaves.
    done: (ExecKind, Vec<ExecCommand>),
    pushes: Vec<ChildId>,
    pull: Option<StreamKey>,
}

thread_local! {
    /// By session id.
    static SESSIONS: RefCell<HashMap<u64, SessionExec>> = RefCell::new(HashMap::new());
    static PULLS: RefCell<PullTracker<StreamKey, Vec<ChildId>>> =
        RefCell::new(PullTracker::default());
}

fn vars(conn: &Conn, name: &str, args: &str) -> ExecVars {
    let info = conn.app.as_ref().map(|a| &a.info);
    let field = |f: fn(&ngx_rtmp_core::protocol::ConnectInfo) -> &String| {
        info.map(|i| f(i).clone()).unwrap_or_default()
    };
    ExecVars {
        session: SessionVars {
            app: field(|i| &i.app),
            flashver: field(|i| &i.flash_ver),
            swfurl: field(|i| &i.swf_url),
            tcurl: field(|i| &i.tc_url),
            pageurl: field(|i| &i.page_url),
            addr: conn.addr.map(|a| a.to_string()).unwrap_or_default(),
        },
        name: name.to_string(),
        args: args.to_string(),
        ..ExecVars::default()
    }
}

/// `exec_push live/cam`: how log lines name a command's purpose.
fn what(kind: ExecKind, vars: &ExecVars) -> String {
    format!("{} {}/{}", kind.directive(), vars.session.app, vars.name)
}

/// Runs the one-shot commands of `cmds` that apply to the stream.
fn notify(kind: ExecKind, cmds: &[ExecCommand], vars: &ExecVars) {
    for cmd in cmds.iter().filter(|c| c.applies_to(&vars.name)) {
        let launch = plan(cmd, Some(&|v: &str| vars.lookup(kind, v)));
        children::run_once(&what(kind, vars), &launch);
    }
}

/// Starts the supervised commands of `kind` that apply to the stream.
fn supervise(kind: ExecKind, conf: &ExecAppConf, vars: &ExecVars) -> Vec<ChildId> {
    conf.list(kind)
        .iter()
        .filter(|c| c.applies_to(&vars.name))
        .map(|cmd| {
            children::supervise(
                what(kind, vars),
                plan(cmd, Some(&|v: &str| vars.lookup(kind, v))),
                conf.kill_signal(),
                conf.respawn_after(),
            )
        })
        .collect()
}

/// The session's publish was accepted (after its recorders were set up).
pub fn publish(conn: &mut Conn, ctx: &RtmpConfCtx, req: &PublishRequest) {
    if !has_publish_commands(ctx) {
        return;
    }
    let vars = vars(conn, &req.name, &req.args);
    published(conn.id, ctx, vars, conn.sinks.as_deref_mut());
}

/// A pull relay began publishing `name` (its id is `id`): the same commands as for a
/// client's publish; `$addr` is the URL it pulls, as the C module's relay session has it.
pub fn relay_publish(
    id: u64,
    ctx: &RtmpConfCtx,
    app: &str,
    name: &str,
    url: &str,
    tc_url: &str,
    sinks: Option<&mut Sinks>,
) {
    if !has_publish_commands(ctx) {
        return;
    }
    let vars = ExecVars {
        session: SessionVars {
            app: app.to_string(),
            flashver: "ngx-local-relay".to_string(),
            tcurl: tc_url.to_string(),
            addr: url.to_string(),
            ..SessionVars::default()
        },
        name: name.to_string(),
        ..ExecVars::default()
    };
    published(id, ctx, vars, sinks);
}

fn has_publish_commands(ctx: &RtmpConfCtx) -> bool {
    !exec_conf(ctx).lists.iter().all(Vec::is_empty) || !record_done_lists(ctx).is_empty()
}

/// What a publish starts: exec_publish, exec_push, and exec_record_done for the recorders.
fn published(id: u64, ctx: &RtmpConfCtx, vars: ExecVars, sinks: Option<&mut Sinks>) {
    let conf = exec_conf(ctx);
    let record_done = record_done_lists(ctx);
    notify(ExecKind::Publish, conf.list(ExecKind::Publish), &vars);
    let pushes = supervise(ExecKind::Push, conf, &vars);
    if let (false, Some(sinks)) = (record_done.is_empty(), sinks) {
        let vars = vars.clone();
        sinks.on_record_closed(Rc::new(move |recorder: &str, path: &str| {
            let Some((_, cmds)) = record_done.iter().find(|(id, _)| id == recorder) else {
                return;
            };
            let vars = ExecVars {
                path: path.to_string(),
                recorder: recorder.to_string(),
                ..vars.clone()
            };
            notify(ExecKind::RecordDone, cmds, &vars);
        }));
    }
    let done = conf.list(ExecKind::PublishDone).to_vec();
    SESSIONS.with(|s| {
        s.borrow_mut().insert(
            id,
            SessionExec {
                vars,
                done: (ExecKind::PublishDone, done),
                pushes,
                pull: None,
            },
        )
    });
}

/// exec_record_done of the application's own recorder ("") and of each recorder block (which
/// has its own commands, then the application's).
fn record_done_lists(ctx: &RtmpConfCtx) -> Vec<(String, Vec<ExecCommand>)> {
    let mut lists = vec![(
        String::new(),
        exec_conf(ctx).list(ExecKind::RecordDone).to_vec(),
    )];
    for (id, rec) in &record_conf(ctx).recorders {
        // SAFETY: recorder contexts were made by new_level and live as long as the cycle.
        let cmds = exec_conf(unsafe { &**rec })
            .list(ExecKind::RecordDone)
            .to_vec();
        lists.push((id.clone(), cmds));
    }
    lists.retain(|(_, cmds)| !cmds.is_empty());
    lists
}

/// The session's play was accepted.
pub fn play(conn: &mut Conn, ctx: &RtmpConfCtx, req: &PlayRequest) {
    let conf = exec_conf(ctx);
    if conf.lists.iter().all(Vec::is_empty) {
        return;
    }
    let vars = vars(conn, &req.name, &req.args);
    notify(ExecKind::Play, conf.list(ExecKind::Play), &vars);
    let mut pull = None;
    if !conf.list(ExecKind::Pull).is_empty() {
        let key = StreamKey {
            server: conn.server_index,
            app: vars.session.app.clone(),
            name: req.name.clone(),
        };
        let published = with_hub(|hub| hub.info(&key).is_some_and(|i| i.publishing));
        if PULLS.with(|p| p.borrow_mut().join(&key, conn.id, published)) {
            let ids = supervise(ExecKind::Pull, conf, &vars);
            PULLS.with(|p| p.borrow_mut().started(&key, ids));
        }
        pull = Some(key);
    }
    let done = conf.list(ExecKind::PlayDone).to_vec();
    SESSIONS.with(|s| {
        s.borrow_mut().insert(
            conn.id,
            SessionExec {
                vars,
                done: (ExecKind::PlayDone, done),
                pushes: Vec::new(),
                pull,
            },
        )
    });
}

/// The session stopped publishing or playing (closeStream, deleteStream, disconnect).
pub fn leave(conn: &Conn) {
    left(conn.id);
}

/// The session or pull relay `id` stopped publishing or playing.
pub fn left(id: u64) {
    let Some(s) = SESSIONS.with(|m| m.borrow_mut().remove(&id)) else {
        return;
    };
    notify(s.done.0, &s.done.1, &s.vars);
    for id in s.pushes {
        children::stop(id, "publisher left");
    }
    if let Some(key) = s.pull {
        let stop = PULLS.with(|p| p.borrow_mut().leave(&key, id));
        for id in stop.unwrap_or_default() {
            children::stop(id, "last player left");
        }
    }
}
