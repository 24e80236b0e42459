//! `application/x-www-form-urlencoded` fields: the body of a POST hook, the query string of a
//! GET hook.

/// Fields in order, then the client's own query string appended as it came (the C module
/// appends the `?args` of `connect`, `publish` and `play` after its fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub client_args: String,
}

impl Form {
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        self.fields.push((key.to_string(), value.into()));
    }

    /// The encoded form: `k=v&k=v[&client args]`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.fields {
            if !out.is_empty() {
                out.push('&');
            }
            escape_into(&mut out, k);
            out.push('=');
            escape_into(&mut out, v);
        }
        let tail = safe_query(&self.client_args);
        if !tail.is_empty() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&tail);
        }
        out
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn escape_into(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            push_escaped(out, b);
        }
    }
}

fn push_escaped(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// A client's query string kept as the client encoded it (`&`, `=`, `+` and valid `%XX`
/// escapes stay), with every byte that could end the request line or a header (spaces,
/// controls, `#`, non-ASCII, a `%` that starts no escape) percent-encoded: what the client
/// sends must not become HTTP syntax.
pub fn safe_query(args: &str) -> String {
    let b = args.as_bytes();
    let mut out = String::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        let valid_escape = c == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        let plain = c.is_ascii_graphic() && !matches!(c, b'#' | b'%' | b'"' | b'<' | b'>' | b'\\');
        if plain || valid_escape {
            out.push(c as char);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_then_client_args() {
        let mut f = Form::default();
        f.add("app", "live");
        f.add("name", "a b&c=d/é");
        f.client_args = "key=secret&x=1".into();
        assert_eq!(
            f.encode(),
            "app=live&name=a%20b%26c%3Dd%2F%C3%A9&key=secret&x=1"
        );
        let empty = Form::default();
        assert_eq!(empty.encode(), "");
    }

    #[test]
    fn client_args_cannot_break_the_request() {
        assert_eq!(safe_query("a=1 2\r\nX: y"), "a=1%202%0D%0AX:%20y");
        assert_eq!(safe_query("k=%41%4"), "k=%41%254");
        assert_eq!(safe_query("a=b#c"), "a=b%23c");
        assert_eq!(safe_query("a+b=c;d"), "a+b=c;d");
    }
}
