//! The per-connection limits of docs/security.md that no other test file drives end to end:
//! `max_streams` (chunk streams in flight and `createStream` calls), the AMF0 nesting depth,
//! the memory a connection can hold with partial messages, and the mode of the workers'
//! unix sockets. Each offender is closed with an `error` line, the worker survives, and a
//! real publisher and player keep working.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

fn rss_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The server still serves: a short ffmpeg publish reaches an ffmpeg player.
fn assert_serves(ng: &Nginx) {
    let url = ng.rtmp_url("live", "fine");
    let player = spawn_ffmpeg_player(&url, 2.0);
    std::thread::sleep(Duration::from_millis(500));
    let out = publish_ffmpeg(&url, 3).wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "publisher: {}", out.stderr);
    let r = finish_play(player, Duration::from_secs(30));
    assert!(r.video_frames >= 40, "player got {} frames", r.video_frames);
}

fn error_line(ng: &Nginx, needle: &str) -> bool {
    ng.error_log()
        .lines()
        .any(|l| l.contains("[error]") && l.contains(needle))
}

/// `max_streams 8` (ffmpeg alone uses 5 chunk streams): a ninth chunk stream, or a ninth
/// createStream, closes the connection.
#[test]
fn max_streams_bounds_chunk_streams_and_create_stream() {
    let ng = Nginx::start(
        "server {\n listen 127.0.0.1:{rtmp_port};\n max_streams 8;\n\
         application live { live on; }\n}",
    );
    let worker = ng.worker_pids();

    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    // Chunk stream 3 carried the connect; the first chunk of a 1000-byte video message on
    // chunk streams 10, 11, ... adds one each.
    for csid in 10..20u32 {
        let chunks = message_chunks(csid, 0, 9, 1, &[0x17; 1000], 128);
        if c.send_chunks(&chunks[..1]).is_err() {
            break;
        }
    }
    assert!(c.wait_closed(Duration::from_secs(5)), "not closed");
    assert!(error_line(&ng, "peer uses more than 8 chunk streams"));

    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    for i in 0..8 {
        c.create_stream()
            .unwrap_or_else(|e| panic!("createStream {i}: {e:?}"));
    }
    let _ = c.command(0, "createStream", 9.0, rml_amf0::Amf0Value::Null, &[]);
    assert!(c.wait_closed(Duration::from_secs(5)), "not closed");
    assert!(error_line(&ng, "more than 8 createStream calls"));

    assert_serves(&ng);
    assert_eq!(ng.worker_pids(), worker);
    ng.assert_no_alerts();
}

/// An AMF0 command nested deeper than 32 levels is refused before it is decoded (no deep
/// recursion on the worker's stack), and the connection is closed.
#[test]
fn deep_amf_nesting_is_refused() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let worker = ng.worker_pids();
    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    // connect, 1.0, then 10,000 nested objects {"a": {"a": ...
    let mut p = amf(&[s("connect"), n(1.0)]);
    for _ in 0..10_000 {
        p.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
    }
    let _ = c.set_chunk_size(65536);
    let _ = c.send_msg(3, 0, 20, 0, &p);
    assert!(c.wait_closed(Duration::from_secs(5)), "not closed");
    assert!(error_line(&ng, "broken AMF0"), "{}", ng.error_log_tail(10));
    assert_serves(&ng);
    assert_eq!(ng.worker_pids(), worker);
    ng.assert_no_alerts();
}

/// What one connection can make the worker hold with messages it never finishes: at most
/// max_streams partial messages of at most max_message bytes, and only as many bytes as it
/// really sent. Here 8 chunk streams of 1 MB messages, each sent but its last chunk: about
/// 7.5 MB held.
#[test]
fn partial_messages_hold_what_was_sent_and_no_more() {
    let ng = Nginx::start(
        "server {\n listen 127.0.0.1:{rtmp_port};\n max_streams 10;\n max_message 1M;\n\
         application live { live on; }\n}",
    );
    let worker = ng.worker_pids()[0];
    let before = rss_kb(worker);
    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    c.rtmp_connect("live").expect("connect");
    c.set_chunk_size(65536).unwrap();
    let len = (1 << 20) - 64;
    let body = vec![0x27u8; len];
    for csid in 10..18u32 {
        let chunks = message_chunks(csid, 0, 9, 1, &body, 65536);
        c.send_chunks(&chunks[..chunks.len() - 1]).expect("send");
    }
    std::thread::sleep(Duration::from_millis(500));
    let held = rss_kb(worker).saturating_sub(before);
    eprintln!("8 partial 1 MB messages: worker RSS +{held} KB");
    // 7.5 MB arrived; the partial buffers grow by doubling from 64 KB, so at most 2x that.
    assert!((6 * 1024..=16 * 1024).contains(&held), "+{held} KB");
    // Chunk streams 2 and 3 carried Set Chunk Size and connect: an eleventh passes
    // max_streams, and the connection is closed.
    let _ = c.send_chunks(&message_chunks(18, 0, 9, 1, &body, 65536)[..1]);
    assert!(c.wait_closed(Duration::from_secs(5)), "not closed");
    assert!(error_line(&ng, "peer uses more than 10 chunk streams"));
    assert_serves(&ng);
    ng.assert_no_alerts();
}

/// The workers' relay sockets (`rtmp_auto_push`) are mode 0600, owned by the workers' user:
/// a relay from a worker skips the access rules, so no other local user may connect.
#[test]
fn worker_sockets_are_private() {
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = 2;
    opts.main_extra = "rtmp_auto_push on;\nrtmp_socket_dir {tmp};\n".into();
    let ng = Nginx::start_opts(opts);
    let sockets = wait_for(Duration::from_secs(10), || {
        let v: Vec<_> = std::fs::read_dir(&ng.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("ngx-rtmp."))
            .collect();
        (v.len() == 2).then_some(v)
    })
    .expect("two worker sockets");
    for e in sockets {
        let m = e.metadata().unwrap();
        let worker_uid = std::fs::metadata(format!("/proc/{}", ng.worker_pids()[0]))
            .unwrap()
            .uid();
        eprintln!(
            "{:?}: mode {:o}, uid {}",
            e.file_name(),
            m.permissions().mode(),
            m.uid()
        );
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        assert_eq!(m.uid(), worker_uid);
    }
    ng.assert_no_alerts();
}

/// Strings a client chooses (flashVer, tcUrl, the query after a stream name) reach the error
/// log and the access log with their control characters escaped, so a client cannot write a
/// line of its own into either (a forged `[alert]`, say).
#[test]
fn client_strings_cannot_forge_log_lines() {
    const FORGED: &str = "2001/01/01 00:00:00 [alert] 1#1: forged";
    let ng = Nginx::start(
        "server {\n listen 127.0.0.1:{rtmp_port};\n access_log {tmp}/rtmp_access.log;\n\
         application live { live on; }\n}",
    );
    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    c.command(
        0,
        "connect",
        1.0,
        obj(&[
            ("app", s("live")),
            ("flashVer", s(&format!("FMLE/3.0\n{FORGED}\r"))),
            ("tcUrl", s(&format!("rtmp://h/live\n{FORGED}"))),
            ("pageUrl", s(&format!("p\"\n{FORGED}"))),
        ]),
        &[],
    )
    .unwrap();
    let id = c.create_stream().expect("createStream");
    c.publish(id, &format!("x?k=\n{FORGED}\n"))
        .expect("publish");
    drop(c);
    let logged = wait_for(Duration::from_secs(5), || {
        let a = std::fs::read_to_string(ng.file("rtmp_access.log")).unwrap_or_default();
        (!a.is_empty()).then_some(a)
    })
    .expect("no access log line");
    let error_log = ng.error_log();
    for (name, text) in [("error.log", &error_log), ("access log", &logged)] {
        let forged: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("2001/") || l.contains("\r"))
            .collect();
        assert!(forged.is_empty(), "{name} has forged lines: {forged:?}");
        assert!(
            text.contains("\\x0A2001/01/01"),
            "{name} does not show the escape:\n{text}"
        );
    }
    eprintln!("access log: {logged}");
    assert_eq!(logged.lines().count(), 1, "{logged}");
    // The forged text is there, escaped, inside the client's own line; no line is an alert.
    let alert = regex::Regex::new(r"^\S+ \S+ \[alert\]").unwrap();
    assert!(!error_log.lines().any(|l| alert.is_match(l)), "{error_log}");
}
