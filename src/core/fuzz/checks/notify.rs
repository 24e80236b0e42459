//! A hook's HTTP answer (and request) from arbitrary bytes. Shared by the cargo-fuzz target
//! `notify` and by `notify::random_tests`. The first byte picks: even, the bytes after it are
//! a server's answer fed in pieces of `first / 2 + 1` bytes; odd, they are what a client
//! controls in a request (its stream name and query string).
//!
//! Checked: no panic; an answer's outcome does not depend on how it was cut into pieces; a
//! status is 100..600 and a Location never holds a line break; a name the hook renames to has
//! no `?`; a request's head has exactly its fixed lines whatever the client sent, and its
//! Content-Length is its body's length.
use crate::notify::{
    build_request, decide, parse_hook_url, Call, Gate, Method, Outcome, Progress, ResponseParser,
    SessionFields, Verdict,
};

pub fn notify(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if first % 2 == 0 {
        response(usize::from(first / 2) + 1, rest);
    } else {
        request(first, rest);
    }
}

fn run(piece: usize, data: &[u8]) -> Progress {
    let mut p = ResponseParser::new();
    for chunk in data.chunks(piece.max(1)) {
        match p.feed(chunk) {
            Progress::More => {}
            done => return done,
        }
    }
    p.eof()
}

fn response(piece: usize, data: &[u8]) {
    let cut = run(piece, data);
    assert_eq!(cut, run(data.len().max(1), data), "pieces of {piece}");
    let outcome = match cut {
        Progress::Done(r) => {
            assert!((100..600).contains(&r.status), "{r:?}");
            assert!(
                r.location.as_ref().is_none_or(|l| !l.contains('\n')),
                "{r:?}"
            );
            Outcome::Answered(r)
        }
        Progress::Failed(e) => {
            assert!(!e.is_empty() && !e.contains('\n'), "{e:?}");
            Outcome::Failed(e)
        }
        Progress::More => panic!("eof always decides"),
    };
    for gate in [
        Gate::Connect,
        Gate::Publish,
        Gate::Play,
        Gate::Update { strict: true },
        Gate::Update { strict: false },
    ] {
        match decide(gate, &outcome) {
            Verdict::Rename(n) => assert!(!n.contains('?'), "{n:?}"),
            Verdict::Relay(u) => assert!(u.to_ascii_lowercase().starts_with("rtmp://")),
            Verdict::Refuse(why) => assert!(!why.is_empty()),
            Verdict::Allow => {}
        }
    }
}

fn request(first: u8, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (name, args) = text.split_once('?').unwrap_or((&text, ""));
    let call = Call::Publish {
        name: name.to_string(),
        kind: "live".into(),
        args: args.to_string(),
    };
    let session = SessionFields {
        app: text.to_string(),
        ..SessionFields::default()
    };
    let url = parse_hook_url("on_publish", "http://127.0.0.1:8080/auth?x=1").expect("valid url");
    let method = if first & 2 == 0 {
        Method::Get
    } else {
        Method::Post
    };
    let req = build_request(method, &url, &call.form(&session));
    let end = req
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the head ends");
    let head = std::str::from_utf8(&req[..end]).expect("the head is ASCII");
    let lines: Vec<&str> = head.split("\r\n").collect();
    let want = if method == Method::Get { 5 } else { 6 };
    assert_eq!(lines.len(), want, "{head:?}");
    assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')));
    assert_eq!(lines[0].matches(' ').count(), 2, "{:?}", lines[0]);
    let body = &req[end + 4..];
    assert!(
        head.ends_with(&format!("Content-Length: {}", body.len())),
        "{head:?}"
    );
}
