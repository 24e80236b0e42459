//! Live fan-out with real encoders and players.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use std::time::Duration;

const SECONDS: u32 = 10;

/// ffmpeg publishes 10 s of H.264/AAC; three ffmpeg players joined before the start each
/// decode h264+aac and >= 90% of the 250 published video frames; a late joiner (~5 s in)
/// decodes with an empty `-v error` stderr, and the first video packet a fresh player gets
/// is a keyframe (GOP cache requirement).
#[test]
fn live_fanout_and_late_joiner() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "fanout");

    let early: Vec<ChildGuard> = (0..3)
        .map(|_| spawn_ffmpeg_player(&url, SECONDS as f64 - 0.2))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let publisher = publish_ffmpeg(&url, SECONDS);

    std::thread::sleep(Duration::from_secs(5));
    let late_strict = spawn_ffmpeg_strict_decode(&url, 3);
    let late_probe = spawn_first_video_packet_flags(&url);

    let pub_out = publisher.wait_bounded(Duration::from_secs(40));
    assert!(
        pub_out.success(),
        "publisher failed ({:?}): {}",
        pub_out.status,
        pub_out.stderr
    );
    let published = SECONDS * FPS;

    let mut failures = Vec::new();
    for (i, p) in early.into_iter().enumerate() {
        let r = finish_play(p, Duration::from_secs(30));
        eprintln!(
            "early player {}: video {:?} {} frames, audio {:?} {} frames, errors {:?}",
            i, r.video_codec, r.video_frames, r.audio_codec, r.audio_frames, r.errors
        );
        if r.video_codec.as_deref() != Some("h264") || r.audio_codec.as_deref() != Some("aac") {
            failures.push(format!(
                "player {} codecs {:?}/{:?}",
                i, r.video_codec, r.audio_codec
            ));
        }
        if r.video_frames * 10 < published * 9 {
            failures.push(format!(
                "player {} decoded {} of {} video frames (< 90%)",
                i, r.video_frames, published
            ));
        }
        if r.audio_frames == 0 {
            failures.push(format!("player {} decoded no audio", i));
        }
    }

    let strict = late_strict.wait_bounded(Duration::from_secs(30));
    eprintln!("late joiner -v error stderr: {:?}", strict.stderr);
    let probe = late_probe.wait_bounded(Duration::from_secs(30));
    eprintln!(
        "late joiner first video packet: {:?} {:?}",
        probe.stdout, probe.stderr
    );

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        strict.success(),
        "late joiner ffmpeg failed: {:?} {}",
        strict.status,
        strict.stderr
    );
    assert!(
        strict.stderr.trim().is_empty(),
        "late joiner did not decode cleanly (`-v error` stderr not empty):\n{}",
        strict.stderr
    );
    let first = probe.stdout.lines().next().unwrap_or("").to_string();
    assert!(
        first.contains('K'),
        "late joiner's first video packet is not a keyframe (flags/pts: {:?}); \
         a GOP cache must start players at a keyframe",
        first
    );
    ng.assert_no_alerts();
}

/// rtmpdump and GStreamer rtmp2src as players: both get an FLV with h264 + aac.
#[test]
fn rtmpdump_and_gstreamer_players() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let url = ng.rtmp_url("live", "others");
    let dir = temp_dir("players");
    let publisher = publish_ffmpeg(&url, 8);
    std::thread::sleep(Duration::from_millis(1500));

    let dump_path = dir.join("rtmpdump.flv");
    let gst_path = dir.join("gst.flv");
    let dump = spawn_rtmpdump(&url, 4, &dump_path);
    let gst = spawn_gst_record(&url, 150, &gst_path);

    let dump_out = dump.wait_bounded(Duration::from_secs(20));
    let gst_out = gst.wait_bounded(Duration::from_secs(20));
    let _ = publisher.wait_bounded(Duration::from_secs(30));

    let (dump_streams, dump_err) = probe_file(&dump_path);
    let (gst_streams, gst_err) = probe_file(&gst_path);
    eprintln!(
        "rtmpdump: {:?} {:?} / {:?}",
        dump_out.status, dump_streams, dump_err
    );
    eprintln!(
        "gst: {:?} {:?} / {:?} / {:?}",
        gst_out.status, gst_streams, gst_out.stderr, gst_err
    );

    for (who, streams) in [("rtmpdump", &dump_streams), ("gst rtmp2src", &gst_streams)] {
        let v = streams.iter().find(|s| s.codec_type == "video");
        let a = streams.iter().find(|s| s.codec_type == "audio");
        assert_eq!(
            v.map(|s| s.codec_name.as_str()),
            Some("h264"),
            "{}: {:?}",
            who,
            streams
        );
        assert_eq!(
            a.map(|s| s.codec_name.as_str()),
            Some("aac"),
            "{}: {:?}",
            who,
            streams
        );
        assert!(
            v.unwrap().frames >= 25,
            "{}: too few video frames {:?}",
            who,
            streams
        );
        assert!(
            a.unwrap().frames >= 20,
            "{}: too few audio frames {:?}",
            who,
            streams
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    ng.assert_no_alerts();
}
