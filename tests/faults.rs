//! Faults from outside: a worker killed mid-stream, the disk filling up under recording and
//! HLS, a push target that stops reading, and thousands of connections that say nothing.
//! Each test is bounded (well under 60 s) and ends with the server still serving real
//! clients.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HLS_LOCATION: &str = "location /hls {
    alias {tmp}/hls;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
}";

/// Resident memory of a process in bytes (`VmRSS` of /proc/PID/status).
fn rss(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Open descriptors of a process.
fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The fragments a playlist names, in order.
fn playlist_fragments(m3u8: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(m3u8).unwrap_or_default();
    let dir = m3u8.parent().unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| dir.join(l))
        .collect()
}

/// Every fragment the playlist names exists and ffprobe reads it as H.264 + AAC with frames.
fn assert_fragments_valid(m3u8: &Path) -> usize {
    let frags = playlist_fragments(m3u8);
    for f in &frags {
        let (streams, err) = probe_file(f);
        let video = streams.iter().find(|s| s.codec_type == "video");
        assert!(
            video.is_some_and(|v| v.codec_name == "h264" && v.frames > 0),
            "{f:?} is not a valid fragment: {streams:?} {err}"
        );
        assert!(
            streams.iter().any(|s| s.codec_name == "aac"),
            "{f:?} has no AAC: {streams:?}"
        );
    }
    frags.len()
}

/// A worker killed with SIGKILL in the middle of a recorded, HLS-packaged stream: the master
/// starts a new worker, the recording written so far plays, every fragment the playlist
/// names is valid, and the new worker serves a new publisher, its player, recorder and HLS.
#[test]
fn killed_worker_is_replaced_and_its_files_play() {
    let mut opts = NginxOpts::new(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec; \
         hls on; hls_path {tmp}/hls; hls_fragment 1s;",
    ));
    opts.http_server_extra = HLS_LOCATION.to_string();
    let ng = Nginx::start_opts(opts);
    let killed = ng.worker_pids();
    assert_eq!(killed.len(), 1);
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "cut"), 30);
    let player = spawn_ffmpeg_player(&ng.rtmp_url("live", "cut"), 30.0);
    std::thread::sleep(Duration::from_secs(6));
    signal(killed[0], libc::SIGKILL);
    let replaced = wait_for(Duration::from_secs(10), || {
        let now = ng.worker_pids();
        (now.len() == 1 && now != killed).then_some(now)
    });
    eprintln!("worker {killed:?} killed, replaced by {replaced:?}");
    assert!(
        replaced.is_some(),
        "no new worker: {}",
        ng.error_log_tail(20)
    );
    // The publisher and the player were the killed worker's clients: both lose the server.
    let out = publisher.wait_bounded(Duration::from_secs(20));
    assert!(!out.success(), "the publisher did not notice the kill");
    let r = finish_play(player, Duration::from_secs(20));
    assert!(
        r.video_frames >= 75,
        "player before the kill: {r:?}",
        r = r.video_frames
    );

    let c = check_file(&ng.file("rec/cut.flv"));
    eprintln!("recording cut by the kill: {c:?}");
    assert_eq!(c.video_codec.as_deref(), Some("h264"));
    assert_eq!(c.audio_codec.as_deref(), Some("aac"));
    assert!(c.starts_with_keyframe);
    assert!(c.video_frames >= 100, "only {} frames", c.video_frames);
    assert!(c.decode_errors.is_empty(), "{}", c.decode_errors);
    let n = assert_fragments_valid(&ng.file("hls/cut.m3u8"));
    eprintln!("{n} fragments in the cut playlist, all valid");
    assert!(n >= 3, "{n} fragments");

    // The new worker serves a new stream end to end.
    let url = ng.rtmp_url("live", "after");
    let player = spawn_ffmpeg_player(&url, 5.0);
    std::thread::sleep(Duration::from_millis(500));
    let out = publish_ffmpeg(&url, 6).wait_bounded(Duration::from_secs(40));
    assert!(out.success(), "publisher after the kill: {}", out.stderr);
    let r = finish_play(player, Duration::from_secs(30));
    assert!(
        r.video_frames >= 100,
        "player after the kill: {r:?}",
        r = r.video_frames
    );
    std::thread::sleep(Duration::from_millis(500));
    let c = check_file(&ng.file("rec/after.flv"));
    assert!(c.video_frames >= 140 && c.decode_errors.is_empty(), "{c:?}");
    assert!(assert_fragments_valid(&ng.file("hls/after.m3u8")) >= 3);

    // The only alert is the master's report of the kill.
    let alerts: Vec<String> = ng
        .alerts()
        .into_iter()
        .filter(|l| !l.contains(&format!("{} exited on signal 9", killed[0])))
        .collect();
    assert!(alerts.is_empty(), "{alerts:?}");
}

/// A small tmpfs, mounted for one test and unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// None (with the reason printed) where this process may not mount.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = temp_dir("tmpfs");
        let mut c = Command::new("mount");
        c.args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0777"),
            "tmpfs",
        ])
        .arg(&dir);
        let out = run_bounded(c, Duration::from_secs(10));
        if !out.success() {
            eprintln!("SKIP: cannot mount a tmpfs here: {}", out.stderr.trim());
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let mut c = Command::new("umount");
        c.arg(&self.dir);
        let out = run_bounded(c, Duration::from_secs(10));
        if out.success() {
            let _ = std::fs::remove_dir(&self.dir);
        } else {
            eprintln!("umount {:?}: {}", self.dir, out.stderr);
        }
    }
}

/// The disk fills up under a recorder and HLS (a 2 MB tmpfs, a 1 Mbit/s stream written
/// twice): each sink stops with an `error` line naming ENOSPC, the stream's player keeps
/// every frame, the worker survives, what was written before the disk filled plays, and once
/// space is free again a new publish records and packages again.
#[test]
fn full_disk_stops_recording_and_hls_not_the_stream() {
    let Some(disk) = Tmpfs::mount("2m") else {
        return;
    };
    let d = disk.dir.display();
    let ng = Nginx::start(&simple_rtmp(
        "live",
        &format!(
            "live on; record all; record_path {d}/rec; \
             hls on; hls_path {d}/hls; hls_fragment 1s; hls_playlist_length 30s;"
        ),
    ));
    let worker = ng.worker_pids();
    let url = ng.rtmp_url("live", "fill");
    let player = spawn_ffmpeg_player(&url, 14.5);
    std::thread::sleep(Duration::from_millis(800));
    let out = publish_ffmpeg_with(
        &url,
        15,
        "testsrc2=size=640x360:rate=25",
        &["-g", "25", "-b:v", "1M", "-minrate", "1M", "-maxrate", "1M"],
    )
    .wait_bounded(Duration::from_secs(45));
    assert!(out.success(), "publisher: {}", out.stderr);
    let r = finish_play(player, Duration::from_secs(30));
    eprintln!(
        "player while the disk filled: {} video, {} audio frames",
        r.video_frames, r.audio_frames
    );
    assert!(
        r.video_frames >= 14 * 25 * 9 / 10,
        "player got {} frames",
        r.video_frames
    );
    let log = ng.error_log();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("[error]")).collect();
    eprintln!("error lines:\n{}", errors.join("\n"));
    assert!(
        errors
            .iter()
            .any(|l| l.contains("record: stopped") && l.contains("No space left on device")),
        "no recorder error"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("HLS stopped") && l.contains("No space left on device")),
        "no HLS error"
    );
    assert_eq!(ng.worker_pids(), worker, "the worker died");
    ng.assert_no_alerts();

    let rec = disk.dir.join("rec/fill.flv");
    let c = check_file(&rec);
    eprintln!("recording cut by the full disk: {c:?}");
    assert_eq!(c.video_codec.as_deref(), Some("h264"));
    assert!(c.starts_with_keyframe && c.video_frames >= 25, "{c:?}");
    // Cut at the last whole tag, its head patched with what it holds.
    assert!(c.decode_errors.is_empty(), "{}", c.decode_errors);
    let frames_secs = c.video_frames as f64 / 25.0;
    assert!(
        (c.duration - frames_secs).abs() < 0.5,
        "duration {} for {} frames",
        c.duration,
        c.video_frames
    );
    let n = assert_fragments_valid(&disk.dir.join("hls/fill.m3u8"));
    eprintln!("{n} fragments in the playlist, all valid");

    // Free the disk: the next publish records and packages again.
    let _ = std::fs::remove_dir_all(disk.dir.join("rec"));
    let _ = std::fs::remove_dir_all(disk.dir.join("hls"));
    let out =
        publish_ffmpeg(&ng.rtmp_url("live", "again"), 4).wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "publisher: {}", out.stderr);
    std::thread::sleep(Duration::from_millis(500));
    let c = check_file(&disk.dir.join("rec/again.flv"));
    assert!(c.video_frames >= 90 && c.decode_errors.is_empty(), "{c:?}");
    assert!(assert_fragments_valid(&disk.dir.join("hls/again.m3u8")) >= 2);
    ng.assert_no_alerts();
    drop(ng);
}

/// A TCP proxy in front of a real target that can freeze: from then on it reads nothing from
/// the relay (its socket receive buffer is 64 KB, so the kernel absorbs little), as a target
/// that accepts and never reads. It counts the bytes it passed on.
struct FreezingProxy {
    port: u16,
    frozen: Arc<AtomicBool>,
    passed: Arc<AtomicU64>,
}

impl FreezingProxy {
    fn start(target: u16) -> FreezingProxy {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        // Accepted sockets inherit it; set before listen so the window is small from SYN on.
        sock.set_recv_buffer_size(64 * 1024).unwrap();
        sock.bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        sock.listen(16).unwrap();
        let listener: TcpListener = sock.into();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        let passed = Arc::new(AtomicU64::new(0));
        let (f, p) = (frozen.clone(), passed.clone());
        std::thread::spawn(move || {
            for from in listener.incoming() {
                let Ok(from) = from else { return };
                let Ok(to) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (f, p) = (f.clone(), p.clone());
                let (from2, to2) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                // Relay -> target: stops reading for good once frozen.
                std::thread::spawn(move || pump(from, to, Some(f), p));
                // Target -> relay: answers keep flowing.
                std::thread::spawn(move || pump(to2, from2, None, Arc::new(AtomicU64::new(0))));
            }
        });
        FreezingProxy {
            port,
            frozen,
            passed,
        }
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    freeze: Option<Arc<AtomicBool>>,
    n: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if freeze.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
            // Hold the connection open without reading, until the test process ends.
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                if to.write_all(&buf[..k]).is_err() {
                    break;
                }
                n.fetch_add(k as u64, Ordering::SeqCst);
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A push target that stops reading in the middle of a 3 Mbit/s stream. For 40 s the source
/// worker's memory stays within the relay queue's bound (8 MB soft limit, plus 4 MB for the
/// message that overflows, the GOP cache and the allocator) although far more than that
/// goes unread, and a local player never waits: no gap of a second between its video frames.
#[test]
fn push_target_that_stops_reading_costs_bounded_memory() {
    const FROZEN_SECS: u64 = 40;
    const BOUND: u64 = 12 << 20;
    let b = Nginx::start(&simple_rtmp("app", "live on;"));
    let proxy = FreezingProxy::start(b.rtmp_port);
    let a = Nginx::start(&format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         timeout 60s;\n\
         application live {{ live on; push rtmp://127.0.0.1:{}/app; }}\n\
         }}",
        proxy.port
    ));
    let worker = a.worker_pids()[0];
    // 3 Mbit/s of video whatever the picture: x264's CBR pads with filler data.
    let _publisher = publish_ffmpeg_with(
        &a.rtmp_url("live", "x"),
        FROZEN_SECS as u32 + 15,
        "testsrc2=size=640x360:rate=25",
        &[
            "-g",
            "25",
            "-b:v",
            "3M",
            "-minrate",
            "3M",
            "-maxrate",
            "3M",
            "-bufsize",
            "1M",
            "-x264-params",
            "nal-hrd=cbr",
        ],
    );
    let publishing = wait_for(Duration::from_secs(15), || {
        a.error_log()
            .contains("relay: push publishing")
            .then_some(())
    });
    assert!(publishing.is_some(), "{}", a.error_log_tail(20));
    let mut player = RtmpClient::connect(a.rtmp_addr(), "live").expect("connect");
    player.play("x").expect("play");
    // Warm up: the GOP cache and the player's queue reach their working size.
    player.collect_for(Duration::from_secs(3)).unwrap();
    let before = rss(worker);
    let passed_before = proxy.passed.load(Ordering::SeqCst);
    proxy.frozen.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let (mut peak, mut bytes, mut last_video, mut worst_gap) = (before, 0u64, t0, Duration::ZERO);
    while t0.elapsed() < Duration::from_secs(FROZEN_SECS) {
        for e in player.collect_for(Duration::from_millis(500)).unwrap() {
            match e {
                Event::Video { data, .. } => {
                    bytes += data.len() as u64;
                    worst_gap = worst_gap.max(last_video.elapsed());
                    last_video = Instant::now();
                }
                Event::Audio { data, .. } => bytes += data.len() as u64,
                _ => {}
            }
        }
        peak = peak.max(rss(worker));
    }
    let passed = proxy.passed.load(Ordering::SeqCst) - passed_before;
    let unread = bytes.saturating_sub(passed);
    eprintln!(
        "worker RSS {} -> peak {} KB (+{} KB); {} KB streamed while frozen, {} KB of it \
         passed the proxy; worst gap between video frames {:?}",
        before / 1024,
        peak / 1024,
        (peak - before) / 1024,
        bytes / 1024,
        passed / 1024,
        worst_gap
    );
    // Without a bound on the relay's queue, the unread bytes would all be in the worker.
    assert!(
        unread > BOUND + (2 << 20),
        "the test lacks power: only {unread} bytes unread"
    );
    assert!(peak - before < BOUND, "RSS grew by {} bytes", peak - before);
    assert!(
        worst_gap < Duration::from_secs(1),
        "player stalled {worst_gap:?}"
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// Whether the server closed this socket (EOF or reset); never blocks.
fn closed_by_peer(mut s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut b = [0u8; 64];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Raises this process's descriptor limit (inherited by nginx) to `want`; false if the hard
/// limit is lower.
fn raise_nofile(want: u64) -> bool {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 || rl.rlim_max < want {
            return false;
        }
        if rl.rlim_cur < want {
            rl.rlim_cur = want;
            return libc::setrlimit(libc::RLIMIT_NOFILE, &rl) == 0;
        }
    }
    true
}

/// 5,000 connections that connect and say nothing. nginx holds them all (worker_connections
/// 6000), a real publisher and player get in and play meanwhile, and the handshake `timeout`
/// (5 s here) reaps every one of them: each silent socket sees the server close it, and the
/// worker's descriptors go back to what they were.
#[test]
fn five_thousand_silent_connections_are_reaped() {
    const SILENT: usize = 5000;
    if !raise_nofile(12_000) {
        eprintln!("SKIP: the descriptor limit cannot be raised to 12000 here");
        return;
    }
    let mut opts = NginxOpts::new(
        "server {\n listen 127.0.0.1:{rtmp_port};\n timeout 5s;\n\
         application live { live on; }\n}",
    );
    opts.worker_connections = 6000;
    opts.main_extra = "worker_rlimit_nofile 12000;".to_string();
    let ng = Nginx::start_opts(opts);
    let worker = ng.worker_pids()[0];
    let fds_before = open_fds(worker);
    let rss_before = rss(worker);
    let t0 = Instant::now();
    let mut silent = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        let s = TcpStream::connect(ng.rtmp_addr()).expect("connect");
        silent.push(s);
    }
    let connected = t0.elapsed();
    let held = wait_for(Duration::from_secs(5), || {
        let n = open_fds(worker);
        (n >= fds_before + SILENT).then_some(n)
    });
    let per_conn = rss(worker).saturating_sub(rss_before) / SILENT as u64;
    eprintln!(
        "{SILENT} silent connections in {connected:?}; worker fds {fds_before} -> {held:?}, \
         RSS +{per_conn} bytes a connection"
    );
    assert!(held.is_some(), "nginx did not accept them all");
    // Its pool, the session and the chunk reader's first state: a few KB, never a buffer
    // sized by what a peer announces.
    assert!(
        per_conn < 32 * 1024,
        "{per_conn} bytes per silent connection"
    );

    // Real clients while they sit there.
    let url = ng.rtmp_url("live", "real");
    let player = spawn_ffmpeg_player(&url, 3.0);
    let publisher = publish_ffmpeg(&url, 4);
    let r = finish_play(player, Duration::from_secs(30));
    drop(publisher);
    assert!(
        r.video_frames >= 60,
        "player among silent connections: {} frames",
        r.video_frames
    );

    // Every silent socket is closed by the server.
    let reaped = wait_for(Duration::from_secs(15), || {
        let open = silent.iter().filter(|s| !closed_by_peer(s)).count();
        (open == 0).then(|| t0.elapsed())
    });
    eprintln!("all reaped after {reaped:?}");
    assert!(reaped.is_some(), "silent connections still open");
    let timed_out = ng
        .error_log()
        .lines()
        .filter(|l| l.contains("client timed out"))
        .count();
    assert!(timed_out >= SILENT, "{timed_out} timeout lines");
    let fds_after = wait_for(Duration::from_secs(5), || {
        let n = open_fds(worker);
        (n <= fds_before + 2).then_some(n)
    });
    assert!(fds_after.is_some(), "worker fds: {}", open_fds(worker));
    assert_eq!(ng.worker_pids(), vec![worker]);
    ng.assert_no_alerts();
}

/// A client that keeps asking and never reads the answers (here `FCPublish` with a 32 KB
/// name, which the server echoes in `onFCPublish`): the server's queue for it is bounded, so
/// it is closed once its unread answers pass the bound, and the worker's memory stays within
/// it although the client keeps sending far more.
#[test]
fn client_that_never_reads_its_answers_is_closed() {
    // The queue's hard limit (32 MB) and room for the allocator and read buffers.
    const BOUND: u64 = 48 << 20;
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let worker = ng.worker_pids()[0];
    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    c.set_chunk_size(65536).unwrap();
    socket2::SockRef::from(&c.sock)
        .set_recv_buffer_size(4096)
        .unwrap();
    c.sock
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let before = rss(worker);
    let name = "n".repeat(32 * 1024);
    let t0 = Instant::now();
    let (mut sent, mut peak, mut closed) = (0u64, before, None);
    while t0.elapsed() < Duration::from_secs(20) {
        if c.command(0, "FCPublish", 0.0, rml_amf0::Amf0Value::Null, &[s(&name)])
            .is_err()
        {
            closed = Some(t0.elapsed());
            break;
        }
        sent += name.len() as u64;
        peak = peak.max(rss(worker));
    }
    peak = peak.max(rss(worker));
    eprintln!(
        "sent {} KB of requests; worker RSS {} -> peak {} KB; closed after {closed:?}",
        sent / 1024,
        before / 1024,
        peak / 1024
    );
    assert!(
        peak - before < BOUND,
        "RSS grew by {} KB",
        (peak - before) / 1024
    );
    assert!(
        closed.is_some(),
        "the server never closed a client that does not read"
    );
    assert!(
        ng.error_log()
            .lines()
            .any(|l| l.contains("[error]") && l.contains("does not read")),
        "{}",
        ng.error_log_tail(10)
    );
    assert_eq!(ng.worker_pids(), vec![worker]);
    ng.assert_no_alerts();
}

/// Reloads while a publisher stays on the first workers and players linger on each
/// generation (`rtmp_auto_push on`, 2 workers): a player who comes after the third reload
/// still gets the stream (each generation must find its peers, so the stat zone needs room
/// for more than two), and once the lingering players leave, the generations between the
/// first and the last exit (a relay from another worker is no reason to stay on its own).
#[test]
fn reloads_with_lingering_players_keep_streams_and_let_old_workers_go() {
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = 2;
    opts.main_extra = "rtmp_auto_push on;\nrtmp_socket_dir {tmp};\n".into();
    let mut ng = Nginx::start_opts(opts);
    let first = ng.worker_pids();
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "x"), 50);
    std::thread::sleep(Duration::from_secs(2));
    let watch = |ng: &Nginx, who: &str| -> RtmpClient {
        let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
        p.play("x").expect("play");
        let got = p.collect_media(10, Duration::from_secs(8));
        let videos = got
            .iter()
            .filter(|e| matches!(e, Event::Video { .. }))
            .count();
        eprintln!("{who}: {videos} video messages");
        assert!(videos > 0, "{who} got no video: {}", ng.error_log_tail(20));
        p
    };
    let mut lingering = vec![watch(&ng, "player before the reloads")];
    for i in 1..=3 {
        let before = ng.worker_pids();
        ng.reload();
        let fresh = wait_for(Duration::from_secs(10), || {
            let now = ng.worker_pids();
            (now.iter().filter(|p| !before.contains(p)).count() >= 2).then_some(now)
        });
        assert!(fresh.is_some(), "reload {i}: no new workers");
        std::thread::sleep(Duration::from_millis(1500));
        lingering.push(watch(&ng, &format!("player after reload {i}")));
    }
    let all = ng.worker_pids();
    eprintln!("workers with players on every generation: {all:?}");
    // The players leave: what stays is the publisher's worker and the last generation.
    drop(lingering);
    let settled = wait_for(Duration::from_secs(15), || {
        let now = ng.worker_pids();
        (now.len() <= 3).then_some(now)
    });
    eprintln!("after the players left: {settled:?} (first {first:?})");
    let settled =
        settled.unwrap_or_else(|| panic!("old workers stay: {:?} of {all:?}", ng.worker_pids()));
    assert_eq!(
        settled.iter().filter(|p| first.contains(p)).count(),
        1,
        "the publisher's worker"
    );
    ng.assert_no_alerts();
}
