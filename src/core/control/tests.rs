use super::*;

#[test]
fn parses_the_c_modules_paths() {
    let r = parse_request("/control/record/start", "app=live&name=x&rec=rec1").unwrap();
    assert_eq!(r.section, Section::Record);
    assert_eq!(r.method, Method::RecordStart);
    assert_eq!(r.recorder, "rec1");
    assert_eq!(r.filter.app.as_deref(), Some("live"));
    let r = parse_request("/a/b/drop/subscriber", "addr=127.0.0.1&clientid=7&srv=0").unwrap();
    assert_eq!(r.method, Method::Drop(Target::Subscriber));
    assert_eq!(r.filter.clientid, Some(7));
    let r = parse_request("/control/redirect/publisher/", "name=a&newname=b%20c").unwrap();
    assert_eq!(r.method, Method::Redirect(Target::Publisher, "b c".into()));
}

#[test]
fn refuses_with_a_reason() {
    let cases = [
        ("/control/record/pause", "", 404, "unknown record method"),
        ("/control/nothing/x", "", 404, "unknown section"),
        ("/control/drop/everyone", "", 404, "unknown method"),
        (
            "/control/drop/client",
            "color=red",
            400,
            "unknown argument \"color\"",
        ),
        (
            "/control/drop/client",
            "clientid=x",
            400,
            "invalid clientid",
        ),
        ("/control/drop/client", "srv=-1", 400, "invalid srv"),
        (
            "/control/redirect/client",
            "name=a",
            400,
            "needs \"newname\"",
        ),
        ("/control/drop/client", "newname=b", 400, "redirect only"),
        ("/control/drop/client", "name=%zz", 400, "bad escape"),
        ("/control/push/start", "app=live", 400, "push needs \"url\""),
        ("/control/push/stop", "url=", 400, "push needs \"url\""),
        (
            "/control/push/start",
            "url=rtmp%3A%2F%2Fh%3A0%2Fapp",
            400,
            "invalid port in url \"h:0/app\"",
        ),
        (
            "/control/push/pause",
            "url=rtmp://h/a",
            404,
            "unknown push method",
        ),
        (
            "/control/drop/client",
            "url=rtmp://h/a",
            400,
            "url\" is for push only",
        ),
    ];
    for (path, q, status, reason) in cases {
        let (s, r) = parse_request(path, q).unwrap_err();
        assert_eq!(s, status, "{path}?{q}: {r}");
        assert!(r.contains(reason), "{path}?{q}: {r}");
    }
}

#[test]
fn wire_round_trip() {
    for (p, q) in [
        ("/c/record/stop", "app=live&name=a%26b&rec=r%3D1"),
        (
            "/c/redirect/subscriber",
            "app=x&newname=new%2Fname&clientid=3",
        ),
        ("/c/drop/publisher", ""),
        (
            "/c/push/start",
            "app=live&name=a&url=rtmp%3A%2F%2F127.0.0.1%3A1936%2Fapp%2Fkey%3Fk%3Dv%26x",
        ),
        ("/c/push/stop", "url=rtmp://h/app"),
    ] {
        let r = parse_request(p, q).unwrap();
        assert_eq!(ControlRequest::from_wire(&r.to_wire()), Some(r));
    }
    let a = Answer {
        count: 2,
        path: Some("/r/a\tb.flv".into()),
        error: Some((404, "x".into())),
    };
    let back = Answer::from_wire(&a.to_wire()).unwrap();
    assert_eq!(back.count, 2);
    assert_eq!(back.path.as_deref(), Some("/r/a b.flv"));
}

#[test]
fn push_section() {
    let r = parse_request(
        "/control/push/start",
        "app=live&name=cam&url=rtmp://h:1936/app/key",
    )
    .unwrap();
    assert_eq!(r.section, Section::Push);
    assert_eq!(r.method, Method::PushStart("rtmp://h:1936/app/key".into()));
    assert_eq!(r.filter.name.as_deref(), Some("cam"));
    let r = parse_request("/control/push/stop/", "url=rtmp%3A%2F%2Fh%2Fapp").unwrap();
    assert_eq!(r.method, Method::PushStop("rtmp://h/app".into()));
}

#[test]
fn filter_matches() {
    let f = parse_request("/drop/client", "app=live&addr=127.0.0.2")
        .unwrap()
        .filter;
    assert!(f.matches(0, "live", "any", "127.0.0.2", 9));
    assert!(!f.matches(0, "live", "any", "127.0.0.1", 9));
    assert!(!f.matches(1, "live", "any", "127.0.0.2", 9));
    assert!(!f.matches(0, "other", "any", "127.0.0.2", 9));
}

#[test]
fn replies_add_up_workers() {
    let a = |count, path: Option<&str>| Answer {
        count,
        path: path.map(String::from),
        error: None,
    };
    assert_eq!(
        Answer::reply(&[a(1, None), a(2, None)], false),
        Reply {
            status: 200,
            body: "3".into()
        }
    );
    assert_eq!(Answer::reply(&[a(0, None)], true).status, 204);
    assert_eq!(
        Answer::reply(&[a(0, None), a(1, Some("/rec/x.flv"))], true),
        Reply {
            status: 200,
            body: "/rec/x.flv".into()
        }
    );
    let missing = Answer {
        error: Some((404, "recorder \"r\" not found".into())),
        ..Default::default()
    };
    assert_eq!(Answer::reply(&[missing, a(0, None)], true).status, 404);
}
