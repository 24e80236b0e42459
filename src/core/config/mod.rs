//! Typed settings and the parsing of directive values, with nginx-style error text.
