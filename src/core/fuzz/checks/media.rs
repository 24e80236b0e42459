//! Properties of the media parsers on arbitrary bytes, shared by the cargo-fuzz targets
//! (`flv`, `metadata`, `avc`, `aac`, `aggregate`) and by `media::random_tests`.
//!
//! Written against `crate::` paths: inside ngx-rtmp-core that is the library itself, and each
//! fuzz target re-exports the library's modules at its root so the same text compiles there.
use crate::media::aac::{parse_aac_sequence_header, parse_audio_specific_config};
use crate::media::amf0_scan::Reader;
use crate::media::audio_info::{ac3_frame, flac_streaminfo, opus_head};
use crate::media::av1::{parse_av1c, sequence_header_size};
use crate::media::avc::{parse_avc_sequence_header, parse_decoder_config, sps_picture_size};
use crate::media::bits::{unescape_rbsp, BitReader};
use crate::media::enhanced;
use crate::media::flv;
use crate::media::hevc::parse_hvcc;
use crate::media::metadata::{is_metadata, parse_metadata, strip_set_data_frame};
use crate::media::vp9::{keyframe_size, parse_vpcc};
use crate::protocol::aggregate::split;
use bytes::Bytes;

const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// FLV predicates and codec detection on one payload.
pub fn flv(data: &[u8]) {
    let key = flv::video_is_keyframe(data);
    let vseq = flv::video_is_sequence_header(data);
    let aseq = flv::audio_is_sequence_header(data);
    let acfg = flv::audio_is_config(data);
    let vcodec = flv::video_codec(data);
    let acodec = flv::audio_codec(data);
    if let Some(c) = vcodec {
        let _ = c.name();
    }
    if let Some(c) = acodec {
        let _ = c.name();
    }
    // A sequence header is always a configuration packet; configuration packets have a
    // key to keep them by, and none of them (nor an end of sequence) is a keyframe.
    assert!(!aseq || acfg, "audio sequence header that is not config");
    let vcfg = flv::video_is_config(data);
    assert!(!vseq || vcfg, "video sequence header that is not config");
    assert_eq!(flv::video_config_key(data).is_some(), vcfg);
    assert_eq!(flv::audio_config_key(data).is_some(), acfg);
    assert!(!(key && vcfg), "configuration packet counted as keyframe");
    assert!(
        !(key && flv::video_is_end_of_sequence(data)),
        "end of sequence as keyframe"
    );
    // Every track body the Enhanced parsers hand out lies inside the payload, and the
    // track list ends (each track takes at least one byte).
    for h in [enhanced::video(data), enhanced::audio(data)]
        .into_iter()
        .flatten()
    {
        let base = data.as_ptr() as usize;
        let mut n = 0;
        for t in h.tracks() {
            let at = t.body.as_ptr() as usize;
            assert!(t.body.is_empty() || (at >= base && at + t.body.len() <= base + data.len()));
            n += 1;
            assert!(n <= data.len(), "more tracks than bytes");
        }
        let _ = (h.default_track(), h.fourcc());
    }
    // Nothing is recognised in an empty payload, and every non-empty one has a first byte
    // to read a codec from unless it is an Enhanced header that is cut short.
    if data.is_empty() {
        assert!(!(key || vseq || aseq || acfg));
        assert!(vcodec.is_none() && acodec.is_none());
    }
    // An Enhanced video sequence header is never a picture.
    if data.first().is_some_and(|b| b & 0x80 != 0) && vseq {
        assert!(!key, "enhanced video sequence header counted as keyframe");
    }
    // The predicates only look at a prefix: appending bytes never turns a "known" legacy
    // codec into an unknown one.
    if let (Some(&b0), Some(c)) = (data.first(), vcodec) {
        if b0 & 0x80 == 0 {
            let mut longer = data.to_vec();
            longer.push(0);
            assert_eq!(flv::video_codec(&longer), Some(c));
        }
    }
}

/// `@setDataFrame` unwrapping, `onMetaData` parsing and the AMF0 scanner under them.
pub fn metadata(data: &[u8]) {
    let p = Bytes::copy_from_slice(data);
    let stripped = strip_set_data_frame(&p);
    if let Some(s) = &stripped {
        assert_eq!(s.len() + SET_DATA_FRAME.len(), data.len());
        assert_eq!(&data[SET_DATA_FRAME.len()..], &s[..]);
    }
    let parsed = parse_metadata(data);
    if let Some(m) = &parsed {
        assert!(is_metadata(data), "parsed metadata that is not onMetaData");
        for v in [
            m.duration,
            m.frame_rate,
            m.video_data_rate,
            m.audio_data_rate,
        ]
        .into_iter()
        .flatten()
        {
            assert!(v.is_finite());
        }
    }
    // Parsing after our own unwrapping gives the same answer as parsing the wrapped payload
    // (unless the remainder is wrapped again, which parse_metadata unwraps only once).
    if let Some(s) = &stripped {
        if !s.starts_with(SET_DATA_FRAME) {
            assert_eq!(parse_metadata(s), parsed);
        }
    }
    // The scanner on its own: values until the first failure, which must make progress.
    let mut r = Reader::new(data);
    let mut last = 0;
    while !r.is_empty() {
        if r.read_value().is_none() {
            break;
        }
        assert!(
            r.position() > last || data.is_empty(),
            "read_value did not advance"
        );
        assert!(r.position() <= data.len());
        last = r.position();
    }
    let _ = Reader::new(data).read_properties();
}

/// The AVC sequence header, decoder configuration record and SPS parsers, and the other
/// codec configuration parsers of `/stat` (HEVC, AV1, VP9, Opus, FLAC, AC-3).
pub fn avc(data: &[u8]) {
    if let Some(c) = parse_hvcc(data) {
        assert!((1..=4).contains(&c.nal_length_size));
        let _ = (c.profile_name(), c.level_name());
    }
    for size in [
        parse_av1c(data).and_then(|c| c.size),
        sequence_header_size(data),
        keyframe_size(data),
    ]
    .into_iter()
    .flatten()
    {
        assert!(size.0 > 0 && size.1 > 0, "a picture of no pixels");
    }
    if let Some(c) = parse_vpcc(data) {
        let _ = (c.profile_name(), c.level_name());
    }
    for info in [opus_head(data), flac_streaminfo(data), ac3_frame(data)]
        .into_iter()
        .flatten()
    {
        assert!(info.channels <= 255, "more channels than a byte counts");
    }
    if let Some(c) = parse_avc_sequence_header(data) {
        assert!((1..=4).contains(&c.nal_length_size));
        let _ = c.profile_name();
        // The legacy and Enhanced wrappers both put the record at byte 5.
        assert_eq!(parse_decoder_config(&data[5..]), Some(c));
    }
    if let Some(c) = parse_decoder_config(data) {
        assert!((1..=4).contains(&c.nal_length_size));
    }
    let _ = sps_picture_size(data);
    // With a NAL header byte in front, any bytes are an SPS candidate.
    let mut nal = Vec::with_capacity(data.len() + 1);
    nal.push(0x67);
    nal.extend_from_slice(data);
    let _ = sps_picture_size(&nal);
    let rbsp = unescape_rbsp(data);
    assert!(rbsp.len() <= data.len());
    let mut r = BitReader::new(data);
    let total = data.len() * 8;
    while r.bits_left() > 0 {
        let before = r.bits_left();
        if r.ue().is_none() || r.se().is_none() {
            break;
        }
        assert!(r.bits_left() < before);
    }
    assert!(r.bits_left() <= total);
}

/// The AAC sequence header and AudioSpecificConfig parsers.
pub fn aac(data: &[u8]) {
    if let Some(c) = parse_aac_sequence_header(data) {
        let _ = (c.profile_name(), c.channels());
        assert!(c.channel_config < 16);
        assert!(!c.ps || c.sbr, "PS without SBR");
    }
    if let Some(c) = parse_audio_specific_config(data) {
        assert!(c.channel_config < 16);
        if let Some(n) = c.channels() {
            assert!((1..=8).contains(&n));
        }
        if let Some(rate) = c.sample_rate {
            assert!(rate < 1 << 24);
        }
    }
}

/// Aggregate message splitting. The first four bytes are the aggregate's timestamp.
pub fn aggregate(data: &[u8]) {
    let Some((ts, body)) = data.split_first_chunk::<4>() else {
        return;
    };
    let timestamp = u32::from_be_bytes(*ts);
    let payload = Bytes::copy_from_slice(body);
    match split(&payload, timestamp) {
        Ok(subs) => {
            let used: usize = subs.iter().map(|s| s.payload.len() + 11).sum();
            assert!(used <= payload.len());
            if let Some(first) = subs.first() {
                assert_eq!(first.timestamp, timestamp, "first sub-tag not rebased");
            }
            for s in subs.iter().filter(|s| !s.payload.is_empty()) {
                // Bodies are slices of the aggregate, found where the header says.
                let start = s.payload.as_ptr() as usize - payload.as_ptr() as usize;
                assert!(start + s.payload.len() <= payload.len());
                assert_eq!(&payload[start..start + s.payload.len()], &s.payload[..]);
            }
        }
        Err(e) => {
            assert!(e.offset < payload.len());
            let _ = e.to_string();
        }
    }
}
