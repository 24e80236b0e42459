//! For the recorder's tests: files in memory, an FLV reader that checks every tag's
//! framing, and publisher frames.

use std::collections::BTreeMap;
use std::io;

use bytes::Bytes;

use crate::hub::FrameKind;
use crate::media::amf0_scan::{Reader, Value};

use super::files::{RecordEvent, RecordFiles};
use super::flv_tag::{TagHeader, FILE_HEADER_LEN, TAG_HEADER_LEN};
use super::{FlvRecorder, RecorderConf};

fn err(what: &str) -> io::Error {
    io::Error::other(what.to_string())
}

/// Files kept per piece number. The same number opened again in append mode finds its
/// old content, as a shell that maps every piece to one path would.
#[derive(Debug, Default)]
pub(super) struct MemFiles {
    pub files: BTreeMap<u32, Vec<u8>>,
    pub open: Option<u32>,
    pub appends: usize,
    pub closes: usize,
    /// The append call (counted from 0 over the fake's life) that fails.
    pub fail_append: Option<usize>,
    pub fail_open: bool,
    pub fail_write_at: bool,
    pub fail_read: bool,
    /// Pieces opened while another was open: the recorder must never do that.
    pub overlaps: usize,
}

impl MemFiles {
    fn current(&mut self) -> io::Result<&mut Vec<u8>> {
        let n = self.open.ok_or_else(|| err("no open file"))?;
        self.files.get_mut(&n).ok_or_else(|| err("no such file"))
    }

    pub(super) fn file(&self, piece: u32) -> &[u8] {
        self.files.get(&piece).map_or(&[], |f| f.as_slice())
    }
}

impl RecordFiles for MemFiles {
    fn open(&mut self, piece: u32, append: bool) -> io::Result<u64> {
        if self.fail_open {
            return Err(err("open refused"));
        }
        if self.open.is_some() {
            self.overlaps += 1;
        }
        let f = self.files.entry(piece).or_default();
        if !append {
            f.clear();
        }
        self.open = Some(piece);
        Ok(f.len() as u64)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if self.fail_read {
            return Err(err("read refused"));
        }
        let f = self.current()?;
        let at = usize::try_from(offset).map_err(|_| err("offset"))?;
        let src = f
            .get(at..at + buf.len())
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn append(&mut self, bufs: &[&[u8]]) -> io::Result<()> {
        let n = self.appends;
        self.appends += 1;
        if self.fail_append == Some(n) {
            return Err(err("disk full"));
        }
        let f = self.current()?;
        for b in bufs {
            f.extend_from_slice(b);
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        if self.fail_write_at {
            return Err(err("write_at refused"));
        }
        let f = self.current()?;
        let at = usize::try_from(offset).map_err(|_| err("offset"))?;
        let dst = f
            .get_mut(at..at + bytes.len())
            .ok_or_else(|| err("write_at past the end"))?;
        dst.copy_from_slice(bytes);
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        self.closes += 1;
        self.open.take().map(|_| ()).ok_or_else(|| err("not open"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tag {
    pub tag_type: u8,
    pub ts: u32,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct Flv {
    pub flags: u8,
    pub tags: Vec<Tag>,
}

/// Reads a whole FLV file, panicking on any framing error: a wrong PreviousTagSize, a
/// cut tag, a bad header.
pub(super) fn parse_flv(b: &[u8]) -> Flv {
    assert!(b.len() >= FILE_HEADER_LEN, "short file: {} bytes", b.len());
    assert_eq!(&b[..4], b"FLV\x01");
    assert_eq!(&b[5..13], b"\x00\x00\x00\x09\x00\x00\x00\x00");
    Flv {
        flags: b[4],
        tags: parse_tags(&b[FILE_HEADER_LEN..]),
    }
}

pub(super) fn parse_tags(mut b: &[u8]) -> Vec<Tag> {
    let mut tags = Vec::new();
    while !b.is_empty() {
        assert!(b.len() >= TAG_HEADER_LEN + 4, "cut tag at the end");
        let h = TagHeader::decode(b[..TAG_HEADER_LEN].try_into().expect("11 bytes"));
        assert!(matches!(h.tag_type, 8 | 9 | 18), "tag type {}", h.tag_type);
        let end = TAG_HEADER_LEN + h.body_len as usize;
        assert!(b.len() >= end + 4, "cut tag body");
        let prev = u32::from_be_bytes(b[end..end + 4].try_into().expect("4 bytes"));
        assert_eq!(prev, h.tag_size(), "PreviousTagSize");
        tags.push(Tag {
            tag_type: h.tag_type,
            ts: h.timestamp,
            body: b[TAG_HEADER_LEN..end].to_vec(),
        });
        b = &b[end + 4..];
    }
    tags
}

/// The properties of an onMetaData tag body.
pub(super) fn meta_props(body: &[u8]) -> Vec<(String, Value)> {
    let mut r = Reader::new(body);
    assert_eq!(r.read_value(), Some(Value::String("onMetaData".into())));
    r.read_properties().expect("metadata properties")
}

pub(super) fn meta_number(body: &[u8], name: &str) -> Option<f64> {
    meta_props(body).into_iter().find_map(|(n, v)| match v {
        Value::Number(x) if n == name => Some(x),
        _ => None,
    })
}

pub(super) fn avc_seq() -> Bytes {
    Bytes::from_static(b"\x17\x00\x00\x00\x00\x01\x64\x00\x1f\xff\xe1")
}
pub(super) fn aac_seq() -> Bytes {
    Bytes::from_static(b"\xaf\x00\x12\x10")
}
/// A frame tagged with `n` so tests can tell frames apart.
pub(super) fn video(key: bool, n: u32) -> Bytes {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
    v.extend_from_slice(&n.to_be_bytes());
    Bytes::from(v)
}
pub(super) fn aac(n: u32) -> Bytes {
    let mut v = vec![0xaf, 1];
    v.extend_from_slice(&n.to_be_bytes());
    Bytes::from(v)
}
pub(super) fn publisher_metadata(width: f64) -> Bytes {
    let mut b = b"\x02\x00\x0d@setDataFrame\x02\x00\x0aonMetaData\x08\x00\x00\x00\x04".to_vec();
    for (name, v) in [
        ("duration", 0.0),
        ("width", width),
        ("videocodecid", 7.0),
        ("audiocodecid", 10.0),
    ] {
        b.extend_from_slice(&(name.len() as u16).to_be_bytes());
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(b"\x00\x00\x09");
    Bytes::from(b)
}

/// A recorder with its files and the events it reported.
pub(super) struct Rig {
    pub rec: FlvRecorder,
    pub files: MemFiles,
    pub events: Vec<RecordEvent>,
    /// The monotonic clock at publisher timestamp 0.
    pub clock_base: u64,
}

impl Rig {
    pub(super) fn new(conf: RecorderConf) -> Rig {
        Rig {
            rec: FlvRecorder::new(conf),
            files: MemFiles::default(),
            events: Vec::new(),
            clock_base: 1_000_000,
        }
    }

    /// Feeds a frame; the clock follows the publisher's timestamps.
    pub(super) fn feed(&mut self, kind: FrameKind, ts: u32, payload: &Bytes) {
        let now = self.clock_base + u64::from(ts);
        self.rec
            .frame(&mut self.files, now, kind, ts, payload, &mut self.events);
    }

    pub(super) fn stop(&mut self) {
        self.rec.stop(&mut self.files, &mut self.events);
    }

    /// Metadata and sequence headers at `ts`, as a publisher starts.
    pub(super) fn publish_head(&mut self, ts: u32) {
        self.feed(FrameKind::Data, ts, &publisher_metadata(320.0));
        self.feed(FrameKind::Video, ts, &avc_seq());
        self.feed(FrameKind::Audio, ts, &aac_seq());
    }

    /// 25 fps video with a keyframe every `gop` frames and 40 ms audio frames (between
    /// the video frames), from `from_ms` for `ms`. Frame numbers are the timestamps.
    pub(super) fn av(&mut self, from_ms: u32, ms: u32, gop: u32) {
        let mut t = from_ms;
        while t < from_ms + ms {
            let key = (t / 40).is_multiple_of(gop);
            self.feed(FrameKind::Video, t, &video(key, t));
            self.feed(FrameKind::Audio, t + 20, &aac(t + 20));
            t += 40;
        }
    }

    pub(super) fn opened(&self) -> Vec<u32> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RecordEvent::Opened { piece } => Some(*piece),
                _ => None,
            })
            .collect()
    }

    /// (piece, bytes, video_frames, duration_ms) of each Closed event.
    pub(super) fn closed(&self) -> Vec<(u32, u64, u64, u64)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RecordEvent::Closed {
                    piece,
                    bytes,
                    video_frames,
                    duration_ms,
                } => Some((*piece, *bytes, *video_frames, *duration_ms)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn failed(&self) -> Vec<u32> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RecordEvent::Failed { piece, .. } => Some(*piece),
                _ => None,
            })
            .collect()
    }
}

/// The frame number a test frame carries (see [`video`] and [`aac`]).
pub(super) fn frame_no(t: &Tag) -> u32 {
    let at = if t.tag_type == 9 { 5 } else { 2 };
    t.body
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(u32::MAX, u32::from_be_bytes)
}
