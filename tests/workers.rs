//! With several workers every player finds its publisher: until streams are shared between
//! workers, all RTMP sessions are served by worker 0 (http keeps every worker).
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::Duration;

fn key(i: u32) -> Vec<u8> {
    let mut v = vec![0x17, 0x01, 0, 0, 0];
    v.extend((0..100u32).map(|k| (k ^ i) as u8));
    v
}

#[test]
fn every_player_finds_the_publisher_with_four_workers() {
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = 4;
    let ng = Nginx::start_opts(opts);
    assert_eq!(ng.worker_pids().len(), 4, "nginx should run 4 workers");
    let addr = ng.rtmp_addr();
    let mut publisher = RtmpClient::connect(addr, "live").unwrap();
    publisher.publish("many").unwrap();
    publisher.send_video(0, &key(0)).unwrap();
    // Eight players, each a new connection the kernel could hand to any worker.
    let mut players: Vec<RtmpClient> = (0..8)
        .map(|_| {
            let mut p = RtmpClient::connect(addr, "live").unwrap();
            p.play("many").unwrap();
            p
        })
        .collect();
    for i in 1..=3u32 {
        publisher.send_video(i * 40, &key(i)).unwrap();
    }
    for (n, p) in players.iter_mut().enumerate() {
        let got: Vec<_> = p
            .collect_media(4, Duration::from_secs(3))
            .into_iter()
            .filter_map(|e| match e {
                Event::Video { data, .. } => Some(data.to_vec()),
                _ => None,
            })
            .collect();
        assert!(
            got.contains(&key(3)),
            "player {n} did not receive the stream (it got {} video messages)",
            got.len()
        );
    }
    let log = ng.error_log();
    let serving: std::collections::BTreeSet<&str> = log
        .lines()
        .filter(|l| l.contains("rtmp: play \"many\""))
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        serving.len(),
        1,
        "plays were served by several workers: {serving:?}"
    );
    ng.assert_no_alerts();
}
