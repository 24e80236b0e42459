//! The hub driven as the shell drives it: publish, play, frames, unpublish.
use super::*;
use crate::protocol::chunk_reader::ChunkReader;
use crate::protocol::message::{msg_type, RawMessage};
use bytes::{Bytes, BytesMut};

fn key(name: &str) -> StreamKey {
    StreamKey {
        server: 0,
        app: "live".into(),
        name: name.into(),
    }
}

fn player(token: usize) -> SharedOutbox {
    Outbox::shared(token, OutboxLimits::default())
}

/// Everything queued in an outbox, decoded back into messages.
fn drain(o: &SharedOutbox) -> Vec<RawMessage> {
    let mut o = o.borrow_mut();
    let mut buf = BytesMut::new();
    let slices: Vec<Vec<u8>> = o.slices(usize::MAX).map(<[u8]>::to_vec).collect();
    for s in &slices {
        buf.extend_from_slice(s);
    }
    o.consume(buf.len());
    let mut reader = ChunkReader::new(16 << 20, 64);
    reader.set_chunk_size(4096).unwrap();
    let mut out = Vec::new();
    while let Some(m) = reader.read(&mut buf).unwrap() {
        out.push(m);
    }
    assert!(buf.is_empty(), "trailing partial chunk");
    out
}

const AVC_SEQ: &[u8] = &[0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f];
const AAC_SEQ: &[u8] = &[0xaf, 0x00, 0x12, 0x10];
fn key_frame(n: u8) -> Bytes {
    Bytes::from(vec![0x17, 0x01, 0, 0, 0, n])
}
fn inter_frame(n: u8) -> Bytes {
    Bytes::from(vec![0x27, 0x01, 0, 0, 0, n])
}
fn aac(n: u8) -> Bytes {
    Bytes::from(vec![0xaf, 0x01, n])
}
fn set_data_frame() -> Bytes {
    let mut v = vec![0x02, 0x00, 13];
    v.extend_from_slice(b"@setDataFrame");
    v.extend_from_slice(&[0x02, 0x00, 10]);
    v.extend_from_slice(b"onMetaData");
    v.extend_from_slice(&[0x03, 0x00, 0x00, 0x09]);
    Bytes::from(v)
}

fn no_wake(_: usize) {}

#[test]
fn frames_reach_every_player_byte_for_byte() {
    let mut hub = Hub::new();
    let k = key("a");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    let players: Vec<_> = (0..3).map(|i| player(10 + i)).collect();
    let opts = PlayOptions {
        idle_streams: true,
        wait_video: false,
    };
    for (i, p) in players.iter().enumerate() {
        hub.play(&k, 10 + i as u64, p.clone(), 4096, opts, &mut no_wake)
            .unwrap();
    }
    let mut woken = Vec::new();
    hub.frame(
        &k,
        FrameKind::Video,
        0,
        Bytes::from_static(AVC_SEQ),
        &mut |t| woken.push(t),
    );
    hub.frame(&k, FrameKind::Video, 40, key_frame(1), &mut |t| {
        woken.push(t)
    });
    hub.frame(&k, FrameKind::Audio, 41, aac(2), &mut |t| woken.push(t));
    // Each player is woken once until it writes.
    woken.sort();
    assert_eq!(woken, vec![10, 11, 12]);
    for p in &players {
        let msgs = drain(p);
        let kinds: Vec<_> = msgs.iter().map(|m| (m.type_id, m.timestamp)).collect();
        assert_eq!(
            kinds,
            vec![
                (msg_type::VIDEO, 0),
                (msg_type::VIDEO, 40),
                (msg_type::AUDIO, 41)
            ]
        );
        assert_eq!(&msgs[1].payload[..], &key_frame(1)[..]);
        assert_eq!(msgs[1].stream_id, 1);
    }
}

#[test]
fn a_late_joiner_starts_with_metadata_headers_and_the_last_keyframe() {
    let mut hub = Hub::new();
    let k = key("late");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    hub.frame(&k, FrameKind::Data, 0, set_data_frame(), &mut no_wake);
    hub.frame(
        &k,
        FrameKind::Video,
        0,
        Bytes::from_static(AVC_SEQ),
        &mut no_wake,
    );
    hub.frame(
        &k,
        FrameKind::Audio,
        0,
        Bytes::from_static(AAC_SEQ),
        &mut no_wake,
    );
    hub.frame(&k, FrameKind::Video, 0, key_frame(1), &mut no_wake);
    hub.frame(&k, FrameKind::Video, 40, inter_frame(2), &mut no_wake);
    hub.frame(&k, FrameKind::Video, 2000, key_frame(3), &mut no_wake);
    hub.frame(&k, FrameKind::Audio, 2001, aac(4), &mut no_wake);
    hub.frame(&k, FrameKind::Video, 2040, inter_frame(5), &mut no_wake);
    let p = player(7);
    hub.play(
        &k,
        7,
        p.clone(),
        4096,
        PlayOptions {
            idle_streams: true,
            wait_video: false,
        },
        &mut no_wake,
    )
    .unwrap();
    let msgs = drain(&p);
    assert_eq!(msgs[0].type_id, msg_type::DATA_AMF0);
    assert!(
        msgs[0].payload.starts_with(b"\x02\x00\x0aonMetaData"),
        "@setDataFrame is stripped"
    );
    assert_eq!(&msgs[1].payload[..], AVC_SEQ);
    assert_eq!(&msgs[2].payload[..], AAC_SEQ);
    let rest: Vec<_> = msgs[3..].iter().map(|m| m.payload.clone()).collect();
    assert_eq!(rest, vec![key_frame(3), aac(4), inter_frame(5)]);
}

/// Tag bodies FFmpeg 8.1 wrote for an HEVC + Opus stream (Enhanced RTMP).
mod ffmpeg8 {
    pub const HEVC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");
    pub const HEVC_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_key");
    pub const HEVC_INTER: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_inter");
    pub const COLOR_INFO: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_colorinfo");
    pub const OPUS_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");
    pub const OPUS_CHANNELS: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_channels");
    pub const OPUS_FRAME: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_frame");
}

fn late_joiner_payloads(hub: &mut Hub, k: &StreamKey) -> Vec<Bytes> {
    let p = player(9);
    let opts = PlayOptions {
        idle_streams: true,
        wait_video: false,
    };
    hub.play(k, 9, p.clone(), 4096, opts, &mut no_wake).unwrap();
    drain(&p).into_iter().map(|m| m.payload).collect()
}

#[test]
fn an_enhanced_late_joiner_gets_every_config_then_the_keyframe() {
    use ffmpeg8::*;
    let mut hub = Hub::new();
    let k = key("hevc");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    let s = Bytes::from_static;
    // In FFmpeg's order: sequence starts, multichannel layout, colour metadata, frames.
    for (kind, ts, p) in [
        (FrameKind::Video, 0, s(HEVC_SEQ)),
        (FrameKind::Audio, 0, s(OPUS_SEQ)),
        (FrameKind::Audio, 0, s(OPUS_CHANNELS)),
        (FrameKind::Video, 0, s(COLOR_INFO)),
        (FrameKind::Video, 0, s(HEVC_INTER)),
        (FrameKind::Video, 40, s(HEVC_KEY)),
        (FrameKind::Audio, 50, s(OPUS_FRAME)),
        (FrameKind::Video, 80, s(HEVC_INTER)),
    ] {
        hub.frame(&k, kind, ts, p, &mut no_wake);
    }
    let got = late_joiner_payloads(&mut hub, &k);
    let want: Vec<Bytes> = [
        HEVC_SEQ,
        COLOR_INFO,
        OPUS_SEQ,
        OPUS_CHANNELS,
        HEVC_KEY,
        OPUS_FRAME,
        HEVC_INTER,
    ]
    .into_iter()
    .map(Bytes::from_static)
    .collect();
    assert_eq!(got, want);
    // A new sequence start replaces the old one in its place; the others stay.
    let mut seq2 = HEVC_SEQ.to_vec();
    seq2.push(0);
    hub.frame(
        &k,
        FrameKind::Video,
        120,
        Bytes::from(seq2.clone()),
        &mut no_wake,
    );
    let got = late_joiner_payloads(&mut hub, &k);
    assert_eq!(
        &got[..2],
        &[Bytes::from(seq2), Bytes::from_static(COLOR_INFO)]
    );
}

#[test]
fn every_track_of_a_multitrack_stream_keeps_its_sequence_start() {
    let mut hub = Hub::new();
    let k = key("multi");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    // OneTrack-wrapped sequence starts for tracks 0 and 1, then a ManyTracks keyframe.
    let t0 = Bytes::from_static(b"\x96\x00hvc1\x00config0");
    let t1 = Bytes::from_static(b"\x96\x00av01\x01config1");
    let keyframe = Bytes::from_static(b"\x96\x13hvc1\x00\x00\x00\x01a\x01\x00\x00\x01b");
    for p in [t0.clone(), t1.clone(), keyframe.clone()] {
        hub.frame(&k, FrameKind::Video, 0, p, &mut no_wake);
    }
    assert_eq!(late_joiner_payloads(&mut hub, &k), vec![t0, t1, keyframe]);
}

/// FFmpeg 8's layout for two video streams: track 0 unwrapped, track 1 as OneTrack. The
/// GOP cache starts at track 0's keyframe, and track 1's keyframe right after does not
/// throw that away.
#[test]
fn the_gop_follows_track_0_of_a_multitrack_stream() {
    let mut hub = Hub::new();
    let k = key("mt");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    let s = Bytes::from_static;
    let seq0 = s(ffmpeg8::HEVC_SEQ);
    let seq1 = s(b"\x96\x00av01\x01\x81\x00\x0c\x00");
    let key0 = s(ffmpeg8::HEVC_KEY);
    let key1 = s(b"\x96\x01av01\x01key1");
    let inter0 = s(ffmpeg8::HEVC_INTER);
    let inter1 = s(b"\xa6\x01av01\x01inter1");
    for (ts, p) in [
        (0, seq0.clone()),
        (0, seq1.clone()),
        (0, key0.clone()),
        (0, key1.clone()),
        (40, inter0.clone()),
        (40, inter1.clone()),
        (1000, key1.clone()),
        (1040, inter0.clone()),
    ] {
        hub.frame(&k, FrameKind::Video, ts, p, &mut no_wake);
    }
    assert_eq!(
        late_joiner_payloads(&mut hub, &k),
        vec![
            seq0,
            seq1,
            key0,
            key1.clone(),
            inter0.clone(),
            inter1,
            key1,
            inter0
        ]
    );
}

#[test]
fn a_second_publisher_is_refused() {
    let mut hub = Hub::new();
    let k = key("dup");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    assert_eq!(
        hub.publish(&k, 2, 4096, false, &mut no_wake),
        Err(HubError::AlreadyPublishing)
    );
    // Another name is free.
    hub.publish(&key("other"), 2, 4096, false, &mut no_wake)
        .unwrap();
}

#[test]
fn unpublish_notifies_players_and_a_new_publisher_resumes_them() {
    let mut hub = Hub::new();
    let k = key("resume");
    let p = player(3);
    hub.play(
        &k,
        3,
        p.clone(),
        4096,
        PlayOptions {
            idle_streams: true,
            wait_video: false,
        },
        &mut no_wake,
    )
    .unwrap();
    hub.publish(&k, 1, 4096, true, &mut no_wake).unwrap();
    hub.frame(&k, FrameKind::Video, 0, key_frame(1), &mut no_wake);
    hub.unpublish(&k, 1, &mut no_wake);
    let msgs = drain(&p);
    let statuses: Vec<_> = msgs
        .iter()
        .filter(|m| m.type_id == msg_type::COMMAND_AMF0)
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect();
    assert!(statuses[0].contains("NetStream.Play.PublishNotify"));
    assert!(statuses[1].contains("NetStream.Play.UnpublishNotify"));
    assert_eq!(
        hub.info(&k).map(|i| (i.publishing, i.players)),
        Some((false, 1))
    );
    hub.publish(&k, 2, 4096, false, &mut no_wake).unwrap();
    hub.frame(&k, FrameKind::Video, 5000, inter_frame(9), &mut no_wake);
    hub.frame(&k, FrameKind::Video, 5040, key_frame(10), &mut no_wake);
    let msgs = drain(&p);
    let media: Vec<_> = msgs
        .iter()
        .filter(|m| m.type_id == msg_type::VIDEO)
        .map(|m| m.payload.clone())
        .collect();
    // The new publisher's frames resume at its first keyframe.
    assert_eq!(media, vec![key_frame(10)]);
}

#[test]
fn playing_a_missing_stream_without_idle_streams_is_refused() {
    let mut hub = Hub::new();
    let r = hub.play(
        &key("none"),
        1,
        player(1),
        4096,
        PlayOptions {
            idle_streams: false,
            wait_video: false,
        },
        &mut no_wake,
    );
    assert_eq!(r, Err(HubError::NotFound));
    assert_eq!(hub.stream_count(), 0);
}

#[test]
fn empty_streams_are_forgotten() {
    let mut hub = Hub::new();
    let k = key("gone");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    hub.play(
        &k,
        2,
        player(2),
        4096,
        PlayOptions {
            idle_streams: true,
            wait_video: false,
        },
        &mut no_wake,
    )
    .unwrap();
    hub.unpublish(&k, 1, &mut no_wake);
    hub.stop_playing(&k, 2);
    assert_eq!(hub.stream_count(), 0);
}

#[test]
fn stream_names_that_could_leave_a_directory_are_refused() {
    for bad in ["", "a/b", "..", "a..b", "x\0y", "back\\slash", "\u{7}"] {
        assert!(stream_name_problem(bad).is_some(), "{bad:?}");
    }
    assert!(stream_name_problem(&"x".repeat(1025)).is_some());
    for good in ["cam1", "key-123_abc", "名前", &"x".repeat(1024)] {
        assert!(stream_name_problem(good).is_none(), "{good:?}");
    }
}

#[test]
fn wait_video_holds_audio_until_the_first_video_frame() {
    let mut hub = Hub::new();
    let k = key("wv");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    let waiting = player(2);
    let plain = player(3);
    let wait = PlayOptions {
        idle_streams: true,
        wait_video: true,
    };
    let no_wait = PlayOptions {
        idle_streams: true,
        wait_video: false,
    };
    hub.play(&k, 2, waiting.clone(), 4096, wait, &mut no_wake)
        .unwrap();
    hub.play(&k, 3, plain.clone(), 4096, no_wait, &mut no_wake)
        .unwrap();
    hub.frame(
        &k,
        FrameKind::Audio,
        0,
        Bytes::from_static(AAC_SEQ),
        &mut no_wake,
    );
    hub.frame(&k, FrameKind::Audio, 10, aac(1), &mut no_wake);
    hub.frame(&k, FrameKind::Video, 20, key_frame(2), &mut no_wake);
    hub.frame(&k, FrameKind::Audio, 30, aac(3), &mut no_wake);
    let kinds = |o: &SharedOutbox| -> Vec<(u8, u32)> {
        drain(o).iter().map(|m| (m.type_id, m.timestamp)).collect()
    };
    let (a, v) = (msg_type::AUDIO, msg_type::VIDEO);
    // The audio sequence header always goes; audio frames wait for the first video frame.
    assert_eq!(kinds(&waiting), vec![(a, 0), (v, 20), (a, 30)]);
    assert_eq!(kinds(&plain), vec![(a, 0), (a, 10), (v, 20), (a, 30)]);
}

/// A GOP larger than the cache's 16 MB is dropped whole: a late joiner gets the decoder
/// configuration and then waits for the next keyframe, and the worker holds no more.
#[test]
fn a_gop_past_the_cache_limit_is_dropped_whole() {
    let mut hub = Hub::new();
    let k = key("big");
    hub.publish(&k, 1, 4096, false, &mut no_wake).unwrap();
    hub.frame(
        &k,
        FrameKind::Video,
        0,
        Bytes::from_static(AVC_SEQ),
        &mut no_wake,
    );
    hub.frame(&k, FrameKind::Video, 0, key_frame(1), &mut no_wake);
    let mut big = vec![0x27, 0x01, 0, 0, 0];
    big.resize(1 << 20, 7);
    let big = Bytes::from(big);
    for i in 1..=17u32 {
        hub.frame(&k, FrameKind::Video, i * 40, big.clone(), &mut no_wake);
    }
    let p = player(7);
    let opts = PlayOptions {
        idle_streams: true,
        wait_video: false,
    };
    hub.play(&k, 7, p.clone(), 4096, opts, &mut no_wake)
        .unwrap();
    let first: Vec<_> = drain(&p).iter().map(|m| (m.type_id, m.timestamp)).collect();
    assert_eq!(
        first,
        vec![(msg_type::VIDEO, 0)],
        "only the AVC configuration"
    );
    hub.frame(&k, FrameKind::Video, 800, big.clone(), &mut no_wake);
    assert!(
        drain(&p).is_empty(),
        "an inter frame before the next keyframe"
    );
    hub.frame(&k, FrameKind::Video, 840, key_frame(2), &mut no_wake);
    let next: Vec<_> = drain(&p).iter().map(|m| m.timestamp).collect();
    assert_eq!(next, vec![840]);
}
