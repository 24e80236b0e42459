//! Directives accepted with the C module's syntax whose behaviour lands in a later release:
//! each use is recorded, and nginx logs one `warn` naming them all once the config is read.
use std::sync::Mutex;

static DEFERRED: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn note(name: &str) {
    if let Ok(mut v) = DEFERRED.lock() {
        if !v.iter().any(|n| n == name) {
            v.push(name.to_string());
        }
    }
}

/// Forgets what an earlier configuration read recorded (a new cycle starts).
pub fn reset() {
    if let Ok(mut v) = DEFERRED.lock() {
        v.clear();
    }
}

pub fn take() -> Vec<String> {
    DEFERRED
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}
