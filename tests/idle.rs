//! `drop_idle_publisher`: a publisher that stops sending media is closed after the limit,
//! its players get UnpublishNotify; one that keeps sending stays.
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::{Duration, Instant};

fn key(i: u32) -> Vec<u8> {
    vec![0x17, 0x01, 0, 0, 0, i as u8, 1, 2, 3]
}

#[test]
fn a_silent_publisher_is_dropped_and_a_busy_one_stays() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;\n drop_idle_publisher 2s;"));
    let addr = ng.rtmp_addr();

    let mut silent = RtmpClient::connect(addr, "live").unwrap();
    silent.publish("quiet").unwrap();
    silent.send_video(0, &key(0)).unwrap();
    let started = Instant::now();
    assert!(
        silent.closed_within(Duration::from_secs(6)),
        "a publisher silent for longer than drop_idle_publisher stays connected"
    );
    let after = started.elapsed();
    eprintln!("silent publisher closed after {after:?}");
    assert!(
        after >= Duration::from_millis(1500),
        "closed too early: {after:?}"
    );

    let mut busy = RtmpClient::connect(addr, "live").unwrap();
    busy.publish("busy").unwrap();
    for i in 0..40u32 {
        busy.send_video(i * 100, &key(i)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !busy.closed_within(Duration::from_millis(500)),
        "a publisher sending media every 100 ms was dropped"
    );
    assert!(
        ng.error_log().contains("drop idle publisher"),
        "error.log does not say why the silent publisher was closed"
    );
    ng.assert_no_alerts();
}
