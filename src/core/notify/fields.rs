//! What each hook tells the HTTP server: the fields nginx-rtmp-module sends, call by call.
//! Every call starts with the session's fields (`app`, `flashver`, `swfurl`, `tcurl`,
//! `pageurl`, `addr`, `clientid`), then `call=` and the call's own, then the client's query
//! string.

use super::form::Form;

/// What the session said in `connect`, and who it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFields {
    pub app: String,
    pub flashver: String,
    pub swfurl: String,
    pub tcurl: String,
    pub pageurl: String,
    /// The client's address, without port.
    pub addr: String,
    /// nginx's connection number (`clientid` in /stat and /control).
    pub clientid: u64,
}

/// The end of a publish or play: which `on_*done` hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneKind {
    PublishDone,
    PlayDone,
    Done,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `epoch`: the session's start as a 32-bit millisecond clock; `args`: connect's query.
    Connect { epoch: u32, args: String },
    /// `args`: connect's query string.
    Disconnect { args: String },
    Publish {
        name: String,
        kind: String,
        args: String,
    },
    Play {
        name: String,
        start: f64,
        duration: f64,
        reset: bool,
        args: String,
    },
    Done {
        kind: DoneKind,
        name: String,
        args: String,
    },
    RecordDone {
        recorder: String,
        name: String,
        path: String,
        args: String,
    },
    /// `time`: seconds since the publish or play began; `timestamp`: the session's media
    /// clock in milliseconds.
    Update {
        publishing: bool,
        time: u64,
        timestamp: u32,
        name: String,
        args: String,
    },
}

/// An RTMP double as nginx-rtmp prints it (`%uD` of a cast to uint32): -2 (live) is
/// 4294967294. Kept so that servers written for the C module read the same numbers.
fn c_uint32(v: f64) -> String {
    ((v as i64) as u32).to_string()
}

impl Call {
    /// The value of `call=`.
    pub fn call_name(&self) -> &'static str {
        match self {
            Call::Connect { .. } => "connect",
            Call::Disconnect { .. } => "disconnect",
            Call::Publish { .. } => "publish",
            Call::Play { .. } => "play",
            Call::Done { kind, .. } => match kind {
                DoneKind::PublishDone => "publish_done",
                DoneKind::PlayDone => "play_done",
                DoneKind::Done => "done",
            },
            Call::RecordDone { .. } => "record_done",
            Call::Update {
                publishing: true, ..
            } => "update_publish",
            Call::Update { .. } => "update_play",
        }
    }

    /// The directive that names this call's URL.
    pub fn directive(&self) -> &'static str {
        match self {
            Call::Connect { .. } => "on_connect",
            Call::Disconnect { .. } => "on_disconnect",
            Call::Publish { .. } => "on_publish",
            Call::Play { .. } => "on_play",
            Call::Done { kind, .. } => match kind {
                DoneKind::PublishDone => "on_publish_done",
                DoneKind::PlayDone => "on_play_done",
                DoneKind::Done => "on_done",
            },
            Call::RecordDone { .. } => "on_record_done",
            Call::Update { .. } => "on_update",
        }
    }

    pub fn form(&self, s: &SessionFields) -> Form {
        let mut f = Form::default();
        f.add("app", &s.app);
        f.add("flashver", &s.flashver);
        f.add("swfurl", &s.swfurl);
        f.add("tcurl", &s.tcurl);
        f.add("pageurl", &s.pageurl);
        f.add("addr", &s.addr);
        f.add("clientid", s.clientid.to_string());
        f.add("call", self.call_name());
        let args = match self {
            Call::Connect { epoch, args } => {
                f.add("epoch", epoch.to_string());
                args
            }
            Call::Disconnect { args } => args,
            Call::Publish { name, kind, args } => {
                f.add("name", name);
                f.add("type", kind);
                args
            }
            Call::Play {
                name,
                start,
                duration,
                reset,
                args,
            } => {
                f.add("name", name);
                f.add("start", c_uint32(*start));
                f.add("duration", c_uint32(*duration));
                f.add("reset", if *reset { "1" } else { "0" });
                args
            }
            Call::Done { name, args, .. } => {
                if !name.is_empty() {
                    f.add("name", name);
                }
                args
            }
            Call::RecordDone {
                recorder,
                name,
                path,
                args,
            } => {
                f.add("recorder", recorder);
                f.add("name", name);
                f.add("path", path);
                args
            }
            Call::Update {
                time,
                timestamp,
                name,
                args,
                ..
            } => {
                f.add("time", time.to_string());
                f.add("timestamp", timestamp.to_string());
                if !name.is_empty() {
                    f.add("name", name);
                }
                args
            }
        };
        f.client_args = args.clone();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionFields {
        SessionFields {
            app: "live".into(),
            flashver: "FMLE/3.0 (compatible; FMSc/1.0)".into(),
            swfurl: String::new(),
            tcurl: "rtmp://127.0.0.1:1935/live".into(),
            pageurl: String::new(),
            addr: "127.0.0.1".into(),
            clientid: 7,
        }
    }

    const SESSION: &str = "app=live&flashver=FMLE%2F3.0%20%28compatible%3B%20FMSc%2F1.0%29\
        &swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1%3A1935%2Flive&pageurl=&addr=127.0.0.1&clientid=7";

    #[test]
    fn publish_sends_name_type_and_the_key() {
        let c = Call::Publish {
            name: "cam".into(),
            kind: "live".into(),
            args: "key=secret".into(),
        };
        assert_eq!(
            c.form(&session()).encode(),
            format!("{SESSION}&call=publish&name=cam&type=live&key=secret")
        );
        assert_eq!(c.directive(), "on_publish");
    }

    #[test]
    fn play_numbers_read_as_the_c_module_prints_them() {
        let c = Call::Play {
            name: "cam".into(),
            start: -2.0,
            duration: -1.0,
            reset: false,
            args: String::new(),
        };
        assert!(c
            .form(&session())
            .encode()
            .ends_with("&call=play&name=cam&start=4294967294&duration=4294967295&reset=0"));
    }

    #[test]
    fn every_call_names_itself() {
        let done = |kind| Call::Done {
            kind,
            name: "n".into(),
            args: String::new(),
        };
        let cases = [
            (
                Call::Connect {
                    epoch: 5,
                    args: "a=1".into(),
                },
                "&call=connect&epoch=5&a=1",
            ),
            (
                Call::Disconnect {
                    args: String::new(),
                },
                "&call=disconnect",
            ),
            (done(DoneKind::PublishDone), "&call=publish_done&name=n"),
            (done(DoneKind::PlayDone), "&call=play_done&name=n"),
            (done(DoneKind::Done), "&call=done&name=n"),
            (
                Call::RecordDone {
                    recorder: "r1".into(),
                    name: "n".into(),
                    path: "/tmp/r/n.flv".into(),
                    args: String::new(),
                },
                "&call=record_done&recorder=r1&name=n&path=%2Ftmp%2Fr%2Fn.flv",
            ),
            (
                Call::Update {
                    publishing: true,
                    time: 30,
                    timestamp: 29_960,
                    name: "n".into(),
                    args: "k=v".into(),
                },
                "&call=update_publish&time=30&timestamp=29960&name=n&k=v",
            ),
            (
                Call::Update {
                    publishing: false,
                    time: 1,
                    timestamp: 0,
                    name: String::new(),
                    args: String::new(),
                },
                "&call=update_play&time=1&timestamp=0",
            ),
        ];
        for (call, tail) in cases {
            let text = call.form(&session()).encode();
            assert_eq!(text, format!("{SESSION}{tail}"), "{call:?}");
            assert!(call.directive().starts_with("on_"));
        }
    }
}
