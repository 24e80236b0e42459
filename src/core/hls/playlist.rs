//! The media playlist: a window of finished fragments, its text, and reading an old one back
//! (hls_continuous).
//!
//! Live windows hold the newest fragments that add up to hls_playlist_length (dropping the
//! oldest only while the rest still cover it), which is nginx-rtmp's
//! playlist_length / fragment count when fragments are as long as configured, and stays right
//! when key frames make them longer. Event playlists keep everything, up to a cap.

use super::naming::Names;
use super::{HlsConf, PlaylistType};
use std::collections::VecDeque;

/// Even an event playlist stops growing here (about 3.8 days of 5 s fragments) and starts
/// sliding, so a stream that never ends cannot make the playlist unbounded.
pub const EVENT_MAX_FRAGMENTS: usize = 65_536;
/// A target duration past this in an old playlist is garbage, not a fragment length.
const MAX_TARGET_S: u64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    pub id: u64,
    pub duration_ms: u64,
    /// An EXT-X-DISCONTINUITY goes before it.
    pub discont: bool,
    /// An fMP4 fragment: the id of its initialization segment (EXT-X-MAP). MPEG-TS: none.
    pub init: Option<u64>,
}

#[derive(Debug)]
pub struct Playlist {
    media_sequence: u64,
    /// Incremented for every discontinuity that leaves the window, so players can line up
    /// variants (RFC 8216 4.3.3.3); nginx-rtmp does not write it.
    discont_sequence: u64,
    frags: VecDeque<Fragment>,
    /// Seconds; it only grows, since a live playlist's target must not change (RFC 8216
    /// 6.2.1) and shrinking it under a player's feet would make earlier EXTINFs invalid.
    target_s: u64,
    event: bool,
    length_ms: u64,
    max_count: usize,
}

impl Playlist {
    pub fn new(conf: &HlsConf) -> Self {
        let event = conf.playlist_type == PlaylistType::Event;
        let fragment = conf.fragment_ms.max(1);
        // Twice the expected count, like nginx-rtmp's ring of 2 * winfrags + 1: room for
        // fragments cut short by discontinuities, and a bound however short they get.
        let expected =
            usize::try_from(conf.playlist_length_ms.div_ceil(fragment)).unwrap_or(usize::MAX);
        let max_count = if event {
            EVENT_MAX_FRAGMENTS
        } else {
            expected
                .saturating_mul(2)
                .saturating_add(1)
                .clamp(3, EVENT_MAX_FRAGMENTS)
        };
        Playlist {
            media_sequence: 0,
            discont_sequence: 0,
            frags: VecDeque::new(),
            target_s: (conf.fragment_ms / 1000).clamp(1, MAX_TARGET_S),
            event,
            length_ms: conf.playlist_length_ms,
            max_count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.frags.is_empty()
    }

    #[cfg(test)]
    pub fn fragments(&self) -> impl Iterator<Item = &Fragment> {
        self.frags.iter()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.frags.iter().any(|f| f.id == id)
    }

    pub fn last_id(&self) -> Option<u64> {
        self.frags.back().map(|f| f.id)
    }

    /// The media sequence number the next fragment will get.
    pub fn next_sequence(&self) -> u64 {
        self.media_sequence.saturating_add(self.frags.len() as u64)
    }

    /// Adds a finished fragment; returns the ones that slid out of the window.
    pub fn push(&mut self, f: Fragment) -> Vec<Fragment> {
        self.target_s = self
            .target_s
            .max(f.duration_ms.div_ceil(1000).min(MAX_TARGET_S));
        self.frags.push_back(f);
        let mut total: u64 = self.frags.iter().map(|f| f.duration_ms).sum();
        let mut dropped = Vec::new();
        while let Some(front) = self.frags.front().copied() {
            let over_count = self.frags.len() > self.max_count;
            let covered = !self.event
                && self.frags.len() > 1
                && total.saturating_sub(front.duration_ms) >= self.length_ms;
            if !(over_count || covered) {
                break;
            }
            self.frags.pop_front();
            total = total.saturating_sub(front.duration_ms);
            self.media_sequence = self.media_sequence.saturating_add(1);
            if front.discont {
                self.discont_sequence = self.discont_sequence.saturating_add(1);
            }
            dropped.push(front);
        }
        dropped
    }

    /// An fMP4 fragment listed uses the initialization segment `init`.
    pub fn uses_init(&self, init: u64) -> bool {
        self.frags.iter().any(|f| f.init == Some(init))
    }

    pub fn render(&self, names: &Names) -> String {
        let mut s = String::with_capacity(128 + 48 * self.frags.len());
        // EXT-X-MAP in a media playlist needs version 6 (RFC 8216 7); 7 as CMAF wants.
        let version = if self.frags.iter().any(|f| f.init.is_some()) {
            7
        } else {
            3
        };
        s.push_str(&format!("#EXTM3U\n#EXT-X-VERSION:{version}\n"));
        s.push_str(&format!("#EXT-X-MEDIA-SEQUENCE:{}\n", self.media_sequence));
        if self.discont_sequence > 0 {
            s.push_str(&format!(
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}\n",
                self.discont_sequence
            ));
        }
        s.push_str(&format!("#EXT-X-TARGETDURATION:{}\n", self.target_s));
        if self.event {
            s.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n");
        }
        let mut map = None;
        for f in &self.frags {
            if f.discont {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            if let Some(init) = f.init.filter(|i| map != Some(*i)) {
                s.push_str(&format!("#EXT-X-MAP:URI=\"{}\"\n", names.init_url(init)));
                map = Some(init);
            }
            s.push_str(&format!(
                "#EXTINF:{}.{:03},\n{}\n",
                f.duration_ms / 1000,
                f.duration_ms % 1000,
                names.fragment_url(f.id, f.init.is_some())
            ));
        }
        s
    }

    /// Reads an old playlist (ours or nginx-rtmp's) back into the window, the way
    /// nginx-rtmp's hls_continuous does: its media sequence, and every `*.ts` (or our
    /// `*.m4s`, after its EXT-X-MAP) line with the number before the extension as the
    /// fragment id. Returns fragments that did not fit.
    pub fn restore(&mut self, text: &str) -> Vec<Fragment> {
        let mut dropped = Vec::new();
        let mut duration_ms = 0;
        let mut discont = false;
        let mut map = None;
        for line in text.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                self.media_sequence = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("#EXT-X-DISCONTINUITY-SEQUENCE:") {
                self.discont_sequence = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                let t: u64 = v.trim().parse().unwrap_or(0);
                self.target_s = self.target_s.max(t.min(MAX_TARGET_S));
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                duration_ms = parse_duration_ms(v);
            } else if line == "#EXT-X-DISCONTINUITY" {
                discont = true;
            } else if let Some(v) = line.strip_prefix("#EXT-X-MAP:") {
                map = init_id_of(v);
            } else if !line.starts_with('#') {
                if let Some((id, mp4)) = fragment_id_of(line) {
                    dropped.extend(self.push(Fragment {
                        id,
                        duration_ms,
                        discont,
                        init: if mp4 { map } else { None },
                    }));
                    duration_ms = 0;
                    discont = false;
                }
            }
        }
        dropped
    }
}

/// The fragments an old playlist lists (at most `max`, the last ones): id and, for fMP4,
/// the initialization segment.
pub fn listed(text: &str, max: usize) -> Vec<(u64, Option<u64>)> {
    let mut ids = VecDeque::new();
    let mut map = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("#EXT-X-MAP:") {
            map = init_id_of(v);
        } else if let Some((id, mp4)) = fragment_id_of(line).filter(|_| !line.starts_with('#')) {
            if ids.len() == max {
                ids.pop_front();
            }
            ids.push_back((id, if mp4 { map } else { None }));
        }
    }
    ids.into()
}

/// `5.005,title` → 5005; anything unreadable is 0.
fn parse_duration_ms(v: &str) -> u64 {
    let number = v.split(',').next().unwrap_or("").trim();
    match number.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => (s * 1000.0).round().min(1e12) as u64,
        _ => 0,
    }
}

/// The decimal number right before a trailing `.ts` (or `.m4s`: then `true`).
fn fragment_id_of(url: &str) -> Option<(u64, bool)> {
    match url.strip_suffix(".ts") {
        Some(stem) => Some((trailing_number(stem)?, false)),
        None => Some((trailing_number(url.strip_suffix(".m4s")?)?, true)),
    }
}

/// The id of an EXT-X-MAP's `URI="…init-ID.mp4"`.
fn init_id_of(attrs: &str) -> Option<u64> {
    let uri = attrs.split("URI=\"").nth(1)?.split('"').next()?;
    trailing_number(uri.strip_suffix(".mp4")?)
}

fn trailing_number(stem: &str) -> Option<u64> {
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    stem.get(stem.len() - digits..)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u64, duration_ms: u64) -> Fragment {
        Fragment {
            id,
            duration_ms,
            discont: false,
            init: None,
        }
    }

    fn names(conf: &HlsConf) -> Names {
        Names::new(conf, "s")
    }

    #[test]
    fn live_window_slides_by_duration() {
        let conf = HlsConf::default(); // 5 s fragments, 30 s playlist
        let mut p = Playlist::new(&conf);
        for id in 0..6 {
            assert!(p.push(frag(id, 5000)).is_empty());
        }
        assert_eq!(p.push(frag(6, 5000)), vec![frag(0, 5000)]);
        assert_eq!(p.next_sequence(), 7);
        let text = p.render(&names(&conf));
        assert!(text.starts_with(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-TARGETDURATION:5\n#EXTINF:5.000,\ns-1.ts\n"
        ));
        assert_eq!(text.matches("#EXTINF").count(), 6);
        // Longer fragments: fewer of them, still covering 30 s.
        for id in 7..20 {
            p.push(frag(id, 8000));
        }
        assert_eq!(p.fragments().count(), 4);
        assert!(p
            .render(&names(&conf))
            .contains("#EXT-X-TARGETDURATION:8\n"));
    }

    #[test]
    fn target_is_the_ceiling_and_never_shrinks() {
        let conf = HlsConf::default();
        let mut p = Playlist::new(&conf);
        p.push(frag(0, 5001));
        assert!(p
            .render(&names(&conf))
            .contains("#EXT-X-TARGETDURATION:6\n"));
        for id in 1..20 {
            p.push(frag(id, 2000));
        }
        assert!(p
            .render(&names(&conf))
            .contains("#EXT-X-TARGETDURATION:6\n"));
        assert!(p.render(&names(&conf)).contains("#EXTINF:2.000,\n"));
    }

    #[test]
    fn discontinuities_and_their_sequence() {
        let conf = HlsConf {
            playlist_length_ms: 10_000,
            ..HlsConf::default()
        };
        let mut p = Playlist::new(&conf);
        p.push(frag(0, 5000));
        p.push(Fragment {
            id: 1,
            duration_ms: 5000,
            discont: true,
            init: None,
        });
        let t = p.render(&names(&conf));
        assert!(t.contains("s-0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:5.000,\ns-1.ts\n"));
        assert!(!t.contains("DISCONTINUITY-SEQUENCE"));
        p.push(frag(2, 5000));
        p.push(frag(3, 5000));
        let t = p.render(&names(&conf));
        assert!(t.contains("#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
    }

    #[test]
    fn event_keeps_everything() {
        let conf = HlsConf {
            playlist_type: PlaylistType::Event,
            ..HlsConf::default()
        };
        let mut p = Playlist::new(&conf);
        for id in 0..100 {
            assert!(p.push(frag(id, 5000)).is_empty());
        }
        let t = p.render(&names(&conf));
        assert!(t.contains("#EXT-X-MEDIA-SEQUENCE:0\n"));
        assert!(t.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"));
        assert_eq!(t.matches("#EXTINF").count(), 100);
    }

    #[test]
    fn count_cap_bounds_tiny_fragments() {
        let conf = HlsConf::default();
        let mut p = Playlist::new(&conf);
        for id in 0..1000 {
            p.push(frag(id, 0));
        }
        assert_eq!(p.fragments().count(), 13);
    }

    #[test]
    fn restore_round_trip_and_foreign_text() {
        let conf = HlsConf {
            base_url: "http://x/".into(),
            ..HlsConf::default()
        };
        let mut p = Playlist::new(&conf);
        for id in 40..46 {
            p.push(Fragment {
                id,
                duration_ms: 5000 + id,
                discont: id == 43,
                init: None,
            });
        }
        let text = p.render(&names(&conf));
        let mut q = Playlist::new(&conf);
        assert!(q.restore(&text).is_empty());
        assert_eq!(
            q.fragments().copied().collect::<Vec<_>>(),
            p.fragments().copied().collect::<Vec<_>>()
        );
        assert_eq!(q.next_sequence(), p.next_sequence());
        assert_eq!(q.render(&names(&conf)), text);

        // nginx-rtmp's own output, with CRLF and its "PLAYLIST-TYPE: EVENT" spelling.
        let c = "#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-MEDIA-SEQUENCE:17\r\n#EXT-X-TARGETDURATION:9\r\n#EXT-X-PLAYLIST-TYPE: EVENT\r\n#EXT-X-DISCONTINUITY\r\n#EXTINF:8.333,\r\ncam-17.ts\r\n#EXTINF:5.0,\r\ncam-18.ts\r\n";
        let mut q = Playlist::new(&conf);
        q.restore(c);
        assert_eq!(
            q.fragments().copied().collect::<Vec<_>>(),
            vec![
                Fragment {
                    id: 17,
                    duration_ms: 8333,
                    discont: true,
                    init: None,
                },
                Fragment {
                    id: 18,
                    duration_ms: 5000,
                    discont: false,
                    init: None,
                },
            ]
        );
        assert_eq!(q.next_sequence(), 19);
        assert!(q
            .render(&names(&conf))
            .contains("#EXT-X-TARGETDURATION:9\n"));

        for garbage in [
            "",
            "\n\n",
            "#EXTINF:nan,\nx.ts\n",
            "#EXTINF:-4,\n.ts\n#EXT-X-MEDIA-SEQUENCE:99999999999999999999999\n",
            "#EXTINF:1e308,\n7.ts",
        ] {
            let mut q = Playlist::new(&conf);
            q.restore(garbage);
            let _ = q.render(&names(&conf));
        }
    }

    #[test]
    fn listed_fragments() {
        let t =
            "#EXTM3U\n#EXTINF:5,\na-1.ts\n#EXTINF:5,\na-2.ts\nnot-a-fragment\n#EXTINF:5,\na-3.ts\n";
        let ts = |id| (id, None);
        assert_eq!(listed(t, 10), vec![ts(1), ts(2), ts(3)]);
        assert_eq!(listed(t, 2), vec![ts(2), ts(3)]);
        let t = "#EXT-X-MAP:URI=\"a-init-4.mp4\"\n#EXTINF:5,\na-4.m4s\n#EXTINF:5,\na-5.m4s\n";
        assert_eq!(listed(t, 10), vec![(4, Some(4)), (5, Some(4))]);
    }

    #[test]
    fn fmp4_fragments_name_their_init_segment() {
        let conf = HlsConf::default();
        let mut p = Playlist::new(&conf);
        let f = |id, init, discont| Fragment {
            id,
            duration_ms: 2000,
            discont,
            init: Some(init),
        };
        p.push(f(3, 3, false));
        p.push(f(4, 3, false));
        p.push(f(5, 5, true));
        let t = p.render(&names(&conf));
        assert_eq!(
            t,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:5\n\
             #EXT-X-MAP:URI=\"s-init-3.mp4\"\n#EXTINF:2.000,\ns-3.m4s\n#EXTINF:2.000,\ns-4.m4s\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"s-init-5.mp4\"\n#EXTINF:2.000,\ns-5.m4s\n"
        );
        assert!(p.uses_init(3) && p.uses_init(5) && !p.uses_init(4));
        let mut q = Playlist::new(&conf);
        assert!(q.restore(&t).is_empty());
        assert_eq!(q.render(&names(&conf)), t);
    }

    #[test]
    fn ids_from_urls() {
        assert_eq!(fragment_id_of("cam-12.ts"), Some((12, false)));
        assert_eq!(
            fragment_id_of("http://a/b/cam_hi-900000.ts"),
            Some((900_000, false))
        );
        assert_eq!(fragment_id_of("12.ts"), Some((12, false)));
        assert_eq!(fragment_id_of("cam.ts"), None);
        assert_eq!(fragment_id_of("cam-12.m4s"), Some((12, true)));
        assert_eq!(fragment_id_of("cam-12.mp4"), None);
        assert_eq!(fragment_id_of("99999999999999999999999.ts"), None);
        assert_eq!(init_id_of("URI=\"http://x/cam-init-7.mp4\""), Some(7));
        assert_eq!(init_id_of("URI=\"init-7.mp4\",BYTERANGE=\"1@0\""), Some(7));
        assert_eq!(init_id_of("URI=cam-init-7.mp4"), None);
    }
}
