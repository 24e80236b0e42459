//! Settings inherit rtmp{} → server{} → application{} as in nginx-rtmp-module: a level that
//! sets nothing takes the enclosing level's value, and a level's own value wins.
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::Duration;

fn key(i: u32) -> Vec<u8> {
    let mut v = vec![0x17, 0x01, 0, 0, 0];
    v.extend((0..64u32).map(|k| (k + i) as u8));
    v
}

/// Publishes three keyframes to `app/name` and reports how many a player received.
fn frames_through(ng: &Nginx, app: &str) -> usize {
    let addr = ng.rtmp_addr();
    let mut p = RtmpClient::connect(addr, app).expect("publisher connect");
    p.publish("s").expect("publish");
    let mut pl = match RtmpClient::connect(addr, app) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    if pl.play("s").is_err() {
        return 0;
    }
    for i in 0..3u32 {
        p.send_video(i * 40, &key(i)).unwrap();
    }
    pl.collect_media(3, Duration::from_secs(3))
        .iter()
        .filter(|e| matches!(e, Event::Video { .. }))
        .count()
}

#[test]
fn live_set_at_rtmp_level_reaches_applications() {
    let ng = Nginx::start(
        "live on;\nserver {\n listen 127.0.0.1:{rtmp_port};\n application a { }\n \
         application b { live off; }\n}\n",
    );
    assert_eq!(
        frames_through(&ng, "a"),
        3,
        "app a inherits live on from rtmp{{}}"
    );
    assert_eq!(frames_through(&ng, "b"), 0, "app b's own live off wins");
    ng.assert_no_alerts();
}

#[test]
fn server_level_access_rules_apply_to_applications_without_their_own() {
    let ng = Nginx::start(
        "server {\n listen 127.0.0.1:{rtmp_port};\n deny publish all;\n \
         application closed { live on; }\n \
         application open { live on; allow publish all; }\n}\n",
    );
    let addr = ng.rtmp_addr();
    let mut c = RtmpClient::connect(addr, "closed").expect("connect");
    let refused = match c.publish("x") {
        Err(_) => true,
        Ok(()) => c.closed_within(Duration::from_millis(1500)),
    };
    assert!(refused, "the server's deny publish all applies in `closed`");
    assert_eq!(
        frames_through(&ng, "open"),
        3,
        "`open` has rules of its own"
    );
    ng.assert_no_alerts();
}
