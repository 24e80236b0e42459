//! `/control` requests from arbitrary bytes: the path is everything before the first `?`,
//! the query the rest (lossy UTF-8, as nginx hands them over). Shared by the cargo-fuzz
//! target `control` and by `control::random_tests`.
//!
//! Checked: no panic; an accepted request survives the mailbox (to_wire, from_wire) unchanged
//! and its wire form fits the mailbox's 1 KB only when the input was short; a refusal is a
//! 4xx with a one-line reason; a worker's answer survives its wire form.
use crate::control::{parse_request, Answer, ControlRequest};

pub fn control(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (path, query) = text.split_once('?').unwrap_or((&text, ""));
    match parse_request(path, query) {
        Ok(req) => {
            let wire = req.to_wire();
            assert_eq!(
                ControlRequest::from_wire(&wire).as_ref(),
                Some(&req),
                "{wire}"
            );
        }
        Err((status, reason)) => {
            assert!((400..500).contains(&status), "status {status}");
            assert!(!reason.is_empty() && !reason.contains('\n'), "{reason:?}");
        }
    }
    let answer = Answer {
        count: data.len() as u64,
        path: Some(text.to_string()),
        error: None,
    };
    let back = Answer::from_wire(&answer.to_wire()).expect("an answer reads back");
    assert_eq!(back.count, answer.count);
    let _ = Answer::from_wire(&text);
}
