//! `push URL [key=value ...]` and `pull URL [key=value ...]`, as nginx-rtmp's relay module
//! reads them, plus `rtmps://` (default port 443).
//!
//! As in nginx-rtmp, `name=` is a filter (relay only the stream of that name), not a
//! default: the relayed stream keeps its local name unless `playPath=` or the URL gives one.
//! `app` and `play_path` default from the URL's path (nginx-rtmp does this at connect time).

use super::error::ConfError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Rtmp,
    Rtmps,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayTarget {
    pub scheme: Scheme,
    /// Without brackets for IPv6 literals.
    pub host: String,
    pub port: u16,
    /// The URL as nginx-rtmp logs it: without the scheme.
    pub url: String,
    pub app: Option<String>,
    pub play_path: Option<String>,
    /// Only relay the stream with this name.
    pub name: Option<String>,
    pub tc_url: Option<String>,
    pub page_url: Option<String>,
    pub swf_url: Option<String>,
    pub flash_ver: Option<String>,
    pub live: Option<bool>,
    /// `start=`/`stop=` as given (milliseconds, passed on in `play`).
    pub start: Option<i64>,
    pub stop: Option<i64>,
    /// `static`: a pull that runs from startup, not on demand.
    pub is_static: bool,
}

impl RelayTarget {
    /// A target with no options: the URL's own app and stream name, our connect fields.
    pub fn new(scheme: Scheme, host: &str, port: u16, url: &str) -> RelayTarget {
        RelayTarget {
            scheme,
            host: host.to_string(),
            port,
            url: url.to_string(),
            app: None,
            play_path: None,
            name: None,
            tc_url: None,
            page_url: None,
            swf_url: None,
            flash_ver: None,
            live: None,
            start: None,
            stop: None,
            is_static: false,
        }
    }
}

/// Parses the arguments of `push` or `pull` (`directive` is which; it decides whether
/// `static` is allowed).
pub fn parse_push(directive: &str, args: &[&str]) -> Result<RelayTarget, ConfError> {
    let Some((&url_arg, options)) = args.split_first() else {
        return Err(ConfError::new(format!(
            "invalid number of arguments in \"{directive}\" directive"
        )));
    };
    let mut t = parse_url(url_arg)?;
    for &opt in options {
        // A bare word is `word=1`, which is how nginx-rtmp reads `static` (and `live`).
        let (key, value) = opt.split_once('=').unwrap_or((opt, "1"));
        let text = || Some(value.to_string());
        match key.to_ascii_lowercase().as_str() {
            "app" => t.app = text(),
            "name" => t.name = text(),
            "tcurl" => t.tc_url = text(),
            "pageurl" => t.page_url = text(),
            "swfurl" => t.swf_url = text(),
            "flashver" => t.flash_ver = text(),
            "playpath" => t.play_path = text(),
            "live" => t.live = Some(number(directive, value)? != 0),
            "start" => t.start = Some(number(directive, value)?),
            "stop" => t.stop = Some(number(directive, value)?),
            // nginx-rtmp treats `static=0` as unknown; any other value turns it on.
            "static" if value != "0" => t.is_static = true,
            // The typo is nginx-rtmp's own message, kept so logs read the same.
            _ => return Err(ConfError::directive(directive, "unsuppored parameter")),
        }
    }
    if t.is_static {
        if directive != "pull" {
            return Err(ConfError::new("static push is not allowed"));
        }
        if t.name.as_deref().is_none_or(str::is_empty) {
            return Err(ConfError::new(
                "stream name missing in static pull declaration",
            ));
        }
    }
    Ok(t)
}

/// nginx-rtmp silently stores -1 for a bad number; rejecting it is kinder.
fn number(directive: &str, v: &str) -> Result<i64, ConfError> {
    if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = v.parse::<i64>() {
            return Ok(n);
        }
    }
    Err(ConfError::new(format!(
        "invalid value \"{v}\" in \"{directive}\" directive"
    )))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// `[rtmp://|rtmps://]host[:port][/app[/playpath]]`; no scheme means `rtmp`, as in
/// nginx-rtmp. Error text follows `ngx_parse_url`'s ("no host", "invalid port", ...).
fn parse_url(arg: &str) -> Result<RelayTarget, ConfError> {
    let (scheme, url, default_port) = if let Some(rest) = strip_prefix_ci(arg, "rtmp://") {
        (Scheme::Rtmp, rest, 1935)
    } else if let Some(rest) = strip_prefix_ci(arg, "rtmps://") {
        (Scheme::Rtmps, rest, 443)
    } else {
        (Scheme::Rtmp, arg, 1935)
    };
    let err = |what: &str| ConfError::new(format!("{what} in url \"{url}\""));
    let (authority, path) = match url.find('/') {
        Some(i) => (url.get(..i).unwrap_or(""), url.get(i + 1..).unwrap_or("")),
        None => (url, ""),
    };
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(|| err("invalid host"))?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(err("invalid IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| err("invalid host"))?),
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return Err(err("invalid host")),
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(err("no host"));
    }
    if host
        .bytes()
        .any(|c| c <= b' ' || c == b'@' || c == b'?' || c == b'#')
    {
        return Err(err("invalid host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&n| n != 0 && p.bytes().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| err("invalid port"))?,
    };
    let (app, play_path) = match path.split_once('/') {
        Some((a, rest)) => (a, rest),
        None => (path, ""),
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(RelayTarget {
        app: some(app),
        play_path: some(play_path),
        ..RelayTarget::new(scheme, host, port, url)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> RelayTarget {
        match parse_push("push", &[url]) {
            Ok(t) => t,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn urls() {
        type Case = (
            &'static str,
            Scheme,
            &'static str,
            u16,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            (
                "rtmp://example.com",
                Scheme::Rtmp,
                "example.com",
                1935,
                None,
                None,
            ),
            (
                "rtmp://example.com/live",
                Scheme::Rtmp,
                "example.com",
                1935,
                Some("live"),
                None,
            ),
            (
                "RTMP://h:1936/live/key",
                Scheme::Rtmp,
                "h",
                1936,
                Some("live"),
                Some("key"),
            ),
            (
                "rtmp://h/app/a/b?x=1",
                Scheme::Rtmp,
                "h",
                1935,
                Some("app"),
                Some("a/b?x=1"),
            ),
            (
                "rtmps://live-api-s.facebook.com/rtmp/",
                Scheme::Rtmps,
                "live-api-s.facebook.com",
                443,
                Some("rtmp"),
                None,
            ),
            (
                "rtmps://h:8443/x",
                Scheme::Rtmps,
                "h",
                8443,
                Some("x"),
                None,
            ),
            (
                "rtmp://[::1]:1940/live",
                Scheme::Rtmp,
                "::1",
                1940,
                Some("live"),
                None,
            ),
            (
                "rtmp://[2001:db8::2]/live",
                Scheme::Rtmp,
                "2001:db8::2",
                1935,
                Some("live"),
                None,
            ),
            (
                "localhost:1935/live",
                Scheme::Rtmp,
                "localhost",
                1935,
                Some("live"),
                None,
            ),
            (
                "rtmp://h//stream",
                Scheme::Rtmp,
                "h",
                1935,
                None,
                Some("stream"),
            ),
        ];
        for &(url, scheme, host, port, app, path) in cases {
            let t = target(url);
            assert_eq!(
                (
                    t.scheme,
                    t.host.as_str(),
                    t.port,
                    t.app.as_deref(),
                    t.play_path.as_deref()
                ),
                (scheme, host, port, app, path),
                "{url}"
            );
        }
        assert_eq!(target("rtmp://h:1/a").url, "h:1/a");
    }

    #[test]
    fn options() {
        let t = parse_push(
            "pull",
            &[
                "rtmp://h/app/path",
                "app=other",
                "NAME=cam1",
                "tcUrl=rtmp://x/y",
                "pageUrl=http://p",
                "swfUrl=http://s",
                "flashVer=FMLE/3.0",
                "playPath=p2",
                "live=1",
                "start=1000",
                "stop=0",
                "static",
            ],
        );
        let want = RelayTarget {
            scheme: Scheme::Rtmp,
            host: "h".into(),
            port: 1935,
            url: "h/app/path".into(),
            app: Some("other".into()),
            play_path: Some("p2".into()),
            name: Some("cam1".into()),
            tc_url: Some("rtmp://x/y".into()),
            page_url: Some("http://p".into()),
            swf_url: Some("http://s".into()),
            flash_ver: Some("FMLE/3.0".into()),
            live: Some(true),
            start: Some(1000),
            stop: Some(0),
            is_static: true,
        };
        assert_eq!(t, Ok(want));
        let t = parse_push("push", &["rtmp://h/a", "live=0", "app="]);
        assert_eq!(
            t.map(|t| (t.live, t.app)),
            Ok((Some(false), Some(String::new())))
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("push", &["rtmp://"], "no host in url \"\""),
            ("push", &["rtmp:///live"], "no host in url \"/live\""),
            ("push", &["rtmp://h:0/a"], "invalid port in url \"h:0/a\""),
            (
                "push",
                &["rtmp://h:70000"],
                "invalid port in url \"h:70000\"",
            ),
            ("push", &["rtmp://h:/a"], "invalid port in url \"h:/a\""),
            ("push", &["rtmp://h:+5/a"], "invalid port in url \"h:+5/a\""),
            ("push", &["rtmp://[::1"], "invalid host in url \"[::1\""),
            (
                "push",
                &["rtmp://[zz]:1/a"],
                "invalid IPv6 address in url \"[zz]:1/a\"",
            ),
            (
                "push",
                &["rtmp://[::1]x/a"],
                "invalid host in url \"[::1]x/a\"",
            ),
            ("push", &["rtmp://a b/c"], "invalid host in url \"a b/c\""),
            (
                "push",
                &["rtmp://::1:5/c"],
                "invalid host in url \"::1:5/c\"",
            ),
            (
                "push",
                &["rtmp://h/a", "bogus=1"],
                "\"push\" directive unsuppored parameter",
            ),
            (
                "push",
                &["rtmp://h/a", "static=0"],
                "\"push\" directive unsuppored parameter",
            ),
            (
                "push",
                &["rtmp://h/a", "static", "name=x"],
                "static push is not allowed",
            ),
            (
                "pull",
                &["rtmp://h/a", "static"],
                "stream name missing in static pull declaration",
            ),
            (
                "pull",
                &["rtmp://h/a", "live=yes"],
                "invalid value \"yes\" in \"pull\" directive",
            ),
            (
                "pull",
                &["rtmp://h/a", "start=-1"],
                "invalid value \"-1\" in \"pull\" directive",
            ),
            (
                "push",
                &[],
                "invalid number of arguments in \"push\" directive",
            ),
        ];
        for (d, args, want) in cases {
            let got = parse_push(d, args).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{d} {args:?}");
        }
    }
}
