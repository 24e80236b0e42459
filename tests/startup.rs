//! What happens before the first frame: the start-up warning for accepted-but-inactive
//! directives, and players that arrive before their publisher (`idle_streams`).

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::Duration;

const INACTIVE: &str =
    "rtmp: these directives are accepted but have no effect yet in this version:";

/// error.log lines of the start-up warning. (nginx also echoes start-up warnings to stderr,
/// as it does for every `[warn]` of the configuration phase; that copy is not counted.)
fn inactive_warnings(ng: &Nginx) -> Vec<String> {
    ng.error_log()
        .lines()
        .filter(|l| l.contains(INACTIVE))
        .map(|l| l.to_string())
        .collect()
}

/// `hls_keys ...;` starts nginx with exactly one `[warn]` line that names the directive as
/// accepted but not active; the relay and hook directives, which work, are not named.
#[test]
fn warns_once_about_inactive_directives() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\npull rtmp://127.0.0.1/other;\nhls_keys on;\non_publish http://127.0.0.1/auth;\n\
         push rtmp://127.0.0.1/other;\npush_reconnect 1s;\npull_reconnect 1s;\n\
         session_relay on;",
    ));
    let warns = inactive_warnings(&ng);
    eprintln!("warnings: {:#?}", warns);
    assert_eq!(
        warns.len(),
        1,
        "expected exactly one start-up warning, got {:?}\n{}",
        warns,
        ng.error_log_tail(30)
    );
    let w = &warns[0];
    assert!(w.contains("[warn]"), "not at level warn: {}", w);
    let listed: Vec<String> = w
        .split(INACTIVE)
        .nth(1)
        .unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(
        listed.iter().any(|x| x == "hls_keys"),
        "the warning does not name `hls_keys`: {w}"
    );
    for d in [
        "push",
        "push_reconnect",
        "pull",
        "pull_reconnect",
        "session_relay",
        "on_publish",
    ] {
        assert!(!listed.iter().any(|x| x == d), "`{d}` works: {w}");
    }
    ng.assert_no_alerts();
}

/// A config with only active directives logs no such warning.
#[test]
fn no_warning_without_inactive_directives() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;\nidle_streams on;"));
    let warns = inactive_warnings(&ng);
    assert!(warns.is_empty(), "unexpected warning: {:?}", warns);
    assert!(
        !ng.error_log().contains("[warn]"),
        "unexpected [warn] at start-up:\n{}",
        ng.error_log_tail(30)
    );
    ng.assert_no_alerts();
}

/// idle_streams on (the default): a player that plays a name nobody publishes gets
/// Play.Start, waits, and receives the AVC/AAC sequence headers and a keyframe once an ffmpeg
/// publisher starts ~2 s later.
#[test]
fn play_before_publish_waits_for_the_stream() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let mut player = RtmpClient::connect(ng.rtmp_addr(), "live").expect("player connect");
    player
        .play("later")
        .expect("play before publish is accepted (idle_streams on)");
    // Nothing to play yet: no media may arrive.
    let idle = player
        .collect_for(Duration::from_secs(2))
        .expect("player stays connected");
    assert!(
        !idle
            .iter()
            .any(|e| matches!(e, Event::Video { .. } | Event::Audio { .. })),
        "media before any publisher: {:?}",
        idle
    );

    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "later"), 4);
    let evs = player.collect_media(60, Duration::from_secs(20));
    let videos: Vec<&[u8]> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Video { data, .. } => Some(&data[..]),
            _ => None,
        })
        .collect();
    let audios = evs
        .iter()
        .filter(|e| matches!(e, Event::Audio { .. }))
        .count();
    eprintln!(
        "after publish: {} video, {} audio, first video {:02x?}",
        videos.len(),
        audios,
        videos.first().map(|d| &d[..d.len().min(2)])
    );
    let pub_out = publisher.wait_bounded(Duration::from_secs(30));
    assert!(pub_out.success(), "publisher failed: {}", pub_out.stderr);
    assert!(
        videos.len() >= 20 && audios >= 10,
        "the waiting player got {} video and {} audio messages: {:?}",
        videos.len(),
        audios,
        evs.iter().take(8).collect::<Vec<_>>()
    );
    assert_eq!(
        videos[0].get(..2),
        Some(&[0x17u8, 0x00][..]),
        "first video message is not the AVC sequence header"
    );
    assert!(
        videos
            .iter()
            .skip(1)
            .any(|d| d.get(..2) == Some(&[0x17, 0x01])),
        "no H.264 keyframe reached the waiting player"
    );
    ng.assert_no_alerts();
}

/// idle_streams off: playing a name nobody publishes gets NetStream.Play.StreamNotFound and
/// the connection is closed; the same play works once the name is being published.
#[test]
fn idle_streams_off_refuses_play_before_publish() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;\nidle_streams off;"));
    let mut early = RtmpClient::connect(ng.rtmp_addr(), "live").expect("player connect");
    match early.play("later") {
        Err(ClientError::Refused(e)) => assert_eq!(
            e.status_code(),
            Some("NetStream.Play.StreamNotFound"),
            "{:?}",
            e
        ),
        other => panic!("expected Play.StreamNotFound, got {:?}", other),
    }
    assert!(
        early.closed_within(Duration::from_secs(10)),
        "the refused player was not closed within 10 s"
    );

    // Not a broken application: with a publisher the same play starts and gets media.
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "later"), 5);
    let mut player = None;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(200));
        let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("player connect");
        if p.play("later").is_ok() {
            player = Some(p);
            break;
        }
    }
    let mut player = player.expect("play never started while ffmpeg published");
    let evs = player.collect_media(20, Duration::from_secs(15));
    let media = evs
        .iter()
        .filter(|e| matches!(e, Event::Video { .. } | Event::Audio { .. }))
        .count();
    assert!(
        media >= 20,
        "player of a live stream got {} media messages",
        media
    );
    drop(publisher);
    ng.assert_no_alerts();
}
