//! Pull relays between real nginx instances running the module: an edge plays a stream from
//! an origin when its own players want it and publishes it locally; players share one pull,
//! the last one to leave ends it, a static pull runs alone; the origin restarts, lacks the
//! stream or is unreachable; name=/app=/playPath= and session_relay; a pulled stream is
//! recorded and pushed on, but never pushed back to where it comes from.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::{ClientError, Event, RtmpClient};
use ngx_rtmp_tests::*;
use serde_json::Value;
use std::time::{Duration, Instant};

const STAT: &str = "location /stat { rtmp_stat all; }";

fn start(rtmp: &str, port: Option<u16>) -> Nginx {
    let mut opts = NginxOpts::new(rtmp);
    opts.http_server_extra = STAT.to_string();
    opts.rtmp_port = port;
    Nginx::start_opts(opts)
}

/// The origin: `application live { live on; <extra> }`.
fn origin_with(extra: &str, port: Option<u16>) -> Nginx {
    start(&simple_rtmp("live", &format!("live on;\n{extra}")), port)
}

/// The edge: `application live { live on; pull rtmp://127.0.0.1:PORT/live; <extra> }`.
fn edge(origin_port: u16, extra: &str) -> Nginx {
    start(
        &simple_rtmp(
            "live",
            &format!("live on;\npull rtmp://127.0.0.1:{origin_port}/live;\n{extra}"),
        ),
        None,
    )
}

fn stat(ng: &Nginx) -> Value {
    let (_, body) = http_get(&ng.http_url("/stat?format=json"), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("/stat: {e}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("/stat JSON: {e}: {body}"))
}

/// The stream `app/name` in /stat, if it is there.
fn stat_stream(ng: &Nginx, app: &str, name: &str) -> Option<Value> {
    let doc = stat(ng);
    for server in doc["servers"].as_array()? {
        for a in server["applications"].as_array()? {
            if a["name"] != app {
                continue;
            }
            for s in a["live"]["streams"].as_array()? {
                if s["name"] == name {
                    return Some(s.clone());
                }
            }
        }
    }
    None
}

/// The players (clients that do not publish) of `app/name` on `ng`.
fn players(ng: &Nginx, app: &str, name: &str) -> Vec<Value> {
    stat_stream(ng, app, name)
        .and_then(|s| s["clients"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["publishing"] == false)
        .collect()
}

/// Waits until `app/name` on `ng` has a publisher that sends media.
fn wait_publishing(ng: &Nginx, app: &str, name: &str, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    wait_for(limit, || {
        stat_stream(ng, app, name).filter(|s| s["publishing"] == true && s["active"] == true)
    })
    .map(|_| t0.elapsed())
}

/// Waits until `app/name` on `ng` has exactly `n` players.
fn wait_players(ng: &Nginx, app: &str, name: &str, n: usize, limit: Duration) -> bool {
    wait_for(limit, || (players(ng, app, name).len() == n).then_some(())).is_some()
}

fn count_lines(ng: &Nginx, needle: &str) -> usize {
    ng.error_log()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// At least 90% of `seconds` of 25 fps video and 44.1 kHz AAC (1024 samples a frame).
fn assert_decoded(what: &str, r: &PlayResult, seconds: f64) {
    let video = (seconds * 25.0 * 0.9) as u32;
    let audio = (seconds * 44100.0 / 1024.0 * 0.9) as u32;
    eprintln!(
        "{what}: {} video / {} audio frames decoded in {seconds} s (need {video} / {audio})",
        r.video_frames, r.audio_frames
    );
    assert_eq!(r.video_codec.as_deref(), Some("h264"), "{what}: {r:?}");
    assert_eq!(r.audio_codec.as_deref(), Some("aac"), "{what}: {r:?}");
    assert!(
        r.video_frames >= video && r.audio_frames >= audio,
        "{what}: too few frames: {r:?}"
    );
}

/// An RTMP player of our own on `app/name`: connected and playing (Play.Start received).
fn rtmp_player(ng: &Nginx, app: &str, name: &str) -> RtmpClient {
    let mut c = RtmpClient::connect(ng.rtmp_addr(), app).expect("connect to the edge");
    c.play(name).expect("play");
    c
}

/// Video messages `c` receives within `d`.
fn video_within(c: &mut RtmpClient, d: Duration) -> usize {
    c.collect_for(d)
        .unwrap_or_default()
        .iter()
        .filter(|e| matches!(e, Event::Video { .. }))
        .count()
}

/// (a) Two players on the edge share one pull: both decode h264+aac, the origin sees one
/// player (the edge), and the edge's /stat shows the pull as the stream's publisher,
/// flagged as a relay. When they leave, the pull ends and the origin loses its player.
#[test]
fn players_share_one_pull_that_ends_with_the_last() {
    let origin = origin_with("", None);
    let edge = edge(origin.rtmp_port, "");
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let t0 = Instant::now();
    let first = spawn_ffmpeg_player(&edge.rtmp_url("live", "x"), 10.0);
    let pulled = wait_publishing(&edge, "live", "x", Duration::from_secs(10));
    eprintln!(
        "the edge publishes x {:?} after the first play",
        t0.elapsed()
    );
    assert!(pulled.is_some(), "{}", edge.error_log_tail(30));
    let second = spawn_ffmpeg_player(&edge.rtmp_url("live", "x"), 8.0);
    assert!(wait_players(&edge, "live", "x", 2, Duration::from_secs(10)));

    let on_origin = players(&origin, "live", "x");
    assert_eq!(
        on_origin.len(),
        1,
        "one pull for two players: {on_origin:?}"
    );
    assert_eq!(
        on_origin[0]["flashver"], "LNX 11,1,102,55 (compatible; ngx-rtmp)",
        "{on_origin:?}"
    );
    let on_edge = stat_stream(&edge, "live", "x").expect("x on the edge");
    let publisher: Vec<&Value> = on_edge["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["publishing"] == true)
        .collect();
    assert_eq!(publisher.len(), 1, "{on_edge}");
    assert_eq!(publisher[0]["relay"], true, "{on_edge}");
    assert_eq!(publisher[0]["flashver"], "ngx-local-relay", "{on_edge}");
    assert_eq!(
        publisher[0]["address"],
        format!("127.0.0.1:{}/live", origin.rtmp_port),
        "{on_edge}"
    );
    assert_eq!(on_edge["meta"]["video"]["codec"], "H264", "{on_edge}");
    let (_, xml) = http_get(&edge.http_url("/stat"), Duration::from_secs(5)).unwrap();
    assert!(
        xml.contains("<publishing/><active/><relay/></client>"),
        "{xml}"
    );

    let r1 = finish_play(first, Duration::from_secs(60));
    let r2 = finish_play(second, Duration::from_secs(60));
    assert_decoded("first player on the edge", &r1, 10.0);
    assert_decoded("second player on the edge", &r2, 8.0);

    let t0 = Instant::now();
    let gone = wait_players(&origin, "live", "x", 0, Duration::from_secs(10));
    eprintln!(
        "the origin lost the edge {:?} after the players left",
        t0.elapsed()
    );
    assert!(gone, "{}", edge.error_log_tail(20));
    assert_eq!(count_lines(&edge, "relay: pull started"), 1);
    assert_eq!(
        count_lines(&edge, "relay: pull stopped: the last player left"),
        1
    );
    assert_eq!(
        count_lines(&edge, "relay: pull failed"),
        0,
        "{}",
        edge.error_log()
    );
    assert!(
        wait_for(Duration::from_secs(5), || stat_stream(&edge, "live", "x")
            .is_none()
            .then_some(()))
        .is_some()
    );
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (b) A static pull runs with no player: the origin has the edge as a player, the edge
/// records the pulled stream and runs exec_publish for it (as for any publisher), and a
/// player that comes later is served from it without a second pull.
#[test]
fn static_pull_runs_without_players_and_is_recorded() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let edge = start(
        &simple_rtmp(
            "tv",
            &format!(
                "live on;\n\
                 pull rtmp://127.0.0.1:{}/live name=x static;\n\
                 record all; record_path {{tmp}}; record_interval 4s;\n\
                 exec_publish /usr/bin/touch {{tmp}}/published-$app-$name;",
                origin.rtmp_port
            ),
        ),
        None,
    );
    let pulled = wait_publishing(&edge, "tv", "x", Duration::from_secs(15));
    eprintln!("the static pull publishes after {pulled:?}");
    assert!(pulled.is_some(), "{}", edge.error_log_tail(30));
    assert_eq!(players(&origin, "live", "x").len(), 1);
    assert_eq!(players(&edge, "tv", "x").len(), 0);
    let r = play_count_frames(&edge.rtmp_url("tv", "x"), 5.0);
    assert_decoded("player of the static pull", &r, 5.0);
    std::thread::sleep(Duration::from_secs(3));
    // Still pulled after the player left.
    assert_eq!(players(&origin, "live", "x").len(), 1);
    assert_eq!(count_lines(&edge, "relay: pull started (static)"), 1);
    assert_eq!(count_lines(&edge, "relay: pull stopped"), 0);
    // A recording closed at the 4 s interval is a whole FLV that starts with a keyframe.
    let files: Vec<_> = std::fs::read_dir(&edge.dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flv"))
        .collect();
    eprintln!("recordings: {files:?}");
    assert!(files.len() >= 2, "{}", edge.error_log_tail(20));
    let mut checked = 0;
    for f in &files {
        let c = check_file(f);
        if c.video_frames >= 75 {
            assert_eq!(c.video_codec.as_deref(), Some("h264"), "{c:?}");
            assert_eq!(c.audio_codec.as_deref(), Some("aac"), "{c:?}");
            assert!(c.starts_with_keyframe, "{c:?}");
            checked += 1;
        }
    }
    assert!(checked >= 1, "no whole piece among {files:?}");
    // exec_publish ran for the pulled stream.
    assert!(
        edge.dir.join("published-tv-x").exists(),
        "{}",
        edge.error_log_tail(20)
    );
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (c) The origin stops hard and comes back on its port: the edge's player waits through it,
/// the pull reconnects (with `pull_reconnect`), and the player gets video again.
#[test]
fn origin_restart_is_reconnected() {
    let origin = origin_with("", None);
    let port = origin.rtmp_port;
    let edge = edge(port, "pull_reconnect 1s;");
    let publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let mut player = rtmp_player(&edge, "live", "x");
    let before = video_within(&mut player, Duration::from_secs(3));
    assert!(before >= 40, "{before} video messages before the restart");

    signal(origin.master_pid(), libc::SIGTERM);
    assert!(wait_for(Duration::from_secs(10), || (!port_listening(port))
        .then_some(()))
    .is_some());
    drop(publisher);
    drop(origin);
    let failed = wait_for(Duration::from_secs(10), || {
        (count_lines(&edge, "relay: pull failed") >= 1).then_some(())
    });
    assert!(failed.is_some(), "{}", edge.error_log_tail(20));
    let origin = origin_with("", Some(port));
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    let t0 = Instant::now();
    let mut after = 0;
    while t0.elapsed() < Duration::from_secs(25) && after < 40 {
        after += video_within(&mut player, Duration::from_secs(1));
    }
    eprintln!(
        "the same player got {after} video messages {:?} after the restart",
        t0.elapsed()
    );
    assert!(after >= 40, "{}", edge.error_log_tail(30));
    let log = edge.error_log();
    assert!(log.contains("relay: pull reconnects in 1000 ms"), "{log}");
    assert!(
        count_lines(&edge, "relay: pull playing \"x\"") >= 2,
        "{log}"
    );
    // A new player gets the stream too.
    let r = play_count_frames(&edge.rtmp_url("live", "x"), 4.0);
    assert_decoded("new player after the restart", &r, 4.0);
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (d) The origin has no such stream (`idle_streams off` makes it say so): the edge logs it
/// plainly and retries with backoff; its player waits, is not closed, and gets the stream
/// once the origin has it.
#[test]
fn stream_missing_on_the_origin_is_logged_and_retried() {
    let origin = origin_with("idle_streams off;", None);
    let edge = edge(origin.rtmp_port, "pull_reconnect 500ms;");
    let mut player = rtmp_player(&edge, "live", "later");
    let logged = wait_for(Duration::from_secs(10), || {
        (count_lines(
            &edge,
            "relay: pull failed: the server has no stream \"later\"",
        ) >= 3)
            .then_some(())
    });
    assert!(logged.is_some(), "{}", edge.error_log_tail(20));
    let log = edge.error_log();
    assert!(log.contains("(NetStream.Play.StreamNotFound"), "{log}");
    assert!(
        log.contains("reconnects in 500 ms") && log.contains("reconnects in 1000 ms"),
        "{log}"
    );
    match player.next_event(Duration::from_millis(500)) {
        Ok(_) | Err(ClientError::Timeout) => {}
        Err(e) => panic!("the waiting player was dropped: {e}"),
    }
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "later"), 40);
    let t0 = Instant::now();
    let mut got = 0;
    while t0.elapsed() < Duration::from_secs(25) && got < 25 {
        got += video_within(&mut player, Duration::from_secs(1));
    }
    eprintln!("video {:?} after the origin got the stream", t0.elapsed());
    assert!(got >= 25, "{}", edge.error_log_tail(20));
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (e) `name=` picks the local stream a pull serves, `app=`/`playPath=` what it plays on
/// the origin; a play of another name starts no pull.
#[test]
fn name_app_and_play_path_parameters() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 40);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let edge = start(
        &simple_rtmp(
            "tv",
            &format!(
                "live on;\n\
                 pull rtmp://127.0.0.1:{}/ app=live playPath=x name=channel1;",
                origin.rtmp_port
            ),
        ),
        None,
    );
    let r = play_count_frames(&edge.rtmp_url("tv", "channel1"), 4.0);
    assert_decoded("tv/channel1 on the edge", &r, 4.0);
    let mut other = rtmp_player(&edge, "tv", "x");
    assert_eq!(video_within(&mut other, Duration::from_secs(2)), 0);
    drop(other);
    let log = edge.error_log();
    assert_eq!(count_lines(&edge, "relay: pull started"), 1, "{log}");
    assert!(log.contains("plays \"x\" in \"live\""), "{log}");
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (f) `session_relay on`: a player that stops playing (deleteStream) but stays connected
/// still keeps the pull; it ends when that connection closes. Off (the default): the pull
/// ends as soon as the player stops playing.
#[test]
fn session_relay_ties_the_pull_to_the_connection() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let pull = format!("pull rtmp://127.0.0.1:{}/live;", origin.rtmp_port);
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         application on {{ live on; {pull} session_relay on; }}\n\
         application off {{ live on; {pull} }}\n\
         }}"
    );
    let edge = start(&rtmp, None);
    for (app, kept) in [("on", true), ("off", false)] {
        let mut player = rtmp_player(&edge, app, "x");
        assert!(
            video_within(&mut player, Duration::from_secs(2)) > 10,
            "{app}"
        );
        assert!(wait_players(
            &origin,
            "live",
            "x",
            1,
            Duration::from_secs(5)
        ));
        player.stop_playback().expect("deleteStream");
        std::thread::sleep(Duration::from_secs(3));
        let pulling = players(&origin, "live", "x").len();
        eprintln!("session_relay {app}: {pulling} pull(s) after the player stopped playing");
        assert_eq!(pulling, usize::from(kept), "session_relay {app}");
        drop(player);
        assert!(
            wait_players(&origin, "live", "x", 0, Duration::from_secs(5)),
            "session_relay {app}: the pull outlived the connection"
        );
    }
    assert_eq!(
        count_lines(&edge, "relay: pull stopped: the last player left"),
        2
    );
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (g) An origin that refuses connections (a closed port) or never answers the handshake:
/// the pulls fail and retry, and another stream of the edge plays on unaffected.
#[test]
fn unreachable_origins_do_not_stall_other_streams() {
    let closed = free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         timeout 2s;\n\
         application refused {{ live on; pull rtmp://127.0.0.1:{closed}/live; pull_reconnect 1s; }}\n\
         application silent {{ live on; pull rtmp://127.0.0.1:{silent_port}/live; pull_reconnect 1s; }}\n\
         application local {{ live on; }}\n\
         }}"
    );
    let edge = start(&rtmp, None);
    let _publisher = publish_ffmpeg(&edge.rtmp_url("local", "y"), 40);
    assert!(wait_publishing(&edge, "local", "y", Duration::from_secs(15)).is_some());
    let _a = rtmp_player(&edge, "refused", "x");
    let _b = rtmp_player(&edge, "silent", "x");
    let r = play_count_frames(&edge.rtmp_url("local", "y"), 8.0);
    assert_decoded("local player beside the failing pulls", &r, 8.0);
    let log = edge.error_log();
    assert!(
        count_lines(&edge, "relay: pull failed: connect() failed") >= 2,
        "{log}"
    );
    assert!(
        count_lines(&edge, "the server did not start playing within 2000 ms") >= 1,
        "{log}"
    );
    assert!(log.contains("relay: pull reconnects in 2000 ms"), "{log}");
    drop(silent);
    edge.assert_no_alerts();
}

/// (h) The application's `push` applies to a pulled stream (here to another application of
/// the edge, whose player decodes it), except a push to where the stream is pulled from.
#[test]
fn pulled_streams_are_pushed_on_but_not_back() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let o = origin.rtmp_port;
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         application live {{\n\
             live on;\n\
             pull rtmp://127.0.0.1:{o}/live;\n\
             push rtmp://127.0.0.1:{o}/live;\n\
             push rtmp://127.0.0.1:{{rtmp_port}}/copy;\n\
         }}\n\
         application copy {{ live on; }}\n\
         }}"
    );
    let edge = start(&rtmp, None);
    let player = spawn_ffmpeg_player(&edge.rtmp_url("live", "x"), 12.0);
    assert!(wait_publishing(&edge, "copy", "x", Duration::from_secs(15)).is_some());
    let r = play_count_frames(&edge.rtmp_url("copy", "x"), 5.0);
    assert_decoded("player of the pushed copy", &r, 5.0);
    let r = finish_play(player, Duration::from_secs(60));
    assert_decoded("player of the pulled stream", &r, 12.0);
    let log = edge.error_log();
    assert!(
        log.contains(&format!(
            "relay: \"x\" is not pushed to rtmp://127.0.0.1:{o}/live: it is pulled from there"
        )),
        "{log}"
    );
    assert_eq!(count_lines(&edge, "relay: push started"), 1, "{log}");
    assert_eq!(count_lines(&origin, "already publishing"), 0);
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (i) Applications that pull from each other on one server (or from themselves) make no
/// endless chain: the pulls end with the last real player.
#[test]
fn pull_loops_end_with_the_last_player() {
    let rtmp = "server {\n\
        listen 127.0.0.1:{rtmp_port};\n\
        application a { live on; pull rtmp://127.0.0.1:{rtmp_port}/b; }\n\
        application b { live on; pull rtmp://127.0.0.1:{rtmp_port}/a; }\n\
        application self { live on; pull rtmp://127.0.0.1:{rtmp_port}/self; }\n\
        }";
    let ng = start(rtmp, None);
    let a = rtmp_player(&ng, "a", "x");
    let s = rtmp_player(&ng, "self", "x");
    std::thread::sleep(Duration::from_secs(2));
    let started = count_lines(&ng, "relay: pull started");
    eprintln!("{started} pulls for two players");
    assert_eq!(started, 3, "{}", ng.error_log());
    drop(a);
    drop(s);
    let stopped = wait_for(Duration::from_secs(10), || {
        (count_lines(&ng, "relay: pull stopped") == 3).then_some(())
    });
    assert!(stopped.is_some(), "{}", ng.error_log());
    let empty = wait_for(Duration::from_secs(10), || {
        let doc = stat(&ng);
        let streams: usize = doc["servers"][0]["applications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["live"]["streams"].as_array().map_or(0, Vec::len))
            .sum();
        (streams == 0).then_some(())
    });
    assert!(empty.is_some(), "{}", ng.error_log_tail(20));
    ng.assert_no_alerts();
}

/// (j) An origin that stops answering (its worker frozen with SIGSTOP): the pull, which
/// pings a silent server, gives up after `ping` + `ping_timeout`, and pulls again once the
/// origin thaws; its player gets video again.
#[test]
fn frozen_origin_is_pinged_given_up_and_pulled_again() {
    let origin = origin_with("", None);
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         ping 2s; ping_timeout 1s; timeout 3s;\n\
         application live {{ live on; pull rtmp://127.0.0.1:{}/live; pull_reconnect 1s; }}\n\
         }}",
        origin.rtmp_port
    );
    let edge = start(&rtmp, None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let mut player = rtmp_player(&edge, "live", "x");
    assert!(video_within(&mut player, Duration::from_secs(2)) > 20);
    let workers = origin.worker_pids();
    for &w in &workers {
        signal(w, libc::SIGSTOP);
    }
    let t0 = Instant::now();
    let gave_up = wait_for(Duration::from_secs(15), || {
        edge.error_log()
            .contains("relay: pull failed: no input from the server for 3000 ms")
            .then(|| t0.elapsed())
    });
    eprintln!("the pull gave up on the frozen origin after {gave_up:?}");
    // Drain what the player got before the freeze was noticed.
    let _ = video_within(&mut player, Duration::from_secs(1));
    for &w in &workers {
        signal(w, libc::SIGCONT);
    }
    assert!(gave_up.is_some(), "{}", edge.error_log_tail(20));
    let t0 = Instant::now();
    let mut again = 0;
    while t0.elapsed() < Duration::from_secs(30) && again < 25 {
        again += video_within(&mut player, Duration::from_secs(1));
    }
    eprintln!("video again {:?} after the thaw", t0.elapsed());
    assert!(again >= 25, "{}", edge.error_log_tail(30));
    assert!(count_lines(&edge, "relay: pull playing \"x\"") >= 2);
    origin.assert_no_alerts();
    edge.assert_no_alerts();
}

/// (k) Another implementation as the origin: ffmpeg serving a stream (`-listen 1` on its
/// output) to the edge's pull, whose player decodes it.
#[test]
fn pull_from_ffmpeg_as_the_server() {
    let port = free_port();
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "info", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args([
            "-t",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
        ])
        .args(["-c:a", "aac", "-f", "flv", "-listen", "1"])
        .arg(format!("rtmp://127.0.0.1:{port}/src/x"));
    let server = ngx_rtmp_tests::proc::ChildGuard::spawn(cmd);
    assert!(wait_for(Duration::from_secs(10), || port_listening(port)
        .then_some(()))
    .is_some());
    let edge = start(
        &simple_rtmp(
            "live",
            &format!("live on;\npull rtmp://127.0.0.1:{port}/src;"),
        ),
        None,
    );
    let r = play_count_frames(&edge.rtmp_url("live", "x"), 6.0);
    assert_decoded("player of a stream pulled from ffmpeg", &r, 6.0);
    assert_eq!(
        count_lines(&edge, "relay: pull failed"),
        0,
        "{}",
        edge.error_log()
    );
    drop(server);
    edge.assert_no_alerts();
}

/// (l) Reload and quit: the old worker's static pull ends at once (the new worker has its
/// own), a pull with a player keeps feeding it while it drains and ends with it, and a
/// graceful quit closes every pull without leaving a socket open (an nginx alert).
#[test]
fn reload_and_quit_with_pulls() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let pull = format!("pull rtmp://127.0.0.1:{}/live", origin.rtmp_port);
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         application tv {{ live on; {pull} name=x static; }}\n\
         application dyn {{ live on; {pull}; }}\n\
         }}"
    );
    let mut edge = start(&rtmp, None);
    assert!(wait_publishing(&edge, "tv", "x", Duration::from_secs(15)).is_some());
    let player = spawn_ffmpeg_player(&edge.rtmp_url("dyn", "x"), 12.0);
    assert!(wait_players(
        &origin,
        "live",
        "x",
        2,
        Duration::from_secs(10)
    ));
    let before = edge.worker_pids();
    edge.reload();
    let ended = wait_for(Duration::from_secs(10), || {
        (count_lines(&edge, "relay: pull stopped: the worker is shutting down") == 1).then_some(())
    });
    assert!(ended.is_some(), "{}", edge.error_log_tail(20));
    let restarted = wait_for(Duration::from_secs(10), || {
        (count_lines(&edge, "relay: pull started (static)") == 2).then_some(())
    });
    assert!(restarted.is_some(), "{}", edge.error_log_tail(20));
    // The new static pull and the draining worker's pull.
    assert!(wait_players(
        &origin,
        "live",
        "x",
        2,
        Duration::from_secs(10)
    ));
    let r = finish_play(player, Duration::from_secs(60));
    assert_decoded("player draining on the old worker", &r, 12.0);
    let old_gone = wait_for(Duration::from_secs(20), || {
        (!edge.worker_pids().iter().any(|p| before.contains(p))).then_some(())
    });
    assert!(old_gone.is_some(), "the old worker lingers");
    assert!(wait_players(
        &origin,
        "live",
        "x",
        1,
        Duration::from_secs(10)
    ));
    let quit = edge.quit(Duration::from_secs(15));
    eprintln!("quit took {quit:?}");
    assert!(quit.is_some(), "{}", edge.error_log_tail(20));
    assert!(wait_players(
        &origin,
        "live",
        "x",
        0,
        Duration::from_secs(10)
    ));
    edge.assert_no_alerts();
    origin.assert_no_alerts();
}

/// (m) With `rtmp_auto_push on` and 4 workers, a static pull (worker 0's) reaches players on
/// every worker, as in the C module, over one connection to the origin.
#[test]
fn static_pull_reaches_every_worker() {
    let origin = origin_with("", None);
    let _publisher = publish_ffmpeg(&origin.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&origin, "live", "x", Duration::from_secs(15)).is_some());
    let mut opts = NginxOpts::new(&simple_rtmp(
        "tv",
        &format!(
            "live on;\npull rtmp://127.0.0.1:{}/live name=x static;",
            origin.rtmp_port
        ),
    ));
    opts.worker_processes = 4;
    opts.main_extra = "rtmp_auto_push on;\nrtmp_socket_dir {tmp};\n".into();
    opts.http_server_extra = STAT.to_string();
    let edge = Nginx::start_opts(opts);
    assert!(wait_publishing(&edge, "tv", "x", Duration::from_secs(15)).is_some());
    // The other workers get the stream from worker 0 within their relay's reconnect.
    std::thread::sleep(Duration::from_secs(2));
    let mut clients: Vec<RtmpClient> = (0..8).map(|_| rtmp_player(&edge, "tv", "x")).collect();
    for (i, p) in clients.iter_mut().enumerate() {
        let got = video_within(p, Duration::from_millis(1500));
        assert!(got >= 20, "player {i}: {got} video messages");
    }
    let serving: std::collections::BTreeSet<String> = edge
        .error_log()
        .lines()
        .filter(|l| l.contains("rtmp: play \"x\""))
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect();
    eprintln!("players served by {serving:?}");
    assert!(serving.len() > 1, "all players on one worker: {serving:?}");
    assert_eq!(count_lines(&edge, "relay: pull started (static)"), 1);
    assert_eq!(
        players(&origin, "live", "x").len(),
        1,
        "one pull for every worker"
    );
    edge.assert_no_alerts();
    origin.assert_no_alerts();
}
