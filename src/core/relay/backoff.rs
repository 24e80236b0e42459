//! When a relay tries again. The C module retries every `push_reconnect` (`pull_reconnect`);
//! a server that keeps refusing is retried less and less often here (doubling up to a cap),
//! and a relay that had been running for a while starts over at the configured delay.

/// The longest wait between attempts, unless `push_reconnect` itself is longer.
pub const MAX_DELAY_MS: u64 = 30_000;
/// Publishing at least this long counts as a success: the next failure waits the base delay.
pub const STABLE_MS: u64 = 10_000;
/// Doubling starts from at least this, so `push_reconnect 0` cannot spin.
const MIN_STEP_MS: u64 = 100;

#[derive(Debug, Clone)]
pub struct Backoff {
    base_ms: u64,
    failures: u32,
}

impl Backoff {
    pub fn new(base_ms: u64) -> Backoff {
        Backoff {
            base_ms,
            failures: 0,
        }
    }

    /// The wait before the next attempt, after one that ended. `published_ms`: how long it
    /// had been publishing (None: it never got that far).
    pub fn next_delay(&mut self, published_ms: Option<u64>) -> u64 {
        if published_ms.is_some_and(|ms| ms >= STABLE_MS) {
            self.failures = 0;
        }
        let delay = if self.failures == 0 {
            self.base_ms
        } else {
            let step = self.base_ms.max(MIN_STEP_MS);
            let factor = 1u64 << self.failures.min(16);
            step.saturating_mul(factor)
                .min(MAX_DELAY_MS.max(self.base_ms))
        };
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Attempts that failed since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets_after_a_stable_run() {
        let mut b = Backoff::new(3000);
        let got: Vec<u64> = (0..7).map(|_| b.next_delay(None)).collect();
        assert_eq!(got, [3000, 6000, 12000, 24000, 30000, 30000, 30000]);
        // A short publish does not reset; a long one does.
        assert_eq!(b.next_delay(Some(STABLE_MS - 1)), 30000);
        assert_eq!(b.next_delay(Some(STABLE_MS)), 3000);
        assert_eq!(b.next_delay(None), 6000);
        assert_eq!(b.failures(), 2);
    }

    #[test]
    fn long_or_zero_base() {
        let mut b = Backoff::new(60_000);
        assert_eq!([b.next_delay(None), b.next_delay(None)], [60_000, 60_000]);
        let mut b = Backoff::new(0);
        let got: Vec<u64> = (0..4).map(|_| b.next_delay(None)).collect();
        assert_eq!(got, [0, 200, 400, 800]);
        let mut b = Backoff::new(1);
        for _ in 0..100 {
            assert!(b.next_delay(None) <= MAX_DELAY_MS);
        }
    }
}
