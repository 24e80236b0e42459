//! The publisher's timestamps on one line: RTMP's 32-bit milliseconds unwrapped to i64 (they
//! wrap after 49.7 days), and jumps told apart from jitter.
//!
//! A jump is what nginx-rtmp's HLS treats as a discontinuity: time going back by more than a
//! second, or forward by more than hls_max_fragment. Unlike nginx-rtmp, backward steps are
//! measured per track (against that track's previous frame), not against the fragment start,
//! so a publisher whose audio runs a second behind its video does not split every fragment;
//! but a track more than hls_max_fragment behind the other is on another timeline.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Video = 0,
    Audio = 1,
}

/// Backward steps up to this are jitter, not a new timeline (nginx-rtmp's 1 s).
const MAX_BACKWARD_MS: i64 = 1000;

#[derive(Debug)]
pub struct Timeline {
    last_raw: Option<u32>,
    now: i64,
    max_forward_ms: i64,
    last: [Option<i64>; 2],
    newest: Option<i64>,
}

impl Timeline {
    pub fn new(max_forward_ms: u64) -> Self {
        Timeline {
            last_raw: None,
            now: 0,
            max_forward_ms: i64::try_from(max_forward_ms).unwrap_or(i64::MAX),
            last: [None, None],
            newest: None,
        }
    }

    /// Places a frame's timestamp on the line: `(ms, jumped)`. After a jump every track
    /// starts over from the new time.
    pub fn place(&mut self, track: Track, raw: u32) -> (i64, bool) {
        let ms = match self.last_raw {
            None => i64::from(raw),
            // The signed distance from the previous frame, whatever the wrap.
            Some(prev) => self
                .now
                .saturating_add(i64::from(raw.wrapping_sub(prev) as i32)),
        };
        self.last_raw = Some(raw);
        self.now = ms;
        let back =
            self.last[track as usize].is_some_and(|prev| ms < prev.saturating_sub(MAX_BACKWARD_MS));
        let forward = self
            .newest
            .is_some_and(|n| ms.saturating_sub(n) > self.max_forward_ms);
        let behind = self
            .newest
            .is_some_and(|n| n.saturating_sub(ms) > self.max_forward_ms);
        let jumped = back || forward || behind;
        if jumped {
            self.last = [None, None];
            self.newest = None;
        }
        self.last[track as usize] = Some(ms);
        self.newest = Some(self.newest.map_or(ms, |n| n.max(ms)));
        (ms, jumped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_interleaves() {
        let mut t = Timeline::new(50_000);
        assert_eq!(
            t.place(Track::Video, u32::MAX - 20),
            (i64::from(u32::MAX) - 20, false)
        );
        assert_eq!(
            t.place(Track::Audio, u32::MAX - 40),
            (i64::from(u32::MAX) - 40, false)
        );
        assert_eq!(t.place(Track::Video, 19), (i64::from(u32::MAX) + 20, false));
        assert_eq!(t.place(Track::Audio, 0), (i64::from(u32::MAX) + 1, false));
    }

    #[test]
    fn jumps() {
        let mut t = Timeline::new(10_000);
        assert_eq!(t.place(Track::Video, 5000), (5000, false));
        // Audio 1.5 s behind video is interleaving, not a jump: audio has no past yet.
        assert_eq!(t.place(Track::Audio, 3500), (3500, false));
        assert_eq!(
            t.place(Track::Video, 4500),
            (4500, false),
            "small step back"
        );
        assert_eq!(t.place(Track::Video, 3000), (3000, true), "back 1.5 s");
        // Audio restarts from the new time too: its 3500 is no jump.
        assert_eq!(t.place(Track::Audio, 3020), (3020, false));
        assert_eq!(t.place(Track::Video, 13_020), (13_020, false));
        assert_eq!(t.place(Track::Video, 23_021), (23_021, true), "forward");
        assert_eq!(t.place(Track::Audio, 23_000), (23_000, false));
    }

    #[test]
    fn a_track_far_behind_the_other_is_a_jump() {
        let mut t = Timeline::new(10_000);
        assert_eq!(t.place(Track::Audio, 50_000), (50_000, false));
        // Video has no past: 9 s behind audio is interleaving, 40 s is another timeline.
        assert_eq!(t.place(Track::Video, 41_000), (41_000, false));
        let mut t = Timeline::new(10_000);
        assert_eq!(t.place(Track::Audio, 50_000), (50_000, false));
        assert_eq!(t.place(Track::Video, 10_000), (10_000, true));
        assert_eq!(t.place(Track::Audio, 10_020), (10_020, false));
    }

    #[test]
    fn never_overflows() {
        let mut t = Timeline::new(u64::MAX);
        for i in 0..10_000u32 {
            let raw: u32 = if i % 2 == 0 { 0x7fff_ffff } else { 0xffff_fffe };
            let _ = t.place(Track::Video, raw.wrapping_mul(i));
        }
    }
}
