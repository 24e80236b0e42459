//! Recording: FLV files written beside the live stream, checked with ffprobe and ffmpeg.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The files in `dir` (sorted), or none if it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Publishes `seconds` of ffmpeg's H.264/AAC (GOP 1 s) to live/NAME and waits for it to end.
fn publish(ng: &Nginx, name: &str, seconds: u32) {
    let out = publish_ffmpeg(&ng.rtmp_url("live", name), seconds)
        .wait_bounded(Duration::from_secs(seconds as u64 + 30));
    assert!(
        out.success(),
        "publisher failed: {:?} {}",
        out.status,
        out.stderr
    );
    // The unpublish reaches the worker right after the publisher's last bytes.
    std::thread::sleep(Duration::from_millis(500));
}

fn assert_plays_alone(path: &Path, check: &FileCheck) {
    assert_eq!(
        check.video_codec.as_deref(),
        Some("h264"),
        "{path:?}: {check:?}"
    );
    assert_eq!(
        check.audio_codec.as_deref(),
        Some("aac"),
        "{path:?}: {check:?}"
    );
    assert!(
        check.starts_with_keyframe,
        "{path:?} does not start at a keyframe"
    );
    assert!(
        check.decode_errors.is_empty(),
        "{path:?} does not decode cleanly: {}",
        check.decode_errors
    );
}

/// `record all`: one FLV per publish that ffprobe reads as h264+aac with the published
/// duration (from the onMetaData duration written at close), every frame decodable.
#[test]
fn record_all_writes_a_playable_flv() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec;",
    ));
    publish(&ng, "show", 6);
    let files = files_in(&ng.file("rec"));
    assert_eq!(files, vec![ng.file("rec/show.flv")], "files: {files:?}");
    let c = check_file(&files[0]);
    eprintln!("{c:?}");
    assert_plays_alone(&files[0], &c);
    assert!((5.0..=6.5).contains(&c.duration), "duration {}", c.duration);
    assert!(c.video_frames >= 140, "video frames {}", c.video_frames);
    let log = ng.error_log();
    assert!(
        log.contains("record: started"),
        "no start line in error.log"
    );
    assert!(log.contains("record: closed"), "no close line in error.log");
    ng.assert_no_alerts();
}

/// `record_interval` with `record_unique`: the recording is cut into pieces at keyframes,
/// each a file of its own that plays alone, and together they hold the whole stream.
#[test]
fn record_interval_pieces_each_play_alone() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec; record_unique on; record_interval 2s;",
    ));
    publish(&ng, "cut", 8);
    let files = files_in(&ng.file("rec"));
    eprintln!("pieces: {files:?}");
    assert!(files.len() >= 3, "expected >= 3 pieces, got {files:?}");
    let mut total = 0.0;
    let mut frames = 0;
    let piece_name = regex::Regex::new(r"^cut-\d{10}(-\d+)?\.flv$").unwrap();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(piece_name.is_match(&name), "unexpected piece name {name}");
        let c = check_file(f);
        eprintln!("{name}: {c:?}");
        assert_plays_alone(f, &c);
        total += c.duration;
        frames += c.video_frames;
    }
    assert!((7.0..=8.8).contains(&total), "pieces add up to {total} s");
    assert!(frames >= 190, "pieces hold {frames} video frames of 200");
}

/// `record_max_frames` without `record_unique`: where the C module would truncate its own
/// earlier piece, every piece is kept under a name of its own.
#[test]
fn record_max_frames_keeps_every_piece() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec; record_max_frames 60;",
    ));
    publish(&ng, "max", 6);
    let files = files_in(&ng.file("rec"));
    eprintln!("pieces: {files:?}");
    assert!(files.len() >= 2, "expected several pieces, got {files:?}");
    assert!(
        files.contains(&ng.file("rec/max.flv")),
        "no max.flv in {files:?}"
    );
    assert!(
        files.contains(&ng.file("rec/max-1.flv")),
        "no max-1.flv in {files:?}"
    );
    let mut frames = 0;
    for f in &files {
        let c = check_file(f);
        eprintln!("{f:?}: {c:?}");
        assert_plays_alone(f, &c);
        assert!(
            c.video_frames <= 60,
            "{f:?} holds {} frames",
            c.video_frames
        );
        frames += c.video_frames;
    }
    // Frames between reaching the limit and the next keyframe are not recorded (as in the
    // C module), so up to one GOP per cut is missing.
    assert!(frames >= 100, "pieces hold {frames} video frames of 150");
}

/// Named recorders run side by side with their own settings: audio only, keyframes only.
#[test]
fn recorder_blocks_audio_and_keyframes() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record_path {tmp}/rec;
         recorder sound { record audio; record_suffix -audio.flv; }
         recorder thumbs { record keyframes; record_path {tmp}/thumbs; }",
    ));
    publish(&ng, "multi", 6);
    let audio = ng.file("rec/multi-audio.flv");
    let thumbs = ng.file("thumbs/multi.flv");
    assert_eq!(files_in(&ng.file("rec")), vec![audio.clone()]);
    assert_eq!(files_in(&ng.file("thumbs")), vec![thumbs.clone()]);
    let a = check_file(&audio);
    eprintln!("audio: {a:?}");
    assert_eq!(a.audio_codec.as_deref(), Some("aac"));
    assert_eq!(a.video_codec, None, "audio recorder wrote video");
    assert!(a.audio_frames > 200, "audio frames {}", a.audio_frames);
    assert!(a.decode_errors.is_empty(), "{}", a.decode_errors);
    let k = check_file(&thumbs);
    eprintln!("keyframes: {k:?}");
    assert_eq!(k.video_codec.as_deref(), Some("h264"));
    assert_eq!(k.audio_codec, None, "keyframes recorder wrote audio");
    assert!(
        (5..=7).contains(&k.video_frames),
        "expected one keyframe per second, got {}",
        k.video_frames
    );
}

/// `record_append on`: a second publish continues the same file, with timestamps after the
/// first one's, so the file plays both sessions back to back.
#[test]
fn record_append_continues_the_file() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec; record_append on;",
    ));
    publish(&ng, "twice", 4);
    let first = check_file(&ng.file("rec/twice.flv"));
    publish(&ng, "twice", 4);
    let both = check_file(&ng.file("rec/twice.flv"));
    eprintln!("first {first:?}\nboth {both:?}");
    assert_eq!(files_in(&ng.file("rec")).len(), 1);
    assert!(both.decode_errors.is_empty(), "{}", both.decode_errors);
    assert!(
        both.video_frames >= first.video_frames + 90,
        "appended file has {} frames, the first session {}",
        both.video_frames,
        first.video_frames
    );
}

/// A write error (here: the file is /dev/full, so every write fails with ENOSPC) stops the
/// recorder with an error line; the stream's players get every frame anyway.
#[test]
fn write_error_stops_the_recorder_not_the_stream() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec;",
    ));
    std::fs::create_dir_all(ng.file("rec")).unwrap();
    std::os::unix::fs::symlink("/dev/full", ng.file("rec/full.flv")).unwrap();
    let url = ng.rtmp_url("live", "full");
    let player = spawn_ffmpeg_player(&url, 5.5);
    std::thread::sleep(Duration::from_millis(800));
    publish(&ng, "full", 6);
    let r = finish_play(player, Duration::from_secs(30));
    eprintln!(
        "player: {} video frames, errors {:?}",
        r.video_frames, r.errors
    );
    assert!(
        r.video_frames >= 120,
        "player got {} frames",
        r.video_frames
    );
    let log = ng.error_log();
    let line = log
        .lines()
        .find(|l| l.contains("[error]") && l.contains("record: stopped"))
        .unwrap_or_else(|| panic!("no record error line in:\n{}", ng.error_log_tail(30)));
    assert!(line.contains("No space left on device"), "{line}");
    assert_eq!(ng.worker_pids().len(), 1);
    ng.assert_no_alerts();
}

/// A worker killed mid-recording leaves a file that plays up to its last complete tag.
#[test]
fn killed_worker_leaves_a_playable_file() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec;",
    ));
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "cut"), 20);
    std::thread::sleep(Duration::from_secs(5));
    for pid in ng.worker_pids() {
        signal(pid, libc::SIGKILL);
    }
    drop(publisher);
    let c = check_file(&ng.file("rec/cut.flv"));
    eprintln!("{c:?}");
    assert_eq!(c.video_codec.as_deref(), Some("h264"));
    assert_eq!(c.audio_codec.as_deref(), Some("aac"));
    assert!(
        c.video_frames >= 75,
        "only {} frames survived",
        c.video_frames
    );
    assert!(c.decode_errors.is_empty(), "{}", c.decode_errors);
}

/// Stream names that could leave record_path are refused before any file is made.
#[test]
fn hostile_names_write_nothing() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec;",
    ));
    for name in ["../escape", "..", "a/../../b", "/etc/x"] {
        let mut c = rtmp::RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
        let r = c.publish(name);
        assert!(r.is_err(), "publish {name:?} was accepted");
    }
    assert!(files_in(&ng.file("rec")).is_empty());
    assert!(!ng.file("escape").exists() && !ng.file("escape.flv").exists());
    assert!(!ng.file("b.flv").exists());
}

/// `record_notify on`: the publisher is told NetStream.Record.Start when the file opens and
/// NetStream.Record.Stop when it closes, with the recorder's name as description.
#[test]
fn record_notify_tells_the_publisher() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; recorder r1 { record video; record_path {tmp}/rec; record_notify on; }",
    ));
    let mut c = rtmp::RtmpClient::connect(ng.rtmp_addr(), "live").expect("connect");
    c.publish("note").expect("publish");
    // An AVC sequence header (avcC of a 640x360 Baseline stream), then two keyframes.
    let avcc: &[u8] = &[
        0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x0a, 0x67, 0x42, 0xc0,
        0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
    ];
    c.send_video(0, avcc).expect("sequence header");
    let key: &[u8] = &[0x17, 0x01, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, 0x84];
    c.send_video(0, key).expect("keyframe");
    c.send_video(40, key).expect("keyframe");
    let (start, _) = c
        .wait_status("NetStream.Record.Start", Duration::from_secs(5))
        .expect("no NetStream.Record.Start");
    eprintln!("{start:?}");
    assert!(matches!(&start, rtmp::Event::Status { description, .. } if description == "r1"));
    c.stop_publishing().expect("unpublish");
    c.wait_status("NetStream.Record.Stop", Duration::from_secs(5))
        .expect("no NetStream.Record.Stop");
    assert!(ng.file("rec/note.flv").is_file());
}

/// `record_lock on`: while a file is recorded the worker holds a POSIX write lock on it (what
/// a copy job asks with F_GETLK); once the recording ends the lock is gone.
#[test]
fn record_lock_marks_the_file_in_progress() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on; record all; record_path {tmp}/rec; record_lock on;",
    ));
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "locked"), 5);
    let path = ng.file("rec/locked.flv");
    let holder = wait_for(Duration::from_secs(5), || lock_holder(&path))
        .expect("no lock on the file being recorded");
    assert_eq!(
        vec![holder],
        ng.worker_pids(),
        "the lock is not the worker's"
    );
    let _ = publisher.wait_bounded(Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        lock_holder(&path),
        None,
        "still locked after the recording ended"
    );
}

/// The pid holding a write lock on `path`, per fcntl(F_GETLK).
fn lock_holder(path: &Path) -> Option<i32> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .ok()?;
    // SAFETY: an all-zero flock is valid; F_GETLK fills it in.
    let fl = unsafe {
        let mut fl: libc::flock = std::mem::zeroed();
        fl.l_type = libc::F_WRLCK as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        if libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) != 0 {
            return None;
        }
        fl
    };
    (fl.l_type != libc::F_UNLCK as libc::c_short).then_some(fl.l_pid)
}
