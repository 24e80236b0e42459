//! Scalar directive values, parsed exactly as nginx's own `ngx_conf_set_*_slot`s parse
//! them, with the same error text (see each function for the slot it mirrors).
//!
//! nginx keeps these in `ngx_int_t`/`ssize_t`, so on the 64-bit targets nginx runs on the
//! ceiling is `i64::MAX`; results are returned as `u64` since none can be negative.

use super::error::ConfError;

/// The ceiling nginx checks against (`NGX_MAX_INT_T_VALUE`, `NGX_MAX_SIZE_T_VALUE` and
/// `NGX_MAX_OFF_T_VALUE` on 64-bit).
const MAX: i64 = i64::MAX;

/// `ngx_conf_set_flag_slot`: `on` or `off`, ASCII case-insensitive.
pub fn parse_flag(directive: &str, v: &str) -> Result<bool, ConfError> {
    if v.eq_ignore_ascii_case("on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("off") {
        Ok(false)
    } else {
        Err(ConfError::new(format!(
            "invalid value \"{v}\" in \"{directive}\" directive, it must be \"on\" or \"off\""
        )))
    }
}

/// `ngx_conf_set_msec_slot` (`ngx_parse_time(.., 0)`): milliseconds. Units `w d h m s ms`
/// in that order, each at most once ("1m30s", "1h 5m"); a bare number means **seconds**,
/// as everywhere in nginx. Months and years are rejected in this mode, as in nginx.
pub fn parse_msec(directive: &str, v: &str) -> Result<u64, ConfError> {
    parse_time(v, false).ok_or_else(|| invalid_value(directive))
}

/// `ngx_conf_set_sec_slot` (`ngx_parse_time(.., 1)`): seconds. Units `y M w d h m s`;
/// `ms` is rejected; a bare number means seconds.
pub fn parse_sec(directive: &str, v: &str) -> Result<u64, ConfError> {
    parse_time(v, true).ok_or_else(|| invalid_value(directive))
}

/// `ngx_conf_set_size_slot` (`ngx_parse_size`): bytes, with an optional `k`/`K` or `m`/`M`
/// suffix. nginx's size slot has no `g`; see [`parse_offset`].
pub fn parse_size(directive: &str, v: &str) -> Result<u64, ConfError> {
    parse_scaled(v, false).ok_or_else(|| invalid_value(directive))
}

/// `ngx_conf_set_off_slot` (`ngx_parse_offset`): like [`parse_size`] plus `g`/`G`.
pub fn parse_offset(directive: &str, v: &str) -> Result<u64, ConfError> {
    parse_scaled(v, true).ok_or_else(|| invalid_value(directive))
}

/// `ngx_conf_set_num_slot` (`ngx_atoi`): decimal digits only, no sign.
pub fn parse_number(directive: &str, v: &str) -> Result<u64, ConfError> {
    atoi(v.as_bytes()).ok_or_else(|| ConfError::directive(directive, "invalid number"))
}

fn invalid_value(directive: &str) -> ConfError {
    ConfError::directive(directive, "invalid value")
}

/// `ngx_atoi`: non-empty, digits only, at most `MAX`.
fn atoi(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    u64::try_from(v).ok()
}

fn parse_scaled(v: &str, allow_giga: bool) -> Option<u64> {
    let b = v.as_bytes();
    let (digits, scale): (&[u8], i64) = match b.split_last() {
        Some((b'k' | b'K', rest)) => (rest, 1 << 10),
        Some((b'm' | b'M', rest)) => (rest, 1 << 20),
        Some((b'g' | b'G', rest)) if allow_giga => (rest, 1 << 30),
        Some(_) => (b, 1),
        None => return None,
    };
    let n = i64::try_from(atoi(digits)?).ok()?;
    if n > MAX / scale {
        return None;
    }
    u64::try_from(n.checked_mul(scale)?).ok()
}

/// The units of `ngx_parse_time`, in the order they must appear.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Start,
    Year,
    Month,
    Week,
    Day,
    Hour,
    Min,
    Sec,
    Msec,
    Last,
}

/// `ngx_parse_time`: a number may be followed by a unit; units go from largest to smallest;
/// a trailing bare number counts as seconds; a space after a bare number ends the seconds.
fn parse_time(line: &str, is_sec: bool) -> Option<u64> {
    const YEAR: i64 = 60 * 60 * 24 * 365;
    const MONTH: i64 = 60 * 60 * 24 * 30;
    const WEEK: i64 = 60 * 60 * 24 * 7;
    const DAY: i64 = 60 * 60 * 24;
    const HOUR: i64 = 60 * 60;

    let b = line.as_bytes();
    let mut valid = false;
    let mut value: i64 = 0;
    let mut total: i64 = 0;
    let mut step = if is_sec { Step::Start } else { Step::Month };
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        if c.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            valid = true;
            continue;
        }
        let (next, unit) = match c {
            b'y' if step == Step::Start => (Step::Year, YEAR),
            b'M' if step < Step::Month => (Step::Month, MONTH),
            b'w' if step < Step::Week => (Step::Week, WEEK),
            b'd' if step < Step::Day => (Step::Day, DAY),
            b'h' if step < Step::Hour => (Step::Hour, HOUR),
            b'm' if b.get(i) == Some(&b's') => {
                if is_sec || step >= Step::Msec {
                    return None;
                }
                i += 1;
                (Step::Msec, 1)
            }
            b'm' if step < Step::Min => (Step::Min, 60),
            b's' if step < Step::Sec => (Step::Sec, 1),
            b' ' if step < Step::Sec => (Step::Last, 1),
            _ => return None,
        };
        step = next;
        let scale = if step != Step::Msec && !is_sec {
            unit.checked_mul(1000)?
        } else {
            unit
        };
        value = value.checked_mul(scale)?;
        total = total.checked_add(value)?;
        value = 0;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    if !valid {
        return None;
    }
    if !is_sec {
        value = value.checked_mul(1000)?;
    }
    u64::try_from(total.checked_add(value)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T>(r: Result<T, ConfError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn flags() {
        let cases = [("on", Some(true)), ("OFF", Some(false)), ("On", Some(true))];
        for (v, want) in cases {
            assert_eq!(parse_flag("live", v).ok(), want, "{v}");
        }
        for v in ["maybe", "", "on ", "1", "yes"] {
            assert_eq!(
                msg(parse_flag("live", v)),
                format!(
                    "invalid value \"{v}\" in \"live\" directive, it must be \"on\" or \"off\""
                )
            );
        }
    }

    #[test]
    fn msec() {
        let cases: &[(&str, Option<u64>)] = &[
            ("500ms", Some(500)),
            ("0", Some(0)),
            ("60", Some(60_000)),
            ("5s", Some(5_000)),
            ("1m30s", Some(90_000)),
            ("1m 30s", Some(90_000)),
            ("1h", Some(3_600_000)),
            ("2d", Some(172_800_000)),
            ("1w", Some(604_800_000)),
            ("1s500ms", Some(1_500)),
            ("1m5", Some(65_000)),
            ("1M", None),
            ("1y", None),
            ("30s1m", None),
            ("1ms1s", None),
            ("1s1s", None),
            ("s", None),
            ("", None),
            ("-1", None),
            ("1x", None),
            ("1.5s", None),
            ("9223372036854775807", None),
            ("9223372036854775807ms", Some(9_223_372_036_854_775_807)),
            ("9223372036854775808ms", None),
            ("9223372036854775s", Some(9_223_372_036_854_775_000)),
            ("9223372036854776s", None),
            ("100000000000000000000", None),
        ];
        for &(v, want) in cases {
            assert_eq!(parse_msec("timeout", v).ok(), want, "{v:?}");
        }
        assert_eq!(
            msg(parse_msec("timeout", "x")),
            "\"timeout\" directive invalid value"
        );
    }

    #[test]
    fn sec() {
        let cases: &[(&str, Option<u64>)] = &[
            ("30", Some(30)),
            ("1y", Some(31_536_000)),
            ("1y1M", Some(31_536_000 + 2_592_000)),
            ("1M1y", None),
            ("2m", Some(120)),
            ("1ms", None),
            ("1 2", Some(3)),
            ("", None),
            ("9223372036854775807", Some(9_223_372_036_854_775_807)),
            ("9223372036854775807s1", None),
        ];
        for &(v, want) in cases {
            assert_eq!(parse_sec("notify_update_timeout", v).ok(), want, "{v:?}");
        }
        assert_eq!(
            msg(parse_sec("respawn_timeout", "1ms")),
            "\"respawn_timeout\" directive invalid value"
        );
    }

    #[test]
    fn sizes() {
        let cases: &[(&str, Option<u64>, Option<u64>)] = &[
            ("4096", Some(4096), Some(4096)),
            ("1k", Some(1024), Some(1024)),
            ("1K", Some(1024), Some(1024)),
            ("1m", Some(1 << 20), Some(1 << 20)),
            ("2M", Some(2 << 20), Some(2 << 20)),
            ("1g", None, Some(1 << 30)),
            ("k", None, None),
            ("", None, None),
            ("1kb", None, None),
            ("-1", None, None),
            ("1.5m", None, None),
            (
                "8796093022207M",
                Some(9_223_372_036_853_727_232),
                Some(9_223_372_036_853_727_232),
            ),
            ("8796093022208M", None, None),
            ("8589934592g", None, None),
        ];
        for &(v, size, off) in cases {
            assert_eq!(parse_size("max_message", v).ok(), size, "size {v:?}");
            assert_eq!(parse_offset("record_max_size", v).ok(), off, "offset {v:?}");
        }
        assert_eq!(
            msg(parse_size("chunk_size", "big")),
            "\"chunk_size\" directive invalid value"
        );
    }

    #[test]
    fn numbers() {
        let cases: &[(&str, Option<u64>)] = &[
            ("32", Some(32)),
            ("0", Some(0)),
            ("", None),
            ("+1", None),
            ("-1", None),
            ("1k", None),
            (" 1", None),
            ("9223372036854775807", Some(i64::MAX as u64)),
            ("9223372036854775808", None),
        ];
        for &(v, want) in cases {
            assert_eq!(parse_number("max_streams", v).ok(), want, "{v:?}");
        }
        assert_eq!(
            msg(parse_number("max_streams", "many")),
            "\"max_streams\" directive invalid number"
        );
    }
}
