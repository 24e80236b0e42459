//! The recorder against files in memory: what each piece holds, read back with a strict
//! FLV reader.

use bytes::Bytes;

use crate::config::record::{
    RECORD_AUDIO, RECORD_KEYFRAMES, RECORD_MANUAL, RECORD_OFF, RECORD_VIDEO,
};
use crate::hub::FrameKind::{Audio, Data, Video};
use crate::media::amf0_scan::Value;
use crate::test_rng::XorShift;

use super::test_support::*;
use super::RecorderConf;

const ALL: u32 = RECORD_AUDIO | RECORD_VIDEO;

fn conf(flags: u32) -> RecorderConf {
    RecorderConf {
        flags,
        ..RecorderConf::default()
    }
}

/// (tag type, timestamp, frame number) of the media tags after the head: the tags that
/// are neither script data nor sequence headers.
fn frames(tags: &[Tag]) -> Vec<(u8, u32, u32)> {
    tags.iter()
        .filter(|t| t.tag_type != 18 && t.body.get(1) != Some(&0))
        .map(|t| (t.tag_type, t.ts, frame_no(t)))
        .collect()
}

/// Checks the head every piece must start with: onMetaData, then the sequence headers
/// at 0, then a video keyframe at 0 (or audio at 0 when `audio_first`).
fn assert_head(tags: &[Tag], video: bool, audio: bool) {
    let mut it = tags.iter();
    let meta = it.next().expect("metadata tag");
    assert_eq!(meta.tag_type, 18);
    assert!(meta_number(&meta.body, "duration").is_some());
    if video {
        let t = it.next().expect("video sequence header");
        assert_eq!(
            (t.tag_type, t.ts, t.body.clone()),
            (9, 0, avc_seq().to_vec())
        );
    }
    if audio {
        let t = it.next().expect("audio sequence header");
        assert_eq!(
            (t.tag_type, t.ts, t.body.clone()),
            (8, 0, aac_seq().to_vec())
        );
    }
    let first = it.next().expect("first frame");
    assert_eq!(first.ts, 0);
    if video {
        assert_eq!(first.tag_type, 9);
        assert_eq!(
            first.body.first(),
            Some(&0x17),
            "piece starts on a keyframe"
        );
    } else {
        assert_eq!(first.tag_type, 8);
    }
}

#[test]
fn piece_head_and_rebased_timestamps() {
    let mut r = Rig::new(conf(ALL));
    r.publish_head(4960);
    // Before the first keyframe: not recorded.
    r.feed(Video, 4960, &video(false, 1));
    r.feed(Audio, 4980, &aac(2));
    assert!(!r.rec.is_recording());
    r.av(5000, 2000, 25);
    assert!(r.rec.is_recording());
    r.stop();
    assert!(!r.rec.is_recording());

    let file = r.files.file(0).to_vec();
    let flv = parse_flv(&file);
    assert_eq!(flv.flags, 5);
    assert_head(&flv.tags, true, true);
    let f = frames(&flv.tags);
    assert_eq!(f.len(), 100);
    assert_eq!(f.first(), Some(&(9, 0, 5000)));
    assert_eq!(f.get(1), Some(&(8, 20, 5020)));
    assert_eq!(f.last(), Some(&(8, 1980, 6980)));
    assert!(flv.tags.windows(2).all(|w| w[0].ts <= w[1].ts));

    let meta = &flv.tags[0].body;
    let props = meta_props(meta);
    let names: Vec<&str> = props.iter().map(|p| p.0.as_str()).collect();
    // The publisher's duration is replaced by the recorder's own.
    assert_eq!(
        names,
        [
            "width",
            "videocodecid",
            "audiocodecid",
            "duration",
            "filesize"
        ]
    );
    // The last audio frame at 1980 plays for 40 ms.
    assert_eq!(meta_number(meta, "duration"), Some(2.02));
    assert_eq!(meta_number(meta, "filesize"), Some(file.len() as f64));
    assert_eq!(r.opened(), [0]);
    assert_eq!(r.closed(), [(0, file.len() as u64, 50, 2020)]);
    assert_eq!(r.files.open, None);
    assert_eq!(r.files.overlaps, 0);
}

#[test]
fn record_audio_only() {
    let mut r = Rig::new(conf(RECORD_AUDIO));
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.flags, 4);
    assert_head(&flv.tags, false, true);
    let f = frames(&flv.tags);
    assert_eq!(f.len(), 25);
    assert!(f.iter().all(|t| t.0 == 8));
    assert_eq!(f.first(), Some(&(8, 0, 20)));
    let names: Vec<String> = meta_props(&flv.tags[0].body)
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(names, ["audiocodecid", "duration", "filesize"]);
    // max_frames would count audio frames here; video_frames reports video.
    assert_eq!(r.closed().first().map(|c| c.2), Some(0));
}

#[test]
fn record_video_only() {
    let mut r = Rig::new(conf(RECORD_VIDEO));
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.flags, 1);
    assert_head(&flv.tags, true, false);
    let f = frames(&flv.tags);
    assert_eq!(f.len(), 25);
    assert!(f.iter().all(|t| t.0 == 9));
}

#[test]
fn record_keyframes_only() {
    let mut r = Rig::new(conf(RECORD_KEYFRAMES));
    r.publish_head(0);
    r.av(0, 3000, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.flags, 1);
    assert_head(&flv.tags, true, false);
    assert_eq!(
        frames(&flv.tags),
        [(9, 0, 0), (9, 1000, 1000), (9, 2000, 2000)]
    );
    assert!(flv
        .tags
        .iter()
        .all(|t| t.tag_type != 9 || t.body[0] == 0x17));
}

#[test]
fn record_audio_and_keyframes_starts_on_a_keyframe() {
    let mut r = Rig::new(conf(RECORD_AUDIO | RECORD_KEYFRAMES));
    r.publish_head(0);
    r.av(40, 1960, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.flags, 5);
    assert_head(&flv.tags, true, true);
    let f = frames(&flv.tags);
    assert_eq!(f.first(), Some(&(9, 0, 1000)));
    assert_eq!(f.iter().filter(|t| t.0 == 9).count(), 1);
    assert_eq!(f.iter().filter(|t| t.0 == 8).count(), 25);
}

#[test]
fn off_records_nothing() {
    for flags in [RECORD_OFF, RECORD_OFF | ALL, 0, RECORD_MANUAL] {
        let mut r = Rig::new(conf(flags));
        r.publish_head(0);
        r.av(0, 2000, 25);
        r.rec.start();
        r.av(2000, 2000, 25);
        r.stop();
        assert!(r.events.is_empty(), "flags {flags:#x}");
        assert!(r.files.files.is_empty());
    }
}

#[test]
fn audio_only_stream_with_record_all() {
    let mut r = Rig::new(conf(ALL));
    r.feed(Audio, 0, &aac_seq());
    for t in 0..50 {
        r.feed(Audio, 100 + t * 23, &aac(t));
    }
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.flags, 4);
    assert_head(&flv.tags, false, true);
    assert_eq!(frames(&flv.tags).len(), 50);
}

#[test]
fn header_flags_follow_what_was_written() {
    // No metadata and no video yet: the piece opens on audio, and video joins later.
    let mut r = Rig::new(conf(ALL));
    r.feed(Audio, 0, &aac_seq());
    r.feed(Audio, 10, &aac(10));
    assert!(r.rec.is_recording());
    r.feed(Video, 20, &avc_seq());
    r.feed(Video, 20, &video(false, 20));
    r.feed(Video, 60, &video(true, 60));
    r.feed(Audio, 70, &aac(70));
    r.stop();
    let flv = parse_flv(r.files.file(0));
    // The header said audio only when it was written; it is patched at close.
    assert_eq!(flv.flags, 5);
    assert_eq!(frames(&flv.tags), [(8, 0, 10), (9, 50, 60), (8, 60, 70)]);
    // The sequence header that came mid-piece is written as a frame.
    assert!(flv
        .tags
        .iter()
        .any(|t| t.tag_type == 9 && t.body == avc_seq().to_vec() && t.ts == 10));
}

#[test]
fn manual_start_and_stop() {
    let mut r = Rig::new(conf(ALL | RECORD_MANUAL));
    r.publish_head(0);
    r.av(0, 1000, 25);
    assert!(r.events.is_empty());
    assert!(r.rec.start());
    assert!(!r.rec.is_recording());
    r.av(1000, 40, 25);
    assert!(r.rec.is_recording());
    assert!(!r.rec.start(), "already recording");
    r.av(1040, 460, 25);
    r.stop();
    assert_eq!(r.closed().len(), 1);
    r.av(1500, 1000, 25);
    assert_eq!(r.opened(), [0]);
    assert!(r.rec.start());
    r.av(2500, 1000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1]);
    for piece in [0, 1] {
        let flv = parse_flv(r.files.file(piece));
        assert_head(&flv.tags, true, true);
    }
    let f1 = frames(&parse_flv(r.files.file(1)).tags);
    assert_eq!(f1.first(), Some(&(9, 0, 3020)));
    assert_eq!(f1.last(), Some(&(8, 460, 3480)));
}

#[test]
fn stop_and_start_an_automatic_recorder() {
    let mut r = Rig::new(conf(ALL));
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    r.av(1000, 1000, 25);
    assert_eq!(r.opened(), [0]);
    assert!(r.rec.start());
    r.av(2000, 1000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1]);
    assert_eq!(r.closed().len(), 2);
}

#[test]
fn max_size_cuts_pieces_that_each_start_decodable() {
    let mut c = conf(ALL);
    c.max_size = 2000;
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 10_000, 25);
    r.stop();
    let closed = r.closed();
    assert_eq!(r.opened(), [0, 1, 2, 3, 4]);
    assert_eq!(closed.len(), 5);
    for (piece, bytes, _, _) in &closed[..4] {
        let file = r.files.file(*piece);
        assert_eq!(*bytes, file.len() as u64);
        // Closed by the frame that crossed the limit.
        assert!((2000..2030).contains(bytes), "piece {piece}: {bytes}");
        let flv = parse_flv(file);
        assert_head(&flv.tags, true, true);
        assert_eq!(
            meta_number(&flv.tags[0].body, "filesize"),
            Some(*bytes as f64)
        );
        // Each opened at the first keyframe after the previous one closed.
        assert_eq!(frames(&flv.tags).first().map(|f| f.2), Some(piece * 2000));
    }
}

#[test]
fn max_frames_counts_video_frames() {
    let mut c = conf(ALL);
    c.max_frames = 30;
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 3000, 25);
    r.stop();
    let closed = r.closed();
    assert_eq!(closed.iter().map(|c| c.2).collect::<Vec<_>>(), [30, 25]);
    let f0 = frames(&parse_flv(r.files.file(0)).tags);
    assert_eq!(f0.iter().filter(|f| f.0 == 9).count(), 30);
    assert_eq!(f0.last(), Some(&(9, 1160, 1160)));
    let f1 = frames(&parse_flv(r.files.file(1)).tags);
    assert_eq!(f1.first(), Some(&(9, 0, 2000)));
}

#[test]
fn max_frames_counts_audio_when_video_is_not_recorded() {
    let mut c = conf(RECORD_AUDIO);
    c.max_frames = 10;
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1, 2]);
    let f1 = frames(&parse_flv(r.files.file(1)).tags);
    assert_eq!(f1.len(), 10);
    assert_eq!(f1.first(), Some(&(8, 0, 420)));
}

#[test]
fn interval_cuts_at_the_first_keyframe_past_it() {
    let mut c = conf(ALL);
    c.interval_ms = Some(2000);
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 7000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1, 2, 3]);
    let closed = r.closed();
    assert_eq!(
        closed.iter().map(|c| (c.0, c.2, c.3)).collect::<Vec<_>>(),
        [(0, 50, 2020), (1, 50, 2020), (2, 50, 2020), (3, 25, 1020)]
    );
    for piece in 0..4 {
        let flv = parse_flv(r.files.file(piece));
        assert_head(&flv.tags, true, true);
        let f = frames(&flv.tags);
        assert_eq!(f.first(), Some(&(9, 0, piece * 2000)));
        assert_eq!(
            meta_number(&flv.tags[0].body, "duration"),
            Some(closed[piece as usize].3 as f64 / 1000.0)
        );
    }
}

#[test]
fn interval_zero_cuts_at_every_keyframe() {
    let mut c = conf(ALL);
    c.interval_ms = Some(0);
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 3000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1, 2]);
}

#[test]
fn interval_follows_the_clock_not_timestamps() {
    let mut c = conf(ALL);
    c.interval_ms = Some(1500);
    let mut r = Rig::new(c);
    r.publish_head(0);
    // Timestamps run at half speed against the clock.
    for i in 0..100u32 {
        let key = i % 25 == 0;
        let now = 1_000_000 + u64::from(i) * 80;
        r.rec.frame(
            &mut r.files,
            now,
            Video,
            i * 40,
            &video(key, i),
            &mut r.events,
        );
    }
    r.stop();
    // Keyframes at clock 0, 2000, 4000, 6000 ms: each is past 1500 ms.
    assert_eq!(r.opened(), [0, 1, 2, 3]);
}

#[test]
fn append_continues_the_timestamps_and_the_duration() {
    let mut c = conf(ALL);
    c.append = true;
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 2000, 25);
    r.stop();
    let first_len = r.files.file(0).len();

    let mut r2 = Rig::new(c);
    r2.files = std::mem::take(&mut r.files);
    r2.publish_head(0);
    r2.av(0, 1000, 25);
    r2.stop();
    let file = r2.files.file(0).to_vec();
    // One FLV header only: the strict reader would reject a second.
    let flv = parse_flv(&file);
    let joined = parse_tags(&file[first_len..]);
    // The frames before end at 2020 (audio at 1980 plus its 40 ms); the sequence
    // headers come again at the join.
    assert_eq!(joined[0].body, avc_seq().to_vec());
    assert_eq!(joined[1].body, aac_seq().to_vec());
    assert!(joined.iter().all(|t| t.ts >= 2020));
    let f = frames(&joined);
    assert_eq!(f.first(), Some(&(9, 2020, 0)));
    assert_eq!(f.last(), Some(&(8, 2020 + 980, 980)));
    let meta = &flv.tags[0].body;
    assert_eq!(meta_number(meta, "duration"), Some(3.04));
    assert_eq!(meta_number(meta, "filesize"), Some(file.len() as f64));
    assert_eq!(r2.closed(), [(0, file.len() as u64, 25, 3040)]);
}

#[test]
fn append_to_an_empty_file_writes_a_head() {
    let mut c = conf(ALL);
    c.append = true;
    let mut r = Rig::new(c);
    r.files.files.insert(0, Vec::new());
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    assert_head(&parse_flv(r.files.file(0)).tags, true, true);
}

#[test]
fn append_after_content_that_is_not_flv() {
    for junk in [
        b"not an flv file at all, just some text".to_vec(),
        b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec(),
        b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\x09\x00\x00".to_vec(),
        vec![0xff; 40],
        vec![0; 3],
    ] {
        let mut c = conf(ALL);
        c.append = true;
        let mut r = Rig::new(c);
        r.files.files.insert(0, junk.clone());
        r.publish_head(0);
        r.av(0, 1000, 25);
        r.stop();
        assert_eq!(r.closed().len(), 1);
        let tags = parse_tags(&r.files.file(0)[junk.len()..]);
        assert_eq!(frames(&tags).first(), Some(&(9, 0, 0)));
    }
}

#[test]
fn append_after_a_cut_tag_keeps_timestamps_from_zero() {
    let mut c = conf(ALL);
    c.append = true;
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    let mut file = r.files.file(0).to_vec();
    file.truncate(file.len() - 5);
    let mut r2 = Rig::new(c);
    r2.files.files.insert(0, file.clone());
    r2.publish_head(0);
    r2.av(0, 1000, 25);
    r2.stop();
    let tags = parse_tags(&r2.files.file(0)[file.len()..]);
    assert_eq!(frames(&tags).first(), Some(&(9, 0, 0)));
}

#[test]
fn write_failure_stops_the_recorder_until_start() {
    let mut r = Rig::new(conf(ALL));
    r.files.fail_append = Some(20);
    r.publish_head(0);
    r.av(0, 1000, 25);
    assert_eq!(r.opened(), [0]);
    assert_eq!(r.failed(), [0]);
    assert!(r.rec.has_failed());
    assert!(!r.rec.is_recording());
    assert_eq!(r.files.open, None);
    // Whole tags only: the file reads cleanly up to the failed write.
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.tags.len(), 19);
    // Its head says how long and how big that is, as after a normal close.
    let last_ts = flv.tags.iter().map(|t| t.ts).max().unwrap();
    let duration = meta_number(&flv.tags[0].body, "duration").unwrap();
    assert!(
        duration * 1000.0 > f64::from(last_ts) && duration * 1000.0 <= f64::from(last_ts) + 50.0,
        "duration {duration} for a last frame at {last_ts} ms"
    );
    let size = meta_number(&flv.tags[0].body, "filesize").unwrap();
    assert_eq!(size as usize, r.files.file(0).len());
    let appends = r.files.appends;
    r.av(1000, 1000, 25);
    r.stop();
    assert_eq!(r.files.appends, appends);
    assert_eq!(r.events.len(), 2);

    assert!(r.rec.start());
    assert!(!r.rec.has_failed());
    r.av(2000, 1000, 25);
    r.stop();
    assert_eq!(r.opened(), [0, 1]);
    assert_head(&parse_flv(r.files.file(1)).tags, true, true);
}

#[test]
fn failures_at_every_step() {
    // The head's own writes.
    for n in 0..4 {
        let mut r = Rig::new(conf(ALL));
        r.files.fail_append = Some(n);
        r.publish_head(0);
        r.av(0, 1000, 25);
        assert_eq!((r.opened(), r.failed()), (vec![0], vec![0]), "append {n}");
        assert_eq!(r.files.closes, 1);
    }
    // Open: nothing to close.
    let mut r = Rig::new(conf(ALL));
    r.files.fail_open = true;
    r.publish_head(0);
    r.av(0, 1000, 25);
    assert_eq!((r.opened(), r.failed()), (vec![], vec![0]));
    assert_eq!(r.files.closes, 0);
    // The patches at close: the file is still closed once.
    let mut r = Rig::new(conf(ALL));
    r.files.fail_write_at = true;
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.stop();
    assert_eq!((r.closed().len(), r.failed()), (0, vec![0]));
    assert_eq!(r.files.closes, 1);
    assert!(r.rec.has_failed());
    parse_flv(r.files.file(0));
    // A mid-piece metadata write.
    let mut r = Rig::new(conf(ALL));
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.files.fail_append = Some(r.files.appends);
    r.feed(Data, 1000, &publisher_metadata(640.0));
    assert_eq!(r.failed(), [0]);
    // A read while appending.
    let mut c = conf(ALL);
    c.append = true;
    let mut r = Rig::new(c);
    r.files.files.insert(0, vec![0; 100]);
    r.files.fail_read = true;
    r.publish_head(0);
    r.av(0, 1000, 25);
    assert_eq!((r.opened(), r.failed()), (vec![0], vec![0]));
    assert_eq!(r.files.file(0), &[0; 100][..]);
}

#[test]
fn metadata_changes_are_appended_without_duration() {
    let mut r = Rig::new(conf(ALL));
    r.publish_head(0);
    r.av(0, 1000, 25);
    r.feed(Data, 0, &publisher_metadata(640.0));
    r.feed(Data, 0, &publisher_metadata(640.0));
    r.feed(Data, 0, &Bytes::from_static(b"\x02\x00\x0aonCuePoint\x05"));
    r.av(1000, 1000, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    let scripts: Vec<&Tag> = flv.tags.iter().filter(|t| t.tag_type == 18).collect();
    assert_eq!(scripts.len(), 2);
    assert_eq!(meta_number(&scripts[0].body, "width"), Some(320.0));
    let later = &scripts[1];
    // Not stamped 0 in the middle of the file.
    assert_eq!(later.ts, 980);
    assert_eq!(meta_number(&later.body, "width"), Some(640.0));
    assert_eq!(meta_number(&later.body, "duration"), None);
    assert!(flv.tags.windows(2).all(|w| w[0].ts <= w[1].ts));
    // The next piece starts with the new metadata.
    r.rec.start();
    r.av(2000, 1000, 25);
    r.stop();
    let flv = parse_flv(r.files.file(1));
    assert_eq!(meta_number(&flv.tags[0].body, "width"), Some(640.0));
}

#[test]
fn metadata_without_set_data_frame_and_none_at_all() {
    let mut r = Rig::new(conf(ALL));
    let plain = publisher_metadata(400.0).slice(16..);
    r.feed(Data, 0, &plain);
    r.feed(Video, 0, &avc_seq());
    r.feed(Audio, 0, &aac_seq());
    r.av(0, 200, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    assert_eq!(meta_number(&flv.tags[0].body, "width"), Some(400.0));

    let mut r = Rig::new(conf(ALL));
    r.feed(Video, 0, &avc_seq());
    r.feed(Audio, 0, &aac_seq());
    r.av(0, 200, 25);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    let props = meta_props(&flv.tags[0].body);
    assert_eq!(
        props.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        ["videocodecid", "audiocodecid", "duration", "filesize"]
    );
    assert_eq!(props[0].1, Value::Number(7.0));
}

#[test]
fn frames_needing_a_missing_sequence_header_are_skipped() {
    // H.264 without its sequence header: no piece at all.
    let mut r = Rig::new(conf(ALL));
    r.feed(Audio, 0, &aac_seq());
    r.av(0, 1000, 25);
    r.stop();
    assert!(r.events.is_empty());
    // AAC without its sequence header: video only.
    let mut r = Rig::new(conf(ALL));
    r.feed(Video, 0, &avc_seq());
    r.av(0, 1000, 25);
    r.stop();
    let f = frames(&parse_flv(r.files.file(0)).tags);
    assert_eq!(f.len(), 25);
    assert!(f.iter().all(|t| t.0 == 9));
    // Codecs without a sequence header (Sorenson H.263, MP3) are recorded as they come.
    let mut r = Rig::new(conf(ALL));
    r.feed(Video, 0, &Bytes::from_static(b"\x12\x00\x00\x84"));
    r.feed(Audio, 10, &Bytes::from_static(b"\x2f\xff\xfb"));
    r.feed(Video, 40, &Bytes::from_static(b"\x22\x00\x00\x84"));
    r.stop();
    assert_eq!(parse_flv(r.files.file(0)).tags.len(), 4);
}

#[test]
fn timestamps_past_24_bits_and_across_the_wrap() {
    let mut r = Rig::new(conf(RECORD_VIDEO));
    r.feed(Video, 0, &avc_seq());
    let epoch = 0xffff_ff00u32;
    r.feed(Video, epoch, &video(true, 0));
    r.feed(Video, epoch.wrapping_add(0x200), &video(false, 1));
    r.feed(Video, epoch.wrapping_add(0x0100_0000), &video(false, 2));
    // Older than the piece: written at its start, as nginx-rtmp does.
    r.feed(Video, epoch - 1000, &video(false, 3));
    r.stop();
    let f = frames(&parse_flv(r.files.file(0)).tags);
    assert_eq!(
        f,
        [(9, 0, 0), (9, 0x200, 1), (9, 0x0100_0000, 2), (9, 0, 3)]
    );
}

#[test]
fn enhanced_rtmp_hevc() {
    let seq = Bytes::from_static(b"\x90hvc1\x01\x02\x03");
    let key = Bytes::from_static(b"\x91hvc1\x00\x00\x00\xaa");
    let inter = Bytes::from_static(b"\xa1hvc1\x00\x00\x00\xbb");
    let mut r = Rig::new(conf(RECORD_VIDEO));
    r.feed(Video, 0, &seq);
    r.feed(Video, 0, &inter);
    r.feed(Video, 40, &key);
    r.feed(Video, 80, &inter);
    r.stop();
    let flv = parse_flv(r.files.file(0));
    let bodies: Vec<&[u8]> = flv.tags.iter().skip(1).map(|t| &t.body[..]).collect();
    assert_eq!(bodies, [&seq[..], &key[..], &inter[..]]);
    assert_eq!(
        meta_number(&flv.tags[0].body, "videocodecid"),
        Some(f64::from(u32::from_be_bytes(*b"hvc1")))
    );
}

/// An HEVC + Opus stream as FFmpeg 8.1 sends it: every piece (here cut by
/// `record_interval`) starts with the onMetaData, both sequence starts, the colour
/// metadata and the multichannel layout, then a keyframe; the tags are the publisher's
/// bytes.
#[test]
fn enhanced_hevc_opus_pieces_start_with_every_config() {
    let s = |b: &'static [u8]| Bytes::from_static(b);
    let seq = s(include_bytes!("../fuzz/seeds/flv/ex_hevc_seq"));
    let color = s(include_bytes!("../fuzz/seeds/flv/ex_colorinfo"));
    let key = s(include_bytes!("../fuzz/seeds/flv/ex_hevc_key"));
    let inter = s(include_bytes!("../fuzz/seeds/flv/ex_hevc_inter"));
    let opus_seq = s(include_bytes!("../fuzz/seeds/flv/ex_opus_seq"));
    let channels = s(include_bytes!("../fuzz/seeds/flv/ex_opus_channels"));
    let opus = s(include_bytes!("../fuzz/seeds/flv/ex_opus_frame"));
    let mut c = conf(ALL);
    c.interval_ms = Some(1000);
    let mut r = Rig::new(c);
    r.feed(Video, 0, &seq);
    r.feed(Audio, 0, &opus_seq);
    r.feed(Audio, 0, &channels);
    r.feed(Video, 0, &color);
    for t in (0..2000).step_by(40) {
        let v = if t % 1000 == 0 { &key } else { &inter };
        r.feed(Video, t, v);
        r.feed(Audio, t + 20, &opus);
    }
    r.stop();
    assert_eq!(r.opened(), vec![0, 1]);
    for piece in 0..2 {
        let flv = parse_flv(r.files.file(piece));
        assert_eq!(flv.flags, 5, "audio and video");
        let bodies: Vec<&[u8]> = flv
            .tags
            .iter()
            .skip(1)
            .take(6)
            .map(|t| &t.body[..])
            .collect();
        assert_eq!(
            bodies,
            [
                &seq[..],
                &color[..],
                &opus_seq[..],
                &channels[..],
                &key[..],
                &opus[..]
            ],
            "piece {piece}"
        );
        let meta = &flv.tags[0].body;
        for (name, fourcc) in [("videocodecid", b"hvc1"), ("audiocodecid", b"Opus")] {
            let id = f64::from(u32::from_be_bytes(*fourcc));
            assert_eq!(meta_number(meta, name), Some(id), "{name}");
        }
        assert_eq!(
            flv.tags.iter().filter(|t| t.body[..] == key[..]).count(),
            1,
            "one keyframe per piece"
        );
    }
}

#[test]
fn random_streams_never_break_the_files() {
    let mut rng = XorShift(0x5eed_f1a5);
    let valid = [
        (Video, avc_seq()),
        (Video, video(true, 1)),
        (Video, video(false, 2)),
        (Audio, aac_seq()),
        (Audio, aac(3)),
        (Data, publisher_metadata(10.0)),
        (Video, Bytes::from_static(b"\x90hvc1\x01")),
        (Audio, Bytes::from_static(b"\x94Opus\x00\x02")),
    ];
    let flag_sets = [
        ALL,
        RECORD_AUDIO,
        RECORD_VIDEO,
        RECORD_KEYFRAMES,
        ALL | RECORD_MANUAL,
    ];
    for round in 0..300 {
        let mut c = conf(flag_sets[rng.below(flag_sets.len())]);
        c.max_size = [0, 300, 5000][rng.below(3)] as u64;
        c.max_frames = [0, 1, 7][rng.below(3)] as u64;
        c.interval_ms = [None, Some(0), Some(500)][rng.below(3)];
        c.append = rng.below(2) == 0;
        let mut r = Rig::new(c);
        if rng.below(4) == 0 {
            r.files.fail_append = Some(rng.below(200));
        }
        let mut ts = rng.next() as u32;
        for _ in 0..rng.below(400) {
            let (kind, payload) = &valid[rng.below(valid.len())];
            let mut p = payload.to_vec();
            if rng.below(5) == 0 {
                rng.mutate(&mut p);
            }
            ts = ts.wrapping_add(rng.below(100) as u32).wrapping_sub(10);
            r.feed(*kind, ts, &Bytes::from(p));
            match rng.below(60) {
                0 => r.stop(),
                1 => {
                    r.rec.start();
                }
                _ => {}
            }
        }
        r.stop();
        assert_eq!(r.files.overlaps, 0, "round {round}");
        assert_eq!(r.files.open, None, "round {round}");
        for file in r.files.files.values() {
            if !file.is_empty() {
                parse_flv(file);
            }
        }
    }
}

#[test]
fn end_of_sequence_is_neither_a_cut_nor_a_frame() {
    let eos = Bytes::from_static(b"\x17\x02\x00\x00\x00");
    let mut c = conf(ALL);
    c.interval_ms = Some(0);
    let mut r = Rig::new(c);
    r.publish_head(0);
    r.av(0, 400, 25);
    r.feed(Video, 400, &eos);
    r.stop();
    assert_eq!(r.opened(), [0]);
    let flv = parse_flv(r.files.file(0));
    assert_eq!(flv.tags.last().map(|t| t.body.clone()), Some(eos.to_vec()));
    // Ten pictures, and the duration ends with the last audio frame (380 + 40), not
    // one step after the end of sequence (400 + 40).
    assert_eq!(r.closed(), [(0, r.files.file(0).len() as u64, 10, 420)]);

    let mut r = Rig::new(conf(RECORD_KEYFRAMES));
    r.publish_head(0);
    r.feed(Video, 0, &eos);
    r.av(40, 1000, 25);
    r.feed(Video, 1040, &eos);
    r.stop();
    let f = frames(&parse_flv(r.files.file(0)).tags);
    assert_eq!(f, [(9, 0, 1000)]);
}

#[test]
fn append_adds_to_the_header_flags() {
    let mut c = conf(ALL);
    c.append = true;
    let mut r = Rig::new(c);
    r.feed(Audio, 0, &aac_seq());
    r.feed(Audio, 0, &aac(0));
    r.feed(Audio, 23, &aac(23));
    r.stop();
    assert_eq!(parse_flv(r.files.file(0)).flags, 4);

    let mut r2 = Rig::new(c);
    r2.files = std::mem::take(&mut r.files);
    r2.publish_head(0);
    r2.av(0, 400, 25);
    r2.stop();
    let flv = parse_flv(r2.files.file(0));
    assert_eq!(flv.flags, 5);
    // Continues after the single audio step (23 + 23).
    assert_eq!(frames(&flv.tags).get(2), Some(&(9, 46, 0)));
}

#[test]
fn metadata_declaring_video_does_not_stop_an_audio_only_recording() {
    let mut r = Rig::new(conf(ALL));
    r.feed(Data, 0, &publisher_metadata(320.0));
    r.feed(Audio, 0, &aac_seq());
    for t in 0..10 {
        r.feed(Audio, t * 23, &aac(t));
    }
    r.stop();
    assert_eq!(frames(&parse_flv(r.files.file(0)).tags).len(), 10);
}
