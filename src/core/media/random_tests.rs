//! Deterministic randomized robustness tests for the media parsers and the aggregate
//! splitter: random bytes and mutations of the real fuzz seeds (tag bodies cut from an
//! ffmpeg FLV) go through the same property checks as the cargo-fuzz targets
//! (`fuzz/checks/media.rs`), so `cargo test` covers them without nightly or libFuzzer.
use crate::test_rng::XorShift;
#[path = "../fuzz/checks/media.rs"]
mod checks;

const FLV_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/flv/avc_seq"),
    include_bytes!("../fuzz/seeds/flv/avc_key"),
    include_bytes!("../fuzz/seeds/flv/avc_inter"),
    include_bytes!("../fuzz/seeds/flv/aac_seq"),
    include_bytes!("../fuzz/seeds/flv/aac_raw"),
    include_bytes!("../fuzz/seeds/flv/ex_avc_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_avc_key_modex"),
    include_bytes!("../fuzz/seeds/flv/ex_multitrack"),
    include_bytes!("../fuzz/seeds/flv/ex_aac_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_opus_multitrack"),
    include_bytes!("../fuzz/seeds/flv/ex_hevc_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_hevc_key"),
    include_bytes!("../fuzz/seeds/flv/ex_hevc_inter"),
    include_bytes!("../fuzz/seeds/flv/ex_colorinfo"),
    include_bytes!("../fuzz/seeds/flv/ex_av1_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_av1_key"),
    include_bytes!("../fuzz/seeds/flv/ex_av1_inter"),
    include_bytes!("../fuzz/seeds/flv/ex_vp9_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_vp9_key"),
    include_bytes!("../fuzz/seeds/flv/ex_opus_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_opus_channels"),
    include_bytes!("../fuzz/seeds/flv/ex_opus_frame"),
    include_bytes!("../fuzz/seeds/flv/ex_flac_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_ac3_seq"),
    include_bytes!("../fuzz/seeds/flv/ex_ac3_frame"),
];
const METADATA_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/metadata/onmetadata"),
    include_bytes!("../fuzz/seeds/metadata/setdataframe"),
];
const AVC_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/avc/legacy_seq"),
    include_bytes!("../fuzz/seeds/avc/enhanced_seq"),
    include_bytes!("../fuzz/seeds/avc/sps_nal"),
    include_bytes!("../fuzz/seeds/avc/hvcc"),
    include_bytes!("../fuzz/seeds/avc/av1c"),
    include_bytes!("../fuzz/seeds/avc/vp9_keyframe"),
    include_bytes!("../fuzz/seeds/avc/opus_head"),
    include_bytes!("../fuzz/seeds/avc/flac_streaminfo"),
    include_bytes!("../fuzz/seeds/avc/ac3_frame"),
];
const AAC_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/aac/legacy_seq"),
    include_bytes!("../fuzz/seeds/aac/enhanced_seq"),
];
const AGGREGATE_SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/aggregate/tags"),
    include_bytes!("../fuzz/seeds/aggregate/no_last_backpointer"),
];

trait MediaRng {
    fn input(&mut self, i: usize, seeds: &[&[u8]], max_random: usize) -> Vec<u8>;
}

impl MediaRng for XorShift {
    /// Half random bytes (short), half mutated seeds.
    fn input(&mut self, i: usize, seeds: &[&[u8]], max_random: usize) -> Vec<u8> {
        if i.is_multiple_of(2) {
            let n = self.below(max_random);
            return self.bytes(n);
        }
        let mut d = seeds[self.below(seeds.len())].to_vec();
        self.mutate(&mut d);
        d
    }
}

fn run(seed: u64, count: usize, seeds: &[&[u8]], check: fn(&[u8])) {
    for s in seeds {
        check(s);
    }
    let mut rng = XorShift(seed);
    for i in 0..count {
        let d = rng.input(i, seeds, 64);
        check(&d);
    }
}

#[test]
fn flv_predicates_on_random_payloads() {
    run(0x9E37_79B9_7F4A_7C15, 4000, FLV_SEEDS, checks::flv);
}

#[test]
fn metadata_on_random_payloads() {
    run(
        0xD1B5_4A32_D192_ED03,
        3000,
        METADATA_SEEDS,
        checks::metadata,
    );
}

#[test]
fn avc_on_random_payloads() {
    run(0x94D0_49BB_1331_11EB, 4000, AVC_SEEDS, checks::avc);
}

#[test]
fn aac_on_random_payloads() {
    run(0xBF58_476D_1CE4_E5B9, 4000, AAC_SEEDS, checks::aac);
}

#[test]
fn aggregate_on_random_payloads() {
    run(
        0x2545_F491_4F6C_DD1D,
        3000,
        AGGREGATE_SEEDS,
        checks::aggregate,
    );
}
