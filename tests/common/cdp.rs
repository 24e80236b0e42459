//! Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
//! JSON messages, NUL-terminated, chromium reads fd 3 and writes fd 4), so a test can open a
//! page, evaluate JavaScript in it while it runs and take a screenshot: what a person sees.

use super::browser::chromium_bin;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next_id: u64,
    session: Option<String>,
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

impl Browser {
    /// Starts chromium with a fresh profile in `work`, window `w`×`h`.
    pub fn start(work: &Path, w: u32, h: u32) -> Browser {
        let profile = work.join("cdp-profile");
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let (to_chrome_r, to_chrome_w) = pipe();
        let (from_chrome_r, from_chrome_w) = pipe();
        let mut cmd = Command::new(chromium_bin());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--window-size={w},{h}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .env("HOME", work)
        .stdin(Stdio::null())
        .stdout(File::create(work.join("cdp-chromium.stdout")).unwrap())
        .stderr(File::create(work.join("cdp-chromium.stderr")).unwrap())
        .process_group(0);
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2) run. The
        // ends are first copied above fd 10 (one of them may be fd 3 or 4 already), then onto
        // fds 3 and 4; both steps clear close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                let r = libc::fcntl(to_chrome_r, libc::F_DUPFD, 10);
                let w = libc::fcntl(from_chrome_w, libc::F_DUPFD, 10);
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn chromium");
        // SAFETY: the parent's ends are ours alone; the child's ends are closed here.
        let (to, from) = unsafe {
            libc::close(to_chrome_r);
            libc::close(from_chrome_w);
            (
                File::from_raw_fd(to_chrome_w),
                File::from_raw_fd(from_chrome_r),
            )
        };
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(0, &mut buf) {
                if n == 0 {
                    break;
                }
                buf.pop_if(|b| *b == 0);
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Browser {
            child,
            to,
            from: rx,
            next_id: 1,
            session: None,
        }
    }

    /// Sends one command (to the page once `open` attached to it) and waits for its result.
    pub fn call(&mut self, method: &str, params: Value, limit: Duration) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to
            .write_all(&bytes)
            .map_err(|e| format!("write to chromium: {e}"))?;
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .map_err(|_| format!("{method}: no answer within {limit:?}"))?;
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(format!("{method}: {e}"));
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// Opens `url` in a new tab and attaches to it; later calls go to that page.
    pub fn open(&mut self, url: &str) -> Result<(), String> {
        let t = self.call(
            "Target.createTarget",
            json!({"url": url}),
            Duration::from_secs(20),
        )?;
        let target = t["targetId"].as_str().ok_or("no targetId")?.to_string();
        let a = self.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
            Duration::from_secs(20),
        )?;
        self.session = Some(a["sessionId"].as_str().ok_or("no sessionId")?.to_string());
        // createTarget answers before the page has loaded (the tab starts as about:blank).
        let loaded = format!(
            "location.href === {} && document.readyState === 'complete'",
            serde_json::to_string(url).unwrap()
        );
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if self.eval(&loaded)?.as_bool() == Some(true) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("{url} did not finish loading in 20 s"))
    }

    /// The value of a JavaScript expression in the page.
    pub fn eval(&mut self, expr: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
            Duration::from_secs(10),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(format!("{expr}: {e}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// A PNG of what the page shows now.
    pub fn screenshot(&mut self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png"}),
            Duration::from_secs(20),
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().ok_or("no data")?)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        super::signal(-pgid, libc::SIGKILL);
        super::signal(pgid, libc::SIGKILL);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
