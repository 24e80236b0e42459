//! The worker side of `/stat`: every second each worker describes its applications, streams
//! and clients in a snapshot and writes it into the stat zone (shm.rs). The http handler
//! (ngx_rtmp_stat_module.rs) merges every worker's snapshot into one view.
use super::conf::RtmpConfCtx;
use super::conn::{now, Conn, Role};
use super::ffi::{log, ngx_str};
use super::ngx_rtmp::ngx_rtmp_module;
use super::ngx_rtmp_core_module::{core_main_conf, core_srv_conf};
use super::ngx_rtmp_live_module::live_conf;
use super::shm::StatZone;
use super::worker::{counters, for_each_conn, with_hub};
use nginx_sys::{ngx_cycle_t, ngx_event_t, ngx_shm_zone_t, NGX_LOG_WARN};
use ngx_rtmp_core::hub::StreamKey;
use ngx_rtmp_core::stat::rate::RateMeter;
use ngx_rtmp_core::stat::{
    wire, AppSnap, ClientSnap, MetaSnap, ServerSnap, StreamSnap, WorkerSnapshot,
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ptr::addr_of_mut;

/// How often a worker refreshes its snapshot.
const INTERVAL_MS: u64 = 1000;
/// A slot not refreshed for this long belongs to a worker that is gone.
pub const STALE_MS: u64 = 5000;

#[derive(Default)]
struct Meters {
    total_in: RateMeter,
    total_out: RateMeter,
    streams: HashMap<StreamKey, [RateMeter; 4]>,
}

thread_local! {
    static METERS: RefCell<Meters> = RefCell::new(Meters::default());
    static TIMER: Cell<*mut ngx_event_t> = const { Cell::new(std::ptr::null_mut()) };
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// The rtmp{} context of the running cycle, if there is an rtmp block.
pub fn rtmp_ctx() -> Option<*mut RtmpConfCtx> {
    // SAFETY: ngx_cycle is the running cycle; conf_ctx has a slot per module index.
    unsafe {
        let cycle = nginx_sys::ngx_cycle;
        let index = (*addr_of_mut!(ngx_rtmp_module)).index;
        if cycle.is_null() || index == usize::MAX {
            return None;
        }
        let ctx = *(*cycle).conf_ctx.add(index) as *mut RtmpConfCtx;
        (!ctx.is_null()).then_some(ctx)
    }
}

/// The stat zone of the running cycle.
pub fn zone() -> Option<StatZone> {
    let ctx = rtmp_ctx()?;
    // SAFETY: ctx is the running cycle's rtmp{} context; its zone was initialised at start.
    unsafe {
        let z = core_main_conf(ctx).stat_zone as *mut ngx_shm_zone_t;
        StatZone::from_zone(z)
    }
}

fn pid() -> u32 {
    // SAFETY: ngx_pid is set once per process.
    unsafe { nginx_sys::ngx_pid as u32 }
}

/// Starts the refresh timer in a worker (init_process).
pub fn start(cycle: *mut ngx_cycle_t) {
    if rtmp_ctx().is_none() {
        return;
    }
    // SAFETY: cycle is the worker's cycle; its log outlives the event.
    let ev = super::timer::worker_timer(unsafe { (*cycle).log }, Some(tick));
    TIMER.with(|t| t.set(ev));
    publish();
    // SAFETY: ev is a leaked, live event.
    unsafe { nginx_sys::ngx_add_timer(ev, INTERVAL_MS as nginx_sys::ngx_msec_t) };
}

/// Gives this worker's slot back (exit_process).
pub fn stop() {
    if let Some(z) = zone() {
        z.release(pid());
    }
}

unsafe extern "C" fn tick(ev: *mut ngx_event_t) {
    super::ffi::catch("stat timer", (), || {
        publish();
        // A worker draining after a reload keeps reporting its streams; the timer is
        // cancelable, so it never holds the worker back from exiting.
        // SAFETY: ev is this worker's leaked stat event.
        unsafe { nginx_sys::ngx_add_timer(ev, INTERVAL_MS as nginx_sys::ngx_msec_t) };
    });
}

fn publish() {
    let Some(z) = zone() else { return };
    let Some(ctx) = rtmp_ctx() else { return };
    let snap = snapshot(ctx);
    // What does not fit the slot (the last clients first) is left out whole.
    let bytes = wire::encode_with_limit(&snap, super::shm::SLOT_SIZE);
    let flags = super::auto_push::flags();
    if !z.publish(pid(), flags, now() as u64, STALE_MS, &bytes) && !WARNED.with(|w| w.replace(true))
    {
        // SAFETY: ngx_cycle's log is valid in a running worker.
        let clog = unsafe { (*nginx_sys::ngx_cycle).log };
        log(
            clog,
            NGX_LOG_WARN,
            "rtmp: no room in the stat zone for this worker's snapshot",
        );
    }
}

/// This worker's applications, streams and clients.
fn snapshot(ctx: *mut RtmpConfCtx) -> WorkerSnapshot {
    let t = now() as u64;
    let mut clients: HashMap<StreamKey, Vec<(ClientSnap, u64)>> = HashMap::new();
    // Streams whose publisher here is a relay from the worker that reports the real one.
    let mut relayed = HashSet::new();
    let (mut live_in, mut live_out) = (0u64, 0u64);
    for_each_conn(|c| {
        if c.from_worker {
            if let Role::Publishing(k) = &c.role {
                relayed.insert(k.clone());
            }
            return;
        }
        let out = c.outbox.borrow().bytes_out;
        live_in += c.session.bytes_in();
        live_out += out;
        let (key, publishing) = match &c.role {
            Role::Publishing(k) => (k.clone(), true),
            Role::Playing(k) => (k.clone(), false),
            Role::Idle => return,
        };
        clients
            .entry(key)
            .or_default()
            .push((client(c, publishing, t), out));
    });
    for (key, pull) in super::relay::pull_clients(t) {
        clients.entry(key).or_default().push((pull, 0));
    }
    let totals = counters();
    let (relay_in, relay_out) = super::relay::bytes();
    let bytes_in = totals.closed_in + live_in + relay_in;
    let bytes_out = totals.closed_out + live_out + relay_out;
    METERS.with(|m| {
        let mut m = m.borrow_mut();
        let mut snap = WorkerSnapshot {
            pid: pid(),
            taken_ms: t,
            naccepted: totals.accepted,
            bytes_in,
            bytes_out,
            bw_in: m.total_in.sample(bytes_in, t),
            bw_out: m.total_out.sample(bytes_out, t),
            servers: Vec::new(),
        };
        let mut seen = Vec::new();
        // SAFETY: ctx is the running cycle's rtmp{} context built at configuration.
        let servers = unsafe { core_main_conf(ctx).servers.clone() };
        for (index, srv) in servers.iter().enumerate() {
            // SAFETY: server and application contexts live as long as the cycle.
            let cscf = unsafe { core_srv_conf(*srv) };
            let mut server = ServerSnap {
                index: index as u32,
                apps: Vec::new(),
            };
            for app in &cscf.applications {
                // SAFETY: as above.
                let live = live_conf(unsafe { &*app.ctx }).live.unwrap_or(false);
                let mut a = AppSnap {
                    name: app.name.clone(),
                    live,
                    streams: Vec::new(),
                };
                with_hub(|hub| {
                    for (key, info) in hub.streams() {
                        if key.server != index || key.app != app.name {
                            continue;
                        }
                        seen.push(key.clone());
                        let mut cl = clients.remove(key).unwrap_or_default();
                        cl.sort_by_key(|(c, _)| c.id);
                        let out: u64 = cl
                            .iter()
                            .filter(|(c, _)| !c.publishing)
                            .map(|(_, o)| o)
                            .sum();
                        let meters = m.streams.entry(key.clone()).or_default();
                        let f = &info.facts;
                        for (c, _) in cl.iter_mut().filter(|(c, _)| c.publishing) {
                            c.avsync = f.avsync();
                            c.timestamp = f.last_video_ts.or(f.last_audio_ts).unwrap_or(0);
                        }
                        // A relayed stream's input is counted by the worker it comes from.
                        let (publishing, bytes_in, audio, video) = match relayed.contains(key) {
                            true => (false, 0, 0, 0),
                            false => (info.publishing, info.bytes_in, f.audio_bytes, f.video_bytes),
                        };
                        a.streams.push(StreamSnap {
                            name: key.name.clone(),
                            time_ms: t.saturating_sub(info.since_ms),
                            bytes_in,
                            bytes_out: out,
                            bw_in: meters[0].sample(bytes_in, t),
                            bw_out: meters[1].sample(out, t),
                            bw_audio: meters[2].sample(audio, t),
                            bw_video: meters[3].sample(video, t),
                            meta: MetaSnap {
                                video: f.video.clone(),
                                audio: f.audio.clone(),
                            },
                            clients: cl.into_iter().map(|(c, _)| c).collect(),
                            publishing,
                            active: publishing && f.frames > 0,
                        });
                    }
                });
                a.streams.sort_by(|x, y| x.name.cmp(&y.name));
                server.apps.push(a);
            }
            snap.servers.push(server);
        }
        m.streams.retain(|k, _| seen.contains(k));
        snap
    })
}

fn client(c: &Conn, publishing: bool, t: u64) -> ClientSnap {
    let info = c.app.as_ref().map(|a| &a.info);
    #[allow(clippy::unnecessary_cast)] // ngx_atomic_uint_t's width is the platform's
    // SAFETY: c.c is the live connection of a registered Conn.
    let (id, address) = unsafe { ((*c.c).number as u64, ngx_str(&(*c.c).addr_text)) };
    ClientSnap {
        id,
        address,
        time_ms: t.saturating_sub(c.started as u64),
        flashver: info.map(|i| i.flash_ver.clone()).unwrap_or_default(),
        swfurl: info.map(|i| i.swf_url.clone()).unwrap_or_default(),
        pageurl: info.map(|i| i.page_url.clone()).unwrap_or_default(),
        tcurl: info.map(|i| i.tc_url.clone()).unwrap_or_default(),
        dropped: c.outbox.borrow().dropped_frames,
        avsync: 0,
        timestamp: 0,
        publishing,
        active: true,
        relay: false,
    }
}

/// Seconds since this configuration was loaded, as the C module counts `uptime`.
pub fn uptime_secs() -> u64 {
    let Some(ctx) = rtmp_ctx() else { return 0 };
    // SAFETY: ngx_cached_time is kept current by nginx; ctx is the running cycle's.
    unsafe {
        let now = (*nginx_sys::ngx_cached_time).sec as u64;
        now.saturating_sub(core_main_conf(ctx).started_secs)
    }
}
