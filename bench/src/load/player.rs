//! A player: connect, createStream, play, then read until told to stop, keeping what the
//! report needs (first frames, gaps, and the stamp of every video frame while recording).

use super::Target;
use crate::flv;
use crate::rtmp::{amf, Conn};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

/// What all players of a run share with the run's clock.
pub struct Shared {
    /// Inside the measurement window: count gaps.
    pub measuring: AtomicBool,
    /// From the window's start until stop: keep (sequence, latency) of every video frame.
    pub recording: AtomicBool,
    /// Bytes received by all players.
    pub bytes: AtomicU64,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            measuring: false.into(),
            recording: false.into(),
            bytes: 0.into(),
        })
    }
}

#[derive(Default, Clone)]
pub struct PlayerResult {
    pub stream: usize,
    pub connected: bool,
    pub error: Option<String>,
    pub disconnected: bool,
    pub video: u64,
    pub audio: u64,
    pub connect_ms: Option<f64>,
    /// First video frame of any kind, after play was sent.
    pub ttff_ms: Option<f64>,
    /// First keyframe (the first decodable frame), after play was sent.
    pub ttfk_ms: Option<f64>,
    /// First keyframe, after the TCP connect began.
    pub ttfk_from_connect_ms: Option<f64>,
    pub stalls_win: u64,
    pub max_gap_win_ms: f64,
    /// (sequence number, latency in µs) of each stamped frame while recording.
    pub samples: Vec<(u32, u32)>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Played after `delay`; returns when `stop` turns true or the connection ends.
pub async fn play(
    to: Target,
    stream: usize,
    delay: Duration,
    g: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> PlayerResult {
    let mut r = PlayerResult {
        stream,
        ..Default::default()
    };
    tokio::select! { _ = sleep(delay) => {}, _ = stop.changed() => return r }
    let t_conn = Instant::now();
    let setup = timeout(Duration::from_secs(10), async {
        let mut c = Conn::open(&to.addr, 64).await?;
        c.connect_app(&to.app, &to.tc_url()).await?;
        let sid = c.create_stream().await?;
        Ok::<_, std::io::Error>((c, sid))
    })
    .await;
    let (mut c, sid) = match setup {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            r.error = Some(format!("setup: {e}"));
            return r;
        }
        Err(_) => {
            r.error = Some("setup: timeout".into());
            return r;
        }
    };
    r.connected = true;
    r.connect_ms = Some(ms(t_conn.elapsed()));
    let t_play = Instant::now();
    if let Err(e) = c.play(sid, &to.name).await {
        r.error = Some(format!("play: {e}"));
        return r;
    }
    let mut msgs = Vec::with_capacity(64);
    let mut last_video: Option<Instant> = None;
    // Bounded by stop or the connection's end; the cap only keeps the loop finite.
    for _ in 0..u64::MAX {
        msgs.clear();
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            res = c.recv(&mut msgs) => match res {
                Ok(n) => { g.bytes.fetch_add(n as u64, Relaxed); }
                Err(e) => {
                    if !*stop.borrow() {
                        r.disconnected = true;
                        r.error = Some(format!("recv: {e}"));
                    }
                    break;
                }
            }
        }
        if msgs.is_empty() {
            continue;
        }
        let now = Instant::now();
        let measuring = g.measuring.load(Relaxed);
        let recording = g.recording.load(Relaxed);
        for m in &msgs {
            match m.typ {
                // AVC NALUs (not the sequence header).
                9 if m.data.len() >= 2 && m.data[1] == 1 => {
                    r.video += 1;
                    r.ttff_ms.get_or_insert(ms(now - t_play));
                    if r.ttfk_ms.is_none() && m.data[0] >> 4 == 1 {
                        r.ttfk_ms = Some(ms(now - t_play));
                        r.ttfk_from_connect_ms = Some(ms(now - t_conn));
                    }
                    if let (Some(lv), true) = (last_video, measuring) {
                        let gap = ms(now - lv);
                        r.stalls_win += (gap > 1000.0) as u64;
                        r.max_gap_win_ms = r.max_gap_win_ms.max(gap);
                    }
                    last_video = Some(now);
                    if let (Some((seq, sent)), true) = (flv::read_stamp(&m.data), recording) {
                        let lat_us = flv::now_ns().saturating_sub(sent) / 1000;
                        r.samples.push((seq, lat_us.min(u32::MAX as u64) as u32));
                    }
                }
                8 => r.audio += 1,
                20 => {
                    let v = amf::read_all(&m.data);
                    if let Some(code) = amf::status_code(&v) {
                        if code.contains("StreamNotFound") || code.contains("Failed") {
                            r.error = Some(format!("status {code}"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    r
}
