//! HTTP hooks (`on_connect`, `on_publish`, `on_play`, the done hooks, `on_record_done`,
//! `on_update`) against an HTTP server of the test's own that records every request and
//! answers per scenario, and host names resolved through `resolver` by a DNS server of the
//! test's own. Publishers and players are ffmpeg and the test's RTMP client.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The hook server

/// One request the hook server received.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    path: String,
    /// The fields of the body (POST) or of the query string (GET), decoded.
    form: HashMap<String, String>,
    content_type: Option<String>,
    host: Option<String>,
}

impl Hit {
    fn field(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
    }
    fn call(&self) -> &str {
        self.field("call")
    }
}

/// How the hook server answers a request.
#[derive(Clone)]
enum Reply {
    Status(u16),
    Redirect(u16, String),
    /// Read the request, answer nothing, keep the connection open.
    Hang,
    /// Answer once `release` is set.
    After(Arc<AtomicBool>, u16),
}

type Policy = Arc<dyn Fn(&Hit) -> Reply + Send + Sync>;

struct HookServer {
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Reads one HTTP request (head and Content-Length body), bounded in size and time.
fn read_request(s: &mut TcpStream) -> Option<Hit> {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let mut headers = HashMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len.min(1 << 20) {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let form = if method == "POST" {
        parse_form(&body)
    } else {
        parse_form(query)
    };
    Some(Hit {
        method,
        path: path.to_string(),
        form,
        content_type: headers.get("content-type").cloned(),
        host: headers.get("host").cloned(),
    })
}

fn answer(s: &mut TcpStream, status: u16, location: Option<&str>) {
    let loc = location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let _ = write!(
        s,
        "HTTP/1.1 {status} X\r\n{loc}Content-Length: 2\r\nConnection: close\r\n\r\nok"
    );
}

impl HookServer {
    fn start(policy: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> HookServer {
        let policy: Policy = Arc::new(policy);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (hits.clone(), stop.clone());
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            while !st.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let (h, st, policy) = (h.clone(), st.clone(), policy.clone());
                        thread::spawn(move || {
                            s.set_nonblocking(false).ok();
                            let Some(hit) = read_request(&mut s) else {
                                return;
                            };
                            let reply = policy(&hit);
                            h.lock().unwrap().push(hit);
                            match reply {
                                Reply::Status(code) => answer(&mut s, code, None),
                                Reply::Redirect(code, l) => answer(&mut s, code, Some(&l)),
                                Reply::Hang => {
                                    let end = Instant::now() + Duration::from_secs(60);
                                    while !st.load(Ordering::SeqCst) && Instant::now() < end {
                                        thread::sleep(Duration::from_millis(50));
                                    }
                                }
                                Reply::After(release, code) => {
                                    let end = Instant::now() + Duration::from_secs(60);
                                    while !release.load(Ordering::SeqCst) && Instant::now() < end {
                                        thread::sleep(Duration::from_millis(20));
                                    }
                                    answer(&mut s, code, None);
                                }
                            }
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        HookServer { port, hits, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits for a request with `call=`, returns it.
    fn wait_call(&self, call: &str, limit: Duration) -> Option<Hit> {
        wait_for(limit, || self.hits().into_iter().find(|h| h.call() == call))
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

const STAT: &str = "location /stat { rtmp_stat all; }";
const CONTROL: &str = "location /control { rtmp_control all; }";

fn start(rtmp: &str) -> Nginx {
    let mut opts = NginxOpts::new(rtmp);
    opts.http_server_extra = format!("{STAT}\n{CONTROL}");
    Nginx::start_opts(opts)
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn video_count(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Video { .. }))
        .count()
}

/// A player of `app/name` with the test client: the video messages it got within `dur`.
fn play_videos(ng: &Nginx, app: &str, name: &str, dur: Duration) -> usize {
    let Ok(mut p) = RtmpClient::connect(ng.rtmp_addr(), app) else {
        return 0;
    };
    if p.play(name).is_err() {
        return 0;
    }
    video_count(&p.collect_for(dur).unwrap_or_default())
}

fn publishing(ng: &Nginx, app: &str, name: &str) -> bool {
    let Ok((_, body)) = http_get(&ng.http_url("/stat?format=json"), Duration::from_secs(5)) else {
        return false;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&body) else {
        return false;
    };
    doc["servers"].as_array().into_iter().flatten().any(|s| {
        s["applications"].as_array().into_iter().flatten().any(|a| {
            a["name"] == app
                && a["live"]["streams"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|st| st["name"] == name && st["publishing"] == true)
        })
    })
}

fn assert_refused_publish(r: Result<(), ClientError>) {
    match r {
        Err(ClientError::Refused(Event::Status { code, level, .. })) => {
            assert_eq!(code, "NetStream.Publish.BadName");
            assert_eq!(level, "error");
        }
        other => panic!("expected a refused publish, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// on_publish

/// 2xx: the publish goes on; the hook got call=publish with the session's fields, the name,
/// the type and the publisher's query string (`?key=secret`), as a urlencoded POST.
#[test]
fn on_publish_2xx_publishes_and_sends_the_form() {
    let hooks = HookServer::start(|_| Reply::Status(200));
    let ng = start(&simple_rtmp(
        "live",
        &format!("live on;\non_publish {};", hooks.url("/auth")),
    ));
    let url = format!("{}?key=secret", ng.rtmp_url("live", "cam"));
    let _pub = publish_ffmpeg(&url, 20);
    let hit = hooks
        .wait_call("publish", Duration::from_secs(10))
        .expect("on_publish was called");
    assert_eq!(hit.method, "POST");
    assert_eq!(hit.path, "/auth");
    assert_eq!(
        hit.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(hit.host, Some(format!("127.0.0.1:{}", hooks.port)));
    assert_eq!(hit.field("app"), "live");
    assert_eq!(hit.field("name"), "cam");
    assert_eq!(hit.field("type"), "live");
    assert_eq!(hit.field("key"), "secret");
    assert_eq!(hit.field("addr"), "127.0.0.1");
    assert!(hit.field("flashver").contains("FMLE") || !hit.field("flashver").is_empty());
    assert!(hit.field("tcurl").starts_with("rtmp://"), "{hit:?}");
    assert!(hit.field("clientid").parse::<u64>().is_ok(), "{hit:?}");
    assert!(
        play_videos(&ng, "live", "cam", Duration::from_secs(3)) > 20,
        "a player of live/cam got too little video"
    );
    ng.assert_no_alerts();
}

/// A 403 refuses: the publisher gets an error status and is closed, nothing is published,
/// the error log names the hook, its URL and the status; the worker and another stream
/// carry on.
#[test]
fn on_publish_403_refuses() {
    let hooks = HookServer::start(|h| {
        if h.field("name") == "other" {
            Reply::Status(204)
        } else {
            Reply::Status(403)
        }
    });
    let ng = start(&simple_rtmp(
        "live",
        &format!("live on;\non_publish {};", hooks.url("/auth")),
    ));
    let workers = ng.worker_pids();
    let _other = publish_ffmpeg(&ng.rtmp_url("live", "other"), 30);
    assert!(
        wait_for(Duration::from_secs(10), || publishing(&ng, "live", "other")
            .then_some(()))
        .is_some(),
        "live/other does not publish"
    );
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    assert_refused_publish(p.publish("cam?key=wrong"));
    assert!(
        p.closed_within(Duration::from_secs(5)),
        "the refused publisher stays connected"
    );
    let line = format!("on_publish: {}: 403, refused", hooks.url("/auth"));
    assert!(
        ng.error_log()
            .lines()
            .any(|l| l.contains("[error]") && l.contains(&line)),
        "no error line {line:?}:\n{}",
        ng.error_log_tail(20)
    );
    assert!(!publishing(&ng, "live", "cam"));
    assert!(
        play_videos(&ng, "live", "other", Duration::from_secs(2)) > 10,
        "live/other stopped"
    );
    assert_eq!(ng.worker_pids(), workers, "the worker changed");
    ng.assert_no_alerts();
}

/// A hook server that never answers: refused after `netcall_timeout`; one that refuses
/// connections: refused at once. Both named in the error log.
#[test]
fn on_publish_timeout_and_connection_refused_refuse() {
    let hooks = HookServer::start(|_| Reply::Hang);
    let dead = closed_port();
    let rtmp = format!(
        "netcall_timeout 1s;\nserver {{\n listen 127.0.0.1:{{rtmp_port}};\n\
         application slow {{ live on; on_publish {}; }}\n\
         application dead {{ live on; on_publish http://127.0.0.1:{dead}/auth; }}\n}}\n",
        hooks.url("/never")
    );
    let ng = start(&rtmp);
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "slow").expect("connect");
    assert_refused_publish(p.publish("cam"));
    assert!(
        ng.error_log().contains(&format!(
            "on_publish: {}: no answer within 1000 ms, refused",
            hooks.url("/never")
        )),
        "{}",
        ng.error_log_tail(20)
    );
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "dead").expect("connect");
    assert_refused_publish(p.publish("cam"));
    let line = format!("on_publish: http://127.0.0.1:{dead}/auth: ");
    assert!(
        ng.error_log()
            .lines()
            .any(|l| l.contains(&line) && l.contains("connect")),
        "{}",
        ng.error_log_tail(20)
    );
    assert!(!publishing(&ng, "slow", "cam") && !publishing(&ng, "dead", "cam"));
    ng.assert_no_alerts();
}

/// A 3xx with a Location that is not rtmp:// renames the stream: the publisher of `cam`
/// publishes `newname`, whose player gets the video.
#[test]
fn on_publish_redirect_renames_the_stream() {
    let hooks = HookServer::start(|_| Reply::Redirect(302, "newname".into()));
    let ng = start(&simple_rtmp(
        "live",
        &format!("live on;\non_publish {};", hooks.url("/auth")),
    ));
    let _pub = publish_ffmpeg(&ng.rtmp_url("live", "cam"), 20);
    assert!(
        wait_for(Duration::from_secs(10), || publishing(
            &ng, "live", "newname"
        )
        .then_some(()))
        .is_some(),
        "live/newname is not published:\n{}",
        ng.error_log_tail(20)
    );
    assert!(!publishing(&ng, "live", "cam"));
    assert!(
        play_videos(&ng, "live", "newname", Duration::from_secs(3)) > 20,
        "the player of newname got too little video"
    );
    assert!(ng
        .error_log()
        .contains("notify: on_publish redirects \"cam\" to \"newname\""));
    ng.assert_no_alerts();
}

/// `notify_method get`: the same fields in the query string of a GET.
#[test]
fn notify_method_get_sends_the_fields_in_the_query() {
    let hooks = HookServer::start(|_| Reply::Status(200));
    let ng = start(&simple_rtmp(
        "live",
        &format!(
            "live on;\nnotify_method get;\non_publish {};",
            hooks.url("/auth?token=t1")
        ),
    ));
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    p.publish("cam?key=secret").expect("publish");
    let hit = hooks
        .wait_call("publish", Duration::from_secs(5))
        .expect("on_publish");
    assert_eq!(hit.method, "GET");
    assert_eq!(hit.path, "/auth");
    assert_eq!(
        hit.field("token"),
        "t1",
        "the URL's own query is kept: {hit:?}"
    );
    assert_eq!(hit.field("name"), "cam");
    assert_eq!(hit.field("key"), "secret");
    assert_eq!(hit.field("app"), "live");
    ng.assert_no_alerts();
}

/// A publisher waiting for a slow on_publish holds nothing else up: a player of another
/// stream keeps receiving frames while the call is pending; the slow publish starts once the
/// hook answers.
#[test]
fn a_pending_hook_does_not_stall_other_streams() {
    let release = Arc::new(AtomicBool::new(false));
    let r = release.clone();
    let hooks = HookServer::start(move |h| {
        if h.field("name") == "slow" {
            Reply::After(r.clone(), 200)
        } else {
            Reply::Status(200)
        }
    });
    let ng = start(&server_with(
        "netcall_timeout 60s;",
        &format!("on_publish {};", hooks.url("/auth")),
    ));
    let _fast = publish_ffmpeg(&ng.rtmp_url("live", "fast"), 40);
    assert!(
        wait_for(Duration::from_secs(10), || publishing(&ng, "live", "fast")
            .then_some(()))
        .is_some()
    );
    let mut player = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    player.play("fast").expect("play fast");
    let addr = ng.rtmp_addr();
    let slow = thread::spawn(move || {
        let mut p = RtmpClient::connect(addr, "live").map_err(|e| format!("{e:?}"))?;
        p.publish("slow").map_err(|e| format!("{e:?}"))
    });
    assert!(
        wait_for(Duration::from_secs(10), || hooks
            .hits()
            .iter()
            .any(|h| h.field("name") == "slow")
            .then_some(()))
        .is_some(),
        "on_publish for slow never arrived"
    );
    // The hook has the request and has not answered: the other stream flows meanwhile.
    let during = video_count(
        &player
            .collect_for(Duration::from_secs(3))
            .unwrap_or_default(),
    );
    assert!(!release.load(Ordering::SeqCst));
    assert!(
        during >= 25,
        "the player of fast got {during} video frames while on_publish for slow was pending"
    );
    assert!(!publishing(&ng, "live", "slow"));
    release.store(true, Ordering::SeqCst);
    let r = slow.join().expect("publisher thread");
    assert_eq!(
        r,
        Ok(()),
        "the slow publish did not start once the hook answered"
    );
    ng.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// on_play, on_connect

/// on_play: 2xx plays, 403 refuses (Play.StreamNotFound, closed), a 3xx renames, an
/// rtmp:// Location (pull) is refused with the reason in the log.
/// on_play: 2xx plays, 403 refuses, a 3xx name renames, and a 3xx `rtmp://` Location pulls
/// the stream from that server (the C module's relay redirect); a Location naming a host
/// (which the worker would have to look up) is refused with the reason.
#[test]
fn on_play_allows_denies_renames_and_pulls() {
    let origin = Nginx::start(&simple_rtmp("app", "live on;"));
    let far = format!("rtmp://127.0.0.1:{}/app/x", origin.rtmp_port);
    let far_reply = far.clone();
    let hooks = HookServer::start(move |h| match h.field("name") {
        "ok" => Reply::Status(200),
        "moved" => Reply::Redirect(302, "ok".into()),
        "far" => Reply::Redirect(302, far_reply.clone()),
        "byname" => Reply::Redirect(302, "rtmp://localhost:1/app/x".into()),
        _ => Reply::Status(403),
    });
    let ng = start(&simple_rtmp(
        "live",
        &format!("live on;\non_play {};", hooks.url("/play")),
    ));
    let _pub = publish_ffmpeg(&ng.rtmp_url("live", "ok"), 30);
    let _far_pub = publish_ffmpeg(&origin.rtmp_url("app", "x"), 30);
    assert!(
        wait_for(Duration::from_secs(10), || publishing(&ng, "live", "ok")
            .then_some(()))
        .is_some()
    );
    assert!(
        play_videos(&ng, "live", "ok", Duration::from_secs(2)) > 10,
        "ok"
    );
    assert!(
        play_videos(&ng, "live", "moved", Duration::from_secs(2)) > 10,
        "moved"
    );
    let hit = hooks.wait_call("play", Duration::from_secs(5)).unwrap();
    assert_eq!(hit.field("app"), "live");
    assert!(
        hit.form.contains_key("start") && hit.form.contains_key("reset"),
        "{hit:?}"
    );
    assert!(
        play_videos(&ng, "live", "far", Duration::from_secs(4)) > 10,
        "far: nothing pulled from {far}\n{}",
        ng.error_log_tail(20)
    );
    for name in ["no", "byname"] {
        let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
        match p.play(name) {
            Err(ClientError::Refused(Event::Status { code, .. })) => {
                assert_eq!(code, "NetStream.Play.StreamNotFound")
            }
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert!(
            p.closed_within(Duration::from_secs(5)),
            "{name}: still connected"
        );
    }
    let log = ng.error_log();
    assert!(log.contains(&format!("on_play: {}: 403, refused", hooks.url("/play"))));
    assert!(
        log.contains(&format!("notify: on_play pulls \"far\" from {far}")),
        "{}",
        ng.error_log_tail(20)
    );
    assert!(
        log.contains("a pull redirect needs an IP address, not a host name"),
        "{}",
        ng.error_log_tail(20)
    );
    ng.assert_no_alerts();
}

fn server_with(server_extra: &str, app_extra: &str) -> String {
    format!(
        "server {{\n listen 127.0.0.1:{{rtmp_port}};\n {server_extra}\n\
         application live {{ live on; {app_extra} }}\n}}\n"
    )
}

/// on_connect: 403 rejects the connect (`_error` NetConnection.Connect.Rejected); a 3xx
/// Location names the application to connect to instead.
#[test]
fn on_connect_rejects_and_redirects() {
    let hooks = HookServer::start(|h| match h.field("app") {
        "live" => Reply::Status(200),
        "old" => Reply::Redirect(302, "live".into()),
        _ => Reply::Status(403),
    });
    let ng = start(&server_with(
        &format!("on_connect {};", hooks.url("/c")),
        "",
    ));
    match RtmpClient::connect(ng.rtmp_addr(), "banned") {
        Err(ClientError::Refused(e)) => {
            let text = format!("{e:?}");
            assert!(text.contains("NetConnection.Connect.Rejected"), "{text}");
        }
        Err(e) => panic!("expected a rejected connect, got {e:?}"),
        Ok(_) => panic!("connect to banned was accepted"),
    }
    assert!(ng
        .error_log()
        .contains(&format!("on_connect: {}: 403, refused", hooks.url("/c"))));
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "old").expect("redirected connect");
    p.publish("cam")
        .expect("publish in the application redirected to");
    assert!(
        wait_for(Duration::from_secs(5), || publishing(&ng, "live", "cam")
            .then_some(()))
        .is_some()
    );
    let hit = hooks.wait_call("connect", Duration::from_secs(5)).unwrap();
    assert!(hit.field("tcurl").starts_with("rtmp://"), "{hit:?}");
    assert!(hit.field("epoch").parse::<u32>().is_ok(), "{hit:?}");
    ng.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// The hooks that only tell

fn wait_count(hooks: &HookServer, call: &str, n: usize, limit: Duration) -> Vec<Hit> {
    wait_for(limit, || {
        let v: Vec<Hit> = hooks
            .hits()
            .into_iter()
            .filter(|h| h.call() == call)
            .collect();
        (v.len() >= n).then_some(v)
    })
    .unwrap_or_else(|| {
        panic!(
            "fewer than {n} call={call}: {:?}",
            hooks
                .hits()
                .iter()
                .map(|h| h.call().to_string())
                .collect::<Vec<_>>()
        )
    })
}

/// When a publisher and a player leave: on_publish_done and on_play_done with their names
/// and args, on_done for each, on_disconnect for each session.
#[test]
fn done_hooks_arrive_after_the_clients_leave() {
    let hooks = HookServer::start(|_| Reply::Status(200));
    let ng = start(&server_with(
        &format!("on_disconnect {};", hooks.url("/disc")),
        &format!(
            "on_publish_done {0}; on_play_done {0}; on_done {1};",
            hooks.url("/done"),
            hooks.url("/any")
        ),
    ));
    {
        let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
        p.publish("cam?k=v").expect("publish");
        let mut pl = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
        pl.play("cam?who=me").expect("play");
        assert!(
            hooks.hits().is_empty(),
            "nothing is told before anyone leaves"
        );
    }
    let pd = hooks
        .wait_call("publish_done", Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        (pd.path.as_str(), pd.field("name"), pd.field("k")),
        ("/done", "cam", "v")
    );
    let pl = hooks
        .wait_call("play_done", Duration::from_secs(10))
        .unwrap();
    assert_eq!((pl.field("name"), pl.field("who")), ("cam", "me"));
    let done = wait_count(&hooks, "done", 2, Duration::from_secs(10));
    assert!(done
        .iter()
        .all(|h| h.path == "/any" && h.field("name") == "cam"));
    let disc = wait_count(&hooks, "disconnect", 2, Duration::from_secs(10));
    assert!(disc
        .iter()
        .all(|h| h.path == "/disc" && h.field("app") == "live"));
    ng.assert_no_alerts();
}

/// on_record_done: for each file a recorder closes, with its path and recorder; a recorder
/// block's own URL for its files.
#[test]
fn on_record_done_names_the_file() {
    let hooks = HookServer::start(|_| Reply::Status(200));
    let ng = start(&simple_rtmp(
        "live",
        &format!(
            "live on; record all; record_path {{tmp}}/rec; on_record_done {};\n\
             recorder r1 {{ record video; record_path {{tmp}}/r1; record_suffix -r1.flv; \
             on_record_done {}; }}",
            hooks.url("/app"),
            hooks.url("/r1")
        ),
    ));
    let g = publish_ffmpeg(&ng.rtmp_url("live", "cam"), 3);
    let out = g.wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "ffmpeg: {}", out.stderr);
    let hits = wait_count(&hooks, "record_done", 2, Duration::from_secs(10));
    let app = hits
        .iter()
        .find(|h| h.path == "/app")
        .expect("/app record_done");
    let r1 = hits
        .iter()
        .find(|h| h.path == "/r1")
        .expect("/r1 record_done");
    assert_eq!((app.field("recorder"), app.field("name")), ("", "cam"));
    assert_eq!(r1.field("recorder"), "r1");
    for h in [app, r1] {
        let path = std::path::Path::new(h.field("path"));
        assert!(
            path.is_file() && path.metadata().unwrap().len() > 10_000,
            "{h:?}"
        );
    }
    assert!(r1.field("path").ends_with("-r1.flv"), "{r1:?}");
    ng.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// on_update

/// on_update every notify_update_timeout while publishing, with the time since the start;
/// an HTTP error drops the session.
#[test]
fn on_update_is_periodic_and_an_error_drops_the_session() {
    let hooks = HookServer::start(|h| {
        if h.field("name") == "bad" {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let ng = start(&simple_rtmp(
        "live",
        &format!(
            "live on;\nnotify_update_timeout 1s;\non_update {};",
            hooks.url("/up")
        ),
    ));
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    p.publish("cam?k=v").expect("publish");
    let ups = wait_count(&hooks, "update_publish", 3, Duration::from_secs(10));
    let times: Vec<u64> = ups
        .iter()
        .map(|h| h.field("time").parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(ups
        .iter()
        .all(|h| h.field("name") == "cam" && h.field("k") == "v"));
    assert!(!p.closed_within(Duration::from_millis(200)));
    let mut bad = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    bad.publish("bad").expect("publish");
    assert!(
        bad.closed_within(Duration::from_secs(10)),
        "a 500 from on_update did not drop the session"
    );
    assert!(ng.error_log().contains(&format!(
        "on_update: {}: 500, closing connection",
        hooks.url("/up")
    )));
    ng.assert_no_alerts();
}

/// An unreachable on_update server: with notify_update_strict off the session goes on; on,
/// it is dropped.
#[test]
fn notify_update_strict_drops_on_an_unreachable_server() {
    let dead = closed_port();
    let rtmp = format!(
        "server {{\n listen 127.0.0.1:{{rtmp_port}};\n notify_update_timeout 500ms;\n\
         on_update http://127.0.0.1:{dead}/up;\n\
         application lax {{ live on; }}\n\
         application strict {{ live on; notify_update_strict on; }}\n}}\n"
    );
    let ng = start(&rtmp);
    let mut lax = RtmpClient::connect(ng.rtmp_addr(), "lax").expect("connect");
    lax.publish("cam").expect("publish");
    let mut strict = RtmpClient::connect(ng.rtmp_addr(), "strict").expect("connect");
    strict.publish("cam").expect("publish");
    assert!(
        strict.closed_within(Duration::from_secs(10)),
        "strict: a failed update did not drop the session"
    );
    assert!(
        !lax.closed_within(Duration::from_secs(2)),
        "lax: a failed update dropped the session"
    );
    assert!(publishing(&ng, "lax", "cam"));
    assert!(ng
        .error_log()
        .lines()
        .any(|l| l.contains("on_update: ") && l.contains("(notify_update_strict is off)")));
    ng.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// rtmp:// redirects: push

/// A second nginx with `application app { live on; }`, with /stat.
fn target_server() -> Nginx {
    start(&simple_rtmp("app", "live on;"))
}

fn md5_hex(s: &str) -> String {
    let mut c = std::process::Command::new("md5sum");
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().expect("md5sum");
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// on_publish answers with an rtmp:// Location: the stream is published here and pushed
/// there (the C module's relay push); with notify_relay_redirect on, the local name is the
/// MD5 of the Location.
#[test]
fn on_publish_rtmp_redirect_pushes_there() {
    let b = target_server();
    let there = format!("rtmp://127.0.0.1:{}/app/pushed", b.rtmp_port);
    let there2 = format!("rtmp://127.0.0.1:{}/app/hashed", b.rtmp_port);
    let (t1, t2) = (there.clone(), there2.clone());
    let hooks = HookServer::start(move |h| match h.field("app") {
        "live" => Reply::Redirect(302, t1.clone()),
        _ => Reply::Redirect(301, t2.clone()),
    });
    let rtmp = format!(
        "server {{\n listen 127.0.0.1:{{rtmp_port}};\n on_publish {};\n\
         application live {{ live on; }}\n\
         application md5 {{ live on; notify_relay_redirect on; }}\n}}\n",
        hooks.url("/auth")
    );
    let a = start(&rtmp);
    let _p1 = publish_ffmpeg(&a.rtmp_url("live", "cam"), 30);
    let _p2 = publish_ffmpeg(&a.rtmp_url("md5", "cam"), 30);
    for (app, name) in [("app", "pushed"), ("app", "hashed")] {
        assert!(
            wait_for(Duration::from_secs(15), || publishing(&b, app, name)
                .then_some(()))
            .is_some(),
            "{app}/{name} never arrived on B:\n{}",
            a.error_log_tail(20)
        );
    }
    assert!(
        play_videos(&b, "app", "pushed", Duration::from_secs(3)) > 20,
        "B's player of the pushed stream got too little video"
    );
    assert!(
        publishing(&a, "live", "cam"),
        "live/cam is not published on A"
    );
    let hashed = md5_hex(&there2);
    assert!(
        publishing(&a, "md5", &hashed),
        "md5/{hashed} is not published on A:\n{}",
        a.error_log_tail(20)
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// Name resolution

/// A DNS server of the test's own on 127.0.0.1: A records for the names it knows, an empty
/// answer for their AAAA, NXDOMAIN for the rest; it records every name asked.
struct DnsServer {
    port: u16,
    asked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

fn dns_answer(q: &[u8], names: &HashMap<String, [u8; 4]>) -> Option<(String, Vec<u8>)> {
    if q.len() < 12 || u16::from_be_bytes([q[4], q[5]]) != 1 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question_end = i + 4;
    let name = labels.join(".");
    let ip = names.get(&name);
    let a_answer = qtype == 1 && ip.is_some();
    let rcode = if ip.is_some() { 0 } else { 3 };
    let rd = q[2] & 0x01;
    let mut r = vec![
        q[0],
        q[1],
        0x84 | rd,
        0x80 | rcode,
        0,
        1,
        0,
        u8::from(a_answer),
        0,
        0,
        0,
        0,
    ];
    r.extend_from_slice(q.get(12..question_end)?);
    if let (true, Some(ip)) = (a_answer, ip) {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4]);
        r.extend_from_slice(ip);
    }
    Some((name, r))
}

impl DnsServer {
    fn start(names: &[(&str, [u8; 4])]) -> DnsServer {
        let names: HashMap<String, [u8; 4]> =
            names.iter().map(|(n, ip)| (n.to_string(), *ip)).collect();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, st) = (asked.clone(), stop.clone());
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut buf = [0u8; 512];
            while !st.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if let Some((name, reply)) = dns_answer(&buf[..n], &names) {
                    a.lock().unwrap().push(name);
                    let _ = sock.send_to(&reply, from);
                }
            }
        });
        DnsServer { port, asked, stop }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn control(ng: &Nginx, path_query: &str) -> (u16, String) {
    http_get(
        &ng.http_url(&format!("/control/{path_query}")),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("/control/{path_query}: {e}"))
}

/// With `resolver`, names in hook URLs, `push` targets and /control/push/start URLs are
/// resolved when they are used, through the test's DNS server; a name it does not know
/// refuses the publish with the resolver's reason.
#[test]
fn resolver_resolves_hooks_and_pushes_at_run_time() {
    let dns = DnsServer::start(&[
        ("hooks.test", [127, 0, 0, 1]),
        ("target.test", [127, 0, 0, 1]),
    ]);
    let hooks = HookServer::start(|_| Reply::Status(200));
    let b = target_server();
    let rtmp = format!(
        "resolver 127.0.0.1:{} valid=1s;\nresolver_timeout 5s;\n\
         server {{\n listen 127.0.0.1:{{rtmp_port}};\n\
         application live {{ live on; on_publish http://hooks.test:{hp}/auth; \
         push rtmp://target.test:{bp}/app; }}\n\
         application open {{ live on; }}\n\
         application gone {{ live on; on_publish http://nowhere.test:{hp}/auth; }}\n}}\n",
        dns.port,
        hp = hooks.port,
        bp = b.rtmp_port
    );
    let a = start(&rtmp);
    let _pub = publish_ffmpeg(&a.rtmp_url("live", "cam"), 30);
    let hit = hooks
        .wait_call("publish", Duration::from_secs(10))
        .expect("on_publish");
    assert_eq!(hit.host, Some(format!("hooks.test:{}", hooks.port)));
    assert!(
        wait_for(Duration::from_secs(15), || publishing(&b, "app", "cam")
            .then_some(()))
        .is_some(),
        "the push to target.test never arrived:\n{}",
        a.error_log_tail(20)
    );
    assert!(play_videos(&b, "app", "cam", Duration::from_secs(2)) > 10);
    let mut p = RtmpClient::connect(a.rtmp_addr(), "open").expect("connect");
    p.publish("ctl").expect("publish open/ctl");
    let (status, body) = control(
        &a,
        &format!(
            "push/start?app=open&name=ctl&url=rtmp://target.test:{}/app/ctl",
            b.rtmp_port
        ),
    );
    assert_eq!((status, body.trim()), (200, "1"), "push/start");
    assert!(
        wait_for(Duration::from_secs(15), || publishing(&b, "app", "ctl")
            .then_some(()))
        .is_some(),
        "the control push to target.test never arrived:\n{}",
        a.error_log_tail(20)
    );
    let mut g = RtmpClient::connect(a.rtmp_addr(), "gone").expect("connect");
    assert_refused_publish(g.publish("x"));
    assert!(
        a.error_log().contains("nowhere.test could not be resolved"),
        "{}",
        a.error_log_tail(20)
    );
    let asked = dns.asked();
    for name in ["hooks.test", "target.test", "nowhere.test"] {
        assert!(
            asked.iter().any(|n| n == name),
            "{name} was not asked: {asked:?}"
        );
    }
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// Without `resolver`: a name in the configuration is resolved when it is read (localhost,
/// from /etc/hosts, tried address by address), and a name that arrives at run time is refused
/// with the reason rather than blocking the worker in getaddrinfo.
#[test]
fn without_a_resolver_config_names_resolve_once_and_run_time_names_are_refused() {
    let hooks = HookServer::start(|_| Reply::Status(200));
    let ng = start(&server_with(
        "",
        &format!("on_publish http://localhost:{}/auth;", hooks.port),
    ));
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    p.publish("cam").expect("publish");
    let hit = hooks
        .wait_call("publish", Duration::from_secs(10))
        .expect("on_publish");
    assert_eq!(hit.host, Some(format!("localhost:{}", hooks.port)));
    let (status, body) = control(
        &ng,
        "push/start?app=live&name=cam&url=rtmp://target.test/app",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs a resolver in rtmp{}"), "{body}");
    ng.assert_no_alerts();
}

// ---------------------------------------------------------------------------------------
// Configuration

fn conf_test(rtmp_body: &str) -> (bool, String) {
    nginx_t(&format!(
        "load_module {{so}};\nerror_log {{tmp}}/error.log info;\nevents {{ }}\n\
         rtmp {{\n{rtmp_body}\n}}\n"
    ))
}

fn app_conf(line: &str) -> String {
    format!("server {{\n listen 127.0.0.1:1935;\n application live {{\n live on;\n {line}\n }}\n}}")
}

/// Hook and resolver directives: nginx's message shape with file and line; with a resolver,
/// names in the configuration are not looked up when it is read.
#[test]
fn hook_and_resolver_directives_are_checked() {
    let bad = [
        (
            app_conf("on_publish https://h/x;"),
            "invalid url \"https://h/x\" in \"on_publish\" directive, the scheme \"https\" is not supported",
        ),
        (
            app_conf("notify_method put;"),
            "invalid value \"put\" in \"notify_method\" directive",
        ),
        (
            app_conf("on_connect http://127.0.0.1/c;"),
            "\"on_connect\" directive is not allowed here",
        ),
        (
            "resolver 127.0.0.1 valid=x;".to_string() + &app_conf(""),
            "invalid parameter: valid=x",
        ),
        (
            "resolver 127.0.0.1;\nresolver 127.0.0.2;".to_string() + &app_conf(""),
            "\"resolver\" directive is duplicate",
        ),
    ];
    for (conf, want) in bad {
        let (ok, err) = conf_test(&conf);
        assert!(!ok, "accepted: {conf}");
        assert!(err.contains(want), "{conf}\nwanted {want:?} in:\n{err}");
        assert!(err.contains("nginx.conf:"), "no file:line: {err}");
    }
    let good = "resolver 127.0.0.1:1 valid=10s ipv6=off;\nresolver_timeout 2s;\n".to_string()
        + &app_conf(
            "on_publish http://auth.test/x; on_play auth.test:8080/y; notify_method get;\n\
             notify_update_timeout 10s; notify_update_strict on; notify_relay_redirect on;\n\
             on_update http://u.test/u; on_done http://d.test/; on_record_done http://r.test/;\n\
             push rtmp://target.test/app;",
        );
    let (ok, err) = conf_test(&good);
    assert!(ok, "{err}");
}
