//! The `exec` family at run time: commands started when a stream is published or played,
//! when a recording closes, and for the worker's life (exec_static). Each command line was
//! split into words at config time and each word is substituted on its own, so no value a
//! client sends can add arguments or reach a shell (there is none).
//!
//! - `session.rs`: the hooks app.rs and the recorders call (publish, play, leave, a
//!   recording closed) and what each starts or stops;
//! - `statics.rs`: exec_static;
//! - `children.rs`: one-shot and supervised children (kill, respawn timers, logging);
//! - `spawn.rs`: fork/exec of one child; `reaper.rs`: learning of exits before nginx.
mod children;
mod reaper;
mod session;
mod spawn;
mod statics;

pub use session::{leave, left, play, publish, relay_publish};

/// Worker start (init_process): the exec_static commands.
pub fn start() {
    statics::start();
}

/// Worker exit (exit_process): every supervised child is killed; notifications still
/// running are left to finish.
pub fn stop() {
    children::stop_all("worker exits");
    reaper::close();
}

/// Makes sure the worker watches its children; false when it cannot (then nothing starts).
fn watch() -> bool {
    static HOOKS: reaper::Hooks = reaper::Hooks {
        exited: children::exited,
        shutting_down: statics::stop,
    };
    reaper::ensure(&HOOKS)
}
