//! The pulls of this worker and when they run. A play of a stream that nobody publishes, in
//! an application with a matching `pull`, starts one (the first matching target, as in the
//! C module); the players of the stream keep it running and the last one to leave stops it
//! (`session_relay on`: a player keeps it until its connection closes, not only until it
//! stops playing). `static` pulls start with the worker and run without players.
use super::pull::{self, Pull, Spec};
use super::{push_targets, start};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::conn::Conn;
use crate::ngx::ffi::log;
use crate::ngx::ngx_rtmp_core_module::{core_main_conf, core_srv_conf};
use crate::ngx::ngx_rtmp_relay_module::{relay_conf, PullTarget};
use crate::ngx::worker::{next_session_id, with_hub};
use nginx_sys::{ngx_log_t, NGX_LOG_INFO};
use ngx_rtmp_core::config::relay::{parse_push, RelayTarget, Scheme};
use ngx_rtmp_core::exec::PullTracker;
use ngx_rtmp_core::hub::StreamKey;
use ngx_rtmp_core::relay::RelayParams;
use ngx_rtmp_core::stat::ClientSnap;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

thread_local! {
    /// The worker's pulls by id (the boxes pull.rs frees in `destroy`).
    static PULLS: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
    /// Who keeps each pulled stream's pull running (session ids), and that pull.
    static DEMAND: RefCell<PullTracker<StreamKey, u64>> = RefCell::new(PullTracker::default());
    /// Where `on_play` redirected players of a stream (an `rtmp://` Location): pulled from
    /// there rather than from the application's `pull`, until that pull ends.
    static REDIRECTED: RefCell<BTreeMap<StreamKey, PullTarget>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// The pulls of the worker, as pointers: handlers may free pulls, so callers look each up
/// again before use.
fn ids_where(mut f: impl FnMut(&Pull) -> bool) -> Vec<u64> {
    PULLS.with(|m| {
        m.borrow()
            .iter()
            .filter(|(_, &p)| {
                // SAFETY: registered pointers are live pulls (removed before they are freed).
                f(unsafe { &*(p as *const Pull) })
            })
            .map(|(&id, _)| id)
            .collect()
    })
}

/// Runs `f` on the registered pull `id`.
fn with_pull<R>(id: u64, f: impl FnOnce(&Pull) -> R) -> Option<R> {
    let p = PULLS.with(|m| m.borrow().get(&id).copied())?;
    // SAFETY: as in ids_where.
    Some(f(unsafe { &*(p as *const Pull) }))
}

pub(super) fn remove(id: u64, why: &str) {
    let p = PULLS.with(|m| m.borrow_mut().remove(&id));
    if let Some(p) = p {
        // SAFETY: still a live pull until destroy below.
        let key = unsafe { (*(p as *const Pull)).key.clone() };
        REDIRECTED.with(|r| r.borrow_mut().remove(&key));
        // SAFETY: the pointer came from pull::create and is no longer registered.
        unsafe { pull::destroy(p as *mut Pull, why) };
    }
}

fn register(spec: Spec, why: &str) -> u64 {
    let id = spec.id;
    // SAFETY: the spec's contexts belong to the running cycle.
    let p = unsafe { pull::create(spec, why) };
    PULLS.with(|m| m.borrow_mut().insert(id, p as usize));
    id
}

/// `on_play` answered a play of `key` with an `rtmp://` Location: the stream is pulled from
/// `url` (an IP address: a name would need a lookup the worker cannot wait for here).
pub fn redirect_pull(key: &StreamKey, url: &str) -> Result<(), String> {
    let target = parse_push("pull", &[url]).map_err(|e| e.to_string())?;
    if target.scheme != Scheme::Rtmp {
        return Err(format!("{url}: only rtmp:// is pulled"));
    }
    let ip: IpAddr = target
        .host
        .parse()
        .map_err(|_| format!("{url}: a pull redirect needs an IP address, not a host name"))?;
    let addrs = vec![SocketAddr::new(ip, target.port)];
    let target = PullTarget {
        target,
        addrs,
        unix: None,
    };
    REDIRECTED.with(|r| r.borrow_mut().insert(key.clone(), target));
    Ok(())
}

/// The application's `pull` that applies to a play of `key` (not a static one), if any.
fn on_demand_target(app: &RtmpConfCtx, key: &StreamKey) -> Option<PullTarget> {
    if let Some(t) = REDIRECTED.with(|r| r.borrow().get(key).cloned()) {
        return Some(t);
    }
    relay_conf(app)
        .pulls
        .iter()
        .filter(|t| t.target.scheme == Scheme::Rtmp && !t.target.is_static)
        .find(|t| t.target.name.as_deref().is_none_or(|n| n == key.name))
        .cloned()
}

fn static_pull_of(key: &StreamKey) -> Option<u64> {
    ids_where(|p| p.is_static && &p.key == key).first().copied()
}

/// Whether a pull brings `key` here (one runs, or a play would start one): the stream is
/// then played as if `idle_streams` were on, waiting for it.
pub fn pulls_stream(app: &RtmpConfCtx, key: &StreamKey) -> bool {
    static_pull_of(key).is_some() || on_demand_target(app, key).is_some()
}

/// The pull whose connection `conn` is (this server pulling from itself), with the pulls
/// that asked for it.
fn own_pull(conn: &Conn) -> Option<(u64, Vec<u64>)> {
    // SAFETY: conn.c is the live connection of this session; nginx set its peer address.
    let peer = unsafe { super::addr::from_sockaddr((*conn.c).sockaddr as *const libc::sockaddr) };
    let peer = super::addr::canonical(peer?);
    let id = *ids_where(|p| p.link.local == Some(peer)).first()?;
    with_pull(id, |p| (id, p.ancestors.clone()))
}

/// A session began playing `key` (app.rs). Where a pull applies, the session keeps it
/// running; the first one starts it. This server's own pull playing a stream that leads
/// back to itself (an application that pulls from itself, or two that pull from each
/// other) does not keep anything running, so such a loop ends with its last real player.
pub fn player_joined(conn: &Conn, app: &RtmpConfCtx, key: &StreamKey) {
    if static_pull_of(key).is_some() {
        return;
    }
    let Some(target) = on_demand_target(app, key) else {
        return;
    };
    let own = own_pull(conn);
    let running = ids_where(|p| !p.is_static && &p.key == key)
        .first()
        .copied();
    if let (Some((me, ancestors)), Some(running)) = (&own, running) {
        if running == *me || ancestors.contains(&running) {
            // SAFETY: conn.c is live.
            let clog = unsafe { (*conn.c).log };
            log(
                clog,
                NGX_LOG_INFO,
                &format!(
                    "relay: \"{}\" is played by this server's own pull of it, which does not \
                     keep the pull running",
                    key.name
                ),
            );
            return;
        }
    }
    let published = with_hub(|h| h.info(key).is_some_and(|i| i.publishing));
    if !DEMAND.with(|d| d.borrow_mut().join(key, conn.id, published)) {
        return;
    }
    let ancestors = own
        .map(|(me, mut a)| {
            a.push(me);
            a
        })
        .unwrap_or_default();
    let spec = Spec {
        id: next_session_id(),
        key: key.clone(),
        target,
        is_static: false,
        ancestors,
        srv: conn.srv,
        app: app as *const RtmpConfCtx as *mut RtmpConfCtx,
    };
    let id = register(spec, "a player wants the stream");
    DEMAND.with(|d| d.borrow_mut().started(key, id));
}

/// The session stopped playing `key` (closeStream, another play, disconnect). Unless the
/// application has `session_relay on`, it no longer keeps the stream's pull running.
pub fn player_left(conn: &Conn, key: &StreamKey) {
    let session_relay = conn.app.as_ref().is_some_and(|a| {
        // SAFETY: application contexts live as long as the cycle that accepted the session.
        relay_conf(unsafe { &*a.ctx }).session_relay == Some(true)
    });
    if session_relay {
        return;
    }
    let stop = DEMAND.with(|d| d.borrow_mut().leave(key, conn.id));
    if let Some(id) = stop {
        remove(id, "the last player left");
    }
}

/// The session's connection closed: it keeps no pull running any more.
pub fn session_closed(session: u64) {
    let stop = DEMAND.with(|d| d.borrow_mut().leave_all(session));
    for id in stop {
        remove(id, "the last player left");
    }
}

/// Worker start (init_process): the `static` pulls, in the first worker only, as the C
/// module does (every RTMP session is served by worker 0).
pub fn start_statics() {
    // SAFETY: ngx_worker is set once per worker process before init_process.
    if unsafe { nginx_sys::ngx_worker } != 0 {
        return;
    }
    let Some(main) = crate::ngx::stat::rtmp_ctx() else {
        return;
    };
    // SAFETY: main is the running cycle's rtmp{} context; server and application contexts
    // live as long as the cycle.
    unsafe {
        for &srv in &core_main_conf(main).servers {
            let cscf = core_srv_conf(srv);
            for entry in &cscf.applications {
                let targets = relay_conf(&*entry.ctx).pulls.clone();
                for t in targets {
                    let (true, Scheme::Rtmp, Some(name)) =
                        (t.target.is_static, t.target.scheme, t.target.name.clone())
                    else {
                        continue;
                    };
                    let key = StreamKey {
                        server: cscf.index,
                        app: entry.name.clone(),
                        name,
                    };
                    let spec = Spec {
                        id: next_session_id(),
                        key,
                        target: t,
                        is_static: true,
                        ancestors: Vec::new(),
                        srv,
                        app: entry.ctx,
                    };
                    register(spec, "static");
                }
            }
        }
    }
}

/// Worker exit (exit_process): every pull ends, its recordings closed properly.
pub fn stop_pulls(why: &str) {
    for id in ids_where(|_| true) {
        remove(id, why);
    }
}

/// Bytes in and out of the pulls' current connections.
pub(super) fn live_bytes() -> (u64, u64) {
    let (mut total_in, mut total_out) = (0, 0);
    ids_where(|p| {
        let (i, o) = p.bytes();
        total_in += i;
        total_out += o;
        false
    });
    (total_in, total_out)
}

/// The pulls that publish a stream now, as the stat page shows them: the stream's
/// publisher, flagged as a relay, with the C module's address (the URL without its scheme)
/// and flashver.
pub fn pull_clients(now_ms: u64) -> Vec<(StreamKey, ClientSnap)> {
    let mut out = Vec::new();
    ids_where(|p| {
        if p.playing() && !p.link.c.is_null() {
            #[allow(clippy::unnecessary_cast)] // ngx_atomic_uint_t's width is the platform's
            // SAFETY: a playing pull's connection is open.
            let id = unsafe { (*p.link.c).number as u64 };
            out.push((
                p.key.clone(),
                ClientSnap {
                    id,
                    address: p.target.target.url.clone(),
                    time_ms: now_ms.saturating_sub(p.created as u64),
                    flashver: "ngx-local-relay".into(),
                    swfurl: p.params.swf_url.clone(),
                    pageurl: p.params.page_url.clone(),
                    tcurl: p.params.tc_url.clone(),
                    publishing: true,
                    active: true,
                    relay: true,
                    ..ClientSnap::default()
                },
            ));
        }
        false
    });
    out
}

/// A pull began publishing `key`: the application's `push` targets start for it as for any
/// publisher (the C module never pushes a pulled stream, a limitation its users report),
/// except a target that is where the stream comes from, which would get it back.
pub(super) fn pulled_stream_started(
    srv: *mut RtmpConfCtx,
    app: &RtmpConfCtx,
    key: &StreamKey,
    source: &RelayTarget,
    clog: *mut ngx_log_t,
) {
    let pulled = RelayParams::for_pull(source, &key.app, &key.name);
    for t in push_targets(app, key) {
        let pushed = RelayParams::new(&t.target, &key.app, &key.name);
        let back = t.target.host.eq_ignore_ascii_case(&source.host)
            && t.target.port == source.port
            && pushed.app == pulled.app
            && pushed.stream == pulled.stream;
        if back {
            log(
                clog,
                NGX_LOG_INFO,
                &format!(
                    "relay: \"{}\" is not pushed to rtmp://{}: it is pulled from there",
                    key.name, t.target.url
                ),
            );
            continue;
        }
        start(srv, app, key, t, "the push directive");
    }
}
