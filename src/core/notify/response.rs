//! The answer of a hook's HTTP server, read incrementally: the status code and `Location`
//! are all a hook needs, so reading stops at the end of the headers and the body is never
//! read. Headers are bounded; whatever the server sends, the parser answers `More`, a
//! response, or a one-line reason.

/// The most header bytes read before the answer counts as broken.
pub const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The `Location` header, trimmed; `None` when absent or empty.
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The headers have not ended yet.
    More,
    Done(Response),
    Failed(String),
}

#[derive(Debug, Default)]
pub struct ResponseParser {
    buf: Vec<u8>,
}

impl ResponseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the response.
    pub fn feed(&mut self, data: &[u8]) -> Progress {
        self.buf.extend_from_slice(data);
        loop {
            let Some(end) = head_end(&self.buf) else {
                if self.buf.len() > MAX_HEAD {
                    return Progress::Failed(format!(
                        "response headers longer than {MAX_HEAD} bytes"
                    ));
                }
                return Progress::More;
            };
            if end > MAX_HEAD {
                return Progress::Failed(format!("response headers longer than {MAX_HEAD} bytes"));
            }
            match parse_head(&self.buf[..end]) {
                // An interim answer (100 Continue): the real one follows.
                Ok(r) if (100..200).contains(&r.status) && r.status != 101 => {
                    self.buf.drain(..end);
                }
                Ok(r) => return Progress::Done(r),
                Err(e) => return Progress::Failed(e),
            }
        }
    }

    /// The server closed the connection: a status line that arrived whole still counts, as
    /// in the C module, even if the headers did not end.
    pub fn eof(&mut self) -> Progress {
        if self.buf.is_empty() {
            return Progress::Failed("empty response".into());
        }
        if !self.buf.contains(&b'\n') {
            return Progress::Failed(format!("incomplete response {}", shown(&self.buf)));
        }
        match parse_head(&self.buf) {
            Ok(r) => Progress::Done(r),
            Err(e) => Progress::Failed(e),
        }
    }
}

/// Where the headers end (after the blank line), if they do.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        i = nl + 1;
    }
    None
}

/// A short, printable quotation of what the server sent, for log lines.
fn shown(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(48)])
        .chars()
        .flat_map(char::escape_default)
        .collect();
    format!("\"{text}\"")
}

fn parse_status(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let sp = rest.iter().position(|&b| b == b' ')?;
    let version = &rest[..sp];
    let version_ok = !version.is_empty()
        && version.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && version.first().is_some_and(u8::is_ascii_digit);
    let code = rest.get(sp + 1..sp + 4)?;
    let after = rest.get(sp + 4).copied();
    if !version_ok || !code.iter().all(u8::is_ascii_digit) || !matches!(after, None | Some(b' ')) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    (100..600).contains(&status).then_some(status)
}

fn parse_head(head: &[u8]) -> Result<Response, String> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let status =
        parse_status(first).ok_or_else(|| format!("invalid status line {}", shown(first)))?;
    let mut location: Option<Vec<u8>> = None;
    let mut in_location = false;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // An obsolete folded continuation of the previous header.
            if let (true, Some(v)) = (in_location, location.as_mut()) {
                v.push(b' ');
                v.extend_from_slice(line.trim_ascii());
            }
            continue;
        }
        in_location = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if location.is_none() && line[..colon].eq_ignore_ascii_case(b"location") {
            location = Some(line[colon + 1..].trim_ascii().to_vec());
            in_location = true;
        }
    }
    let location = location
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .filter(|v| !v.is_empty());
    Ok(Response { status, location })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &[u8]) -> Progress {
        ResponseParser::new().feed(text)
    }

    fn done(status: u16, location: Option<&str>) -> Progress {
        Progress::Done(Response {
            status,
            location: location.map(str::to_string),
        })
    }

    #[test]
    fn status_and_location() {
        assert_eq!(whole(b"HTTP/1.1 200 OK\r\n\r\nbody"), done(200, None));
        assert_eq!(
            whole(b"HTTP/1.0 302 Found\r\nX: y\r\nlocation:   newname \r\n\r\n"),
            done(302, Some("newname"))
        );
        assert_eq!(whole(b"HTTP/1.1 403\n\n"), done(403, None));
        assert_eq!(
            whole(b"HTTP/1.1 301 M\r\nLocation: rtmp://h/app\r\n\tx\r\n\r\n"),
            done(301, Some("rtmp://h/app x"))
        );
        assert_eq!(
            whole(b"HTTP/1.1 302 F\r\nLocation:\r\n\r\n"),
            done(302, None)
        );
    }

    #[test]
    fn byte_by_byte_is_the_same() {
        let text = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 307 T\r\nLocation: n2\r\n\r\n";
        let mut p = ResponseParser::new();
        let mut last = Progress::More;
        for (i, b) in text.iter().enumerate() {
            last = p.feed(&[*b]);
            if i + 1 < text.len() {
                assert_eq!(last, Progress::More, "at {i}");
            }
        }
        assert_eq!(last, done(307, Some("n2")));
    }

    #[test]
    fn a_closed_connection_after_the_status_line_counts() {
        let mut p = ResponseParser::new();
        assert_eq!(
            p.feed(b"HTTP/1.0 204 No Content\r\nLocation: x"),
            Progress::More
        );
        assert_eq!(p.eof(), done(204, Some("x")));
        let mut p = ResponseParser::new();
        assert_eq!(p.eof(), Progress::Failed("empty response".into()));
        let mut p = ResponseParser::new();
        p.feed(b"HTTP/1.0 20");
        assert!(matches!(p.eof(), Progress::Failed(e) if e.starts_with("incomplete response")));
    }

    #[test]
    fn garbage_and_giants_fail() {
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 099 x\r\n\r\n",
            b"HTTP/x 200 OK\r\n\r\n",
            b"HTTP/1.1 20x OK\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert!(
                matches!(whole(bad), Progress::Failed(ref e) if e.starts_with("invalid status line")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut p = ResponseParser::new();
        let mut r = p.feed(b"HTTP/1.1 200 OK\r\n");
        for _ in 0..2000 {
            r = p.feed(b"X-Filler: 0123456789\r\n");
            if r != Progress::More {
                break;
            }
        }
        assert!(matches!(r, Progress::Failed(e) if e.contains("longer than")));
    }
}
