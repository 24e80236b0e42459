//! The rtmp `access_log` line: a `log_format` template of literals and `$variables`, rendered
//! from what a session did. The default `combined` format and the variables are those of
//! nginx-rtmp-module, so existing log parsers keep working.

use crate::log_text::escape_value;

/// nginx-rtmp-module's built-in `combined` format.
pub const COMBINED: &str = "$remote_addr [$time_local] $command \"$app\" \"$name\" \"$args\" - \
$bytes_received $bytes_sent \"$pageurl\" \"$flashver\" ($session_readable_time)";

pub const VARIABLES: &[&str] = &[
    "connection",
    "remote_addr",
    "app",
    "flashver",
    "swfurl",
    "tcurl",
    "pageurl",
    "command",
    "name",
    "args",
    "bytes_sent",
    "bytes_received",
    "time_local",
    "msec",
    "session_time",
    "session_readable_time",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    parts: Vec<Part>,
}

impl LogFormat {
    /// Parses a template; an unknown variable is an error naming it.
    pub fn parse(template: &str) -> Result<LogFormat, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '$' {
                text.push(c);
                continue;
            }
            let rest = &template[i + 1..];
            let (name, skip) = if let Some(inner) = rest.strip_prefix('{') {
                let end = inner
                    .find('}')
                    .ok_or_else(|| format!("unclosed variable in \"{template}\""))?;
                (&inner[..end], end + 2)
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], end)
            };
            let var = VARIABLES
                .iter()
                .find(|v| **v == name)
                .ok_or_else(|| format!("unknown variable \"{name}\""))?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(var));
            for _ in 0..skip {
                chars.next();
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(LogFormat { parts })
    }

    /// One line: the format's text with each variable's value, whose control characters,
    /// quotes and backslashes are escaped (a client chooses most of them).
    pub fn render(&self, value: &dyn Fn(&str) -> String) -> String {
        let mut line = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => line.push_str(t),
                Part::Var(v) => line.push_str(&escape_value(&value(v))),
            }
        }
        line
    }
}

/// `$session_readable_time`: "1d 2h 3m 4s", leading zero units left out.
pub fn readable_time(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d "));
    }
    if d > 0 || h > 0 {
        out.push_str(&format!("{h}h "));
    }
    if d > 0 || h > 0 || m > 0 {
        out.push_str(&format!("{m}m "));
    }
    out.push_str(&format!("{s}s"));
    out
}

/// `$command`: what the session did.
pub fn command(played: bool, published: bool) -> &'static str {
    match (played, published) {
        (false, false) => "NONE",
        (true, false) => "PLAY",
        (false, true) => "PUBLISH",
        (true, true) => "PLAY+PUBLISH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_combined_format() {
        let f = LogFormat::parse(COMBINED).unwrap();
        let line = f.render(&|v| match v {
            "remote_addr" => "127.0.0.1".into(),
            "time_local" => "24/Nov/2026:18:00:00 +0000".into(),
            "command" => "PUBLISH".into(),
            "app" => "live".into(),
            "name" => "cam".into(),
            "session_readable_time" => readable_time(75),
            _ => "0".into(),
        });
        assert_eq!(
            line,
            "127.0.0.1 [24/Nov/2026:18:00:00 +0000] PUBLISH \"live\" \"cam\" \"0\" - 0 0 \"0\" \"0\" (1m 15s)"
        );
    }

    #[test]
    fn braces_and_unknown_variables() {
        let f = LogFormat::parse("${app}x$name").unwrap();
        assert_eq!(f.render(&|v| v.to_uppercase()), "APPxNAME");
        assert_eq!(
            LogFormat::parse("$nope").unwrap_err(),
            "unknown variable \"nope\""
        );
        assert!(LogFormat::parse("${app").is_err());
    }

    #[test]
    fn readable_times() {
        assert_eq!(readable_time(0), "0s");
        assert_eq!(readable_time(3600), "1h 0m 0s");
        assert_eq!(readable_time(90_061), "1d 1h 1m 1s");
    }

    #[test]
    fn commands() {
        assert_eq!(command(false, false), "NONE");
        assert_eq!(command(true, true), "PLAY+PUBLISH");
    }
}
