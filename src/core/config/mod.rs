//! Typed settings and the parsing of directive values, with nginx-style error text.

pub mod access;
pub mod error;
pub mod exec;
pub mod listen;
pub mod record;
pub mod relay;
pub mod tls;
pub mod values;

pub use error::ConfError;

#[cfg(test)]
mod random_tests;
