//! `exec_static`: commands that run for the life of the worker, started by the first worker
//! only, as nginx-rtmp does (they are not tied to a stream, and RTMP sessions are served by
//! worker 0). They are stopped when the worker starts shutting down, so the new workers of
//! a reload run theirs alone.
use super::children::{self, ChildId};
use crate::ngx::conf::RtmpConfCtx;
use crate::ngx::ngx_rtmp_core_module::{core_main_conf, core_srv_conf};
use crate::ngx::ngx_rtmp_exec_module::exec_conf;
use ngx_rtmp_core::exec::plan;
use std::cell::RefCell;

thread_local! {
    static STATICS: RefCell<Vec<ChildId>> = const { RefCell::new(Vec::new()) };
}

/// Every level's exec_static, with that level's respawn and kill settings.
pub fn start() {
    // SAFETY: ngx_worker is set once per worker process before init_process.
    if unsafe { nginx_sys::ngx_worker } != 0 {
        return;
    }
    let Some(main) = crate::ngx::stat::rtmp_ctx() else {
        return;
    };
    // SAFETY: main is the running cycle's rtmp{} context; server and application
    // contexts were made by new_level and live as long as the cycle.
    let levels: Vec<*mut RtmpConfCtx> = unsafe {
        let mut v = vec![main];
        for srv in &core_main_conf(main).servers {
            v.push(*srv);
            v.extend(core_srv_conf(*srv).applications.iter().map(|a| a.ctx));
        }
        v
    };
    for level in levels {
        // SAFETY: as above.
        let conf = exec_conf(unsafe { &*level });
        for cmd in &conf.statics {
            let id = children::supervise(
                "exec_static".into(),
                plan(cmd, None),
                conf.kill_signal(),
                conf.respawn_after(),
            );
            STATICS.with(|s| s.borrow_mut().push(id));
        }
    }
}

/// The worker is shutting down (reload, quit).
pub fn stop() {
    for id in STATICS.with(|s| std::mem::take(&mut *s.borrow_mut())) {
        children::stop(id, "worker is shutting down");
    }
}
