//! Per-worker runtime state: the stream hub, the live connections and the worker's counters.
//! A worker is one thread, so thread-locals are its globals; a new worker (after reload)
//! starts fresh.
use super::conn::{now, Conn};
use ngx_rtmp_core::hub::Hub;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

thread_local! {
    static HUB: RefCell<Hub> = RefCell::new(Hub::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; 64 * 1024]);
    /// Live connections by session id (the Conn pointers the driver owns).
    static CONNS: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
    static COUNTERS: Cell<Counters> = const { Cell::new(Counters { accepted: 0, closed_in: 0, closed_out: 0 }) };
}

/// Worker totals: accepted sessions, and the bytes of sessions that have ended.
#[derive(Clone, Copy, Default)]
pub struct Counters {
    pub accepted: u64,
    pub closed_in: u64,
    pub closed_out: u64,
}

/// Runs `f` on the worker's hub, telling it the time first.
pub fn with_hub<R>(f: impl FnOnce(&mut Hub) -> R) -> R {
    HUB.with(|h| {
        let mut hub = h.borrow_mut();
        hub.set_now(now() as u64);
        f(&mut hub)
    })
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

pub fn register(conn: *mut Conn, id: u64) {
    CONNS.with(|c| c.borrow_mut().insert(id, conn as usize));
    // SAFETY: conn is the live Conn just made.
    if unsafe { (*conn).from_worker } {
        return;
    }
    COUNTERS.with(|c| {
        let mut v = c.get();
        v.accepted += 1;
        c.set(v);
    });
}

pub fn unregister(id: u64, bytes_in: u64, bytes_out: u64) {
    CONNS.with(|c| c.borrow_mut().remove(&id));
    COUNTERS.with(|c| {
        let mut v = c.get();
        v.closed_in += bytes_in;
        v.closed_out += bytes_out;
        c.set(v);
    });
}

pub fn counters() -> Counters {
    COUNTERS.with(Cell::get)
}

/// Visits every live connection of the worker.
pub fn for_each_conn(mut f: impl FnMut(&Conn)) {
    CONNS.with(|c| {
        for ptr in c.borrow().values() {
            // SAFETY: registered pointers are live Conns; close_connection unregisters before
            // freeing, and nothing here runs while a handler holds a Conn mutably.
            f(unsafe { &*(*ptr as *const Conn) });
        }
    });
}
