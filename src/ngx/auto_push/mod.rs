//! Streams shared between workers (`rtmp_auto_push`) and handed on across a reload.
//!
//! Every worker listens on unix sockets of its own (socket.rs) and says so in its stat-zone
//! slot (`flags`). The streams this worker's clients publish are relayed, as pushes, to the
//! peers `ngx_rtmp_core::workers::plan` picks: every other worker with `rtmp_auto_push
//! on`; and, whatever that setting, the new workers when this one is shutting down after a
//! reload, so players who connect after the reload still find a stream whose publisher is
//! on this old worker. A timer reconciles the relays with the peers it sees.
mod socket;

use super::conf::RtmpConfCtx;
use super::ngx_rtmp_auto_push_module::{auto_push_conf, AutoPushConf};
use super::ngx_rtmp_core_module::core_main_conf;
use super::relay;
use super::stat::{rtmp_ctx, zone, STALE_MS};
use super::timer::worker_timer;
use nginx_sys::{ngx_cycle_t, ngx_event_t};
use ngx_rtmp_core::hub::StreamKey;
use ngx_rtmp_core::workers::{plan, socket_path, RELAY_IN, SERVES_CLIENTS};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// How often the relays are reconciled with the peers (new workers show up in the stat
/// zone within its one-second refresh).
const INTERVAL_MS: nginx_sys::ngx_msec_t = 250;

thread_local! {
    /// Streams published here by clients (not relayed in from a peer).
    static LOCAL: RefCell<BTreeSet<StreamKey>> = const { RefCell::new(BTreeSet::new()) };
    /// Relay ids by stream and peer pid.
    static RELAYS: RefCell<BTreeMap<(StreamKey, u32), u64>> =
        const { RefCell::new(BTreeMap::new()) };
    static TIMER: Cell<*mut ngx_event_t> = const { Cell::new(std::ptr::null_mut()) };
    /// This worker accepts RTMP clients (its flags say so to the peers).
    static SERVES: Cell<bool> = const { Cell::new(false) };
}

fn conf() -> Option<&'static AutoPushConf> {
    // SAFETY: ngx_cycle is the running cycle of this worker.
    auto_push_conf(unsafe { nginx_sys::ngx_cycle })
}

fn me() -> u32 {
    // SAFETY: ngx_pid is set once per process.
    unsafe { nginx_sys::ngx_pid as u32 }
}

fn exiting() -> bool {
    // SAFETY: nginx sets ngx_exiting in this (the worker's) thread.
    unsafe { nginx_sys::ngx_exiting != 0 }
}

/// What this worker offers its peers, for its stat-zone slot.
pub fn flags() -> u32 {
    let mut f = 0;
    if socket::is_open() {
        f |= RELAY_IN;
    }
    if SERVES.with(Cell::get) {
        f |= SERVES_CLIENTS;
    }
    f
}

/// Whether worker `worker` (nginx's number) accepts RTMP clients: all of them with
/// `rtmp_auto_push on`, else worker 0 alone (ngx_rtmp.rs keeps the sockets single).
pub fn serves_clients(auto_push: bool, worker: usize) -> bool {
    auto_push || worker == 0
}

/// init_process: opens this worker's sockets and starts the reconciling timer.
pub fn start(cycle: *mut ngx_cycle_t) {
    let Some(ctx) = rtmp_ctx() else { return };
    let Some(apcf) = auto_push_conf(cycle) else {
        return;
    };
    // SAFETY: ngx_worker is this worker's number, set before init_process.
    let worker = unsafe { nginx_sys::ngx_worker };
    SERVES.with(|s| s.set(serves_clients(apcf.enabled(), worker)));
    // SAFETY: ctx is this cycle's rtmp{} context.
    let servers: Vec<*mut RtmpConfCtx> = unsafe { core_main_conf(ctx).servers.clone() };
    let sockets: Vec<(String, *mut RtmpConfCtx)> = servers
        .iter()
        .enumerate()
        .map(|(i, &srv)| (socket_path(apcf.socket_dir(), me(), i), srv))
        .collect();
    // SAFETY: the cycle's log is valid for the worker's life.
    let clog = unsafe { (*cycle).log };
    if !socket::open(clog, &sockets) {
        // Without every socket the worker takes no relays; its own streams still go out.
        socket::close();
    }
    let ev = worker_timer(clog, Some(tick));
    TIMER.with(|t| t.set(ev));
    // SAFETY: ev is a leaked, live event.
    unsafe { nginx_sys::ngx_add_timer(ev, INTERVAL_MS) };
}

/// exit_process: every relay stops, the sockets go.
pub fn stop() {
    let ids: Vec<u64> =
        RELAYS.with(|r| std::mem::take(&mut *r.borrow_mut()).into_values().collect());
    for id in ids {
        relay::stop(id, "the worker exits");
    }
    socket::close();
}

unsafe extern "C" fn tick(ev: *mut ngx_event_t) {
    super::ffi::catch("auto_push timer", (), || {
        if exiting() && socket::is_open() {
            // Shutting down: no new relays in; the ones accepted go on.
            socket::close();
        }
        reconcile();
        // SAFETY: ev is this worker's leaked timer event; cancelable, so it never holds
        // the worker back from exiting.
        unsafe { nginx_sys::ngx_add_timer(ev, INTERVAL_MS) };
    });
}

/// A client began publishing `key` here.
pub fn publish_started(key: &StreamKey) {
    LOCAL.with(|l| l.borrow_mut().insert(key.clone()));
    reconcile();
}

/// The client publishing `key` here left: its relays to peers stop.
pub fn publish_stopped(key: &StreamKey) {
    if !LOCAL.with(|l| l.borrow_mut().remove(key)) {
        return;
    }
    let ids: Vec<u64> = RELAYS.with(|r| {
        let mut r = r.borrow_mut();
        let gone: Vec<(StreamKey, u32)> = r.keys().filter(|(k, _)| k == key).cloned().collect();
        gone.iter().filter_map(|g| r.remove(g)).collect()
    });
    for id in ids {
        relay::stop(id, "the publisher left");
    }
}

/// Starts and stops relays so that every local stream goes to every target peer.
fn reconcile() {
    let Some(apcf) = conf() else { return };
    let Some(z) = zone() else { return };
    if LOCAL.with(|l| l.borrow().is_empty()) {
        return;
    }
    let relay_all = apcf.enabled() || exiting();
    let peers = z.peers(super::conn::now() as u64, STALE_MS);
    let plan = plan(me(), relay_all, &peers);
    let Some(ctx) = rtmp_ctx() else { return };
    // SAFETY: ctx is this cycle's rtmp{} context.
    let servers = unsafe { &core_main_conf(ctx).servers };
    let stale: Vec<u64> = RELAYS.with(|r| {
        let mut r = r.borrow_mut();
        let gone: Vec<(StreamKey, u32)> = r
            .keys()
            .filter(|(_, pid)| !plan.alive.contains(pid))
            .cloned()
            .collect();
        gone.iter().filter_map(|g| r.remove(g)).collect()
    });
    for id in stale {
        relay::stop(id, "the worker it relayed to is gone");
    }
    let local: Vec<StreamKey> = LOCAL.with(|l| l.borrow().iter().cloned().collect());
    for key in local {
        let Some(&srv) = servers.get(key.server) else {
            continue;
        };
        for &pid in &plan.open {
            if RELAYS.with(|r| r.borrow().contains_key(&(key.clone(), pid))) {
                continue;
            }
            let path = socket_path(apcf.socket_dir(), pid, key.server);
            let settings = relay::server_settings(srv, apcf.reconnect_ms());
            let id = relay::start_to_worker(&key, &path, settings);
            RELAYS.with(|r| r.borrow_mut().insert((key.clone(), pid), id));
        }
    }
}
