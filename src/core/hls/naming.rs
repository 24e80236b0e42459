//! File names (relative to hls_path) and playlist URLs, laid out as nginx-rtmp lays them out:
//! `NAME.m3u8` and `NAME-ID.ts`, or with hls_nested `NAME/index.m3u8` and `NAME/ID.ts`.
//! fMP4 fragments are `NAME-ID.m4s` (`NAME/ID.m4s`); their initialization segment is
//! `NAME-init-ID.mp4` (`NAME/init-ID.mp4`), ID being the first fragment that used it, so
//! a new one (new codec parameters, a new publish) never overwrites one a player may still
//! need.

use super::{HlsConf, Naming, Variant};

#[derive(Debug, Clone)]
pub struct Names {
    stream: String,
    nested: bool,
    base_url: String,
    /// With hls_variant: the stream name without the matched suffix.
    variant_base: Option<String>,
}

impl Names {
    pub fn new(conf: &HlsConf, stream: &str) -> Self {
        // Like nginx-rtmp, the first variant whose suffix ends the name (and is shorter than
        // it) makes this stream one variant of a master playlist.
        let variant_base = conf
            .variants
            .iter()
            .find(|v| stream.len() > v.suffix.len() && stream.ends_with(v.suffix.as_str()))
            .map(|v| stream[..stream.len() - v.suffix.len()].to_string());
        Names {
            stream: stream.to_string(),
            nested: conf.nested,
            base_url: conf.base_url.clone(),
            variant_base,
        }
    }

    /// The directory the shell must create, with hls_nested.
    pub fn dir(&self) -> Option<&str> {
        self.nested.then_some(self.stream.as_str())
    }

    pub fn playlist(&self) -> String {
        if self.nested {
            format!("{}/index.m3u8", self.stream)
        } else {
            format!("{}.m3u8", self.stream)
        }
    }

    /// A fragment's file: MPEG-TS, or fMP4 (`mp4`).
    pub fn fragment(&self, id: u64, mp4: bool) -> String {
        self.file(&id.to_string(), if mp4 { "m4s" } else { "ts" })
    }

    /// The fragment's line in the playlist. Nested playlists sit next to their fragments,
    /// so without a base URL the name alone is enough.
    pub fn fragment_url(&self, id: u64, mp4: bool) -> String {
        self.url(&id.to_string(), if mp4 { "m4s" } else { "ts" })
    }

    /// An fMP4 initialization segment, named after the first fragment that uses it.
    pub fn init(&self, id: u64) -> String {
        self.file(&format!("init-{id}"), "mp4")
    }

    pub fn init_url(&self, id: u64) -> String {
        self.url(&format!("init-{id}"), "mp4")
    }

    fn file(&self, stem: &str, ext: &str) -> String {
        if self.nested {
            format!("{}/{stem}.{ext}", self.stream)
        } else {
            format!("{}-{stem}.{ext}", self.stream)
        }
    }

    fn url(&self, stem: &str, ext: &str) -> String {
        match (self.nested, self.base_url.is_empty()) {
            (true, true) => format!("{stem}.{ext}"),
            (true, false) => format!("{}{}/{stem}.{ext}", self.base_url, self.stream),
            (false, _) => format!("{}{}-{stem}.{ext}", self.base_url, self.stream),
        }
    }

    /// The master playlist's name, for a stream that is a variant.
    pub fn master(&self) -> Option<String> {
        self.variant_base.as_ref().map(|b| format!("{b}.m3u8"))
    }

    /// The master playlist listing every configured variant of this stream's base name.
    pub fn master_text(&self, variants: &[Variant]) -> Option<String> {
        let base = self.variant_base.as_ref()?;
        let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
        for v in variants {
            s.push_str("#EXT-X-STREAM-INF:PROGRAM-ID=1");
            for p in &v.params {
                s.push(',');
                s.push_str(p);
            }
            s.push('\n');
            s.push_str(&self.base_url);
            s.push_str(base);
            s.push_str(&v.suffix);
            s.push_str(if self.nested {
                "/index.m3u8\n"
            } else {
                ".m3u8\n"
            });
        }
        Some(s)
    }
}

/// The number in a new fragment's name. `sequence` is the media sequence number the fragment
/// will have, `ticks` the stream time in 90 kHz units (nginx-rtmp's `timestamp` naming uses
/// the MPEG-TS clock, not milliseconds), `unix_ms` the wall clock.
pub fn fragment_id(conf: &HlsConf, sequence: u64, ticks: i64, unix_ms: u64) -> u64 {
    let id = match conf.naming {
        Naming::Sequential => sequence,
        Naming::Timestamp => u64::try_from(ticks).unwrap_or(0),
        Naming::System => unix_ms,
    };
    match conf.naming_granularity {
        0 => id,
        g => id / g * g,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(nested: bool, base_url: &str) -> HlsConf {
        HlsConf {
            nested,
            base_url: base_url.into(),
            variants: vec![
                Variant {
                    suffix: "_low".into(),
                    params: vec!["BANDWIDTH=320000".into()],
                },
                Variant {
                    suffix: "_hi".into(),
                    params: vec!["BANDWIDTH=1280000".into(), "RESOLUTION=1280x720".into()],
                },
            ],
            ..HlsConf::default()
        }
    }

    #[test]
    fn flat_and_nested() {
        let n = Names::new(&conf(false, ""), "cam");
        assert_eq!(
            (n.playlist(), n.fragment(7, false), n.fragment_url(7, false)),
            ("cam.m3u8".into(), "cam-7.ts".into(), "cam-7.ts".into())
        );
        assert_eq!(
            (n.fragment(7, true), n.init(5), n.init_url(5)),
            (
                "cam-7.m4s".into(),
                "cam-init-5.mp4".into(),
                "cam-init-5.mp4".into()
            )
        );
        assert_eq!(n.dir(), None);
        let n = Names::new(&conf(true, ""), "cam");
        assert_eq!(
            (n.playlist(), n.fragment(7, false), n.fragment_url(7, false)),
            ("cam/index.m3u8".into(), "cam/7.ts".into(), "7.ts".into())
        );
        assert_eq!(
            (n.fragment(7, true), n.init(5), n.init_url(5)),
            (
                "cam/7.m4s".into(),
                "cam/init-5.mp4".into(),
                "init-5.mp4".into()
            )
        );
        assert_eq!(n.dir(), Some("cam"));
        let n = Names::new(&conf(true, "http://cdn/hls/"), "cam");
        assert_eq!(n.fragment_url(7, false), "http://cdn/hls/cam/7.ts");
        assert_eq!(n.init_url(0), "http://cdn/hls/cam/init-0.mp4");
        let n = Names::new(&conf(false, "http://cdn/hls/"), "cam");
        assert_eq!(n.fragment_url(7, true), "http://cdn/hls/cam-7.m4s");
    }

    #[test]
    fn variants() {
        let n = Names::new(&conf(false, ""), "cam_hi");
        assert_eq!(n.master().as_deref(), Some("cam.m3u8"));
        assert_eq!(
            n.master_text(&conf(false, "").variants).as_deref(),
            Some(
                "#EXTM3U\n#EXT-X-VERSION:3\n\
                 #EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=320000\ncam_low.m3u8\n\
                 #EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=1280000,RESOLUTION=1280x720\ncam_hi.m3u8\n"
            )
        );
        let c = conf(true, "/hls/");
        let n = Names::new(&c, "cam_low");
        assert!(n
            .master_text(&c.variants)
            .unwrap()
            .contains("\n/hls/cam_hi/index.m3u8\n"));
        assert_eq!(Names::new(&c, "cam").master(), None);
        assert_eq!(
            Names::new(&c, "_low").master(),
            None,
            "the suffix alone is no variant"
        );
    }

    #[test]
    fn ids() {
        let mut c = HlsConf::default();
        assert_eq!(fragment_id(&c, 12, 900_000, 1_700_000_000_123), 12);
        c.naming = Naming::Timestamp;
        assert_eq!(fragment_id(&c, 12, 900_090, 0), 900_090);
        assert_eq!(fragment_id(&c, 12, -5, 0), 0);
        c.naming_granularity = 90_000;
        assert_eq!(fragment_id(&c, 12, 900_090, 0), 900_000);
        c.naming = Naming::System;
        c.naming_granularity = 1000;
        assert_eq!(fragment_id(&c, 12, 0, 1_700_000_000_123), 1_700_000_000_000);
    }
}
