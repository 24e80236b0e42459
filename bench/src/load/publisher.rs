//! A publisher: loops the source at real-time pace with timestamps rewritten so they keep
//! rising, and stamps every video frame (see `flv`).

use super::Target;
use crate::flv::{self, Media};
use crate::rtmp::chunk::write_msg;
use crate::rtmp::Conn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout, Instant};

#[derive(Default)]
pub struct PubStats {
    /// Video frames sent; also the next frame's sequence number.
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    /// Publish.Start received.
    pub ok: AtomicBool,
    /// How far behind its schedule a frame went out, at worst: the load generator's own
    /// overload shows here.
    pub late_ms_max: AtomicU64,
}

/// Waits for `target`, answering the server meanwhile; false when told to stop.
async fn wait_until(
    c: &mut Conn,
    target: Instant,
    stop: &mut watch::Receiver<bool>,
) -> Result<bool, String> {
    let mut sink = Vec::new();
    while Instant::now() < target {
        tokio::select! {
            _ = sleep_until(target) => break,
            _ = stop.changed() => return Ok(false),
            r = c.recv(&mut sink) => { r.map_err(|e| format!("publisher connection: {e}"))?; sink.clear(); }
        }
    }
    Ok(!*stop.borrow())
}

pub async fn publish(
    to: Target,
    media: Arc<Media>,
    st: Arc<PubStats>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let (mut c, sid) = timeout(Duration::from_secs(10), async {
        let mut c = Conn::open(&to.addr, 64).await?;
        c.connect_app(&to.app, &to.tc_url()).await?;
        let sid = c.create_stream().await?;
        c.publish(sid, &to.name).await?;
        Ok::<_, std::io::Error>((c, sid))
    })
    .await
    .map_err(|_| "publish setup: timeout".to_string())?
    .map_err(|e| format!("publish setup: {e}"))?;
    st.ok.store(true, Relaxed);
    let e = |e: std::io::Error| format!("publish send: {e}");
    if let Some(m) = &media.meta {
        c.send(5, 0, 18, sid, m).await.map_err(e)?;
    }
    c.send(6, 0, 9, sid, &media.video_header).await.map_err(e)?;
    if let Some(a) = &media.audio_header {
        c.send(4, 0, 8, sid, a).await.map_err(e)?;
    }
    let t0 = Instant::now();
    let mut seq: u32 = 0;
    let mut buf = Vec::with_capacity(512 * 1024);
    // Bounded by the caller's stop; the cap only keeps the loop finite.
    for lap in 0u32..1_000_000 {
        for t in &media.tags {
            let ts = lap * media.dur_ms + t.ts;
            let target = t0 + Duration::from_millis(ts as u64);
            let now = Instant::now();
            if target > now {
                if !wait_until(&mut c, target, &mut stop).await? {
                    return Ok(());
                }
            } else {
                st.late_ms_max
                    .fetch_max((now - target).as_millis() as u64, Relaxed);
                if *stop.borrow() {
                    return Ok(());
                }
            }
            buf.clear();
            if t.typ == 9 {
                write_msg(
                    &mut buf,
                    6,
                    ts,
                    9,
                    sid,
                    &flv::stamped(&t.data, seq, flv::now_ns()),
                    c.out_chunk,
                );
                seq = seq.wrapping_add(1);
                st.frames.fetch_add(1, Relaxed);
            } else {
                write_msg(&mut buf, 4, ts, 8, sid, &t.data, c.out_chunk);
            }
            c.s.write_all(&buf).await.map_err(e)?;
            st.bytes.fetch_add(buf.len() as u64, Relaxed);
        }
    }
    Ok(())
}
