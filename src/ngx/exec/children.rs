//! The worker's children: one-shot notifications, which run to their end on their own, and
//! supervised commands (exec_push, exec_pull, exec_static), which are killed when their
//! stream or the worker ends and started again `respawn_timeout` after they exit.
use super::spawn::spawn;
use crate::ngx::ffi::log;
use nginx_sys::{ngx_event_t, NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::exec::Launch;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A supervised command.
pub type ChildId = u64;

struct Supervised {
    /// What the log calls it: `exec_push live/cam`.
    what: String,
    launch: Launch,
    kill_signal: i32,
    respawn_after: Option<u64>,
    pid: Option<i32>,
    timer: Box<RespawnTimer>,
}

/// The respawn timer of one supervised command; `ev` first, so the event pointer nginx
/// hands the handler is the struct's.
#[repr(C)]
struct RespawnTimer {
    ev: ngx_event_t,
    id: ChildId,
}

/// A running process, supervised (`owner`) or not.
struct Running {
    program: String,
    owner: Option<ChildId>,
}

thread_local! {
    static SUPERVISED: RefCell<HashMap<ChildId, Supervised>> = RefCell::new(HashMap::new());
    static RUNNING: RefCell<HashMap<i32, Running>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<ChildId> = const { Cell::new(1) };
    /// What nginx's timer code reads as a timer's connection (its fd, in debug lines).
    static PLACEHOLDER: *mut nginx_sys::ngx_connection_t = {
        let c: &'static mut nginx_sys::ngx_connection_t = Box::leak(Box::new(
            // SAFETY: an all-zero ngx_connection_t is a valid placeholder; only fd is read.
            unsafe { std::mem::zeroed::<nginx_sys::ngx_connection_t>() },
        ));
        c.fd = -1;
        c
    };
}

fn clog() -> *mut nginx_sys::ngx_log_t {
    // SAFETY: ngx_cycle is the running cycle; its log is valid in a worker.
    unsafe { (*nginx_sys::ngx_cycle).log }
}

fn exiting() -> bool {
    // SAFETY: nginx sets ngx_exiting in this (the worker's) thread.
    unsafe { nginx_sys::ngx_exiting != 0 }
}

/// Starts `launch`, logging the start or the failure. Supervised children die with the
/// worker (PR_SET_PDEATHSIG); notifications may outlive it.
fn start(what: &str, launch: &Launch, owner: Option<(ChildId, i32)>) -> Option<i32> {
    if !super::watch() {
        return None;
    }
    match spawn(launch, owner.map(|(_, sig)| sig)) {
        Ok(pid) => {
            log(
                clog(),
                NGX_LOG_INFO,
                &format!("exec: started \"{}\" pid {pid} ({what})", launch.program),
            );
            RUNNING.with(|r| {
                r.borrow_mut().insert(
                    pid,
                    Running {
                        program: launch.program.clone(),
                        owner: owner.map(|(id, _)| id),
                    },
                )
            });
            Some(pid)
        }
        Err(e) => {
            log(
                clog(),
                NGX_LOG_ERR,
                &format!("exec: \"{}\" failed to start ({what}): {e}", launch.program),
            );
            None
        }
    }
}

/// A one-shot notification.
pub fn run_once(what: &str, launch: &Launch) {
    start(what, launch, None);
}

/// Starts a supervised command; it runs until `stop`.
pub fn supervise(
    what: String,
    launch: Launch,
    kill_signal: i32,
    respawn_after: Option<u64>,
) -> ChildId {
    let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
    let mut timer = Box::new(RespawnTimer {
        // SAFETY: an all-zero ngx_event_t is nginx's own starting state (ngx_pcalloc).
        ev: unsafe { std::mem::zeroed() },
        id,
    });
    timer.ev.handler = Some(respawn_handler);
    timer.ev.data = PLACEHOLDER.with(|p| *p) as *mut std::ffi::c_void;
    timer.ev.log = clog();
    // A pending respawn does not keep a shutting-down worker alive.
    timer.ev.set_cancelable(1);
    let pid = start(&what, &launch, Some((id, kill_signal)));
    let mut s = Supervised {
        what,
        launch,
        kill_signal,
        respawn_after,
        pid,
        timer,
    };
    if pid.is_none() {
        schedule_respawn(&mut s);
    }
    SUPERVISED.with(|m| m.borrow_mut().insert(id, s));
    id
}

/// Stops a supervised command: no more respawns, and its process group gets the kill
/// signal (what it started itself goes too).
pub fn stop(id: ChildId, why: &str) {
    let Some(mut s) = SUPERVISED.with(|m| m.borrow_mut().remove(&id)) else {
        return;
    };
    if s.timer.ev.timer_set() != 0 {
        // SAFETY: the timer is in nginx's tree; it is removed before its box is freed.
        unsafe { nginx_sys::ngx_del_timer(&mut s.timer.ev) };
    }
    if let Some(pid) = s.pid {
        log(
            clog(),
            NGX_LOG_INFO,
            &format!(
                "exec: killing \"{}\" pid {pid} with signal {} ({}: {why})",
                s.launch.program, s.kill_signal, s.what
            ),
        );
        kill(pid, s.kill_signal);
        // Its exit, when reaped, is logged as that of a command nobody waits for.
        RUNNING.with(|r| {
            if let Some(run) = r.borrow_mut().get_mut(&pid) {
                run.owner = None;
            }
        });
    }
}

/// Signals the child and its process group. While the child is not reaped (reaping happens
/// only in the reaper's event handler, not now) its pid is its own; its group id stays
/// allocated while anything it started runs, so neither signal can reach a stranger.
fn kill(pid: i32, sig: i32) {
    // SAFETY: see above.
    unsafe {
        libc::kill(-pid, sig);
        if super::reaper::unreaped(pid) {
            // It may have left its group (setsid).
            libc::kill(pid, sig);
        }
    }
}

/// Stops every supervised command (the worker exits).
pub fn stop_all(why: &str) {
    let ids: Vec<ChildId> = SUPERVISED.with(|m| m.borrow().keys().copied().collect());
    for id in ids {
        stop(id, why);
    }
}

/// A child was reaped: log how it ended; a supervised one is started again later.
pub fn exited(pid: i32, status: i32) {
    let Some(run) = RUNNING.with(|r| r.borrow_mut().remove(&pid)) else {
        return;
    };
    let how = describe(status);
    let respawn = run.owner.and_then(|id| {
        SUPERVISED.with(|m| {
            let mut m = m.borrow_mut();
            let s = m.get_mut(&id).filter(|s| s.pid == Some(pid))?;
            s.pid = None;
            schedule_respawn(s)
        })
    });
    let next = match respawn {
        Some(ms) => format!(", respawning in {ms} ms"),
        None => String::new(),
    };
    log(
        clog(),
        NGX_LOG_INFO,
        &format!("exec: \"{}\" pid {pid} {how}{next}", run.program),
    );
}

/// Arms the respawn timer; the delay, or None when the command is not respawned.
fn schedule_respawn(s: &mut Supervised) -> Option<u64> {
    let after = s.respawn_after?;
    if exiting() {
        return None;
    }
    // Even a zero timeout goes through the timer: a program that fails at once must not
    // respawn within the same event.
    // SAFETY: the timer lives in the Supervised entry, which deletes it before freeing it.
    unsafe { nginx_sys::ngx_add_timer(&mut s.timer.ev, after as nginx_sys::ngx_msec_t) };
    Some(after)
}

unsafe extern "C" fn respawn_handler(ev: *mut ngx_event_t) {
    crate::ngx::ffi::catch("exec respawn", (), || {
        // SAFETY: every respawn event is the first field of a live RespawnTimer.
        let id = unsafe { (*(ev as *mut RespawnTimer)).id };
        let Some((what, launch, sig)) = SUPERVISED.with(|m| {
            m.borrow()
                .get(&id)
                .filter(|s| s.pid.is_none())
                .map(|s| (s.what.clone(), s.launch.clone(), s.kill_signal))
        }) else {
            return;
        };
        if exiting() {
            return;
        }
        let pid = start(&what, &launch, Some((id, sig)));
        SUPERVISED.with(|m| {
            if let Some(s) = m.borrow_mut().get_mut(&id) {
                s.pid = pid;
                if pid.is_none() {
                    schedule_respawn(s);
                }
            }
        });
    });
}

/// "exited with code 1", "was killed by signal 9" (not nginx's "exited on signal", which
/// its users watch for as a crash).
fn describe(status: i32) -> String {
    if status == super::reaper::STATUS_UNKNOWN {
        "exited".into()
    } else if libc::WIFSIGNALED(status) {
        format!("was killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("exited with code {}", libc::WEXITSTATUS(status))
    }
}
