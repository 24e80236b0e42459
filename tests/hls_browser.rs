//! A person's view of HLS: headless Chromium plays our HLS output with hls.js (from npm,
//! fetched by scripts/deps) in a `<video>` element served by the same nginx; its
//! `currentTime` advances, and a screenshot is kept in `<repo>/test-artifacts/hls.png`.

use ngx_rtmp_tests::cdp::Browser;
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use std::time::{Duration, Instant};

const HLSJS: &str = "tests/.cache/hls.js-1.7.4/hls.min.js";

const PAGE: &str = r#"<!doctype html>
<html><head><title>ngx-rtmp HLS</title></head>
<body style="margin:0;background:#1d2330;color:#eee;font:16px sans-serif">
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<div id="s">waiting</div>
<script src="/js/hls.min.js"></script>
<script>
const v = document.getElementById('v');
window.errors = [];
if (window.Hls && Hls.isSupported()) {
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) window.errors.push(d.type + ': ' + d.details); });
  hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch(e => window.errors.push('play: ' + e)));
  hls.loadSource('/hls/tv.m3u8');
  hls.attachMedia(v);
} else {
  window.errors.push('hls.js is not supported in this browser');
}
setInterval(() => {
  document.getElementById('s').textContent =
    'currentTime ' + v.currentTime.toFixed(2) + ' s, ' + v.videoWidth + 'x' + v.videoHeight;
}, 250);
</script></body></html>"#;

#[test]
fn hlsjs_plays_in_chromium() {
    let hlsjs = repo_root().join(HLSJS);
    assert!(
        hlsjs.is_file(),
        "{} is missing: run scripts/deps (it fetches hls.js from npm)",
        hlsjs.display()
    );
    let mut opts = NginxOpts::new(&simple_rtmp(
        "live",
        "live on; hls on; hls_path {tmp}/hls; hls_fragment 1s; hls_playlist_length 6s;",
    ));
    opts.http_server_extra = format!(
        "location /hls {{ alias {{tmp}}/hls;
             types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
             add_header Cache-Control no-cache; }}
         location = /js/hls.min.js {{ alias {}; }}
         location /www {{ alias {{tmp}}/www; }}",
        hlsjs.display()
    );
    let ng = Nginx::start_opts(opts);
    std::fs::create_dir_all(ng.file("www")).unwrap();
    std::fs::write(ng.file("www/hls.html"), PAGE).unwrap();

    let _publisher = publish_ffmpeg(&ng.rtmp_url("live", "tv"), 40);
    let playlist = ng.http_url("/hls/tv.m3u8");
    wait_for(Duration::from_secs(15), || {
        let (code, body) = http_get(&playlist, Duration::from_secs(2)).ok()?;
        (code == 200 && body.matches("#EXTINF").count() >= 3).then_some(())
    })
    .expect("the playlist never listed 3 fragments");

    let mut b = Browser::start(&ng.dir, 800, 600);
    b.open(&ng.http_url("/www/hls.html")).expect("open page");
    let mse = b
        .eval(r#"MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')"#)
        .expect("eval");
    eprintln!("MSE H.264+AAC supported: {mse}");

    // currentTime must pass 2 s and then keep moving.
    let t0 = Instant::now();
    let mut samples = Vec::new();
    while t0.elapsed() < Duration::from_secs(25) {
        let t = b
            .eval("v.currentTime")
            .expect("eval")
            .as_f64()
            .unwrap_or(0.0);
        let errors = b.eval("window.errors.join('; ')").expect("eval");
        assert_eq!(errors.as_str(), Some(""), "hls.js errors: {errors}");
        samples.push((t0.elapsed(), t));
        if t > 6.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("currentTime samples: {samples:?}");
    let last = samples.last().map(|s| s.1).unwrap_or(0.0);
    assert!(last > 6.0, "currentTime reached only {last} in 25 s");
    let size = b.eval("v.videoWidth + 'x' + v.videoHeight").expect("eval");
    assert_eq!(size.as_str(), Some("640x360"), "video size {size}");

    let png = b.screenshot().expect("screenshot");
    let (w, h) = ngx_rtmp_tests::browser::png_size(&png).expect("a PNG");
    assert!(w >= 640 && h >= 300, "screenshot is {w}x{h}");
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("hls.png"), &png).unwrap();
    eprintln!("screenshot: {}", artifacts.join("hls.png").display());
}
