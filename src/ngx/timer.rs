//! Standalone worker timers: events that belong to no connection and live as long as the
//! worker process.
use nginx_sys::{ngx_event_handler_pt, ngx_event_t, ngx_log_t};

/// A leaked, cancelable timer event with `handler`, logging through `log`.
pub fn worker_timer(log: *mut ngx_log_t, handler: ngx_event_handler_pt) -> *mut ngx_event_t {
    let ev: &'static mut ngx_event_t = Box::leak(Box::new(
        // SAFETY: an all-zero ngx_event_t is nginx's own starting state (ngx_pcalloc).
        unsafe { std::mem::zeroed::<ngx_event_t>() },
    ));
    ev.handler = handler;
    // nginx's timer code names an event by its connection's fd (debug log): a timer that
    // belongs to no connection points at a placeholder, as nginx's own standalone timers do.
    let placeholder: &'static mut nginx_sys::ngx_connection_t = Box::leak(Box::new(
        // SAFETY: an all-zero ngx_connection_t is a valid placeholder; only fd is read.
        unsafe { std::mem::zeroed::<nginx_sys::ngx_connection_t>() },
    ));
    placeholder.fd = -1;
    ev.data = placeholder as *mut nginx_sys::ngx_connection_t as *mut std::ffi::c_void;
    ev.log = log;
    // The worker need not wait for this timer when it shuts down.
    ev.set_cancelable(1);
    ev
}
