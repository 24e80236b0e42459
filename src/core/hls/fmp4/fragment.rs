//! Movie fragments: a `moof` (one `traf` per track with `tfhd`, `tfdt` and a `trun` of
//! sample durations, sizes, flags and composition offsets) and the `mdat` it points into.

use super::boxes::BoxWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub duration: u32,
    pub size: u32,
    /// A sync sample (video keyframe; every audio sample).
    pub key: bool,
    /// Composition minus decode time, in the track's timescale.
    pub cts: i32,
}

/// One track's samples in a fragment: they start at `base_time` (track timescale) and their
/// bytes are `data`, back to back.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub track_id: u32,
    pub base_time: u64,
    pub samples: &'a [Sample],
    pub data: &'a [u8],
}

/// sample_depends_on = 2 (depends on no other sample).
const SYNC: u32 = 0x0200_0000;
/// sample_depends_on = 1 and sample_is_non_sync_sample.
const NON_SYNC: u32 = 0x0101_0000;

/// tfhd: default-base-is-moof, so data offsets count from the moof's first byte.
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// trun: data-offset, and per sample duration, size, flags, composition time offset.
const TRUN_FLAGS: u32 = 0x01 | 0x100 | 0x200 | 0x400 | 0x800;

/// `moof` + `mdat` for `runs` (empty runs are left out). `sequence` is the fragment's
/// sequence number, counting from 1.
pub fn media_segment(sequence: u32, runs: &[Run<'_>]) -> Vec<u8> {
    let runs: Vec<&Run<'_>> = runs.iter().filter(|r| !r.samples.is_empty()).collect();
    let mut w = BoxWriter::new();
    w.open(b"moof");
    w.open_full(b"mfhd", 0, 0).u32(sequence).close();
    let mut offset_at = Vec::with_capacity(runs.len());
    for r in &runs {
        w.open(b"traf");
        w.open_full(b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF)
            .u32(r.track_id)
            .close();
        w.open_full(b"tfdt", 1, 0).u64(r.base_time).close();
        w.open_full(b"trun", 1, TRUN_FLAGS)
            .u32(u32::try_from(r.samples.len()).unwrap_or(u32::MAX));
        offset_at.push(w.len());
        w.u32(0); // data_offset, patched below
        for s in r.samples {
            w.u32(s.duration)
                .u32(s.size)
                .u32(if s.key { SYNC } else { NON_SYNC })
                .u32(s.cts as u32);
        }
        w.close().close(); // trun, traf
    }
    w.close(); // moof
    let moof_len = w.len();
    let mut data_at = moof_len + 8;
    for (r, at) in runs.iter().zip(offset_at) {
        let offset = u32::try_from(data_at).unwrap_or(u32::MAX);
        w.buf[at..at + 4].copy_from_slice(&offset.to_be_bytes());
        data_at += r.data.len();
    }
    w.open(b"mdat");
    for r in &runs {
        w.bytes(r.data);
    }
    w.into_bytes()
}
