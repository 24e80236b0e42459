//! The `/stat` XML document, element for element as nginx-rtmp-module writes it, so that
//! its stylesheets, scrapers and exporters keep working.
//!
//! What differs from the C module, on purpose:
//! - streams come sorted by name and clients by id (the C module walks a hash table);
//! - non-ASCII UTF-8 is kept (the C module turns every byte outside 0x20..0x7e into a
//!   space); control characters still become spaces, as XML 1.0 forbids most of them;
//! - there is no `<play>` section (no VOD here), so `all` means global, live and clients;
//! - `<timestamp>` is written unsigned (the C module prints it as a signed 32-bit number).

use super::merge::{app_nclients, Snapshot};
use super::snapshot::{ClientSnap, MetaSnap, StreamSnap};
use std::fmt::Write;

/// The `rtmp_stat` words, as bits (the C module's values).
pub const STAT_GLOBAL: u32 = 0x01;
pub const STAT_LIVE: u32 = 0x02;
pub const STAT_CLIENTS: u32 = 0x04;
pub const STAT_ALL: u32 = 0xff;

/// Parses the arguments of `rtmp_stat` (`all`, `global`, `live`, `clients`) into a mask.
/// `None` on an unknown word or no words.
pub fn parse_stat_mask<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<u32> {
    let mut mask = 0;
    let mut any = false;
    for w in words {
        any = true;
        mask |= match w {
            "all" => STAT_ALL,
            "global" => STAT_GLOBAL,
            "live" => STAT_LIVE,
            "clients" => STAT_CLIENTS,
            _ => return None,
        };
    }
    any.then_some(mask)
}

/// What the document says about the answering process, besides the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlInfo {
    pub nginx_version: String,
    /// The worker answering the request.
    pub pid: u32,
    pub uptime_secs: u64,
    /// `rtmp_stat_stylesheet`: becomes an `<?xml-stylesheet?>` instruction.
    pub stylesheet: Option<String>,
    /// Left out of the document when empty.
    pub compiler: String,
    pub built: String,
    /// `rtmp_stat` bits: without [`STAT_LIVE`] no `<live>`, without [`STAT_CLIENTS`] no
    /// `<client>` (the counts stay).
    pub mask: u32,
}

impl Default for XmlInfo {
    fn default() -> Self {
        XmlInfo {
            nginx_version: String::new(),
            pid: 0,
            uptime_secs: 0,
            stylesheet: None,
            compiler: String::new(),
            built: String::new(),
            mask: STAT_ALL,
        }
    }
}

/// The version the C module reports. Scrapers and dashboards written for nginx-rtmp-module
/// read `<nginx_rtmp_version>` to decide how to parse the page (and some refuse versions
/// they do not know); the document below is that version's format, so we say so rather
/// than report our own crate version.
pub const NGINX_RTMP_VERSION: &str = "1.1.4";

/// Writes `s` as text content or an attribute value: `<`, `>`, `&`, `"`, `'` become
/// entities (so `]]>` and `?>` cannot appear), and characters XML 1.0 does not allow (and
/// other control characters) become spaces.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Renders the whole `/stat` document.
pub fn render_xml(s: &Snapshot, info: &XmlInfo) -> String {
    let mut w = Xml {
        out: String::with_capacity(1024),
    };
    w.raw("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n");
    if let Some(href) = info.stylesheet.as_deref().filter(|h| !h.is_empty()) {
        w.raw("<?xml-stylesheet type=\"text/xsl\" href=\"");
        w.text(href);
        w.raw("\" ?>\r\n");
    }
    w.raw("<rtmp>\r\n");
    w.line("nginx_version", &info.nginx_version);
    w.line("nginx_rtmp_version", NGINX_RTMP_VERSION);
    if !info.compiler.is_empty() {
        w.line("compiler", &info.compiler);
    }
    w.line("built", &info.built);
    w.line("pid", info.pid);
    w.line("uptime", info.uptime_secs);
    w.line("naccepted", s.naccepted);
    w.line("bw_in", s.bw_in);
    w.line("bytes_in", s.bytes_in);
    w.line("bw_out", s.bw_out);
    w.line("bytes_out", s.bytes_out);

    for srv in &s.servers {
        w.raw("<server>\r\n");
        for app in &srv.apps {
            w.raw("<application>\r\n");
            w.line("name", &app.name);
            if app.live && info.mask & STAT_LIVE != 0 {
                w.raw("<live>\r\n");
                for st in &app.streams {
                    w.stream(st, info.mask & STAT_CLIENTS != 0);
                }
                w.line("nclients", app_nclients(app));
                w.raw("</live>\r\n");
            }
            w.raw("</application>\r\n");
        }
        w.raw("</server>\r\n");
    }
    w.raw("</rtmp>\r\n");
    w.out
}

struct Xml {
    out: String,
}

impl Xml {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn text(&mut self, s: &str) {
        escape_into(&mut self.out, s);
    }

    /// `<tag>value</tag>` with the value escaped.
    fn el(&mut self, tag: &str, v: impl std::fmt::Display) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        let start = self.out.len();
        let _ = write!(self.out, "{v}");
        if self.out[start..]
            .chars()
            .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'') || c.is_control())
        {
            let raw = self.out.split_off(start);
            escape_into(&mut self.out, &raw);
        }
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// An element on a line of its own.
    fn line(&mut self, tag: &str, v: impl std::fmt::Display) {
        self.el(tag, v);
        self.raw("\r\n");
    }

    /// An element only when its text is not empty.
    fn el_nonempty(&mut self, tag: &str, v: &str) {
        if !v.is_empty() {
            self.el(tag, v);
        }
    }

    fn stream(&mut self, st: &StreamSnap, clients: bool) {
        self.raw("<stream>\r\n");
        self.line("name", &st.name);
        // The C module ends <time> without a line break.
        self.el("time", st.time_ms);
        self.line("bw_in", st.bw_in);
        self.line("bytes_in", st.bytes_in);
        self.line("bw_out", st.bw_out);
        self.line("bytes_out", st.bytes_out);
        self.line("bw_audio", st.bw_audio);
        self.line("bw_video", st.bw_video);
        if clients {
            for c in &st.clients {
                self.client(c);
            }
        }
        self.meta(&st.meta);
        self.line("nclients", st.clients.len());
        if st.publishing {
            self.raw("<publishing/>\r\n");
        }
        if st.active {
            self.raw("<active/>\r\n");
        }
        self.raw("</stream>\r\n");
    }

    fn client(&mut self, c: &ClientSnap) {
        self.raw("<client>");
        self.el("id", c.id);
        self.el("address", &c.address);
        self.el("time", c.time_ms);
        self.el_nonempty("flashver", &c.flashver);
        self.el_nonempty("pageurl", &c.pageurl);
        self.el_nonempty("swfurl", &c.swfurl);
        self.el("dropped", c.dropped);
        self.el("avsync", c.avsync);
        self.el("timestamp", c.timestamp);
        if c.publishing {
            self.raw("<publishing/>");
        }
        if c.active {
            self.raw("<active/>");
        }
        if c.relay {
            self.raw("<relay/>");
        }
        self.raw("</client>\r\n");
    }

    /// `<meta>` when anything is known about the media. Like the C module (which writes
    /// it whenever a publisher is present) it then holds both `<video>` and `<audio>`; an
    /// unknown side gets zero width, height and frame rate, or an empty `<audio/>`.
    fn meta(&mut self, m: &MetaSnap) {
        if m.video.is_none() && m.audio.is_none() {
            return;
        }
        self.raw("<meta><video>");
        let v = m.video.clone().unwrap_or_default();
        self.el("width", v.width);
        self.el("height", v.height);
        // An integer, as the C module stores it (scrapers parse it as one).
        self.el("frame_rate", frame_rate_int(v.frame_rate));
        self.el_nonempty("codec", &v.codec);
        self.el_nonempty("profile", &v.profile);
        if v.compat != 0 || !v.level.is_empty() {
            self.el("compat", v.compat);
        }
        self.el_nonempty("level", &v.level);
        self.raw("</video><audio>");
        if let Some(a) = &m.audio {
            self.el_nonempty("codec", &a.codec);
            self.el_nonempty("profile", &a.profile);
            if a.channels != 0 {
                self.el("channels", a.channels);
            }
            if a.sample_rate != 0 {
                self.el("sample_rate", a.sample_rate);
            }
        }
        self.raw("</audio></meta>\r\n");
    }
}

/// The whole frames per second (29.97 → 29); 0 for anything not a finite positive number.
fn frame_rate_int(f: f64) -> u64 {
    if f.is_finite() && f > 0.0 {
        // `as` saturates at u64::MAX.
        f as u64
    } else {
        0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stat::merge::merge;
    use crate::stat::snapshot::{AppSnap, AudioMeta, ServerSnap, VideoMeta};
    use crate::stat::wire::tests::sample;

    pub(crate) fn info() -> XmlInfo {
        XmlInfo {
            nginx_version: "1.28.0".into(),
            pid: 4242,
            uptime_secs: 3725,
            stylesheet: Some("/stat.xsl".into()),
            compiler: "gcc 12.2.0 (Debian 12.2.0-14)".into(),
            built: "Jan  1 2025 00:00:00".into(),
            mask: STAT_ALL,
        }
    }

    const EXPECTED: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n\
<?xml-stylesheet type=\"text/xsl\" href=\"/stat.xsl\" ?>\r\n\
<rtmp>\r\n\
<nginx_version>1.28.0</nginx_version>\r\n\
<nginx_rtmp_version>1.1.4</nginx_rtmp_version>\r\n\
<compiler>gcc 12.2.0 (Debian 12.2.0-14)</compiler>\r\n\
<built>Jan  1 2025 00:00:00</built>\r\n\
<pid>4242</pid>\r\n\
<uptime>3725</uptime>\r\n\
<naccepted>42</naccepted>\r\n\
<bw_in>2500000</bw_in>\r\n\
<bytes_in>123456789</bytes_in>\r\n\
<bw_out>7500000</bw_out>\r\n\
<bytes_out>987654321</bytes_out>\r\n\
<server>\r\n\
<application>\r\n\
<name>live</name>\r\n\
<live>\r\n\
<stream>\r\n\
<name>cam1</name>\r\n\
<time>3723000</time><bw_in>2500000</bw_in>\r\n\
<bytes_in>100000000</bytes_in>\r\n\
<bw_out>7500000</bw_out>\r\n\
<bytes_out>300000000</bytes_out>\r\n\
<bw_audio>128000</bw_audio>\r\n\
<bw_video>2372000</bw_video>\r\n\
<client><id>7</id><address>192.0.2.10</address><time>3722500</time>\
<flashver>FMLE/3.0 (compatible; OBS)</flashver><dropped>0</dropped><avsync>0</avsync>\
<timestamp>3722000</timestamp><publishing/><active/></client>\r\n\
<client><id>12</id><address>198.51.100.4</address><time>60000</time>\
<flashver>LNX 9,0,124,2</flashver><pageurl>http://example.org/watch?v=1&amp;t=2</pageurl>\
<swfurl>http://example.org/player.swf</swfurl><dropped>3</dropped><avsync>-21</avsync>\
<timestamp>3721980</timestamp><active/></client>\r\n\
<meta><video><width>1920</width><height>1080</height><frame_rate>29</frame_rate>\
<codec>H264</codec><profile>High</profile><compat>0</compat><level>4.1</level></video>\
<audio><codec>AAC</codec><profile>LC</profile><channels>2</channels>\
<sample_rate>48000</sample_rate></audio></meta>\r\n\
<nclients>2</nclients>\r\n\
<publishing/>\r\n\
<active/>\r\n\
</stream>\r\n\
<nclients>2</nclients>\r\n\
</live>\r\n\
</application>\r\n\
<application>\r\n\
<name>vod</name>\r\n\
</application>\r\n\
</server>\r\n\
</rtmp>\r\n";

    #[test]
    fn matches_the_c_module_document() {
        let s = merge(&[sample(4242)]);
        let doc = render_xml(&s, &info());
        if doc != EXPECTED {
            for (a, b) in doc.split("\r\n").zip(EXPECTED.split("\r\n")) {
                assert_eq!(a, b);
            }
        }
        assert_eq!(doc, EXPECTED);
        well_formed(&doc).unwrap();
    }

    #[test]
    fn a_relay_publisher_is_flagged() {
        let mut snap = sample(1);
        snap.servers[0].apps[0].streams[0].clients[0].relay = true;
        let s = merge(&[snap]);
        let doc = render_xml(&s, &info());
        assert_eq!(doc.matches("<relay/>").count(), 1);
        assert!(doc.contains("<publishing/><active/><relay/></client>"));
        let json = crate::stat::json::render_json(&s, &info());
        assert_eq!(json.matches(r#""relay":true"#).count(), 1);
        assert_eq!(json.matches(r#""relay":false"#).count(), 1);
    }

    #[test]
    fn every_line_ends_in_crlf() {
        let doc = render_xml(&merge(&[sample(1)]), &info());
        assert!(doc.ends_with("\r\n"));
        assert_eq!(doc.matches('\n').count(), doc.matches("\r\n").count());
    }

    #[test]
    fn empty_snapshot() {
        let mut i = info();
        i.stylesheet = None;
        i.compiler.clear();
        let doc = render_xml(&Snapshot::default(), &i);
        assert!(!doc.contains("xml-stylesheet"));
        assert!(!doc.contains("<compiler>"));
        assert!(!doc.contains("<server>"));
        well_formed(&doc).unwrap();
    }

    #[test]
    fn mask_drops_live_or_clients() {
        let s = merge(&[sample(1)]);
        let mut i = info();
        i.mask = STAT_GLOBAL | STAT_LIVE;
        let doc = render_xml(&s, &i);
        assert!(doc.contains("<live>") && !doc.contains("<client>"));
        assert!(doc.contains("<nclients>2</nclients>"));
        well_formed(&doc).unwrap();
        i.mask = STAT_GLOBAL | STAT_CLIENTS;
        let doc = render_xml(&s, &i);
        assert!(!doc.contains("<live>") && !doc.contains("<stream>"));
        assert!(doc.contains("<name>live</name>"));
        well_formed(&doc).unwrap();
    }

    #[test]
    fn parse_mask() {
        assert_eq!(parse_stat_mask(["all"]), Some(0xff));
        assert_eq!(parse_stat_mask(["live", "clients"]), Some(6));
        assert_eq!(parse_stat_mask(["global"]), Some(1));
        assert_eq!(parse_stat_mask(["bogus"]), None);
        assert_eq!(parse_stat_mask([]), None);
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let evil = "<a href=\"x\">&amp;</a>]]><!-- ' \u{0}\u{1}\t\r\n\u{7f}\u{fffe}é";
        let mut w = sample(1);
        let app = &mut w.servers[0].apps[0];
        app.name = evil.into();
        let st = &mut app.streams[0];
        st.name = evil.into();
        st.clients[0].flashver = evil.into();
        st.clients[0].address = evil.into();
        st.clients[1].pageurl = evil.into();
        st.clients[1].swfurl = evil.into();
        let v = st.meta.video.as_mut().unwrap();
        v.codec = evil.into();
        v.level = evil.into();
        st.meta.audio.as_mut().unwrap().profile = evil.into();
        let mut i = info();
        i.stylesheet = Some("x.xsl\" ?><evil/><?a \"".into());
        i.nginx_version = evil.into();
        i.built = evil.into();
        let doc = render_xml(&merge(&[w]), &i);
        assert!(!doc.contains("]]>"));
        assert!(!doc.contains("<a "));
        assert!(!doc.contains("<evil/>"));
        assert!(!doc.contains('\u{0}') && !doc.contains('\u{7f}') && !doc.contains('\t'));
        assert!(doc.contains("&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;]]&gt;"));
        assert!(doc.contains('é'));
        well_formed(&doc).unwrap();
        if let Some(path) = std::env::var_os("NGX_RTMP_STAT_HOSTILE") {
            std::fs::write(path, &doc).unwrap();
        }
        // Only the C module's line breaks: the ones in the strings became spaces.
        assert_eq!(doc.matches('\n').count(), doc.matches("\r\n").count());
    }

    #[test]
    fn meta_with_one_side_only() {
        let mut w = sample(1);
        let st = &mut w.servers[0].apps[0].streams[0];
        st.meta.video = None;
        st.meta.audio = Some(AudioMeta {
            codec: "MP3".into(),
            ..AudioMeta::default()
        });
        let doc = render_xml(&merge(&[w.clone()]), &info());
        assert!(doc.contains(
            "<meta><video><width>0</width><height>0</height><frame_rate>0</frame_rate></video>\
             <audio><codec>MP3</codec></audio></meta>\r\n"
        ));
        let st = &mut w.servers[0].apps[0].streams[0];
        st.meta.audio = None;
        st.meta.video = Some(VideoMeta {
            width: 1,
            height: 2,
            frame_rate: f64::NAN,
            ..VideoMeta::default()
        });
        let doc = render_xml(&merge(&[w.clone()]), &info());
        assert!(doc.contains(
            "<meta><video><width>1</width><height>2</height><frame_rate>0</frame_rate></video>\
             <audio></audio></meta>\r\n"
        ));
        w.servers[0].apps[0].streams[0].meta = MetaSnap::default();
        let doc = render_xml(&merge(&[w]), &info());
        assert!(!doc.contains("<meta>"));
    }

    #[test]
    fn frame_rates() {
        assert_eq!(frame_rate_int(29.97), 29);
        assert_eq!(frame_rate_int(-1.0), 0);
        assert_eq!(frame_rate_int(f64::INFINITY), 0);
        assert_eq!(frame_rate_int(1e300), u64::MAX);
    }

    #[test]
    fn many_servers_and_apps() {
        let mut w = sample(1);
        w.servers.push(ServerSnap {
            index: 1,
            apps: vec![AppSnap {
                name: "second".into(),
                live: true,
                streams: vec![],
            }],
        });
        let doc = render_xml(&merge(&[w]), &info());
        assert_eq!(doc.matches("<server>").count(), 2);
        assert!(doc.contains("<name>second</name>\r\n<live>\r\n<nclients>0</nclients>\r\n</live>"));
        well_formed(&doc).unwrap();
    }

    /// A bigger, realistic document: `NGX_RTMP_STAT_SAMPLE=/tmp/sample.xml cargo test
    /// dump_sample` writes it, to try the stylesheet with xsltproc.
    #[test]
    fn dump_sample() {
        let a = sample(4242);
        let mut b = sample(4243);
        let live = &mut b.servers[0].apps[0];
        for c in &mut live.streams[0].clients {
            c.id += 100;
            c.publishing = false;
            c.flashver = "LNX 9,0,124,2".into();
        }
        live.streams[0].publishing = false;
        live.streams[0].meta = MetaSnap::default();
        let mut studio = live.streams[0].clone();
        studio.name = "studio <4K>".into();
        studio.time_ms = 93_784_000;
        studio.bw_in = 15_800_000;
        studio.bw_out = 31_000_000;
        studio.publishing = true;
        studio.meta.video = Some(VideoMeta {
            width: 3840,
            height: 2160,
            frame_rate: 59.94,
            codec: "HEVC".into(),
            profile: "Main".into(),
            compat: 0,
            level: "5.1".into(),
        });
        studio.meta.audio = Some(AudioMeta {
            codec: "AAC".into(),
            profile: "HE".into(),
            channels: 6,
            sample_rate: 44_100,
        });
        studio.clients[0].publishing = true;
        studio.clients[0].flashver = "FMLE/3.0 (compatible; Lavf60.16.100)".into();
        let mut idle = studio.clone();
        idle.name = "backup".into();
        idle.clients.truncate(1);
        idle.clients[0].publishing = false;
        idle.clients[0].active = false;
        idle.publishing = false;
        idle.active = false;
        idle.meta = MetaSnap::default();
        idle.bw_in = 0;
        idle.bw_out = 0;
        idle.time_ms = 4_000;
        live.streams.push(studio);
        live.streams.push(idle);
        b.servers[0].apps.push(AppSnap {
            name: "restream".into(),
            live: true,
            streams: vec![],
        });
        let doc = render_xml(&merge(&[a, b]), &info());
        well_formed(&doc).unwrap();
        if let Some(path) = std::env::var_os("NGX_RTMP_STAT_SAMPLE") {
            std::fs::write(path, &doc).unwrap();
        }
    }

    /// A small well-formedness check: one root, balanced tags, only the five predefined
    /// entities and character references, no raw `<`/`&` in text, only XML 1.0 characters.
    pub(crate) fn well_formed(doc: &str) -> Result<(), String> {
        if let Some(c) = doc
            .chars()
            .find(|&c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}')
        {
            return Err(format!("bad character {c:?}"));
        }
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = doc;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("<?") {
                if !stack.is_empty() || roots > 0 {
                    return Err("processing instruction inside the root".into());
                }
                let end = r.find("?>").ok_or("unterminated <?")?;
                check_text(&r[..end].replace('"', ""))?;
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix("</") {
                let end = r.find('>').ok_or("unterminated </")?;
                let name = &r[..end];
                if stack.pop() != Some(name) {
                    return Err(format!("unbalanced </{name}>"));
                }
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix('<') {
                let end = r.find('>').ok_or("unterminated <")?;
                let (name, empty) = match r[..end].strip_suffix('/') {
                    Some(n) => (n, true),
                    None => (&r[..end], false),
                };
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("bad tag <{name}>"));
                }
                if stack.is_empty() {
                    roots += 1;
                }
                if !empty {
                    stack.push(name);
                }
                rest = &r[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let text = &rest[..end];
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err("text outside the root".into());
                }
                check_text(text)?;
                rest = &rest[end..];
            }
        }
        if !stack.is_empty() || roots != 1 {
            return Err(format!("{} unclosed, {roots} roots", stack.len()));
        }
        Ok(())
    }

    fn check_text(t: &str) -> Result<(), String> {
        if t.contains('>') {
            return Err(format!("raw > in {t:?}"));
        }
        let mut parts = t.split('&');
        parts.next();
        for p in parts {
            let end = p.find(';').ok_or("& without ;")?;
            let ent = &p[..end];
            let ok = matches!(ent, "lt" | "gt" | "amp" | "quot" | "apos")
                || ent
                    .strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return Err(format!("bad entity &{ent};"));
            }
        }
        Ok(())
    }

    #[test]
    fn checker_rejects_bad_documents() {
        assert!(well_formed("<a><b></a></b>").is_err());
        assert!(well_formed("<a>&bogus;</a>").is_err());
        assert!(well_formed("<a>x > y</a>").is_err());
        assert!(well_formed("<a/><b/>").is_err());
        assert!(well_formed("<a>\u{1}</a>").is_err());
        assert!(well_formed("<a x=\"1\">").is_err());
        assert!(well_formed("<?x ?>\r\n<a>&amp;&#39;<b/></a>\r\n").is_ok());
    }
}
