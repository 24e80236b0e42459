//! Properties of the directive value parsers and the access-log template on arbitrary text,
//! shared by the cargo-fuzz targets `config` and `accesslog` and by `config::random_tests`.
//!
//! Input layout for [`config`]: the first byte picks the parser (its value mod 8, so the
//! digits '0'..'7' in a seed file read naturally), the rest is taken as UTF-8 (lossily) and
//! split at spaces into directive arguments (empty arguments included, as nginx's `""`).
use crate::accesslog::{LogFormat, VARIABLES};
use crate::config::access::{check, parse_access, IpNet};
use crate::config::exec::{split_command, substitute};
use crate::config::listen::parse_listen_opts;
use crate::config::record::parse_record_flags;
use crate::config::relay::parse_push;
use crate::config::values::{
    parse_flag, parse_msec, parse_number, parse_offset, parse_sec, parse_size,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn config(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let args: Vec<&str> = text.split(' ').collect();
    match which % 8 {
        0 => values(&text),
        1 => access("allow", &args),
        2 => access("deny", &args),
        3 => relay("push", &args),
        4 => relay("pull", &args),
        5 => listen(&args),
        6 => record(&args),
        _ => exec(&args),
    }
}

fn values(v: &str) {
    const MAX: u64 = i64::MAX as u64;
    match parse_flag("f", v) {
        Ok(b) => assert!(v.eq_ignore_ascii_case(if b { "on" } else { "off" })),
        Err(e) => assert!(e.to_string().contains("\"f\"")),
    }
    if let Ok(n) = parse_number("n", v) {
        assert!(n <= MAX);
        assert!(!v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(v.parse::<u64>().ok(), Some(n));
    }
    let size = parse_size("s", v);
    let offset = parse_offset("o", v);
    if let Ok(n) = size {
        assert!(n <= MAX);
        // Everything the size slot takes, the offset slot takes the same way.
        assert_eq!(offset.as_ref().ok(), Some(&n));
    }
    if let Ok(n) = offset {
        assert!(n <= MAX);
    }
    let ms = parse_msec("m", v);
    let s = parse_sec("s", v);
    if let Ok(n) = ms {
        assert!(n <= MAX);
    }
    if let Ok(n) = s {
        assert!(n <= MAX);
    }
    // Where both slots accept a value they agree on its length (units both know scale the
    // same; a bare number is seconds in both).
    if let (Ok(ms), Ok(s)) = (&ms, &s) {
        assert_eq!(Some(*ms), s.checked_mul(1000), "{v:?}: {ms} ms vs {s} s");
    }
}

fn access(directive: &str, args: &[&str]) {
    let Ok((rule, warning)) = parse_access(directive, args) else {
        return;
    };
    assert_eq!(rule.allow, directive == "allow");
    assert!(rule.publish || rule.play);
    let target = args.last().copied().unwrap_or_default();
    assert!(!(warning.is_some() && target == "all"));
    // The rule's own network address is inside it, also as an IPv4-mapped IPv6 peer.
    let own: Vec<IpAddr> = match rule.net {
        IpNet::All => vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
        IpNet::V4 { addr, prefix } => {
            assert!(prefix <= 32);
            vec![IpAddr::V4(addr), IpAddr::V6(addr.to_ipv6_mapped())]
        }
        IpNet::V6 { addr, prefix } => {
            assert!(prefix <= 128);
            vec![IpAddr::V6(addr)]
        }
    };
    for ip in own {
        assert!(rule.net.contains(ip), "{target} does not contain {ip}");
        for publish in [false, true] {
            let covered = if publish { rule.publish } else { rule.play };
            assert_eq!(check(&[rule], publish, ip), !covered || rule.allow);
            // An earlier rule for everything decides first.
            let all = parse_access("deny", &["all"]).map(|(r, _)| r);
            if let Ok(all) = all {
                assert!(!check(&[all, rule], publish, ip));
            }
        }
    }
    assert!(check(&[], true, IpAddr::V4(Ipv4Addr::LOCALHOST)));
}

fn relay(directive: &str, args: &[&str]) {
    let Ok(t) = parse_push(directive, args) else {
        return;
    };
    assert!(!t.host.is_empty());
    if t.is_static {
        assert_eq!(directive, "pull");
        assert!(t.name.as_deref().is_some_and(|n| !n.is_empty()));
    }
}

fn listen(args: &[&str]) {
    let Ok(o) = parse_listen_opts(args) else {
        return;
    };
    assert_eq!(Some(o.addr_text.as_str()), args.first().copied());
    // Every socket option implies a socket of its own.
    if o.reuseport || o.backlog.is_some() || o.ipv6only.is_some() || o.so_keepalive.is_some() {
        assert!(o.bind);
    }
    if let Some(b) = o.backlog {
        assert!(b > 0);
    }
}

fn record(args: &[&str]) {
    const KNOWN: [&str; 6] = ["off", "all", "audio", "video", "keyframes", "manual"];
    let all_known = args
        .iter()
        .all(|a| KNOWN.iter().any(|k| k.eq_ignore_ascii_case(a)));
    match parse_record_flags(args) {
        Ok((flags, warnings)) => {
            assert!(all_known);
            assert_eq!(flags & !0x1f, 0);
            assert!(warnings.len() <= args.len());
            assert_eq!(flags == 0, args.is_empty());
        }
        Err(_) => assert!(!all_known),
    }
}

fn exec(args: &[&str]) {
    for filters in [false, true] {
        match split_command("exec", args, filters) {
            Ok(c) => {
                assert_eq!(Some(c.program.as_str()), args.first().copied());
                // Every word is the program, an argument, a redirection or a name filter.
                assert_eq!(
                    c.args.len() + c.redirects.len() + c.names.len() + 1,
                    args.len()
                );
                assert!(filters || c.names.is_empty());
                assert!(c.redirects.iter().all(|r| r.fd <= 2));
            }
            Err(e) => assert!(
                args.is_empty() || e.to_string().starts_with("invalid redirection"),
                "{e}"
            ),
        }
    }
    for &a in args {
        // Escapes and unknown variables only ever remove text.
        let none = substitute(a, &|_| None);
        assert!(none.len() <= a.len(), "{a:?} grew to {none:?}");
        // A variable that expands to its own name is never longer than its reference.
        let named = substitute(a, &|n| Some(n.to_string()));
        assert!(named.len() <= a.len(), "{a:?} grew to {named:?}");
        if !a.contains(['$', '\\']) {
            assert_eq!(none, a);
        }
        let _ = substitute(a, &|n| Some(format!("${{{n}}}\\")));
    }
}

/// `log_format` templates: parse, render, and render back into a template.
pub fn accesslog(data: &[u8]) {
    let template = String::from_utf8_lossy(data);
    let Ok(format) = LogFormat::parse(&template) else {
        return;
    };
    // Literal text is copied, variables are replaced: with empty values nothing grows.
    let empty = format.render(&|_| String::new());
    assert!(empty.len() <= template.len());
    // Only known variables are ever asked for.
    let _ = format.render(&|v| {
        assert!(VARIABLES.contains(&v), "asked for {v:?}");
        v.to_uppercase()
    });
    // Literal text holds no '$', so rendering each variable as `${name}` gives a template
    // that parses to the same format.
    let again = format.render(&|v| format!("${{{v}}}"));
    assert_eq!(LogFormat::parse(&again).as_ref(), Ok(&format), "{again:?}");
}
