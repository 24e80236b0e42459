//! Headless Chromium (Debian's `chromium`) as a real browser: `--dump-dom` gives the DOM after
//! the page loaded (for an XML page with an `xml-stylesheet` PI: the HTML the browser's XSLT
//! made), `--screenshot` a PNG of it.
//!
//! Chromium forks helpers (zygote, renderer, GPU/utility processes). It runs in a process group
//! of its own, whose id is the PID we spawned; on timeout, and again after it exits, that group
//! is sent SIGKILL so no helper outlives the call.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser: `$CHROMIUM_BIN`, default `/usr/bin/chromium`.
pub fn chromium_bin() -> PathBuf {
    match std::env::var_os("CHROMIUM_BIN") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from("/usr/bin/chromium"),
    }
}

/// What one headless Chromium run left.
#[derive(Debug)]
pub struct BrowserRun {
    pub success: bool,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Runs `chromium --headless ... <extra> <url>` with a fresh profile in `work`
/// (`work/profile`), bounded by `limit`. stdout/stderr go to files in `work` (a helper that
/// keeps a pipe open cannot hang us) and are read back afterwards.
pub fn run_chromium(work: &Path, extra: &[&str], url: &str, limit: Duration) -> BrowserRun {
    let bin = chromium_bin();
    assert!(
        bin.is_file(),
        "{} not found: install Debian's `chromium` (scripts/deps), or set CHROMIUM_BIN",
        bin.display()
    );
    let profile = work.join("profile");
    let _ = fs::remove_dir_all(&profile);
    fs::create_dir_all(&profile).unwrap();
    let out_path = work.join("chromium.stdout");
    let err_path = work.join("chromium.stderr");
    let mut cmd = Command::new(&bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .env("HOME", work)
    .stdin(Stdio::null())
    .stdout(fs::File::create(&out_path).unwrap())
    .stderr(fs::File::create(&err_path).unwrap())
    .process_group(0);
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {}", bin.display(), e));
    let pgid = child.id() as i32;
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t0.elapsed() > limit {
            timed_out = true;
            super::signal(-pgid, libc::SIGKILL);
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Helpers left in the group (the group id stays reserved while it has members).
    super::signal(-pgid, libc::SIGKILL);
    BrowserRun {
        success: status.map(|s| s.success()).unwrap_or(false),
        timed_out,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        took: t0.elapsed(),
    }
}

/// Width and height from a PNG's IHDR chunk, or None if `bytes` is not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}
