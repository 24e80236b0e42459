//! Each scenario for one module: a fresh nginx, the load tool run as a child process with a
//! time limit, the tool's JSON plus what the server's error log and disk say.

use super::nginx::Server;
use super::plan::Plan;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Module {
    /// "c" or "ours".
    pub key: String,
    pub so: PathBuf,
}

pub struct Ctx {
    pub nginx: PathBuf,
    pub load: PathBuf,
    pub floor: PathBuf,
    pub media_3m: PathBuf,
    pub media_600k: PathBuf,
    pub plan: Plan,
    pub work: PathBuf,
}

fn spawn(exe: &Path, args: &[String], err: &Path) -> Result<Child, String> {
    Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(err).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))
}

/// Waits for a child we spawned, killing it (by its PID) past `limit`.
fn finish(mut child: Child, limit: Duration) -> Result<(), String> {
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Ok(()),
            Ok(Some(st)) => return Err(format!("exited with {st}")),
            Ok(None) if t.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("killed after {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs a tool that writes its JSON to `--json <dir>/<tag>.json`; the tool's stderr explains
/// a failure.
fn tool(
    exe: &Path,
    mut args: Vec<String>,
    dir: &Path,
    tag: &str,
    limit: Duration,
) -> Result<Value, String> {
    let out = dir.join(format!("{tag}.json"));
    let err = dir.join(format!("{tag}.err"));
    args.extend(["--json".into(), out.display().to_string()]);
    let r = finish(spawn(exe, &args, &err)?, limit);
    let stderr = fs::read_to_string(&err).unwrap_or_default();
    r.map_err(|e| format!("{} {tag}: {e}: {}", exe.display(), stderr.trim()))?;
    let text = fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", out.display()))
}

/// `--key value` pairs.
fn opts(pairs: &[(&str, String)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| [format!("--{k}"), v.clone()])
        .collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// A fresh server for `m`, `f` run against it; the error log's alerts go into the result.
fn with_server(
    ctx: &Ctx,
    m: &Module,
    dir: &Path,
    f: impl FnOnce(&Server) -> Result<Value, String>,
) -> Value {
    let _ = fs::create_dir_all(dir);
    let mut srv = match Server::start(&ctx.nginx, &m.so, &dir.join("nginx")) {
        Ok(s) => s,
        Err(e) => return json!({"error": e}),
    };
    let mut v = f(&srv).unwrap_or_else(|e| json!({"error": e}));
    srv.stop();
    v["alerts"] = json!(srv.alerts());
    v
}

impl Ctx {
    /// `rtmp-load run` against `srv`: `streams` publishers of `flv`, `players` each joining
    /// over `spread_ms`, the plan's settle, warm-up and window unless `extra` says otherwise.
    fn run_args(
        &self,
        srv: &Server,
        flv: &Path,
        streams: usize,
        players: usize,
        spread_ms: u64,
        extra: &[(&str, String)],
    ) -> Vec<String> {
        let p = &self.plan;
        let mut a = vec!["run".to_string()];
        a.extend(opts(&[
            ("addr", srv.addr()),
            ("pids", srv.pids_arg()),
            ("flv", path(flv)),
            ("streams", streams.to_string()),
            ("players", players.to_string()),
            ("join-spread-ms", spread_ms.to_string()),
        ]));
        for (k, v) in [
            ("settle-s", p.settle_s),
            ("warmup-s", p.warmup_s),
            ("duration-s", p.window_s),
        ] {
            if !extra.iter().any(|(e, _)| *e == k) {
                a.extend(opts(&[(k, v.to_string())]));
            }
        }
        a.extend(opts(extra));
        a
    }

    fn run_limit(&self, spread_ms: u64) -> Duration {
        let p = &self.plan;
        Duration::from_secs_f64(
            p.settle_s + p.warmup_s + p.window_s + spread_ms as f64 / 1e3 + 40.0,
        )
    }

    /// One rung of a fan-out ladder: one publisher, `n` players joining over up to a second.
    pub fn fanout(&self, m: &Module, flv: &Path, n: usize, dir: &Path) -> Value {
        let spread = (n as u64).min(1000);
        with_server(self, m, dir, |srv| {
            let a = self.run_args(srv, flv, 1, n, spread, &[("name-prefix", "f".into())]);
            tool(&self.load, a, dir, "run", self.run_limit(spread))
        })
    }

    /// `streams` publishers of the 600 kbit/s source with `players` each.
    pub fn streams(&self, m: &Module, streams: usize, players: usize, dir: &Path) -> Value {
        let spread = if players > 0 { 1000 } else { 0 };
        with_server(self, m, dir, |srv| {
            let a = self.run_args(
                srv,
                &self.media_600k,
                streams,
                players,
                spread,
                &[("name-prefix", "m".into())],
            );
            tool(&self.load, a, dir, "run", self.run_limit(spread))
        })
    }

    pub fn churn(&self, m: &Module, dir: &Path) -> Value {
        let p = &self.plan;
        with_server(self, m, dir, |srv| {
            let mut a = vec!["churn".to_string()];
            a.extend(opts(&[
                ("addr", srv.addr()),
                ("pids", srv.pids_arg()),
                // The light source: a server's GOP cache (up to a GOP of the stream) rises and
                // falls with the moment its memory is read; at 600 kbit/s that stays small.
                ("flv", path(&self.media_600k)),
                ("count", p.churn.to_string()),
                ("concurrency", p.churn_concurrency.to_string()),
                ("settle-s", p.settle_s.to_string()),
            ]));
            tool(
                &self.load,
                a,
                dir,
                "churn",
                Duration::from_secs(60 + p.churn as u64 / 20),
            )
        })
    }

    /// Late joiners spread over the plan's time (two GOPs in the full run): connect to first
    /// decodable frame.
    pub fn startup(&self, m: &Module, dir: &Path) -> Value {
        let p = &self.plan;
        let extra = [
            // The last joiner still gets its first keyframe (a GOP later at worst) before stop.
            ("settle-s", "0.5".into()),
            ("duration-s", "0.5".into()),
            ("name-prefix", "late".into()),
        ];
        with_server(self, m, dir, |srv| {
            let a = self.run_args(
                srv,
                &self.media_3m,
                1,
                p.startup_players,
                p.startup_spread_ms,
                &extra,
            );
            tool(
                &self.load,
                a,
                dir,
                "run",
                self.run_limit(p.startup_spread_ms),
            )
        })
    }

    /// Streams recorded and cut into HLS in `store` while players of a stream in `live`
    /// watch for the server's event loop stalling on the disk work.
    pub fn storage(&self, m: &Module, dir: &Path) -> Value {
        let p = &self.plan;
        with_server(self, m, dir, |srv| {
            let lead = p.storage_lead_s;
            let bg_window = lead + p.settle_s + p.warmup_s + p.storage_window_s + 1.5;
            let store = [
                ("app", "store".to_string()),
                ("name-prefix", "rec".into()),
                ("settle-s", "0".into()),
                ("warmup-s", "0".into()),
                ("duration-s", bg_window.to_string()),
                ("json", path(&dir.join("store.json"))),
            ];
            let a = self.run_args(srv, &self.media_3m, p.storage_streams, 0, 0, &store);
            let bg = spawn(&self.load, &a, &dir.join("store.err"))?;
            // The recorders and the first fragments get going before the window.
            std::thread::sleep(Duration::from_secs_f64(lead));
            let watch = [
                ("name-prefix", "watch".to_string()),
                ("duration-s", p.storage_window_s.to_string()),
            ];
            let a = self.run_args(srv, &self.media_3m, 1, p.storage_players, 200, &watch);
            let mut v = tool(&self.load, a, dir, "probe", self.run_limit(200));
            let bg_done = finish(bg, Duration::from_secs_f64(bg_window + 30.0));
            let store: Value = fs::read_to_string(dir.join("store.json"))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null);
            if let Ok(v) = v.as_mut() {
                let (hls, rec) = (srv.dir.join("hls"), srv.dir.join("rec"));
                v["storage"] = json!({
                    "streams": p.storage_streams,
                    "publishers_ok": store.get("publishers_ok"),
                    "publisher_errors": store.get("publisher_errors"),
                    "hls_fragments": count_files(&hls, "ts").0,
                    "hls_playlists": count_files(&hls, "m3u8").0,
                    "record_files": count_files(&rec, "flv").0,
                    "record_bytes": count_files(&rec, "flv").1,
                    "background_error": bg_done.err(),
                });
            }
            v
        })
    }

    /// The trivial writer at `n` connections, no server; `batch_ms` > 0 coalesces its writes.
    pub fn floor(&self, flv: &Path, n: usize, batch_ms: u64, dir: &Path) -> Value {
        let _ = fs::create_dir_all(dir);
        let w = self.plan.window_s;
        let a = opts(&[
            ("flv", path(flv)),
            ("players", n.to_string()),
            ("duration-s", w.to_string()),
            ("batch-ms", batch_ms.to_string()),
        ]);
        let limit = Duration::from_secs_f64(w + 60.0);
        tool(&self.floor, a, dir, "floor", limit).unwrap_or_else(|e| json!({"error": e}))
    }
}

/// (files with this extension under `dir`, their total bytes).
fn count_files(dir: &Path, ext: &str) -> (u64, u64) {
    let mut n = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()) == Some(ext) {
                n.0 += 1;
                n.1 += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    n
}
