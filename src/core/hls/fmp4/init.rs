//! The initialization segment (`EXT-X-MAP`): `ftyp` and a `moov` whose tracks hold no
//! samples, only their sample descriptions (ISO 14496-12, CMAF's fragmented form), and a
//! `mvex` that announces movie fragments.

use super::boxes::BoxWriter;
use super::{AudioTrack, VideoTrack, AUDIO_TRACK_ID, VIDEO_TIMESCALE, VIDEO_TRACK_ID};

/// The 3x3 unity matrix of `mvhd` and `tkhd`.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

pub fn init_segment(video: Option<&VideoTrack>, audio: Option<&AudioTrack>) -> Vec<u8> {
    let mut w = BoxWriter::new();
    w.open(b"ftyp")
        .bytes(b"iso6")
        .u32(0)
        .bytes(b"iso6cmfcisommp41")
        .close();
    w.open(b"moov");
    w.open_full(b"mvhd", 0, 0)
        .u32(0) // creation_time
        .u32(0) // modification_time
        .u32(1000) // timescale
        .u32(0) // duration: unknown, live
        .u32(0x0001_0000) // rate 1.0
        .u16(0x0100) // volume 1.0
        .zeros(10);
    for m in MATRIX {
        w.u32(m);
    }
    w.zeros(24).u32(AUDIO_TRACK_ID + 1).close(); // next_track_ID
    if let Some(v) = video {
        trak(&mut w, VIDEO_TRACK_ID, VIDEO_TIMESCALE, Some(v), None);
    }
    if let Some(a) = audio {
        trak(&mut w, AUDIO_TRACK_ID, a.sample_rate, None, Some(a));
    }
    w.open(b"mvex");
    for (present, id) in [
        (video.is_some(), VIDEO_TRACK_ID),
        (audio.is_some(), AUDIO_TRACK_ID),
    ] {
        if present {
            w.open_full(b"trex", 0, 0)
                .u32(id)
                .u32(1) // default_sample_description_index
                .u32(0)
                .u32(0)
                .u32(0)
                .close();
        }
    }
    w.close(); // mvex
    w.into_bytes()
}

fn trak(
    w: &mut BoxWriter,
    id: u32,
    timescale: u32,
    video: Option<&VideoTrack>,
    audio: Option<&AudioTrack>,
) {
    w.open(b"trak");
    // Flags: track_enabled | track_in_movie.
    w.open_full(b"tkhd", 0, 3)
        .u32(0)
        .u32(0)
        .u32(id)
        .u32(0) // reserved
        .u32(0) // duration
        .zeros(8)
        .u16(0) // layer
        .u16(0) // alternate_group
        .u16(if audio.is_some() { 0x0100 } else { 0 })
        .u16(0);
    for m in MATRIX {
        w.u32(m);
    }
    let (width, height) = video.map_or((0, 0), |v| (v.width, v.height));
    w.u32(width << 16).u32(height << 16).close();
    w.open(b"mdia");
    w.open_full(b"mdhd", 0, 0)
        .u32(0)
        .u32(0)
        .u32(timescale)
        .u32(0)
        .u16(0x55c4) // language "und"
        .u16(0)
        .close();
    let (handler, name): (&[u8; 4], &[u8]) = if video.is_some() {
        (b"vide", b"VideoHandler\0")
    } else {
        (b"soun", b"SoundHandler\0")
    };
    w.open_full(b"hdlr", 0, 0)
        .u32(0)
        .bytes(handler)
        .zeros(12)
        .bytes(name)
        .close();
    w.open(b"minf");
    if video.is_some() {
        w.open_full(b"vmhd", 0, 1).zeros(8).close();
    } else {
        w.open_full(b"smhd", 0, 0).zeros(4).close();
    }
    w.open(b"dinf").open_full(b"dref", 0, 0).u32(1);
    w.open_full(b"url ", 0, 1).close(); // self-contained
    w.close().close(); // dref, dinf
    w.open(b"stbl");
    w.open_full(b"stsd", 0, 0).u32(1);
    if let Some(v) = video {
        video_entry(w, v);
    }
    if let Some(a) = audio {
        audio_entry(w, a);
    }
    w.close(); // stsd
    for empty in [b"stts", b"stsc", b"stco"] {
        w.open_full(empty, 0, 0).u32(0).close();
    }
    w.open_full(b"stsz", 0, 0).u32(0).u32(0).close();
    w.close().close().close().close(); // stbl, minf, mdia, trak
}

/// VisualSampleEntry (`avc1`, `hvc1`, `av01`, `vp09`) with its configuration box.
fn video_entry(w: &mut BoxWriter, v: &VideoTrack) {
    w.open(&v.codec.sample_entry())
        .zeros(6)
        .u16(1) // data_reference_index
        .zeros(16)
        .u16(u16::try_from(v.width).unwrap_or(u16::MAX))
        .u16(u16::try_from(v.height).unwrap_or(u16::MAX))
        .u32(0x0048_0000) // 72 dpi
        .u32(0x0048_0000)
        .u32(0)
        .u16(1) // frame_count
        .zeros(32) // compressorname
        .u16(0x0018) // depth
        .u16(0xffff); // pre_defined = -1
                      // The records are the boxes' bodies as Enhanced RTMP (and legacy FLV for avcC) carry
                      // them; the VP9 one is vpcC's FullBox body, version and flags included.
    w.open(&v.codec.config_box()).bytes(&v.record).close();
    w.close();
}

/// AudioSampleEntry (`mp4a` with `esds`, `Opus` with `dOps`).
fn audio_entry(w: &mut BoxWriter, a: &AudioTrack) {
    w.open(&a.codec.sample_entry())
        .zeros(6)
        .u16(1)
        .zeros(8)
        .u16(a.channels)
        .u16(16) // samplesize
        .zeros(4)
        .u32(a.sample_rate.min(0xffff) << 16);
    match a.codec {
        super::AudioKind::Aac => esds(w, &a.config),
        super::AudioKind::Opus => dops(w, &a.config),
    }
    w.close();
}

/// ES_Descriptor > DecoderConfigDescriptor (MPEG-4 audio) > DecoderSpecificInfo (the
/// AudioSpecificConfig), and SLConfigDescriptor (14496-14 3.1.2).
fn esds(w: &mut BoxWriter, asc: &[u8]) {
    let asc = &asc[..asc.len().min(64)];
    let dsi = 2 + asc.len();
    let dcd = 2 + 13 + dsi;
    let es = 2 + 3 + dcd + 3;
    w.open_full(b"esds", 0, 0);
    w.u8(0x03).u8(es as u8 - 2).u16(0).u8(0); // ES_ID, flags
    w.u8(0x04).u8(dcd as u8 - 2);
    w.u8(0x40) // objectTypeIndication: MPEG-4 audio
        .u8(0x15) // streamType audio << 2 | 1
        .zeros(3) // bufferSizeDB
        .u32(0) // maxBitrate
        .u32(0); // avgBitrate
    w.u8(0x05).u8(asc.len() as u8).bytes(asc);
    w.u8(0x06).u8(1).u8(0x02); // SLConfigDescriptor: predefined MP4
    w.close();
}

/// OpusSpecificBox from an `OpusHead` (RFC 7845 5.1): the same fields, big-endian, without
/// the magic and with version 0.
fn dops(w: &mut BoxWriter, head: &[u8]) {
    let le16 = |at: usize| u16::from_le_bytes([head[at], head[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    w.open(b"dOps")
        .u8(0)
        .u8(head[9]) // OutputChannelCount
        .u16(le16(10)) // PreSkip
        .u32(le32(12)) // InputSampleRate
        .u16(le16(16)) // OutputGain
        .u8(head[18]); // ChannelMappingFamily
    if head[18] != 0 {
        // StreamCount, CoupledCount, ChannelMapping[OutputChannelCount].
        let n = 2 + usize::from(head[9]);
        w.bytes(head.get(19..19 + n).unwrap_or_default());
    }
    w.close();
}
