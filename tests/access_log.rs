//! `access_log` in rtmp{}: one line per session in the default `combined` format:
//! `$remote_addr [$time_local] $command "$app" "$name" "$args" - $bytes_received
//!  $bytes_sent "$pageurl" "$flashver" ($session_readable_time)`

use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use regex::Regex;
use std::time::Duration;

struct Line {
    addr: String,
    command: String,
    app: String,
    name: String,
    args: String,
    bytes_in: u64,
    bytes_out: u64,
    flashver: String,
    raw: String,
}

fn parse(log: &str) -> Vec<Line> {
    let re = Regex::new(
        r#"^(\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] (\S*) "([^"]*)" "([^"]*)" "([^"]*)" - (\d+) (\d+) "([^"]*)" "([^"]*)" \(((\d+d )?(\d+h )?(\d+m )?\d+s)\)$"#,
    )
    .unwrap();
    let mut v = Vec::new();
    for l in log.lines() {
        let c = re
            .captures(l)
            .unwrap_or_else(|| panic!("access.log line not in the combined format: {:?}", l));
        v.push(Line {
            addr: c[1].to_string(),
            command: c[3].to_string(),
            app: c[4].to_string(),
            name: c[5].to_string(),
            args: c[6].to_string(),
            bytes_in: c[7].parse().unwrap(),
            bytes_out: c[8].parse().unwrap(),
            flashver: c[10].to_string(),
            raw: l.to_string(),
        });
    }
    v
}

#[test]
fn access_log_combined_format() {
    let ng = Nginx::start(
        "access_log {tmp}/access.log;\nserver {\n listen 127.0.0.1:{rtmp_port};\n application live {\n live on;\n }\n}\n",
    );
    let addr = ng.rtmp_addr();
    let payload: Vec<u8> = [vec![0x17, 0x01, 0, 0, 0], vec![0xab; 20_000]].concat();
    {
        let mut player = RtmpClient::connect(addr, "live").unwrap();
        player.play("alog").unwrap();
        let mut p =
            RtmpClient::connect_from(addr, "live", Some("127.0.0.2".parse().unwrap())).unwrap();
        p.publish("alog?k=v&x=1").unwrap();
        for i in 0..5u32 {
            p.send_video(i * 40, &payload).unwrap();
        }
        let got = player.collect_media(5, Duration::from_secs(5));
        assert_eq!(
            got.iter()
                .filter(|e| matches!(e, Event::Video { .. }))
                .count(),
            5
        );
    }
    // Lines are written when sessions end.
    let log = wait_for(Duration::from_secs(10), || {
        let s = std::fs::read_to_string(ng.file("access.log")).unwrap_or_default();
        if s.lines().count() >= 2 {
            Some(s)
        } else {
            None
        }
    })
    .expect("access.log did not get two lines within 10 s");
    eprintln!("access.log:\n{}", log);
    let lines = parse(&log);
    assert_eq!(lines.len(), 2, "one line per session expected:\n{}", log);

    let publ = lines
        .iter()
        .find(|l| l.command == "PUBLISH")
        .expect("no PUBLISH line");
    assert_eq!(publ.addr, "127.0.0.2", "{}", publ.raw);
    assert_eq!(publ.app, "live");
    assert_eq!(publ.name, "alog");
    assert_eq!(publ.args, "k=v&x=1");
    assert_eq!(publ.flashver, "WIN 23,0,0,207");
    assert!(
        publ.bytes_in >= 5 * payload.len() as u64,
        "publisher bytes_received {}",
        publ.bytes_in
    );

    let play = lines
        .iter()
        .find(|l| l.command == "PLAY")
        .expect("no PLAY line");
    assert_eq!(play.addr, "127.0.0.1", "{}", play.raw);
    assert_eq!(play.app, "live");
    assert_eq!(play.name, "alog");
    assert_eq!(play.args, "");
    assert!(
        play.bytes_out >= 5 * payload.len() as u64,
        "player bytes_sent {}",
        play.bytes_out
    );
    ng.assert_no_alerts();
}
