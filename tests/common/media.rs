//! Real media tools as publishers and players: ffmpeg, ffprobe, rtmpdump, gst-launch-1.0.

use super::proc::{run_bounded, ChildGuard, Output};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const FPS: u32 = 25;

/// `ffmpeg -re` publishing `seconds` of lavfi testsrc2 640x360@25 + 440 Hz sine as
/// H.264 (ultrafast, zerolatency, GOP 25) + AAC 64k to `url`. Killed on drop.
pub fn publish_ffmpeg(url: &str, seconds: u32) -> ChildGuard {
    publish_ffmpeg_gop(url, seconds, 25)
}

pub fn publish_ffmpeg_gop(url: &str, seconds: u32, gop: u32) -> ChildGuard {
    let gop = gop.to_string();
    publish_ffmpeg_with(url, seconds, "testsrc2=size=640x360:rate=25", &["-g", &gop])
}

/// `ffmpeg -re` publishing `seconds` of the lavfi video source `video_src` (25 fps) + a
/// 440 Hz sine as H.264 (ultrafast, zerolatency, yuv420p, 1 thread; `video_args` are added
/// after those, e.g. `-g`, `-b:v`, `-vf`) + AAC 64k. Killed on drop.
pub fn publish_ffmpeg_with(
    url: &str,
    seconds: u32,
    video_src: &str,
    video_args: &[&str],
) -> ChildGuard {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-nostats"])
        .args(["-loglevel", "level+warning", "-re"])
        .args(["-f", "lavfi", "-i", video_src])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "ultrafast"])
        .args([
            "-tune",
            "zerolatency",
            "-pix_fmt",
            "yuv420p",
            "-threads",
            "1",
        ])
        .args(video_args)
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "flv", url]);
    ChildGuard::spawn(c)
}

/// Writes `seconds` of testsrc2 640x360@25 (GOP 25) + sine as H.264 + AAC into the FLV file
/// `out` (as fast as ffmpeg goes, no `-re`). Panics if ffmpeg fails.
pub fn make_flv(out: &Path, seconds: u32) {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-y"])
        .arg(out);
    let o = run_bounded(c, Duration::from_secs(60));
    assert!(
        o.success() && out.is_file(),
        "ffmpeg could not write {}: {:?} {}",
        out.display(),
        o.status,
        o.stderr
    );
}

/// GStreamer as publisher: `videotestsrc num-buffers=25*seconds is-live=true ! x264enc !
/// flvmux ! rtmp2sink`, with `audiotestsrc ! avenc_aac` muxed in when `audio` is set.
pub fn spawn_gst_publish(url: &str, seconds: u32, audio: bool) -> ChildGuard {
    let mut c = Command::new("gst-launch-1.0");
    c.arg("-e")
        .args(["videotestsrc", "is-live=true"])
        .arg(format!("num-buffers={}", seconds * FPS))
        .args(["!", "video/x-raw,width=640,height=360,framerate=25/1"])
        .args(["!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast"])
        .args(["key-int-max=25", "threads=1"])
        .args(["!", "video/x-h264,profile=main", "!", "h264parse"])
        .args(["!", "flvmux", "name=mux", "streamable=true"])
        .args(["!", "rtmp2sink"])
        .arg(format!("location={}", url));
    if audio {
        // Same duration as the video: 44100 Hz in buffers of 1764 samples = 25 per second.
        c.args(["audiotestsrc", "is-live=true", "samplesperbuffer=1764"])
            .arg(format!("num-buffers={}", seconds * 25))
            .args(["!", "audioconvert", "!", "audioresample"])
            .args(["!", "audio/x-raw,rate=44100,channels=2"])
            .args(["!", "avenc_aac", "!", "aacparse", "!", "mux."]);
    }
    ChildGuard::spawn(c)
}

/// Compiles `fixtures/librtmp_publish.c` with `cc ... -lrtmp` into `dir`.
pub fn build_librtmp_publisher(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/librtmp_publish.c");
    let bin = dir.join("librtmp_publish");
    let mut c = Command::new("cc");
    c.args(["-O1", "-Wall", "-o"])
        .arg(&bin)
        .arg(&src)
        .arg("-lrtmp");
    let o = run_bounded(c, Duration::from_secs(60));
    assert!(
        o.success(),
        "cc {} -lrtmp failed ({:?}); is librtmp-dev installed (scripts/deps)?\n{}{}",
        src.display(),
        o.status,
        o.stdout,
        o.stderr
    );
    bin
}

/// What an ffmpeg player saw.
#[derive(Debug, Clone, Default)]
pub struct PlayResult {
    /// Input codec names as ffmpeg reported them ("h264", "aac", ...).
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    /// Decoded frames per media type.
    pub video_frames: u32,
    pub audio_frames: u32,
    /// stderr lines at level error or fatal.
    pub errors: Vec<String>,
    pub output: Option<Output>,
}

/// Fails unless `r` decoded h264 and aac, at least 90% of `seconds` of 25 fps video and of
/// 44.1 kHz AAC (1024 samples a frame): what the test publishers send.
pub fn assert_decoded(what: &str, r: &PlayResult, seconds: f64) {
    let video = (seconds * 25.0 * 0.9) as u32;
    let audio = (seconds * 44100.0 / 1024.0 * 0.9) as u32;
    eprintln!(
        "{what}: {} video / {} audio frames decoded in {seconds} s (need {video} / {audio})",
        r.video_frames, r.audio_frames
    );
    assert_eq!(r.video_codec.as_deref(), Some("h264"), "{what}: {r:?}");
    assert_eq!(r.audio_codec.as_deref(), Some("aac"), "{what}: {r:?}");
    assert!(
        r.video_frames >= video && r.audio_frames >= audio,
        "{what}: too few frames: {r:?}"
    );
}

/// Spawn an ffmpeg player that decodes everything it receives (`-f framecrc -`, which
/// decodes each frame) until the stream ends (UnpublishNotify/EOF), `max_seconds` of
/// media were read, or no data for `rw_timeout`. Collect with `finish_play`.
pub fn spawn_ffmpeg_player(url: &str, max_seconds: f64) -> ChildGuard {
    let mut c = Command::new("ffmpeg");
    c.args([
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
    ])
    .args(["-rw_timeout", "6000000", "-i", url])
    .args([
        "-map",
        "0:v:0?",
        "-map",
        "0:a:0?",
        "-t",
        &max_seconds.to_string(),
    ])
    .args(["-f", "framecrc", "-"]);
    ChildGuard::spawn(c)
}

/// Play `url` with ffmpeg for at most `seconds` of media (or until the stream ends) and
/// return codecs, decoded frame counts and error lines. Bounded by `seconds + 40` s.
pub fn play_count_frames(url: &str, seconds: f64) -> PlayResult {
    finish_play(
        spawn_ffmpeg_player(url, seconds),
        Duration::from_secs_f64(seconds + 40.0),
    )
}

pub fn finish_play(g: ChildGuard, limit: Duration) -> PlayResult {
    let out = g.wait_bounded(limit);
    parse_play(out)
}

pub fn parse_play(out: Output) -> PlayResult {
    let mut r = PlayResult::default();
    let re = Regex::new(r"Stream #0:\d+[^:]*: (Video|Audio): ([A-Za-z0-9_]+)").unwrap();
    let mut in_input = false;
    for l in out.stderr.lines() {
        if l.contains("Input #0") {
            in_input = true;
        }
        if l.contains("Output #0") || l.contains("Stream mapping") {
            in_input = false;
        }
        if in_input {
            if let Some(c) = re.captures(l) {
                let codec = c[2].to_string();
                if &c[1] == "Video" && r.video_codec.is_none() {
                    r.video_codec = Some(codec);
                } else if &c[1] == "Audio" && r.audio_codec.is_none() {
                    r.audio_codec = Some(codec);
                }
            }
        }
        if l.contains("[error]") || l.contains("[fatal]") {
            r.errors.push(l.to_string());
        }
    }
    // framecrc: "#media_type N: video" headers, then "N, dts, pts, dur, size, crc" per frame.
    let mut types = std::collections::HashMap::new();
    for l in out.stdout.lines() {
        if let Some(rest) = l.strip_prefix("#media_type ") {
            if let Some((idx, t)) = rest.split_once(": ") {
                types.insert(idx.trim().to_string(), t.trim().to_string());
            }
        } else if !l.starts_with('#') {
            if let Some((idx, _)) = l.split_once(',') {
                match types.get(idx.trim()).map(|s| s.as_str()) {
                    Some("video") => r.video_frames += 1,
                    Some("audio") => r.audio_frames += 1,
                    _ => {}
                }
            }
        }
    }
    r.output = Some(out);
    r
}

/// `ffmpeg -v error -i URL -t N -f null -`: the exact "decodes with no error" check.
/// Returns the Output; its stderr must be empty for a clean decode.
pub fn spawn_ffmpeg_strict_decode(url: &str, seconds: u32) -> ChildGuard {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-nostats", "-v", "error"])
        .args(["-rw_timeout", "6000000", "-i", url])
        .args(["-t", &seconds.to_string(), "-f", "null", "-"]);
    ChildGuard::spawn(c)
}

/// Flags of the first video packet a fresh player gets ("K_" means keyframe).
pub fn spawn_first_video_packet_flags(url: &str) -> ChildGuard {
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-rw_timeout",
        "6000000",
        "-select_streams",
        "v",
    ])
    .args(["-show_packets", "-read_intervals", "%+#1"])
    .args([
        "-show_entries",
        "packet=flags,pts_time",
        "-of",
        "csv=p=0",
        url,
    ]);
    ChildGuard::spawn(c)
}

/// One stream of a media file, per ffprobe -count_frames.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub codec_type: String,
    pub codec_name: String,
    pub frames: u64,
}

pub fn probe_file(path: &Path) -> (Vec<StreamInfo>, String) {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error", "-count_frames"])
        .args([
            "-show_entries",
            "stream=codec_type,codec_name,nb_read_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path);
    let out = run_bounded(c, Duration::from_secs(60));
    let mut v = Vec::new();
    for l in out.stdout.lines() {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() >= 3 {
            v.push(StreamInfo {
                codec_name: f[0].to_string(),
                codec_type: f[1].to_string(),
                frames: f[2].trim().parse().unwrap_or(0),
            });
        }
    }
    (v, out.stderr)
}

/// `rtmpdump -r URL -v -B seconds -o file` (live, stop at `seconds` into the stream).
pub fn spawn_rtmpdump(url: &str, seconds: u32, out: &Path) -> ChildGuard {
    let mut c = Command::new("rtmpdump");
    c.args([
        "-q",
        "-r",
        url,
        "-v",
        "-m",
        "10",
        "-B",
        &seconds.to_string(),
        "-o",
    ])
    .arg(out);
    ChildGuard::spawn(c)
}

/// GStreamer: `rtmp2src location=URL num-buffers=N ! filesink location=out` (the FLV stream
/// rtmp2src emits, written as is).
pub fn spawn_gst_record(url: &str, num_buffers: u32, out: &Path) -> ChildGuard {
    let mut c = Command::new("gst-launch-1.0");
    c.arg("-q")
        .args(["rtmp2src", &format!("location={}", url), "timeout=10"])
        .arg(format!("num-buffers={}", num_buffers))
        .args(["!", "filesink"])
        .arg(format!("location={}", out.display()));
    ChildGuard::spawn(c)
}

/// What ffprobe and a strict ffmpeg decode say about one media file.
#[derive(Debug, Clone, Default)]
pub struct FileCheck {
    pub duration: f64,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub video_frames: u64,
    pub audio_frames: u64,
    /// Whether the first video packet in the file is a keyframe.
    pub starts_with_keyframe: bool,
    /// `ffmpeg -v error -i FILE -f null -` stderr: empty for a clean decode.
    pub decode_errors: String,
}

pub fn check_file(path: &Path) -> FileCheck {
    let mut r = FileCheck::default();
    for s in probe_file(path).0 {
        match s.codec_type.as_str() {
            "video" => {
                r.video_codec = Some(s.codec_name);
                r.video_frames = s.frames;
            }
            "audio" => {
                r.audio_codec = Some(s.codec_name);
                r.audio_frames = s.frames;
            }
            _ => {}
        }
    }
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
    ])
    .arg(path);
    let out = run_bounded(c, Duration::from_secs(30));
    r.duration = out.stdout.trim().parse().unwrap_or(0.0);
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-read_intervals",
        "%+#1",
    ])
    .args(["-show_entries", "packet=flags", "-of", "csv=p=0"])
    .arg(path);
    let out = run_bounded(c, Duration::from_secs(30));
    r.starts_with_keyframe = out.stdout.trim_start().starts_with('K');
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"]);
    let out = run_bounded(c, Duration::from_secs(60));
    r.decode_errors = out.stderr.trim().to_string();
    r
}
