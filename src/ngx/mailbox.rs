//! The control mailbox: how an HTTP request for `/control` reaches every worker. It lives in
//! the stat zone after the stat slots (shm.rs reserves it).
//!
//! The worker that took the HTTP request posts the request text into a free request slot; every
//! worker's poll timer (control.rs) sees it, acts on its own sessions, and writes its answer
//! into an answer slot it claims by pid; the poster collects the answers of every live worker
//! and frees the slot. A slot whose poster vanished is reclaimed after `STALE_MS`.
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const NREQ: usize = 8;
const TEXT: usize = 1024;
const REQ_HEAD: usize = 32;
const ANS_HEAD: usize = 16;
const ANS_SIZE: usize = ANS_HEAD + TEXT;
const MB_HEAD: usize = 64;
const STALE_MS: u64 = 10_000;

const FREE: u32 = 0;
const WRITING: u32 = 1;
const POSTED: u32 = 2;

#[repr(C)]
struct MbHead {
    next_id: AtomicU64,
}

#[repr(C)]
struct ReqHead {
    state: AtomicU32,
    len: AtomicU32,
    id: AtomicU64,
    posted_ms: AtomicU64,
}

#[repr(C)]
struct AnsHead {
    pid: AtomicU32,
    len: AtomicU32,
    done: AtomicU64,
}

fn req_size(nslots: usize) -> usize {
    REQ_HEAD + TEXT + nslots * ANS_SIZE
}

/// Bytes the mailbox needs for `nslots` workers.
pub fn mailbox_size(nslots: usize) -> usize {
    MB_HEAD + NREQ * req_size(nslots)
}

pub struct Mailbox {
    base: *mut u8,
    nslots: usize,
}

impl Mailbox {
    /// # Safety
    /// `base` must point at `mailbox_size(nslots)` zeroed-or-initialised, 8-aligned bytes of
    /// shared memory that outlive the Mailbox.
    pub unsafe fn new(base: *mut u8, nslots: usize) -> Mailbox {
        Mailbox { base, nslots }
    }

    fn head(&self) -> &MbHead {
        // SAFETY: base is 8-aligned and the region starts with the mailbox head (new()).
        unsafe { &*(self.base as *const MbHead) }
    }

    fn req(&self, i: usize) -> *mut u8 {
        // SAFETY: i < NREQ; the region holds NREQ request blocks after the head.
        unsafe { self.base.add(MB_HEAD + i * req_size(self.nslots)) }
    }

    fn req_head(&self, i: usize) -> &ReqHead {
        // SAFETY: request blocks are 8-aligned (all sizes are multiples of 8).
        unsafe { &*(self.req(i) as *const ReqHead) }
    }

    fn ans(&self, i: usize, j: usize) -> *mut u8 {
        // SAFETY: j < nslots answer blocks follow the request's text.
        unsafe { self.req(i).add(REQ_HEAD + TEXT + j * ANS_SIZE) }
    }

    fn ans_head(&self, i: usize, j: usize) -> &AnsHead {
        // SAFETY: answer blocks are 8-aligned.
        unsafe { &*(self.ans(i, j) as *const AnsHead) }
    }

    /// Posts a request; None when it is too long or every slot is busy.
    pub fn post(&self, text: &str, now_ms: u64) -> Option<(usize, u64)> {
        if text.len() > TEXT {
            return None;
        }
        let i = (0..NREQ).find(|&i| {
            let h = self.req_head(i);
            let state = h.state.load(Ordering::Acquire);
            let stale = state != FREE
                && now_ms.saturating_sub(h.posted_ms.load(Ordering::Relaxed)) > STALE_MS;
            (state == FREE || stale)
                && h.state
                    .compare_exchange(state, WRITING, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
        })?;
        let h = self.req_head(i);
        for j in 0..self.nslots {
            let a = self.ans_head(i, j);
            a.done.store(0, Ordering::Relaxed);
            a.len.store(0, Ordering::Relaxed);
            a.pid.store(0, Ordering::Relaxed);
        }
        // SAFETY: the slot is ours while WRITING; the text area has TEXT bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.req(i).add(REQ_HEAD), text.len())
        };
        let id = self.head().next_id.fetch_add(1, Ordering::Relaxed) + 1;
        h.len.store(text.len() as u32, Ordering::Relaxed);
        h.id.store(id, Ordering::Relaxed);
        h.posted_ms.store(now_ms, Ordering::Relaxed);
        h.state.store(POSTED, Ordering::Release);
        Some((i, id))
    }

    /// Requests posted and not yet answered by `pid`: (slot, id, text).
    pub fn pending_for(&self, pid: u32) -> Vec<(usize, u64, String)> {
        let mut v = Vec::new();
        for i in 0..NREQ {
            let h = self.req_head(i);
            if h.state.load(Ordering::Acquire) != POSTED {
                continue;
            }
            let id = h.id.load(Ordering::Relaxed);
            let done = (0..self.nslots).any(|j| {
                let a = self.ans_head(i, j);
                a.pid.load(Ordering::Acquire) == pid && a.done.load(Ordering::Acquire) == id
            });
            if done {
                continue;
            }
            let len = (h.len.load(Ordering::Relaxed) as usize).min(TEXT);
            // SAFETY: the text was written before state became POSTED (Release/Acquire).
            let bytes = unsafe { std::slice::from_raw_parts(self.req(i).add(REQ_HEAD), len) };
            if let Ok(text) = std::str::from_utf8(bytes) {
                v.push((i, id, text.to_string()));
            }
        }
        v
    }

    /// Writes `pid`'s answer to request `id` in slot `i`; false if it is gone or full.
    pub fn answer(&self, i: usize, id: u64, pid: u32, text: &str) -> bool {
        let h = self.req_head(i);
        if h.state.load(Ordering::Acquire) != POSTED || h.id.load(Ordering::Relaxed) != id {
            return false;
        }
        let text = &text.as_bytes()[..text.len().min(TEXT)];
        let Some(j) = (0..self.nslots).find(|&j| {
            let a = self.ans_head(i, j);
            let owner = a.pid.load(Ordering::Acquire);
            owner == pid
                || (owner == 0
                    && a.pid
                        .compare_exchange(0, pid, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok())
        }) else {
            return false;
        };
        let a = self.ans_head(i, j);
        // SAFETY: answer slot j is ours (pid); its text area has TEXT bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.ans(i, j).add(ANS_HEAD), text.len())
        };
        a.len.store(text.len() as u32, Ordering::Relaxed);
        a.done.store(id, Ordering::Release);
        true
    }

    /// The answers to request `id` so far: (pid, text).
    pub fn answers(&self, i: usize, id: u64) -> Vec<(u32, String)> {
        let mut v = Vec::new();
        for j in 0..self.nslots {
            let a = self.ans_head(i, j);
            if a.done.load(Ordering::Acquire) != id {
                continue;
            }
            let len = (a.len.load(Ordering::Relaxed) as usize).min(TEXT);
            // SAFETY: written before done was stored (Release/Acquire).
            let bytes = unsafe { std::slice::from_raw_parts(self.ans(i, j).add(ANS_HEAD), len) };
            v.push((
                a.pid.load(Ordering::Relaxed),
                String::from_utf8_lossy(bytes).into_owned(),
            ));
        }
        v
    }

    /// Frees slot `i` if it still holds request `id`.
    pub fn release(&self, i: usize, id: u64) {
        let h = self.req_head(i);
        if h.id.load(Ordering::Relaxed) == id {
            let _ = h
                .state
                .compare_exchange(POSTED, FREE, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}
