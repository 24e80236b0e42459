//! One nginx under test: its own prefix, one worker, loopback only, stopped by its PID.

use crate::procfs;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
    pub workers: Vec<u32>,
    child: Option<Child>,
}

/// The same configuration for both modules; `store` has the storage work (HLS and recording).
fn config(module: &Path, dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "load_module {so};\n\
         worker_processes 1;\n\
         daemon off;\n\
         master_process on;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         worker_rlimit_nofile 20000;\n\
         events {{ worker_connections 10000; }}\n\
         rtmp {{\n\
         \x20   server {{\n\
         \x20       listen 127.0.0.1:{port};\n\
         \x20       chunk_size 4096;\n\
         \x20       application live {{ live on; }}\n\
         \x20       application store {{\n\
         \x20           live on;\n\
         \x20           hls on; hls_path {d}/hls; hls_fragment 2s; hls_playlist_length 10s;\n\
         \x20           record all; record_path {d}/rec;\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n",
        so = module.display()
    )
}

fn free_port() -> Option<u16> {
    Some(
        std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port(),
    )
}

impl Server {
    /// Starts nginx with `module` in a fresh `dir`; retried on another port if the first one
    /// was taken in the meantime.
    pub fn start(nginx: &Path, module: &Path, dir: &Path) -> Result<Server, String> {
        let mut last = String::new();
        for attempt in 0..3 {
            let d = dir.join(format!("try{attempt}"));
            // Workers run as nginx's unprivileged user when the master is root: they must be
            // able to write the HLS and recording directories.
            for sub in ["", "hls", "rec"] {
                fs::create_dir_all(d.join(sub)).map_err(|e| format!("{}: {e}", d.display()))?;
                let _ = fs::set_permissions(
                    d.join(sub),
                    std::os::unix::fs::PermissionsExt::from_mode(0o777),
                );
            }
            let port = free_port().ok_or("no free port")?;
            let conf = d.join("nginx.conf");
            fs::write(&conf, config(module, &d, port)).map_err(|e| e.to_string())?;
            let child = Command::new(nginx)
                .arg("-p")
                .arg(&d)
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(d.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(d.join("stderr.log")).map_err(|e| e.to_string())?)
                .spawn()
                .map_err(|e| format!("{}: {e}", nginx.display()))?;
            let mut s = Server {
                dir: d.clone(),
                port,
                workers: Vec::new(),
                child: Some(child),
            };
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(10) {
                if let Some(c) = s.child.as_mut() {
                    if let Ok(Some(_)) = c.try_wait() {
                        break;
                    }
                }
                s.workers = procfs::children(s.master());
                if !s.workers.is_empty() && procfs::listening(port) {
                    return Ok(s);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            last = fs::read_to_string(d.join("error.log")).unwrap_or_default()
                + &fs::read_to_string(d.join("stderr.log")).unwrap_or_default();
            s.stop();
            if !last.contains("Address already in use") {
                break;
            }
        }
        Err(format!("nginx did not start:\n{last}"))
    }

    fn master(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pids_arg(&self) -> String {
        self.workers
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Stops nginx: QUIT, then KILL after 5 s, and kills a worker left behind, all by PID.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id() as i32;
        let workers = procfs::children(pid as u32);
        // SAFETY: kill() with the PID of the child we spawned and still hold.
        unsafe { libc::kill(pid, libc::SIGQUIT) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(None) = child.try_wait() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A worker outlives a killed master; it is still nginx under the PID we saw.
        for &w in workers.iter().chain(self.workers.iter()) {
            if procfs::comm(w).as_deref() == Some("nginx") {
                // SAFETY: kill() with the PID of a worker of the master we started.
                unsafe { libc::kill(w as i32, libc::SIGKILL) };
            }
        }
    }

    /// Lines of the error log that say a server went wrong.
    pub fn alerts(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("error.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                [
                    "[alert]",
                    "[crit]",
                    "[emerg]",
                    "exited on signal",
                    "panicked",
                ]
                .iter()
                .any(|w| l.contains(w))
            })
            .take(20)
            .map(String::from)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
