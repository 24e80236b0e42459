//! RTMPS settings: the `ssl_*` directives of an RTMP server (spelled as nginx's stream module
//! spells them) and the `rtmp_relay_ssl_*` directives of outgoing relays (spelled as the
//! sergey-dryabzhinsky fork of nginx-rtmp-module, which models them on `proxy_ssl_*`), and
//! the defaults both start from.

use super::error::ConfError;
use super::values::parse_size;

/// Protocol bits with the values of nginx's `NGX_SSL_*` masks (the shell checks they agree),
/// so a parsed mask goes to `ngx_ssl_create` as it is.
pub const SSLV2: u32 = 0x0002;
pub const SSLV3: u32 = 0x0004;
pub const TLSV1: u32 = 0x0008;
pub const TLSV1_1: u32 = 0x0010;
pub const TLSV1_2: u32 = 0x0020;
pub const TLSV1_3: u32 = 0x0040;

const PROTOCOLS: [(&str, u32); 6] = [
    ("SSLv2", SSLV2),
    ("SSLv3", SSLV3),
    ("TLSv1", TLSV1),
    ("TLSv1.1", TLSV1_1),
    ("TLSv1.2", TLSV1_2),
    ("TLSv1.3", TLSV1_3),
];

/// `ssl_protocols` and `rtmp_relay_ssl_protocols` when not given: what nginx 1.23.4+
/// defaults to (Debian's 1.22 still allows TLSv1 and TLSv1.1; we do not).
pub const DEFAULT_PROTOCOLS: u32 = TLSV1_2 | TLSV1_3;

/// `ssl_ciphers` when not given: nginx's own default.
pub const DEFAULT_SERVER_CIPHERS: &str = "HIGH:!aNULL:!MD5";

/// `rtmp_relay_ssl_ciphers` when not given: OpenSSL's default list, as `proxy_ssl_ciphers`.
pub const DEFAULT_RELAY_CIPHERS: &str = "DEFAULT";

/// `rtmp_relay_ssl_trusted_certificate` when not given: the system's CA bundle on Debian and
/// Ubuntu (package ca-certificates). Where that file does not exist, OpenSSL's own default
/// locations are used instead.
pub const DEFAULT_TRUSTED_CERTIFICATE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// `rtmp_relay_ssl_verify_depth` when not given: OpenSSL's own limit. nginx's proxy defaults
/// to 1, which refuses servers whose chain has two intermediate certificates.
pub const DEFAULT_VERIFY_DEPTH: u64 = 100;

/// `ssl_handshake_timeout` when not given, as in nginx's stream module.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 60_000;

/// `ssl_session_timeout` when not given, as in nginx.
pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 300;

/// `ssl_ecdh_curve` when not given, as in nginx.
pub const DEFAULT_ECDH_CURVE: &str = "auto";

/// Parses `ssl_protocols` / `rtmp_relay_ssl_protocols` values into a mask.
pub fn parse_protocols(directive: &str, args: &[&str]) -> Result<u32, ConfError> {
    let mut mask = 0;
    for &a in args {
        let (_, bit) = PROTOCOLS
            .iter()
            .find(|(name, _)| *name == a)
            .ok_or_else(|| {
                ConfError::new(format!(
                    "invalid value \"{a}\" in \"{directive}\" directive"
                ))
            })?;
        mask |= bit;
    }
    Ok(mask)
}

/// The names of the protocols in `mask`, for log lines.
pub fn protocol_names(mask: u32) -> Vec<&'static str> {
    PROTOCOLS
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(name, _)| *name)
        .collect()
}

/// `ssl_session_cache off | none | [builtin[:size]] [shared:name:size]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCache {
    pub builtin: Builtin,
    /// A cache in shared memory: zone name and size in bytes.
    pub shared: Option<(String, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `off`: sessions are never reused.
    Off,
    /// `none` (the default): clients are told sessions may be reused, none are stored.
    None,
    /// `builtin`: OpenSSL's cache per worker, with its own size.
    Default,
    /// `builtin:N`: OpenSSL's cache of N sessions.
    Size(u64),
    /// Only `shared:` was given: no builtin cache beside the shared one.
    Unused,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            builtin: Builtin::None,
            shared: None,
        }
    }
}

/// Parses `ssl_session_cache` as nginx does; `page_size` bounds the smallest shared zone
/// (8 pages).
pub fn parse_session_cache(args: &[&str], page_size: u64) -> Result<SessionCache, ConfError> {
    let invalid = |a: &str| ConfError::new(format!("invalid session cache \"{a}\""));
    let mut builtin = None;
    let mut shared = None;
    for &a in args {
        match a {
            "off" => builtin = Some(Builtin::Off),
            "none" => builtin = Some(Builtin::None),
            "builtin" => builtin = Some(Builtin::Default),
            _ => {
                if let Some(n) = a.strip_prefix("builtin:").filter(|n| !n.is_empty()) {
                    let n = n
                        .parse::<u64>()
                        .ok()
                        .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| invalid(a))?;
                    builtin = Some(Builtin::Size(n));
                } else if let Some(rest) = a.strip_prefix("shared:").filter(|r| !r.is_empty()) {
                    let (name, size) = rest.split_once(':').ok_or_else(|| invalid(a))?;
                    if name.is_empty() {
                        return Err(invalid(a));
                    }
                    let size = parse_size("ssl_session_cache", size).map_err(|_| invalid(a))?;
                    if size < 8 * page_size {
                        return Err(ConfError::new(format!(
                            "session cache \"{a}\" is too small"
                        )));
                    }
                    shared = Some((name.to_string(), size));
                } else {
                    return Err(invalid(a));
                }
            }
        }
    }
    let builtin = match (builtin, &shared) {
        (Some(b), _) => b,
        (None, Some(_)) => Builtin::Unused,
        (None, None) => Builtin::None,
    };
    Ok(SessionCache { builtin, shared })
}

/// The name a relay sends as SNI: none for an IP address (RFC 6066 allows only host names),
/// and never with brackets or a port.
pub fn sni_name(host: &str) -> Option<&str> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols() {
        assert_eq!(
            parse_protocols("ssl_protocols", &["TLSv1.2", "TLSv1.3"]),
            Ok(TLSV1_2 | TLSV1_3)
        );
        assert_eq!(parse_protocols("p", &["TLSv1"]), Ok(TLSV1));
        assert_eq!(
            parse_protocols("rtmp_relay_ssl_protocols", &["TLSv1.2", "tls1.3"])
                .unwrap_err()
                .to_string(),
            "invalid value \"tls1.3\" in \"rtmp_relay_ssl_protocols\" directive"
        );
        assert_eq!(protocol_names(DEFAULT_PROTOCOLS), ["TLSv1.2", "TLSv1.3"]);
    }

    #[test]
    fn session_cache() {
        let p = |a: &[&str]| parse_session_cache(a, 4096);
        assert_eq!(p(&[]).unwrap(), SessionCache::default());
        assert_eq!(p(&["off"]).unwrap().builtin, Builtin::Off);
        assert_eq!(p(&["none"]).unwrap().builtin, Builtin::None);
        assert_eq!(p(&["builtin"]).unwrap().builtin, Builtin::Default);
        assert_eq!(p(&["builtin:1000"]).unwrap().builtin, Builtin::Size(1000));
        assert_eq!(
            p(&["shared:SSL:10m"]).unwrap(),
            SessionCache {
                builtin: Builtin::Unused,
                shared: Some(("SSL".into(), 10 << 20)),
            }
        );
        assert_eq!(
            p(&["builtin:10", "shared:RTMP:1m"]).unwrap().builtin,
            Builtin::Size(10)
        );
        for bad in [
            "builtin:",
            "builtin:x",
            "shared:",
            "shared:SSL",
            "shared::1m",
            "on",
        ] {
            assert_eq!(
                p(&[bad]).unwrap_err().to_string(),
                format!("invalid session cache \"{bad}\""),
                "{bad}"
            );
        }
        assert_eq!(
            p(&["shared:SSL:8k"]).unwrap_err().to_string(),
            "session cache \"shared:SSL:8k\" is too small"
        );
        assert!(p(&["shared:SSL:32k"]).is_ok());
    }

    #[test]
    fn sni() {
        assert_eq!(
            sni_name("live-api-s.facebook.com"),
            Some("live-api-s.facebook.com")
        );
        assert_eq!(sni_name("localhost"), Some("localhost"));
        assert_eq!(sni_name("127.0.0.1"), None);
        assert_eq!(sni_name("::1"), None);
        assert_eq!(sni_name("[::1]"), None);
        assert_eq!(sni_name(""), None);
    }
}
