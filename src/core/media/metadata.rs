//! Stream metadata data messages: `@setDataFrame` unwrapping and `onMetaData` facts.
//!
//! Publishers send `@setDataFrame, "onMetaData", {...}`; servers keep and forward only
//! `"onMetaData", {...}`, which is what players expect as the first data message.

use bytes::Bytes;

use super::amf0_scan::{Reader, Value};

const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";
const ON_META_DATA: &[u8] = b"\x02\x00\x0aonMetaData";

/// The payload after a leading `@setDataFrame` string, sharing the caller's buffer;
/// `None` when the payload does not start with it.
pub fn strip_set_data_frame(p: &Bytes) -> Option<Bytes> {
    if p.starts_with(SET_DATA_FRAME) {
        Some(p.slice(SET_DATA_FRAME.len()..))
    } else {
        None
    }
}

/// True when the first AMF0 value is the string `onMetaData`, with or without a leading
/// `@setDataFrame`.
pub fn is_metadata(p: &[u8]) -> bool {
    let p = p.strip_prefix(SET_DATA_FRAME).unwrap_or(p);
    p.starts_with(ON_META_DATA)
}

/// The `onMetaData` fields nginx-rtmp's codec module reads, plus a few more for `/stat`.
/// Absent or mistyped fields are `None`; numbers that do not fit are `None` too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamMeta {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration: Option<f64>,
    /// `framerate`, or `fps` when `framerate` is absent.
    pub frame_rate: Option<f64>,
    /// kbit/s as the encoder declares it.
    pub video_data_rate: Option<f64>,
    pub audio_data_rate: Option<f64>,
    pub audio_sample_rate: Option<u32>,
    pub audio_sample_size: Option<u32>,
    /// `audiochannels`, or 2/1 from the older `stereo` boolean.
    pub audio_channels: Option<u32>,
    /// Legacy codec id, or for Enhanced RTMP the FourCC as a big-endian u32 (encoders send
    /// it either as a number or as a four-character string).
    pub video_codec_id: Option<u32>,
    pub audio_codec_id: Option<u32>,
    pub encoder: Option<String>,
    pub profile: Option<String>,
    pub level: Option<String>,
}

/// Parses `[@setDataFrame,] "onMetaData", {object or ECMA array}`. `None` when the payload
/// is not metadata or its properties cannot be found.
pub fn parse_metadata(p: &[u8]) -> Option<StreamMeta> {
    let p = p.strip_prefix(SET_DATA_FRAME).unwrap_or(p);
    let body = p.strip_prefix(ON_META_DATA)?;
    let props = Reader::new(body).read_properties()?;
    let mut m = StreamMeta::default();
    let mut fps = None;
    let mut stereo = None;
    for (name, value) in &props {
        match name.as_str() {
            "width" => m.width = as_u32(value),
            "height" => m.height = as_u32(value),
            "duration" => m.duration = as_f64(value),
            "framerate" => m.frame_rate = as_f64(value),
            "fps" => fps = as_f64(value),
            "videodatarate" => m.video_data_rate = as_f64(value),
            "audiodatarate" => m.audio_data_rate = as_f64(value),
            "audiosamplerate" => m.audio_sample_rate = as_u32(value),
            "audiosamplesize" => m.audio_sample_size = as_u32(value),
            "audiochannels" => m.audio_channels = as_u32(value),
            "stereo" => stereo = as_bool(value),
            "videocodecid" => m.video_codec_id = as_codec_id(value),
            "audiocodecid" => m.audio_codec_id = as_codec_id(value),
            "encoder" => m.encoder = as_string(value),
            "profile" => m.profile = as_string(value),
            "level" => m.level = as_string(value),
            _ => {}
        }
    }
    m.frame_rate = m.frame_rate.or(fps);
    if m.audio_channels.is_none() {
        m.audio_channels = stereo.map(|s| if s { 2 } else { 1 });
    }
    Some(m)
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) if n.is_finite() => Some(*n),
        _ => None,
    }
}

/// Whole, in range, not NaN: a hostile 1e300 width must not wrap into something plausible.
fn as_u32(v: &Value) -> Option<u32> {
    let n = as_f64(v)?;
    if n >= 0.0 && n <= f64::from(u32::MAX) {
        // In range and finite, so the cast only drops the fraction.
        Some(n as u32)
    } else {
        None
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn as_codec_id(v: &Value) -> Option<u32> {
    match v {
        Value::String(s) => Some(u32::from_be_bytes(s.as_bytes().try_into().ok()?)),
        other => as_u32(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first data tag body of an ffmpeg 5.1 FLV (testsrc2 1280x720@25, libx264, aac).
    const FFMPEG_META: &str = "02000a6f6e4d65746144617461080000000d00086475726174696f6e003ff147ae147ae148000577696474680040940000000000000006686569676874004086800000000000000d766964656f646174617261746500000000000000000000096672616d6572617465004039000000000000000c766964656f636f646563696400401c000000000000000d617564696f6461746172617465004050d88000000000000f617564696f73616d706c65726174650040e5888000000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c617564696f636f64656369640040240000000000000007656e636f64657202000d4c61766635392e32372e313030000866696c6573697a65004114e83000000000000009";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| s.get(i * 2..i * 2 + 2))
            .filter_map(|h| u8::from_str_radix(h, 16).ok())
            .collect()
    }

    fn with_set_data_frame(p: &[u8]) -> Bytes {
        let mut v = SET_DATA_FRAME.to_vec();
        v.extend_from_slice(p);
        Bytes::from(v)
    }

    #[test]
    fn strip() {
        let meta = unhex(FFMPEG_META);
        let wrapped = with_set_data_frame(&meta);
        let stripped = strip_set_data_frame(&wrapped);
        assert_eq!(stripped.as_deref(), Some(&meta[..]));
        assert_eq!(strip_set_data_frame(&Bytes::from(meta.clone())), None);
        assert_eq!(strip_set_data_frame(&Bytes::new()), None);
        assert_eq!(
            strip_set_data_frame(&Bytes::from_static(SET_DATA_FRAME)),
            Some(Bytes::new())
        );
        // Length byte says 12, not 13: not the marker.
        assert_eq!(
            strip_set_data_frame(&Bytes::from_static(b"\x02\x00\x0c@setDataFram")),
            None
        );
        assert!(is_metadata(&meta));
        assert!(is_metadata(&wrapped));
        assert!(!is_metadata(b"\x02\x00\x0aonCuePoint"));
        assert!(!is_metadata(b""));
        assert!(!is_metadata(SET_DATA_FRAME));
    }

    #[test]
    fn parse_ffmpeg_metadata() {
        let meta = unhex(FFMPEG_META);
        let expected = StreamMeta {
            width: Some(1280),
            height: Some(720),
            duration: Some(1.08),
            frame_rate: Some(25.0),
            video_data_rate: Some(0.0),
            audio_data_rate: Some(67.3828125),
            audio_sample_rate: Some(44100),
            audio_sample_size: Some(16),
            audio_channels: Some(1),
            video_codec_id: Some(7),
            audio_codec_id: Some(10),
            encoder: Some("Lavf59.27.100".into()),
            profile: None,
            level: None,
        };
        assert_eq!(parse_metadata(&meta), Some(expected.clone()));
        assert_eq!(parse_metadata(&with_set_data_frame(&meta)), Some(expected));
    }

    #[test]
    fn enhanced_and_odd_values() {
        // onMetaData {videocodecid: "hvc1", fps: 30, width: -1, height: 1e300,
        //             audiochannels: 6, stereo: true}
        let mut b = ON_META_DATA.to_vec();
        b.extend_from_slice(b"\x03\x00\x0cvideocodecid\x02\x00\x04hvc1");
        b.extend_from_slice(b"\x00\x03fps\x00");
        b.extend_from_slice(&30f64.to_be_bytes());
        b.extend_from_slice(b"\x00\x05width\x00");
        b.extend_from_slice(&(-1f64).to_be_bytes());
        b.extend_from_slice(b"\x00\x06height\x00");
        b.extend_from_slice(&1e300f64.to_be_bytes());
        b.extend_from_slice(b"\x00\x0daudiochannels\x00");
        b.extend_from_slice(&6f64.to_be_bytes());
        b.extend_from_slice(b"\x00\x06stereo\x01\x01");
        b.extend_from_slice(b"\x00\x0caudiocodecid\x00");
        b.extend_from_slice(&f64::NAN.to_be_bytes());
        b.extend_from_slice(b"\x00\x00\x09");
        let m = parse_metadata(&b);
        assert_eq!(
            m,
            Some(StreamMeta {
                video_codec_id: Some(u32::from_be_bytes(*b"hvc1")),
                frame_rate: Some(30.0),
                audio_channels: Some(6),
                ..StreamMeta::default()
            })
        );
    }

    #[test]
    fn garbage() {
        let meta = unhex(FFMPEG_META);
        for n in 0..meta.len() {
            let cut = meta.get(..n).unwrap_or_default();
            let r = parse_metadata(cut);
            if n < ON_META_DATA.len() + 5 {
                assert_eq!(r, None, "cut at {n}");
            }
        }
        assert_eq!(parse_metadata(b"\x02\x00\x0aonMetaData\x05"), None);
        let mut deep = ON_META_DATA.to_vec();
        deep.extend_from_slice(&[0x03u8; 100_000]);
        let _ = parse_metadata(&deep);
    }
}
