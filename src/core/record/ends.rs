//! Where a medium's frames end: the last timestamp plus the step before it, which is how
//! long the last frame plays (ffmpeg's FLV muxer counts duration the same way). Used for
//! a piece's duration and for where appended frames continue an existing file.

/// A gap longer than this between two frames is a stall, not a frame's duration, and is
/// not used to estimate how long the last frame lasts.
const MAX_FRAME_STEP_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct End {
    last: Option<u32>,
    step: u32,
}

impl End {
    pub(super) fn push(&mut self, ts: u32) {
        match self.last {
            Some(last) if ts > last => {
                if ts - last <= MAX_FRAME_STEP_MS {
                    self.step = ts - last;
                }
                self.last = Some(ts);
            }
            Some(_) => {}
            None => self.last = Some(ts),
        }
    }

    pub(super) fn end_ms(&self) -> u64 {
        self.last.map_or(0, |l| u64::from(l) + u64::from(self.step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_frame_lasts_one_step() {
        let mut e = End::default();
        assert_eq!(e.end_ms(), 0);
        e.push(100);
        assert_eq!(e.end_ms(), 100);
        e.push(140);
        e.push(180);
        assert_eq!(e.end_ms(), 220);
        // Older and repeated timestamps change nothing; a stall keeps the old step.
        e.push(150);
        e.push(180);
        assert_eq!(e.end_ms(), 220);
        e.push(60_000);
        assert_eq!(e.end_ms(), 60_040);
    }
}
