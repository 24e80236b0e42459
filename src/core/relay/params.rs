//! What a relay says to its server: the application, tcUrl, flashVer and the name it
//! publishes or plays, from the `push`/`pull` target and the local stream, with
//! nginx-rtmp's defaults; and the range a pull asks for.
use crate::config::relay::{RelayTarget, Scheme};

/// Sent as `flashVer` unless the target gives `flashVer=`. "FMLE/3.0 (compatible; …)" is how
/// encoders introduce themselves to ingest servers; some services only accept encoders.
pub const FLASH_VER: &str = "FMLE/3.0 (compatible; ngx-rtmp)";
/// A pull's `flashVer` unless the target gives one: a player's (the C module sends
/// "LNX.11,1,102,55"), saying what it is.
pub const PULL_FLASH_VER: &str = "LNX 11,1,102,55 (compatible; ngx-rtmp)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayParams {
    pub app: String,
    pub tc_url: String,
    pub flash_ver: String,
    /// Empty: not sent.
    pub swf_url: String,
    /// Empty: not sent.
    pub page_url: String,
    /// The name in `publish` or `play`.
    pub stream: String,
}

/// The parameters of a push (the name it had before pulls shared it).
pub type PushParams = RelayParams;

impl RelayParams {
    /// A push's: see [`RelayParams::with_flash_ver`].
    pub fn new(target: &RelayTarget, local_app: &str, local_name: &str) -> RelayParams {
        RelayParams::with_flash_ver(target, local_app, local_name, FLASH_VER)
    }

    /// A pull's: see [`RelayParams::with_flash_ver`].
    pub fn for_pull(target: &RelayTarget, local_app: &str, local_name: &str) -> RelayParams {
        RelayParams::with_flash_ver(target, local_app, local_name, PULL_FLASH_VER)
    }

    /// As nginx-rtmp: `app=` or else the URL's first path segment or else the local
    /// application's name; `playPath=` or else the rest of the URL's path or else the local
    /// stream name; `tcUrl=` or else `rtmp://` + the URL's host[:port] as written + `/` + app;
    /// `flashVer=` or else `flash_ver`.
    pub fn with_flash_ver(
        target: &RelayTarget,
        local_app: &str,
        local_name: &str,
        flash_ver: &str,
    ) -> RelayParams {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        // The URL's own path again: an empty `app=` or `playPath=` replaced it in the target,
        // and nginx-rtmp then falls back to the URL.
        let (authority, path) = target.url.split_once('/').unwrap_or((&target.url, ""));
        let (url_app, url_path) = path.split_once('/').unwrap_or((path, ""));
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let app = given(&target.app)
            .or_else(|| nonempty(url_app))
            .unwrap_or_else(|| local_app.to_string());
        let stream = given(&target.play_path)
            .or_else(|| nonempty(url_path))
            .unwrap_or_else(|| local_name.to_string());
        let tc_url = given(&target.tc_url).unwrap_or_else(|| {
            let scheme = match target.scheme {
                Scheme::Rtmp => "rtmp",
                Scheme::Rtmps => "rtmps",
            };
            format!("{scheme}://{authority}/{app}")
        });
        RelayParams {
            app,
            tc_url,
            flash_ver: given(&target.flash_ver).unwrap_or_else(|| flash_ver.to_string()),
            swf_url: target.swf_url.clone().unwrap_or_default(),
            page_url: target.page_url.clone().unwrap_or_default(),
            stream,
        }
    }
}

/// `play`'s start and duration for a pull. Without options: -2 and -1 (live or recorded,
/// to the end). `live=1`: -1 (live only). `start=`/`stop=` are passed on as the C module
/// does (nginx-rtmp reads them as milliseconds): start, and stop minus start.
pub fn play_range(target: &RelayTarget) -> (f64, f64) {
    if target.live == Some(true) {
        return (-1.0, -1.0);
    }
    let start = target.start.filter(|&s| s != 0);
    let stop = target.stop.filter(|&s| s != 0);
    let from = start.map_or(-2.0, |s| s as f64);
    let duration = stop.map_or(-1.0, |s| (s - start.unwrap_or(0)) as f64);
    (from, duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::relay::parse_push;

    fn params(args: &[&str]) -> PushParams {
        PushParams::new(&parse_push("push", args).unwrap(), "live", "cam")
    }

    #[test]
    fn defaults_as_nginx_rtmp() {
        let p = params(&["rtmp://127.0.0.1:1936/app"]);
        assert_eq!(p.app, "app");
        assert_eq!(p.stream, "cam");
        assert_eq!(p.tc_url, "rtmp://127.0.0.1:1936/app");
        assert_eq!(p.flash_ver, FLASH_VER);
        assert_eq!((p.swf_url.as_str(), p.page_url.as_str()), ("", ""));
        let p = params(&["rtmp://a.rtmp.youtube.com/live2/KEY?x=1"]);
        assert_eq!(
            (p.app.as_str(), p.stream.as_str(), p.tc_url.as_str()),
            ("live2", "KEY?x=1", "rtmp://a.rtmp.youtube.com/live2")
        );
        // No path at all: the local application's name.
        let p = params(&["rtmp://[::1]:1940"]);
        assert_eq!(
            (p.app.as_str(), p.tc_url.as_str()),
            ("live", "rtmp://[::1]:1940/live")
        );
        let p = params(&["rtmps://live-api-s.facebook.com:443/rtmp/"]);
        assert_eq!(p.tc_url, "rtmps://live-api-s.facebook.com:443/rtmp");
    }

    #[test]
    fn options_override() {
        let p = params(&[
            "rtmp://h/app/path",
            "app=other",
            "playPath=key",
            "tcUrl=rtmp://x/y",
            "flashVer=FMLE/3.0",
            "swfUrl=http://s",
            "pageUrl=http://p",
            "name=cam",
        ]);
        assert_eq!(
            p,
            PushParams {
                app: "other".into(),
                tc_url: "rtmp://x/y".into(),
                flash_ver: "FMLE/3.0".into(),
                swf_url: "http://s".into(),
                page_url: "http://p".into(),
                stream: "key".into(),
            }
        );
        // `app=` with nothing falls back as if absent.
        assert_eq!(params(&["rtmp://h/a/b", "app="]).app, "a");
    }

    #[test]
    fn pulls_introduce_themselves_as_players() {
        let t = parse_push("pull", &["rtmp://h:1940/origin"]).unwrap();
        let p = RelayParams::for_pull(&t, "edge", "cam");
        assert_eq!(
            (p.app.as_str(), p.stream.as_str(), p.tc_url.as_str()),
            ("origin", "cam", "rtmp://h:1940/origin")
        );
        assert_eq!(p.flash_ver, PULL_FLASH_VER);
        let t = parse_push("pull", &["rtmp://h/a", "flashVer=WIN 9,0,0,0"]).unwrap();
        assert_eq!(RelayParams::for_pull(&t, "e", "c").flash_ver, "WIN 9,0,0,0");
    }

    #[test]
    fn play_ranges() {
        let range = |args: &[&str]| {
            let mut all = vec!["rtmp://h/a"];
            all.extend_from_slice(args);
            play_range(&parse_push("pull", &all).unwrap())
        };
        assert_eq!(range(&[]), (-2.0, -1.0));
        assert_eq!(range(&["live=1"]), (-1.0, -1.0));
        assert_eq!(range(&["live=0"]), (-2.0, -1.0));
        assert_eq!(range(&["start=1000"]), (1000.0, -1.0));
        assert_eq!(range(&["start=1000", "stop=5000"]), (1000.0, 4000.0));
        assert_eq!(range(&["stop=5000"]), (-2.0, 5000.0));
        assert_eq!(range(&["live", "start=1000"]), (-1.0, -1.0));
    }
}
