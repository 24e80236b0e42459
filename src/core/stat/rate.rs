//! Interim bits/s meter (replaced by the stat work).
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    last: Option<(u64, u64)>,
    rate: u64,
}

impl RateMeter {
    pub fn sample(&mut self, total_bytes: u64, now_ms: u64) -> u64 {
        if let Some((b, t)) = self.last {
            if now_ms > t && total_bytes >= b {
                self.rate = (total_bytes - b).saturating_mul(8000) / (now_ms - t);
            }
        }
        self.last = Some((total_bytes, now_ms));
        self.rate
    }
}
