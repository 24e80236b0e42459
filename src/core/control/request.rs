//! `…/<section>/<method>?args`: parsed from the right as the C module does, so the API works
//! under any location prefix. Unknown words and arguments are refused with a reason.
use crate::config::relay::parse_push;

/// `rtmp_control` sections, as bits of the directive's mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Record = 1,
    Drop = 2,
    Redirect = 4,
    /// Ours: push targets added to and removed from live streams.
    Push = 8,
}

/// Which sessions of a stream a drop or redirect acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Publisher,
    Subscriber,
    Client,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    RecordStart,
    RecordStop,
    Drop(Target),
    Redirect(Target, String),
    /// `push/start?url=`: push the selected streams to `url` (a `push` directive's URL).
    PushStart(String),
    /// `push/stop?url=`: stop pushing the selected streams to `url`.
    PushStop(String),
}

/// The session filter every method shares; None matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub srv: usize,
    pub app: Option<String>,
    pub name: Option<String>,
    pub addr: Option<String>,
    pub clientid: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRequest {
    pub section: Section,
    pub method: Method,
    pub filter: Filter,
    /// `rec`: the recorder (`""` is the application's own `record` settings).
    pub recorder: String,
}

/// Parses the request path and query. Errors are (HTTP status, one-line reason).
pub fn parse_request(path: &str, query: &str) -> Result<ControlRequest, (u16, String)> {
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let method = parts.next().unwrap_or("");
    let section = parts.next().unwrap_or("");
    let mut filter = Filter::default();
    let mut recorder = String::new();
    let mut newname = None;
    let mut url = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v =
            unescape(v).ok_or_else(|| bad(format!("bad escape in argument \"{}\"", shown(k))))?;
        match k {
            "srv" => {
                filter.srv = v
                    .parse()
                    .map_err(|_| bad(format!("invalid srv \"{}\"", shown(&v))))?
            }
            "app" => filter.app = Some(v),
            "name" => filter.name = Some(v),
            "addr" => filter.addr = Some(v),
            "clientid" => {
                filter.clientid = Some(
                    v.parse()
                        .map_err(|_| bad(format!("invalid clientid \"{}\"", shown(&v))))?,
                )
            }
            "rec" => recorder = v,
            "newname" => newname = Some(v),
            "url" => url = Some(v),
            _ => return Err(bad(format!("unknown argument \"{}\"", shown(k)))),
        }
    }
    let (section, method) = match (section, method) {
        ("record", "start") => (Section::Record, Method::RecordStart),
        ("record", "stop") => (Section::Record, Method::RecordStop),
        ("drop", m) => (Section::Drop, Method::Drop(target(m)?)),
        ("redirect", m) => {
            let t = target(m)?;
            let n = newname
                .take()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("redirect needs \"newname\"".into()))?;
            (Section::Redirect, Method::Redirect(t, n))
        }
        ("push", m @ ("start" | "stop")) => {
            let u = url
                .take()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| bad("push needs \"url\"".into()))?;
            // The parser's reasons quote the URL: keep them one bounded line.
            if u.len() > MAX_URL || u.chars().any(char::is_control) {
                return Err(bad(format!("invalid url \"{}\"", shown(&u))));
            }
            parse_push("push", &[&u]).map_err(|e| bad(e.to_string()))?;
            let method = if m == "start" {
                Method::PushStart(u)
            } else {
                Method::PushStop(u)
            };
            (Section::Push, method)
        }
        ("record", m) => return Err(not_found(format!("unknown record method \"{}\"", shown(m)))),
        ("push", m) => return Err(not_found(format!("unknown push method \"{}\"", shown(m)))),
        (s, _) => return Err(not_found(format!("unknown section \"{}\"", shown(s)))),
    };
    if newname.is_some() {
        return Err(bad("\"newname\" is for redirect only".into()));
    }
    if url.is_some() {
        return Err(bad("\"url\" is for push only".into()));
    }
    Ok(ControlRequest {
        section,
        method,
        filter,
        recorder,
    })
}

fn target(m: &str) -> Result<Target, (u16, String)> {
    match m {
        "publisher" => Ok(Target::Publisher),
        "subscriber" => Ok(Target::Subscriber),
        "client" => Ok(Target::Client),
        _ => Err(not_found(format!("unknown method \"{}\"", shown(m)))),
    }
}

/// The longest `url` accepted (requests travel between workers in 1 KB mailbox slots).
const MAX_URL: usize = 512;

/// Client text inside a one-line reason: control characters escaped, at most 64 characters.
fn shown(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(64) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn bad(reason: String) -> (u16, String) {
    (400, reason)
}

fn not_found(reason: String) -> (u16, String) {
    (404, reason)
}

/// %XX and '+' decoding of a query value; None on a broken escape or non-UTF-8 result.
fn unescape(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl ControlRequest {
    /// The request in the one form workers exchange it in (the shared-memory mailbox).
    pub fn to_wire(&self) -> String {
        let (path, extra) = match &self.method {
            Method::RecordStart => ("record/start".to_string(), None),
            Method::RecordStop => ("record/stop".to_string(), None),
            Method::Drop(t) => (format!("drop/{}", t.word()), None),
            Method::Redirect(t, n) => (format!("redirect/{}", t.word()), Some(("newname", n))),
            Method::PushStart(u) => ("push/start".to_string(), Some(("url", u))),
            Method::PushStop(u) => ("push/stop".to_string(), Some(("url", u))),
        };
        let mut q = vec![format!("srv={}", self.filter.srv)];
        let mut add = |k: &str, v: &str| q.push(format!("{k}={}", escape(v)));
        if let Some(v) = &self.filter.app {
            add("app", v);
        }
        if let Some(v) = &self.filter.name {
            add("name", v);
        }
        if let Some(v) = &self.filter.addr {
            add("addr", v);
        }
        if let Some(v) = self.filter.clientid {
            add("clientid", &v.to_string());
        }
        if !self.recorder.is_empty() {
            add("rec", &self.recorder);
        }
        if let Some((k, v)) = extra {
            add(k, v);
        }
        format!("{path}?{}", q.join("&"))
    }

    pub fn from_wire(s: &str) -> Option<ControlRequest> {
        let (path, query) = s.split_once('?').unwrap_or((s, ""));
        parse_request(path, query).ok()
    }
}

impl Target {
    fn word(self) -> &'static str {
        match self {
            Target::Publisher => "publisher",
            Target::Subscriber => "subscriber",
            Target::Client => "client",
        }
    }
}

fn escape(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Filter {
    /// Whether a session with these facts is selected. `addr` is the client's IP as text,
    /// `clientid` its nginx connection number.
    pub fn matches(&self, srv: usize, app: &str, name: &str, addr: &str, clientid: u64) -> bool {
        srv == self.srv
            && self.app.as_deref().is_none_or(|a| a == app)
            && self.name.as_deref().is_none_or(|n| n == name)
            && self.addr.as_deref().is_none_or(|a| a == addr)
            && self.clientid.is_none_or(|c| c == clientid)
    }
}
