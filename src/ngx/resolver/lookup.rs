//! Host names resolved at run time through nginx's asynchronous resolver (`resolver` in
//! rtmp{} or server{}): a UDP query in the event loop, so a hook URL or a push target named by
//! host never blocks the worker. nginx's resolver caches answers for their TTL (or `valid=`).
use super::Resolver;
use crate::ngx::ffi::ngx_str;
use crate::ngx::relay::from_sockaddr;
use nginx_sys::{ngx_int_t, ngx_resolver_ctx_t, ngx_str_t};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub type Resolved = Result<Vec<SocketAddr>, String>;
pub type Done = Box<dyn FnOnce(Resolved)>;

pub enum Started {
    /// The answer comes later, to `done`; the id cancels it.
    Pending(u64),
    /// nginx answered at once (a cached name, or an error): `done` is not called.
    Ready(Resolved),
}

struct Lookup {
    ctx: *mut ngx_resolver_ctx_t,
    /// The name nginx reads while it resolves (ctx->name points here).
    name: Vec<u8>,
    port: u16,
    done: Option<Done>,
    /// Set while ngx_resolve_name runs: an answer then is returned, not delivered.
    starting: bool,
    early: Option<Resolved>,
}

thread_local! {
    static LOOKUPS: RefCell<BTreeMap<u64, Box<Lookup>>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(1) };
}

/// nginx's `ngx_resolve_start` answer when the resolver has no name servers.
const NGX_NO_RESOLVER: *mut ngx_resolver_ctx_t = usize::MAX as *mut ngx_resolver_ctx_t;

/// Resolves `host` (a name, not an address) for `port`.
pub fn lookup(res: Resolver, host: &str, port: u16, done: Done) -> Started {
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    // SAFETY: res.r is a resolver nginx made for this cycle's configuration.
    let ctx = unsafe { nginx_sys::ngx_resolve_start(res.r, std::ptr::null_mut()) };
    if ctx.is_null() {
        return Started::Ready(Err("out of memory".into()));
    }
    if ctx == NGX_NO_RESOLVER {
        return Started::Ready(Err("the resolver has no name servers".into()));
    }
    let mut l = Box::new(Lookup {
        ctx,
        name: host.as_bytes().to_vec(),
        port,
        done: Some(done),
        starting: true,
        early: None,
    });
    // SAFETY: ctx is a fresh resolver context; the name's buffer lives in the Lookup until
    // ngx_resolve_name_done.
    unsafe {
        (*ctx).name = ngx_str_t {
            len: l.name.len(),
            data: l.name.as_mut_ptr(),
        };
        (*ctx).handler = Some(resolved);
        (*ctx).data = id as *mut std::ffi::c_void;
        (*ctx).timeout = res.timeout;
        // A worker that shuts down need not wait for an answer.
        (*ctx).set_cancelable(1);
    }
    LOOKUPS.with(|m| m.borrow_mut().insert(id, l));
    // SAFETY: ctx is set up above; on error nginx frees it (and never calls the handler).
    let rc = unsafe { nginx_sys::ngx_resolve_name(ctx) };
    let entry = LOOKUPS.with(|m| {
        let mut m = m.borrow_mut();
        if rc != nginx_sys::NGX_OK as ngx_int_t {
            return m
                .remove(&id)
                .map(|_| Some(Err("cannot start resolving".to_string())));
        }
        let l = m.get_mut(&id)?;
        l.starting = false;
        match l.early.take() {
            Some(r) => {
                m.remove(&id);
                Some(Some(r))
            }
            None => Some(None),
        }
    });
    match entry {
        Some(Some(r)) => Started::Ready(r),
        _ => Started::Pending(id),
    }
}

/// Forgets a pending lookup: its `done` is never called.
pub fn cancel(id: u64) {
    let l = LOOKUPS.with(|m| m.borrow_mut().remove(&id));
    if let Some(l) = l {
        // SAFETY: the context is still pending (the handler removes finished lookups).
        unsafe { nginx_sys::ngx_resolve_name_done(l.ctx) };
    }
}

/// What the context says, read before the context is released.
///
/// # Safety
/// `ctx` must be a context nginx is answering (inside its handler).
unsafe fn answer(ctx: *mut ngx_resolver_ctx_t, port: u16) -> Resolved {
    // SAFETY: guaranteed by the caller: state, addrs and naddrs are valid in the handler.
    unsafe {
        let name = ngx_str(&(*ctx).name);
        let state = (*ctx).state;
        if state != 0 {
            let why = std::ffi::CStr::from_ptr(nginx_sys::ngx_resolver_strerror(state))
                .to_string_lossy()
                .into_owned();
            return Err(format!("{name} could not be resolved ({state}: {why})"));
        }
        let addrs: Vec<SocketAddr> = (0..(*ctx).naddrs)
            .filter_map(|i| from_sockaddr((*(*ctx).addrs.add(i)).sockaddr as *const libc::sockaddr))
            .map(|mut a| {
                a.set_port(port);
                a
            })
            .collect();
        if addrs.is_empty() {
            return Err(format!("{name} could not be resolved (no addresses)"));
        }
        Ok(addrs)
    }
}

unsafe extern "C" fn resolved(ctx: *mut ngx_resolver_ctx_t) {
    crate::ngx::ffi::catch("resolver handler", (), || {
        // SAFETY: nginx calls the handler with the context lookup() set up; data is its id.
        let id = unsafe { (*ctx).data as u64 };
        let Some((port, starting)) =
            LOOKUPS.with(|m| m.borrow().get(&id).map(|l| (l.port, l.starting)))
        else {
            // Not ours any more; release the context all the same.
            // SAFETY: ctx is the context being answered.
            unsafe { nginx_sys::ngx_resolve_name_done(ctx) };
            return;
        };
        // SAFETY: inside the handler, then released once (and never touched again).
        let result = unsafe {
            let r = answer(ctx, port);
            nginx_sys::ngx_resolve_name_done(ctx);
            r
        };
        if starting {
            LOOKUPS.with(|m| {
                if let Some(l) = m.borrow_mut().get_mut(&id) {
                    l.early = Some(result);
                }
            });
            return;
        }
        let done = LOOKUPS.with(|m| m.borrow_mut().remove(&id).and_then(|mut l| l.done.take()));
        if let Some(done) = done {
            done(result);
        }
    });
}
