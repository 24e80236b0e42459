//! allow/deny publish|play by address, CIDR, `all`, IPv6.

use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const LO1: &str = "127.0.0.1";
const LO2: &str = "127.0.0.2";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// What happened to a publish or play attempt, in words the assertions compare.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    /// The server closed the connection right after the publish/play command. The C module
    /// answers an access rule this way: it logs "access forbidden by rule" at [error] and
    /// closes the session (after having sent NetStream.Publish.Start / NetStream.Play.Start,
    /// because its live handler runs before its access handler; we do not require that
    /// quirk, only the close).
    Dropped,
    Status(String),
    Other(String),
}

fn outcome(r: Result<(), ClientError>) -> Outcome {
    match r {
        Ok(()) => Outcome::Ok,
        Err(ClientError::Closed) => Outcome::Dropped,
        Err(ClientError::Refused(Event::Status { code, .. })) => Outcome::Status(code),
        Err(e) => Outcome::Other(format!("{:?}", e)),
    }
}

fn try_publish(addr: SocketAddr, from: &str, name: &str) -> (Outcome, Option<RtmpClient>) {
    match RtmpClient::connect_from(addr, "live", Some(ip(from))) {
        Err(e) => (outcome(Err(e)), None),
        Ok(mut c) => {
            let r = c.publish(name);
            let mut o = outcome(r);
            if o == Outcome::Ok {
                // Accepted only if the session then stays up while it sends.
                let _ = c.send_video(0, &[0x17, 0x00, 0, 0, 0, 1, 2, 3]);
                if c.closed_within(Duration::from_millis(1500)) {
                    o = Outcome::Dropped;
                }
            }
            (o, Some(c))
        }
    }
}

fn try_play(addr: SocketAddr, from: &str, name: &str) -> (Outcome, Option<RtmpClient>) {
    match RtmpClient::connect_from(addr, "live", Some(ip(from))) {
        Err(e) => (outcome(Err(e)), None),
        Ok(mut c) => {
            let mut o = outcome(c.play(name).map(|_| ()));
            if o == Outcome::Ok && c.closed_within(Duration::from_millis(1500)) {
                o = Outcome::Dropped;
            }
            (o, Some(c))
        }
    }
}

fn assert_refused(o: &Outcome, what: &str) {
    // The C module closes the session (see Outcome::Dropped).
    assert_eq!(
        o,
        &Outcome::Dropped,
        "{} must be refused (connection closed)",
        what
    );
}

fn app(rules: &str) -> String {
    simple_rtmp("live", &format!("live on;\n{}", rules))
}

#[test]
fn publish_allowed_only_from_listed_address() {
    let ng = Nginx::start(&app("allow publish 127.0.0.1;\ndeny publish all;"));
    let addr = ng.rtmp_addr();
    let (o2, _c2) = try_publish(addr, LO2, "a");
    eprintln!("publish from 127.0.0.2: {:?}", o2);
    assert_refused(&o2, "publish from 127.0.0.2");
    let (o1, _c1) = try_publish(addr, LO1, "a");
    assert_eq!(o1, Outcome::Ok, "publish from 127.0.0.1");
    // Play is not restricted.
    let (p2, _) = try_play(addr, LO2, "a");
    assert_eq!(p2, Outcome::Ok, "play from 127.0.0.2 (no play rules)");
    let log = ng.error_log();
    assert!(
        log.contains("access forbidden by rule"),
        "error.log has no line for the refused session"
    );
    ng.assert_no_alerts();
}

#[test]
fn play_allowed_only_from_listed_address() {
    let ng = Nginx::start(&app("allow play 127.0.0.1;\ndeny play all;"));
    let addr = ng.rtmp_addr();
    let (pub_o, _p) = try_publish(addr, LO2, "b");
    assert_eq!(pub_o, Outcome::Ok, "publish is not restricted");
    let (o2, _c2) = try_play(addr, LO2, "b");
    eprintln!("play from 127.0.0.2: {:?}", o2);
    assert_refused(&o2, "play from 127.0.0.2");
    let (o1, _c1) = try_play(addr, LO1, "b");
    assert_eq!(o1, Outcome::Ok, "play from 127.0.0.1");
    ng.assert_no_alerts();
}

#[test]
fn cidr_and_all_rules() {
    // 127.0.0.0/31 = .0 and .1 only; first match wins.
    let ng = Nginx::start(&app(
        "allow publish 127.0.0.0/31;\ndeny publish all;\ndeny play 127.0.0.2/32;\nallow play all;",
    ));
    let addr = ng.rtmp_addr();
    let (o, _a) = try_publish(addr, LO2, "c");
    assert_refused(&o, "publish from 127.0.0.2 outside 127.0.0.0/31");
    let (o, _b) = try_publish(addr, LO1, "c");
    assert_eq!(o, Outcome::Ok, "publish from 127.0.0.1 inside 127.0.0.0/31");
    let (o, _c) = try_play(addr, LO2, "c");
    assert_refused(&o, "play from 127.0.0.2 (deny 127.0.0.2/32)");
    let (o, _d) = try_play(addr, LO1, "c");
    assert_eq!(o, Outcome::Ok, "play from 127.0.0.1 (allow all)");
    drop(ng);

    let ng = Nginx::start(&app("deny publish all;\ndeny play all;"));
    let addr = ng.rtmp_addr();
    let (o, _a) = try_publish(addr, LO1, "d");
    assert_refused(&o, "publish with deny publish all");
    let (o, _b) = try_play(addr, LO1, "d");
    assert_refused(&o, "play with deny play all");
    ng.assert_no_alerts();
}

#[test]
fn ipv6_listen_and_rules() {
    if !have_ipv6_loopback() {
        eprintln!("SKIPPED: no IPv6 loopback on this machine ([::1] cannot be bound)");
        return;
    }
    let ng = Nginx::start(
        "server {\n listen 127.0.0.1:{rtmp_port};\n listen [::1]:{rtmp_port};\n \
         application live {\n live on;\n allow publish ::1;\n deny publish all;\n \
         allow play ::1;\n deny play all;\n }\n}\n",
    );
    let v6: SocketAddr = format!("[::1]:{}", ng.rtmp_port).parse().unwrap();
    let v4 = ng.rtmp_addr();
    let (o, _a) = try_publish(v4, LO1, "six");
    assert_refused(&o, "publish over IPv4 with allow publish ::1 only");
    let (o, _b) = try_publish(v6, "::1", "six");
    assert_eq!(o, Outcome::Ok, "publish from ::1");
    let (o, _c) = try_play(v4, LO1, "six");
    assert_refused(&o, "play over IPv4 with allow play ::1 only");
    let (o, mut player) = try_play(v6, "::1", "six");
    assert_eq!(o, Outcome::Ok, "play from ::1");
    // Media flows over IPv6.
    let mut publisher = _b.unwrap();
    for i in 0..5u32 {
        publisher
            .send_video(i * 40, &[0x17, 1, 0, 0, 0, i as u8, 9, 9])
            .unwrap();
    }
    let got = player
        .as_mut()
        .unwrap()
        .collect_media(3, Duration::from_secs(5));
    assert!(
        got.iter().any(|e| matches!(e, Event::Video { .. })),
        "no media over IPv6: {:?}",
        got
    );
    ng.assert_no_alerts();
}
