//! Typed settings and the parsing of directive values, with nginx-style error text.
//! (Interim minimal parsers; the full set lands with the config work.)
pub mod listen;
pub mod values;

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError(pub String);

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
