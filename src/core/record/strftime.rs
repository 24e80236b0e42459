//! strftime(3) for record suffixes, in the C locale, over the shell's broken-down time.
//! Covers POSIX's conversions and glibc's `-`, `_`, `0` padding flags and `E`/`O`
//! modifiers; an unknown conversion is copied as written, as glibc does.

use super::file_name::Tm;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pad {
    Zero,
    Space,
    None,
}

pub(super) fn strftime(format: &str, tm: &Tm, out: &mut String) {
    let mut rest = format;
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let spec = rest.get(at + 1..).unwrap_or_default();
        let consumed = conversion(spec, tm, out);
        rest = spec.get(consumed..).unwrap_or_default();
    }
    out.push_str(rest);
}

/// Formats the conversion at the start of `spec` (what follows a `%`) and returns how
/// many bytes of `spec` it used.
fn conversion(spec: &str, tm: &Tm, out: &mut String) -> usize {
    let mut chars = spec.char_indices().peekable();
    let mut pad = None;
    if let Some(&(_, c @ ('-' | '_' | '0'))) = chars.peek() {
        pad = Some(match c {
            '-' => Pad::None,
            '_' => Pad::Space,
            _ => Pad::Zero,
        });
        chars.next();
    }
    if let Some(&(_, 'E' | 'O')) = chars.peek() {
        chars.next();
    }
    let Some((i, c)) = chars.next() else {
        // The format ends inside the conversion: copied as written.
        out.push('%');
        out.push_str(spec);
        return spec.len();
    };
    let used = i + c.len_utf8();
    if !format_one(c, pad, tm, out) {
        out.push('%');
        out.push_str(spec.get(..used).unwrap_or_default());
    }
    used
}

fn num(out: &mut String, v: i64, width: usize, default: Pad, pad: Option<Pad>) {
    let s = v.unsigned_abs().to_string();
    if v < 0 {
        out.push('-');
    }
    let fill = match pad.unwrap_or(default) {
        Pad::Zero => '0',
        Pad::Space => ' ',
        Pad::None => {
            out.push_str(&s);
            return;
        }
    };
    for _ in s.len()..width {
        out.push(fill);
    }
    out.push_str(&s);
}

fn name(table: &[&'static str], i: u32, abbreviated: bool) -> &'static str {
    let full = table.get(i as usize).copied().unwrap_or("?");
    if abbreviated {
        full.get(..3).unwrap_or(full)
    } else {
        full
    }
}

/// False when `c` is not a conversion this knows.
fn format_one(c: char, pad: Option<Pad>, tm: &Tm, out: &mut String) -> bool {
    let hour12 = match tm.hour % 12 {
        0 => 12,
        h => h,
    };
    let month = tm.mon.saturating_sub(1);
    match c {
        'Y' => num(out, i64::from(tm.year), 1, Pad::Zero, pad),
        'C' => num(out, i64::from(tm.year).div_euclid(100), 2, Pad::Zero, pad),
        'y' => num(out, i64::from(tm.year).rem_euclid(100), 2, Pad::Zero, pad),
        'm' => num(out, i64::from(tm.mon), 2, Pad::Zero, pad),
        'd' => num(out, i64::from(tm.mday), 2, Pad::Zero, pad),
        'e' => num(out, i64::from(tm.mday), 2, Pad::Space, pad),
        'H' => num(out, i64::from(tm.hour), 2, Pad::Zero, pad),
        'k' => num(out, i64::from(tm.hour), 2, Pad::Space, pad),
        'I' => num(out, i64::from(hour12), 2, Pad::Zero, pad),
        'l' => num(out, i64::from(hour12), 2, Pad::Space, pad),
        'M' => num(out, i64::from(tm.min), 2, Pad::Zero, pad),
        'S' => num(out, i64::from(tm.sec), 2, Pad::Zero, pad),
        'j' => num(out, i64::from(tm.yday) + 1, 3, Pad::Zero, pad),
        'u' => num(
            out,
            i64::from(if tm.wday == 0 { 7 } else { tm.wday }),
            1,
            Pad::Zero,
            pad,
        ),
        'w' => num(out, i64::from(tm.wday), 1, Pad::Zero, pad),
        's' => num(out, tm.unix_secs, 1, Pad::Zero, pad),
        'b' | 'h' => out.push_str(name(&MONTHS, month, true)),
        'B' => out.push_str(name(&MONTHS, month, false)),
        'a' => out.push_str(name(&DAYS, tm.wday, true)),
        'A' => out.push_str(name(&DAYS, tm.wday, false)),
        'p' => out.push_str(if tm.hour < 12 { "AM" } else { "PM" }),
        'z' => {
            let off = tm.gmtoff_secs;
            out.push(if off < 0 { '-' } else { '+' });
            let mins = off.unsigned_abs() / 60;
            out.push_str(&format!("{:02}{:02}", mins / 60, mins % 60));
        }
        'F' => {
            num(out, i64::from(tm.year), 1, Pad::Zero, None);
            out.push('-');
            num(out, i64::from(tm.mon), 2, Pad::Zero, None);
            out.push('-');
            num(out, i64::from(tm.mday), 2, Pad::Zero, None);
        }
        'T' => strftime("%H:%M:%S", tm, out),
        'R' => strftime("%H:%M", tm, out),
        'D' => strftime("%m/%d/%y", tm, out),
        'n' => out.push('\n'),
        't' => out.push('\t'),
        '%' => out.push('%'),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sunday 1999-01-03 00:05:06 in UTC-03:30.
    const TM: Tm = Tm {
        year: 1999,
        mon: 1,
        mday: 3,
        hour: 0,
        min: 5,
        sec: 6,
        wday: 0,
        yday: 2,
        gmtoff_secs: -12_600,
        unix_secs: 915_336_906,
    };

    fn f(format: &str) -> String {
        let mut out = String::new();
        strftime(format, &TM, &mut out);
        out
    }

    #[test]
    fn conversions() {
        let cases = [
            ("%Y %m %d %H %M %S", "1999 01 03 00 05 06"),
            ("%y %j %e %C", "99 003  3 19"),
            ("%b %B %a %A %h", "Jan January Sun Sunday Jan"),
            ("%p %I %l %k", "AM 12 12  0"),
            ("%s %z", "915336906 -0330"),
            ("%F %T", "1999-01-03 00:05:06"),
            ("%D %R", "01/03/99 00:05"),
            ("%u %w", "7 0"),
            ("100%%", "100%"),
            ("%-d %_m %0e %-j", "3  1 03 3"),
            ("%Ey %Od", "99 03"),
        ];
        for (format, want) in cases {
            assert_eq!(f(format), want, "{format}");
        }
    }

    #[test]
    fn unknown_and_odd() {
        assert_eq!(f("%Q.flv"), "%Q.flv");
        assert_eq!(f("a%"), "a%");
        assert_eq!(f("%-"), "%-");
        assert_eq!(f("%é"), "%é");
        assert_eq!(f("no conversions"), "no conversions");
        let pm = Tm { hour: 13, ..TM };
        let mut out = String::new();
        strftime("%p %I", &pm, &mut out);
        assert_eq!(out, "PM 01");
    }
}
