//! Bits per second from a cumulative byte counter, over a sliding window of about ten
//! seconds (the C module averages over fixed ten-second intervals; a sliding window gives
//! the same order of numbers without the ten-second steps).

/// How far back the rate looks, by default.
pub const DEFAULT_WINDOW_MS: u64 = 10_000;
/// Samples kept; one is kept at most every `window / (SLOTS - 2)` ms, so the oldest kept
/// sample is always at least a window old once the meter has run that long.
const SLOTS: usize = 12;
/// The shortest span a rate is computed over: a burst in the first milliseconds after a
/// (re)start is spread over this much time instead of reading as gigabits per second.
pub const MIN_SPAN_MS: u64 = 1_000;

/// A sliding-window rate meter. Feed it the counter and the time whenever convenient
/// (every second or on every `/stat`); it keeps twelve samples and allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateMeter {
    window_ms: u64,
    /// (time ms, total bytes), oldest first: `hist[..len]`.
    hist: [(u64, u64); SLOTS],
    len: usize,
    /// The rate returned by the last call.
    last: u64,
}

impl Default for RateMeter {
    fn default() -> Self {
        RateMeter::new()
    }
}

impl RateMeter {
    /// A meter over [`DEFAULT_WINDOW_MS`].
    pub fn new() -> Self {
        RateMeter::with_window(DEFAULT_WINDOW_MS)
    }

    /// A meter over `window_ms` (at least [`MIN_SPAN_MS`]).
    pub fn with_window(window_ms: u64) -> Self {
        RateMeter {
            window_ms: window_ms.max(MIN_SPAN_MS),
            hist: [(0, 0); SLOTS],
            len: 0,
            last: 0,
        }
    }

    /// The rate the last [`sample`](Self::sample) returned, bits/s.
    pub fn rate(&self) -> u64 {
        self.last
    }

    /// Forgets all samples.
    pub fn reset(&mut self) {
        self.len = 0;
        self.last = 0;
    }

    /// Records `total_bytes` (a counter that only grows) at `now_ms` and returns bits/s over
    /// roughly the last window. A counter that went down or a clock that went back starts
    /// the meter afresh (the rate reads 0 until time passes again).
    pub fn sample(&mut self, total_bytes: u64, now_ms: u64) -> u64 {
        if self.len > 0 {
            let (t, b) = self.hist[self.len - 1];
            if now_ms < t || total_bytes < b {
                self.reset();
            }
        }
        if self.len == 0 {
            self.push(now_ms, total_bytes);
            self.last = 0;
            return 0;
        }

        // Keep a new sample once the newest kept one is a slot's width old.
        let step = (self.window_ms / (SLOTS as u64 - 2)).max(1);
        let (newest_t, _) = self.hist[self.len - 1];
        if now_ms - newest_t >= step {
            self.push(now_ms, total_bytes);
        }
        // Drop samples while the next one is still at least a window old: the base is the
        // youngest sample that covers the whole window (or the oldest there is).
        let horizon = now_ms.saturating_sub(self.window_ms);
        let mut drop = 0;
        while drop + 1 < self.len && self.hist[drop + 1].0 <= horizon {
            drop += 1;
        }
        if drop > 0 {
            self.hist.copy_within(drop..self.len, 0);
            self.len -= drop;
        }

        let (base_t, base_b) = self.hist[0];
        let span = (now_ms - base_t).max(MIN_SPAN_MS);
        let bits = u128::from(total_bytes - base_b) * 8 * 1000;
        self.last = u64::try_from(bits / u128::from(span)).unwrap_or(u64::MAX);
        self.last
    }

    fn push(&mut self, t: u64, b: u64) {
        if self.len == SLOTS {
            self.hist.copy_within(1..SLOTS, 0);
            self.len -= 1;
        }
        self.hist[self.len] = (t, b);
        self.len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate() {
        let mut m = RateMeter::new();
        assert_eq!(m.sample(0, 5_000), 0);
        // 125 000 bytes/s = 1 Mb/s, sampled every 250 ms for a minute.
        let mut last = 0;
        for i in 1..=240u64 {
            last = m.sample(i * 125_000 / 4, 5_000 + i * 250);
        }
        assert_eq!(last, 1_000_000);
        assert_eq!(m.rate(), 1_000_000);
    }

    #[test]
    fn window_forgets_old_traffic() {
        let mut m = RateMeter::new();
        // 8 Mb/s for 30 s, then silence.
        let mut total = 0;
        for s in 0..=30u64 {
            total = s * 1_000_000;
            m.sample(total, s * 1000);
        }
        assert_eq!(m.rate(), 8_000_000);
        let mut r = 0;
        for s in 31..=45u64 {
            r = m.sample(total, s * 1000);
        }
        assert_eq!(r, 0);
        // Part-way through the window after silence starts, the rate is in between.
        let mut m2 = RateMeter::new();
        for s in 0..=30u64 {
            m2.sample(s * 1_000_000, s * 1000);
        }
        let mid = m2.sample(30_000_000, 35_000);
        assert!(mid > 2_000_000 && mid < 6_000_000, "{mid}");
    }

    #[test]
    fn window_is_about_ten_seconds() {
        let mut m = RateMeter::new();
        for s in 0..=100u64 {
            m.sample(s * 1000, s * 1000);
        }
        // Only the youngest sample at least 10 s old is the base, so at most 11 s apart.
        let (base_t, _) = m.hist[0];
        assert!((10_000..=11_000).contains(&(100_000 - base_t)), "{base_t}");
        assert!(m.len <= SLOTS);
    }

    #[test]
    fn startup_burst_is_not_absurd() {
        let mut m = RateMeter::new();
        m.sample(0, 1000);
        // 1 MB in the first millisecond reads as 8 Mb/s, not 8 Gb/s.
        assert_eq!(m.sample(1_000_000, 1001), 8_000_000);
    }

    #[test]
    fn counter_reset_and_time_going_back() {
        let mut m = RateMeter::new();
        for s in 0..20u64 {
            m.sample(s * 1000, s * 1000);
        }
        assert_eq!(m.rate(), 8000);
        // The counter restarts (a worker restarted): no huge or negative value.
        assert_eq!(m.sample(10, 20_000), 0);
        assert!(m.sample(1010, 21_000) <= 8080);
        // The clock jumps back.
        assert_eq!(m.sample(2000, 5_000), 0);
        assert_eq!(m.sample(3000, 6_000), 8000);
        // The same instant twice.
        assert_eq!(m.sample(3000, 6_000), 8000);
    }

    #[test]
    fn extremes_never_panic() {
        let mut m = RateMeter::with_window(0);
        m.sample(0, 0);
        assert_eq!(m.sample(u64::MAX, 1), u64::MAX);
        m.sample(u64::MAX, u64::MAX);
        m.sample(0, u64::MAX);
        m.sample(u64::MAX, 0);
        let mut m = RateMeter::with_window(u64::MAX);
        let mut st = 88172645463325252u64;
        for _ in 0..10_000 {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            let r = m.sample(st % 1_000_000_000, (st >> 20) % 1_000_000);
            assert!(r <= 8_000_000_000_000);
        }
        assert_eq!(RateMeter::default(), RateMeter::new());
    }

    #[test]
    fn sparse_samples_average_over_the_gap() {
        let mut m = RateMeter::new();
        m.sample(0, 0);
        // One sample a minute later: the average over that minute.
        assert_eq!(m.sample(7_500_000, 60_000), 1_000_000);
    }
}
