//! Recording file names, as nginx-rtmp makes them: the stream name escaped as a URI
//! component, `-UNIXSECS` with `record_unique`, then the suffix, run through strftime
//! when it contains `%`.

use super::strftime::strftime;

/// Broken-down local time, from the shell's `localtime_r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tm {
    pub year: i32,
    /// 1-12.
    pub mon: u32,
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday.
    pub wday: u32,
    /// 0-365.
    pub yday: u32,
    pub gmtoff_secs: i64,
    pub unix_secs: i64,
}

/// The file name (no directory) for stream `name` opened at `tm`. `name` has already been
/// checked for `/`, `..` and control characters; it is still escaped (`%20` for a space,
/// every byte outside `A-Z a-z 0-9 - . _ ~`) because nginx-rtmp escapes it, and scripts
/// that `exec_record_done` runs expect those names.
pub fn file_name(name: &str, unique: bool, suffix: &str, tm: &Tm) -> String {
    let mut out = String::with_capacity(name.len() + suffix.len() + 12);
    escape_component(name, &mut out);
    if unique {
        out.push('-');
        out.push_str(&tm.unix_secs.to_string());
    }
    if suffix.contains('%') {
        strftime(suffix, tm, &mut out);
    } else {
        out.push_str(suffix);
    }
    out
}

/// nginx's `NGX_ESCAPE_URI_COMPONENT`: RFC 3986's unreserved bytes pass, the rest become
/// `%XX` in upper-case hex.
fn escape_component(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thursday 2026-03-05 07:08:09 in UTC+01:00.
    const TM: Tm = Tm {
        year: 2026,
        mon: 3,
        mday: 5,
        hour: 7,
        min: 8,
        sec: 9,
        wday: 4,
        yday: 63,
        gmtoff_secs: 3600,
        unix_secs: 1_772_690_889,
    };

    #[test]
    fn plain_and_unique() {
        assert_eq!(file_name("cam1", false, ".flv", &TM), "cam1.flv");
        assert_eq!(file_name("cam1", true, ".flv", &TM), "cam1-1772690889.flv");
        assert_eq!(file_name("cam1", false, "", &TM), "cam1");
    }

    #[test]
    fn name_is_escaped_like_nginx() {
        assert_eq!(
            file_name("a b&c?d%e+f~g_h.i-j", false, ".flv", &TM),
            "a%20b%26c%3Fd%25e%2Bf~g_h.i-j.flv"
        );
        assert_eq!(file_name("é", false, ".flv", &TM), "%C3%A9.flv");
    }

    #[test]
    fn strftime_suffix() {
        assert_eq!(
            file_name("s", false, "-%Y%m%d-%H%M%S.flv", &TM),
            "s-20260305-070809.flv"
        );
        assert_eq!(
            file_name("s", true, "_%F_%T%z.flv", &TM),
            "s-1772690889_2026-03-05_07:08:09+0100.flv"
        );
        // The name is not formatted, only the suffix.
        assert_eq!(file_name("%Y", false, "%%.flv", &TM), "%25Y%.flv");
    }
}
