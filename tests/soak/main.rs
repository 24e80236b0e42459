//! The soak run behind `scripts/soak [MINUTES]`: one nginx (2 workers, `rtmp_auto_push on`,
//! recording and HLS on) under 10 ffmpeg publishers and 300 players of our own that join and
//! leave at random, with a reload every 30 s. Every 10 s it samples the RSS and the open
//! descriptors summed over the master's children (old workers that drain after a reload
//! included); meanwhile every HLS fragment is checked with ffprobe as soon as a playlist
//! names it, and every recorded file once nginx has quit.
//!
//! It fails (exit 1) on a worker crash, an `[alert]`, a player that got no video, an
//! invalid file, or growth after warm-up (the first quarter of the run, at least 2 minutes).
//! The sums jump by a worker's worth whenever an old generation is alive or gone, so growth
//! is the slope of a least-squares fit with one intercept per worker count (the pooled
//! within-group slope), times the length of the window; the plain slope is printed beside it.
use ngx_rtmp_tests::media::{check_file, probe_file, publish_ffmpeg_with};
use ngx_rtmp_tests::rtmp::{ClientError, Event, RtmpClient};
use ngx_rtmp_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PUBLISHERS: usize = 10;
const PLAYERS: usize = 300;
const RELOAD_EVERY: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// A player watches for 5..60 s, then leaves and comes back after 0..3 s.
const WATCH_MS: (u64, u64) = (5_000, 60_000);
const AWAY_MS: u64 = 3_000;
/// Growth over the measured window allowed for "flat". About 4,000 player sessions start in
/// the 7.5 minutes measured of a 10-minute run, so a leak of 1 KB per session (4 MB, 5% of
/// the ~80 MB the workers hold) fails the RSS rule, as does one descriptor per 400 sessions
/// or per one and a half reloads. Measured without a leak: +0.4 MB and +2 descriptors.
const FLAT_RSS_FRACTION: f64 = 0.05;
const FLAT_FDS: f64 = 10.0;

fn main() {
    let minutes: f64 = std::env::args()
        .nth(1)
        .map(|m| m.parse().expect("MINUTES must be a number"))
        .unwrap_or(10.0);
    let run = Duration::from_secs_f64(minutes * 60.0);
    let ok = soak(run);
    std::process::exit(if ok { 0 } else { 1 });
}

#[derive(Default)]
struct PlayerStats {
    sessions: AtomicU64,
    with_video: AtomicU64,
    no_video: AtomicU64,
    refused: AtomicU64,
    connect_failed: AtomicU64,
    cut_by_server: AtomicU64,
    video_messages: AtomicU64,
}

struct Sample {
    at: f64,
    workers: usize,
    rss_kb: u64,
    fds: usize,
}

fn soak(run: Duration) -> bool {
    let mut opts = NginxOpts::new(
        "server {\n\
         \x20   listen 127.0.0.1:{rtmp_port};\n\
         \x20   application live {\n\
         \x20       live on;\n\
         \x20       record all; record_path {tmp}/rec; record_unique on; record_interval 2m;\n\
         \x20       hls on; hls_path {tmp}/hls; hls_fragment 4s; hls_playlist_length 20s;\n\
         \x20   }\n\
         }\n",
    );
    opts.worker_processes = 2;
    opts.worker_connections = 4096;
    opts.main_extra =
        "rtmp_auto_push on;\nrtmp_socket_dir {tmp};\nworker_rlimit_nofile 8192;".to_string();
    let mut ng = Nginx::start_opts(opts);
    let dir = ng.dir.clone();
    println!("soak: {:?}, nginx prefix {}", run, dir.display());
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));

    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|i| {
            publish_ffmpeg_with(
                &ng.rtmp_url("live", &format!("s{i}")),
                run.as_secs() as u32 + 30,
                "testsrc2=size=160x90:rate=15",
                &["-g", "30", "-b:v", "100k"],
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));

    let stats = Arc::new(PlayerStats::default());
    let players: Vec<_> = (0..PLAYERS)
        .map(|i| {
            let (stop, stats, addr) = (stop.clone(), stats.clone(), ng.rtmp_addr());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || player(i as u64, addr, &stop, &stats))
                .unwrap()
        })
        .collect();

    let hls = Arc::new(Mutex::new(HlsCheck::default()));
    let checker = {
        let (stop, hls, dir) = (stop.clone(), hls.clone(), dir.join("hls"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                hls.lock().unwrap().scan(&dir);
                std::thread::sleep(Duration::from_secs(3));
            }
        })
    };

    let mut samples = Vec::new();
    let mut next_reload = t0 + RELOAD_EVERY;
    let mut next_sample = t0;
    let mut reloads = 0;
    while t0.elapsed() < run {
        let now = Instant::now();
        if now >= next_sample {
            let s = sample(&ng, t0);
            println!(
                "soak: t={:>4.0}s workers={} rss={} KB fds={} players: {} sessions, {} video msgs",
                s.at,
                s.workers,
                s.rss_kb,
                s.fds,
                stats.sessions.load(Ordering::SeqCst),
                stats.video_messages.load(Ordering::SeqCst)
            );
            samples.push(s);
            next_sample += SAMPLE_EVERY;
        }
        if now >= next_reload {
            ng.reload();
            reloads += 1;
            next_reload += RELOAD_EVERY;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    stop.store(true, Ordering::SeqCst);
    for p in players {
        let _ = p.join();
    }
    let _ = checker.join();
    hls.lock().unwrap().scan(&dir.join("hls"));
    // Publishers go (their recordings close), then nginx quits gracefully.
    drop(publishers);
    std::thread::sleep(Duration::from_secs(2));
    let quit = ng.quit(Duration::from_secs(60));

    let mut failures = Vec::new();
    let alerts = ng.alerts();
    println!("soak: {reloads} reloads; nginx quit in {quit:?}");
    if quit.is_none() {
        failures.push("nginx did not quit within 60 s".to_string());
    }
    if !alerts.is_empty() {
        failures.push(format!(
            "{} alert/crash lines, first: {}",
            alerts.len(),
            alerts[0]
        ));
    }
    report_players(&stats, &mut failures);
    report_growth(&samples, run, &mut failures);
    hls.lock().unwrap().report(&mut failures);
    check_recordings(&dir.join("rec"), &mut failures);

    if failures.is_empty() {
        println!("soak: PASS");
        true
    } else {
        for f in &failures {
            println!("soak: FAIL {f}");
        }
        println!("soak: nginx prefix kept: {}", dir.display());
        std::env::set_var("NGX_RTMP_KEEP_TMP", "1");
        false
    }
}

/// A small xorshift: the players' choices need no quality, only no shared state.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn player(seed: u64, addr: std::net::SocketAddr, stop: &AtomicBool, stats: &PlayerStats) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Spread the first joins over 10 s.
    std::thread::sleep(Duration::from_millis(rng.below(10_000)));
    while !stop.load(Ordering::SeqCst) {
        let name = format!("s{}", rng.below(PUBLISHERS as u64));
        let watch = Duration::from_millis(WATCH_MS.0 + rng.below(WATCH_MS.1 - WATCH_MS.0));
        watch_once(addr, &name, watch, stop, stats);
        std::thread::sleep(Duration::from_millis(rng.below(AWAY_MS)));
    }
}

fn watch_once(
    addr: std::net::SocketAddr,
    name: &str,
    watch: Duration,
    stop: &AtomicBool,
    stats: &PlayerStats,
) {
    let mut c = match RtmpClient::connect(addr, "live") {
        Ok(c) => c,
        Err(_) => {
            stats.connect_failed.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    stats.sessions.fetch_add(1, Ordering::SeqCst);
    if c.play(name).is_err() {
        stats.refused.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let end = Instant::now() + watch;
    let mut videos = 0u64;
    while Instant::now() < end && !stop.load(Ordering::SeqCst) {
        match c.next_event_until((Instant::now() + Duration::from_millis(500)).min(end)) {
            Ok(Event::Video { .. }) => videos += 1,
            Ok(_) | Err(ClientError::Timeout) => {}
            Err(_) => {
                stats.cut_by_server.fetch_add(1, Ordering::SeqCst);
                break;
            }
        }
    }
    stats.video_messages.fetch_add(videos, Ordering::SeqCst);
    if videos > 0 {
        stats.with_video.fetch_add(1, Ordering::SeqCst);
    } else {
        stats.no_video.fetch_add(1, Ordering::SeqCst);
    }
}

/// RSS and descriptors summed over the master's children: the current workers and the old
/// ones still draining.
fn sample(ng: &Nginx, t0: Instant) -> Sample {
    let workers = children_of(ng.master_pid());
    let mut rss_kb = 0;
    let mut fds = 0;
    for &w in &workers {
        let status = std::fs::read_to_string(format!("/proc/{w}/status")).unwrap_or_default();
        rss_kb += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        fds += std::fs::read_dir(format!("/proc/{w}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
    }
    Sample {
        at: t0.elapsed().as_secs_f64(),
        workers: workers.len(),
        rss_kb,
        fds,
    }
}

/// Least-squares slope of y over x with one intercept per group (the pooled within-group
/// slope); groups with fewer than 3 points are left out.
fn pooled_slope(points: &[(usize, f64, f64)]) -> f64 {
    let groups: BTreeSet<usize> = points.iter().map(|p| p.0).collect();
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for g in groups {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.0 == g)
            .map(|p| (p.1, p.2))
            .collect();
        if pts.len() < 3 {
            continue;
        }
        let n = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
        sxy += pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>();
        sxx += pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    }
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

fn report_growth(samples: &[Sample], run: Duration, failures: &mut Vec<String>) {
    let warm = (run.as_secs_f64() / 4.0).max(120.0);
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm).collect();
    if after.len() < 6 {
        println!(
            "soak: only {} samples after the {warm:.0} s warm-up: no slope (run longer)",
            after.len()
        );
        return;
    }
    let window = after.last().unwrap().at - after[0].at;
    let rss: Vec<(usize, f64, f64)> = after
        .iter()
        .map(|s| (s.workers, s.at, s.rss_kb as f64))
        .collect();
    let fds: Vec<(usize, f64, f64)> = after
        .iter()
        .map(|s| (s.workers, s.at, s.fds as f64))
        .collect();
    let one_group = |v: &[(usize, f64, f64)]| -> Vec<(usize, f64, f64)> {
        v.iter().map(|p| (0, p.1, p.2)).collect()
    };
    let mean_rss = rss.iter().map(|p| p.2).sum::<f64>() / rss.len() as f64;
    let per_min = |s: f64| s * 60.0;
    let (rss_slope, fds_slope) = (per_min(pooled_slope(&rss)), per_min(pooled_slope(&fds)));
    let (rss_plain, fds_plain) = (
        per_min(pooled_slope(&one_group(&rss))),
        per_min(pooled_slope(&one_group(&fds))),
    );
    let workers: BTreeSet<usize> = after.iter().map(|s| s.workers).collect();
    println!(
        "soak: after {warm:.0} s warm-up, {} samples over {window:.0} s (worker processes {workers:?}): \
         RSS mean {mean_rss:.0} KB, slope {rss_slope:+.1} KB/min (plain fit {rss_plain:+.1}); \
         fds slope {fds_slope:+.2}/min (plain fit {fds_plain:+.2})",
        after.len()
    );
    let rss_growth = rss_slope / 60.0 * window;
    let fd_growth = fds_slope / 60.0 * window;
    println!(
        "soak: growth over the window: RSS {rss_growth:+.0} KB (flat: < {:.0} KB), \
         descriptors {fd_growth:+.1} (flat: < {FLAT_FDS})",
        FLAT_RSS_FRACTION * mean_rss
    );
    if rss_growth > FLAT_RSS_FRACTION * mean_rss {
        failures.push(format!(
            "RSS grows {rss_growth:.0} KB over {window:.0} s (> {:.0}% of {mean_rss:.0} KB)",
            FLAT_RSS_FRACTION * 100.0
        ));
    }
    if fd_growth > FLAT_FDS {
        failures.push(format!(
            "open descriptors grow by {fd_growth:.0} over {window:.0} s (> {FLAT_FDS})"
        ));
    }
}

fn report_players(stats: &PlayerStats, failures: &mut Vec<String>) {
    let g = |a: &AtomicU64| a.load(Ordering::SeqCst);
    println!(
        "soak: players: {} sessions, {} got video, {} got none, {} refused, {} connects failed, \
         {} cut by the server, {} video messages",
        g(&stats.sessions),
        g(&stats.with_video),
        g(&stats.no_video),
        g(&stats.refused),
        g(&stats.connect_failed),
        g(&stats.cut_by_server),
        g(&stats.video_messages)
    );
    if g(&stats.sessions) == 0 {
        failures.push("no player session".into());
    }
    for (what, n) in [
        ("player sessions got no video", g(&stats.no_video)),
        ("plays were refused", g(&stats.refused)),
        ("connects failed", g(&stats.connect_failed)),
    ] {
        if n > 0 {
            failures.push(format!("{n} {what}"));
        }
    }
}

/// HLS fragments checked as soon as their playlist names them (before hls_cleanup removes
/// them): per stream, the sequence numbers seen and the ones that failed.
#[derive(Default)]
struct HlsCheck {
    checked: BTreeMap<String, BTreeSet<u64>>,
    bad: Vec<String>,
}

impl HlsCheck {
    fn scan(&mut self, dir: &Path) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("m3u8") {
                continue;
            }
            let stream = p.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for frag in text.lines().filter(|l| l.ends_with(".ts")) {
                let Some(seq) = frag
                    .strip_suffix(".ts")
                    .and_then(|f| f.rsplit('-').next())
                    .and_then(|n| n.parse::<u64>().ok())
                else {
                    continue;
                };
                let seen = self.checked.entry(stream.clone()).or_default();
                if seen.contains(&seq) {
                    continue;
                }
                let path = dir.join(frag);
                if !path.is_file() {
                    continue; // cleaned up between the playlist read and now
                }
                seen.insert(seq);
                let (streams, err) = probe_file(&path);
                let video = streams
                    .iter()
                    .any(|s| s.codec_name == "h264" && s.frames > 0);
                let audio = streams.iter().any(|s| s.codec_name == "aac");
                if !video || !audio || !err.trim().is_empty() {
                    self.bad
                        .push(format!("{}: {streams:?} {}", path.display(), err.trim()));
                }
            }
        }
    }

    fn report(&self, failures: &mut Vec<String>) {
        let mut total = 0;
        let mut gaps = Vec::new();
        for (stream, seqs) in &self.checked {
            total += seqs.len();
            let (lo, hi) = (seqs.first().unwrap(), seqs.last().unwrap());
            let missing = (hi - lo + 1) as usize - seqs.len();
            if missing > 0 {
                gaps.push(format!("{stream}: {missing} of {lo}..={hi} never checked"));
            }
        }
        println!(
            "soak: HLS: {total} fragments of {} streams checked with ffprobe, {} invalid",
            self.checked.len(),
            self.bad.len()
        );
        if self.checked.len() < PUBLISHERS {
            failures.push(format!("HLS for only {} streams", self.checked.len()));
        }
        failures.extend(gaps);
        failures.extend(
            self.bad
                .iter()
                .take(5)
                .map(|b| format!("invalid fragment {b}")),
        );
    }
}

/// Every recorded piece plays: H.264 + AAC from a keyframe, no decode error.
fn check_recordings(dir: &Path, failures: &mut Vec<String>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut bad = 0;
    let mut seconds = 0.0;
    for f in &files {
        let c = check_file(f);
        seconds += c.duration;
        let ok = c.video_codec.as_deref() == Some("h264")
            && c.audio_codec.as_deref() == Some("aac")
            && c.starts_with_keyframe
            && c.video_frames > 0
            && c.decode_errors.is_empty();
        if !ok {
            bad += 1;
            failures.push(format!("recording {}: {c:?}", f.display()));
        }
    }
    println!(
        "soak: recordings: {} files, {seconds:.0} s in all, {bad} invalid",
        files.len()
    );
    if files.len() < PUBLISHERS {
        failures.push(format!("only {} recordings", files.len()));
    }
}
