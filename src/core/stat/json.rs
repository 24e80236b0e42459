//! The `/stat?format=json` document: the XML tree as JSON with stable snake_case names.
//! Bandwidths are bits/s, byte counters bytes, times milliseconds (`uptime` seconds).
//! See docs/stat.md for the schema.

use super::merge::{app_nclients, Snapshot};
use super::snapshot::{AudioMeta, ClientSnap, StreamSnap, VideoMeta};
use super::xml::{XmlInfo, NGINX_RTMP_VERSION, STAT_CLIENTS, STAT_LIVE};
use std::fmt::Write;

/// Writes `s` as a JSON string, quotes included. `"` and `\` are escaped, control
/// characters become `\n`, `\r`, `\t` or `\u00XX`; everything else is kept as UTF-8.
pub fn string_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are valid JSON but break JavaScript string literals.
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number JSON can hold: finite floats as they are (Rust never writes an exponent or
/// `NaN` here), anything else 0.
fn float_into(out: &mut String, f: f64) {
    if f.is_finite() {
        let _ = write!(out, "{f}");
    } else {
        out.push('0');
    }
}

/// Renders the snapshot as one JSON object.
pub fn render_json(s: &Snapshot, info: &XmlInfo) -> String {
    let mut j = Json {
        out: String::with_capacity(1024),
        first: true,
    };
    j.open('{');
    j.str_field("nginx_version", &info.nginx_version);
    j.str_field("nginx_rtmp_version", NGINX_RTMP_VERSION);
    j.str_field("compiler", &info.compiler);
    j.str_field("built", &info.built);
    j.num_field("pid", info.pid);
    j.key("workers");
    j.open('[');
    for pid in &s.workers {
        j.item();
        let _ = write!(j.out, "{pid}");
    }
    j.close(']');
    j.num_field("uptime", info.uptime_secs);
    j.num_field("naccepted", s.naccepted);
    j.num_field("bw_in", s.bw_in);
    j.num_field("bytes_in", s.bytes_in);
    j.num_field("bw_out", s.bw_out);
    j.num_field("bytes_out", s.bytes_out);
    j.key("servers");
    j.open('[');
    for srv in &s.servers {
        j.item();
        j.open('{');
        j.num_field("index", srv.index);
        j.key("applications");
        j.open('[');
        for app in &srv.apps {
            j.item();
            j.open('{');
            j.str_field("name", &app.name);
            j.key("live");
            if app.live && info.mask & STAT_LIVE != 0 {
                j.open('{');
                j.key("streams");
                j.open('[');
                for st in &app.streams {
                    j.item();
                    j.stream(st, info.mask & STAT_CLIENTS != 0);
                }
                j.close(']');
                j.num_field("nclients", app_nclients(app));
                j.close('}');
            } else {
                j.out.push_str("null");
            }
            j.close('}');
        }
        j.close(']');
        j.close('}');
    }
    j.close(']');
    j.close('}');
    j.out
}

struct Json {
    out: String,
    /// No member or element written yet in the innermost object or array.
    first: bool,
}

impl Json {
    fn open(&mut self, c: char) {
        self.out.push(c);
        self.first = true;
    }
    fn close(&mut self, c: char) {
        self.out.push(c);
        self.first = false;
    }
    /// A comma unless this is the first element.
    fn item(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }
    fn key(&mut self, k: &str) {
        self.item();
        string_into(&mut self.out, k);
        self.out.push(':');
        // The value that follows is not a new first element.
        self.first = false;
    }
    fn str_field(&mut self, k: &str, v: &str) {
        self.key(k);
        string_into(&mut self.out, v);
    }
    fn num_field(&mut self, k: &str, v: impl std::fmt::Display) {
        self.key(k);
        let _ = write!(self.out, "{v}");
    }
    fn bool_field(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
    }

    fn stream(&mut self, st: &StreamSnap, clients: bool) {
        self.open('{');
        self.str_field("name", &st.name);
        self.num_field("time", st.time_ms);
        self.num_field("bw_in", st.bw_in);
        self.num_field("bytes_in", st.bytes_in);
        self.num_field("bw_out", st.bw_out);
        self.num_field("bytes_out", st.bytes_out);
        self.num_field("bw_audio", st.bw_audio);
        self.num_field("bw_video", st.bw_video);
        self.key("meta");
        self.open('{');
        self.key("video");
        match &st.meta.video {
            Some(v) => self.video(v),
            None => self.out.push_str("null"),
        }
        self.key("audio");
        match &st.meta.audio {
            Some(a) => self.audio(a),
            None => self.out.push_str("null"),
        }
        self.close('}');
        if clients {
            self.key("clients");
            self.open('[');
            for c in &st.clients {
                self.item();
                self.client(c);
            }
            self.close(']');
        }
        self.num_field("nclients", st.clients.len());
        self.bool_field("publishing", st.publishing);
        self.bool_field("active", st.active);
        self.close('}');
    }

    fn video(&mut self, v: &VideoMeta) {
        self.open('{');
        self.num_field("width", v.width);
        self.num_field("height", v.height);
        self.key("frame_rate");
        float_into(&mut self.out, v.frame_rate);
        self.str_field("codec", &v.codec);
        self.str_field("profile", &v.profile);
        self.num_field("compat", v.compat);
        self.str_field("level", &v.level);
        self.close('}');
    }

    fn audio(&mut self, a: &AudioMeta) {
        self.open('{');
        self.str_field("codec", &a.codec);
        self.str_field("profile", &a.profile);
        self.num_field("channels", a.channels);
        self.num_field("sample_rate", a.sample_rate);
        self.close('}');
    }

    fn client(&mut self, c: &ClientSnap) {
        self.open('{');
        self.num_field("id", c.id);
        self.str_field("address", &c.address);
        self.num_field("time", c.time_ms);
        self.str_field("flashver", &c.flashver);
        self.str_field("swfurl", &c.swfurl);
        self.str_field("pageurl", &c.pageurl);
        self.num_field("dropped", c.dropped);
        self.num_field("avsync", c.avsync);
        self.num_field("timestamp", c.timestamp);
        self.bool_field("publishing", c.publishing);
        self.bool_field("active", c.active);
        self.bool_field("relay", c.relay);
        self.close('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::merge::merge;
    use crate::stat::wire::tests::sample;
    use crate::stat::xml::tests::info;
    use crate::stat::xml::STAT_GLOBAL;

    const EXPECTED: &str = concat!(
        r#"{"nginx_version":"1.28.0","nginx_rtmp_version":"1.1.4","#,
        r#""compiler":"gcc 12.2.0 (Debian 12.2.0-14)","built":"Jan  1 2025 00:00:00","#,
        r#""pid":4242,"workers":[4242],"uptime":3725,"naccepted":42,"#,
        r#""bw_in":2500000,"bytes_in":123456789,"bw_out":7500000,"bytes_out":987654321,"#,
        r#""servers":[{"index":0,"applications":[{"name":"live","live":{"streams":[{"#,
        r#""name":"cam1","time":3723000,"bw_in":2500000,"bytes_in":100000000,"#,
        r#""bw_out":7500000,"bytes_out":300000000,"bw_audio":128000,"bw_video":2372000,"#,
        r#""meta":{"video":{"width":1920,"height":1080,"frame_rate":29.97,"codec":"H264","#,
        r#""profile":"High","compat":0,"level":"4.1"},"audio":{"codec":"AAC","profile":"LC","#,
        r#""channels":2,"sample_rate":48000}},"clients":[{"id":7,"address":"192.0.2.10","#,
        r#""time":3722500,"flashver":"FMLE/3.0 (compatible; OBS)","swfurl":"","pageurl":"","#,
        r#""dropped":0,"avsync":0,"timestamp":3722000,"publishing":true,"active":true,"relay":false},"#,
        r#"{"id":12,"address":"198.51.100.4","time":60000,"flashver":"LNX 9,0,124,2","#,
        r#""swfurl":"http://example.org/player.swf","pageurl":"http://example.org/watch?v=1&t=2","#,
        r#""dropped":3,"avsync":-21,"timestamp":3721980,"publishing":false,"active":true,"relay":false}],"#,
        r#""nclients":2,"publishing":true,"active":true}],"nclients":2}},"#,
        r#"{"name":"vod","live":null}]}]}"#
    );

    #[test]
    fn matches_the_expected_document() {
        let doc = render_json(&merge(&[sample(4242)]), &info());
        assert_eq!(doc, EXPECTED);
        valid(&doc).unwrap();
    }

    #[test]
    fn empty_snapshot() {
        let doc = render_json(&Snapshot::default(), &XmlInfo::default());
        valid(&doc).unwrap();
        assert!(doc.contains(r#""workers":[],"#));
        assert!(doc.ends_with(r#""servers":[]}"#));
    }

    #[test]
    fn mask() {
        let s = merge(&[sample(1)]);
        let mut i = info();
        i.mask = STAT_GLOBAL | STAT_LIVE;
        let doc = render_json(&s, &i);
        valid(&doc).unwrap();
        assert!(!doc.contains("\"clients\"") && doc.contains("\"nclients\":2"));
        i.mask = STAT_GLOBAL;
        let doc = render_json(&s, &i);
        valid(&doc).unwrap();
        assert!(doc.contains(r#"{"name":"live","live":null}"#));
    }

    #[test]
    fn escaping() {
        let mut out = String::new();
        string_into(
            &mut out,
            "a\"b\\c\n\r\t\u{0}\u{1f}\u{7f}\u{2028}é🎥/</script>",
        );
        assert_eq!(
            out,
            r#""a\"b\\c\n\r\t\u0000\u001f\u007f\u2028é🎥/</script>""#
        );
        valid(&out).unwrap();

        let evil = "\"}]{\\\u{0}\u{8}\u{c}\n<&>";
        let mut w = sample(1);
        let app = &mut w.servers[0].apps[0];
        app.name = evil.into();
        app.streams[0].name = evil.into();
        app.streams[0].clients[0].flashver = evil.into();
        app.streams[0].meta.video.as_mut().unwrap().codec = evil.into();
        let mut i = info();
        i.nginx_version = evil.into();
        let doc = render_json(&merge(&[w]), &i);
        valid(&doc).unwrap();
        assert!(!doc.chars().any(|c| (c as u32) < 0x20));
        if let Some(path) = std::env::var_os("NGX_RTMP_STAT_JSON") {
            std::fs::write(path, &doc).unwrap();
        }
    }

    #[test]
    fn floats() {
        let mut w = sample(1);
        for (f, text) in [
            (f64::NAN, "0"),
            (f64::INFINITY, "0"),
            (f64::NEG_INFINITY, "0"),
            (30.0, "30"),
            (0.5, "0.5"),
            (1e300, ""),
            (1e-300, ""),
        ] {
            w.servers[0].apps[0].streams[0]
                .meta
                .video
                .as_mut()
                .unwrap()
                .frame_rate = f;
            let doc = render_json(&merge(&[w.clone()]), &info());
            valid(&doc).unwrap();
            if !text.is_empty() {
                assert!(doc.contains(&format!("\"frame_rate\":{text},")), "{f}");
            }
        }
    }

    #[test]
    fn no_meta_is_null() {
        let mut w = sample(1);
        w.servers[0].apps[0].streams[0].meta = Default::default();
        let doc = render_json(&merge(&[w]), &info());
        valid(&doc).unwrap();
        assert!(doc.contains(r#""meta":{"video":null,"audio":null}"#));
    }

    /// A strict JSON validity check (RFC 8259 grammar; one value, nothing after it).
    fn valid(s: &str) -> Result<(), String> {
        let b = s.as_bytes();
        let mut i = 0;
        value(b, &mut i, 0)?;
        ws(b, &mut i);
        if i != b.len() {
            return Err(format!("trailing data at {i}"));
        }
        Ok(())
    }

    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    }

    fn eat(b: &[u8], i: &mut usize, c: u8) -> Result<(), String> {
        ws(b, i);
        if b.get(*i) == Some(&c) {
            *i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {i}", c as char))
        }
    }

    fn value(b: &[u8], i: &mut usize, depth: usize) -> Result<(), String> {
        if depth > 64 {
            return Err("too deep".into());
        }
        ws(b, i);
        match b.get(*i) {
            Some(b'{') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return Ok(());
                }
                loop {
                    ws(b, i);
                    string(b, i)?;
                    eat(b, i, b':')?;
                    value(b, i, depth + 1)?;
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b'}') => {
                            *i += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("bad object at {i}")),
                    }
                }
            }
            Some(b'[') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return Ok(());
                }
                loop {
                    value(b, i, depth + 1)?;
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b']') => {
                            *i += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("bad array at {i}")),
                    }
                }
            }
            Some(b'"') => string(b, i),
            Some(b't') => lit(b, i, b"true"),
            Some(b'f') => lit(b, i, b"false"),
            Some(b'n') => lit(b, i, b"null"),
            Some(b'-' | b'0'..=b'9') => number(b, i),
            _ => Err(format!("bad value at {i}")),
        }
    }

    fn lit(b: &[u8], i: &mut usize, l: &[u8]) -> Result<(), String> {
        if b[*i..].starts_with(l) {
            *i += l.len();
            Ok(())
        } else {
            Err(format!("bad literal at {i}"))
        }
    }

    fn digits(b: &[u8], i: &mut usize) -> usize {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    }

    fn number(b: &[u8], i: &mut usize) -> Result<(), String> {
        if b[*i] == b'-' {
            *i += 1;
        }
        let start = *i;
        let n = digits(b, i);
        if n == 0 || (n > 1 && b[start] == b'0') {
            return Err(format!("bad integer part at {start}"));
        }
        if b.get(*i) == Some(&b'.') {
            *i += 1;
            if digits(b, i) == 0 {
                return Err(format!("bad fraction at {i}"));
            }
        }
        if matches!(b.get(*i), Some(b'e' | b'E')) {
            *i += 1;
            if matches!(b.get(*i), Some(b'+' | b'-')) {
                *i += 1;
            }
            if digits(b, i) == 0 {
                return Err(format!("bad exponent at {i}"));
            }
        }
        Ok(())
    }

    fn string(b: &[u8], i: &mut usize) -> Result<(), String> {
        if b.get(*i) != Some(&b'"') {
            return Err(format!("expected string at {i}"));
        }
        *i += 1;
        loop {
            match b.get(*i) {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    *i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    *i += 1;
                    match b.get(*i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 1,
                        Some(b'u') => {
                            let hex = b.get(*i + 1..*i + 5).ok_or("short \\u")?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(format!("bad \\u at {i}"));
                            }
                            *i += 5;
                        }
                        _ => return Err(format!("bad escape at {i}")),
                    }
                }
                Some(&c) if c < 0x20 => return Err(format!("raw control char at {i}")),
                Some(_) => *i += 1,
            }
        }
    }

    #[test]
    fn checker_rejects_bad_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "01",
            "1.",
            "\"\u{1}\"",
            "\"\\x\"",
            "nul",
            "{} x",
            "-",
        ] {
            assert!(valid(bad).is_err(), "{bad:?}");
        }
        for good in [
            "0",
            "-1.5e+3",
            "[]",
            "{\"a\":[null,true,false,\"\\u00e9\"]}",
        ] {
            valid(good).unwrap();
        }
    }
}
