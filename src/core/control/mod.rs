//! The `rtmp_control` HTTP API (nginx-rtmp-module's paths, arguments and answers): what a
//! request asks, which sessions it selects, and how the answers of every worker add up.
mod answer;
mod request;

pub use answer::{Answer, Reply};
pub use request::{parse_request, ControlRequest, Filter, Method, Section, Target};

#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod tests;
