//! The fMP4 writer read back with a small ISO BMFF reader.

use super::*;

/// A box: type, body, children (for the containers this test knows).
#[derive(Debug)]
pub struct Bx {
    pub kind: [u8; 4],
    pub body: Vec<u8>,
    pub children: Vec<Bx>,
}

const CONTAINERS: [&[u8; 4]; 11] = [
    b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf", b"edts",
    b"udta",
];

/// Parses boxes back to back, checking every size.
pub fn parse(mut b: &[u8]) -> Vec<Bx> {
    let mut out = Vec::new();
    while !b.is_empty() {
        assert!(b.len() >= 8, "truncated box header");
        let size = u32::from_be_bytes(b[..4].try_into().unwrap()) as usize;
        assert!(
            size >= 8 && size <= b.len(),
            "box size {size} of {}",
            b.len()
        );
        let kind: [u8; 4] = b[4..8].try_into().unwrap();
        let body = b[8..size].to_vec();
        let children = if CONTAINERS.contains(&&kind) {
            parse(&body)
        } else if &kind == b"stsd" {
            parse(&body[8..])
        } else {
            Vec::new()
        };
        out.push(Bx {
            kind,
            body,
            children,
        });
        b = &b[size..];
    }
    out
}

pub fn find<'a>(boxes: &'a [Bx], path: &[&[u8; 4]]) -> Option<&'a Bx> {
    let (first, rest) = path.split_first()?;
    let b = boxes.iter().find(|b| &&b.kind == first)?;
    if rest.is_empty() {
        Some(b)
    } else {
        find(&b.children, rest)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// A sample entry's children (after the fixed fields of a visual or audio entry).
fn entry_children(entry: &Bx) -> Vec<Bx> {
    let fixed = match &entry.kind {
        b"mp4a" | b"Opus" => 28,
        _ => 78,
    };
    parse(&entry.body[fixed..])
}

const HEVC_SEQ: &[u8] = include_bytes!("../../fuzz/seeds/flv/ex_hevc_seq");
const AV1_SEQ: &[u8] = include_bytes!("../../fuzz/seeds/flv/ex_av1_seq");
const VP9_SEQ: &[u8] = include_bytes!("../../fuzz/seeds/flv/ex_vp9_seq");
const VP9_KEY: &[u8] = include_bytes!("../../fuzz/seeds/flv/ex_vp9_key");
const OPUS_SEQ: &[u8] = include_bytes!("../../fuzz/seeds/flv/ex_opus_seq");

#[test]
fn init_segment_describes_hevc_and_opus() {
    let video = VideoTrack::new(VideoKind::Hevc, &HEVC_SEQ[5..]).unwrap();
    assert_eq!((video.width, video.height), (320, 240));
    let audio = AudioTrack::new(AudioKind::Opus, &OPUS_SEQ[5..]).unwrap();
    assert_eq!((audio.sample_rate, audio.channels), (48_000, 1));
    let init = init_segment(Some(&video), Some(&audio));
    let boxes = parse(&init);
    let kinds: Vec<_> = boxes.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, [*b"ftyp", *b"moov"]);
    assert_eq!(&boxes[0].body[..4], b"iso6");
    let moov = &boxes[1].children;
    let traks: Vec<&Bx> = moov.iter().filter(|b| &b.kind == b"trak").collect();
    assert_eq!(traks.len(), 2);
    // Video: track 1, 320x240 (16.16), 90 kHz, hvc1 with the publisher's hvcC.
    let tkhd = find(&traks[0].children, &[b"tkhd"]).unwrap();
    assert_eq!(u32_at(&tkhd.body, 12), VIDEO_TRACK_ID);
    assert_eq!(u32_at(&tkhd.body, 76), 320 << 16);
    assert_eq!(u32_at(&tkhd.body, 80), 240 << 16);
    let mdhd = find(&traks[0].children, &[b"mdia", b"mdhd"]).unwrap();
    assert_eq!(u32_at(&mdhd.body, 12), 90_000);
    let stsd = find(&traks[0].children, &[b"mdia", b"minf", b"stbl", b"stsd"]).unwrap();
    let entry = &stsd.children[0];
    assert_eq!(&entry.kind, b"hvc1");
    assert_eq!(u32_at(&entry.body, 24), 320 << 16 | 240);
    let hvcc = &entry_children(entry)[0];
    assert_eq!((&hvcc.kind, &hvcc.body[..]), (b"hvcC", &HEVC_SEQ[5..]));
    // Audio: track 2 at 48 kHz, Opus with a dOps made from the OpusHead.
    let mdhd = find(&traks[1].children, &[b"mdia", b"mdhd"]).unwrap();
    assert_eq!(u32_at(&mdhd.body, 12), 48_000);
    let stsd = find(&traks[1].children, &[b"mdia", b"minf", b"stbl", b"stsd"]).unwrap();
    let entry = &stsd.children[0];
    assert_eq!(&entry.kind, b"Opus");
    assert_eq!(
        u16::from_be_bytes([entry.body[16], entry.body[17]]),
        1,
        "channels"
    );
    let dops = &entry_children(entry)[0];
    assert_eq!(&dops.kind, b"dOps");
    // Version 0, 1 channel, pre-skip 312, input rate 48000, gain 0, family 0.
    assert_eq!(dops.body, [0, 1, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
    // mvex announces fragments for both tracks.
    let mvex = find(moov, &[b"mvex"]).unwrap();
    let ids: Vec<u32> = mvex.children.iter().map(|t| u32_at(&t.body, 4)).collect();
    assert_eq!(ids, [VIDEO_TRACK_ID, AUDIO_TRACK_ID]);
}

#[test]
fn init_segment_for_av1_vp9_and_aac() {
    let av1 = VideoTrack::new(VideoKind::Av1, &AV1_SEQ[5..]).unwrap();
    let init = init_segment(Some(&av1), None);
    let boxes = parse(&init);
    let stsd = find(
        &boxes,
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"],
    )
    .unwrap();
    assert_eq!(&stsd.children[0].kind, b"av01");
    let av1c = &entry_children(&stsd.children[0])[0];
    assert_eq!((&av1c.kind, &av1c.body[..]), (b"av1C", &AV1_SEQ[5..]));
    assert!(find(&boxes, &[b"moov", b"mvex", b"trex"]).is_some());

    let mut vp9 = VideoTrack::new(VideoKind::Vp9, &VP9_SEQ[5..]).unwrap();
    assert_eq!(vp9.width, 0, "vpcC has no size");
    vp9.learn_size(&VP9_KEY[5..]);
    assert_eq!((vp9.width, vp9.height), (320, 240));
    let aac = AudioTrack::new(AudioKind::Aac, &[0x12, 0x10]).unwrap();
    assert_eq!((aac.sample_rate, aac.channels), (44_100, 2));
    let boxes = parse(&init_segment(Some(&vp9), Some(&aac)));
    let traks: Vec<&Bx> = boxes[1]
        .children
        .iter()
        .filter(|b| &b.kind == b"trak")
        .collect();
    let entry = |t: &Bx| {
        let stsd = find(&t.children, &[b"mdia", b"minf", b"stbl", b"stsd"]).unwrap();
        let e = &stsd.children[0];
        (e.kind, entry_children(e))
    };
    let (kind, children) = entry(traks[0]);
    assert_eq!((&kind, &children[0].kind), (b"vp09", b"vpcC"));
    assert_eq!(children[0].body, &VP9_SEQ[5..]);
    let (kind, children) = entry(traks[1]);
    assert_eq!((&kind, &children[0].kind), (b"mp4a", b"esds"));
    // The AudioSpecificConfig sits in the DecoderSpecificInfo (tag 5).
    let esds = &children[0].body;
    let at = esds.windows(2).position(|w| w == [0x05, 2]).unwrap();
    assert_eq!(&esds[at + 2..at + 4], &[0x12, 0x10]);
}

#[test]
fn tracks_refuse_unreadable_configs() {
    assert_eq!(VideoTrack::new(VideoKind::Hevc, &[1, 2, 3]), None);
    assert_eq!(VideoTrack::new(VideoKind::Av1, &[0x80, 0, 0, 0]), None);
    assert_eq!(AudioTrack::new(AudioKind::Opus, b"OpusHead\x01"), None);
    // Channel mapping family 1 without its table.
    let mut head = OPUS_SEQ[5..].to_vec();
    head[18] = 1;
    assert_eq!(AudioTrack::new(AudioKind::Opus, &head), None);
    assert_eq!(AudioTrack::new(AudioKind::Aac, &[]), None);
    assert_eq!(
        VideoKind::from_codec(crate::media::codec::VideoCodec::Vvc),
        None
    );
}

/// Reads a media segment: (track id, base time, [(duration, size, sync, cts)], bytes).
type Trun = (u32, u64, Vec<(u32, u32, bool, i32)>, Vec<u8>);

pub fn read_fragments(seg: &[u8]) -> Vec<(u32, Vec<Trun>)> {
    let boxes = parse(seg);
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut i = 0;
    while i < boxes.len() {
        let moof = &boxes[i];
        assert_eq!(&moof.kind, b"moof");
        let moof_start = at;
        let moof_len = moof.body.len() + 8;
        let mdat = &boxes[i + 1];
        assert_eq!(&mdat.kind, b"mdat");
        let seq = u32_at(&find(&moof.children, &[b"mfhd"]).unwrap().body, 4);
        let mut runs = Vec::new();
        for traf in moof.children.iter().filter(|b| &b.kind == b"traf") {
            let tfhd = find(&traf.children, &[b"tfhd"]).unwrap();
            assert_eq!(u32_at(&tfhd.body, 0) & 0x02_0000, 0x02_0000, "base is moof");
            let id = u32_at(&tfhd.body, 4);
            let tfdt = find(&traf.children, &[b"tfdt"]).unwrap();
            assert_eq!(tfdt.body[0], 1);
            let base = u64::from_be_bytes(tfdt.body[4..12].try_into().unwrap());
            let trun = find(&traf.children, &[b"trun"]).unwrap();
            let count = u32_at(&trun.body, 4) as usize;
            let offset = u32_at(&trun.body, 8) as usize;
            let mut samples = Vec::new();
            let mut data = Vec::new();
            let mut pos = moof_start + offset;
            for s in 0..count {
                let e = 12 + 16 * s;
                let size = u32_at(&trun.body, e + 4);
                let flags = u32_at(&trun.body, e + 8);
                let cts = u32_at(&trun.body, e + 12) as i32;
                samples.push((u32_at(&trun.body, e), size, flags == 0x0200_0000, cts));
                data.extend_from_slice(&seg[pos..pos + size as usize]);
                pos += size as usize;
            }
            assert!(pos <= moof_start + moof_len + 8 + mdat.body.len());
            runs.push((id, base, samples, data));
        }
        out.push((seq, runs));
        at += moof_len + 8 + mdat.body.len();
        i += 2;
    }
    out
}

#[test]
fn fragments_carry_durations_sizes_and_offsets() {
    let mut m = Fmp4Mux::new(true, Some(48_000));
    let mut out = Vec::new();
    m.push_video(1000, 80, true, b"key");
    m.push_audio(1000, b"a1");
    m.push_audio(1020, b"a2");
    m.push_video(1040, -40, false, b"p1");
    m.push_audio(1040, b"a3");
    // A chunk: everything whose length is known; each track's newest waits.
    m.chunk(&mut out);
    m.push_video(1080, 0, false, b"p2");
    m.finish(&mut out, 1120);
    assert_eq!(m.buffered(), 0);
    let frags = read_fragments(&out);
    assert_eq!(frags.len(), 2);
    let (seq, runs) = &frags[0];
    assert_eq!(*seq, 1);
    assert_eq!(
        runs[0],
        (1, 90_000, vec![(3600, 3, true, 7200)], b"key".to_vec())
    );
    assert_eq!(
        runs[1],
        (
            2,
            48_000,
            vec![(960, 2, true, 0), (960, 2, true, 0)],
            b"a1a2".to_vec()
        )
    );
    let (seq, runs) = &frags[1];
    assert_eq!(*seq, 2);
    assert_eq!(
        runs[0],
        (
            1,
            93_600,
            vec![(3600, 2, false, -3600), (3600, 2, false, 0)],
            b"p1p2".to_vec()
        )
    );
    // The last audio sample has no successor nor reaches the end: it keeps the last length.
    assert_eq!(
        runs[1],
        (2, 49_920, vec![(960, 2, true, 0)], b"a3".to_vec())
    );
}

#[test]
fn decode_times_never_go_back_until_a_restart() {
    let mut m = Fmp4Mux::new(true, None);
    let mut out = Vec::new();
    m.push_video(1000, 0, true, b"a");
    m.push_video(990, 0, false, b"b");
    m.finish(&mut out, 1040);
    let frags = read_fragments(&out);
    let (_, _, samples, _) = &frags[0].1[0];
    assert_eq!(samples[0].0, 1, "the step back is pushed one tick past");
    m.restart();
    out.clear();
    m.push_video(0, 0, true, b"c");
    m.finish(&mut out, 40);
    assert_eq!(read_fragments(&out)[0].1[0].1, 0);
    // Nothing waiting: nothing written.
    out.clear();
    m.finish(&mut out, 80);
    assert!(out.is_empty());
}
