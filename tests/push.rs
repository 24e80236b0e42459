//! Push relays between real nginx instances running the module: `push` to another server
//! and to another application of the same server, a target that restarts or never answers,
//! the relay ending with its publisher, and targets added and removed with /control/push.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::stat::*;
use ngx_rtmp_tests::*;
use std::net::TcpListener;
use std::time::{Duration, Instant};

const CONTROL: &str = "location /control { rtmp_control all; }";

fn start(rtmp: &str, port: Option<u16>) -> Nginx {
    let mut opts = NginxOpts::new(rtmp);
    opts.http_server_extra = format!("{STAT_LOCATION}\n{CONTROL}");
    opts.rtmp_port = port;
    Nginx::start_opts(opts)
}

/// B: `application app { live on; }`.
fn target(port: Option<u16>) -> Nginx {
    start(&simple_rtmp("app", "live on;"), port)
}

/// A: `application live { live on; <extra> }`.
fn source(extra: &str) -> Nginx {
    start(&simple_rtmp("live", &format!("live on;\n{extra}")), None)
}

fn control(ng: &Nginx, path_query: &str) -> (u16, String) {
    http_get(
        &ng.http_url(&format!("/control/{path_query}")),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("/control/{path_query}: {e}"))
}

fn count_lines(ng: &Nginx, needle: &str) -> usize {
    ng.error_log()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// (a) A pushes live/x to B's app: a player on B decodes the stream; on A the relay is not a
/// client in /stat; B sees it as a publisher that introduces itself as ngx-rtmp.
#[test]
fn push_to_another_server() {
    let b = target(None);
    let a = source(&format!("push rtmp://127.0.0.1:{}/app;", b.rtmp_port));
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 30);
    let took = wait_publishing(&b, "app", "x", Duration::from_secs(15));
    eprintln!("the relay publishes on B after {took:?} (from ffmpeg's start)");
    assert!(took.is_some(), "no stream on B:\n{}", a.error_log_tail(30));
    let r = play_count_frames(&b.rtmp_url("app", "x"), 8.0);
    assert_decoded("player on B", &r, 8.0);

    let on_a = stat_stream(&a, "live", "x").expect("x on A");
    assert_eq!(
        on_a["nclients"], 1,
        "the relay counts as a client on A: {on_a}"
    );
    let on_b = stat_stream(&b, "app", "x").expect("x on B");
    let relay = &on_b["clients"][0];
    assert_eq!(relay["publishing"], true, "{on_b}");
    assert_eq!(
        relay["flashver"], "FMLE/3.0 (compatible; ngx-rtmp)",
        "{on_b}"
    );
    assert_eq!(on_b["meta"]["video"]["codec"], "H264", "{on_b}");
    // What the relay sent counts in A's server totals (it has no other output): about what
    // B's stream received, chunk headers added. Snapshots are up to a second apart.
    let received = on_b["bytes_in"].as_u64().unwrap_or(0);
    let sent = stat_json(&a)["bytes_out"].as_u64().unwrap_or(0);
    eprintln!("A sent {sent} bytes, B's stream received {received} payload bytes");
    assert!(received > 0 && sent as f64 > 0.7 * received as f64);
    assert_eq!(count_lines(&a, "relay: push publishing"), 1);
    assert_eq!(
        count_lines(&a, "relay: push failed"),
        0,
        "{}",
        a.error_log()
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// (b) The target goes away and comes back on the same port: the relay reconnects and a new
/// player on B gets video, while a player on A never stops.
#[test]
fn target_restart_is_reconnected() {
    let b = target(None);
    let port = b.rtmp_port;
    let a = source(&format!("push rtmp://127.0.0.1:{port}/app;"));
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 60);
    assert!(wait_publishing(&b, "app", "x", Duration::from_secs(15)).is_some());
    let player_a = spawn_ffmpeg_player(&a.rtmp_url("live", "x"), 16.0);
    std::thread::sleep(Duration::from_secs(2));

    // A hard stop: nginx closes every connection at once on SIGTERM.
    signal(b.master_pid(), libc::SIGTERM);
    let gone = wait_for(Duration::from_secs(10), || {
        (!port_listening(port)).then_some(())
    });
    assert!(gone.is_some(), "B did not stop");
    let t0 = Instant::now();
    drop(b);
    let b = target(Some(port));
    eprintln!("B back on port {port} after {:?}", t0.elapsed());
    let back = wait_publishing(&b, "app", "x", Duration::from_secs(20));
    eprintln!("the relay publishes on the new B after {back:?}");
    assert!(back.is_some(), "no reconnect:\n{}", a.error_log_tail(30));
    let r = play_count_frames(&b.rtmp_url("app", "x"), 4.0);
    assert_decoded("player on the new B", &r, 4.0);

    let r = finish_play(player_a, Duration::from_secs(60));
    assert_decoded("player on A through the restart", &r, 16.0);
    assert!(count_lines(&a, "relay: push failed") >= 1);
    assert!(
        count_lines(&a, "relay: push reconnects in 3000 ms") >= 1,
        "{}",
        a.error_log()
    );
    assert_eq!(
        count_lines(&a, "relay: push publishing"),
        2,
        "{}",
        a.error_log()
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// (c) When the publisher on A stops, the relay's session on B ends within 2 s.
#[test]
fn unpublish_ends_the_relay() {
    let b = target(None);
    let a = source(&format!("push rtmp://127.0.0.1:{}/app;", b.rtmp_port));
    let publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 5);
    assert!(wait_publishing(&b, "app", "x", Duration::from_secs(15)).is_some());
    let out = publisher.wait_bounded(Duration::from_secs(30));
    let t0 = Instant::now();
    assert!(out.success(), "ffmpeg: {}", out.stderr);
    let ended = wait_for(Duration::from_secs(5), || {
        b.error_log()
            .contains("rtmp: unpublish \"x\"")
            .then(|| t0.elapsed())
    });
    eprintln!("relay session on B ended {ended:?} after the publisher on A");
    assert!(
        ended.is_some_and(|d| d < Duration::from_secs(2)),
        "B still has the relay: {ended:?}\n{}",
        b.error_log_tail(20)
    );
    let closed = wait_for(Duration::from_secs(5), || {
        stat_stream(&b, "app", "x").is_none().then_some(())
    });
    assert!(closed.is_some(), "x is still on B's /stat");
    assert!(a
        .error_log()
        .contains("relay: push stopped: the publisher left"));
    assert_eq!(count_lines(&a, "relay: push failed"), 0);
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// (d) /control/push/start adds a target to a running stream (no re-publish) and a player
/// there gets video; /control/push/stop removes it.
#[test]
fn control_adds_and_removes_targets() {
    let b = target(None);
    let a = source("");
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 40);
    assert!(wait_publishing(&a, "live", "x", Duration::from_secs(15)).is_some());
    let url = format!("rtmp://127.0.0.1:{}/app", b.rtmp_port);
    let start = format!("push/start?app=live&name=x&url={url}");
    let stop = format!("push/stop?app=live&name=x&url={url}");
    assert_eq!(control(&a, &start), (200, "1".into()));
    // Already pushing there: nothing more to start.
    assert_eq!(control(&a, &start), (200, "0".into()));
    assert_eq!(
        control(&a, &format!("push/start?app=live&name=nobody&url={url}")),
        (200, "0".into())
    );
    let took = wait_publishing(&b, "app", "x", Duration::from_secs(10));
    eprintln!("pushed on B {took:?} after push/start");
    assert!(took.is_some(), "{}", a.error_log_tail(20));
    let r = play_count_frames(&b.rtmp_url("app", "x"), 4.0);
    assert_decoded("player on the added target", &r, 4.0);

    let t0 = Instant::now();
    assert_eq!(control(&a, &stop), (200, "1".into()));
    let gone = wait_for(Duration::from_secs(5), || {
        b.error_log()
            .contains("rtmp: unpublish \"x\"")
            .then(|| t0.elapsed())
    });
    eprintln!("relay ended on B {gone:?} after push/stop");
    assert!(gone.is_some());
    assert_eq!(control(&a, &stop), (200, "0".into()));
    // The publisher on A never noticed.
    assert!(stat_stream(&a, "live", "x").is_some_and(|s| s["publishing"] == true));
    assert_eq!(count_lines(&a, "relay: push failed"), 0);
    // Bad requests get a reason.
    let (status, body) = control(&a, "push/start?app=live&name=x");
    assert_eq!(status, 400, "{body}");
    let (status, body) = control(&a, "push/start?app=live&name=x&url=rtmp://h:0/app");
    assert_eq!(
        (status, body.trim()),
        (400, "invalid port in url \"h:0/app\"")
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// (e) `push` to another application of the same server works, and the receiving
/// application's own `push` back does not loop.
#[test]
fn push_to_another_application_without_loops() {
    let rtmp = "server {\n\
        listen 127.0.0.1:{rtmp_port};\n\
        application live { live on; push rtmp://127.0.0.1:{rtmp_port}/facebook; }\n\
        application facebook { live on; push rtmp://127.0.0.1:{rtmp_port}/live; }\n\
        }";
    let ng = start(rtmp, None);
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "x"), 30);
    assert!(wait_publishing(&ng, "facebook", "x", Duration::from_secs(15)).is_some());
    let r = play_count_frames(&ng.rtmp_url("facebook", "x"), 5.0);
    assert_decoded("player on facebook/x", &r, 5.0);
    let log = ng.error_log();
    assert!(
        log.contains("relay: \"x\" comes from this server's own push, not pushed again"),
        "{log}"
    );
    assert_eq!(count_lines(&ng, "relay: push started"), 1, "{log}");
    assert_eq!(count_lines(&ng, "relay: push failed"), 0, "{log}");
    assert_eq!(count_lines(&ng, "already publishing"), 0, "{log}");
    ng.assert_no_alerts();
}

/// (f) A target that accepts TCP and never answers the handshake: the relay gives up after
/// `timeout`, logs it, tries again, and local players never notice.
#[test]
fn silent_target_times_out_and_retries() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    silent.set_nonblocking(true).unwrap();
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         timeout 2s;\n\
         application live {{ live on; push rtmp://127.0.0.1:{port}/app; push_reconnect 1s; }}\n\
         }}"
    );
    let ng = start(&rtmp, None);
    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "x"), 30);
    let player = spawn_ffmpeg_player(&ng.rtmp_url("live", "x"), 10.0);
    // Hold every connection open without a byte of answer.
    let mut held = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(9) {
        if let Ok((s, _)) = silent.accept() {
            eprintln!(
                "silent target: connection {} at {:?}",
                held.len() + 1,
                t0.elapsed()
            );
            held.push(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = finish_play(player, Duration::from_secs(40));
    assert_decoded("local player", &r, 10.0);
    let timeouts = count_lines(&ng, "did not start the publish within 2000 ms");
    eprintln!("{} connections, {timeouts} timeouts", held.len());
    assert!(held.len() >= 2, "no reconnect: {}", ng.error_log_tail(20));
    assert!(timeouts >= 1, "{}", ng.error_log_tail(20));
    assert!(count_lines(&ng, "relay: push reconnects in 1000 ms") >= 1);
    ng.assert_no_alerts();
}

/// `allow`/`deny` apply to a relay as to any client: a target that denies publishing
/// refuses it, the source keeps retrying with backoff, and its own players are unaffected.
#[test]
fn target_access_rules_apply_to_relays() {
    let b = start(
        &simple_rtmp("app", "live on; allow publish 10.0.0.1; deny publish all;"),
        None,
    );
    let a = source(&format!(
        "push rtmp://127.0.0.1:{}/app; push_reconnect 500ms;",
        b.rtmp_port
    ));
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 30);
    let r = play_count_frames(&a.rtmp_url("live", "x"), 4.0);
    assert_decoded("local player", &r, 4.0);
    assert!(count_lines(&b, "access forbidden by rule: publish \"x\"") >= 2);
    assert!(stat_stream(&b, "app", "x").is_none());
    let log = a.error_log();
    assert!(log.contains("relay: push failed"), "{log}");
    // 500 ms, then doubling.
    assert!(log.contains("reconnects in 500 ms") && log.contains("reconnects in 1000 ms"));
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// A target that stops reading (its worker is frozen with SIGSTOP): the relay's queue is
/// bounded like a slow player's, the relay gives up (send timeout or overflow) and retries,
/// and a player on A never stalls. Once the target thaws, the relay publishes there again.
#[test]
fn frozen_target_never_stalls_the_source() {
    let b = target(None);
    let rtmp = format!(
        "server {{\n\
         listen 127.0.0.1:{{rtmp_port}};\n\
         timeout 3s;\n\
         application live {{ live on; push rtmp://127.0.0.1:{}/app; }}\n\
         }}",
        b.rtmp_port
    );
    let a = start(&rtmp, None);
    // Lossless H.264: megabytes a second, so socket buffers fill within seconds.
    let _publisher = publish_ffmpeg_with(
        &a.rtmp_url("live", "x"),
        60,
        "testsrc2=size=640x360:rate=25",
        &["-g", "25", "-qp", "0"],
    );
    assert!(wait_publishing(&b, "app", "x", Duration::from_secs(15)).is_some());
    let player = spawn_ffmpeg_player(&a.rtmp_url("live", "x"), 20.0);
    let workers = b.worker_pids();
    for &w in &workers {
        signal(w, libc::SIGSTOP);
    }
    let t0 = Instant::now();
    let gave_up = wait_for(Duration::from_secs(30), || {
        let log = a.error_log();
        (log.contains("relay: push failed: send timed out")
            || log.contains("relay: push failed: player too slow"))
        .then(|| t0.elapsed())
    });
    eprintln!("the relay gave up on the frozen target after {gave_up:?}");
    std::thread::sleep(Duration::from_secs(2));
    for &w in &workers {
        signal(w, libc::SIGCONT);
    }
    assert!(gave_up.is_some(), "{}", a.error_log_tail(30));
    let again = wait_for(Duration::from_secs(30), || {
        (count_lines(&a, "relay: push publishing") >= 2).then(|| t0.elapsed())
    });
    eprintln!("publishing again {again:?} after the freeze");
    assert!(again.is_some(), "{}", a.error_log_tail(30));
    let r = finish_play(player, Duration::from_secs(60));
    assert_decoded("player on A while the target froze", &r, 20.0);
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// Another implementation as the target: ffmpeg's own RTMP server (`-listen 1`) receives the
/// push and writes what it gets to a file that decodes from its first frame.
#[test]
fn push_to_ffmpeg_as_the_server() {
    let port = free_port();
    let dir = temp_dir("push-ffmpeg");
    let out = dir.join("got.flv");
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "info"])
        .args(["-listen", "1", "-rw_timeout", "20000000", "-i"])
        .arg(format!("rtmp://127.0.0.1:{port}/app/x"))
        .args(["-t", "6", "-c", "copy", "-y"])
        .arg(&out);
    let server = ngx_rtmp_tests::proc::ChildGuard::spawn(cmd);
    assert!(wait_for(Duration::from_secs(10), || port_listening(port)
        .then_some(()))
    .is_some());
    let a = source(&format!("push rtmp://127.0.0.1:{port}/app;"));
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 30);
    let o = server.wait_bounded(Duration::from_secs(40));
    eprintln!("ffmpeg server: {:?}\n{}", o.status, o.stderr);
    let log = a.error_log();
    let ready: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("push publishing"))
        .collect();
    eprintln!("{ready:?}");
    assert!(!ready.is_empty(), "{log}");
    let f = check_file(&out);
    eprintln!("{f:?}");
    assert_eq!(f.video_codec.as_deref(), Some("h264"));
    assert_eq!(f.audio_codec.as_deref(), Some("aac"));
    assert!(f.starts_with_keyframe && f.video_frames >= 120, "{f:?}");
    assert!(f.decode_errors.is_empty(), "{}", f.decode_errors);
    a.assert_no_alerts();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the scripted target below saw.
#[derive(Debug, Default)]
struct Seen {
    connect_app: String,
    publish: Option<(String, u32)>,
    /// (type id, message stream id) of every audio, video and data message after publish.
    media: Vec<(u8, u32)>,
}

/// A target written out message by message with rml_rtmp (an implementation independent of
/// ours) that answers `createStream` with stream id 7, then records what arrives for `secs`.
fn scripted_target(listener: TcpListener, secs: u64) -> std::thread::JoinHandle<Seen> {
    use ngx_rtmp_tests::rtmp::{amf, message_chunks, n, obj, s};
    use rml_rtmp::chunk_io::ChunkDeserializer;
    use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
    use rml_rtmp::messages::RtmpMessage;
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut hs = Handshake::new(PeerType::Server);
        let mut de = ChunkDeserializer::new();
        let mut seen = Seen::default();
        let mut buf = vec![0u8; 65536];
        let mut handshaken = false;
        let t0 = Instant::now();
        let reply = |sock: &mut std::net::TcpStream, msid: u32, v: Vec<rml_amf0::Amf0Value>| {
            for c in message_chunks(3, 0, 20, msid, &amf(&v), 128) {
                sock.write_all(&c).unwrap();
            }
        };
        while t0.elapsed() < Duration::from_secs(secs) {
            let got = match sock.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(_) => continue,
            };
            let mut rest = buf[..got].to_vec();
            if !handshaken {
                match hs.process_bytes(&rest).unwrap() {
                    HandshakeProcessResult::InProgress { response_bytes } => {
                        sock.write_all(&response_bytes).unwrap();
                        continue;
                    }
                    HandshakeProcessResult::Completed {
                        response_bytes,
                        remaining_bytes,
                    } => {
                        sock.write_all(&response_bytes).unwrap();
                        handshaken = true;
                        rest = remaining_bytes;
                    }
                }
            }
            let mut input = &rest[..];
            while let Some(p) = de.get_next_message(input).unwrap() {
                input = &[];
                let msid = p.message_stream_id;
                let type_id = p.type_id;
                match p.to_rtmp_message().unwrap() {
                    RtmpMessage::SetChunkSize { size } => {
                        de.set_max_chunk_size(size as usize).unwrap();
                    }
                    RtmpMessage::Amf0Command {
                        command_name,
                        transaction_id,
                        command_object,
                        additional_arguments,
                    } => match command_name.as_str() {
                        "connect" => {
                            if let rml_amf0::Amf0Value::Object(o) = &command_object {
                                if let Some(rml_amf0::Amf0Value::Utf8String(a)) = o.get("app") {
                                    seen.connect_app = a.clone();
                                }
                            }
                            let info = obj(&[
                                ("level", s("status")),
                                ("code", s("NetConnection.Connect.Success")),
                            ]);
                            let v = vec![s("_result"), n(transaction_id), obj(&[]), info];
                            reply(&mut sock, 0, v);
                        }
                        "createStream" => {
                            let v = vec![
                                s("_result"),
                                n(transaction_id),
                                rml_amf0::Amf0Value::Null,
                                n(7.0),
                            ];
                            reply(&mut sock, 0, v);
                        }
                        "publish" => {
                            let name = match additional_arguments.first() {
                                Some(rml_amf0::Amf0Value::Utf8String(x)) => x.clone(),
                                _ => String::new(),
                            };
                            seen.publish = Some((name, msid));
                            let info = obj(&[
                                ("level", s("status")),
                                ("code", s("NetStream.Publish.Start")),
                            ]);
                            let v = vec![s("onStatus"), n(0.0), rml_amf0::Amf0Value::Null, info];
                            reply(&mut sock, 7, v);
                        }
                        _ => {}
                    },
                    _ if matches!(type_id, 8 | 9 | 18) => seen.media.push((type_id, msid)),
                    _ => {}
                }
            }
        }
        seen
    })
}

/// A server that answers `createStream` with another stream id than 1 gets every message on
/// that id: the relay's copies of the shared messages are patched.
#[test]
fn another_stream_id_reaches_the_target_on_every_message() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = scripted_target(listener, 6);
    let a = source(&format!("push rtmp://127.0.0.1:{port}/in/key;"));
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 30);
    let seen = target.join().unwrap();
    let video = seen.media.iter().filter(|m| m.0 == 9).count();
    let audio = seen.media.iter().filter(|m| m.0 == 8).count();
    let data = seen.media.iter().filter(|m| m.0 == 18).count();
    eprintln!(
        "app {:?}, publish {:?}: {video} video, {audio} audio, {data} data messages",
        seen.connect_app, seen.publish
    );
    assert_eq!(seen.connect_app, "in");
    assert_eq!(seen.publish, Some(("key".to_string(), 7)));
    assert!(video >= 75 && audio >= 100 && data >= 1, "{seen:?}");
    let wrong: Vec<_> = seen.media.iter().filter(|m| m.1 != 7).collect();
    assert!(wrong.is_empty(), "messages on another stream: {wrong:?}");
    assert!(a
        .error_log()
        .contains("relay: push publishing (message stream 7)"));
    a.assert_no_alerts();
}
