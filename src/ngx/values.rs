//! Directive values through the core's parsers, which word errors as nginx does.
use super::conf::Directive;
use ngx_rtmp_core::config::values;

pub fn flag(d: &Directive) -> Result<bool, String> {
    values::parse_flag(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn msec(d: &Directive) -> Result<u64, String> {
    values::parse_msec(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn sec(d: &Directive) -> Result<u64, String> {
    values::parse_sec(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn size(d: &Directive) -> Result<u64, String> {
    values::parse_size(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn number(d: &Directive) -> Result<u64, String> {
    values::parse_number(&d.name, d.value()).map_err(|e| e.to_string())
}

/// A string value kept as written.
pub fn string(d: &Directive) -> Result<String, String> {
    Ok(d.value().to_string())
}

/// One of a fixed set of words.
pub fn one_of(d: &Directive, words: &[&str]) -> Result<String, String> {
    let v = d.value();
    if words.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "invalid value \"{v}\" in \"{}\" directive, it must be one of: {}",
            d.name,
            words.join(", ")
        ))
    }
}

/// A directory or file path, absolute against nginx's prefix.
pub fn path(d: &Directive) -> Result<String, String> {
    if d.value().is_empty() {
        return Err(format!("empty path in \"{}\" directive", d.name));
    }
    Ok(super::ffi::conf_full_path(d.cf, d.value()))
}
