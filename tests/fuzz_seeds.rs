//! Writes fuzz seeds recorded from real sessions: a TCP proxy sits between a real client
//! (ffmpeg, librtmp as OBS uses it, rtmpdump) or a real server (nginx-rtmp-module, ffmpeg's
//! `-listen`) and our nginx, and keeps both directions. Run it to refresh
//! `src/core/fuzz/seeds/` (it asserts each session did its job, so a seed never holds a
//! failed session):
//!
//! ```sh
//! cargo test -p ngx-rtmp-tests --test fuzz_seeds -- --ignored --test-threads=1
//! ```

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use rml_rtmp::chunk_io::ChunkDeserializer;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// C0+C1+C2: what a client sends before its first chunk.
const HANDSHAKE: usize = 1 + 1536 + 1536;
/// Seeds are cut here: enough for the handshake, the commands and the first media, small
/// enough to keep the fuzzers fast (libFuzzer's max_len follows the largest seed).
const SEED_MAX: usize = 16 * 1024;

/// Both directions of one proxied connection.
#[derive(Default, Clone)]
struct Session {
    from_client: Vec<u8>,
    from_server: Vec<u8>,
}

/// A TCP proxy to `127.0.0.1:target` that records every connection it relays.
struct RecordingProxy {
    port: u16,
    done: Arc<Mutex<Vec<Session>>>,
}

impl RecordingProxy {
    fn start(target: u16) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let done = Arc::new(Mutex::new(Vec::new()));
        let d = done.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let d = d.clone();
                std::thread::spawn(move || {
                    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let up = std::thread::spawn(move || copy(client, server));
                    let down = copy(s2, c2);
                    let from_client = up.join().unwrap();
                    d.lock().unwrap().push(Session {
                        from_client,
                        from_server: down,
                    });
                });
            }
        });
        RecordingProxy { port, done }
    }

    fn url(&self, app: &str, name: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{app}/{name}", self.port)
    }

    /// The first session to end, within `limit`.
    fn session(&self, limit: Duration) -> Session {
        wait_for(limit, || self.done.lock().unwrap().first().cloned())
            .expect("no proxied session ended")
    }
}

/// Copies until EOF (with a bound of a minute), returning what passed.
fn copy(mut from: TcpStream, mut to: TcpStream) -> Vec<u8> {
    from.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(k) = from.read(&mut buf) {
        if k == 0 || to.write_all(&buf[..k]).is_err() {
            break;
        }
        seen.extend_from_slice(&buf[..k]);
    }
    let _ = to.shutdown(Shutdown::Write);
    seen
}

fn seeds_dir(target: &str) -> PathBuf {
    repo_root().join("src/core/fuzz/seeds").join(target)
}

fn write_seed(target: &str, name: &str, parts: &[&[u8]]) {
    let mut data = parts.concat();
    data.truncate(SEED_MAX);
    let dir = seeds_dir(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), &data).unwrap();
    eprintln!("seeds/{target}/{name}: {} bytes", data.len());
}

/// What a client sent, as the seeds of every target that reads a client: the server
/// session raw (0xFE: handshake included, 128-byte pieces) and past a valid handshake
/// (0xFF), the chunk reader (chunk size 128 to start), and the handshake itself.
fn client_seeds(name: &str, bytes: &[u8]) {
    assert!(
        bytes.len() > HANDSHAKE + 100,
        "{name}: {} bytes",
        bytes.len()
    );
    let chunks = &bytes[HANDSHAKE..];
    write_seed("server_session", &format!("{name}_raw"), &[&[0xFE], bytes]);
    write_seed("server_session", name, &[&[0xFF], chunks]);
    write_seed("chunk_reader", name, &[&[0], chunks]);
    write_seed("handshake", name, &[&bytes[..HANDSHAKE + 64]]);
    for (i, cmd) in commands(chunks).iter().enumerate() {
        write_seed("amf0", &format!("{name}_{i}"), &[cmd]);
    }
}

/// The AMF0 commands (type 20) among the chunks a client sent, read with rml_rtmp.
fn commands(mut chunks: &[u8]) -> Vec<Vec<u8>> {
    let mut de = ChunkDeserializer::new();
    let mut out = Vec::new();
    while let Ok(Some(p)) = de.get_next_message(chunks) {
        chunks = &[];
        match p.type_id {
            1 if p.data.len() >= 4 => {
                let size = u32::from_be_bytes([p.data[0], p.data[1], p.data[2], p.data[3]]);
                if de.set_max_chunk_size(size as usize).is_err() {
                    break;
                }
            }
            20 => out.push(p.data.to_vec()),
            _ => {}
        }
    }
    out
}

fn ours() -> Nginx {
    Nginx::start(&simple_rtmp("live", "live on;"))
}

#[test]
#[ignore]
fn ffmpeg_publish() {
    let ng = ours();
    let proxy = RecordingProxy::start(ng.rtmp_port);
    let out = publish_ffmpeg_with(
        &proxy.url("live", "seed"),
        1,
        "testsrc2=size=64x64:rate=25",
        &["-g", "10"],
    )
    .wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "{}", out.stderr);
    let s = proxy.session(Duration::from_secs(10));
    client_seeds("ffmpeg_publish", &s.from_client);
}

/// A player needs a stream: ffmpeg publishes it straight to nginx meanwhile.
fn with_stream(ng: &Nginx, play: impl FnOnce()) {
    let _publisher = publish_ffmpeg_with(
        &ng.rtmp_url("live", "seed"),
        20,
        "testsrc2=size=64x64:rate=25",
        &["-g", "10"],
    );
    std::thread::sleep(Duration::from_secs(2));
    play();
}

#[test]
#[ignore]
fn ffmpeg_play() {
    let ng = ours();
    let proxy = RecordingProxy::start(ng.rtmp_port);
    with_stream(&ng, || {
        let r = play_count_frames(&proxy.url("live", "seed"), 1.0);
        assert!(r.video_frames > 0, "{:?}", r.errors);
    });
    let s = proxy.session(Duration::from_secs(10));
    client_seeds("ffmpeg_play", &s.from_client);
}

#[test]
#[ignore]
fn rtmpdump_play() {
    let ng = ours();
    let proxy = RecordingProxy::start(ng.rtmp_port);
    let out_flv = ng.file("dump.flv");
    with_stream(&ng, || {
        let o = spawn_rtmpdump(&proxy.url("live", "seed"), 1, &out_flv)
            .wait_bounded(Duration::from_secs(30));
        assert!(out_flv.is_file(), "{}", o.stderr);
    });
    let s = proxy.session(Duration::from_secs(10));
    client_seeds("rtmpdump_play", &s.from_client);
}

/// librtmp publishing the way OBS's rtmp-stream output does (`fixtures/librtmp_publish.c`).
#[test]
#[ignore]
fn librtmp_publish() {
    let ng = ours();
    let proxy = RecordingProxy::start(ng.rtmp_port);
    let dir = temp_dir("seed-librtmp");
    let bin = build_librtmp_publisher(&dir);
    let flv = dir.join("in.flv");
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25"])
        .args(["-f", "lavfi", "-i", "sine", "-t", "1"])
        .args(["-c:v", "libx264", "-g", "10", "-c:a", "aac", "-y"])
        .arg(&flv);
    assert!(run_bounded(c, Duration::from_secs(30)).success());
    let mut c = Command::new(&bin);
    c.arg(proxy.url("live", "seed")).arg(&flv);
    let o = run_bounded(c, Duration::from_secs(30));
    assert!(o.success(), "{}", o.stderr);
    let s = proxy.session(Duration::from_secs(10));
    client_seeds("librtmp_publish", &s.from_client);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a real server says to our push relay, from its handshake to the media flowing: the
/// push session's seed (first byte 0xFF: 256-byte pieces).
fn push_through(proxy: &RecordingProxy, name: &str) {
    let src = Nginx::start(&simple_rtmp(
        "live",
        &format!("live on; push rtmp://127.0.0.1:{}/app;", proxy.port),
    ));
    let publisher = publish_ffmpeg_with(
        &src.rtmp_url("live", "seed"),
        3,
        "testsrc2=size=64x64:rate=25",
        &["-g", "10"],
    );
    let ready = wait_for(Duration::from_secs(10), || {
        src.error_log()
            .contains("relay: push publishing")
            .then_some(())
    });
    assert!(ready.is_some(), "{}", src.error_log_tail(20));
    drop(publisher.wait_bounded(Duration::from_secs(30)));
    let s = proxy.session(Duration::from_secs(10));
    assert!(
        s.from_server.len() > HANDSHAKE,
        "{} bytes",
        s.from_server.len()
    );
    write_seed("push_session", name, &[&[0xFF], &s.from_server]);
}

/// The C nginx-rtmp-module (Debian's libnginx-mod-rtmp) as the push target.
#[test]
#[ignore]
fn nginx_rtmp_module_as_push_target() {
    let c_module = Path::new("/usr/lib/nginx/modules/ngx_rtmp_module.so");
    if !c_module.is_file() || c_module == module_so() {
        eprintln!("SKIP: libnginx-mod-rtmp is not installed");
        return;
    }
    let mut opts = NginxOpts::new(&simple_rtmp("app", "live on;"));
    opts.module = Some(c_module.to_path_buf());
    let target = Nginx::start_opts(opts);
    let proxy = RecordingProxy::start(target.rtmp_port);
    push_through(&proxy, "nginx_rtmp_module");
}

/// ffmpeg's own RTMP server (`-listen 1`) as the push target.
#[test]
#[ignore]
fn ffmpeg_listen_as_push_target() {
    let port = free_port();
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(["-listen", "1", "-rw_timeout", "20000000", "-i"])
        .arg(format!("rtmp://127.0.0.1:{port}/app/seed"))
        .args(["-t", "2", "-f", "null", "-"]);
    let server = ChildGuard::spawn(cmd);
    assert!(wait_for(Duration::from_secs(10), || port_listening(port)
        .then_some(()))
    .is_some());
    let proxy = RecordingProxy::start(port);
    push_through(&proxy, "ffmpeg_listen");
    drop(server);
}
