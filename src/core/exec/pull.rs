//! When a pull runs (an `exec_pull` command, or a `pull` relay): a stream that players want
//! and nobody publishes gets its pull (which publishes it from elsewhere); it stops when the
//! last of those players leaves. One tracker per worker and kind, keyed by stream.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

struct Entry<T> {
    players: BTreeSet<u64>,
    /// What the shell started for this stream, while it runs.
    running: Option<T>,
}

pub struct PullTracker<K, T> {
    streams: HashMap<K, Entry<T>>,
}

impl<K: Eq + Hash + Clone, T> Default for PullTracker<K, T> {
    fn default() -> Self {
        PullTracker {
            streams: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, T> PullTracker<K, T> {
    /// Player `player` starts playing `key`. True when the pull should start now: nothing
    /// runs for the stream yet and nobody publishes it. The caller then reports what it
    /// started with [`started`](Self::started).
    pub fn join(&mut self, key: &K, player: u64, published: bool) -> bool {
        let e = self.streams.entry(key.clone()).or_insert_with(|| Entry {
            players: BTreeSet::new(),
            running: None,
        });
        e.players.insert(player);
        e.running.is_none() && !published
    }

    pub fn started(&mut self, key: &K, what: T) {
        if let Some(e) = self.streams.get_mut(key) {
            e.running = Some(what);
        }
    }

    /// Player `player` stops playing `key`: what to stop when it was the last one.
    pub fn leave(&mut self, key: &K, player: u64) -> Option<T> {
        let e = self.streams.get_mut(key)?;
        e.players.remove(&player);
        if !e.players.is_empty() {
            return None;
        }
        self.streams.remove(key).and_then(|e| e.running)
    }

    /// Player `player` leaves every stream it was counted in (its connection closed): what
    /// to stop where it was the last one.
    pub fn leave_all(&mut self, player: u64) -> Vec<T> {
        let keys: Vec<K> = self
            .streams
            .iter()
            .filter(|(_, e)| e.players.contains(&player))
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| self.leave(k, player)).collect()
    }

    pub fn players(&self, key: &K) -> usize {
        self.streams.get(key).map_or(0, |e| e.players.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_player_starts_last_player_stops() {
        let mut t: PullTracker<&str, u32> = PullTracker::default();
        assert!(t.join(&"a", 1, false));
        t.started(&"a", 7);
        assert!(!t.join(&"a", 2, false));
        assert!(t.join(&"b", 3, false));
        assert_eq!(t.leave(&"a", 1), None);
        assert_eq!(t.players(&"a"), 1);
        assert_eq!(t.leave(&"a", 2), Some(7));
        assert_eq!(t.players(&"a"), 0);
        // b never reported a start (it failed): nothing to stop.
        assert_eq!(t.leave(&"b", 3), None);
        assert_eq!(t.leave(&"zzz", 3), None);
    }

    #[test]
    fn published_streams_need_no_pull() {
        let mut t: PullTracker<&str, u32> = PullTracker::default();
        assert!(!t.join(&"a", 1, true));
        // The publisher left; the next player brings the pull.
        assert!(t.join(&"a", 2, false));
        t.started(&"a", 1);
        assert_eq!(t.leave(&"a", 2), None);
        assert_eq!(t.leave(&"a", 1), Some(1));
    }

    #[test]
    fn a_closed_connection_leaves_everything() {
        let mut t: PullTracker<&str, u32> = PullTracker::default();
        assert!(t.join(&"a", 1, false));
        t.started(&"a", 10);
        assert!(t.join(&"b", 1, false));
        t.started(&"b", 20);
        assert!(!t.join(&"b", 2, false));
        let mut stopped = t.leave_all(1);
        stopped.sort();
        assert_eq!(stopped, vec![10]);
        assert_eq!((t.players(&"a"), t.players(&"b")), (0, 1));
        assert_eq!(t.leave_all(1), Vec::<u32>::new());
        assert_eq!(t.leave_all(2), vec![20]);
    }

    #[test]
    fn a_player_counted_once() {
        let mut t: PullTracker<&str, u32> = PullTracker::default();
        assert!(t.join(&"a", 1, false));
        t.started(&"a", 1);
        assert!(!t.join(&"a", 1, false));
        assert_eq!(t.leave(&"a", 1), Some(1));
    }
}
