//! Publishers other than ffmpeg: librtmp (the library OBS publishes with) and GStreamer's
//! rtmp2sink. Each is watched by an ffmpeg player that counts decoded frames.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use std::process::Command;
use std::time::Duration;

fn assert_player(who: &str, r: &PlayResult, frames: u32, audio: bool) {
    eprintln!(
        "{}: video {:?} {} frames, audio {:?} {} frames, errors {:?}",
        who, r.video_codec, r.video_frames, r.audio_codec, r.audio_frames, r.errors
    );
    assert_eq!(r.video_codec.as_deref(), Some("h264"), "{}: {:?}", who, r);
    assert!(
        r.video_frames * 10 >= frames * 9,
        "{}: decoded {} of {} video frames (< 90%)",
        who,
        r.video_frames,
        frames
    );
    if audio {
        assert_eq!(r.audio_codec.as_deref(), Some("aac"), "{}: {:?}", who, r);
        assert!(r.audio_frames > 0, "{}: no audio decoded", who);
    }
}

/// OBS-style publisher: librtmp's RTMP_Connect / RTMP_ConnectStream / RTMP_Write of a 6 s
/// H.264+AAC FLV at real-time pace. A player that joined first decodes >= 90% of the video
/// frames and AAC, and error.log records the publish.
#[test]
fn librtmp_publisher_like_obs() {
    const SECONDS: u32 = 6;
    let dir = temp_dir("librtmp");
    let bin = build_librtmp_publisher(&dir);
    let flv = dir.join("in.flv");
    make_flv(&flv, SECONDS);

    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "obs");
    let player = spawn_ffmpeg_player(&url, SECONDS as f64 - 0.2);
    std::thread::sleep(Duration::from_millis(1500));

    let mut c = Command::new(&bin);
    c.arg(&url).arg(&flv);
    let pub_out = run_bounded(c, Duration::from_secs(SECONDS as u64 + 30));
    eprintln!(
        "librtmp publisher: {:?} timed out {} stderr {:?}",
        pub_out.status, pub_out.timed_out, pub_out.stderr
    );
    assert!(
        pub_out.success(),
        "librtmp publisher failed ({:?}, timed out {}): {}",
        pub_out.status,
        pub_out.timed_out,
        pub_out.stderr
    );

    let r = finish_play(player, Duration::from_secs(30));
    assert_player("player of librtmp", &r, SECONDS * FPS, true);

    // ngx-rtmp: `rtmp: publish "obs" in "live"`; nginx-rtmp-module: `publish: name='obs'`.
    let log = ng.error_log();
    assert!(
        log.lines()
            .any(|l| l.contains("publish \"obs\"") || l.contains("publish: name='obs'")),
        "error.log has no line for the publish of \"obs\":\n{}",
        ng.error_log_tail(40)
    );
    ng.assert_no_alerts();
    let _ = std::fs::remove_dir_all(&dir);
}

/// GStreamer `videotestsrc ! x264enc ! flvmux ! rtmp2sink` (+ `audiotestsrc ! avenc_aac`):
/// a player that joined first decodes h264 (>= 90% of 150 frames) and aac.
#[test]
fn gstreamer_rtmp2sink_publisher() {
    const SECONDS: u32 = 6;
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "gst");
    let player = spawn_ffmpeg_player(&url, SECONDS as f64 - 0.2);
    std::thread::sleep(Duration::from_millis(1500));

    let pub_out = spawn_gst_publish(&url, SECONDS, true)
        .wait_bounded(Duration::from_secs(SECONDS as u64 + 30));
    eprintln!(
        "gst publisher: {:?} timed out {} stdout {:?} stderr {:?}",
        pub_out.status, pub_out.timed_out, pub_out.stdout, pub_out.stderr
    );
    assert!(
        pub_out.success(),
        "gst-launch-1.0 rtmp2sink failed ({:?}, timed out {}): {}{}",
        pub_out.status,
        pub_out.timed_out,
        pub_out.stdout,
        pub_out.stderr
    );

    let r = finish_play(player, Duration::from_secs(30));
    assert_player("player of rtmp2sink", &r, SECONDS * FPS, true);
    ng.assert_no_alerts();
}
