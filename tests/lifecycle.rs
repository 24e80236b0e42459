//! Reload and graceful stop with live sessions.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::{Duration, Instant};

fn key(i: u32) -> Vec<u8> {
    let mut v = vec![0x17, 0x01, 0, 0, 0];
    v.extend((0..300u32).map(|k| (k ^ i) as u8));
    v
}

/// Three reloads (SIGHUP, as `nginx -s reload` sends) and a quit (SIGQUIT) while an ffmpeg
/// publisher and player run: no crash or [alert], the player keeps decoding, new sessions
/// work after the reloads, old workers exit within 30 s once their sessions end, and the
/// master exits after quit. The measured figures are printed.
#[test]
fn reload_x3_and_quit_with_live_sessions() {
    let mut ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "life");
    let player = spawn_ffmpeg_player(&url, 11.8);
    std::thread::sleep(Duration::from_millis(1500));
    let publisher = publish_ffmpeg(&url, 12);
    std::thread::sleep(Duration::from_secs(3));

    let mut old_workers = Vec::new();
    let mut last_reload = Instant::now();
    for i in 0..3 {
        let before = ng.worker_pids();
        ng.reload();
        last_reload = Instant::now();
        let fresh = wait_for(Duration::from_secs(10), || {
            let now = ng.worker_pids();
            let new: Vec<i32> = now.into_iter().filter(|p| !before.contains(p)).collect();
            if new.is_empty() {
                None
            } else {
                Some(new)
            }
        })
        .unwrap_or_else(|| panic!("reload {}: no new worker within 10 s", i + 1));
        eprintln!(
            "reload {}: old workers {:?}, new {:?}",
            i + 1,
            before,
            fresh
        );
        old_workers.extend(before);
        std::thread::sleep(Duration::from_secs(2));
    }

    // New sessions after the reloads are served.
    let addr = ng.rtmp_addr();
    let mut p = RtmpClient::connect(addr, "live").expect("connect after reload");
    p.publish("after-reload").expect("publish after reload");
    let mut pl = RtmpClient::connect(addr, "live").expect("connect after reload");
    pl.play("after-reload").expect("play after reload");
    for i in 0..5u32 {
        p.send_video(i * 40, &key(i)).unwrap();
    }
    let got = pl.collect_media(5, Duration::from_secs(5));
    assert!(
        got.iter()
            .filter(|e| matches!(e, Event::Video { .. }))
            .count()
            >= 5,
        "new player after reload got {:?}",
        got.len()
    );
    drop(p);
    drop(pl);

    let pub_out = publisher.wait_bounded(Duration::from_secs(40));
    assert!(
        pub_out.success(),
        "publisher failed across reloads: {}",
        pub_out.stderr
    );
    let r = finish_play(player, Duration::from_secs(40));
    eprintln!(
        "player across reloads: {} video frames, {:?}",
        r.video_frames, r.video_codec
    );
    assert!(
        r.video_frames * 10 >= 12 * FPS * 9,
        "player across reloads decoded only {} of {} frames",
        r.video_frames,
        12 * FPS
    );

    // Old workers exit once their sessions end: bounded at 30 s after the last reload.
    let gone = wait_for(Duration::from_secs(30), || {
        if old_workers.iter().all(|w| !pid_alive(*w)) {
            Some(())
        } else {
            None
        }
    });
    let t_old = last_reload.elapsed();
    eprintln!(
        "old workers gone {:.1} s after the last reload",
        t_old.as_secs_f64()
    );
    assert!(
        gone.is_some(),
        "old workers still alive 30 s after reload: {:?}",
        old_workers
            .iter()
            .filter(|w| pid_alive(**w))
            .collect::<Vec<_>>()
    );

    ng.assert_no_alerts();
    let t_quit = ng.quit(Duration::from_secs(30));
    eprintln!("master exited {:?} after SIGQUIT", t_quit);
    assert!(
        t_quit.is_some(),
        "master did not exit within 30 s of SIGQUIT"
    );
    assert!(!ng.master_alive());
    ng.assert_no_alerts();
}

/// After a reload, a new player of a stream whose publisher connected before the reload
/// still gets that stream, and the publisher is not cut. (The C module fails this: live
/// streams live in one worker's memory, the publisher stays on the old worker and the new
/// player lands on the new one.) The old worker relays the stream to the new one.
#[test]
fn new_player_after_reload_sees_running_stream() {
    let mut ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "span");
    let publisher = publish_ffmpeg(&url, 10);
    std::thread::sleep(Duration::from_secs(2));
    let before = ng.worker_pids();
    ng.reload();
    wait_for(Duration::from_secs(10), || {
        if ng.worker_pids().iter().any(|p| !before.contains(p)) {
            Some(())
        } else {
            None
        }
    })
    .expect("no new worker after reload");
    std::thread::sleep(Duration::from_secs(1));
    let r = finish_play(spawn_ffmpeg_player(&url, 3.0), Duration::from_secs(20));
    let log = ng.error_log();
    eprintln!(
        "player after reload: {:?} {} frames, errors {:?}",
        r.video_codec, r.video_frames, r.errors
    );
    assert!(
        log.lines()
            .any(|l| l.contains("relay: push started (to another worker)")
                && before.iter().any(|p| l.contains(&format!(" {p}#")))),
        "the old worker did not relay the stream to the new one"
    );
    let publish = publisher.wait_bounded(Duration::from_secs(20));
    assert!(
        publish.success(),
        "the publisher was cut across the reload: {}",
        publish.stderr
    );
    assert_eq!(
        r.video_codec.as_deref(),
        Some("h264"),
        "new player after reload found no stream"
    );
    assert!(
        r.video_frames >= 25,
        "new player after reload decoded {} frames",
        r.video_frames
    );
    ng.assert_no_alerts();
}

/// The master exits on SIGQUIT with an idle server, and a fast stop leaves no workers.
#[test]
fn quit_idle() {
    let mut ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let workers = ng.worker_pids();
    assert!(!workers.is_empty());
    let t = ng.quit(Duration::from_secs(10));
    assert!(
        t.is_some(),
        "idle master did not exit within 10 s of SIGQUIT"
    );
    assert!(
        workers.iter().all(|w| !pid_alive(*w)),
        "workers left behind: {:?}",
        workers
    );
    ng.assert_no_alerts();
}

/// The rig itself must see a crash: a worker killed with SIGSEGV shows up as a changed worker
/// PID and as an alert line ("exited on signal 11") that assert_no_alerts() reports.
#[test]
fn rig_detects_a_crashed_worker() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let before = ng.worker_pids();
    assert_eq!(before.len(), 1);
    signal(before[0], libc::SIGSEGV);
    let after = wait_for(Duration::from_secs(10), || {
        let now = ng.worker_pids();
        if !now.is_empty() && now != before {
            Some(now)
        } else {
            None
        }
    })
    .expect("master did not respawn the worker");
    assert_ne!(after, before);
    let alerts = wait_for(Duration::from_secs(5), || {
        let a = ng.alerts();
        if a.is_empty() {
            None
        } else {
            Some(a)
        }
    })
    .expect("the crash left no alert line in error.log");
    assert!(
        alerts.iter().any(|l| l.contains("exited on signal 11")),
        "{:?}",
        alerts
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ng.assert_no_alerts()));
    assert!(
        caught.is_err(),
        "assert_no_alerts() did not fail on a crashed worker"
    );
}
