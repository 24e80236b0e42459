//! What a push relay says to its server: the application, tcUrl, flashVer and the name it
//! publishes, from the `push` target and the local stream, with nginx-rtmp's defaults.
use crate::config::relay::{RelayTarget, Scheme};

/// Sent as `flashVer` unless the target gives `flashVer=`. "FMLE/3.0 (compatible; …)" is how
/// encoders introduce themselves to ingest servers; some services only accept encoders.
pub const FLASH_VER: &str = "FMLE/3.0 (compatible; ngx-rtmp)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushParams {
    pub app: String,
    pub tc_url: String,
    pub flash_ver: String,
    /// Empty: not sent.
    pub swf_url: String,
    /// Empty: not sent.
    pub page_url: String,
    /// The name in `publish`.
    pub stream: String,
}

impl PushParams {
    /// As nginx-rtmp: `app=` or else the URL's first path segment or else the local
    /// application's name; `playPath=` or else the rest of the URL's path or else the local
    /// stream name; `tcUrl=` or else `rtmp://` + the URL's host[:port] as written + `/` + app.
    pub fn new(target: &RelayTarget, local_app: &str, local_name: &str) -> PushParams {
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
        PushParams {
            app,
            tc_url,
            flash_ver: given(&target.flash_ver).unwrap_or_else(|| FLASH_VER.to_string()),
            swf_url: target.swf_url.clone().unwrap_or_default(),
            page_url: target.page_url.clone().unwrap_or_default(),
            stream,
        }
    }
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
}
