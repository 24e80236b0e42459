//! Typed settings and the parsing of directive values, with nginx-style error text.

pub mod error;
pub mod values;

pub use error::ConfError;
pub mod access;
pub mod listen;
pub mod record;
pub mod relay;
