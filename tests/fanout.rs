//! Fan-out under pressure: a player that stops reading must not slow the others.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use regex::Regex;
use std::time::{Duration, Instant};

const SECONDS: u32 = 12;

/// The `*N` connection number of the first error.log line matching `re` (ngx-rtmp logs
/// `rtmp: play "name"`, nginx-rtmp-module `play: name='name'`).
fn conn_number(log: &str, re: &Regex) -> Option<String> {
    log.lines()
        .find_map(|l| re.captures(l).map(|c| c[1].to_string()))
}

/// A RawClient plays, then never reads again (SO_RCVBUF 64 KiB), while ffmpeg publishes 12 s
/// of 1280x720 at 8 Mbit/s CBR and a normal ffmpeg player watches. The normal player decodes
/// at least 90% of the frames, the publisher exits 0, the worker is the same process, and the
/// server drops the slow session before the publisher is done: a `client send timed out` or
/// `player too slow` line for its connection (nginx-rtmp-module: `client timed out`).
/// Reading the slow socket then ends in EOF/reset. `timeout 4s` bounds how long the server
/// waits for a socket that takes nothing.
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
    let play_re = Regex::new(r#"\*(\d+) .*(play "big"|play: name='big')"#).unwrap();
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
        r"\*{} .*(client send timed out|player too slow|client timed out)",
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

/// The flags and dts (ms) of ffprobe's first video packet line (`flags,dts_time` csv).
fn first_packet(out: &str) -> Option<(String, f64)> {
    let l = out.lines().find(|l| !l.trim().is_empty())?;
    let mut f = l.split(',');
    let a = f.next()?.trim().to_string();
    let b = f.next()?.trim().to_string();
    // ffprobe prints the entries in its own order (dts_time before flags).
    let (flags, dts) = if a.parse::<f64>().is_ok() {
        (b, a)
    } else {
        (a, b)
    };
    Some((flags, dts.parse::<f64>().ok()? * 1000.0))
}

/// GOP cache with real clients: ffmpeg publishes with a 2 s GOP (`-g 50` at 25 fps). An
/// observer that plays from the start tracks the keyframes; about 0.4 s after one (mid-GOP,
/// 1.6 s before the next), ffprobe and a strict `-v error` ffmpeg join. ffprobe's first video
/// packet is a keyframe whose timestamp is not later than what the stream had reached when
/// it joined, i.e. it came from the cache rather than from waiting for the next keyframe;
/// the strict decode has no error.
#[test]
fn late_joiner_mid_gop_starts_from_cached_keyframe() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "gop2");
    let mut observer = RtmpClient::connect(ng.rtmp_addr(), "live").expect("observer connect");
    observer.play("gop2").expect("observer play");
    let publisher = publish_ffmpeg_gop(&url, 12, 50);

    // Wait for the second keyframe (the first GOP may have started before our subscription),
    // then for the stream to be ~400 ms past it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut keyframes: Vec<u32> = Vec::new();
    let mut reached = 0u32;
    loop {
        match observer.next_event_until(deadline) {
            Ok(Event::Video { ts, data, .. }) => {
                if data.get(..2) == Some(&[0x17, 0x01]) {
                    keyframes.push(ts);
                }
                reached = reached.max(ts);
                if keyframes.len() >= 2 && ts >= keyframes[keyframes.len() - 1] + 400 {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => panic!("observer: {:?} (keyframes {:?})", e, keyframes),
        }
    }
    let mut c = std::process::Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-rw_timeout",
        "6000000",
        "-select_streams",
        "v",
    ])
    .args(["-show_packets", "-read_intervals", "%+#1"])
    .args(["-show_entries", "packet=flags,dts_time", "-of", "csv=p=0"])
    .arg(&url);
    let probe = ChildGuard::spawn(c);
    let strict = spawn_ffmpeg_strict_decode(&url, 3);
    eprintln!(
        "joined at stream ts {} ms; keyframes so far {:?}",
        reached, keyframes
    );
    let probe = probe.wait_bounded(Duration::from_secs(30));
    let strict = strict.wait_bounded(Duration::from_secs(30));
    // Keep the observer reading so it never holds the stream back.
    let more = observer
        .collect_for(Duration::from_secs(1))
        .unwrap_or_default();
    drop(more);
    let pub_out = publisher.wait_bounded(Duration::from_secs(40));
    eprintln!(
        "ffprobe first video packet: {:?} {:?}; strict stderr {:?}",
        probe.stdout, probe.stderr, strict.stderr
    );
    assert!(pub_out.success(), "publisher failed: {}", pub_out.stderr);
    let (flags, dts) = first_packet(&probe.stdout)
        .unwrap_or_else(|| panic!("ffprobe gave no packet: {:?}", probe));
    assert!(
        flags.contains('K'),
        "the late joiner's first video packet is not a keyframe: {:?}",
        probe.stdout
    );
    assert!(
        (dts.round() as u32) <= reached,
        "the late joiner started at ts {:.0} ms, after the {} ms the stream had reached when it \
         joined (keyframes {:?}): it waited for the next keyframe instead of getting the \
         cached GOP",
        dts,
        reached,
        keyframes
    );
    assert!(
        strict.success() && strict.stderr.trim().is_empty(),
        "late joiner did not decode cleanly ({:?}):\n{}",
        strict.status,
        strict.stderr
    );
    ng.assert_no_alerts();
}
