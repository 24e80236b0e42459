//! The samples of the fragment being written, per track, turned into movie fragments.
//!
//! A sample's duration is the distance to the next sample of its track, so each track's
//! newest sample waits for the next one; the fragment's last samples last until the
//! fragment's end. Decode times come from the publisher's timestamps (in the track's
//! timescale), never going back within a timeline, so audio and video stay in step however
//! the encoder's frame lengths round to milliseconds.

use super::fragment::{media_segment, Run, Sample};
use super::{AUDIO_TRACK_ID, VIDEO_TIMESCALE, VIDEO_TRACK_ID};

#[derive(Debug)]
struct TrackBuf {
    id: u32,
    timescale: u32,
    /// (decode time, composition offset, key, size) of the samples not yet written.
    samples: Vec<(u64, i32, bool, u32)>,
    data: Vec<u8>,
    /// The last decode time given, so the next one is later.
    last_dts: Option<u64>,
    /// The last sample distance: the length of a last sample with no successor.
    last_duration: u32,
    /// A last sample lasts until the fragment's end (video: the end is the next keyframe),
    /// rather than as long as the one before (audio: frames have one length, and the
    /// audio up to a cut may still be on its way).
    lasts_until_end: bool,
}

impl TrackBuf {
    fn new(id: u32, timescale: u32, lasts_until_end: bool) -> Self {
        TrackBuf {
            id,
            timescale,
            lasts_until_end,
            samples: Vec::new(),
            data: Vec::new(),
            last_dts: None,
            last_duration: 0,
        }
    }

    fn ticks(&self, ms: i64) -> u64 {
        let ms = u64::try_from(ms.max(0)).unwrap_or(0);
        ms.saturating_mul(u64::from(self.timescale)) / 1000
    }

    fn push(&mut self, ms: i64, cts_ms: i32, key: bool, data: &[u8]) {
        let mut dts = self.ticks(ms);
        if let Some(last) = self.last_dts {
            if dts <= last {
                dts = last + 1;
            }
        }
        self.last_dts = Some(dts);
        let cts = i64::from(cts_ms) * i64::from(self.timescale) / 1000;
        let cts = i32::try_from(cts).unwrap_or(if cts < 0 { i32::MIN } else { i32::MAX });
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.samples.push((dts, cts, key, size));
        self.data.extend_from_slice(data);
    }

    /// The samples ready to be written: all of them when `end` is given, else all but the
    /// newest.
    fn take(&mut self, end: Option<u64>) -> Option<(u64, Vec<Sample>, Vec<u8>)> {
        let keep = usize::from(end.is_none()).min(self.samples.len());
        let n = self.samples.len() - keep;
        if n == 0 {
            return None;
        }
        let base = self.samples[0].0;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (dts, cts, key, size) = self.samples[i];
            let next = match self.samples.get(i + 1) {
                Some(s) => Some(s.0),
                None if self.lasts_until_end || self.last_duration == 0 => end,
                None => None,
            };
            let duration = match next {
                Some(next) if next > dts => u32::try_from(next - dts).unwrap_or(u32::MAX),
                _ => self.last_duration,
            };
            self.last_duration = duration;
            out.push(Sample {
                duration,
                size,
                key,
                cts,
            });
        }
        let bytes: usize = out.iter().map(|s| s.size as usize).sum();
        let data = self.data.drain(..bytes).collect();
        self.samples.drain(..n);
        Some((base, out, data))
    }
}

#[derive(Debug)]
pub struct Fmp4Mux {
    video: Option<TrackBuf>,
    audio: Option<TrackBuf>,
    sequence: u32,
}

impl Fmp4Mux {
    /// Tracks that exist: video (90 kHz), audio at its sample rate.
    pub fn new(video: bool, audio_rate: Option<u32>) -> Self {
        Fmp4Mux {
            video: video.then(|| TrackBuf::new(VIDEO_TRACK_ID, VIDEO_TIMESCALE, true)),
            audio: audio_rate.map(|r| TrackBuf::new(AUDIO_TRACK_ID, r.max(1), false)),
            sequence: 0,
        }
    }

    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }

    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }

    pub fn push_video(&mut self, ms: i64, cts_ms: i32, key: bool, data: &[u8]) {
        if let Some(t) = self.video.as_mut() {
            t.push(ms, cts_ms, key, data);
        }
    }

    pub fn push_audio(&mut self, ms: i64, data: &[u8]) {
        if let Some(t) = self.audio.as_mut() {
            t.push(ms, 0, true, data);
        }
    }

    /// Bytes of samples waiting.
    pub fn buffered(&self) -> usize {
        [&self.video, &self.audio]
            .into_iter()
            .flatten()
            .map(|t| t.data.len())
            .sum()
    }

    /// A movie fragment of the samples whose length is known (every track's newest
    /// waits), to bound what a long fragment keeps in memory.
    pub fn chunk(&mut self, out: &mut Vec<u8>) {
        self.write(out, None);
    }

    /// The movie fragment that ends a segment at `end_ms`: every sample waiting.
    pub fn finish(&mut self, out: &mut Vec<u8>, end_ms: i64) {
        self.write(out, Some(end_ms));
    }

    /// The publisher's timestamps jumped: decode times start over from the new ones.
    pub fn restart(&mut self) {
        for t in [&mut self.video, &mut self.audio].into_iter().flatten() {
            t.last_dts = None;
        }
    }

    fn write(&mut self, out: &mut Vec<u8>, end_ms: Option<i64>) {
        let mut taken = Vec::new();
        for t in [&mut self.video, &mut self.audio].into_iter().flatten() {
            let end = end_ms.map(|ms| t.ticks(ms));
            if let Some((base, samples, data)) = t.take(end) {
                taken.push((t.id, base, samples, data));
            }
        }
        if taken.is_empty() {
            return;
        }
        self.sequence = self.sequence.wrapping_add(1);
        let runs: Vec<Run<'_>> = taken
            .iter()
            .map(|(id, base, samples, data)| Run {
                track_id: *id,
                base_time: *base,
                samples,
                data,
            })
            .collect();
        out.extend_from_slice(&media_segment(self.sequence, &runs));
    }
}
