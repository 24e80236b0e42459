use super::ConfError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenOpts {
    pub bind: bool,
    pub ipv6only: Option<bool>,
    pub reuseport: bool,
    pub backlog: Option<i32>,
    pub so_keepalive: Option<bool>,
    pub proxy_protocol: bool,
    pub ssl: bool,
}

pub fn parse_listen_opts(args: &[&str]) -> Result<ListenOpts, ConfError> {
    let mut o = ListenOpts::default();
    for a in args {
        match *a {
            "bind" => o.bind = true,
            "reuseport" => o.reuseport = true,
            "proxy_protocol" => o.proxy_protocol = true,
            "ssl" => o.ssl = true,
            "ipv6only=on" => o.ipv6only = Some(true),
            "ipv6only=off" => o.ipv6only = Some(false),
            "so_keepalive=on" => o.so_keepalive = Some(true),
            "so_keepalive=off" => o.so_keepalive = Some(false),
            _ if a.starts_with("backlog=") => {
                let n = a["backlog=".len()..].parse::<i32>().ok().filter(|n| *n > 0);
                o.backlog = Some(n.ok_or_else(|| ConfError(format!("invalid backlog \"{}\"", &a[8..])))?);
            }
            _ => return Err(ConfError(format!("invalid parameter \"{a}\""))),
        }
    }
    Ok(o)
}
