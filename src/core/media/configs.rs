//! The configuration packets a stream has sent, as late joiners and new recording pieces
//! need them: the newest of each kind ([`ConfigKey`]), in the order the kinds first came.

use super::flv::ConfigKey;

/// More kinds than real streams send (a sequence start, a multichannel layout or colour
/// metadata per track); past it the oldest kind is forgotten, so a publisher cycling track
/// ids cannot grow the set.
pub const MAX_CONFIGS: usize = 16;

#[derive(Debug, Clone)]
pub struct ConfigSet<T> {
    entries: Vec<(ConfigKey, T)>,
}

impl<T> Default for ConfigSet<T> {
    fn default() -> Self {
        ConfigSet {
            entries: Vec::new(),
        }
    }
}

impl<T> ConfigSet<T> {
    /// Keeps `value` as the configuration of its kind, in the place of an older one.
    pub fn put(&mut self, key: ConfigKey, value: T) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        if self.entries.len() == MAX_CONFIGS {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::flv::{audio_config_key, video_config_key};

    #[test]
    fn newest_per_kind_in_first_seen_order() {
        let key = |p: &[u8]| audio_config_key(p).unwrap();
        let mut s = ConfigSet::default();
        assert!(s.is_empty());
        s.put(key(b"\x90Opus1"), 1);
        s.put(key(b"\x94Opus\x00\x02"), 2);
        s.put(key(b"\x90Opus2"), 3);
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![3, 2]);
        s.clear();
        assert!(s.is_empty());
    }

    #[test]
    fn bounded() {
        let mut s = ConfigSet::default();
        for track in 0..=255u8 {
            let mut p = b"\x96\x00hvc1".to_vec();
            p.push(track);
            s.put(video_config_key(&p).unwrap(), track);
        }
        assert_eq!(s.iter().count(), MAX_CONFIGS);
        assert_eq!(
            s.iter().next().copied(),
            Some(u8::MAX - MAX_CONFIGS as u8 + 1)
        );
    }
}
