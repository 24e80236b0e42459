//! The error a directive parser returns: the complete line nginx should log.

use std::fmt;

/// nginx appends ` in FILE:LINE` itself, so this holds the message without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError(pub String);

impl ConfError {
    /// A message logged as is (what nginx slots log with `ngx_conf_log_error`).
    pub fn new(msg: impl Into<String>) -> Self {
        ConfError(msg.into())
    }

    /// A message a slot returns as a string, which `ngx_conf_handler` logs as
    /// `"DIRECTIVE" directive MESSAGE`.
    pub fn directive(directive: &str, msg: &str) -> Self {
        ConfError(format!("\"{directive}\" directive {msg}"))
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            ConfError::directive("timeout", "invalid value").to_string(),
            "\"timeout\" directive invalid value"
        );
        assert_eq!(
            ConfError::new("invalid value \"x\"").to_string(),
            "invalid value \"x\""
        );
    }
}
