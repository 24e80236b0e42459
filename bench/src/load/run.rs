//! `rtmp-load run`: S publishers, P players each, one measurement window.
//!
//! A player "kept up" when at least 95% of the frames its stream published during the window
//! reached it within the on-time limit (500 ms), and it was never disconnected. Frames are
//! matched by their stamped sequence numbers, so a frame published at the window's end and
//! received just after it still counts, and a frame that never came counts as late.

use super::player::{self, PlayerResult, Shared};
use super::publisher::{self, PubStats};
use super::Target;
use crate::args::Args;
use crate::procfs;
use crate::stats::{dist, r3};
use crate::{flv, flv::Media};
use serde_json::{json, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

/// The share of a window's frames a player must get on time.
pub const KEPT_UP_SHARE: f64 = 0.95;

pub struct RunOpts {
    pub addr: String,
    pub app: String,
    pub flv: String,
    pub streams: usize,
    /// Players per stream.
    pub players: usize,
    /// Players join evenly spread over this time.
    pub join_spread: Duration,
    /// After the last join, before the window.
    pub warmup: Duration,
    pub window: Duration,
    /// After the publishers started, before the baseline memory reading: a GOP, so that a
    /// server's GOP cache is full and not counted against its players.
    pub settle: Duration,
    pub on_time_ms: f64,
    pub pids: Vec<u32>,
    pub prefix: String,
}

impl RunOpts {
    pub fn from_args(a: &Args) -> RunOpts {
        let secs = |k: &str, d: f64| Duration::from_secs_f64(a.num(k, d));
        RunOpts {
            addr: a.s("addr", "127.0.0.1:1935"),
            app: a.s("app", "live"),
            flv: a.s("flv", "media.flv"),
            streams: a.num("streams", 1),
            players: a.num("players", 1),
            join_spread: Duration::from_millis(a.num("join-spread-ms", 0)),
            warmup: secs("warmup-s", 3.0),
            window: secs("duration-s", 8.0),
            settle: secs("settle-s", 2.2),
            on_time_ms: a.num("on-time-ms", 500.0),
            pids: a.pids("pids"),
            prefix: a.s("name-prefix", "s"),
        }
    }
}

/// Counters read at the window's start and end.
struct Snap {
    at: Instant,
    srv: f64,
    srv_split: (f64, f64),
    runq_srv: f64,
    runq_cli: f64,
    cli: f64,
    machine: (f64, f64),
    bytes: u64,
    pub_frames: Vec<u64>,
    pub_bytes: u64,
}

fn snap(o: &RunOpts, g: &Shared, pubs: &[Arc<PubStats>]) -> Snap {
    let me = [std::process::id()];
    Snap {
        at: Instant::now(),
        srv: procfs::cpu_sum(&o.pids),
        srv_split: procfs::cpu_split_sum(&o.pids),
        runq_srv: procfs::runq_wait_s(&o.pids),
        runq_cli: procfs::runq_wait_s(&me),
        cli: procfs::cpu_sum(&me),
        machine: procfs::machine_cpu(),
        bytes: g.bytes.load(Relaxed),
        pub_frames: pubs.iter().map(|p| p.frames.load(Relaxed)).collect(),
        pub_bytes: pubs.iter().map(|p| p.bytes.load(Relaxed)).sum(),
    }
}

/// Waits until every publisher is publishing or one has given up (≤ 10 s).
async fn publishers_up(
    pubs: &[Arc<PubStats>],
    handles: &[tokio::task::JoinHandle<Result<(), String>>],
) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if pubs.iter().all(|p| p.ok.load(Relaxed)) || handles.iter().any(|h| h.is_finished()) {
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
}

/// One player's verdict over the window.
struct Judged {
    kept_up: bool,
    on_time_share: f64,
    latencies_ms: Vec<f64>,
    lost: u64,
}

fn judge(r: &PlayerResult, range: (u64, u64), on_time_ms: f64) -> Judged {
    let (a, b) = range;
    let published = b.saturating_sub(a);
    let in_window = r
        .samples
        .iter()
        .filter(|(s, _)| (*s as u64) >= a && (*s as u64) < b);
    let latencies_ms: Vec<f64> = in_window.map(|(_, l)| *l as f64 / 1000.0).collect();
    let on_time = latencies_ms.iter().filter(|&&l| l <= on_time_ms).count() as u64;
    let on_time_share = if published > 0 {
        on_time as f64 / published as f64
    } else {
        0.0
    };
    Judged {
        kept_up: r.connected && !r.disconnected && published > 0 && on_time_share >= KEPT_UP_SHARE,
        on_time_share,
        lost: published.saturating_sub(latencies_ms.len() as u64),
        latencies_ms,
    }
}

pub async fn run(o: &RunOpts) -> Result<Value, String> {
    let media: Arc<Media> = Arc::new(flv::load(&o.flv)?);
    let g = Shared::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let rss_idle = procfs::rss_kb(&o.pids);
    let target = |s: usize| Target {
        addr: o.addr.clone(),
        app: o.app.clone(),
        name: format!("{}{s}", o.prefix),
    };

    let mut pubs = Vec::new();
    let mut pub_h = Vec::new();
    for s in 0..o.streams {
        let st = Arc::new(PubStats::default());
        pubs.push(st.clone());
        pub_h.push(tokio::spawn(publisher::publish(
            target(s),
            media.clone(),
            st,
            stop_rx.clone(),
        )));
        if o.streams > 1 {
            // Spread over up to a second, so the streams' keyframes do not all fall together.
            sleep(Duration::from_millis((1000 / o.streams as u64).min(20))).await;
        }
    }
    publishers_up(&pubs, &pub_h).await;
    sleep(o.settle).await;
    let rss_pub = procfs::rss_kb(&o.pids);

    let n = o.streams * o.players;
    let mut pl_h = Vec::new();
    for i in 0..n {
        let delay = if n > 1 {
            o.join_spread.mul_f64(i as f64 / (n - 1) as f64)
        } else {
            Duration::ZERO
        };
        let s = i % o.streams;
        pl_h.push(tokio::spawn(player::play(
            target(s),
            s,
            delay,
            g.clone(),
            stop_rx.clone(),
        )));
    }
    sleep(o.join_spread + o.warmup).await;

    let a = snap(o, &g, &pubs);
    g.measuring.store(true, Relaxed);
    g.recording.store(true, Relaxed);
    let mut rss_max = 0u64;
    let steps = (o.window.as_millis() / 250).max(1) as u32;
    for _ in 0..steps {
        sleep(o.window / steps).await;
        rss_max = rss_max.max(procfs::rss_kb(&o.pids));
    }
    g.measuring.store(false, Relaxed);
    let b = snap(o, &g, &pubs);
    let rss_end = procfs::rss_kb(&o.pids);
    let hwm_end = procfs::hwm_kb(&o.pids);
    let server_alive = procfs::alive(&o.pids);
    // Frames published inside the window may still be on their way; later than the on-time
    // limit they count as late anyway.
    sleep(Duration::from_millis(o.on_time_ms as u64 + 100)).await;
    let _ = stop_tx.send(true);

    let mut results = Vec::new();
    for h in pl_h {
        match timeout(Duration::from_secs(5), h).await {
            Ok(Ok(r)) => results.push(r),
            _ => results.push(PlayerResult {
                error: Some("player task did not finish".into()),
                ..Default::default()
            }),
        }
    }
    let mut pub_errs = Vec::new();
    for h in pub_h {
        if let Ok(Ok(Err(e))) = timeout(Duration::from_secs(3), h).await {
            pub_errs.push(e);
        }
    }

    let wall = (b.at - a.at).as_secs_f64();
    let mut kept = 0;
    let mut lat = Vec::new();
    let (mut ttff, mut ttfk, mut ttfk_c, mut conn_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut disc, mut stalls, mut errs, mut connected, mut lost) = (0, 0u64, 0, 0, 0u64);
    let mut err_samples: Vec<String> = Vec::new();
    let mut max_gap: f64 = 0.0;
    let mut worst_share: Option<f64> = None;
    for r in &results {
        let range = (
            a.pub_frames.get(r.stream).copied().unwrap_or(0),
            b.pub_frames.get(r.stream).copied().unwrap_or(0),
        );
        let j = judge(r, range, o.on_time_ms);
        kept += j.kept_up as usize;
        lost += j.lost;
        worst_share = Some(worst_share.map_or(j.on_time_share, |w: f64| w.min(j.on_time_share)));
        lat.extend(j.latencies_ms);
        connected += r.connected as usize;
        disc += r.disconnected as usize;
        stalls += r.stalls_win;
        max_gap = max_gap.max(r.max_gap_win_ms);
        if let Some(e) = &r.error {
            errs += 1;
            if err_samples.len() < 5 {
                err_samples.push(e.clone());
            }
        }
        ttff.extend(r.ttff_ms);
        ttfk.extend(r.ttfk_ms);
        ttfk_c.extend(r.ttfk_from_connect_ms);
        conn_ms.extend(r.connect_ms);
    }
    let publishers_ok = pubs.iter().filter(|p| p.ok.load(Relaxed)).count();
    let delivered = (b.bytes - a.bytes) as f64;
    let srv_cpu = b.srv - a.srv;
    let cli_cpu = b.cli - a.cli;
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let busy = (b.machine.0 - a.machine.0) / (b.machine.1 - a.machine.1).max(1.0);
    let pass = server_alive && publishers_ok == o.streams && pub_errs.is_empty() && kept == n;
    let per_frames: Vec<u64> = b
        .pub_frames
        .iter()
        .zip(&a.pub_frames)
        .map(|(b, a)| b - a)
        .collect();
    Ok(json!({
        "mode": "run", "addr": o.addr, "app": o.app, "streams": o.streams, "players_per_stream": o.players, "players": n,
        "source_kbps": r3(media.bitrate_kbps), "loop_ms": media.dur_ms, "window_s": r3(wall),
        "on_time_limit_ms": o.on_time_ms, "kept_up_share": KEPT_UP_SHARE,
        "pass": pass, "kept_up": kept, "connected": connected, "disconnects": disc, "stalls": stalls,
        "lost_frames": lost, "worst_on_time_pct": worst_share.map(|w| r3(100.0 * w)),
        "max_gap_ms": r3(max_gap), "errors": errs, "error_samples": err_samples,
        "server": {
            "pids": o.pids, "alive": server_alive,
            "cpu_s": r3(srv_cpu), "cpu_pct": r3(100.0 * srv_cpu / wall),
            "user_s": r3(b.srv_split.0 - a.srv_split.0), "sys_s": r3(b.srv_split.1 - a.srv_split.1),
            "runq_wait_pct": r3(100.0 * (b.runq_srv - a.runq_srv) / wall),
            "rss_kb_idle": rss_idle, "rss_kb_after_publish": rss_pub, "rss_kb_end": rss_end,
            "rss_kb_max": rss_max, "hwm_kb_end": hwm_end,
            "rss_kb_per_player": (n > 0).then(|| r3((rss_end as f64 - rss_pub as f64) / n as f64)),
            "rss_kb_per_stream": (o.streams > 0).then(|| r3((rss_pub as f64 - rss_idle as f64) / o.streams as f64)),
            "cpu_s_per_gb": (delivered > 0.0).then(|| r3(srv_cpu / (delivered / 1e9))),
        },
        "client": {
            "cpu_s": r3(cli_cpu), "cpu_pct": r3(100.0 * cli_cpu / wall),
            "rss_kb": procfs::status_kb(std::process::id(), "VmRSS:"),
            "runq_wait_pct": r3(100.0 * (b.runq_cli - a.runq_cli) / wall),
        },
        "machine": {
            "cpus": ncpu, "busy_pct": r3(100.0 * busy),
            "other_cpu_pct": r3(ncpu * 100.0 * busy - 100.0 * (srv_cpu + cli_cpu) / wall),
        },
        "delivered_bytes": delivered as u64, "delivered_mbit_s": r3(delivered * 8.0 / wall / 1e6),
        "published_bytes": b.pub_bytes - a.pub_bytes,
        "published_frames_per_stream": per_frames.iter().max(),
        "publishers_ok": publishers_ok, "publisher_errors": pub_errs,
        "publisher_late_ms_max": pubs.iter().map(|p| p.late_ms_max.load(Relaxed)).max(),
        "latency_ms": dist(lat), "ttff_ms": dist(ttff), "ttfk_ms": dist(ttfk),
        "ttfk_from_connect_ms": dist(ttfk_c), "connect_ms": dist(conn_ms),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_player_keeps_up_with_95_percent_on_time() {
        let mut r = PlayerResult {
            connected: true,
            ..Default::default()
        };
        // Frames 10..30 published in the window; 19 of them arrive, one of those late.
        r.samples = (9..29)
            .map(|s| (s, if s == 12 { 900_000 } else { 5_000 }))
            .collect();
        let j = judge(&r, (10, 30), 500.0);
        assert_eq!((j.latencies_ms.len(), j.lost), (19, 1));
        assert!(!j.kept_up, "18 of 20 on time is 90%");
        r.samples = (10..30)
            .map(|s| (s, if s == 12 { 900_000 } else { 5_000 }))
            .collect();
        assert!(judge(&r, (10, 30), 500.0).kept_up, "19 of 20 is 95%");
        r.disconnected = true;
        assert!(!judge(&r, (10, 30), 500.0).kept_up);
    }
}
