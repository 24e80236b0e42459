//! HLS: MPEG-TS fragments and playlists under hls_path, served by nginx's own http, read by
//! ffprobe, ffmpeg's HLS demuxer and (tests/hls_browser.rs) hls.js in Chromium.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::proc::run_bounded;
use ngx_rtmp_tests::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const HLS_LOCATION: &str = "location /hls {
    alias {tmp}/hls;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    add_header Cache-Control no-cache;
}";

fn start(app_body: &str) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", app_body));
    opts.http_server_extra = HLS_LOCATION.to_string();
    Nginx::start_opts(opts)
}

/// One playlist as a client reads it.
#[derive(Debug, Default, Clone)]
struct Playlist {
    target: u64,
    sequence: u64,
    entries: Vec<(f64, String)>,
    ended: bool,
    text: String,
}

fn parse_playlist(text: &str) -> Playlist {
    let mut p = Playlist {
        text: text.to_string(),
        ..Default::default()
    };
    let mut dur = None;
    for l in text.lines().map(str::trim) {
        if let Some(v) = l.strip_prefix("#EXT-X-TARGETDURATION:") {
            p.target = v.parse().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            p.sequence = v.parse().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("#EXTINF:") {
            dur = v.split(',').next().and_then(|d| d.parse().ok());
        } else if l == "#EXT-X-ENDLIST" {
            p.ended = true;
        } else if !l.is_empty() && !l.starts_with('#') {
            p.entries.push((dur.take().unwrap_or(-1.0), l.to_string()));
        }
    }
    p
}

/// Apple's rules for one playlist: it starts with #EXTM3U, every EXTINF rounded is at most
/// the target duration, and every fragment has a duration.
fn check_apple_rules(p: &Playlist) {
    assert!(p.text.starts_with("#EXTM3U"), "playlist:\n{}", p.text);
    assert!(p.target > 0, "no target duration:\n{}", p.text);
    for (d, uri) in &p.entries {
        assert!(*d > 0.0, "{uri} has no duration:\n{}", p.text);
        assert!(
            d.round() as u64 <= p.target,
            "EXTINF {d} of {uri} exceeds target {}:\n{}",
            p.target,
            p.text
        );
    }
}

/// ffprobe's start time and duration of one fragment.
fn fragment_times(path: &Path) -> (f64, f64) {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error", "-show_entries", "format=start_time,duration"])
        .args(["-of", "csv=p=0"])
        .arg(path);
    let out = run_bounded(c, Duration::from_secs(30));
    let v: Vec<f64> = out
        .stdout
        .trim()
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    assert_eq!(
        v.len(),
        2,
        "ffprobe {path:?}: {} {}",
        out.stdout,
        out.stderr
    );
    (v[0], v[1])
}

/// While ffmpeg publishes 16 s, the playlist (read over HTTP every 250 ms) always follows
/// Apple's rules, its media sequence only grows, and it slides; ffmpeg's HLS demuxer reads
/// the live playlist without an error, a discontinuity or a timestamp warning; afterwards
/// every fragment is h264+aac in ffprobe and each starts where the one before ended.
#[test]
fn live_playlist_and_fragments() {
    let ng = start("live on; hls on; hls_path {tmp}/hls; hls_fragment 2s; hls_playlist_length 8s;");
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "tv"), 16);
    let url = ng.http_url("/hls/tv.m3u8");
    let first = wait_for(Duration::from_secs(10), || {
        match http_get(&url, Duration::from_secs(2)) {
            Ok((200, body)) if !body.is_empty() => Some(body),
            _ => None,
        }
    })
    .expect("no playlist within 10 s of publishing");
    eprintln!("first playlist:\n{first}");

    let mut reader = Command::new("ffmpeg");
    reader
        .args(["-nostdin", "-hide_banner", "-nostats", "-v", "warning"])
        .args(["-i", &url, "-t", "6", "-f", "null", "-"]);
    let reader = ChildGuard::spawn(reader);

    let mut seen: Vec<Playlist> = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(14) {
        if let Ok((200, body)) = http_get(&url, Duration::from_secs(2)) {
            let p = parse_playlist(&body);
            check_apple_rules(&p);
            if let Some(last) = seen.last() {
                assert!(
                    p.sequence >= last.sequence,
                    "sequence went back:\n{}\n{}",
                    last.text,
                    p.text
                );
                if let Some(pos) = last
                    .entries
                    .iter()
                    .position(|e| p.entries.first() == Some(e))
                {
                    assert_eq!(
                        p.sequence,
                        last.sequence + pos as u64,
                        "sequence does not count dropped fragments"
                    );
                }
            }
            let total: f64 = p.entries.iter().map(|e| e.0).sum();
            assert!(total <= 8.0 + 4.5, "playlist holds {total} s:\n{}", p.text);
            seen.push(p);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let last = seen.last().expect("no playlist read").clone();
    eprintln!("last playlist while live:\n{}", last.text);
    assert!(last.sequence > 0, "the playlist never slid");

    let read = reader.wait_bounded(Duration::from_secs(30));
    eprintln!("ffmpeg HLS reader stderr: {:?}", read.stderr);
    assert!(
        read.success(),
        "ffmpeg could not read the live playlist: {}",
        read.stderr
    );
    assert!(
        read.stderr.trim().is_empty(),
        "ffmpeg warned while reading:\n{}",
        read.stderr
    );

    let out = publisher.wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "publisher: {}", out.stderr);
    std::thread::sleep(Duration::from_millis(500));

    let fin = parse_playlist(&std::fs::read_to_string(ng.file("hls/tv.m3u8")).unwrap());
    eprintln!("final playlist:\n{}", fin.text);
    check_apple_rules(&fin);
    let mut prev_end: Option<f64> = None;
    for (extinf, uri) in &fin.entries {
        let path = ng.file(&format!("hls/{uri}"));
        let c = check_file(&path);
        assert_eq!(c.video_codec.as_deref(), Some("h264"), "{uri}: {c:?}");
        assert_eq!(c.audio_codec.as_deref(), Some("aac"), "{uri}: {c:?}");
        assert!(
            c.starts_with_keyframe,
            "{uri} does not start with a keyframe"
        );
        assert!(c.decode_errors.is_empty(), "{uri}: {}", c.decode_errors);
        let (start, dur) = fragment_times(&path);
        eprintln!("{uri}: start {start:.3} duration {dur:.3} extinf {extinf}");
        assert!(
            (dur - extinf).abs() < 0.3,
            "{uri}: EXTINF {extinf} but ffprobe {dur}"
        );
        if let Some(end) = prev_end {
            assert!(
                (start - end).abs() < 0.1,
                "{uri} starts at {start}, the previous ended at {end}"
            );
        }
        prev_end = Some(start + extinf);
    }
    ng.assert_no_alerts();
}

/// `hls_nested on` puts a stream's playlist and fragments in a directory of its own, and
/// `hls_cleanup` keeps that directory from growing without bound.
#[test]
fn nested_layout_and_cleanup() {
    let ng = start(
        "live on; hls on; hls_path {tmp}/hls; hls_nested on; hls_fragment 1s;
         hls_playlist_length 3s;",
    );
    let out =
        publish_ffmpeg(&ng.rtmp_url("live", "nest"), 16).wait_bounded(Duration::from_secs(45));
    assert!(out.success(), "publisher: {}", out.stderr);
    std::thread::sleep(Duration::from_millis(500));
    let dir = ng.file("hls/nest");
    let p = parse_playlist(&std::fs::read_to_string(dir.join("index.m3u8")).unwrap());
    eprintln!("{}", p.text);
    check_apple_rules(&p);
    let ts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".ts"))
        .collect();
    eprintln!("fragments on disk: {ts:?}");
    for (_, uri) in &p.entries {
        assert!(dir.join(uri).is_file(), "{uri} listed but missing");
    }
    assert!(
        p.sequence >= 5,
        "sequence {} after 16 s of 1 s fragments",
        p.sequence
    );
    assert!(ts.len() < 12, "cleanup left {} fragments: {ts:?}", ts.len());
}

/// An hls_path that cannot be a directory costs this stream its HLS, with an error line,
/// and nothing else: players get the stream.
#[test]
fn unusable_hls_path_keeps_the_stream() {
    let ng = start("live on; hls on; hls_path {tmp}/not-a-dir;");
    std::fs::write(ng.file("not-a-dir"), b"a file").unwrap();
    let url = ng.rtmp_url("live", "x");
    let player = spawn_ffmpeg_player(&url, 4.5);
    std::thread::sleep(Duration::from_millis(800));
    let publisher = publish_ffmpeg(&url, 5);
    let r = finish_play(player, Duration::from_secs(30));
    drop(publisher);
    assert!(
        r.video_frames >= 100,
        "player got {} frames",
        r.video_frames
    );
    let log = ng.error_log();
    assert!(
        log.lines()
            .any(|l| l.contains("[error]") && l.contains("hls:")),
        "no hls error line:\n{}",
        ng.error_log_tail(20)
    );
    ng.assert_no_alerts();
}

/// `hls_variant`: two renditions published as NAME_low and NAME_hi get a master playlist
/// NAME.m3u8 listing both with their parameters, which ffmpeg opens as two programs' streams.
#[test]
fn variants_get_a_master_playlist() {
    let ng = start(
        "live on; hls on; hls_path {tmp}/hls; hls_fragment 1s;
         hls_variant _low BANDWIDTH=300000;
         hls_variant _hi BANDWIDTH=1500000,RESOLUTION=640x360;",
    );
    let low = publish_ffmpeg_with(
        &ng.rtmp_url("live", "cam_low"),
        10,
        "testsrc2=size=320x180:rate=25",
        &["-g", "25"],
    );
    let hi = publish_ffmpeg(&ng.rtmp_url("live", "cam_hi"), 10);
    let master = ng.http_url("/hls/cam.m3u8");
    let text = wait_for(Duration::from_secs(10), || {
        let (code, body) = http_get(&master, Duration::from_secs(2)).ok()?;
        (code == 200 && !body.is_empty()).then_some(body)
    })
    .expect("no master playlist");
    eprintln!("master:\n{text}");
    assert!(text.starts_with("#EXTM3U"));
    assert!(text.contains("BANDWIDTH=300000\ncam_low.m3u8\n"), "{text}");
    assert!(
        text.contains("BANDWIDTH=1500000,RESOLUTION=640x360\ncam_hi.m3u8\n"),
        "{text}"
    );
    wait_for(Duration::from_secs(10), || {
        let ok = |n: &str| {
            http_get(
                &ng.http_url(&format!("/hls/{n}.m3u8")),
                Duration::from_secs(2),
            )
            .is_ok_and(|(c, b)| c == 200 && b.matches("#EXTINF").count() >= 2)
        };
        (ok("cam_low") && ok("cam_hi")).then_some(())
    })
    .expect("variant playlists did not fill");
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error", "-show_entries", "stream=codec_type,width"])
        .args(["-of", "csv=p=0", &master]);
    let out = run_bounded(c, Duration::from_secs(30));
    eprintln!("ffprobe master: {}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("video,320"), "{}", out.stdout);
    assert!(out.stdout.contains("video,640"), "{}", out.stdout);
    drop((low, hi));
}
