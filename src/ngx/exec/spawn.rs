//! Starting one child: fork and exec the program directly (no shell), its standard
//! descriptors on /dev/null or the files its redirections name, in a process group of its
//! own (so a kill reaches what it started), and no descriptor of the worker's (listening
//! sockets, connections, logs) leaking into it.
use super::reaper;
use ngx_rtmp_core::exec::{Launch, Target};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Starts `launch`; the child gets `parent_death` when the worker dies (so a crashed or
/// killed worker leaves no orphan). Returns its pid, tracked by the reaper (which must be
/// watching already: SIGCHLD is blocked, so a child that fails to exec is std's to wait for
/// and any other is tracked before anyone reaps it).
pub fn spawn(launch: &Launch, parent_death: Option<i32>) -> io::Result<i32> {
    // Files are opened here, as the worker's user, in the worker's directory, as the child
    // would have opened them.
    let files = launch
        .targets
        .iter()
        .map(open)
        .collect::<io::Result<Vec<File>>>()?;
    let stdio = |i: usize| -> io::Result<Stdio> {
        match launch.stdio[i].and_then(|t| files.get(t)) {
            Some(f) => Ok(Stdio::from(f.try_clone()?)),
            None => Ok(Stdio::null()),
        }
    };
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .stdin(stdio(0)?)
        .stdout(stdio(1)?)
        .stderr(stdio(2)?)
        .process_group(0);
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls (prctl, getppid, sigprocmask, close_range/fcntl); it allocates nothing.
    unsafe { cmd.pre_exec(move || in_child(parent_death, parent)) };
    let child = cmd.spawn()?;
    let pid = child.id() as i32;
    // Dropping a std Child neither waits for nor kills it: the reaper owns it now.
    drop(child);
    reaper::track(pid);
    Ok(pid)
}

fn open(t: &Target) -> io::Result<File> {
    let mut o = OpenOptions::new();
    match t {
        Target::Write { path, append } => {
            o.create(true).mode(0o644);
            if *append {
                o.append(true);
            } else {
                o.write(true).truncate(true);
            }
            o.open(path)
        }
        Target::Read { path } => o.read(true).open(path),
    }
    .map_err(|e| io::Error::new(e.kind(), format!("\"{}\": {e}", target_path(t))))
}

fn target_path(t: &Target) -> &str {
    match t {
        Target::Write { path, .. } | Target::Read { path } => path,
    }
}

/// Between fork and exec.
fn in_child(parent_death: Option<i32>, parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: plain system calls on this (the child) process.
    unsafe {
        if let Some(sig) = parent_death {
            libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong);
            // The worker may have died before prctl: then nobody would ever stop us.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
        }
        // The worker spawns with SIGCHLD blocked; the program starts with nothing blocked.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        // nginx opens its sockets and files without close-on-exec.
        let r = libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
        if r != 0 {
            // Kernels before 5.11: mark them one by one.
            let max = libc::sysconf(libc::_SC_OPEN_MAX).clamp(3, 1 << 20) as libc::c_int;
            for fd in 3..max {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    }
    Ok(())
}
