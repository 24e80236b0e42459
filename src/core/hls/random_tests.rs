//! Randomized robustness: real and synthetic tag bodies, mutated, with hostile timestamps,
//! through a whole HlsStream. Nothing may panic, and whatever is written must still be
//! whole transport packets and a playlist whose target covers every EXTINF.

use super::tests::{aac_frame, aac_seq, avc_seq, demux, parse_playlist, video_frame, MemFiles};
use super::*;
use crate::hub::FrameKind;
use crate::test_rng::XorShift;
use bytes::Bytes;
use std::collections::HashMap;

fn seeds() -> Vec<(FrameKind, Vec<u8>)> {
    let v = FrameKind::Video;
    let a = FrameKind::Audio;
    vec![
        (v, avc_seq().to_vec()),
        (v, video_frame(true, 40, 300).to_vec()),
        (v, video_frame(false, -40, 100).to_vec()),
        (a, aac_seq().to_vec()),
        (a, aac_frame(100).to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/avc_seq").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/avc_key").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/avc_inter").to_vec()),
        (a, include_bytes!("../fuzz/seeds/flv/aac_seq").to_vec()),
        (a, include_bytes!("../fuzz/seeds/flv/aac_raw").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/ex_avc_seq").to_vec()),
        (
            v,
            include_bytes!("../fuzz/seeds/flv/ex_avc_key_modex").to_vec(),
        ),
        (a, include_bytes!("../fuzz/seeds/flv/ex_aac_seq").to_vec()),
        (a, vec![0x2f, 0xff, 0xfb, 0x90, 0x64, 0, 0]),
        (v, include_bytes!("../fuzz/seeds/flv/ex_hevc_seq").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/ex_hevc_key").to_vec()),
        (
            v,
            include_bytes!("../fuzz/seeds/flv/ex_hevc_inter").to_vec(),
        ),
        (v, include_bytes!("../fuzz/seeds/flv/ex_av1_seq").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/ex_av1_key").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/ex_vp9_seq").to_vec()),
        (v, include_bytes!("../fuzz/seeds/flv/ex_vp9_key").to_vec()),
        (a, include_bytes!("../fuzz/seeds/flv/ex_opus_seq").to_vec()),
        (
            a,
            include_bytes!("../fuzz/seeds/flv/ex_opus_frame").to_vec(),
        ),
    ]
}

fn conf(rng: &mut XorShift) -> HlsConf {
    let pick = |rng: &mut XorShift, xs: &[u64]| xs[rng.below(xs.len())];
    HlsConf {
        fragment_ms: pick(rng, &[0, 1, 100, 1000, 5000]),
        max_fragment_ms: pick(rng, &[0, 1, 500, 3000, 50_000]),
        playlist_length_ms: pick(rng, &[0, 1000, 30_000]),
        sync_ms: pick(rng, &[0, 2, 1000]),
        muxdelay_ms: pick(rng, &[0, 700, u64::MAX]),
        continuous: rng.below(2) == 0,
        nested: rng.below(2) == 0,
        naming: [Naming::Sequential, Naming::Timestamp, Naming::System][rng.below(3)],
        naming_granularity: pick(rng, &[0, 1, 7, 90_000]),
        slicing: [Slicing::Plain, Slicing::Aligned][rng.below(2)],
        playlist_type: [PlaylistType::Live, PlaylistType::Event][rng.below(2)],
        max_audio_delay_ms: pick(rng, &[0, 300, u64::MAX]),
        audio_buffer_size: pick(rng, &[0, 10, 1000, 1 << 20]) as usize,
        cleanup: rng.below(2) == 0,
        base_url: String::new(),
        variants: vec![Variant {
            suffix: "_x".into(),
            params: vec![],
        }],
        fragment_type: [FragmentType::Auto, FragmentType::MpegTs, FragmentType::Fmp4][rng.below(3)],
    }
}

#[test]
fn hostile_streams_never_panic_and_stay_well_formed() {
    let seeds = seeds();
    let mut rng = XorShift(0x5eed_f4c5);
    let mut fragments = 0;
    for round in 0..60 {
        let mut files = MemFiles::default();
        let conf = conf(&mut rng);
        let name = if round % 3 == 0 { "s_x" } else { "s" };
        let mut s = HlsStream::new(conf.clone(), name, &mut files, 0);
        let mut ts: u32 = rng.next() as u32;
        for _ in 0..400 {
            let (kind, mut payload) = seeds[rng.below(seeds.len())].clone();
            if rng.below(3) == 0 {
                rng.mutate(&mut payload);
            }
            let kind = if rng.below(50) == 0 {
                FrameKind::Data
            } else {
                kind
            };
            ts = match rng.below(20) {
                0 => rng.next() as u32,
                1 => ts.wrapping_sub(rng.below(3000) as u32),
                2 => ts.wrapping_add(rng.below(100_000) as u32),
                _ => ts.wrapping_add(rng.below(60) as u32),
            };
            let unix = rng.next() % (1 << 45);
            s.frame(&mut files, unix, kind, ts, &Bytes::from(payload))
                .unwrap();
        }
        s.finish(&mut files).unwrap();
        assert!(files.open.is_none());
        for (name, bytes) in &files.files {
            if name.ends_with(".ts") {
                demux(bytes, &mut HashMap::new());
                fragments += 1;
            } else if name.ends_with(".m4s") {
                fmp4::tests::read_fragments(bytes);
                fragments += 1;
            } else if name.ends_with(".mp4") {
                fmp4::tests::parse(bytes);
            } else if !name.ends_with("s.m3u8") || conf.variants.is_empty() {
                let text = String::from_utf8(bytes.clone()).unwrap();
                if text.contains("#EXTINF") {
                    parse_playlist(&text);
                }
            }
        }
    }
    // The mutations must leave enough intact for the muxer to be exercised.
    assert!(fragments > 100, "{fragments} fragments");
}
