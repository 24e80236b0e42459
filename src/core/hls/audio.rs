//! Audio waiting to be muxed. Frames are batched into one PES (nginx-rtmp's
//! hls_audio_buffer_size / hls_max_audio_delay), because a 188-byte packet per 20 ms frame
//! would waste most of the packet; and the batch's timestamp is smoothed (hls_sync): RTMP's
//! whole milliseconds jitter around the true frame times, so when a frame lands within
//! hls_sync of where the sample count says it should be, the count wins.

#[derive(Debug)]
pub struct AudioBuffer {
    data: Vec<u8>,
    /// 90 kHz time of the first frame in `data`.
    pts: i64,
    cap: usize,
    sync_ticks: i64,
    /// Where the sample count started, and frames counted since.
    base: i64,
    count: u64,
}

/// Samples per frame and the rate they are counted at, when the codec says.
#[derive(Debug, Clone, Copy)]
pub struct FrameClock {
    pub samples: u32,
    pub rate: u32,
}

impl AudioBuffer {
    pub fn new(cap: usize, sync_ms: u64) -> Self {
        AudioBuffer {
            data: Vec::new(),
            pts: 0,
            cap,
            sync_ticks: i64::try_from(sync_ms.min(3_600_000) * 90).unwrap_or(0),
            base: 0,
            count: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn pts(&self) -> i64 {
        self.pts
    }

    /// Whether `n` more bytes fit.
    pub fn fits(&self, n: usize) -> bool {
        self.data.len().saturating_add(n) <= self.cap
    }

    /// Whether `n` bytes could ever fit, even in an empty buffer.
    pub fn could_fit(&self, n: usize) -> bool {
        n <= self.cap
    }

    /// Adds a frame (already framed: ADTS header + payload, or an MP3 frame) stamped `ticks`.
    pub fn push(&mut self, ticks: i64, parts: &[&[u8]], clock: Option<FrameClock>) {
        let first = self.data.is_empty();
        for p in parts {
            self.data.extend_from_slice(p);
        }
        if !first {
            self.count = self.count.saturating_add(1);
            return;
        }
        self.pts = ticks;
        let Some(clock) = clock.filter(|c| self.sync_ticks > 0 && c.rate > 0) else {
            return;
        };
        let expected = i64::try_from(self.count)
            .ok()
            .and_then(|n| n.checked_mul(90_000 * i64::from(clock.samples)))
            .map(|t| self.base.saturating_add(t / i64::from(clock.rate)));
        match expected {
            Some(e) if (e - ticks).abs() <= self.sync_ticks => {
                self.pts = e;
                self.count += 1;
            }
            _ => {
                self.base = ticks;
                self.count = 1;
            }
        }
    }

    /// The batch to mux: its time and bytes. `clear` afterwards.
    pub fn pending(&self) -> Option<(i64, &[u8])> {
        (!self.data.is_empty()).then_some((self.pts, self.data.as_slice()))
    }

    pub fn clear(&mut self) {
        self.data.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAC_44K: Option<FrameClock> = Some(FrameClock {
        samples: 1024,
        rate: 44100,
    });

    #[test]
    fn sync_snaps_jittery_millisecond_stamps_to_the_sample_clock() {
        let mut b = AudioBuffer::new(1 << 20, 2);
        // Frames of 1024 samples at 44.1 kHz are 23.2199 ms; RTMP rounds them to ms.
        let exact = |n: i64| n * 90_000 * 1024 / 44_100;
        for n in 0..100i64 {
            let ms = (n * 1024 * 1000 + 22_050) / 44_100; // rounded
            b.push(ms * 90, &[&[1, 2, 3]], AAC_44K);
            let (pts, _) = b.pending().unwrap();
            assert_eq!(pts, exact(n), "frame {n}");
            b.clear();
        }
        // A gap larger than hls_sync restarts the count at the real time.
        b.push(10_000 * 90, &[&[1]], AAC_44K);
        assert_eq!(b.pts(), 900_000);
        b.clear();
        b.push(10_023 * 90, &[&[1]], AAC_44K);
        assert_eq!(b.pts(), 900_000 + exact(1));
    }

    #[test]
    fn batched_frames_keep_the_first_time_and_count_on() {
        let mut b = AudioBuffer::new(1 << 20, 2);
        b.push(0, &[&[1]], AAC_44K);
        b.push(23 * 90, &[&[2]], AAC_44K);
        b.push(46 * 90, &[&[3, 4]], AAC_44K);
        assert_eq!(b.pending(), Some((0, &[1u8, 2, 3, 4][..])));
        b.clear();
        b.push(70 * 90, &[&[5]], AAC_44K);
        assert_eq!(b.pts(), 3 * 90_000 * 1024 / 44_100);
    }

    #[test]
    fn without_sync_or_rate_the_stamp_is_used() {
        let mut b = AudioBuffer::new(1 << 20, 0);
        b.push(12_345, &[&[1]], AAC_44K);
        assert_eq!(b.pts(), 12_345);
        let mut b = AudioBuffer::new(1 << 20, 2);
        b.push(12_345, &[&[1]], None);
        assert_eq!(b.pts(), 12_345);
    }

    #[test]
    fn capacity() {
        let b = AudioBuffer::new(10, 2);
        assert!(b.fits(10));
        assert!(!b.fits(11));
        assert!(!b.could_fit(11));
        assert!(b.pending().is_none());
    }
}
