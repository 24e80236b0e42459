//! Text a peer chose (stream names, queries, `flashVer`, URLs), written into log files.
//!
//! A log line ends at a newline, so a value with one in it would let a client write lines of
//! its own (a forged `[alert]` for a monitor to act on). Such characters are written as
//! `\xHH`, the escape nginx's http access log uses for its variables.
use std::borrow::Cow;

/// `s` with its control characters (C0, DEL, C1) escaped: for any message of the error log.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    escape(s, |c| c.is_control())
}

/// `s` with its control characters, `"` and `\` escaped: for a variable of an access log
/// line, whose formats put values between quotes.
pub fn escape_value(s: &str) -> Cow<'_, str> {
    escape(s, |c| c.is_control() || c == '"' || c == '\\')
}

fn escape(s: &str, special: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&special) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if special(c) {
            let mut utf8 = [0u8; 4];
            for b in c.encode_utf8(&mut utf8).bytes() {
                out.push_str(&format!("\\x{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape_control("live/x é"), Cow::Borrowed(_)));
        assert!(matches!(
            escape_value("FMLE/3.0 (compatible)"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn line_breaks_and_controls_are_escaped() {
        assert_eq!(
            escape_control("a\nb\r\t\u{7f}\u{85}"),
            "a\\x0Ab\\x0D\\x09\\x7F\\xC2\\x85"
        );
        // Quotes stay in error-log messages, which quote values themselves.
        assert_eq!(escape_control("say \"hi\""), "say \"hi\"");
    }

    #[test]
    fn values_escape_quotes_and_backslashes_too() {
        assert_eq!(escape_value("p\"\\é\n"), "p\\x22\\x5Cé\\x0A");
    }
}
