//! The onMetaData script tags of a recording: the one at the head of a piece, with
//! `duration` and `filesize` numbers patched in place at close so players and ffprobe see
//! the real length, and later copies when the publisher's metadata changes.
//!
//! The publisher's properties are copied as raw AMF0 bytes, so whatever it sent (nested
//! objects included) survives without a full AMF0 model.

use crate::media::amf0_scan::{Reader, Value};
use crate::media::codec::{AudioCodec, VideoCodec};
use crate::media::flv::{audio_codec, video_codec};

use super::amf0_write;

const ECMA_ARRAY: u8 = 0x08;
const OBJECT: u8 = 0x03;
const TYPED_OBJECT: u8 = 0x10;
const OBJECT_END: u8 = 0x09;
const NUMBER: u8 = 0x00;

/// The properties the recorder owns: the publisher's values describe its stream, not
/// this file.
const OWN: [&[u8]; 2] = [b"duration", b"filesize"];

/// One top-level property: its name, its value's bytes (marker included) and where the
/// value starts in the payload.
struct Property<'a> {
    name: &'a [u8],
    value: &'a [u8],
    value_at: usize,
}

/// The top-level properties of `"onMetaData", {…}`. Reading stops quietly at the first
/// damaged property, keeping those before it, as encoders in the wild truncate.
fn properties(meta: &[u8]) -> Option<Vec<Property<'_>>> {
    let mut r = Reader::new(meta);
    match r.read_value()? {
        Value::String(s) if s == "onMetaData" => {}
        _ => return None,
    }
    let mut at = r.position();
    let marker = *meta.get(at)?;
    at += 1;
    match marker {
        ECMA_ARRAY => at += 4,
        OBJECT => {}
        TYPED_OBJECT => at += 2 + usize::from(read_u16(meta, at)?),
        _ => return None,
    }
    let mut props = Vec::new();
    while let Some(len) = read_u16(meta, at) {
        let name_at = at + 2;
        let value_at = name_at + usize::from(len);
        let Some(name) = meta.get(name_at..value_at) else {
            break;
        };
        let Some(rest) = meta.get(value_at..) else {
            break;
        };
        if name.is_empty() && rest.first() == Some(&OBJECT_END) {
            break;
        }
        let mut vr = Reader::new(rest);
        if vr.read_value().is_none() {
            break;
        }
        let Some(value) = rest.get(..vr.position()) else {
            break;
        };
        props.push(Property {
            name,
            value,
            value_at,
        });
        at = value_at + value.len();
    }
    Some(props)
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Which media the piece holds: properties about a medium it does not record would make
/// players wait for a stream that never comes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Media {
    pub audio: bool,
    pub video: bool,
}

fn is_audio_property(name: &[u8]) -> bool {
    name.starts_with(b"audio") || name == b"stereo"
}

fn is_video_property(name: &[u8]) -> bool {
    name.starts_with(b"video") || matches!(name, b"width" | b"height" | b"framerate" | b"fps")
}

fn keep(p: &Property<'_>, media: Media) -> bool {
    !OWN.contains(&p.name)
        && (media.audio || !is_audio_property(p.name))
        && (media.video || !is_video_property(p.name))
}

/// The codec ids to state when the publisher's metadata does not: the legacy id, or for
/// Enhanced RTMP the FourCC as a number, as ffmpeg's FLV muxer writes it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CodecIds {
    pub video: Option<u32>,
    pub audio: Option<u32>,
}

impl CodecIds {
    pub(super) fn from_configs(video: Option<&[u8]>, audio: Option<&[u8]>) -> CodecIds {
        CodecIds {
            video: video.and_then(video_codec_id),
            audio: audio.and_then(audio_codec_id),
        }
    }
}

fn video_codec_id(config: &[u8]) -> Option<u32> {
    let b0 = *config.first()?;
    if b0 & 0x80 == 0 {
        return Some(u32::from(b0 & 0x0f));
    }
    let fourcc = match video_codec(config)? {
        VideoCodec::Avc => *b"avc1",
        VideoCodec::Hevc => *b"hvc1",
        VideoCodec::Av1 => *b"av01",
        VideoCodec::Vp9 => *b"vp09",
        VideoCodec::Vp8 => *b"vp08",
        VideoCodec::Vvc => *b"vvc1",
        VideoCodec::Other(n) => n.to_be_bytes(),
        _ => return None,
    };
    Some(u32::from_be_bytes(fourcc))
}

fn audio_codec_id(config: &[u8]) -> Option<u32> {
    let b0 = *config.first()?;
    if b0 >> 4 != 9 {
        return Some(u32::from(b0 >> 4));
    }
    let fourcc = match audio_codec(config)? {
        AudioCodec::Opus => *b"Opus",
        AudioCodec::Flac => *b"fLaC",
        AudioCodec::Aac => *b"mp4a",
        AudioCodec::Mp3 => *b".mp3",
        AudioCodec::Ac3 => *b"ac-3",
        AudioCodec::Eac3 => *b"ec-3",
        AudioCodec::Other(n) => n.to_be_bytes(),
        _ => return None,
    };
    Some(u32::from_be_bytes(fourcc))
}

/// The body of the head onMetaData tag and where its two patchable numbers start.
#[derive(Debug)]
pub(super) struct HeadMeta {
    pub body: Vec<u8>,
    pub duration_at: usize,
    pub filesize_at: usize,
}

/// `publisher` is the stripped `"onMetaData", {…}` payload, if any arrived; unreadable
/// metadata counts as none.
pub(super) fn head_metadata(publisher: Option<&[u8]>, media: Media, codecs: CodecIds) -> HeadMeta {
    let props = publisher.and_then(properties).unwrap_or_default();
    let kept: Vec<&Property<'_>> = props.iter().filter(|p| keep(p, media)).collect();
    let has = |n: &[u8]| kept.iter().any(|p| p.name == n);
    let video_id = codecs
        .video
        .filter(|_| media.video && !has(b"videocodecid"));
    let audio_id = codecs
        .audio
        .filter(|_| media.audio && !has(b"audiocodecid"));

    let mut body = Vec::new();
    amf0_write::string(&mut body, "onMetaData");
    let count = kept.len() + 2 + usize::from(video_id.is_some()) + usize::from(audio_id.is_some());
    amf0_write::ecma_array_start(&mut body, u32::try_from(count).unwrap_or(u32::MAX));
    for p in &kept {
        amf0_write::name(&mut body, p.name);
        body.extend_from_slice(p.value);
    }
    for (name, id) in [(b"videocodecid", video_id), (b"audiocodecid", audio_id)] {
        if let Some(id) = id {
            amf0_write::name(&mut body, name);
            amf0_write::number(&mut body, f64::from(id));
        }
    }
    amf0_write::name(&mut body, b"duration");
    let duration_at = amf0_write::number(&mut body, 0.0);
    amf0_write::name(&mut body, b"filesize");
    let filesize_at = amf0_write::number(&mut body, 0.0);
    amf0_write::object_end(&mut body);
    HeadMeta {
        body,
        duration_at,
        filesize_at,
    }
}

/// A later copy of changed metadata, without `duration`/`filesize`: ffmpeg takes the
/// duration from every onMetaData it meets, and the publisher's (usually 0) would
/// override the patched one. `None` when the payload cannot be read.
pub(super) fn midstream_metadata(publisher: &[u8], media: Media) -> Option<Vec<u8>> {
    let props = properties(publisher)?;
    let kept: Vec<&Property<'_>> = props.iter().filter(|p| keep(p, media)).collect();
    let mut body = Vec::new();
    amf0_write::string(&mut body, "onMetaData");
    amf0_write::ecma_array_start(&mut body, u32::try_from(kept.len()).unwrap_or(u32::MAX));
    for p in &kept {
        amf0_write::name(&mut body, p.name);
        body.extend_from_slice(p.value);
    }
    amf0_write::object_end(&mut body);
    Some(body)
}

/// Where the numbers `duration` and `filesize` start in an existing onMetaData body,
/// so an appending recorder can keep them true for the whole file.
pub(super) fn find_patch_points(body: &[u8]) -> (Option<usize>, Option<usize>) {
    let mut found = (None, None);
    for p in properties(body).unwrap_or_default() {
        if p.value.first() != Some(&NUMBER) {
            continue;
        }
        let at = Some(p.value_at + 1);
        match p.name {
            b"duration" => found.0 = at,
            b"filesize" => found.1 = at,
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Media = Media {
        audio: true,
        video: true,
    };

    fn publisher_meta() -> Vec<u8> {
        let mut b = Vec::new();
        amf0_write::string(&mut b, "onMetaData");
        amf0_write::ecma_array_start(&mut b, 5);
        amf0_write::name(&mut b, b"duration");
        amf0_write::number(&mut b, 0.0);
        amf0_write::name(&mut b, b"width");
        amf0_write::number(&mut b, 320.0);
        amf0_write::name(&mut b, b"encoder");
        amf0_write::string(&mut b, "obs");
        amf0_write::name(&mut b, b"audiocodecid");
        amf0_write::number(&mut b, 10.0);
        amf0_write::name(&mut b, b"nested");
        b.extend_from_slice(b"\x03\x00\x01a\x01\x01\x00\x00\x09");
        amf0_write::object_end(&mut b);
        b
    }

    fn props_of(body: &[u8]) -> Vec<(String, Value)> {
        let mut r = Reader::new(body);
        assert_eq!(r.read_value(), Some(Value::String("onMetaData".into())));
        r.read_properties().unwrap_or_default()
    }

    fn number_at(body: &[u8], at: usize) -> Option<f64> {
        Some(f64::from_be_bytes(body.get(at..at + 8)?.try_into().ok()?))
    }

    #[test]
    fn head_copies_publisher_and_adds_own_numbers() {
        let m = head_metadata(Some(&publisher_meta()), BOTH, CodecIds::default());
        let props = props_of(&m.body);
        let names: Vec<&str> = props.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "width",
                "encoder",
                "audiocodecid",
                "nested",
                "duration",
                "filesize"
            ]
        );
        assert_eq!(
            props.get(1).map(|p| &p.1),
            Some(&Value::String("obs".into()))
        );
        assert_eq!(props.get(3).map(|p| &p.1), Some(&Value::Nested));
        // The ECMA count matches what follows.
        assert_eq!(m.body.get(14..18), Some(&6u32.to_be_bytes()[..]));
        assert_eq!(number_at(&m.body, m.duration_at), Some(0.0));
        assert_eq!(number_at(&m.body, m.filesize_at), Some(0.0));
        assert_eq!(
            find_patch_points(&m.body),
            (Some(m.duration_at), Some(m.filesize_at))
        );
    }

    #[test]
    fn head_drops_properties_of_unrecorded_media() {
        let audio_only = Media {
            audio: true,
            video: false,
        };
        let m = head_metadata(Some(&publisher_meta()), audio_only, CodecIds::default());
        let names: Vec<String> = props_of(&m.body).into_iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            ["encoder", "audiocodecid", "nested", "duration", "filesize"]
        );
    }

    #[test]
    fn minimal_head_has_codec_ids() {
        let codecs = CodecIds::from_configs(Some(b"\x17\x00"), Some(b"\x90Opus"));
        let m = head_metadata(None, BOTH, codecs);
        let props = props_of(&m.body);
        assert_eq!(
            props,
            [
                ("videocodecid".to_string(), Value::Number(7.0)),
                (
                    "audiocodecid".to_string(),
                    Value::Number(f64::from(u32::from_be_bytes(*b"Opus")))
                ),
                ("duration".to_string(), Value::Number(0.0)),
                ("filesize".to_string(), Value::Number(0.0)),
            ]
        );
        let hevc = CodecIds::from_configs(Some(b"\x90hvc1"), None);
        assert_eq!(hevc.video, Some(u32::from_be_bytes(*b"hvc1")));
        // A publisher's own codec id wins.
        let m = head_metadata(
            Some(&publisher_meta()),
            BOTH,
            CodecIds::from_configs(None, Some(b"\x2f")),
        );
        let ids: Vec<_> = props_of(&m.body)
            .into_iter()
            .filter(|p| p.0 == "audiocodecid")
            .collect();
        assert_eq!(ids, [("audiocodecid".to_string(), Value::Number(10.0))]);
    }

    #[test]
    fn midstream_has_no_duration() {
        let body = midstream_metadata(&publisher_meta(), BOTH).unwrap_or_default();
        let names: Vec<String> = props_of(&body).into_iter().map(|p| p.0).collect();
        assert_eq!(names, ["width", "encoder", "audiocodecid", "nested"]);
        assert_eq!(midstream_metadata(b"\x02\x00\x03abc\x08", BOTH), None);
    }

    #[test]
    fn damaged_publisher_metadata() {
        let full = publisher_meta();
        for n in 0..full.len() {
            let cut = full.get(..n).unwrap_or_default();
            let m = head_metadata(Some(cut), BOTH, CodecIds::default());
            let props = props_of(&m.body);
            assert!(props.len() >= 2, "cut at {n}");
            let _ = find_patch_points(cut);
        }
        // Plain object and typed object containers.
        let mut obj = Vec::new();
        amf0_write::string(&mut obj, "onMetaData");
        obj.extend_from_slice(b"\x10\x00\x01T\x00\x01a\x00");
        obj.extend_from_slice(&2f64.to_be_bytes());
        obj.extend_from_slice(b"\x00\x00\x09");
        let m = head_metadata(Some(&obj), BOTH, CodecIds::default());
        assert_eq!(props_of(&m.body).first().map(|p| p.0.as_str()), Some("a"));
        assert!(properties(b"\x02\x00\x0aonCuePoint\x03").is_none());
    }
}
