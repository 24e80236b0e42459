//! `rtmp-load churn`: sessions that connect, handshake, play a live stream, see Play.Start and
//! close, as fast as `concurrency` of them at a time can, then what the server kept: its open
//! files and memory before, after each fifth of the cycles, and after all of them.

use super::publisher::{self, PubStats};
use super::Target;
use crate::args::Args;
use crate::rtmp::{amf, Conn};
use crate::stats::{dist, r3};
use crate::{flv, procfs};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

pub struct ChurnOpts {
    pub addr: String,
    pub app: String,
    pub flv: String,
    pub count: usize,
    pub concurrency: usize,
    pub settle: Duration,
    pub pids: Vec<u32>,
}

impl ChurnOpts {
    pub fn from_args(a: &Args) -> ChurnOpts {
        ChurnOpts {
            addr: a.s("addr", "127.0.0.1:1935"),
            app: a.s("app", "live"),
            flv: a.s("flv", "media.flv"),
            count: a.num("count", 500),
            concurrency: a.num::<usize>("concurrency", 16).max(1),
            settle: Duration::from_secs_f64(a.num("settle-s", 2.2)),
            pids: a.pids("pids"),
        }
    }
}

async fn cycle(to: &Target) -> Result<f64, String> {
    let t = Instant::now();
    timeout(Duration::from_secs(5), async {
        let mut c = Conn::open(&to.addr, 64).await?;
        c.connect_app(&to.app, &to.tc_url()).await?;
        let sid = c.create_stream().await?;
        c.play(sid, &to.name).await?;
        c.wait_cmd(|v| amf::status_code(v) == Some("NetStream.Play.Start"))
            .await?;
        Ok::<_, std::io::Error>(())
    })
    .await
    .map_err(|_| "timeout".to_string())?
    .map_err(|e| e.to_string())?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// Runs `count` cycles, `conc` at a time; (cycle times, failures).
async fn cycles(to: &Target, count: usize, conc: usize) -> (Vec<f64>, Vec<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::new();
    for _ in 0..conc {
        let (next, to) = (next.clone(), to.clone());
        hs.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while next.fetch_add(1, Relaxed) < count {
                out.push(cycle(&to).await);
            }
            out
        }));
    }
    let (mut times, mut fails) = (Vec::new(), Vec::new());
    for h in hs {
        for r in h.await.unwrap_or_default() {
            match r {
                Ok(t) => times.push(t),
                Err(e) => fails.push(e),
            }
        }
    }
    (times, fails)
}

/// Does a fresh player still get a keyframe (within 3 s)? The server survived the churn.
async fn keyframe_reaches(to: &Target) -> Result<f64, String> {
    let t = Instant::now();
    timeout(Duration::from_secs(3), async {
        let mut c = Conn::open(&to.addr, 64).await?;
        c.connect_app(&to.app, &to.tc_url()).await?;
        let sid = c.create_stream().await?;
        c.play(sid, &to.name).await?;
        let mut msgs = Vec::new();
        loop {
            msgs.clear();
            c.recv(&mut msgs).await?;
            if msgs
                .iter()
                .any(|m| m.typ == 9 && m.data.len() > 1 && m.data[0] >> 4 == 1 && m.data[1] == 1)
            {
                return Ok::<_, std::io::Error>(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    })
    .await
    .map_err(|_| "no keyframe within 3 s".to_string())?
    .map_err(|e| e.to_string())
}

pub async fn churn(o: &ChurnOpts) -> Result<Value, String> {
    let media = Arc::new(flv::load(&o.flv)?);
    let to = Target {
        addr: o.addr.clone(),
        app: o.app.clone(),
        name: "churn".into(),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let ps = Arc::new(PubStats::default());
    let ph = tokio::spawn(publisher::publish(to.clone(), media, ps.clone(), stop_rx));
    let t = Instant::now();
    while !ps.ok.load(Relaxed) && !ph.is_finished() && t.elapsed() < Duration::from_secs(10) {
        sleep(Duration::from_millis(20)).await;
    }
    sleep(o.settle).await;
    let me = [std::process::id()];
    let (rss0, fds0, cpu0, cli0) = (
        procfs::rss_kb(&o.pids),
        procfs::fds(&o.pids),
        procfs::cpu_sum(&o.pids),
        procfs::cpu_sum(&me),
    );

    // Five steps, the server's memory and open files read after each: a leak keeps climbing
    // through the last steps, a heap reaching its working size levels off.
    let (mut times, mut fails) = (Vec::new(), Vec::new());
    let mut steps = Vec::new();
    let mut busy = Duration::ZERO;
    let mut done = 0;
    for step in 1..=5 {
        let n = o.count * step / 5 - done;
        let t = Instant::now();
        let (t_ok, t_fail) = cycles(&to, n, o.concurrency).await;
        busy += t.elapsed();
        done += n;
        times.extend(t_ok);
        fails.extend(t_fail);
        steps.push(
            json!({"cycles": done, "rss_kb": procfs::rss_kb(&o.pids), "anon_kb": procfs::anon_kb(&o.pids),
                   "fds": procfs::fds(&o.pids)}),
        );
    }
    let total = busy.as_secs_f64();
    let rss_warm = steps[0]["rss_kb"].as_u64().unwrap_or(0);
    let fds_warm = steps[0]["fds"].as_u64().unwrap_or(0);
    let rss_last = steps[4]["rss_kb"].as_u64().unwrap_or(0);
    let anon_growth =
        steps[4]["anon_kb"].as_i64().unwrap_or(0) - steps[0]["anon_kb"].as_i64().unwrap_or(0);
    let (cpu1, cli1) = (procfs::cpu_sum(&o.pids), procfs::cpu_sum(&me));
    // The server notices the last closes on its next read events.
    sleep(Duration::from_millis(1000)).await;
    let (rss1, fds1) = (procfs::rss_kb(&o.pids), procfs::fds(&o.pids));
    let verify = keyframe_reaches(&to).await;
    let _ = stop_tx.send(true);
    let _ = timeout(Duration::from_secs(3), ph).await;
    let ok = times.len();
    Ok(json!({
        "mode": "churn", "addr": o.addr, "count": o.count, "concurrency": o.concurrency,
        "ok": ok, "failed": fails.len(), "fail_samples": fails.iter().take(5).collect::<Vec<_>>(),
        "total_s": r3(total), "cycles_per_s": r3(ok as f64 / total.max(1e-9)), "cycle_ms": dist(times),
        "server": {
            "alive": procfs::alive(&o.pids), "cpu_s": r3(cpu1 - cpu0),
            "cpu_ms_per_cycle": r3(1000.0 * (cpu1 - cpu0) / o.count.max(1) as f64),
            "rss_kb_before": rss0, "rss_kb_warm": rss_warm, "rss_kb_last": rss_last, "rss_kb_after": rss1,
            "anon_kb_growth": anon_growth,
            "steps": steps,
            "fds_before": fds0, "fds_warm": fds_warm, "fds_after": fds1,
        },
        "client": {"cpu_s": r3(cli1 - cli0)},
        "publisher_ok": ps.ok.load(Relaxed),
        "verify_keyframe_ms": verify.as_ref().ok().map(|x| r3(*x)), "verify_error": verify.err(),
    }))
}
