//! rtmp-bench: the C module and ours on the same nginx, every scenario, one report.
//!
//!   rtmp-bench --ours SO [--c-module SO] [--nginx BIN] [--quick|--smoke] [--reps N]
//!              [--modules c,ours] [--only fanout3m,fanout600k,streams,churn,startup,storage]
//!              [--out DIR] [--media DIR] [--work DIR] [--label TEXT]
//!
//! Each run gets a fresh nginx (one worker, loopback, a free port), stopped by its PID. The two
//! modules take turns at every step, C first in odd repetitions and ours first in even ones,
//! so the machine's other load falls on both alike.

pub mod media;
pub mod nginx;
pub mod plan;
pub mod report;
pub mod scenarios;

use crate::args::Args;
use crate::procfs;
use crate::stats::num;
use plan::Plan;
use report::Record;
use scenarios::{Ctx, Module};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Progress {
    t0: Instant,
    reps: usize,
}

impl Progress {
    fn say(&self, rep: usize, what: &str, m: &str, doc: &Value) {
        let f = |p: &str| num(doc, p).map_or("-".into(), report::fmt);
        let state = if let Some(e) = doc.get("error").and_then(Value::as_str) {
            format!("ERROR {}", e.lines().next().unwrap_or(""))
        } else if doc.get("mode").and_then(Value::as_str) == Some("churn") {
            format!(
                "{} cycles/s, fds {}→{}",
                f("cycles_per_s"),
                f("server.fds_before"),
                f("server.fds_after")
            )
        } else if doc.get("mode").and_then(Value::as_str) == Some("floor") {
            format!("{} s/GB", f("cpu_s_per_gb"))
        } else {
            format!(
                "{} kept {}/{}, cpu {}% {} s/GB, p50/p99 {}/{} ms, client {}%",
                if report::passed(doc) { "ok" } else { "FAIL" },
                f("kept_up"),
                f("players"),
                f("server.cpu_pct"),
                f("server.cpu_s_per_gb"),
                f("latency_ms.p50"),
                f("latency_ms.p99"),
                f("client.cpu_pct")
            )
        };
        eprintln!(
            "[{:>4}s rep {rep}/{}] {what:<18} {m:<5} {state}",
            self.t0.elapsed().as_secs(),
            self.reps
        );
    }
}

fn enabled(only: &Option<String>, key: &str) -> bool {
    only.as_ref()
        .is_none_or(|o| o.split(',').any(|k| k.trim() == key))
}

/// Runs scenarios for one repetition after another and keeps every result.
struct Runner<'a> {
    ctx: &'a Ctx,
    pr: Progress,
    recs: Vec<Record>,
}

impl Runner<'_> {
    fn keep(&mut self, rep: usize, sc: &str, module: &str, n: Option<usize>, doc: Value) {
        let what = n.map_or(sc.to_string(), |n| format!("{sc} N={n}"));
        self.pr.say(rep, &what, module, &doc);
        let (scenario, module) = (sc.to_string(), module.to_string());
        self.recs.push(Record {
            rep,
            scenario,
            module,
            n,
            doc,
        });
    }

    /// One ladder for one repetition: rung by rung, each module until it fails; then the
    /// floor at the largest N both kept up.
    fn ladder(&mut self, rep: usize, mods: &[&Module], key: &str, flv: &Path, rungs: &[usize]) {
        let sc = format!("fanout_{key}");
        let mut still: Vec<bool> = vec![true; mods.len()];
        let mut common = None;
        for &n in rungs {
            let mut all = true;
            for (i, m) in mods.iter().enumerate() {
                if !still[i] {
                    all = false;
                    continue;
                }
                let dir = self.ctx.work.join(format!("rep{rep}/{sc}-{n}-{}", m.key));
                let doc = self.ctx.fanout(m, flv, n, &dir);
                if !report::passed(&doc) {
                    still[i] = false;
                    all = false;
                }
                self.keep(rep, &sc, &m.key, Some(n), doc);
            }
            if all {
                common = Some(n);
            }
            if !still.iter().any(|s| *s) {
                break;
            }
        }
        let n = common.or(rungs.first().copied()).unwrap_or(1);
        // The floor as a server that sends at once would see it, and with writes coalesced to
        // one per frame interval: what batching could save.
        for (sc, batch) in [
            (format!("floor_{key}"), 0),
            (format!("floor_{key}_coalesced"), FLOOR_BATCH_MS),
        ] {
            let doc = self.ctx.floor(
                flv,
                n,
                batch,
                &self.ctx.work.join(format!("rep{rep}/{sc}-{n}")),
            );
            self.keep(rep, &sc, "floor", Some(n), doc);
        }
    }

    /// A scenario without rungs, for each module in turn.
    fn each(
        &mut self,
        rep: usize,
        mods: &[&Module],
        sc: &str,
        f: impl Fn(&Module, &Path) -> Value,
    ) {
        for m in mods {
            let doc = f(m, &self.ctx.work.join(format!("rep{rep}/{sc}-{}", m.key)));
            self.keep(rep, sc, &m.key, None, doc);
        }
    }
}

/// The coalesced floor's write interval: one 25 fps frame.
pub const FLOOR_BATCH_MS: u64 = 40;

fn command_out(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(if o.stdout.is_empty() {
                &o.stderr
            } else {
                &o.stdout
            })
            .trim()
            .to_string()
        })
        .unwrap_or_default()
}

fn stamp() -> String {
    command_out("date", &["+%Y%m%d-%H%M%S"])
}

/// Runs the benchmark; the process's exit code.
pub fn main(a: &Args) -> i32 {
    match run(a) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rtmp-bench: {e}");
            1
        }
    }
}

fn run(a: &Args) -> Result<(), String> {
    let mut plan = if a.has("smoke") {
        Plan::smoke()
    } else if a.has("quick") {
        Plan::quick()
    } else {
        Plan::full()
    };
    plan.reps = a.num("reps", plan.reps).max(1);
    let nginx = PathBuf::from(a.s("nginx", "/usr/sbin/nginx"));
    let c_so = PathBuf::from(a.s("c-module", "/usr/lib/nginx/modules/ngx_rtmp_module.so"));
    let ours_so = PathBuf::from(
        a.opt("ours")
            .ok_or("--ours PATH (our ngx_rtmp_module.so) is required")?,
    );
    let wanted = a.s("modules", "c,ours");
    let mut modules = Vec::new();
    for (key, so) in [("c", &c_so), ("ours", &ours_so)] {
        if wanted.split(',').any(|k| k.trim() == key) {
            if !so.is_file() {
                return Err(format!(
                    "{key} module not found: {} (the C module is Debian's libnginx-mod-rtmp: scripts/deps installs it)",
                    so.display()
                ));
            }
            modules.push(Module {
                key: key.into(),
                so: so.clone(),
            });
        }
    }
    if modules.is_empty() {
        return Err("--modules names neither c nor ours".into());
    }
    if modules.len() == 2 && std::fs::read(&c_so).ok() == std::fs::read(&ours_so).ok() {
        return Err(format!(
            "{} and {} are the same file: nothing to compare",
            c_so.display(),
            ours_so.display()
        ));
    }
    if !nginx.is_file() {
        return Err(format!("nginx not found: {}", nginx.display()));
    }
    let exe_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let out_dir = PathBuf::from(a.s("out", "bench-results"));
    let media_dir = PathBuf::from(a.s("media", &out_dir.join("media").display().to_string()));
    let work = PathBuf::from(
        a.s(
            "work",
            &std::env::temp_dir()
                .join(format!("ngx-rtmp-bench-{}", std::process::id()))
                .display()
                .to_string(),
        ),
    );
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let _ = std::fs::set_permissions(&work, std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let nofile = procfs::raise_nofile();
    let only = a.opt("only");

    let t0 = Instant::now();
    eprintln!(
        "rtmp-bench: {} run, making the sources in {} if needed",
        plan.name,
        media_dir.display()
    );
    let ctx = Ctx {
        nginx: nginx.clone(),
        load: exe_dir.join("rtmp-load"),
        floor: exe_dir.join("rtmp-floor"),
        media_3m: media::ensure(&media_dir, &media::HD_3M)?,
        media_600k: media::ensure(&media_dir, &media::SD_600K)?,
        plan: plan.clone(),
        work: work.clone(),
    };
    let load_before = procfs::loadavg();
    let started = command_out("date", &["-Iseconds"]);
    let mut run = Runner {
        ctx: &ctx,
        pr: Progress {
            t0,
            reps: plan.reps,
        },
        recs: Vec::new(),
    };
    for rep in 1..=plan.reps {
        let mut order: Vec<&Module> = modules.iter().collect();
        if rep % 2 == 0 {
            order.reverse();
        }
        if enabled(&only, "fanout3m") {
            run.ladder(rep, &order, "3m", &ctx.media_3m, &plan.ladder_3m);
        }
        if enabled(&only, "fanout600k") {
            run.ladder(rep, &order, "600k", &ctx.media_600k, &plan.ladder_600k);
        }
        if enabled(&only, "streams") {
            for &(s, p) in &plan.many {
                run.each(rep, &order, &format!("streams_{s}x{p}"), |m, d| {
                    ctx.streams(m, s, p, d)
                });
            }
        }
        if enabled(&only, "churn") {
            run.each(rep, &order, "churn", |m, d| ctx.churn(m, d));
        }
        if enabled(&only, "startup") {
            run.each(rep, &order, "startup", |m, d| ctx.startup(m, d));
        }
        if enabled(&only, "storage") {
            run.each(rep, &order, "storage", |m, d| ctx.storage(m, d));
        }
    }
    let recs = run.recs;
    let load_after = procfs::loadavg();
    let keys: Vec<&str> = modules.iter().map(|m| m.key.as_str()).collect();
    let (figures, ladders, table) = report::build(&plan, &recs, &keys);
    let meta = json!({
        "started": started, "finished": command_out("date", &["-Iseconds"]), "elapsed_s": t0.elapsed().as_secs(),
        "label": a.s("label", ""), "host": command_out("uname", &["-n"]), "kernel": command_out("uname", &["-r"]),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "cpu_model": procfs::cpu_model(),
        "loadavg_before": load_before, "loadavg_after": load_after,
        "nginx": nginx.display().to_string(), "nginx_version": command_out(&nginx.display().to_string(), &["-v"]).replace("nginx version: ", ""),
        "modules": modules.iter().map(|m| (m.key.clone(), json!(m.so.display().to_string()))).collect::<serde_json::Map<_, _>>(),
        "open_files_limit": nofile, "workdir": work.display().to_string(),
        "on_time": "a player keeps up when >= 95% of the frames published in the window reach it within 500 ms",
    });
    let header = format!(
        "rtmp-bench {} run, {} repetition(s), {} s; {} on {} ({} cores, {}), load {} → {}\n",
        plan.name,
        plan.reps,
        t0.elapsed().as_secs(),
        meta["nginx_version"].as_str().unwrap_or(""),
        meta["host"].as_str().unwrap_or(""),
        meta["cores"],
        meta["cpu_model"].as_str().unwrap_or(""),
        load_before,
        load_after
    );
    println!("{header}\n{table}");
    let doc = json!({
        "meta": meta, "plan": plan.to_json(), "figures": figures, "ladders": ladders, "table": header + "\n" + &table,
        "runs": recs.iter().map(|r| json!({"rep": r.rep, "scenario": r.scenario, "module": r.module, "n": r.n, "doc": r.doc})).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let path = out_dir.join(format!("bench-{}-{}.json", plan.name, stamp()));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("JSON: {}", path.display());
    // A failed run keeps its servers' logs and the tools' output for a look.
    let failed = recs.iter().any(|r| {
        r.doc.get("error").is_some()
            || r.doc
                .get("alerts")
                .is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty()))
    });
    if failed || a.has("keep-work") {
        println!("work directory kept: {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}
