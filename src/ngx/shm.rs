//! The stat zone: shared memory where every worker (old workers draining after a reload too)
//! keeps its latest snapshot, so whichever worker answers `/stat` shows the whole server.
//! The control mailbox (mailbox.rs) follows the slots in the same region.
//!
//! The region lives in the zone's slab pool (nginx's own allocator heads every zone). Layout:
//! a header, then `nslots` slots of `SLOT_HEAD + slot_size` bytes. A worker claims a
//! free or stale slot by compare-and-swapping its pid into `owner`, then writes under a
//! seqlock (`seq` odd while writing). Readers copy a slot and keep it only if `seq` was even
//! and unchanged; they skip slots not updated recently (a crashed worker's).
use super::ffi::pool_str;
use super::mailbox::{mailbox_size, Mailbox};
use nginx_sys::{ngx_conf_t, ngx_int_t, ngx_shm_zone_t};
use std::ffi::c_void;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

const MAGIC: u32 = 0x5453_5452; // "RTST"
const HEADER: usize = 64;
const SLOT_HEAD: usize = 32;
/// Bytes of encoded snapshot a worker may keep: thousands of clients.
pub const SLOT_SIZE: usize = 1 << 20;

#[repr(C)]
struct Header {
    magic: AtomicU32,
    nslots: AtomicU32,
    slot_size: AtomicU32,
}

#[repr(C)]
struct SlotHead {
    owner: AtomicU32,
    seq: AtomicU32,
    len: AtomicU32,
    /// What the worker offers its peers (auto_push/peers.rs), refreshed with its snapshot.
    flags: AtomicU32,
    updated_ms: AtomicU64,
}

fn slots_size(nslots: usize) -> usize {
    HEADER + nslots * (SLOT_HEAD + SLOT_SIZE)
}

/// The stat slots, then the control mailbox.
fn region_size(nslots: usize) -> usize {
    slots_size(nslots) + mailbox_size(nslots)
}

/// Adds the zone to the configuration; nginx creates (or on reload keeps) it.
pub fn add_zone(cf: *mut ngx_conf_t, workers: usize, tag: *mut c_void) -> *mut ngx_shm_zone_t {
    // Old workers keep reporting while they drain after a reload, and a worker without a
    // slot is invisible to its peers (auto_push/), so no stream reaches its players: the
    // publishers' generation, the current one and those whose players still watch must all
    // fit. Room for eight generations (scripts/soak: reloads every 30 s with players that
    // stay a minute keep four alive).
    let nslots = (workers.max(1) * 8).clamp(16, 128);
    // nginx puts its slab allocator at the start of every zone (and its master inspects the
    // allocator's mutex when a worker exits), so our region is allocated from that slab pool:
    // room for the region plus the allocator's page bookkeeping.
    let region = region_size(nslots);
    let size = region + region / 32 + (64 << 10);
    // SAFETY: cf is the live parser state; the name is copied into the cycle pool.
    unsafe {
        let mut name = pool_str((*cf).pool, &format!("ngx_rtmp_stat_{nslots}"));
        let zone = nginx_sys::ngx_shared_memory_add(cf, &mut name, size, tag);
        if !zone.is_null() {
            (*zone).init = Some(init_zone);
        }
        zone
    }
}

unsafe extern "C" fn init_zone(zone: *mut ngx_shm_zone_t, data: *mut c_void) -> ngx_int_t {
    super::ffi::catch("stat zone init", nginx_sys::NGX_ERROR as ngx_int_t, || {
        // SAFETY: nginx has mapped the zone and initialised its slab pool at shm.addr.
        unsafe {
            let sp = (*zone).shm.addr as *mut nginx_sys::ngx_slab_pool_t;
            if !data.is_null() {
                // Reused across a reload: same name means same layout.
                (*zone).data = data;
                return nginx_sys::NGX_OK as ngx_int_t;
            }
            if (*zone).shm.exists != 0 {
                (*zone).data = (*sp).data;
                return nginx_sys::NGX_OK as ngx_int_t;
            }
            let nslots = nslots_of(&*zone);
            let region = region_size(nslots);
            let base = nginx_sys::ngx_slab_alloc(sp, region) as *mut u8;
            if base.is_null() {
                return nginx_sys::NGX_ERROR as ngx_int_t;
            }
            std::ptr::write_bytes(base, 0, region);
            let h = &*(base as *const Header);
            h.nslots.store(nslots as u32, Ordering::Relaxed);
            h.slot_size.store(SLOT_SIZE as u32, Ordering::Relaxed);
            h.magic.store(MAGIC, Ordering::Release);
            (*sp).data = base as *mut c_void;
            (*zone).data = base as *mut c_void;
        }
        nginx_sys::NGX_OK as ngx_int_t
    })
}

/// The slot count is in the zone's name (`ngx_rtmp_stat_N`), so a reload with another worker
/// count gets a zone of its own.
fn nslots_of(zone: &ngx_shm_zone_t) -> usize {
    super::ffi::ngx_str(&zone.shm.name)
        .rsplit('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4)
}

/// A view of an initialised zone.
pub struct StatZone {
    base: *mut u8,
    nslots: usize,
    slot_size: usize,
}

impl StatZone {
    /// # Safety
    /// `zone` must be a zone made by `add_zone` whose init has run (any time after start-up).
    pub unsafe fn from_zone(zone: *mut ngx_shm_zone_t) -> Option<StatZone> {
        if zone.is_null() {
            return None;
        }
        // SAFETY: guaranteed by the caller; the header is written before magic.
        unsafe {
            let base = (*zone).data as *mut u8;
            if base.is_null() {
                return None;
            }
            let h = &*(base as *const Header);
            if h.magic.load(Ordering::Acquire) != MAGIC {
                return None;
            }
            let nslots = h.nslots.load(Ordering::Relaxed) as usize;
            let slot_size = h.slot_size.load(Ordering::Relaxed) as usize;
            if nslots != nslots_of(&*zone) || slot_size != SLOT_SIZE {
                return None;
            }
            Some(StatZone {
                base,
                nslots,
                slot_size,
            })
        }
    }

    /// The control mailbox that follows the slots.
    pub fn mailbox(&self) -> Mailbox {
        // SAFETY: the region was allocated with room for the mailbox after the slots
        // (region_size), zeroed at creation, and lives as long as the zone.
        unsafe { Mailbox::new(self.base.add(slots_size(self.nslots)), self.nslots) }
    }

    /// Pids of the workers whose slots were refreshed within `max_age_ms`.
    pub fn live_pids(&self, now_ms: u64, max_age_ms: u64) -> Vec<u32> {
        let peers = self.peers(now_ms, max_age_ms);
        peers.into_iter().map(|(pid, _)| pid).collect()
    }

    fn head(&self, i: usize) -> &SlotHead {
        // SAFETY: i < nslots, checked against the mapping's size in from_zone; slot heads are
        // 8-aligned (HEADER and SLOT_HEAD + slot_size are multiples of 8).
        unsafe { &*(self.base.add(HEADER + i * (SLOT_HEAD + self.slot_size)) as *const SlotHead) }
    }

    fn data(&self, i: usize) -> *mut u8 {
        // SAFETY: as in head().
        unsafe {
            self.base
                .add(HEADER + i * (SLOT_HEAD + self.slot_size) + SLOT_HEAD)
        }
    }

    /// Pids and flags of the workers whose slots were refreshed within `max_age_ms`.
    pub fn peers(&self, now_ms: u64, max_age_ms: u64) -> Vec<(u32, u32)> {
        (0..self.nslots)
            .map(|i| self.head(i))
            .filter(|h| now_ms.saturating_sub(h.updated_ms.load(Ordering::Relaxed)) <= max_age_ms)
            .map(|h| {
                (
                    h.owner.load(Ordering::Acquire),
                    h.flags.load(Ordering::Relaxed),
                )
            })
            .filter(|&(pid, _)| pid != 0)
            .collect()
    }

    /// Writes this worker's snapshot and flags; false if it does not fit or no slot is free.
    pub fn publish(&self, pid: u32, flags: u32, now_ms: u64, stale_ms: u64, bytes: &[u8]) -> bool {
        if bytes.len() > self.slot_size {
            return false;
        }
        let Some(i) = self.claim(pid, now_ms, stale_ms) else {
            return false;
        };
        let h = self.head(i);
        let seq = h.seq.load(Ordering::Relaxed);
        h.seq.store(seq.wrapping_add(1) | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        // SAFETY: the slot is ours (owner == pid); data() has slot_size bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data(i), bytes.len()) };
        h.len.store(bytes.len() as u32, Ordering::Relaxed);
        h.flags.store(flags, Ordering::Relaxed);
        h.updated_ms.store(now_ms, Ordering::Relaxed);
        h.seq.store((seq | 1).wrapping_add(1), Ordering::Release);
        true
    }

    fn claim(&self, pid: u32, now_ms: u64, stale_ms: u64) -> Option<usize> {
        if let Some(i) =
            (0..self.nslots).find(|&i| self.head(i).owner.load(Ordering::Acquire) == pid)
        {
            return Some(i);
        }
        (0..self.nslots).find(|&i| {
            let h = self.head(i);
            let owner = h.owner.load(Ordering::Acquire);
            let stale = now_ms.saturating_sub(h.updated_ms.load(Ordering::Relaxed)) > stale_ms;
            (owner == 0 || stale)
                && h.owner
                    .compare_exchange(owner, pid, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
        })
    }

    /// Gives the slot back (a worker exiting).
    pub fn release(&self, pid: u32) {
        for i in 0..self.nslots {
            let h = self.head(i);
            if h.owner.load(Ordering::Acquire) == pid {
                h.len.store(0, Ordering::Relaxed);
                h.flags.store(0, Ordering::Relaxed);
                h.updated_ms.store(0, Ordering::Relaxed);
                h.owner.store(0, Ordering::Release);
            }
        }
    }

    /// Copies every slot updated within `max_age_ms`.
    pub fn read_all(&self, now_ms: u64, max_age_ms: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..self.nslots {
            let h = self.head(i);
            for _ in 0..4 {
                let before = h.seq.load(Ordering::Acquire);
                if before & 1 == 1 {
                    std::hint::spin_loop();
                    continue;
                }
                if h.owner.load(Ordering::Acquire) == 0
                    || now_ms.saturating_sub(h.updated_ms.load(Ordering::Relaxed)) > max_age_ms
                {
                    break;
                }
                let len = (h.len.load(Ordering::Relaxed) as usize).min(self.slot_size);
                let mut buf = vec![0u8; len];
                // SAFETY: data() has slot_size bytes; a torn copy is discarded below.
                unsafe { std::ptr::copy_nonoverlapping(self.data(i), buf.as_mut_ptr(), len) };
                fence(Ordering::Acquire);
                if h.seq.load(Ordering::Relaxed) == before {
                    out.push(buf);
                    break;
                }
            }
        }
        out
    }
}
