//! Publish conflicts, unpublish/republish notifications, query strings.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::Duration;

fn frame(i: u32) -> Vec<u8> {
    let mut v = vec![
        if i.is_multiple_of(10) { 0x17 } else { 0x27 },
        0x01,
        0,
        0,
        0,
    ];
    v.extend((0..200u32).map(|k| (k * 7 + i) as u8));
    v
}

fn avc_hdr() -> Vec<u8> {
    vec![
        0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00,
        0x1f, 0x01, 0x00, 0x04, 0x68, 0xee, 0x3c, 0x80,
    ]
}

fn videos(evs: &[Event]) -> Vec<Vec<u8>> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Video { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect()
}

fn statuses(evs: &[Event]) -> Vec<(String, String, String)> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Status {
                code,
                level,
                description,
            } => Some((code.clone(), level.clone(), description.clone())),
            _ => None,
        })
        .collect()
}

/// A second publisher of a live name is refused with onStatus
/// `NetStream.Publish.BadName` / level `error` / "Already publishing" (the C module's
/// answer), and the first publisher keeps feeding its players.
#[test]
fn second_publisher_gets_badname() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let addr = ng.rtmp_addr();
    let mut p1 = RtmpClient::connect(addr, "live").unwrap();
    p1.publish("dup").expect("first publish");
    p1.send_video(0, &avc_hdr()).unwrap();
    p1.send_video(0, &frame(0)).unwrap();
    let mut player = RtmpClient::connect(addr, "live").unwrap();
    player.play("dup").expect("play");

    let mut p2 = RtmpClient::connect(addr, "live").unwrap();
    let err = p2
        .publish("dup")
        .expect_err("second publisher of the same name must be refused");
    match &err {
        ClientError::Refused(Event::Status {
            code,
            level,
            description,
        }) => {
            eprintln!(
                "second publisher got: {} / {} / {:?}",
                code, level, description
            );
            assert_eq!(code, "NetStream.Publish.BadName");
            assert_eq!(level, "error");
            assert_eq!(description, "Already publishing");
        }
        other => panic!(
            "expected an onStatus NetStream.Publish.BadName, got {:?}",
            other
        ),
    }

    // The first publisher is unaffected.
    for i in 1..=20u32 {
        p1.send_video(i * 40, &frame(i)).unwrap();
    }
    // Read until the last frame arrives (a GOP cache may add frames before it).
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !got.contains(&frame(20)) && std::time::Instant::now() < deadline {
        got.extend(videos(&player.collect_media(1, Duration::from_secs(1))));
    }
    for i in 11..=20u32 {
        assert!(
            got.contains(&frame(i)),
            "player missed frame {} after the refused publish",
            i
        );
    }
    ng.assert_no_alerts();
}

/// Unpublish sends connected players `NetStream.Play.UnpublishNotify`; a new publish of the
/// same name resumes them (media flows again, with `NetStream.Play.PublishNotify` since
/// `publish_notify on`).
#[test]
fn unpublish_and_republish_resume_players() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;\n publish_notify on;"));
    let addr = ng.rtmp_addr();
    let mut player = RtmpClient::connect(addr, "live").unwrap();
    player.play("again").expect("play");

    let mut p1 = RtmpClient::connect(addr, "live").unwrap();
    p1.publish("again").expect("publish 1");
    p1.send_video(0, &avc_hdr()).unwrap();
    for i in 0..10u32 {
        p1.send_video(i * 40, &frame(i)).unwrap();
    }
    let first = player.collect_media(11, Duration::from_secs(5));
    eprintln!(
        "first: {:?}",
        first
            .iter()
            .map(|e| match e {
                Event::Video { ts, data, .. } => format!("V@{} {}", ts, data.len()),
                o => format!("{:?}", o),
            })
            .collect::<Vec<_>>()
    );
    assert!(
        videos(&first).contains(&frame(9)),
        "no media before unpublish"
    );
    let st1 = statuses(&first);
    eprintln!("statuses on first publish: {:?}", st1);
    assert!(
        st1.iter().any(|s| s.0 == "NetStream.Play.PublishNotify"),
        "publish_notify on: player must get NetStream.Play.PublishNotify, got {:?}",
        st1
    );

    // Unpublish (deleteStream) and keep the connection.
    p1.stop_publishing().unwrap();
    let (ev, _) = player
        .wait_status("NetStream.Play.UnpublishNotify", Duration::from_secs(5))
        .expect("player must get NetStream.Play.UnpublishNotify");
    eprintln!("unpublish status: {:?}", ev);
    if let Event::Status {
        level, description, ..
    } = &ev
    {
        assert_eq!(level, "status");
        assert_eq!(description, "Stop publishing");
    }
    drop(p1);

    // A new publisher of the same name: the same player gets media again.
    let mut p2 = RtmpClient::connect(addr, "live").unwrap();
    p2.publish("again").expect("publish 2");
    p2.send_video(0, &avc_hdr()).unwrap();
    for i in 100..110u32 {
        p2.send_video((i - 100) * 40, &frame(i)).unwrap();
    }
    let second = player.collect_media(11, Duration::from_secs(5));
    let st2 = statuses(&second);
    eprintln!("statuses on republish: {:?}", st2);
    assert!(
        st2.iter().any(|s| s.0 == "NetStream.Play.PublishNotify" && s.1 == "status" && s.2 == "Start publishing"),
        "player must get NetStream.Play.PublishNotify/status/\"Start publishing\" on republish, got {:?}",
        st2
    );
    let got = videos(&second);
    assert!(
        got.contains(&frame(100)) && got.contains(&frame(109)),
        "player did not resume after republish: {} video messages",
        got.len()
    );
    ng.assert_no_alerts();
}

/// Publishing to `live/name?key=abc` and playing `live/name` works (rml client and ffmpeg).
#[test]
fn query_string_is_not_part_of_the_name() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let addr = ng.rtmp_addr();
    let mut player = RtmpClient::connect(addr, "live").unwrap();
    player.play("qs").expect("play");
    let mut p = RtmpClient::connect(addr, "live").unwrap();
    p.publish("qs?key=abc").expect("publish with query string");
    p.send_video(0, &avc_hdr()).unwrap();
    for i in 0..5u32 {
        p.send_video(i * 40, &frame(i)).unwrap();
    }
    let got = videos(&player.collect_media(6, Duration::from_secs(5)));
    assert!(
        got.contains(&frame(4)),
        "player of live/qs got nothing from live/qs?key=abc"
    );
    drop(p);

    // Real encoder and player.
    let url_pub = format!("{}?key=abc", ng.rtmp_url("live", "qsff"));
    let publisher = publish_ffmpeg(&url_pub, 5);
    std::thread::sleep(Duration::from_millis(1500));
    let play = finish_play(
        spawn_ffmpeg_player(&ng.rtmp_url("live", "qsff"), 2.0),
        Duration::from_secs(30),
    );
    drop(publisher);
    eprintln!(
        "ffmpeg player: {:?} {} / {:?} {}",
        play.video_codec, play.video_frames, play.audio_codec, play.audio_frames
    );
    assert_eq!(play.video_codec.as_deref(), Some("h264"));
    assert!(
        play.video_frames >= 10,
        "ffmpeg player decoded {} frames",
        play.video_frames
    );
    ng.assert_no_alerts();
}
