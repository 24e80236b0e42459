//! HTTP notifications (`on_connect`, `on_publish`, ... of nginx-rtmp-module): the hook URLs,
//! the form each call sends, the HTTP/1.0 request, the bounded response parser, and what an
//! answer means for the session. The shell (src/ngx/notify/) makes the connections.

pub mod fields;
pub mod form;
pub mod request;
pub mod response;
pub mod url;
pub mod verdict;

#[cfg(test)]
mod random_tests;

pub use fields::{Call, DoneKind, SessionFields};
pub use form::Form;
pub use request::{build_request, Method};
pub use response::{Progress, Response, ResponseParser};
pub use url::{parse_hook_url, HookUrl};
pub use verdict::{decide, Gate, Outcome, Verdict};
