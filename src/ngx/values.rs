//! Directive values through the core's parsers, which word errors as nginx does.
use super::conf::Directive;
use ngx_rtmp_core::config::values;

pub fn flag(d: &Directive) -> Result<bool, String> {
    values::parse_flag(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn msec(d: &Directive) -> Result<u64, String> {
    values::parse_msec(&d.name, d.value()).map_err(|e| e.to_string())
}

pub fn size(d: &Directive) -> Result<u64, String> {
    values::parse_size(&d.name, d.value()).map(|v| v as u64).map_err(|e| e.to_string())
}

pub fn number(d: &Directive) -> Result<u64, String> {
    values::parse_number(&d.name, d.value()).map(|v| v as u64).map_err(|e| e.to_string())
}
