//! Reading a socket in bounded rounds: the one read path of RTMP sessions (conn.rs) and push
//! relays (relay/push.rs). At most `ROUNDS` reads per event, so one busy peer cannot starve
//! the worker; if the socket still has data, the event is posted to run again after the
//! others.
use core::ptr::addr_of_mut;

use nginx_sys::{ngx_connection_t, ngx_event_t};

use super::worker::with_scratch;

const ROUNDS: usize = 16;

pub enum ReadEnd {
    /// Everything readable was read; the read event is armed again (or posted).
    Wait,
    /// `feed` returned false: the caller has already dealt with the connection, which must
    /// not be touched here any more.
    Stopped,
    /// The peer closed its side.
    Closed,
    /// recv() failed (nginx has logged why).
    RecvFailed,
    /// The read event could not be armed again.
    ArmFailed,
}

/// Reads from `c` and hands each piece to `feed`, which returns false to stop.
///
/// # Safety
/// `c` must be a live connection and `rev` its read event.
pub unsafe fn read_bounded(
    c: *mut ngx_connection_t,
    rev: *mut ngx_event_t,
    mut feed: impl FnMut(&[u8]) -> bool,
) -> ReadEnd {
    // SAFETY: guaranteed by the caller; after `feed` returns false, c is not touched again.
    unsafe {
        for _ in 0..ROUNDS {
            let (n, go_on) = with_scratch(|buf| {
                let n = ((*c).recv.unwrap())(c, buf.as_mut_ptr(), buf.len());
                let go_on = n <= 0 || feed(&buf[..n as usize]);
                (n, go_on)
            });
            if n == nginx_sys::NGX_AGAIN as isize {
                break;
            }
            if n == 0 {
                return ReadEnd::Closed;
            }
            if n < 0 {
                return ReadEnd::RecvFailed;
            }
            if !go_on {
                return ReadEnd::Stopped;
            }
            if (*rev).ready() == 0 {
                break;
            }
        }
        if (*rev).ready() != 0 {
            nginx_sys::ngx_post_event(rev, addr_of_mut!(nginx_sys::ngx_posted_events));
        } else if nginx_sys::ngx_handle_read_event(rev, 0) != nginx_sys::NGX_OK as isize {
            return ReadEnd::ArmFailed;
        }
        ReadEnd::Wait
    }
}
