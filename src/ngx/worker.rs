//! Per-worker runtime state: the stream hub and session ids. A worker is one thread, so
//! thread-locals are its globals; a new worker (after reload) starts with a fresh hub.
use ngx_rtmp_core::hub::Hub;
use std::cell::{Cell, RefCell};

thread_local! {
    static HUB: RefCell<Hub> = RefCell::new(Hub::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; 64 * 1024]);
}

pub fn with_hub<R>(f: impl FnOnce(&mut Hub) -> R) -> R {
    HUB.with(|h| f(&mut h.borrow_mut()))
}

pub fn next_session_id() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// A read buffer shared by every connection of the worker: sessions copy what they keep.
pub fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}
