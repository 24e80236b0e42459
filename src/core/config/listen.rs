//! `listen ADDR [bind] [ipv6only=on|off] [reuseport] [backlog=N]
//! [so_keepalive=on|off|idle:intvl:cnt] [proxy_protocol] [ssl]`.
//!
//! nginx-rtmp knows `bind ipv6only so_keepalive proxy_protocol`; `reuseport`, `backlog`
//! and `ssl` come from nginx's stream module, whose error text this follows (nginx-rtmp
//! words the unknown-parameter error as `the invalid "x" parameter`).

use super::error::ConfError;
use super::values::parse_sec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    On,
    Off,
    /// TCP_KEEPIDLE / TCP_KEEPINTVL seconds and TCP_KEEPCNT; `None` keeps the system's.
    Tuned {
        idle: Option<u64>,
        interval: Option<u64>,
        count: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListenOpts {
    /// The address argument as written (`1935`, `*:1935`, `[::]:1935`, `unix:...`).
    pub addr_text: String,
    pub ipv6only: Option<bool>,
    pub reuseport: bool,
    pub backlog: Option<i32>,
    /// A socket of its own for this address; implied by every socket option, as in nginx.
    pub bind: bool,
    pub so_keepalive: Option<KeepAlive>,
    pub proxy_protocol: bool,
    pub ssl: bool,
}

/// Parses all arguments of `listen`: the address, then its parameters.
pub fn parse_listen_opts(args: &[&str]) -> Result<ListenOpts, ConfError> {
    let Some((&addr, params)) = args.split_first() else {
        return Err(ConfError::new(
            "invalid number of arguments in \"listen\" directive",
        ));
    };
    let mut o = ListenOpts {
        addr_text: addr.to_string(),
        ..ListenOpts::default()
    };
    for &p in params {
        match p {
            "bind" => o.bind = true,
            "reuseport" => {
                o.reuseport = true;
                o.bind = true;
            }
            "proxy_protocol" => o.proxy_protocol = true,
            "ssl" => o.ssl = true,
            _ => {
                if let Some(v) = p.strip_prefix("backlog=") {
                    o.backlog = Some(
                        backlog(v)
                            .ok_or_else(|| ConfError::new(format!("invalid backlog \"{p}\"")))?,
                    );
                    o.bind = true;
                } else if let Some(v) = p.strip_prefix("ipv6only=") {
                    // nginx matches the prefix "ipv6only=o" first, so "ipv6only=yes" is
                    // an unknown parameter while "ipv6only=ok" is a bad flag.
                    if !v.starts_with('o') {
                        return Err(invalid_parameter(p));
                    }
                    o.ipv6only = Some(match v {
                        "on" => true,
                        "off" => false,
                        _ => return Err(ConfError::new(format!("invalid ipv6only flags \"{v}\""))),
                    });
                    o.bind = true;
                } else if let Some(v) = p.strip_prefix("so_keepalive=") {
                    o.so_keepalive = Some(keepalive(v).ok_or_else(|| {
                        ConfError::new(format!("invalid so_keepalive value: \"{v}\""))
                    })?);
                    o.bind = true;
                } else {
                    return Err(invalid_parameter(p));
                }
            }
        }
    }
    Ok(o)
}

fn invalid_parameter(p: &str) -> ConfError {
    ConfError::new(format!("invalid parameter \"{p}\""))
}

/// `ngx_atoi`, then nginx rejects 0; the value lands in an `int`.
fn backlog(v: &str) -> Option<i32> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse::<i32>().ok().filter(|&n| n != 0)
}

/// `on`, `off`, or `idle:interval:count` where each part may be empty (keep the system
/// default) but not all of them may be zero/empty.
fn keepalive(v: &str) -> Option<KeepAlive> {
    match v {
        "on" => return Some(KeepAlive::On),
        "off" => return Some(KeepAlive::Off),
        _ => {}
    }
    let mut parts = v.splitn(3, ':');
    let time = |s: Option<&str>| -> Option<Option<u64>> {
        match s {
            None | Some("") => Some(None),
            Some(t) => parse_sec("so_keepalive", t).ok().map(Some),
        }
    };
    let idle = time(parts.next())?;
    let interval = time(parts.next())?;
    let count = match parts.next() {
        None | Some("") => None,
        Some(c) if c.bytes().all(|b| b.is_ascii_digit()) => Some(c.parse::<u64>().ok()?),
        Some(_) => return None,
    };
    let zero = |x: Option<u64>| x.unwrap_or(0) == 0;
    if zero(idle) && zero(interval) && zero(count) {
        return None;
    }
    Some(KeepAlive::Tuned {
        idle,
        interval,
        count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good() {
        let o = parse_listen_opts(&["[::]:1935", "ipv6only=off", "reuseport", "backlog=511"]);
        assert_eq!(
            o,
            Ok(ListenOpts {
                addr_text: "[::]:1935".into(),
                ipv6only: Some(false),
                reuseport: true,
                backlog: Some(511),
                bind: true,
                ..ListenOpts::default()
            })
        );
        let o = parse_listen_opts(&["1935", "proxy_protocol", "ssl"]);
        assert_eq!(
            o.map(|o| (o.proxy_protocol, o.ssl, o.bind)),
            Ok((true, true, false))
        );
        let ka = |v: &str| parse_listen_opts(&["1935", v]).map(|o| o.so_keepalive);
        let tuned = |idle, interval, count| {
            Ok(Some(KeepAlive::Tuned {
                idle,
                interval,
                count,
            }))
        };
        assert_eq!(ka("so_keepalive=on"), Ok(Some(KeepAlive::On)));
        assert_eq!(ka("so_keepalive=off"), Ok(Some(KeepAlive::Off)));
        assert_eq!(
            ka("so_keepalive=30m::10"),
            tuned(Some(1800), None, Some(10))
        );
        assert_eq!(ka("so_keepalive=30:5:3"), tuned(Some(30), Some(5), Some(3)));
        assert_eq!(ka("so_keepalive=:1m"), tuned(None, Some(60), None));
        assert_eq!(parse_listen_opts(&["1935"]).map(|o| o.bind), Ok(false));
    }

    #[test]
    fn errors() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["1935", "default_server"],
                "invalid parameter \"default_server\"",
            ),
            (&["1935", "BIND"], "invalid parameter \"BIND\""),
            (
                &["1935", "ipv6only=yes"],
                "invalid parameter \"ipv6only=yes\"",
            ),
            (&["1935", "ipv6only=ok"], "invalid ipv6only flags \"ok\""),
            (
                &["1935", "ipv6only=ON"],
                "invalid parameter \"ipv6only=ON\"",
            ),
            (&["1935", "backlog=0"], "invalid backlog \"backlog=0\""),
            (&["1935", "backlog=-1"], "invalid backlog \"backlog=-1\""),
            (&["1935", "backlog="], "invalid backlog \"backlog=\""),
            (
                &["1935", "backlog=99999999999"],
                "invalid backlog \"backlog=99999999999\"",
            ),
            (
                &["1935", "so_keepalive=yes"],
                "invalid so_keepalive value: \"yes\"",
            ),
            (
                &["1935", "so_keepalive=::"],
                "invalid so_keepalive value: \"::\"",
            ),
            (
                &["1935", "so_keepalive=0:0:0"],
                "invalid so_keepalive value: \"0:0:0\"",
            ),
            (
                &["1935", "so_keepalive=1:2:x"],
                "invalid so_keepalive value: \"1:2:x\"",
            ),
            (
                &["1935", "so_keepalive=1:2:3:4"],
                "invalid so_keepalive value: \"1:2:3:4\"",
            ),
            (
                &["1935", "so_keepalive=5ms"],
                "invalid so_keepalive value: \"5ms\"",
            ),
            (&[], "invalid number of arguments in \"listen\" directive"),
        ];
        for (args, want) in cases {
            let got = parse_listen_opts(args).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{args:?}");
        }
    }
}
