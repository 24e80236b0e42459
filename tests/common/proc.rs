//! Child processes with bounded lifetimes. Every child we spawn is killed by its PID
//! when its guard drops or its time limit passes.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Output {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.map(|s| s.success()).unwrap_or(false)
    }
}

/// A spawned child with captured stdout/stderr, killed (SIGKILL by PID) on drop.
pub struct ChildGuard {
    pub name: String,
    child: Option<Child>,
    out: Option<JoinHandle<Vec<u8>>>,
    err: Option<JoinHandle<Vec<u8>>>,
    started: Instant,
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> Option<JoinHandle<Vec<u8>>> {
    r.map(|mut r| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    })
}

impl ChildGuard {
    /// Spawn with stdin null, stdout and stderr captured.
    pub fn spawn(mut cmd: Command) -> ChildGuard {
        let name = format!("{:?}", cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {}", name, e));
        let out = reader(child.stdout.take());
        let err = reader(child.stderr.take());
        ChildGuard {
            name,
            child: Some(child),
            out,
            err,
            started: Instant::now(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// Send a signal to this child (by its PID).
    pub fn signal(&mut self, sig: i32) {
        if self.is_running() {
            super::signal(self.pid(), sig);
        }
    }

    /// Wait until the child exits or `limit` passes; on timeout it is killed (SIGKILL)
    /// and `timed_out` is set. Collects the output.
    pub fn wait_bounded(mut self, limit: Duration) -> Output {
        let mut child = self.child.take().unwrap();
        let t0 = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break Some(st);
            }
            if t0.elapsed() > limit {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self
            .out
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = self
            .err
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Output {
            status,
            timed_out,
            stdout: String::from_utf8_lossy(&stdout).to_string(),
            stderr: String::from_utf8_lossy(&stderr).to_string(),
        }
    }

    /// Stop the child now: `sig` first (e.g. SIGINT so ffmpeg/rtmpdump flush), then
    /// SIGKILL after `grace`. Collects the output.
    pub fn stop(mut self, sig: i32, grace: Duration) -> Output {
        self.signal(sig);
        self.wait_bounded(grace)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if c.try_wait().ok().flatten().is_none() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// Run a command to completion with a time limit (killed on timeout).
pub fn run_bounded(cmd: Command, limit: Duration) -> Output {
    ChildGuard::spawn(cmd).wait_bounded(limit)
}
