//! Several workers. Without `rtmp_auto_push`, worker 0 serves every RTMP session, so every
//! player finds its publisher. With it, every worker accepts clients and a stream published
//! on one is relayed to the others over their unix sockets (`rtmp_socket_dir`); the access
//! rules hold on every path, /stat counts the stream once, and across a reload the old
//! worker hands its streams on to the new ones.
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn key(i: u32) -> Vec<u8> {
    let mut v = vec![0x17, 0x01, 0, 0, 0];
    v.extend((0..100u32).map(|k| (k ^ i) as u8));
    v
}

/// The pids of the workers whose error-log lines contain `needle`.
fn workers_logging(ng: &Nginx, needle: &str) -> BTreeSet<String> {
    ng.error_log()
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split_whitespace().nth(3))
        .map(|pid| pid.split('#').next().unwrap_or(pid).to_string())
        .collect()
}

fn auto_push_nginx(workers: u32, app_body: &str) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", app_body));
    opts.worker_processes = workers;
    opts.main_extra = "rtmp_auto_push on;\nrtmp_socket_dir {tmp};\n".into();
    opts.http_server_extra = "location /stat { rtmp_stat all; }\n".into();
    Nginx::start_opts(opts)
}

/// A client publishing `many`, its first keyframe sent.
fn publish_many(ng: &Nginx) -> RtmpClient {
    let mut publisher = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    publisher.publish("many").unwrap();
    publisher.send_video(0, &key(0)).unwrap();
    publisher
}

/// Opens `n` players one after another, from `local`; each one's play must be accepted.
fn open_players(ng: &Nginx, n: usize, local: Option<IpAddr>) -> Vec<RtmpClient> {
    (0..n)
        .map(|i| {
            let mut p = RtmpClient::connect_from(ng.rtmp_addr(), "live", local)
                .unwrap_or_else(|e| panic!("player {i} connect: {e:?}"));
            p.play("many")
                .unwrap_or_else(|e| panic!("player {i} play: {e:?}"));
            p
        })
        .collect()
}

/// Sends keyframes 1..=frames every 40 ms, then checks that every player got the last one.
fn feed_and_check(publisher: &mut RtmpClient, players: &mut [RtmpClient], frames: u32) {
    for i in 1..=frames {
        publisher.send_video(i * 40, &key(i)).unwrap();
        std::thread::sleep(Duration::from_millis(40));
    }
    for (n, p) in players.iter_mut().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = 0;
        let mut got_last = false;
        while !got_last && Instant::now() < deadline {
            match p.next_event_until(deadline) {
                Ok(Event::Video { data, .. }) => {
                    seen += 1;
                    got_last = data.as_ref() == key(frames).as_slice();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        assert!(
            got_last,
            "player {n} did not receive the stream's last frame ({seen} video messages)"
        );
    }
}

#[test]
fn without_auto_push_worker_0_serves_every_session() {
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = 4;
    let ng = Nginx::start_opts(opts);
    assert_eq!(ng.worker_pids().len(), 4, "nginx should run 4 workers");
    let mut publisher = publish_many(&ng);
    let mut players = open_players(&ng, 8, None);
    feed_and_check(&mut publisher, &mut players, 10);
    let serving = workers_logging(&ng, "rtmp: play \"many\"");
    assert_eq!(
        serving.len(),
        1,
        "plays served by several workers: {serving:?}"
    );
    ng.assert_no_alerts();
}

/// The test: 4 workers, 20 players opened one after another; every player gets
/// video, and the players landed on more than one worker.
#[test]
fn auto_push_serves_players_on_every_worker() {
    let ng = auto_push_nginx(4, "live on;");
    assert_eq!(ng.worker_pids().len(), 4, "nginx should run 4 workers");
    let mut publisher = publish_many(&ng);
    let mut players = open_players(&ng, 20, None);
    feed_and_check(&mut publisher, &mut players, 25);
    let serving = workers_logging(&ng, "rtmp: play \"many\"");
    assert!(
        serving.len() > 1,
        "all 20 players landed on one worker ({serving:?}): nothing shows the relay"
    );
    let publishing = workers_logging(&ng, "relay: push started (to another worker)");
    assert_eq!(
        publishing.len(),
        1,
        "the publisher's worker alone relays: {publishing:?}"
    );
    // Each other worker's socket is in rtmp_socket_dir while it runs.
    let sockets = std::fs::read_dir(&ng.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("ngx-rtmp."))
        .count();
    assert_eq!(sockets, 4, "one relay socket per worker in rtmp_socket_dir");
    ng.assert_no_alerts();
}

/// /stat shows the stream once, with its one publisher and its players, whichever worker
/// they are on: relays between workers are neither clients nor traffic.
#[test]
fn auto_push_stat_counts_the_stream_once() {
    let ng = auto_push_nginx(4, "live on;");
    let mut publisher = publish_many(&ng);
    let mut players = open_players(&ng, 12, None);
    feed_and_check(&mut publisher, &mut players, 10);
    let url = format!("http://127.0.0.1:{}/stat", ng.http_port);
    let body = wait_for(Duration::from_secs(10), || {
        let (_, body) = http_get(&url, Duration::from_secs(5)).ok()?;
        body.contains("<nclients>13</nclients>").then_some(body)
    })
    .unwrap_or_else(|| {
        let (_, body) = http_get(&url, Duration::from_secs(5)).unwrap();
        panic!("/stat never showed 1 publisher + 12 players:\n{body}")
    });
    assert_eq!(body.matches("<name>many</name>").count(), 1, "{body}");
    // One publishing client, and the stream's own flag.
    assert_eq!(
        body.matches("<publishing/><active/></client>").count(),
        1,
        "{body}"
    );
    assert_eq!(body.matches("<publishing/>").count(), 2, "{body}");
    assert!(body.contains("<naccepted>13</naccepted>"), "{body}");
    assert!(
        !body.contains("another worker"),
        "a relay shows as a client: {body}"
    );
}

/// allow/deny hold on every path: a denied player is refused on whichever worker it lands,
/// a denied publisher publishes nowhere, and the relays between workers (unix sockets,
/// no address) are not refused by the rules they do not match.
#[test]
fn auto_push_keeps_access_rules_on_every_worker() {
    let ng = auto_push_nginx(
        4,
        "live on;\nallow publish 127.0.0.1;\ndeny publish all;\nallow play 127.0.0.1;\ndeny play all;",
    );
    let lo2: IpAddr = "127.0.0.2".parse().unwrap();
    let mut publisher = publish_many(&ng);
    let mut players = open_players(&ng, 12, None);
    feed_and_check(&mut publisher, &mut players, 10);
    for i in 0..12 {
        let refused = match RtmpClient::connect_from(ng.rtmp_addr(), "live", Some(lo2)) {
            Err(_) => true,
            Ok(mut p) => p.play("many").is_err() || p.closed_within(Duration::from_secs(3)),
        };
        assert!(refused, "denied player {i} from 127.0.0.2 was let in");
    }
    let denied_pub = match RtmpClient::connect_from(ng.rtmp_addr(), "live", Some(lo2)) {
        Err(_) => true,
        Ok(mut p) => p.publish("other").is_err() || p.closed_within(Duration::from_secs(3)),
    };
    assert!(denied_pub, "a publisher from 127.0.0.2 was let in");
    let forbidden = ng
        .error_log()
        .lines()
        .filter(|l| l.contains("access forbidden by rule: play"))
        .count();
    assert_eq!(forbidden, 12, "every denied play is logged once");
    ng.assert_no_alerts();
}

/// With 4 workers and auto_push, a reload: the publisher (on an old worker) is not cut, and
/// 8 players who connect after the reload, landing on the new workers, all get the stream.
#[test]
fn auto_push_stream_survives_reload() {
    let mut ng = auto_push_nginx(4, "live on;");
    let mut publisher = publish_many(&ng);
    let before = ng.worker_pids();
    ng.reload();
    wait_for(Duration::from_secs(10), || {
        let now = ng.worker_pids();
        (now.iter().filter(|p| !before.contains(p)).count() >= 4).then_some(())
    })
    .expect("no 4 new workers after reload");
    // New workers announce their sockets in the stat zone within a second.
    std::thread::sleep(Duration::from_millis(1500));
    let mut players = open_players(&ng, 8, None);
    feed_and_check(&mut publisher, &mut players, 25);
    let serving = workers_logging(&ng, "rtmp: play \"many\"");
    assert!(
        serving
            .iter()
            .all(|w| !before.iter().any(|b| b.to_string() == *w)),
        "a player after the reload was served by an old worker: {serving:?} (old {before:?})"
    );
    ng.assert_no_alerts();
}
