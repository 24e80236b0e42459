//! Fan-out under pressure: a player that stops reading must not slow the others.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use regex::Regex;
use std::time::{Duration, Instant};

const SECONDS: u32 = 12;

/// The `*N` connection number of the first error.log line matching `re`.
fn conn_number(log: &str, re: &Regex) -> Option<String> {
    log.lines()
        .find_map(|l| re.captures(l).map(|c| c[1].to_string()))
}

/// A RawClient plays, then never reads again (SO_RCVBUF 64 KiB), while ffmpeg publishes 12 s
/// of 1280x720 at 8 Mbit/s CBR and a normal ffmpeg player watches. The normal player decodes
/// at least 90% of the frames, the publisher exits 0, the worker is the same process, and the
/// server drops the slow session (a `client send timed out` or `player too slow` line for
/// its connection) before the publisher is done; reading the slow socket then ends in
/// EOF/reset. `timeout 4s` bounds how long the server waits for a socket that takes nothing.
#[test]
fn slow_player_never_slows_others() {
    let ng = Nginx::start(
        "server {\n    listen 127.0.0.1:{rtmp_port};\n    timeout 4s;\n    \
         application live {\n        live on;\n    }\n}\n",
    );
    let workers = ng.worker_pids();
    let url = ng.rtmp_url("live", "big");

    let mut slow = RawClient::connect(ng.rtmp_addr()).expect("slow client connect");
    socket2::SockRef::from(&slow.sock)
        .set_recv_buffer_size(64 << 10)
        .unwrap();
    slow.rtmp_connect("live").expect("slow connect");
    let msid = slow.create_stream().expect("slow createStream");
    slow.play(msid, "big").expect("slow play");
    let play_re = Regex::new(r#"\*(\d+) .*play "big""#).unwrap();
    let slow_id = wait_for(Duration::from_secs(5), || {
        conn_number(&ng.error_log(), &play_re)
    })
    .expect("no play line for the slow client in error.log");
    eprintln!("slow player is connection *{}", slow_id);
    // From here on the slow client reads nothing.

    let player = spawn_ffmpeg_player(&url, SECONDS as f64 - 0.2);
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    let publisher = publish_ffmpeg_with(
        &url,
        SECONDS,
        "testsrc2=size=1280x720:rate=25",
        &[
            "-g",
            "25",
            "-b:v",
            "8M",
            "-maxrate",
            "8M",
            "-bufsize",
            "2M",
            "-x264-params",
            "nal-hrd=cbr:filler=1",
        ],
    );
    let pub_out = publisher.wait_bounded(Duration::from_secs(SECONDS as u64 + 40));
    let pub_secs = t0.elapsed().as_secs_f64();
    let log_at_pub_end = ng.error_log();
    let r = finish_play(player, Duration::from_secs(30));
    eprintln!(
        "publisher: {:?} after {:.1} s; player: video {:?} {} frames, audio {:?} {} frames, errors {:?}",
        pub_out.status,
        pub_secs,
        r.video_codec,
        r.video_frames,
        r.audio_codec,
        r.audio_frames,
        r.errors
    );

    let close_re = Regex::new(&format!(
        r"\*{} .*(client send timed out|player too slow)",
        slow_id
    ))
    .unwrap();
    let close_line = log_at_pub_end
        .lines()
        .find(|l| close_re.is_match(l))
        .map(|l| l.to_string());
    eprintln!("slow session close line: {:?}", close_line);
    // Read at full speed now: what the kernel still holds for the closed session (about 4 MB)
    // drains, then EOF or a reset must follow. (With a window clamped by a 4 KiB SO_RCVBUF
    // the drain takes minutes; with 64 KiB it takes milliseconds.)
    socket2::SockRef::from(&slow.sock)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let slow_closed = slow.wait_closed(Duration::from_secs(20));
    let later_log = ng.error_log();
    eprintln!(
        "slow socket closed when read: {}; error.log:\n{}",
        slow_closed,
        later_log
            .lines()
            .filter(|l| l.contains("rtmp:"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    assert!(
        pub_out.success(),
        "publisher failed ({:?}, timed out {}): {}",
        pub_out.status,
        pub_out.timed_out,
        pub_out.stderr
    );
    assert_eq!(r.video_codec.as_deref(), Some("h264"), "{:?}", r);
    let published = SECONDS * FPS;
    assert!(
        r.video_frames * 10 >= published * 9,
        "the normal player decoded {} of {} video frames (< 90%) next to a slow player",
        r.video_frames,
        published
    );
    assert_eq!(
        ng.worker_pids(),
        workers,
        "the worker changed (crash/respawn?)"
    );
    assert!(
        close_line.is_some(),
        "the server had not dropped the slow player (*{}) by the end of the {} s publish \
         (no `client send timed out` / `player too slow` line for it); later log:\n{}",
        slow_id,
        SECONDS,
        later_log
    );
    assert!(
        slow_closed,
        "the slow player's socket did not reach EOF/reset within 20 s of reading"
    );
    ng.assert_no_alerts();
}
