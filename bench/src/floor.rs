//! The floor of live fan-out: what the kernel's copy alone costs. One thread sends the same
//! bytes a server would (the source's tags, stamped and chunked once per message, 4096-byte
//! chunks), paced in real time, to N loopback sockets with one `writev` per socket per
//! instant; a child process reads and discards. No server spends less CPU per delivered byte
//! than this on this machine.

use crate::flv::{self, Media};
use crate::rtmp::chunk::write_msg;
use crate::rtmp::conn::CHUNK;
use crate::stats::r3;
use serde_json::{json, Value};
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

fn cpu_self_s() -> f64 {
    // SAFETY: rusage is plain data; getrusage fills the struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// A socket's bytes the kernel did not take yet.
struct Sock {
    s: TcpStream,
    backlog: Vec<u8>,
}

/// The most a socket may have waiting before its messages are dropped (as a server would skip).
const BACKLOG_MAX: usize = 8 << 20;

/// Writes `msgs` after the socket's backlog in one writev; keeps what was not taken.
/// Returns (bytes written, messages dropped).
fn send(sock: &mut Sock, msgs: &[Vec<u8>]) -> (u64, u64) {
    if sock.backlog.len() > BACKLOG_MAX {
        return (0, msgs.len() as u64);
    }
    let mut iov: Vec<libc::iovec> = Vec::with_capacity(msgs.len() + 1);
    for b in std::iter::once(&sock.backlog)
        .chain(msgs.iter())
        .filter(|b| !b.is_empty())
    {
        iov.push(libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        });
    }
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    // SAFETY: every iovec points into a buffer borrowed for the duration of the call.
    let r = unsafe { libc::writev(sock.s.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int) };
    let written = r.max(0) as usize;
    if written < total {
        let mut rest = Vec::with_capacity(total - written);
        let mut skip = written;
        for b in std::iter::once(&sock.backlog).chain(msgs.iter()) {
            let k = skip.min(b.len());
            skip -= k;
            rest.extend_from_slice(&b[k..]);
        }
        sock.backlog = rest;
    } else {
        sock.backlog.clear();
    }
    (written as u64, 0)
}

/// The messages due at each instant of one lap: (time offset ms, tags).
fn schedule(media: &Media) -> Vec<(u32, Vec<usize>)> {
    let mut out: Vec<(u32, Vec<usize>)> = Vec::new();
    for (i, t) in media.tags.iter().enumerate() {
        match out.last_mut() {
            Some((ts, v)) if *ts == t.ts => v.push(i),
            _ => out.push((t.ts, vec![i])),
        }
    }
    out
}

/// `batch`: hold messages until this much time has passed since the last send, then write
/// them in one writev (zero: each instant's messages as they fall due, as a server that
/// sends at once does). Coalescing is how a server could go below the zero-batch floor.
pub fn run(flv_path: &str, n: usize, window: Duration, batch: Duration) -> Result<Value, String> {
    let media = flv::load(flv_path)?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let limit = window.as_secs() + 30;
    let mut reader = std::process::Command::new(exe)
        .args([
            "reader",
            "--addr",
            &addr.to_string(),
            "--players",
            &n.to_string(),
            "--limit-s",
            &limit.to_string(),
        ])
        .spawn()
        .map_err(|e| format!("reader: {e}"))?;
    let mut socks = Vec::new();
    for _ in 0..n {
        let (s, _) = listener.accept().map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        socks.push(Sock {
            s,
            backlog: Vec::new(),
        });
    }
    let plan = schedule(&media);
    let start = Instant::now();
    let cpu0 = cpu_self_s();
    let (mut bytes, mut dropped, mut seq) = (0u64, 0u64, 0u32);
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let mut last_send = start;
    let mut writes = 0u64;
    'laps: for lap in 0u64..1_000_000 {
        for (ts, tags) in &plan {
            let due = start + Duration::from_millis(lap * media.dur_ms as u64 + *ts as u64);
            if due >= start + window {
                break 'laps;
            }
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            for &i in tags {
                let t = &media.tags[i];
                let mut b = Vec::with_capacity(t.data.len() + t.data.len() / CHUNK + 64);
                let ts = (lap as u32).wrapping_mul(media.dur_ms).wrapping_add(t.ts);
                if t.typ == 9 {
                    write_msg(
                        &mut b,
                        6,
                        ts,
                        9,
                        1,
                        &flv::stamped(&t.data, seq, flv::now_ns()),
                        CHUNK,
                    );
                    seq = seq.wrapping_add(1);
                } else {
                    write_msg(&mut b, 4, ts, 8, 1, &t.data, CHUNK);
                }
                msgs.push(b);
            }
            if due.duration_since(last_send) < batch {
                continue;
            }
            last_send = due;
            for s in socks.iter_mut() {
                let (w, d) = send(s, &msgs);
                bytes += w;
                dropped += d;
            }
            writes += socks.len() as u64;
            msgs.clear();
        }
    }
    let cpu = cpu_self_s() - cpu0;
    let el = start.elapsed().as_secs_f64();
    drop(socks);
    let _ = reader.wait();
    let gb = bytes as f64 / 1e9;
    Ok(json!({
        "mode": "floor", "players": n, "source_kbps": r3(media.bitrate_kbps), "window_s": r3(el),
        "delivered_bytes": bytes, "delivered_mbit_s": r3(bytes as f64 * 8.0 / 1e6 / el),
        "cpu_s": r3(cpu), "cpu_pct": r3(100.0 * cpu / el),
        "cpu_s_per_gb": (gb > 0.0).then(|| r3(cpu / gb)), "dropped_messages": dropped,
        "batch_ms": batch.as_millis() as u64, "writes_per_s_per_player": r3(writes as f64 / el / n.max(1) as f64),
    }))
}

/// The reading side: N connections drained with poll until the writer closes them all.
pub fn reader(addr: &str, n: usize, limit: Duration) -> io::Result<()> {
    let mut socks = Vec::new();
    for _ in 0..n {
        let s = TcpStream::connect(addr)?;
        s.set_nonblocking(true)?;
        socks.push(Some(s));
    }
    let mut buf = vec![0u8; 256 * 1024];
    let t0 = Instant::now();
    while socks.iter().any(Option::is_some) && t0.elapsed() < limit {
        let mut pfd: Vec<libc::pollfd> = socks
            .iter()
            .map(|s| libc::pollfd {
                fd: s.as_ref().map_or(-1, |s| s.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: pfd is a live array of pfd.len() pollfd structs.
        let r = unsafe { libc::poll(pfd.as_mut_ptr(), pfd.len() as libc::nfds_t, 100) };
        if r <= 0 {
            continue;
        }
        for (p, slot) in pfd.iter().zip(socks.iter_mut()) {
            if p.revents == 0 {
                continue;
            }
            let Some(s) = slot.as_mut() else { continue };
            loop {
                match s.read(&mut buf) {
                    Ok(0) => {
                        *slot = None;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        *slot = None;
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_write_keeps_the_rest_in_order() {
        let (a, b) = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
            (a, l.accept().unwrap().0)
        };
        a.set_nonblocking(true).unwrap();
        let mut sock = Sock {
            s: a,
            backlog: Vec::new(),
        };
        let big: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 64 * 1024]).collect();
        let (w, _) = send(&mut sock, &big);
        assert!(
            w > 0 && !sock.backlog.is_empty(),
            "4 MB should not fit a fresh socket buffer"
        );
        assert_eq!(w as usize + sock.backlog.len(), 64 * 64 * 1024);
        let first_kept = sock.backlog[0];
        assert_eq!(first_kept as usize, w as usize / (64 * 1024));
        drop(b);
    }
}
