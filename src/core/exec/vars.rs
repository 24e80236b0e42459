//! The variables of nginx-rtmp's exec commands. Each kind sees its own set
//! (ngx_rtmp_exec_module.c's eval tables): a push command the session's and the stream's,
//! a pull command only `$name` and `$app` (it belongs to no one session), the one-shot
//! notifications everything including the recording's `$path` family.

use crate::config::exec::ExecKind;

/// What the session said at `connect`, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionVars {
    pub app: String,
    pub flashver: String,
    pub swfurl: String,
    pub tcurl: String,
    pub pageurl: String,
    /// The client's address, as text (`127.0.0.1`, `::1`).
    pub addr: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecVars {
    pub session: SessionVars,
    /// The stream name, without the `?query`.
    pub name: String,
    /// The stream name's query (`key=...`), without the `?`.
    pub args: String,
    /// `exec_record_done`: the file that was closed, and its recorder ("" for the
    /// application's own).
    pub path: String,
    pub recorder: String,
}

impl ExecVars {
    /// The value of `$var` for a command of `kind`; None for a variable it does not have.
    pub fn lookup(&self, kind: ExecKind, var: &str) -> Option<String> {
        let s = &self.session;
        let session = || -> Option<&str> {
            Some(match var {
                "app" => &s.app,
                "flashver" => &s.flashver,
                "swfurl" => &s.swfurl,
                "tcurl" => &s.tcurl,
                "pageurl" => &s.pageurl,
                "addr" => &s.addr,
                _ => return None,
            })
        };
        let stream = || -> Option<&str> {
            Some(match var {
                "name" => &self.name,
                "args" => &self.args,
                _ => return None,
            })
        };
        match kind {
            ExecKind::Static => None,
            ExecKind::Pull => match var {
                "name" => Some(self.name.clone()),
                "app" => Some(s.app.clone()),
                _ => None,
            },
            ExecKind::Push => session().or_else(stream).map(str::to_string),
            ExecKind::Publish
            | ExecKind::PublishDone
            | ExecKind::Play
            | ExecKind::PlayDone
            | ExecKind::RecordDone => session()
                .or_else(stream)
                .map(str::to_string)
                .or_else(|| self.record(var)),
        }
    }

    /// `$path` and its pieces, split as nginx-rtmp does: `$dirname` without the last
    /// separator, `$basename` without the last extension.
    fn record(&self, var: &str) -> Option<String> {
        let path = self.path.as_str();
        let cut = path.rfind(['/', '\\']);
        let dirname = cut.map(|i| &path[..i]).unwrap_or("");
        let filename = cut.map(|i| &path[i + 1..]).unwrap_or(path);
        let basename = filename
            .rfind('.')
            .map(|i| &filename[..i])
            .unwrap_or(filename);
        Some(
            match var {
                "path" => path,
                "filename" => filename,
                "basename" => basename,
                "dirname" => dirname,
                "recorder" => &self.recorder,
                _ => return None,
            }
            .to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> ExecVars {
        ExecVars {
            session: SessionVars {
                app: "live".into(),
                flashver: "FMLE/3.0".into(),
                swfurl: "http://x/p.swf".into(),
                tcurl: "rtmp://h/live".into(),
                pageurl: "http://x/".into(),
                addr: "10.0.0.7".into(),
            },
            name: "cam".into(),
            args: "key=1".into(),
            path: "/var/rec/cam-1.flv".into(),
            recorder: "rec1".into(),
        }
    }

    #[test]
    fn each_kind_sees_its_own() {
        let v = vars();
        let get = |k, n: &str| v.lookup(k, n);
        use ExecKind::*;
        assert_eq!(get(Push, "name").as_deref(), Some("cam"));
        assert_eq!(get(Push, "args").as_deref(), Some("key=1"));
        assert_eq!(get(Push, "addr").as_deref(), Some("10.0.0.7"));
        assert_eq!(get(Push, "tcurl").as_deref(), Some("rtmp://h/live"));
        assert_eq!(get(Push, "path"), None);
        assert_eq!(get(Pull, "name").as_deref(), Some("cam"));
        assert_eq!(get(Pull, "app").as_deref(), Some("live"));
        assert_eq!(get(Pull, "addr"), None);
        assert_eq!(get(Pull, "args"), None);
        assert_eq!(get(Static, "name"), None);
        for k in [Publish, PublishDone, Play, PlayDone, RecordDone] {
            assert_eq!(get(k, "flashver").as_deref(), Some("FMLE/3.0"), "{k:?}");
            assert_eq!(get(k, "pageurl").as_deref(), Some("http://x/"));
            assert_eq!(get(k, "swfurl").as_deref(), Some("http://x/p.swf"));
            assert_eq!(get(k, "recorder").as_deref(), Some("rec1"));
            assert_eq!(get(k, "nope"), None);
        }
        assert_eq!(
            get(RecordDone, "path").as_deref(),
            Some("/var/rec/cam-1.flv")
        );
        assert_eq!(get(RecordDone, "dirname").as_deref(), Some("/var/rec"));
        assert_eq!(get(RecordDone, "filename").as_deref(), Some("cam-1.flv"));
        assert_eq!(get(RecordDone, "basename").as_deref(), Some("cam-1"));
    }

    #[test]
    fn path_pieces() {
        let split = |p: &str| {
            let v = ExecVars {
                path: p.into(),
                ..Default::default()
            };
            let g = |n| v.lookup(ExecKind::RecordDone, n).unwrap();
            (g("dirname"), g("filename"), g("basename"))
        };
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(split("a.flv"), s("", "a.flv", "a"));
        assert_eq!(split("/a.b.flv"), s("", "a.b.flv", "a.b"));
        assert_eq!(split("/d/x"), s("/d", "x", "x"));
        assert_eq!(split("/d.x/y"), s("/d.x", "y", "y"));
        assert_eq!(split("/d/.hidden"), s("/d", ".hidden", ""));
        assert_eq!(split("c:\\r\\f.flv"), s("c:\\r", "f.flv", "f"));
        assert_eq!(split(""), s("", "", ""));
    }
}
