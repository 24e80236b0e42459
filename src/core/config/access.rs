//! `allow|deny [publish|play] ADDR|CIDR|all` rules and their evaluation, as
//! nginx-rtmp's access module does it: rules are tried in order, the first one that covers
//! the action and the address decides, and no match means allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::ConfError;

/// A network: an address with the host bits cleared and a prefix length, or everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpNet {
    All,
    V4 { addr: Ipv4Addr, prefix: u8 },
    V6 { addr: Ipv6Addr, prefix: u8 },
}

impl IpNet {
    /// IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`, what a dual-stack socket reports) are
    /// matched as IPv4, like nginx-rtmp does.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self, ip) {
            (IpNet::All, _) => true,
            (IpNet::V4 { addr, prefix }, IpAddr::V4(ip)) => {
                let m = mask32(*prefix);
                u32::from(ip) & m == u32::from(*addr) & m
            }
            (IpNet::V6 { addr, prefix }, IpAddr::V6(ip)) => {
                let m = mask128(*prefix);
                u128::from(ip) & m == u128::from(*addr) & m
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRule {
    pub allow: bool,
    pub publish: bool,
    pub play: bool,
    pub net: IpNet,
}

/// Parses the arguments of `allow` or `deny` (`directive` is which). Besides the rule it
/// returns the warning nginx logs (at `warn` level) when a CIDR has host bits set.
pub fn parse_access(
    directive: &str,
    args: &[&str],
) -> Result<(AccessRule, Option<String>), ConfError> {
    let (action, target) = match args {
        [target] => (None, *target),
        [action, target] => (Some(*action), *target),
        _ => {
            return Err(ConfError::new(format!(
                "invalid number of arguments in \"{directive}\" directive"
            )))
        }
    };
    let (publish, play) = match action {
        None => (true, true),
        Some("publish") => (true, false),
        Some("play") => (false, true),
        Some(other) => {
            return Err(ConfError::new(format!(
                "unexpected access specified: '{other}'"
            )))
        }
    };
    let (net, warning) = if target == "all" {
        (IpNet::All, None)
    } else {
        let (net, trimmed) = parse_cidr(target)
            .ok_or_else(|| ConfError::new(format!("invalid parameter \"{target}\"")))?;
        let warning = trimmed.then(|| format!("low address bits of {target} are meaningless"));
        (net, warning)
    };
    let rule = AccessRule {
        allow: directive != "deny",
        publish,
        play,
        net,
    };
    Ok((rule, warning))
}

/// `ngx_ptocidr`: an address with an optional `/prefix`. The flag says host bits were set
/// (and have been cleared), which nginx accepts with a warning.
fn parse_cidr(text: &str) -> Option<(IpNet, bool)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let prefix = match prefix {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            Some(p.parse::<u8>().ok()?)
        }
        Some(_) => return None,
    };
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        let prefix = prefix.unwrap_or(32);
        if prefix > 32 {
            return None;
        }
        let bits = u32::from(v4);
        let masked = bits & mask32(prefix);
        let net = IpNet::V4 {
            addr: masked.into(),
            prefix,
        };
        return Some((net, masked != bits));
    }
    let v6 = addr.parse::<Ipv6Addr>().ok()?;
    let prefix = prefix.unwrap_or(128);
    if prefix > 128 {
        return None;
    }
    let bits = u128::from(v6);
    let masked = bits & mask128(prefix);
    let net = IpNet::V6 {
        addr: masked.into(),
        prefix,
    };
    Some((net, masked != bits))
}

/// Whether `addr` may publish (`publish == true`) or play. The first rule covering that
/// action and that address decides; without one, access is allowed.
pub fn check(rules: &[AccessRule], publish: bool, addr: IpAddr) -> bool {
    rules
        .iter()
        .find(|r| (if publish { r.publish } else { r.play }) && r.net.contains(addr))
        .is_none_or(|r| r.allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(directive: &str, args: &[&str]) -> AccessRule {
        match parse_access(directive, args) {
            Ok((r, _)) => r,
            Err(e) => panic!("{e}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn parsing() {
        let v4 = |a: [u8; 4], prefix| IpNet::V4 {
            addr: Ipv4Addr::from(a),
            prefix,
        };
        let cases: &[(&str, &[&str], AccessRule, Option<&str>)] = &[
            (
                "allow",
                &["all"],
                AccessRule {
                    allow: true,
                    publish: true,
                    play: true,
                    net: IpNet::All,
                },
                None,
            ),
            (
                "deny",
                &["publish", "10.0.0.0/8"],
                AccessRule {
                    allow: false,
                    publish: true,
                    play: false,
                    net: v4([10, 0, 0, 0], 8),
                },
                None,
            ),
            (
                "allow",
                &["play", "192.168.1.7"],
                AccessRule {
                    allow: true,
                    publish: false,
                    play: true,
                    net: v4([192, 168, 1, 7], 32),
                },
                None,
            ),
            (
                "allow",
                &["192.168.1.7/24"],
                AccessRule {
                    allow: true,
                    publish: true,
                    play: true,
                    net: v4([192, 168, 1, 0], 24),
                },
                Some("low address bits of 192.168.1.7/24 are meaningless"),
            ),
            (
                "deny",
                &["0.0.0.0/0"],
                AccessRule {
                    allow: false,
                    publish: true,
                    play: true,
                    net: v4([0, 0, 0, 0], 0),
                },
                None,
            ),
            (
                "allow",
                &["2001:db8::1/32"],
                AccessRule {
                    allow: true,
                    publish: true,
                    play: true,
                    net: IpNet::V6 {
                        addr: "2001:db8::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                        prefix: 32,
                    },
                },
                Some("low address bits of 2001:db8::1/32 are meaningless"),
            ),
        ];
        for (d, args, want, warn) in cases {
            let got = parse_access(d, args);
            assert_eq!(got, Ok((*want, warn.map(String::from))), "{d} {args:?}");
        }
    }

    #[test]
    fn errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["1.2.3.4/33"], "invalid parameter \"1.2.3.4/33\""),
            (&["1.2.3.256"], "invalid parameter \"1.2.3.256\""),
            (&["1.2.3.4/"], "invalid parameter \"1.2.3.4/\""),
            (&["1.2.3.4/+8"], "invalid parameter \"1.2.3.4/+8\""),
            (&["::1/129"], "invalid parameter \"::1/129\""),
            (
                &["::1/99999999999999999999"],
                "invalid parameter \"::1/99999999999999999999\"",
            ),
            (&["example.com"], "invalid parameter \"example.com\""),
            (&["ALL"], "invalid parameter \"ALL\""),
            (&[""], "invalid parameter \"\""),
            (&["publish", "bad"], "invalid parameter \"bad\""),
            (&["record", "all"], "unexpected access specified: 'record'"),
            (
                &["PUBLISH", "all"],
                "unexpected access specified: 'PUBLISH'",
            ),
            (&[], "invalid number of arguments in \"allow\" directive"),
            (
                &["play", "all", "x"],
                "invalid number of arguments in \"allow\" directive",
            ),
        ];
        for (args, want) in cases {
            let got = parse_access("allow", args).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{args:?}");
        }
    }

    #[test]
    fn evaluation() {
        let rules = [
            rule("allow", &["publish", "127.0.0.1"]),
            rule("deny", &["publish", "all"]),
            rule("deny", &["play", "10.0.0.0/8"]),
            rule("deny", &["play", "2001:db8::/32"]),
        ];
        let cases = [
            (true, "127.0.0.1", true),
            (true, "::ffff:127.0.0.1", true),
            (true, "127.0.0.2", false),
            (true, "::1", false),
            (false, "127.0.0.2", true),
            (false, "10.1.2.3", false),
            (false, "::ffff:10.1.2.3", false),
            (false, "11.1.2.3", true),
            (false, "2001:db8:1::5", false),
            (false, "2001:db9::5", true),
        ];
        for (publish, addr, want) in cases {
            assert_eq!(check(&rules, publish, ip(addr)), want, "{publish} {addr}");
        }
        assert!(check(&[], true, ip("1.2.3.4")));
        // A v4 rule never matches a genuine v6 peer and vice versa.
        let v4_only = [rule("deny", &["0.0.0.0/0"])];
        assert!(!check(&v4_only, false, ip("1.2.3.4")));
        assert!(check(&v4_only, false, ip("2001:db8::1")));
        let v6_only = [rule("deny", &["::/0"])];
        assert!(check(&v6_only, false, ip("1.2.3.4")));
        assert!(!check(&v6_only, false, ip("::1")));
    }
}
