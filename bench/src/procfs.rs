//! What /proc says about the server's workers and the machine: CPU time, memory, open files,
//! run-queue wait, load.

use std::fs;

fn clk_tck() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).max(1) as f64
}

/// Fields of /proc/PID/stat after the command name (field 3, the state, is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.get(s.rfind(')')? + 2..)?;
    Some(rest.split_whitespace().map(String::from).collect())
}

/// (user, system) CPU seconds of one process.
pub fn cpu_split(pid: u32) -> Option<(f64, f64)> {
    let f = stat_fields(pid)?;
    let t = clk_tck();
    Some((
        f.get(11)?.parse::<f64>().ok()? / t,
        f.get(12)?.parse::<f64>().ok()? / t,
    ))
}

/// (user, system) CPU seconds summed over processes.
pub fn cpu_split_sum(pids: &[u32]) -> (f64, f64) {
    pids.iter()
        .filter_map(|&p| cpu_split(p))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// CPU seconds summed over processes, from the scheduler's nanosecond count of every thread
/// (schedstat) where there is one: /proc/PID/stat counts in 10 ms ticks, too coarse for a
/// few seconds' window.
pub fn cpu_sum(pids: &[u32]) -> f64 {
    pids.iter()
        .map(|&p| {
            let threads = fs::read_dir(format!("/proc/{p}/task")).map(|rd| {
                rd.flatten()
                    .filter_map(|e| fs::read_to_string(e.path().join("schedstat")).ok())
                    .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                    .sum::<f64>()
                    / 1e9
            });
            match threads {
                Ok(t) if t > 0.0 => t,
                _ => cpu_split(p).map_or(0.0, |(u, s)| u + s),
            }
        })
        .sum()
}

/// The process's command name.
pub fn comm(pid: u32) -> Option<String> {
    Some(
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            .to_string(),
    )
}

pub fn ppid(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Children of `parent` (nginx's workers of a master), found by scanning /proc.
pub fn children(parent: u32) -> Vec<u32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut v: Vec<u32> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| ppid(p) == Some(parent))
        .collect();
    v.sort_unstable();
    v
}

/// A `Key:   N kB` line of /proc/PID/status.
pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn rss_kb(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&p| status_kb(p, "VmRSS:")).sum()
}

/// Anonymous memory (the heap and the like): what a leak grows. VmRSS also counts the pages
/// of code read in from the module's file as new paths run.
pub fn anon_kb(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&p| status_kb(p, "RssAnon:")).sum()
}

pub fn hwm_kb(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&p| status_kb(p, "VmHWM:")).sum()
}

pub fn fds(pids: &[u32]) -> usize {
    pids.iter()
        .filter_map(|p| fs::read_dir(format!("/proc/{p}/fd")).ok())
        .map(|d| d.count())
        .sum()
}

pub fn alive(pids: &[u32]) -> bool {
    !pids.is_empty()
        && pids
            .iter()
            .all(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
}

/// Seconds the processes' threads spent runnable but waiting for a CPU (schedstat): how much
/// the machine's other work got in their way.
pub fn runq_wait_s(pids: &[u32]) -> f64 {
    let mut t = 0.0;
    for p in pids {
        let Ok(rd) = fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for e in rd.flatten() {
            if let Ok(s) = fs::read_to_string(e.path().join("schedstat")) {
                t += s
                    .split_whitespace()
                    .nth(1)
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    / 1e9;
            }
        }
    }
    t
}

/// (busy, total) jiffies over all CPUs.
pub fn machine_cpu() -> (f64, f64) {
    let s = fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() < 8 {
        return (0.0, 0.0);
    }
    let total: f64 = f.iter().take(8).sum();
    (total - f[3] - f[4], total)
}

/// The three load averages.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default()
}

/// Is a TCP socket listening on 127.0.0.1:`port`? (Reads /proc/net/tcp, so it makes no
/// connection the server would log or count.)
pub fn listening(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    fs::read_to_string("/proc/net/tcp")
        .map(|s| {
            s.lines().skip(1).any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1] == want && f[3] == "0A"
            })
        })
        .unwrap_or(false)
}

/// Raises this process's open-file limit to its hard limit (children inherit it).
pub fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
    r.rlim_cur
}
