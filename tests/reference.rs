//! nginx-conf/nginx.conf — the reference configuration users run, `worker_processes auto`
//! with `rtmp_auto_push on`, `error_log ... debug` and all — serves live streams, the push to
//! `facebook` and its exec_push to a receiver, HLS, /stat and /control recording. Only the
//! ports, the prefix paths and the log file differ from the file in the repository.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::proc::ChildGuard;
use ngx_rtmp_tests::*;
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_reference_config_streams_and_reports() {
    let dir = temp_dir("reference");
    for d in ["logs", "streams", "recordings", "html"] {
        fs::create_dir_all(dir.join(d)).unwrap();
        // The worker user writes HLS fragments and recordings here.
        fs::set_permissions(
            dir.join(d),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
    }
    let (rtmp, http) = (free_port(), free_port());
    // The receiver the facebook application's exec_push ffmpeg publishes to (port 19350 in
    // the file; in place of the stunnel the case study runs there).
    let receiver = Nginx::start(&simple_rtmp("app", "live on;"));
    let conf = fs::read_to_string(repo_root().join("nginx-conf/nginx.conf")).unwrap();
    let xsl = repo_root().join("nginx-conf/stat.xsl");
    let conf = conf
        .replace(
            "load_module ../build/ngx_rtmp_module.so;",
            &format!("load_module {};", module_so().display()),
        )
        .replace(
            "error_log /dev/stderr debug;",
            &format!("error_log {}/error.log debug;", dir.display()),
        )
        .replace("listen 1935;", &format!("listen 127.0.0.1:{rtmp};"))
        .replace(
            "listen [::]:1935 ipv6only=on;",
            &format!("listen [::1]:{rtmp} ipv6only=on;"),
        )
        .replace("listen 8080;", &format!("listen 127.0.0.1:{http};"))
        // The push to the server's own `facebook` application names no port (1935).
        .replace(
            "push rtmp://127.0.0.1/facebook;",
            &format!("push rtmp://127.0.0.1:{rtmp}/facebook;"),
        )
        .replace(
            "rtmp://127.0.0.1:1935/live/$name",
            &format!("rtmp://127.0.0.1:{rtmp}/live/$name"),
        )
        .replace(
            "rtmp://127.0.0.1:19350/app/$name",
            &format!("rtmp://127.0.0.1:{}/app/$name", receiver.rtmp_port),
        )
        .replace(
            "alias ../nginx-conf/stat.xsl;",
            &format!("alias {};", xsl.display()),
        );
    fs::write(dir.join("nginx.conf"), &conf).unwrap();
    let mut cmd = Command::new(nginx_bin());
    cmd.arg("-p")
        .arg(format!("{}/", dir.display()))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-g")
        .arg(format!("daemon off; pid {}/nginx.pid;", dir.display()));
    let mut master = ChildGuard::spawn(cmd);
    let up = wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", rtmp)).ok()
    });
    assert!(
        up.is_some(),
        "nginx with the reference config did not start"
    );

    let url = format!("rtmp://127.0.0.1:{rtmp}/live/ref");
    let publisher = publish_ffmpeg(&url, 30);
    std::thread::sleep(Duration::from_secs(2));
    let t0 = Instant::now();
    let player = play_count_frames(&url, 3.0);
    eprintln!("player took {:?}", t0.elapsed());
    assert!(
        player.video_frames > 0,
        "no video through the reference config: {player:?}"
    );
    // `push rtmp://127.0.0.1/facebook` relays live/ref into the facebook application.
    let pushed = play_count_frames(&format!("rtmp://127.0.0.1:{rtmp}/facebook/ref"), 3.0);
    assert!(
        pushed.video_frames > 0 && pushed.audio_frames > 0,
        "no stream pushed to facebook/ref: {pushed:?}"
    );
    // End to end: live/ref is pushed to facebook/ref, whose exec_push ffmpeg pulls it back
    // and publishes it to the receiver, where a player gets it.
    let relayed = receiver.rtmp_url("app", "ref");
    let received = wait_for(Duration::from_secs(25), || {
        let r = play_count_frames(&relayed, 3.0);
        (r.video_frames > 0 && r.audio_frames > 0).then_some(r)
    });
    assert!(
        received.is_some(),
        "nothing reached the receiver through exec_push:
{}",
        receiver.error_log_tail(20)
    );
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut xml = String::new();
    while Instant::now() < deadline && !xml.contains("<name>ref</name>") {
        xml = http_get(
            &format!("http://127.0.0.1:{http}/stat"),
            Duration::from_secs(5),
        )
        .map(|(_, b)| b)
        .unwrap_or_default();
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        xml.contains("<name>ref</name>"),
        "/stat does not show the stream: {xml}"
    );
    // hls on (server level) writes the stream's playlist and fragments into streams/.
    let playlist = dir.join("streams/ref.m3u8");
    let hls = wait_for(Duration::from_secs(10), || {
        fs::read_to_string(&playlist)
            .ok()
            .filter(|t| t.contains("#EXTINF"))
    });
    assert!(hls.is_some(), "no HLS playlist at {}", playlist.display());
    // recorder rec1 is `record manual`: /control starts and stops it.
    let control = |what: &str| {
        http_get(
            &format!("http://127.0.0.1:{http}/control/record/{what}?app=live&name=ref&rec=rec1"),
            Duration::from_secs(5),
        )
        .unwrap()
    };
    let (status, path) = control("start");
    assert_eq!(status, 200, "record/start: {path}");
    assert!(
        path.starts_with(&format!("{}/recordings/ref-", dir.display())) && path.ends_with(".flv"),
        "record/start answered {path}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(control("stop"), (200, path.clone()));
    std::thread::sleep(Duration::from_millis(300));
    let rec = check_file(std::path::Path::new(&path));
    eprintln!("recording: {rec:?}");
    assert_eq!(rec.video_codec.as_deref(), Some("h264"));
    assert!(rec.decode_errors.is_empty(), "{}", rec.decode_errors);
    drop(publisher);
    assert!(master.is_running(), "the nginx master exited");
    let t1 = Instant::now();
    master.signal(libc::SIGQUIT);
    let _ = master.wait_bounded(Duration::from_secs(15));
    eprintln!("quit took {:?}", t1.elapsed());
    let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    let bad: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("[alert]") || l.contains("[emerg]") || l.contains("exited on signal")
        })
        .collect();
    assert!(
        bad.is_empty(),
        "alerts with the reference config:\n{}",
        bad.join("\n")
    );
    if std::env::var_os("NGX_RTMP_KEEP_TMP").is_none() {
        let _ = fs::remove_dir_all(&dir);
    }
}
