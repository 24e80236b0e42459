//! What a hook's answer means for the session, as nginx-rtmp-module decides it: a 2xx
//! allows; a 3xx with a `Location` renames (the application for `on_connect`, the stream for
//! `on_publish`/`on_play`) or, with an `rtmp://` Location, relays; anything else refuses.

use super::response::Response;

/// The hooks whose answer decides something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Connect,
    Publish,
    Play,
    /// `on_update`; `strict` is `notify_update_strict`.
    Update {
        strict: bool,
    },
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Answered(Response),
    /// No usable answer: the connection failed, timed out, or the answer was broken.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Continue under this name (application or stream).
    Rename(String),
    /// `rtmp://...`: publish there (push) or play from there (pull).
    Relay(String),
    /// Why, for the error log (`403`, `connection refused`, ...).
    Refuse(String),
}

fn is_rtmp_url(s: &str) -> bool {
    s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("rtmp://"))
}

pub fn decide(gate: Gate, outcome: &Outcome) -> Verdict {
    let r = match outcome {
        Outcome::Answered(r) => r,
        // notify_update_strict off: only an HTTP answer can end a session; a server that
        // cannot be reached does not (the C module's documentation).
        Outcome::Failed(_) if gate == (Gate::Update { strict: false }) => return Verdict::Allow,
        Outcome::Failed(e) => return Verdict::Refuse(e.clone()),
    };
    match (r.status, gate) {
        (200..=299, _) => Verdict::Allow,
        (300..=399, Gate::Update { strict: true }) => Verdict::Refuse(r.status.to_string()),
        (300..=399, Gate::Update { strict: false }) => Verdict::Allow,
        (300..=399, _) => match &r.location {
            None => Verdict::Allow,
            Some(l) if gate != Gate::Connect && is_rtmp_url(l) => Verdict::Relay(l.clone()),
            // A new name, without any query string it came with.
            Some(l) => Verdict::Rename(l.split('?').next().unwrap_or_default().to_string()),
        },
        (status, _) => Verdict::Refuse(status.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, location: Option<&str>) -> Outcome {
        Outcome::Answered(Response {
            status,
            location: location.map(str::to_string),
        })
    }

    #[test]
    fn gates() {
        use Verdict::*;
        let strict = Gate::Update { strict: true };
        let lax = Gate::Update { strict: false };
        let failed = Outcome::Failed("connection refused".into());
        let cases = [
            (Gate::Publish, answered(200, None), Allow),
            (Gate::Publish, answered(204, Some("x")), Allow),
            (Gate::Publish, answered(302, None), Allow),
            (
                Gate::Publish,
                answered(302, Some("new?k=1")),
                Rename("new".into()),
            ),
            (
                Gate::Publish,
                answered(302, Some("RTMP://h/app/s")),
                Relay("RTMP://h/app/s".into()),
            ),
            (
                Gate::Play,
                answered(301, Some("rtmp://h/a")),
                Relay("rtmp://h/a".into()),
            ),
            (
                Gate::Connect,
                answered(302, Some("other")),
                Rename("other".into()),
            ),
            (
                Gate::Connect,
                answered(302, Some("rtmp://h/a")),
                Rename("rtmp://h/a".into()),
            ),
            (Gate::Publish, answered(403, None), Refuse("403".into())),
            (Gate::Play, answered(500, None), Refuse("500".into())),
            (Gate::Connect, answered(101, None), Refuse("101".into())),
            (
                Gate::Publish,
                failed.clone(),
                Refuse("connection refused".into()),
            ),
            (lax, failed.clone(), Allow),
            (strict, failed, Refuse("connection refused".into())),
            (lax, answered(302, None), Allow),
            (strict, answered(302, None), Refuse("302".into())),
            (lax, answered(404, None), Refuse("404".into())),
            (strict, answered(200, None), Allow),
        ];
        for (gate, outcome, want) in cases {
            assert_eq!(decide(gate, &outcome), want, "{gate:?} {outcome:?}");
        }
    }
}
