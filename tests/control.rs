//! The control API (`rtmp_control all`): nginx-rtmp-module's paths, arguments and answers,
//! for the whole server whichever worker takes the HTTP request.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::{Event, RtmpClient};
use ngx_rtmp_tests::*;
use std::time::{Duration, Instant};

const CONTROL: &str = "location /control { rtmp_control all; add_header X-Worker $pid always; }";

fn start(app_body: &str, workers: u32) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", app_body));
    opts.http_server_extra = CONTROL.to_string();
    opts.worker_processes = workers;
    Nginx::start_opts(opts)
}

fn control(ng: &Nginx, path_query: &str) -> HttpReply {
    http_get_full(
        &ng.http_url(&format!("/control/{path_query}")),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("GET /control/{path_query}: {e}"))
}

/// Waits until the stream has a publisher (and `players` players) in /stat's JSON.
fn wait_stream(ng: &Nginx, name: &str, players: usize) {
    let url = ng.http_url("/stat?format=json");
    let needle = format!("\"name\":\"{name}\"");
    let ok = wait_for(Duration::from_secs(10), || {
        let (_, body) = http_get(&url, Duration::from_secs(2)).ok()?;
        let at = body.find(&needle)?;
        let rest = &body[at..];
        let n = rest.find("\"nclients\":").map(|i| {
            rest[i + 11..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .unwrap_or(0)
        })?;
        (n > players).then_some(())
    });
    assert!(ok.is_some(), "stream {name} never had {players} players");
}

fn stat_location() -> &'static str {
    "location /stat { rtmp_stat all; }"
}

fn start_with_stat(app_body: &str, workers: u32) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", app_body));
    opts.http_server_extra = format!("{CONTROL}\n{}", stat_location());
    opts.worker_processes = workers;
    Nginx::start_opts(opts)
}

/// drop/subscriber answers with the count and cuts exactly the players; drop/publisher then
/// cuts the publisher.
#[test]
fn drop_subscribers_then_publisher() {
    let ng = start_with_stat("live on;", 1);
    let url = ng.rtmp_url("live", "x");
    let publisher = publish_ffmpeg(&url, 30);
    let players: Vec<ChildGuard> = (0..2).map(|_| spawn_ffmpeg_player(&url, 25.0)).collect();
    wait_stream(&ng, "x", 2);
    let r = control(&ng, "drop/subscriber?app=live&name=x");
    assert_eq!((r.status, r.body.as_str()), (200, "2"), "{r:?}");
    for p in players {
        let out = p.wait_bounded(Duration::from_secs(10));
        eprintln!("player ended: {:?}", out.status);
    }
    let r = control(&ng, "drop/subscriber?app=live&name=x");
    assert_eq!(r.body, "0", "players left after drop: {r:?}");
    let t0 = Instant::now();
    let r = control(&ng, "drop/publisher?app=live&name=x");
    assert_eq!((r.status, r.body.as_str()), (200, "1"), "{r:?}");
    let out = publisher.wait_bounded(Duration::from_secs(10));
    assert!(
        t0.elapsed() < Duration::from_secs(9),
        "publisher kept going after drop: {:?}",
        out.status
    );
    ng.assert_no_alerts();
}

/// Unknown paths and arguments get a 4xx with a one-line reason, never a 200.
#[test]
fn bad_requests_get_a_reason() {
    let ng = start("live on;", 1);
    for (q, status, reason) in [
        ("drop/everyone", 404, "unknown method"),
        ("nothing/start", 404, "unknown section"),
        ("record/pause", 404, "unknown record method"),
        ("drop/client?color=red", 400, "unknown argument \"color\""),
        ("drop/client?clientid=abc", 400, "invalid clientid"),
        ("redirect/subscriber?name=x", 400, "newname"),
        ("drop/client?name=%zz", 400, "bad escape"),
    ] {
        let r = control(&ng, q);
        eprintln!("{q}: {} {:?}", r.status, r.body);
        assert_eq!(r.status, status, "{q}: {r:?}");
        assert!(r.body.contains(reason), "{q}: {r:?}");
        assert_eq!(r.body.lines().count(), 1, "{q}: {r:?}");
    }
    // rtmp_control with only some sections leaves the others out.
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.http_server_extra = "location /control { rtmp_control drop; }".into();
    let ng = Nginx::start_opts(opts);
    assert_eq!(control(&ng, "drop/client?name=none").status, 200);
    assert_eq!(control(&ng, "redirect/client?name=a&newname=b").status, 404);
}

/// record/start and record/stop drive a `record manual` recorder: the answers name the
/// file, and the file holds what was published between them and plays alone.
#[test]
fn record_start_and_stop() {
    let ng = start_with_stat(
        "live on; recorder rec1 { record manual; record_path {tmp}/rec; }",
        1,
    );
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "show"), 12);
    wait_stream(&ng, "show", 0);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !ng.file("rec/show.flv").exists(),
        "manual recorder started by itself"
    );
    let r = control(&ng, "record/start?app=live&name=show&rec=rec1");
    let want = ng.file("rec/show.flv").display().to_string();
    assert_eq!((r.status, r.body.as_str()), (200, want.as_str()), "{r:?}");
    let r = control(&ng, "record/start?app=live&name=show&rec=nope");
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.body.contains("recorder \"nope\" not found"), "{r:?}");
    std::thread::sleep(Duration::from_secs(5));
    let r = control(&ng, "record/stop?app=live&name=show&rec=rec1");
    assert_eq!((r.status, r.body.as_str()), (200, want.as_str()), "{r:?}");
    drop(publisher);
    let c = check_file(&ng.file("rec/show.flv"));
    eprintln!("{c:?}");
    assert_eq!(c.video_codec.as_deref(), Some("h264"));
    assert!(c.starts_with_keyframe);
    assert!(c.decode_errors.is_empty(), "{}", c.decode_errors);
    assert!(
        (3.5..=5.6).contains(&c.duration),
        "recorded {} s of the 5 s between start and stop",
        c.duration
    );
    // No publisher matched: nothing to answer with.
    assert_eq!(
        control(&ng, "record/start?app=live&name=none&rec=rec1").status,
        204
    );
}

/// redirect/subscriber moves a player to another stream: it is told Play.Start again and
/// gets the other stream's media.
#[test]
fn redirect_subscriber_to_another_stream() {
    let ng = start_with_stat("live on;", 1);
    let _a = publish_ffmpeg(&ng.rtmp_url("live", "a"), 30);
    let _b = publish_ffmpeg_with(
        &ng.rtmp_url("live", "b"),
        30,
        "testsrc2=size=320x240:rate=25",
        &["-g", "25"],
    );
    wait_stream(&ng, "a", 0);
    wait_stream(&ng, "b", 0);
    let mut player = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    player.play("a").expect("play a");
    player
        .collect_for(Duration::from_millis(1500))
        .expect("media of a");
    let r = control(&ng, "redirect/subscriber?app=live&name=a&newname=b");
    assert_eq!((r.status, r.body.as_str()), (200, "1"), "{r:?}");
    let evs = player
        .collect_for(Duration::from_secs(3))
        .expect("after redirect");
    let started = evs
        .iter()
        .position(|e| e.status_code() == Some("NetStream.Play.Start"))
        .expect("no Play.Start after the redirect");
    let video_after = evs[started..]
        .iter()
        .filter(|e| matches!(e, Event::Video { .. }))
        .count();
    assert!(
        video_after > 10,
        "only {video_after} video messages after the redirect"
    );
    // The player is now counted on b, not a.
    let r = control(&ng, "drop/subscriber?app=live&name=a");
    assert_eq!(r.body, "0");
    let r = control(&ng, "drop/subscriber?app=live&name=b");
    assert_eq!(r.body, "1");
}

/// With 4 workers, every worker answers /control for the whole server: the requests are
/// served by more than one worker and each sees the stream's publisher.
#[test]
fn any_worker_answers_for_the_whole_server() {
    let ng = start_with_stat("live on;", 4);
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "w"), 30);
    wait_stream(&ng, "w", 0);
    let mut pids = std::collections::BTreeSet::new();
    for _ in 0..60 {
        // record/stop of a stream with no recorders: a read-only question every worker
        // must answer ("recorder not found" comes from the worker holding the stream).
        let r = control(&ng, "record/stop?app=live&name=w&rec=none");
        assert_eq!(r.status, 404, "{r:?}");
        assert!(r.body.contains("not found"), "{r:?}");
        pids.insert(r.header("x-worker").unwrap_or("").to_string());
        if pids.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    eprintln!("served by workers {pids:?}");
    assert!(
        pids.len() >= 2,
        "every request landed on one worker: {pids:?}"
    );
    let t0 = Instant::now();
    let r = control(&ng, "drop/publisher?app=live&name=w");
    eprintln!("drop took {:?}", t0.elapsed());
    assert_eq!((r.status, r.body.as_str()), (200, "1"), "{r:?}");
    ng.assert_no_alerts();
}

/// redirect/publisher moves a publisher to another name: players of the new name get its
/// media, nobody publishes the old one any more.
#[test]
fn redirect_publisher_to_another_name() {
    let ng = start_with_stat("live on;", 1);
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "old"), 30);
    wait_stream(&ng, "old", 0);
    let r = control(&ng, "redirect/publisher?app=live&name=old&newname=new");
    assert_eq!((r.status, r.body.as_str()), (200, "1"), "{r:?}");
    let got = play_count_frames(&ng.rtmp_url("live", "new"), 3.0);
    assert!(
        got.video_frames > 25,
        "the new name played {} frames",
        got.video_frames
    );
    assert_eq!(control(&ng, "drop/publisher?app=live&name=old").body, "0");
}

/// drop/client with `addr` picks sessions by client address: only the player from
/// 127.0.0.2 goes.
#[test]
fn drop_by_address() {
    let ng = start_with_stat("live on;", 1);
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "d"), 30);
    wait_stream(&ng, "d", 0);
    let local = "127.0.0.2".parse().ok();
    let mut other = RtmpClient::connect_from(ng.rtmp_addr(), "live", local).expect("connect");
    other.play("d").expect("play from 127.0.0.2");
    let mut mine = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    mine.play("d").expect("play");
    wait_stream(&ng, "d", 2);
    let r = control(&ng, "drop/client?app=live&name=d&addr=127.0.0.2");
    assert_eq!((r.status, r.body.as_str()), (200, "1"), "{r:?}");
    assert!(
        other.closed_within(Duration::from_secs(3)),
        "the 127.0.0.2 player is still connected"
    );
    let still = mine
        .collect_for(Duration::from_secs(1))
        .expect("the other player");
    assert!(still.iter().any(|e| matches!(e, Event::Video { .. })));
}
