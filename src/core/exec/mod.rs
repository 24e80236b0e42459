//! The `exec` family's decisions, without processes: which variables a command sees
//! (`vars`), what exactly to start for a command line (`launch`: program, arguments,
//! standard descriptors) and when a stream's `exec_pull` runs (`pull`). The shell forks,
//! signals and reaps (src/ngx/exec/).

pub mod launch;
pub mod pull;
pub mod vars;

pub use launch::{plan, Launch, Target};
pub use pull::PullTracker;
pub use vars::{ExecVars, SessionVars};
