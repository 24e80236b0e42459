use super::ConfError;

fn invalid(directive: &str, v: &str) -> ConfError {
    ConfError(format!("invalid value \"{v}\" in \"{directive}\" directive"))
}

pub fn parse_flag(directive: &str, v: &str) -> Result<bool, ConfError> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(ConfError(format!(
            "invalid value \"{v}\" in \"{directive}\" directive, it must be \"on\" or \"off\""
        ))),
    }
}

pub fn parse_number(directive: &str, v: &str) -> Result<u64, ConfError> {
    v.parse::<u64>().map_err(|_| invalid(directive, v))
}

pub fn parse_size(directive: &str, v: &str) -> Result<u64, ConfError> {
    let (num, mul) = match v.as_bytes().last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 1024),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 1024 * 1024),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| invalid(directive, v))
}

pub fn parse_msec(directive: &str, v: &str) -> Result<u64, ConfError> {
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    let b = v.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return Err(invalid(directive, v));
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            num = Some(num.unwrap_or(0).checked_mul(10).and_then(|n| n.checked_add(u64::from(c - b'0'))).ok_or_else(|| invalid(directive, v))?);
            i += 1;
            continue;
        }
        let n = num.take().ok_or_else(|| invalid(directive, v))?;
        let mul = if c == b'm' && b.get(i + 1) == Some(&b's') {
            i += 1;
            1
        } else {
            match c {
                b's' => 1000,
                b'm' => 60_000,
                b'h' => 3_600_000,
                b'd' => 86_400_000,
                b'w' => 604_800_000,
                b'M' => 2_592_000_000,
                b'y' => 31_536_000_000,
                _ => return Err(invalid(directive, v)),
            }
        };
        i += 1;
        total = n.checked_mul(mul).and_then(|x| total.checked_add(x)).ok_or_else(|| invalid(directive, v))?;
    }
    if let Some(n) = num {
        total = total.checked_add(n).ok_or_else(|| invalid(directive, v))?;
    }
    Ok(total)
}
