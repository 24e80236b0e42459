//! The test rig: nginx fixture, free ports, child-process guards, media clients
//! (ffmpeg, ffprobe, rtmpdump, GStreamer) and two RTMP clients of our own
//! (`rtmp::RtmpClient` on rml_rtmp's `ClientSession`, `rtmp::RawClient` for exact bytes).
//!
//! Everything here drives real processes. Nothing is mocked.

#![allow(dead_code)]

pub mod browser;
pub mod cdp;
pub mod media;
pub mod proc;
pub mod rtmp;
pub mod stat;

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use proc::{run_bounded, ChildGuard, Output};

/// Root of the repository (the parent of `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The module under test: `$NGX_RTMP_SO`, or `<repo>/build/ngx_rtmp_module.so`.
/// Panics (fails the test) with a clear message when it does not exist.
pub fn module_so() -> PathBuf {
    let p = match std::env::var_os("NGX_RTMP_SO") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => repo_root().join("build/ngx_rtmp_module.so"),
    };
    assert!(
        p.is_absolute(),
        "NGX_RTMP_SO must be an absolute path, got {}",
        p.display()
    );
    assert!(
        p.is_file(),
        "module not found: {} — build it, or set NGX_RTMP_SO to the .so to test \
         (e.g. NGX_RTMP_SO=/usr/lib/nginx/modules/ngx_rtmp_module.so for the C reference module)",
        p.display()
    );
    p
}

/// The nginx binary: `$NGINX_BIN`, default `/usr/sbin/nginx`.
pub fn nginx_bin() -> PathBuf {
    match std::env::var_os("NGINX_BIN") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from("/usr/sbin/nginx"),
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh, unique directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let d = std::env::temp_dir().join(format!(
        "ngx-rtmp-test-{}-{}-{}-{}",
        tag,
        std::process::id(),
        n,
        nanos
    ));
    fs::create_dir_all(&d).unwrap();
    d
}

/// A loopback TCP port that was free a moment ago (bind port 0, read it, release it).
/// Races are handled by retrying nginx start on EADDRINUSE.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// Does this machine have a usable IPv6 loopback?
pub fn have_ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// Options for one nginx instance.
#[derive(Clone, Debug)]
pub struct NginxOpts {
    /// Body of `rtmp { ... }`. Placeholders: `{rtmp_port}`, `{http_port}`, `{tmp}`.
    pub rtmp: String,
    /// Extra text inside the http `server {}` (placeholders as above).
    pub http_server_extra: String,
    /// Extra main-level directives.
    pub main_extra: String,
    pub worker_processes: u32,
    /// `error_log ... debug` instead of `info`.
    pub debug: bool,
    /// The RTMP port to use instead of a free one (a server restarted on its old port).
    pub rtmp_port: Option<u16>,
    /// `events { worker_connections N; }`.
    pub worker_connections: u32,
    /// The module to load instead of `module_so()` (another implementation as a peer).
    pub module: Option<PathBuf>,
}

impl NginxOpts {
    pub fn new(rtmp: &str) -> Self {
        NginxOpts {
            rtmp: rtmp.to_string(),
            http_server_extra: String::new(),
            main_extra: String::new(),
            worker_processes: 1,
            debug: false,
            rtmp_port: None,
            worker_connections: 1024,
            module: None,
        }
    }
}

/// A `server {}` + `application` config for the most common case:
/// `listen {rtmp_port}` and the given application body.
pub fn simple_rtmp(app: &str, app_body: &str) -> String {
    format!(
        "server {{\n    listen 127.0.0.1:{{rtmp_port}};\n    application {} {{\n{}\n    }}\n}}\n",
        app, app_body
    )
}

/// A running nginx: `nginx -p TMP -c TMP/nginx.conf` with `daemon off; master_process on;`,
/// so the process we spawn *is* the master and we hold its PID directly (no pid-file race).
/// Its stderr goes to `TMP/stderr.log`. Dropping it stops it (SIGQUIT, then SIGKILL)
/// and kills any worker it left; on a failing test the error.log tail is printed and
/// the directory kept.
pub struct Nginx {
    pub dir: PathBuf,
    pub conf_path: PathBuf,
    pub rtmp_port: u16,
    pub http_port: u16,
    child: Option<std::process::Child>,
    master_pid: i32,
    seen_workers: Vec<i32>,
}

fn render(t: &str, rtmp_port: u16, http_port: u16, dir: &Path) -> String {
    t.replace("{rtmp_port}", &rtmp_port.to_string())
        .replace("{http_port}", &http_port.to_string())
        .replace("{tmp}", &dir.display().to_string())
}

impl Nginx {
    /// Start nginx with a default rtmp body given as a string (placeholders allowed).
    pub fn start(rtmp_body: &str) -> Nginx {
        Self::start_opts(NginxOpts::new(rtmp_body))
    }

    pub fn start_opts(opts: NginxOpts) -> Nginx {
        let so = opts.module.clone().unwrap_or_else(module_so);
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let dir = temp_dir("nginx");
            // Workers run as nginx's unprivileged user: they create recordings and HLS files
            // under the prefix, as they would under a directory an admin made writable.
            fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
            let rtmp_port = opts.rtmp_port.unwrap_or_else(free_port);
            let http_port = free_port();
            let conf = format!(
                "load_module {so};\n\
                 error_log {dir}/error.log {lvl};\n\
                 pid {dir}/nginx.pid;\n\
                 daemon off;\n\
                 master_process {master};\n\
                 worker_processes {wp};\n\
                 {main_extra}\n\
                 events {{ worker_connections {wc}; }}\n\
                 http {{\n\
                 \x20   access_log {dir}/http_access.log;\n\
                 \x20   client_body_temp_path {dir}/client_body_temp;\n\
                 \x20   proxy_temp_path {dir}/proxy_temp;\n\
                 \x20   fastcgi_temp_path {dir}/fastcgi_temp;\n\
                 \x20   uwsgi_temp_path {dir}/uwsgi_temp;\n\
                 \x20   scgi_temp_path {dir}/scgi_temp;\n\
                 \x20   server {{\n\
                 \x20       listen 127.0.0.1:{http_port};\n\
                 {http_extra}\n\
                 \x20   }}\n\
                 }}\n\
                 rtmp {{\n{rtmp}\n}}\n",
                so = so.display(),
                dir = dir.display(),
                lvl = if opts.debug { "debug" } else { "info" },
                master = if valgrind_dir().is_some() {
                    "off"
                } else {
                    "on"
                },
                wp = opts.worker_processes,
                wc = opts.worker_connections,
                main_extra = render(&opts.main_extra, rtmp_port, http_port, &dir),
                http_port = http_port,
                http_extra = render(&opts.http_server_extra, rtmp_port, http_port, &dir),
                rtmp = render(&opts.rtmp, rtmp_port, http_port, &dir),
            );
            let conf_path = dir.join("nginx.conf");
            fs::write(&conf_path, &conf).unwrap();
            let stderr = fs::File::create(dir.join("stderr.log")).unwrap();
            let child = nginx_command()
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf_path)
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {}", nginx_bin().display(), e));
            let ready_limit = match valgrind_dir() {
                Some(_) => Duration::from_secs(60),
                None => Duration::from_secs(10),
            };
            let pid = child.id() as i32;
            let mut ng = Nginx {
                dir: dir.clone(),
                conf_path,
                rtmp_port,
                http_port,
                child: Some(child),
                master_pid: pid,
                seen_workers: Vec::new(),
            };
            match ng.wait_ready(ready_limit) {
                Ok(()) => {
                    ng.seen_workers = ng.worker_pids();
                    return ng;
                }
                Err(e) => {
                    let log = ng.error_log()
                        + &fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
                    last_err = format!("{}\n{}", e, log);
                    let retry = log.contains("Address already in use");
                    drop(ng);
                    if !retry {
                        break;
                    }
                }
            }
        }
        panic!("nginx did not start: {}", last_err);
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let t0 = Instant::now();
        let addr: SocketAddr = format!("127.0.0.1:{}", self.rtmp_port).parse().unwrap();
        loop {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                return Err(format!("nginx exited early: {}", st));
            }
            // The listener is bound by the master; wait for a worker too, so connects are served.
            // Checked via /proc/net/tcp*, without connecting (a probe connection would be
            // a session in the access log).
            let _ = addr;
            if port_listening(self.rtmp_port) && !self.worker_pids().is_empty() {
                return Ok(());
            }
            if t0.elapsed() > limit {
                return Err("timed out waiting for the RTMP port to accept".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn master_pid(&self) -> i32 {
        self.master_pid
    }

    pub fn rtmp_addr(&self) -> SocketAddr {
        format!("127.0.0.1:{}", self.rtmp_port).parse().unwrap()
    }

    pub fn rtmp_url(&self, app: &str, name: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{}/{}", self.rtmp_port, app, name)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path)
    }

    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Live children of the master, read from /proc (`ppid` field of /proc/PID/stat). Under
    /// valgrind (`NGX_RTMP_VALGRIND`) nginx is one process that is master and worker at once.
    pub fn worker_pids(&self) -> Vec<i32> {
        if valgrind_dir().is_some() {
            return [self.master_pid]
                .into_iter()
                .filter(|&p| pid_alive(p))
                .collect();
        }
        children_of(self.master_pid)
    }

    /// Is the master still running?
    pub fn master_alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// Reload: SIGHUP to the master PID we started (what `nginx -s reload` sends).
    pub fn reload(&mut self) {
        for w in self.worker_pids() {
            if !self.seen_workers.contains(&w) {
                self.seen_workers.push(w);
            }
        }
        signal(self.master_pid, libc::SIGHUP);
    }

    /// Graceful stop: SIGQUIT to the master; waits up to `limit` for it to exit.
    /// Returns how long it took, or None if it did not exit in time.
    pub fn quit(&mut self, limit: Duration) -> Option<Duration> {
        self.remember_workers();
        signal(self.master_pid, libc::SIGQUIT);
        let t0 = Instant::now();
        loop {
            if let Some(c) = self.child.as_mut() {
                if c.try_wait().unwrap().is_some() {
                    self.child = None;
                    return Some(t0.elapsed());
                }
            } else {
                return Some(t0.elapsed());
            }
            if t0.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn remember_workers(&mut self) {
        for w in self.worker_pids() {
            if !self.seen_workers.contains(&w) {
                self.seen_workers.push(w);
            }
        }
    }

    /// Lines of error.log that show a crash or an alert.
    pub fn alerts(&self) -> Vec<String> {
        let pats = [
            "[alert]",
            "[emerg]",
            "signal 11",
            "exited on signal",
            "panicked",
        ];
        self.error_log()
            .lines()
            .filter(|l| pats.iter().any(|p| l.contains(p)))
            .map(|s| s.to_string())
            .collect()
    }

    pub fn assert_no_alerts(&self) {
        let a = self.alerts();
        assert!(
            a.is_empty(),
            "error.log has alerts/crashes:\n{}",
            a.join("\n")
        );
    }

    /// Last `n` lines of error.log.
    pub fn error_log_tail(&self, n: usize) -> String {
        let log = self.error_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.remember_workers();
        if let Some(mut c) = self.child.take() {
            signal(self.master_pid, libc::SIGQUIT);
            // valgrind checks for leaks after nginx exits, which takes a while.
            let limit = match valgrind_dir() {
                Some(_) => Duration::from_secs(120),
                None => Duration::from_secs(5),
            };
            let t0 = Instant::now();
            let mut done = false;
            while t0.elapsed() < limit {
                if c.try_wait().ok().flatten().is_some() {
                    done = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !done {
                signal(self.master_pid, libc::SIGKILL);
                let _ = c.wait();
            }
        }
        // Workers we saw that are still alive (e.g. after a master SIGKILL): kill them by PID,
        // but only if they are still nginx processes whose parent is gone or is our master.
        for w in &self.seen_workers {
            if pid_alive(*w)
                && proc_comm(*w)
                    .map(|c| c.starts_with("nginx"))
                    .unwrap_or(false)
            {
                signal(*w, libc::SIGKILL);
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "---- nginx prefix kept: {} ----\n---- error.log tail ----\n{}\n------------------------",
                self.dir.display(),
                self.error_log_tail(40)
            );
        } else if std::env::var_os("NGX_RTMP_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `NGX_RTMP_VALGRIND=DIR` (scripts/memcheck): nginx runs in one process (`master_process
/// off`) under valgrind's memcheck, which writes `DIR/vg.PID.log` per nginx process. The
/// suppressions for nginx's own reports are in `tests/valgrind.supp`.
pub fn valgrind_dir() -> Option<PathBuf> {
    std::env::var_os("NGX_RTMP_VALGRIND")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The command that runs nginx: the binary itself, or valgrind running it.
fn nginx_command() -> Command {
    let Some(dir) = valgrind_dir() else {
        return Command::new(nginx_bin());
    };
    let supp = repo_root().join("tests/valgrind.supp");
    let mut c = Command::new("valgrind");
    c.args([
        "--tool=memcheck",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--num-callers=40",
    ])
    .arg(format!("--suppressions={}", supp.display()))
    .arg(format!("--log-file={}/vg.%p.log", dir.display()))
    .arg(nginx_bin());
    c
}

pub fn signal(pid: i32, sig: i32) {
    if pid > 0 {
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

pub fn pid_alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; count it as dead.
    match fs::read_to_string(format!("/proc/{}/stat", pid)) {
        Ok(s) => stat_fields(&s).map(|(st, _)| st != "Z").unwrap_or(false),
        Err(_) => false,
    }
}

fn proc_comm(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{}/comm", pid))
        .ok()
        .map(|s| s.trim().to_string())
}

/// (state, ppid) from the text of /proc/PID/stat.
fn stat_fields(s: &str) -> Option<(String, i32)> {
    let rp = s.rfind(')')?;
    let mut it = s[rp + 1..].split_whitespace();
    let state = it.next()?.to_string();
    let ppid = it.next()?.parse().ok()?;
    Some((state, ppid))
}

pub fn children_of(ppid: i32) -> Vec<i32> {
    let mut v = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let name = e.file_name();
            let pid: i32 = match name.to_string_lossy().parse() {
                Ok(p) => p,
                Err(_) => continue,
            };
            if let Ok(s) = fs::read_to_string(format!("/proc/{}/stat", pid)) {
                if let Some((st, pp)) = stat_fields(&s) {
                    if pp == ppid && st != "Z" {
                        v.push(pid);
                    }
                }
            }
        }
    }
    v.sort();
    v
}

/// Run `nginx -t -p TMP -c TMP/nginx.conf` on the given full config text.
/// Returns (success, stderr). The config file path is `conf_path` of the returned
/// `ConfTest` if needed; `{tmp}` in the text is replaced by the temp prefix and `{so}`
/// by the module path.
pub fn nginx_t(conf: &str) -> (bool, String) {
    let r = nginx_t_full(conf);
    (r.ok, r.stderr)
}

pub struct ConfTest {
    pub ok: bool,
    pub stderr: String,
    pub conf_path: PathBuf,
    pub dir: PathBuf,
}

pub fn nginx_t_full(conf: &str) -> ConfTest {
    let so = module_so();
    let dir = temp_dir("conf");
    // `nginx -t` also opens the pid file. An nginx built from source with the default layout
    // (nginx.org's, or the vendored 1.28) keeps it at <prefix>/logs/nginx.pid.
    fs::create_dir_all(dir.join("logs")).unwrap();
    let text = conf
        .replace("{tmp}", &dir.display().to_string())
        .replace("{so}", &so.display().to_string());
    let conf_path = dir.join("nginx.conf");
    fs::write(&conf_path, text).unwrap();
    let mut cmd = Command::new(nginx_bin());
    cmd.arg("-t")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(dir.join("error.log"));
    let out = run_bounded(cmd, Duration::from_secs(20));
    ConfTest {
        ok: out.success(),
        stderr: out.stderr,
        conf_path,
        dir,
    }
}

/// Minimal HTTP GET over a TcpStream (HTTP/1.0, bounded). Returns (status, body).
pub fn http_get(url: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    http_get_full(url, timeout).map(|r| (r.status, r.body))
}

/// An HTTP response: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn http_get_full(url: &str, timeout: Duration) -> std::io::Result<HttpReply> {
    use std::io::Write;
    let rest = url.strip_prefix("http://").expect("http:// url");
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr: SocketAddr = hostport.parse().expect("ip:port");
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    write!(s, "GET {} HTTP/1.0\r\nHost: {}\r\n\r\n", path, hostport)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(HttpReply {
        status,
        headers,
        body: body.to_string(),
    })
}

/// Poll `f` until it returns Some or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if t0.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Is some socket in LISTEN state on this TCP port (IPv4 or IPv6)?
pub fn port_listening(port: u16) -> bool {
    let want = format!(":{:04X}", port);
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(s) = fs::read_to_string(f) {
            for l in s.lines().skip(1) {
                let mut it = l.split_whitespace();
                let _sl = it.next();
                let local = it.next().unwrap_or("");
                let _rem = it.next();
                let st = it.next().unwrap_or("");
                if st == "0A" && local.ends_with(&want) {
                    return true;
                }
            }
        }
    }
    false
}
