//! HlsStream end to end against an in-memory `HlsFiles`: what lands in the fragments (read
//! back with a small demuxer) and what the playlists say.

use super::ts::psi::crc32;
use super::*;
use crate::hub::FrameKind;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

#[derive(Default)]
pub struct MemFiles {
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
    pub open: Option<String>,
    pub removed: Vec<String>,
    /// Every playlist as written, in order.
    pub playlists: Vec<(String, String)>,
    pub fail_open: bool,
    pub fail_write: bool,
}

impl MemFiles {
    pub fn text(&self, name: &str) -> String {
        String::from_utf8(self.files.get(name).cloned().unwrap_or_default()).unwrap()
    }

    pub fn ts_names(&self) -> Vec<String> {
        self.files
            .keys()
            .filter(|k| k.ends_with(".ts"))
            .cloned()
            .collect()
    }
}

impl HlsFiles for MemFiles {
    fn create_dir(&mut self, name: &str) -> io::Result<()> {
        self.dirs.insert(name.to_string());
        Ok(())
    }
    fn open_fragment(&mut self, name: &str) -> io::Result<()> {
        if self.fail_open {
            return Err(io::Error::other("disk full"));
        }
        assert!(
            self.open.is_none(),
            "{name} opened while {:?} is open",
            self.open
        );
        self.files.insert(name.to_string(), Vec::new());
        self.open = Some(name.to_string());
        Ok(())
    }
    fn write_fragment(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.fail_write {
            return Err(io::Error::other("disk full"));
        }
        let name = self.open.as_ref().expect("write without an open fragment");
        self.files.get_mut(name).unwrap().extend_from_slice(bytes);
        Ok(())
    }
    fn close_fragment(&mut self) -> io::Result<()> {
        assert!(self.open.take().is_some(), "close without open");
        Ok(())
    }
    fn write_playlist(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.files
            .insert(name.to_string(), text.as_bytes().to_vec());
        self.playlists.push((name.to_string(), text.to_string()));
        Ok(())
    }
    fn write_init(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        if self.fail_write {
            return Err(io::Error::other("disk full"));
        }
        self.files.insert(name.to_string(), bytes.to_vec());
        Ok(())
    }
    fn read_file(&mut self, name: &str) -> Option<String> {
        self.files
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
    fn remove(&mut self, name: &str) {
        self.files.remove(name);
        self.removed.push(name.to_string());
    }
}

// ---- FLV tag bodies -------------------------------------------------------------------

const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb];

pub fn avc_seq() -> Bytes {
    let mut v = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1f, 0xff, 0xe1];
    v.extend_from_slice(&(SPS.len() as u16).to_be_bytes());
    v.extend_from_slice(SPS);
    v.push(1);
    v.extend_from_slice(&(PPS.len() as u16).to_be_bytes());
    v.extend_from_slice(PPS);
    Bytes::from(v)
}

pub fn video_frame(key: bool, cts: i32, size: usize) -> Bytes {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1];
    v.extend_from_slice(&cts.to_be_bytes()[1..]);
    let nal_len = size.max(2);
    v.extend_from_slice(&(nal_len as u32).to_be_bytes());
    v.push(if key { 0x65 } else { 0x41 });
    v.extend(std::iter::repeat_n(0xab, nal_len - 1));
    Bytes::from(v)
}

/// AAC LC, 44100 Hz, mono.
pub fn aac_seq() -> Bytes {
    Bytes::from_static(&[0xaf, 0x00, 0x12, 0x08])
}

pub fn aac_frame(size: usize) -> Bytes {
    let mut v = vec![0xaf, 0x01];
    v.extend(std::iter::repeat_n(0x21, size));
    Bytes::from(v)
}

/// A frame as the hub hands it over.
#[derive(Clone)]
pub struct Frame {
    pub kind: FrameKind,
    pub ts: u32,
    pub payload: Bytes,
}

/// Sequence headers, then 25 fps video with a key frame every `gop_ms` and (optionally)
/// AAC at 44.1 kHz, interleaved by time, from `start` for `duration_ms`.
pub fn av(start: u32, duration_ms: u32, gop_ms: u32, audio: bool) -> Vec<Frame> {
    let mut frames = vec![Frame {
        kind: FrameKind::Video,
        ts: start,
        payload: avc_seq(),
    }];
    if audio {
        frames.push(Frame {
            kind: FrameKind::Audio,
            ts: start,
            payload: aac_seq(),
        });
    }
    let mut timed = Vec::new();
    let mut t = 0;
    while t < duration_ms {
        timed.push((
            t,
            0,
            Frame {
                kind: FrameKind::Video,
                ts: start.wrapping_add(t),
                payload: video_frame(t % gop_ms == 0, 40, 3000),
            },
        ));
        t += 40;
    }
    if audio {
        let mut n = 0u64;
        loop {
            let t = (n * 1024 * 1000 / 44_100) as u32;
            if t >= duration_ms {
                break;
            }
            timed.push((
                t,
                1,
                Frame {
                    kind: FrameKind::Audio,
                    ts: start.wrapping_add(t),
                    payload: aac_frame(200),
                },
            ));
            n += 1;
        }
    }
    timed.sort_by_key(|(t, order, _)| (*t, *order));
    frames.extend(timed.into_iter().map(|(_, _, f)| f));
    frames
}

pub fn audio_only(start: u32, duration_ms: u32) -> Vec<Frame> {
    let mut frames = av(start, duration_ms, 1000, true);
    frames.retain(|f| f.kind == FrameKind::Audio);
    frames
}

pub fn run(conf: HlsConf, name: &str, files: &mut MemFiles, frames: &[Frame]) -> HlsStream {
    let mut s = HlsStream::new(conf, name, files, 1_700_000_000_000);
    feed(&mut s, files, frames);
    s
}

pub fn feed(s: &mut HlsStream, files: &mut MemFiles, frames: &[Frame]) {
    for f in frames {
        s.frame(
            files,
            1_700_000_000_000 + u64::from(f.ts),
            f.kind,
            f.ts,
            &f.payload,
        )
        .unwrap();
    }
}

// ---- A small demuxer ------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct Pes {
    pub pid: u16,
    pub pts: u64,
    pub dts: u64,
    pub data: Vec<u8>,
    pub random_access: bool,
    pub pcr: Option<u64>,
    pub discontinuity: bool,
}

#[derive(Debug, Default)]
pub struct Demuxed {
    pub pmt_streams: Vec<(u8, u16)>,
    pub pcr_pid: u16,
    pub pes: Vec<Pes>,
}

fn read_ts(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

/// Checks packet structure and continuity (counters carried in `cc` across fragments) and
/// splits the fragment into its PSI and PES.
pub fn demux(bytes: &[u8], cc: &mut HashMap<u16, u8>) -> Demuxed {
    assert_eq!(bytes.len() % 188, 0, "whole packets");
    let mut d = Demuxed::default();
    let mut current: HashMap<u16, Pes> = HashMap::new();
    let mut done: Vec<Pes> = Vec::new();
    for (i, p) in bytes.chunks(188).enumerate() {
        assert_eq!(p[0], 0x47, "sync byte of packet {i}");
        let pid = u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]);
        let pusi = p[1] & 0x40 != 0;
        let counter = p[3] & 0x0f;
        if let Some(prev) = cc.insert(pid, counter) {
            assert_eq!(
                counter,
                (prev + 1) & 0x0f,
                "continuity of pid {pid:#x} at packet {i}"
            );
        }
        assert_eq!(p[3] & 0x10, 0x10, "every packet has payload");
        let (payload, af) = if p[3] & 0x20 != 0 {
            let len = usize::from(p[4]);
            (&p[5 + len..], &p[4..5 + len])
        } else {
            (&p[4..], &p[4..4])
        };
        if i < 2 {
            let want = if i == 0 { 0 } else { 0x1000 };
            assert_eq!(pid, want, "PAT then PMT open the fragment");
        }
        if pid == 0 || pid == 0x1000 {
            assert!(pusi);
            assert_eq!(payload[0], 0, "pointer field");
            let len = usize::from(payload[2] & 0x0f) << 8 | usize::from(payload[3]);
            let section = &payload[1..4 + len];
            assert_eq!(crc32(section), 0, "CRC of table {}", section[0]);
            if pid == 0x1000 {
                d.pcr_pid = u16::from(section[8] & 0x1f) << 8 | u16::from(section[9]);
                d.pmt_streams.clear();
                let mut at = 12;
                while at + 5 <= section.len() - 4 {
                    let pid = u16::from(section[at + 1] & 0x1f) << 8 | u16::from(section[at + 2]);
                    d.pmt_streams.push((section[at], pid));
                    at += 5;
                }
            } else {
                assert_eq!(
                    &section[8..12],
                    &[0, 1, 0xf0, 0x00],
                    "program 1 on PID 0x1000"
                );
            }
            continue;
        }
        if pusi {
            if let Some(prev) = current.remove(&pid) {
                done.push(prev);
            }
            let mut pes = Pes {
                pid,
                ..Pes::default()
            };
            if af.len() > 1 {
                pes.random_access = af[1] & 0x40 != 0;
                pes.discontinuity = af[1] & 0x80 != 0;
                if af[1] & 0x10 != 0 {
                    pes.pcr = super::ts::packet::read_pcr(p);
                }
            }
            assert_eq!(&payload[..3], &[0, 0, 1], "PES start code");
            let flags = payload[7];
            let header_len = usize::from(payload[8]);
            pes.pts = read_ts(&payload[9..14]);
            pes.dts = if flags & 0x40 != 0 {
                read_ts(&payload[14..19])
            } else {
                pes.pts
            };
            let declared = usize::from(u16::from_be_bytes([payload[4], payload[5]]));
            pes.data.extend_from_slice(&payload[9 + header_len..]);
            if declared != 0 {
                pes.data.reserve(declared);
            }
            current.insert(pid, pes);
        } else {
            current
                .get_mut(&pid)
                .expect("continuation of a PES")
                .data
                .extend_from_slice(payload);
        }
    }
    done.extend(current.into_values());
    done.sort_by_key(|p| p.dts);
    d.pes = done;
    d
}

/// (duration ms, url, discontinuity before) for each fragment of a playlist, plus the
/// media sequence and target duration.
pub struct Parsed {
    pub sequence: u64,
    pub target: u64,
    pub entries: Vec<(u64, String, bool)>,
}

pub fn parse_playlist(text: &str) -> Parsed {
    let mut p = Parsed {
        sequence: 0,
        target: 0,
        entries: Vec::new(),
    };
    let mut dur = None;
    let mut disc = false;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            p.sequence = v.parse().unwrap();
        } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            p.target = v.parse().unwrap();
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let v = v.strip_suffix(',').unwrap();
            let (s, ms) = v.split_once('.').unwrap();
            assert_eq!(ms.len(), 3);
            dur = Some(s.parse::<u64>().unwrap() * 1000 + ms.parse::<u64>().unwrap());
        } else if line == "#EXT-X-DISCONTINUITY" {
            disc = true;
        } else if !line.starts_with('#') {
            p.entries
                .push((dur.take().unwrap(), line.to_string(), disc));
            disc = false;
        }
    }
    for (d, url, _) in &p.entries {
        assert!(
            d.div_ceil(1000) <= p.target,
            "{url}: EXTINF {d} ms > target {}",
            p.target
        );
    }
    p
}

/// Every fragment the stream produced, demuxed in order with continuity checked across them.
fn all_fragments(files: &MemFiles, name: &str, ids: impl Iterator<Item = u64>) -> Vec<Demuxed> {
    let mut cc = HashMap::new();
    ids.map(|id| demux(&files.files[&format!("{name}-{id}.ts")], &mut cc))
        .collect()
}

fn last_playlist(files: &MemFiles, name: &str) -> Parsed {
    parse_playlist(&files.text(&format!("{name}.m3u8")))
}

// ---- Tests ----------------------------------------------------------------------------

#[test]
fn fragments_are_valid_transport_streams() {
    let mut files = MemFiles::default();
    let mut s = run(
        HlsConf::default(),
        "cam",
        &mut files,
        &av(0, 20_000, 2000, true),
    );
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    assert_eq!(p.entries.len(), 4);
    let frags = all_fragments(&files, "cam", 0..4);
    let mut last_video_dts = None;
    for (n, d) in frags.iter().enumerate() {
        assert_eq!(d.pmt_streams, vec![(0x1b, 0x100), (0x0f, 0x101)]);
        assert_eq!(d.pcr_pid, 0x100);
        let video: Vec<&Pes> = d.pes.iter().filter(|p| p.pid == 0x100).collect();
        let audio: Vec<&Pes> = d.pes.iter().filter(|p| p.pid == 0x101).collect();
        assert!(!video.is_empty() && !audio.is_empty());
        // Each fragment opens with a key frame carrying AUD, SPS, PPS, IDR.
        let first = video[0];
        assert!(first.random_access, "fragment {n}");
        let mut want = vec![0, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1];
        want.extend_from_slice(SPS);
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(PPS);
        want.extend_from_slice(&[0, 0, 0, 1, 0x65]);
        assert_eq!(&first.data[..want.len()], &want[..]);
        for v in &video {
            assert!(v.pcr.is_some(), "PCR on every video PES");
            assert_eq!(&v.data[..6], &[0, 0, 0, 1, 9, 0xf0], "AUD first");
            assert_eq!(v.pts, v.dts + 40 * 90, "PTS = DTS + composition time");
            assert!(
                v.pcr.unwrap() + 700 * 90 == v.dts,
                "PCR runs hls_muxdelay behind DTS"
            );
            if let Some(prev) = last_video_dts {
                assert!(v.dts > prev, "DTS increases across fragments");
            }
            last_video_dts = Some(v.dts);
            if !v.random_access {
                assert!(!v.data.windows(5).any(|w| w == [0, 0, 0, 1, 0x67]));
            }
        }
        for a in &audio {
            assert_eq!(a.pcr, None);
            assert_eq!(a.data[0], 0xff);
            assert_eq!(a.data[1] & 0xf6, 0xf0, "ADTS sync");
            let len = usize::from(a.data[3] & 3) << 11
                | usize::from(a.data[4]) << 3
                | usize::from(a.data[5] >> 5);
            assert_eq!(len, 207);
            assert_eq!(a.data.len() % 207, 0, "whole ADTS frames");
        }
    }
    // The first video frame is at ts 0: DTS = muxdelay.
    let v0 = frags[0].pes.iter().find(|p| p.pid == 0x100).unwrap();
    assert_eq!(v0.dts, 700 * 90);
}

#[test]
fn audio_is_batched_within_max_audio_delay_and_synced() {
    let mut files = MemFiles::default();
    let mut s = run(
        HlsConf::default(),
        "cam",
        &mut files,
        &av(0, 12_000, 2000, true),
    );
    s.finish(&mut files).unwrap();
    let frags = all_fragments(&files, "cam", 0..2);
    let mut frames = 0;
    let mut prev_end: Option<u64> = None;
    for d in &frags {
        for a in d.pes.iter().filter(|p| p.pid == 0x101) {
            let n = a.data.len() / 207;
            assert!((1..=15).contains(&n), "{n} frames per PES");
            // With hls_sync every batch starts exactly where the previous one's samples end.
            let frame_ticks = |k: u64| k * 90_000 * 1024 / 44_100;
            let pts = a.pts - 700 * 90;
            assert_eq!(pts, frame_ticks(frames as u64), "batch at frame {frames}");
            if let Some(end) = prev_end {
                assert!(a.pts >= end);
            }
            prev_end = Some(a.pts + frame_ticks(n as u64) - 1);
            frames += n;
        }
    }
    assert_eq!(frames, 12_000 * 44_100 / 1024 / 1000 + 1);
}

#[test]
fn cuts_at_the_first_key_frame_past_hls_fragment() {
    let mut files = MemFiles::default();
    let mut s = run(
        HlsConf::default(),
        "cam",
        &mut files,
        &av(1000, 30_000, 3000, true),
    );
    let p = last_playlist(&files, "cam");
    let durations: Vec<u64> = p.entries.iter().map(|e| e.0).collect();
    assert_eq!(durations, vec![6000, 6000, 6000, 6000]);
    assert!(files.open.is_some());
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    assert_eq!(p.entries.len(), 5);
    // The last fragment runs to the end of its last frame.
    assert_eq!(p.entries[4].0, 6000);
    assert!(files.open.is_none());
    assert_eq!(p.target, 6);
}

#[test]
fn forced_cut_at_max_fragment_without_key_frames() {
    let conf = HlsConf {
        fragment_ms: 1000,
        max_fragment_ms: 3000,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    // One key frame at the start, then none for 20 s.
    let frames = av(0, 20_000, 1_000_000, true);
    let mut s = run(conf, "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    assert!(p.entries.len() >= 6, "{}", p.entries.len());
    for (d, url, disc) in &p.entries {
        assert!(*d <= 3040, "{url} is {d} ms");
        assert!(!disc, "a long GOP is no discontinuity");
    }
    assert!(p.target <= 4);
}

#[test]
fn audio_only_cuts_on_audio_and_carries_the_pcr() {
    let mut files = MemFiles::default();
    let mut s = run(
        HlsConf::default(),
        "radio",
        &mut files,
        &audio_only(0, 16_000),
    );
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "radio");
    let durations: Vec<u64> = p.entries.iter().map(|e| e.0).collect();
    assert_eq!(durations.len(), 4);
    for d in &durations[..3] {
        assert!((5000..5030).contains(d), "{d}");
    }
    let frags = all_fragments(&files, "radio", 0..4);
    for d in &frags {
        assert_eq!(d.pmt_streams, vec![(0x0f, 0x101)], "no video announced");
        assert_eq!(d.pcr_pid, 0x101);
        assert!(d.pes.iter().all(|p| p.pid == 0x101 && p.pcr.is_some()));
    }
}

#[test]
fn mp3_audio_only() {
    let mut frames = Vec::new();
    for n in 0..300u32 {
        let mut v = vec![0x2f, 0xff, 0xfb, 0x90, 0x64];
        v.extend(std::iter::repeat_n(0, 400));
        frames.push(Frame {
            kind: FrameKind::Audio,
            ts: n * 26,
            payload: Bytes::from(v),
        });
    }
    let mut files = MemFiles::default();
    let mut s = run(HlsConf::default(), "mp3", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "mp3");
    assert_eq!(p.entries.len(), 2);
    let d = demux(&files.files["mp3-0.ts"], &mut HashMap::new());
    assert_eq!(d.pmt_streams, vec![(0x03, 0x101)]);
    assert_eq!(&d.pes[0].data[..3], &[0xff, 0xfb, 0x90]);
}

#[test]
fn other_video_codecs_are_skipped() {
    // HEVC over Enhanced RTMP with AAC audio: the fragments are audio-only.
    let mut frames = audio_only(0, 12_000);
    for t in (0..12_000).step_by(40) {
        let mut v = b"\x91hvc1\x00\x00\x00".to_vec();
        v.extend_from_slice(&[0, 0, 0, 3, 0x26, 1, 2]);
        frames.push(Frame {
            kind: FrameKind::Video,
            ts: t,
            payload: Bytes::from(v),
        });
    }
    frames.sort_by_key(|f| f.ts);
    let mut files = MemFiles::default();
    let mut s = run(HlsConf::default(), "hevc", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let d = demux(&files.files["hevc-0.ts"], &mut HashMap::new());
    assert_eq!(d.pmt_streams, vec![(0x0f, 0x101)]);
    assert_eq!(last_playlist(&files, "hevc").entries.len(), 3);
}

#[test]
fn playlist_slides_and_sequence_increments() {
    let conf = HlsConf {
        fragment_ms: 2000,
        playlist_length_ms: 6000,
        cleanup: false,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    run(conf, "cam", &mut files, &av(0, 30_000, 2000, true));
    let mut last_seq = 0;
    let mut count = 0;
    for (name, text) in &files.playlists {
        assert_eq!(name, "cam.m3u8");
        assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:"));
        assert!(!text.contains("ENDLIST"));
        assert!(!text.contains("PLAYLIST-TYPE"));
        let p = parse_playlist(text);
        assert!(p.entries.len() <= 3);
        assert!(p.sequence >= last_seq);
        last_seq = p.sequence;
        // Sequence N's fragment is named N.
        for (i, e) in p.entries.iter().enumerate() {
            assert_eq!(e.1, format!("cam-{}.ts", p.sequence + i as u64));
        }
        count += 1;
    }
    assert_eq!(count, 14);
    assert_eq!(last_seq, 11);
    assert!(files.removed.is_empty(), "hls_cleanup off removes nothing");
    assert_eq!(files.ts_names().len(), 15);
}

#[test]
fn event_playlists_keep_every_fragment() {
    let conf = HlsConf {
        fragment_ms: 2000,
        playlist_length_ms: 6000,
        playlist_type: PlaylistType::Event,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 30_000, 2000, true));
    s.finish(&mut files).unwrap();
    let text = files.text("cam.m3u8");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"));
    let p = parse_playlist(&text);
    assert_eq!(p.sequence, 0);
    assert_eq!(p.entries.len(), 15);
    assert!(
        files.removed.is_empty(),
        "event fragments are never cleaned up"
    );
}

#[test]
fn base_url_and_nested_names() {
    let conf = HlsConf {
        nested: true,
        base_url: "http://cdn.example/hls/".into(),
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert!(files.dirs.contains("cam"));
    assert!(files.files.contains_key("cam/0.ts"));
    assert!(files.files.contains_key("cam/1.ts"));
    let p = parse_playlist(&files.text("cam/index.m3u8"));
    assert_eq!(p.entries[0].1, "http://cdn.example/hls/cam/0.ts");

    let conf = HlsConf {
        nested: true,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    let p = parse_playlist(&files.text("cam/index.m3u8"));
    assert_eq!(p.entries[1].1, "1.ts");

    let conf = HlsConf {
        base_url: "/live/".into(),
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert_eq!(last_playlist(&files, "cam").entries[1].1, "/live/cam-1.ts");
}

#[test]
fn continuous_restart_continues_the_sequence() {
    let conf = HlsConf::default();
    let mut files = MemFiles::default();
    let mut s = run(conf.clone(), "cam", &mut files, &av(0, 20_000, 2000, true));
    s.finish(&mut files).unwrap();
    let before = last_playlist(&files, "cam");
    assert_eq!(before.entries.len(), 4);
    assert!(before.entries.iter().all(|e| !e.2));

    // The publisher comes back with timestamps from zero.
    let mut s = run(conf.clone(), "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    let after = last_playlist(&files, "cam");
    let urls: Vec<&str> = after.entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        urls,
        ["cam-0.ts", "cam-1.ts", "cam-2.ts", "cam-3.ts", "cam-4.ts", "cam-5.ts"]
    );
    let discs: Vec<bool> = after.entries.iter().map(|e| e.2).collect();
    assert_eq!(discs, [false, false, false, false, true, false]);
    assert_eq!(after.sequence, 0);
    // The old fragments are untouched, the new ones continue the counters afresh.
    assert_eq!(files.ts_names().len(), 6);

    // hls_continuous off: numbering starts over and the old list is forgotten.
    let conf = HlsConf {
        continuous: false,
        cleanup: false,
        ..HlsConf::default()
    };
    let mut s = run(conf, "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    let fresh = last_playlist(&files, "cam");
    assert_eq!(fresh.entries.len(), 2);
    assert_eq!(fresh.entries[0].1, "cam-0.ts");
    assert!(!fresh.entries[0].2);
}

#[test]
fn continuous_restore_slides_an_old_long_list() {
    let mut files = MemFiles::default();
    let mut old = String::from(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-TARGETDURATION:5\n",
    );
    for id in 100..120 {
        old.push_str(&format!("#EXTINF:5.000,\ncam-{id}.ts\n"));
        files.files.insert(format!("cam-{id}.ts"), vec![0x47; 188]);
    }
    files.files.insert("cam.m3u8".into(), old.into_bytes());
    let mut s = run(
        HlsConf::default(),
        "cam",
        &mut files,
        &av(0, 12_000, 2000, true),
    );
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    assert_eq!(p.entries.last().unwrap().1, "cam-121.ts");
    assert_eq!(p.sequence + p.entries.len() as u64, 122);
    // Fragments that did not fit the restored window, and those pushed out since, are
    // removed at unpublish (hls_cleanup on); the listed ones stay.
    for id in 100..p.sequence {
        assert!(!files.files.contains_key(&format!("cam-{id}.ts")), "{id}");
    }
    for e in &p.entries {
        assert!(files.files.contains_key(&e.1), "{}", e.1);
    }
}

#[test]
fn cleanup_waits_a_playlist_length_after_a_fragment_leaves() {
    let conf = HlsConf {
        fragment_ms: 2000,
        playlist_length_ms: 6000,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 40_000, 2000, true));
    // 19 closed fragments of 2 s, window of 3 (16..18). Fragment k left the window when
    // fragment k+3 closed and is removed once 3 more have closed (6 s later).
    let p = last_playlist(&files, "cam");
    assert_eq!(p.sequence, 16);
    let mut removed = files.removed.clone();
    removed.sort();
    let want: Vec<String> = (0..=12)
        .map(|k| format!("cam-{k}.ts"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(removed, want);
    for k in 13..=19 {
        assert!(files.files.contains_key(&format!("cam-{k}.ts")), "{k}");
    }
    // At unpublish the fragments that already left the playlist go; the listed ones stay.
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let kept: Vec<String> = files.ts_names();
    let listed: Vec<String> = p.entries.iter().map(|e| e.1.clone()).collect();
    assert_eq!(kept, listed);
    assert!(files.files.contains_key("cam.m3u8"));
}

#[test]
fn cleanup_after_restart_without_continuous() {
    let conf = HlsConf {
        fragment_ms: 2000,
        playlist_length_ms: 6000,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf.clone(), "cam", &mut files, &av(0, 20_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert_eq!(files.ts_names(), ["cam-7.ts", "cam-8.ts", "cam-9.ts"]);
    let conf = HlsConf {
        continuous: false,
        ..conf
    };
    let mut s = run(conf, "cam", &mut files, &av(0, 4_000, 2000, true));
    s.finish(&mut files).unwrap();
    // The old 7..9 were scheduled for removal and went at unpublish; new 0..1 remain.
    assert_eq!(files.ts_names(), ["cam-0.ts", "cam-1.ts"]);
}

#[test]
fn variants_write_the_master_playlist() {
    let conf = HlsConf {
        variants: vec![
            Variant {
                suffix: "_low".into(),
                params: vec!["BANDWIDTH=320000".into()],
            },
            Variant {
                suffix: "_hi".into(),
                params: vec!["BANDWIDTH=2560000".into(), "RESOLUTION=1280x720".into()],
            },
        ],
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(
        conf.clone(),
        "cam_low",
        &mut files,
        &av(0, 12_000, 2000, true),
    );
    s.finish(&mut files).unwrap();
    assert_eq!(
        files.text("cam.m3u8"),
        "#EXTM3U\n#EXT-X-VERSION:3\n\
         #EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=320000\ncam_low.m3u8\n\
         #EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=2560000,RESOLUTION=1280x720\ncam_hi.m3u8\n"
    );
    assert!(files.files.contains_key("cam_low.m3u8"));
    // A name without a variant suffix writes no master.
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert_eq!(
        files
            .playlists
            .iter()
            .filter(|(n, _)| n == "cam.m3u8")
            .count(),
        2
    );
    assert!(files.text("cam.m3u8").contains("#EXTINF"));
}

#[test]
fn finish_is_final_and_idempotent() {
    let mut files = MemFiles::default();
    let frames = av(0, 7_000, 2000, true);
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    assert_eq!(files.playlists.len(), 1);
    s.finish(&mut files).unwrap();
    assert_eq!(files.playlists.len(), 2);
    let text = files.text("cam.m3u8");
    assert!(!text.contains("#EXT-X-ENDLIST"));
    s.finish(&mut files).unwrap();
    feed(&mut s, &mut files, &frames);
    assert_eq!(files.playlists.len(), 2);
    assert_eq!(files.text("cam.m3u8"), text);
    // Nothing published at all: nothing written.
    let mut files = MemFiles::default();
    let mut s = HlsStream::new(HlsConf::default(), "cam", &mut files, 0);
    s.finish(&mut files).unwrap();
    assert!(files.files.is_empty());
}

#[test]
fn timestamp_jump_back_is_a_discontinuity() {
    let mut files = MemFiles::default();
    let mut frames = av(100_000, 12_000, 2000, true);
    // The encoder restarts its clock mid-stream.
    frames.extend(av(0, 12_000, 2000, true).into_iter().skip(2));
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let discs: Vec<bool> = p.entries.iter().map(|e| e.2).collect();
    assert_eq!(discs, [false, false, true, false]);
    let durations: Vec<u64> = p.entries.iter().map(|e| e.0).collect();
    // Fragments before the jump and at the end run to the end of their last audio frame.
    assert_eq!(durations, [6000, 6004, 6000, 6004]);
    let frags = all_fragments(&files, "cam", 0..4);
    let video = |d: &Demuxed| -> Vec<u64> {
        d.pes
            .iter()
            .filter(|p| p.pid == 0x100)
            .map(|p| p.dts)
            .collect()
    };
    assert_eq!(video(&frags[2])[0], 700 * 90, "new timeline from 0");
    assert!(
        frags[2]
            .pes
            .iter()
            .find(|p| p.pid == 0x100)
            .unwrap()
            .discontinuity,
        "PCR discontinuity flag"
    );
    for d in &frags {
        let v = video(d);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        let a: Vec<u64> = d
            .pes
            .iter()
            .filter(|p| p.pid == 0x101)
            .map(|p| p.pts)
            .collect();
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn forward_jump_and_wrap() {
    // A 2^32 ms wrap is no jump; a jump of more than hls_max_fragment is.
    let mut files = MemFiles::default();
    let start = u32::MAX - 7_000;
    let mut frames = av(start, 14_000, 2000, true);
    let later: Vec<Frame> = av(0, 6_000, 2000, true)
        .into_iter()
        .skip(2)
        .map(|mut f| {
            f.ts = f.ts.wrapping_add(start).wrapping_add(14_000 + 60_000);
            f
        })
        .collect();
    frames.extend(later);
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let summary: Vec<(u64, bool)> = p.entries.iter().map(|e| (e.0, e.2)).collect();
    // The clock wraps 7 s in, inside the second fragment: no discontinuity there. The
    // fragment before the jump ends with its media (14.001 s), the jump starts a new one.
    assert_eq!(
        summary,
        [(6000, false), (6000, false), (2001, false), (6013, true)]
    );
}

#[test]
fn small_backward_steps_keep_dts_increasing() {
    let mut files = MemFiles::default();
    let mut frames = vec![Frame {
        kind: FrameKind::Video,
        ts: 0,
        payload: avc_seq(),
    }];
    for (i, t) in [0u32, 40, 80, 60, 80, 120, 100, 160].iter().enumerate() {
        frames.push(Frame {
            kind: FrameKind::Video,
            ts: *t,
            payload: video_frame(i == 0, 0, 100),
        });
    }
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let d = demux(&files.files["cam-0.ts"], &mut HashMap::new());
    let dts: Vec<u64> = d.pes.iter().map(|p| p.dts / 90 - 700).collect();
    assert_eq!(dts, [0, 40, 80, 81, 82, 120, 121, 160]);
    assert!(d.pes.iter().all(|p| p.pts >= p.dts));
}

#[test]
fn aligned_slicing_cuts_on_multiples_of_the_fragment() {
    let conf = HlsConf {
        slicing: Slicing::Aligned,
        cleanup: false,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    // Key frames every second at x300 ms, starting at 2.3 s.
    let mut s = run(conf, "cam", &mut files, &av(2_300, 30_000, 1000, true));
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    // The first fragment opens at the first key frame of the next 5 s slot (5.3 s); each
    // later one at the first key frame of a new slot.
    let durations: Vec<u64> = p.entries.iter().map(|e| e.0).collect();
    assert_eq!(durations, [5000, 5000, 5000, 5000, 5000, 2000]);
    let d = demux(&files.files["cam-0.ts"], &mut HashMap::new());
    assert_eq!(
        d.pes.iter().find(|p| p.pid == 0x100).unwrap().dts / 90,
        5_300 + 700
    );
}

#[test]
fn timestamp_and_system_naming() {
    let conf = HlsConf {
        naming: Naming::Timestamp,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(1000, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert_eq!(files.ts_names(), ["cam-630000.ts", "cam-90000.ts"]);
    let conf = HlsConf {
        naming: Naming::System,
        naming_granularity: 1000,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf, "cam", &mut files, &av(1000, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    assert_eq!(
        files.ts_names(),
        ["cam-1700000001000.ts", "cam-1700000007000.ts"]
    );
    // A repeated timestamp never overwrites a listed fragment.
    let conf = HlsConf {
        naming: Naming::Timestamp,
        ..HlsConf::default()
    };
    let mut files = MemFiles::default();
    let mut s = run(conf.clone(), "cam", &mut files, &av(0, 12_000, 2000, true));
    s.finish(&mut files).unwrap();
    let mut s = run(conf, "cam", &mut files, &av(0, 7_000, 2000, true));
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let urls: Vec<&str> = p.entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        urls,
        [
            "cam-0.ts",
            "cam-540000.ts",
            "cam-540001.ts",
            "cam-540002.ts"
        ]
    );
}

#[test]
fn late_audio_joins_at_the_next_key_frame() {
    // The AAC header arrives after the first key frame: the first fragment is video-only,
    // the next one (cut early, at the next key frame) announces both.
    let mut frames = av(0, 12_000, 2000, true);
    let seq = frames.remove(1);
    let at = frames
        .iter()
        .position(|f| f.kind == FrameKind::Video && f.ts == 40)
        .unwrap();
    frames.insert(at, Frame { ts: 40, ..seq });
    let mut files = MemFiles::default();
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let summary: Vec<(u64, bool)> = p.entries.iter().map(|e| (e.0, e.2)).collect();
    // The last fragment ends where its last audio frame does (11.981 s + 23 ms).
    assert_eq!(summary, [(2000, false), (6000, true), (4004, false)]);
    let frags = all_fragments(&files, "cam", 0..3);
    assert_eq!(frags[0].pmt_streams, vec![(0x1b, 0x100)]);
    assert_eq!(frags[1].pmt_streams, vec![(0x1b, 0x100), (0x0f, 0x101)]);
}

#[test]
fn new_video_parameters_cut_with_a_discontinuity() {
    let mut frames = av(0, 12_000, 2000, true);
    let mut changed = avc_seq().to_vec();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let at = frames.iter().position(|f| f.ts == 1000).unwrap();
    frames.insert(
        at,
        Frame {
            kind: FrameKind::Video,
            ts: 1000,
            payload: Bytes::from(changed),
        },
    );
    // The same header again changes nothing.
    frames.insert(
        at,
        Frame {
            kind: FrameKind::Video,
            ts: 1000,
            payload: avc_seq(),
        },
    );
    let mut files = MemFiles::default();
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let p = last_playlist(&files, "cam");
    let summary: Vec<(u64, bool)> = p.entries.iter().map(|e| (e.0, e.2)).collect();
    assert_eq!(summary, [(2000, false), (6000, true), (4004, false)]);
}

#[test]
fn file_errors_are_reported_not_fatal() {
    let mut files = MemFiles {
        fail_open: true,
        ..MemFiles::default()
    };
    let frames = av(0, 3_000, 2000, true);
    let mut s = HlsStream::new(HlsConf::default(), "cam", &mut files, 0);
    let mut errors = 0;
    for f in &frames {
        if let Err(e) = s.frame(&mut files, 0, f.kind, f.ts, &f.payload) {
            assert!(e.contains("cam-0.ts") && e.contains("disk full"), "{e}");
            errors += 1;
        }
    }
    assert!(errors > 0);
    s.finish(&mut files).unwrap();

    let mut files = MemFiles::default();
    let mut s = HlsStream::new(HlsConf::default(), "cam", &mut files, 0);
    for f in &frames[..2] {
        s.frame(&mut files, 0, f.kind, f.ts, &f.payload).unwrap();
    }
    files.fail_write = true;
    let f = &frames[2];
    let e = s
        .frame(&mut files, 0, f.kind, f.ts, &f.payload)
        .unwrap_err();
    assert!(e.contains("write"), "{e}");
    for f in &frames {
        let _ = s.frame(&mut files, 0, f.kind, f.ts, &f.payload);
    }
    let _ = s.finish(&mut files);
}

#[test]
fn frames_before_sequence_headers_and_data_are_ignored() {
    let mut files = MemFiles::default();
    let mut s = HlsStream::new(HlsConf::default(), "cam", &mut files, 0);
    for (kind, p) in [
        (FrameKind::Video, video_frame(true, 0, 100)),
        (FrameKind::Audio, aac_frame(100)),
        (
            FrameKind::Data,
            Bytes::from_static(b"\x02\x00\x0aonMetaData"),
        ),
        (FrameKind::Video, Bytes::new()),
        (FrameKind::Audio, Bytes::new()),
    ] {
        s.frame(&mut files, 0, kind, 0, &p).unwrap();
    }
    s.finish(&mut files).unwrap();
    assert!(files.files.is_empty());
}

#[test]
fn key_frames_cut_even_when_audio_stops() {
    // nginx-rtmp waits for buffered audio before a key-frame cut; with audio gone after
    // 2 s it would not cut until hls_max_fragment.
    let mut frames = av(0, 20_000, 2000, true);
    frames.retain(|f| f.kind == FrameKind::Video || f.ts < 2000);
    let mut files = MemFiles::default();
    let mut s = run(HlsConf::default(), "cam", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let durations: Vec<u64> = last_playlist(&files, "cam")
        .entries
        .iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(durations, [6000, 6000, 6000, 2000]);
}

// ---- fMP4 -----------------------------------------------------------------------------

mod real {
    pub const HEVC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");
    pub const HEVC_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_key");
    pub const HEVC_INTER: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_inter");
    pub const COLOR_INFO: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_colorinfo");
    pub const AV1_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_seq");
    pub const AV1_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_key");
    pub const AV1_INTER: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_av1_inter");
    pub const OPUS_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");
    pub const OPUS_CHANNELS: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_channels");
    pub const OPUS_FRAME: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_frame");
}

/// An Enhanced RTMP stream as FFmpeg 8.1 sends it: configs, then 25 fps video with a
/// keyframe every second (the real tags, repeated) and, with `opus`, 20 ms Opus frames.
fn enhanced(seq: &[u8], key: &[u8], inter: &[u8], opus: bool, duration_ms: u32) -> Vec<Frame> {
    let f = |kind, ts, p: &[u8]| Frame {
        kind,
        ts,
        payload: Bytes::copy_from_slice(p),
    };
    let mut frames = vec![f(FrameKind::Video, 0, seq)];
    if opus {
        frames.push(f(FrameKind::Audio, 0, real::OPUS_SEQ));
        frames.push(f(FrameKind::Audio, 0, real::OPUS_CHANNELS));
    }
    frames.push(f(FrameKind::Video, 0, real::COLOR_INFO));
    let mut timed = Vec::new();
    for t in (0..duration_ms).step_by(40) {
        let p = if t % 1000 == 0 { key } else { inter };
        timed.push((t, 0, f(FrameKind::Video, t, p)));
    }
    if opus {
        for t in (0..duration_ms).step_by(20) {
            timed.push((t, 1, f(FrameKind::Audio, t, real::OPUS_FRAME)));
        }
    }
    timed.sort_by_key(|(t, o, _)| (*t, *o));
    frames.extend(timed.into_iter().map(|(_, _, f)| f));
    frames
}

fn fmp4_conf() -> HlsConf {
    HlsConf {
        fragment_ms: 2000,
        ..HlsConf::default()
    }
}

#[test]
fn hevc_and_opus_go_into_fmp4_with_an_init_segment() {
    use super::fmp4::tests::{find, parse, read_fragments};
    let mut files = MemFiles::default();
    let frames = enhanced(real::HEVC_SEQ, real::HEVC_KEY, real::HEVC_INTER, true, 6000);
    let mut s = run(fmp4_conf(), "tv", &mut files, &frames);
    s.finish(&mut files).unwrap();
    let text = files.text("tv.m3u8");
    assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n"), "{text}");
    assert!(text.contains("#EXT-X-MAP:URI=\"tv-init-0.mp4\"\n#EXTINF:2.000,\ntv-0.m4s\n"));
    assert_eq!(text.matches("#EXT-X-MAP").count(), 1);
    let p = parse_playlist(&text);
    let names: Vec<&str> = p.entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(names, ["tv-0.m4s", "tv-1.m4s", "tv-2.m4s"]);
    assert!(files.ts_names().is_empty());

    let init = parse(&files.files["tv-init-0.mp4"]);
    let stsd = |trak: usize| {
        let traks: Vec<_> = init[1]
            .children
            .iter()
            .filter(|b| &b.kind == b"trak")
            .collect();
        find(&traks[trak].children, &[b"mdia", b"minf", b"stbl", b"stsd"])
            .unwrap()
            .children[0]
            .kind
    };
    assert_eq!((&stsd(0), &stsd(1)), (b"hvc1", b"Opus"));

    let key_nalus = &real::HEVC_KEY[8..];
    let inter_nalus = &real::HEVC_INTER[8..];
    let opus_packet = &real::OPUS_FRAME[5..];
    let mut next_video_time = 0u64;
    for (n, name) in names.iter().enumerate() {
        let frags = read_fragments(&files.files[*name]);
        assert!(!frags.is_empty(), "{name}");
        let (_, runs) = &frags[0];
        let video = runs.iter().find(|r| r.0 == 1).expect("video run");
        let audio = runs.iter().find(|r| r.0 == 2).expect("audio run");
        // 2 s: 50 pictures at 3600 ticks, starting with a keyframe whose bytes are the
        // publisher's NAL units; 100 Opus packets of 960 ticks.
        assert_eq!(video.1, next_video_time, "{name} starts where {n} ended");
        assert_eq!(video.2.len(), 50, "{name}");
        let keys: Vec<usize> = (0..50).filter(|&i| video.2[i].2).collect();
        assert_eq!(keys, [0, 25], "keyframes every second");
        assert!(video.2.iter().all(|s| s.0 == 3600));
        assert_eq!(&video.3[..key_nalus.len()], key_nalus);
        assert_eq!(
            &video.3[key_nalus.len()..][..inter_nalus.len()],
            inter_nalus
        );
        // The composition offset (80 ms for the key, 40 for the others) in 90 kHz ticks.
        assert_eq!(video.2[0].3, 80 * 90);
        assert_eq!(audio.1, 48 * 2000 * n as u64);
        assert_eq!(audio.2.len(), 100);
        assert!(audio.2.iter().all(|s| s.0 == 960 && s.2));
        assert_eq!(&audio.3[..opus_packet.len()], opus_packet);
        next_video_time += 50 * 3600;
    }
}

#[test]
fn av1_strips_nothing_it_need_not_and_h264_follows_hls_fragment_type() {
    use super::fmp4::tests::{find, parse, read_fragments};
    // AV1 without audio: fMP4 even with the default type.
    let mut files = MemFiles::default();
    let frames = enhanced(real::AV1_SEQ, real::AV1_KEY, real::AV1_INTER, false, 4000);
    run(fmp4_conf(), "av1", &mut files, &frames)
        .finish(&mut files)
        .unwrap();
    let init = parse(&files.files["av1-init-0.mp4"]);
    let stsd = find(
        &init,
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"],
    )
    .unwrap();
    assert_eq!(&stsd.children[0].kind, b"av01");
    let frags = read_fragments(&files.files["av1-0.m4s"]);
    let video = &frags[0].1[0];
    assert_eq!(&video.3[..real::AV1_KEY.len() - 5], &real::AV1_KEY[5..]);
    assert!(find(&init, &[b"moov", b"mvex"]).unwrap().children.len() == 1);

    // H.264 + AAC: MPEG-TS by default, fMP4 with `hls_fragment_type fmp4`.
    let mut files = MemFiles::default();
    run(
        HlsConf::default(),
        "h264",
        &mut files,
        &av(0, 12_000, 2000, true),
    )
    .finish(&mut files)
    .unwrap();
    assert!(!files.ts_names().is_empty());
    assert!(files.text("h264.m3u8").contains("#EXT-X-VERSION:3\n"));
    let mut files = MemFiles::default();
    let conf = HlsConf {
        fragment_type: FragmentType::Fmp4,
        ..HlsConf::default()
    };
    run(conf, "h264", &mut files, &av(0, 12_000, 2000, true))
        .finish(&mut files)
        .unwrap();
    assert!(files.ts_names().is_empty());
    let init = parse(&files.files["h264-init-0.mp4"]);
    let traks: Vec<_> = init[1]
        .children
        .iter()
        .filter(|b| &b.kind == b"trak")
        .collect();
    let entry = |t: &super::fmp4::tests::Bx| {
        find(&t.children, &[b"mdia", b"minf", b"stbl", b"stsd"])
            .unwrap()
            .children[0]
            .kind
    };
    assert_eq!((&entry(traks[0]), &entry(traks[1])), (b"avc1", b"mp4a"));
    let frags = read_fragments(&files.files["h264-0.m4s"]);
    let video = &frags[0].1[0];
    // AVCC samples as the publisher sent them (no Annex B, no AUD).
    let key = video_frame(true, 40, 3000);
    assert_eq!(&video.3[..key.len() - 5], &key[5..]);

    // `hls_fragment_type mpegts`: HEVC is skipped, as by nginx-rtmp.
    let mut files = MemFiles::default();
    let conf = HlsConf {
        fragment_type: FragmentType::MpegTs,
        ..fmp4_conf()
    };
    let frames = enhanced(
        real::HEVC_SEQ,
        real::HEVC_KEY,
        real::HEVC_INTER,
        false,
        4000,
    );
    run(conf, "hevc", &mut files, &frames)
        .finish(&mut files)
        .unwrap();
    assert!(files.files.is_empty(), "{:?}", files.files.keys());
}

#[test]
fn new_parameters_get_a_new_init_segment_and_old_ones_are_cleaned_up() {
    let mut files = MemFiles::default();
    let conf = HlsConf {
        fragment_ms: 1000,
        playlist_length_ms: 3000,
        ..HlsConf::default()
    };
    let mut s = HlsStream::new(conf.clone(), "tv", &mut files, 0);
    let first = enhanced(
        real::HEVC_SEQ,
        real::HEVC_KEY,
        real::HEVC_INTER,
        false,
        3000,
    );
    feed(&mut s, &mut files, &first);
    // A new sequence start (other parameters) at 3 s, then more pictures.
    let mut seq2 = real::HEVC_SEQ.to_vec();
    seq2.extend_from_slice(&[0, 0]);
    let mut second = enhanced(&seq2, real::HEVC_KEY, real::HEVC_INTER, false, 12_000);
    for f in &mut second {
        f.ts += 3000;
    }
    feed(&mut s, &mut files, &second);
    s.finish(&mut files).unwrap();
    let text = files.text("tv.m3u8");
    // The new init came with the fragment at 3 s, after a discontinuity.
    assert!(
        files.removed.contains(&"tv-init-0.mp4".to_string()),
        "{text}"
    );
    assert!(!files.files.contains_key("tv-init-0.mp4"));
    assert!(files.files.contains_key("tv-init-3.mp4"));
    assert!(
        text.contains("#EXT-X-MAP:URI=\"tv-init-3.mp4\"\n"),
        "{text}"
    );
    assert!(!text.contains("init-0"), "{text}");

    // hls_continuous: a new publisher continues the playlist; its fragments use its own
    // initialization segment, after a discontinuity.
    let mut s = HlsStream::new(conf, "tv", &mut files, 0);
    let third = enhanced(
        real::HEVC_SEQ,
        real::HEVC_KEY,
        real::HEVC_INTER,
        false,
        2000,
    );
    feed(&mut s, &mut files, &third);
    s.finish(&mut files).unwrap();
    let text = files.text("tv.m3u8");
    let p = parse_playlist(&text);
    let last = p.entries.last().unwrap();
    assert!(last.2 || p.entries.iter().any(|e| e.2), "{text}");
    assert!(text.contains("#EXT-X-MAP:URI=\"tv-init-"), "{text}");
    for line in text.lines().filter(|l| l.starts_with("#EXT-X-MAP")) {
        let name = line.split('"').nth(1).unwrap();
        assert!(files.files.contains_key(name), "{name} is listed but gone");
    }
}
