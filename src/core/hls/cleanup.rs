//! hls_cleanup: fragments that slid out of the playlist are removed, but not at once. A
//! player that loaded the playlist just before the slide may still ask for them, so each one
//! waits until another hls_playlist_length of media has been written after it left. It was
//! created about two playlist lengths before that, which is the youngest age at which
//! nginx-rtmp's directory cleaner (max age 2 x playlist length, run every 2 x playlist
//! length) deletes a fragment.

use std::collections::VecDeque;

/// A fragment to remove: its id, and for fMP4 its initialization segment, which goes too
/// once no fragment still around uses it.
pub type Stale = (u64, Option<u64>);

#[derive(Debug)]
pub struct Retired {
    /// (fragment, media written when it left the playlist), oldest first.
    queue: VecDeque<(Stale, u64)>,
    max: usize,
}

impl Retired {
    pub fn new(max: usize) -> Self {
        Retired {
            queue: VecDeque::new(),
            max: max.max(1),
        }
    }

    pub fn retire(&mut self, fragment: Stale, written_ms: u64) {
        self.queue.push_back((fragment, written_ms));
    }

    /// A name about to be written again (sequential numbering restarted) is no longer stale.
    pub fn reuse(&mut self, id: u64) {
        self.queue.retain(|&((i, _), _)| i != id);
    }

    /// A fragment waiting here uses the initialization segment `init`.
    pub fn uses_init(&self, init: u64) -> bool {
        self.queue.iter().any(|&((_, i), _)| i == Some(init))
    }

    /// Ids whose wait is over, given the media written so far; beyond the count bound the
    /// oldest go too, so the queue stays bounded whatever the fragment lengths.
    pub fn due(&mut self, written_ms: u64, wait_ms: u64) -> Vec<Stale> {
        let mut out = Vec::new();
        while let Some(&(f, at)) = self.queue.front() {
            if written_ms.saturating_sub(at) < wait_ms && self.queue.len() <= self.max {
                break;
            }
            self.queue.pop_front();
            out.push(f);
        }
        out
    }

    /// Everything still waiting (at unpublish: nothing will run later to remove it).
    pub fn drain(&mut self) -> Vec<Stale> {
        self.queue.drain(..).map(|(f, _)| f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_one_playlist_length() {
        let mut r = Retired::new(100);
        r.retire((1, None), 30_000);
        r.retire((2, Some(2)), 35_000);
        assert!(r.due(59_999, 30_000).is_empty());
        assert_eq!(r.due(60_000, 30_000), vec![(1, None)]);
        assert!(r.uses_init(2) && !r.uses_init(1));
        assert_eq!(r.due(70_000, 30_000), vec![(2, Some(2))]);
        assert!(!r.uses_init(2));
    }

    #[test]
    fn bounded_and_reuse() {
        let mut r = Retired::new(2);
        for id in 0..5 {
            r.retire((id, None), 0);
        }
        r.reuse(4);
        assert_eq!(r.due(0, 30_000), vec![(0, None), (1, None)]);
        assert_eq!(r.drain(), vec![(2, None), (3, None)]);
    }
}
