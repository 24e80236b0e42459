//! The URL of an `on_*` hook as nginx-rtmp-module reads it: `http://host[:port][/path]`, or the
//! same without the scheme (the C module strips an `http://` it finds and parses the rest).

use crate::config::error::ConfError;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUrl {
    /// Without brackets for IPv6 literals.
    pub host: String,
    pub port: u16,
    /// The request target: the path (at least `/`) with any query string.
    pub path: String,
    /// The URL as the configuration wrote it, for log lines.
    pub text: String,
}

impl HookUrl {
    /// The `Host` header: the port is named unless it is 80.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Whether the host is an address rather than a name to resolve.
    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }
}

/// Parses the value of `directive`.
pub fn parse_hook_url(directive: &str, value: &str) -> Result<HookUrl, ConfError> {
    let bad = |why: &str| {
        ConfError::new(format!(
            "invalid url \"{value}\" in \"{directive}\" directive, {why}"
        ))
    };
    let rest = match value.find("://") {
        Some(i) if value[..i].eq_ignore_ascii_case("http") => &value[i + 3..],
        Some(i) => {
            return Err(bad(&format!(
                "the scheme \"{}\" is not supported (only http://)",
                &value[..i]
            )))
        }
        None => value,
    };
    if rest.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad("it contains spaces or control characters"));
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = if path.starts_with('?') || path.is_empty() {
        format!("/{path}")
    } else {
        path.to_string()
    };
    if authority.contains('@') {
        return Err(bad("user information is not supported"));
    }
    let (host, port) = split_host_port(authority).map_err(&bad)?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(HookUrl {
        host,
        port,
        path,
        text: value.to_string(),
    })
}

fn split_host_port(authority: &str) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed \"[\"")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address");
        }
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("invalid port")?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err("invalid port"),
        },
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(v: &str) -> HookUrl {
        parse_hook_url("on_publish", v).unwrap()
    }

    #[test]
    fn forms_the_c_module_accepts() {
        let u = url("http://api-container/app/broadcast/authorize");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("api-container", 80, "/app/broadcast/authorize")
        );
        assert_eq!(u.host_header(), "api-container");
        let u = url("127.0.0.1:8080/auth?x=1");
        assert_eq!((u.port, u.path.as_str()), (8080, "/auth?x=1"));
        assert_eq!(u.host_header(), "127.0.0.1:8080");
        assert!(u.host_is_ip());
        let u = url("HTTP://h");
        assert_eq!((u.host.as_str(), u.path.as_str()), ("h", "/"));
        let u = url("http://h?q");
        assert_eq!(u.path, "/?q");
        let u = url("http://[::1]:81/x");
        assert_eq!((u.host.as_str(), u.port), ("::1", 81));
        assert_eq!(u.host_header(), "[::1]:81");
        assert_eq!(url("http://[::1]/").host_header(), "[::1]");
    }

    #[test]
    fn refusals_name_the_url() {
        for (v, why) in [
            ("https://h/x", "the scheme \"https\" is not supported"),
            ("http:///x", "no host"),
            ("http://h:0/", "invalid port"),
            ("http://h:99999/", "invalid port"),
            ("http://h:x/", "invalid port"),
            ("http://[::1/", "unclosed"),
            ("http://[zz]/", "invalid IPv6"),
            ("http://u:p@h/", "user information"),
            ("http://h/a b", "spaces"),
            ("", "no host"),
        ] {
            let e = parse_hook_url("on_play", v).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("invalid url \"{v}\" in \"on_play\" directive, ")),
                "{e}"
            );
            assert!(e.contains(why), "{v}: {e}");
        }
    }
}
