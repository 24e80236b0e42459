//! The storage sinks of one published stream: its recorders and its HLS segmenter, fed with
//! every frame the publisher sends, beside the hub's players. A write error stops that sink
//! alone; the live stream and its players carry on.
mod hls_files;
mod record_files;

use super::conf::RtmpConfCtx;
use super::ffi::log;
use super::ngx_rtmp_hls_module::{hls_conf, HlsAppConf};
use super::ngx_rtmp_record_module::{recorders, RecordAppConf};
use bytes::Bytes;
use hls_files::HlsDisk;
use nginx_sys::{ngx_log_t, NGX_LOG_ERR, NGX_LOG_INFO};
use ngx_rtmp_core::config::record::{RECORD_AUDIO, RECORD_KEYFRAMES, RECORD_MANUAL, RECORD_VIDEO};
use ngx_rtmp_core::hls::{
    FragmentType, HlsConf, HlsStream, Naming, PlaylistType, Slicing, Variant,
};
use ngx_rtmp_core::hub::FrameKind;
use ngx_rtmp_core::record::{FlvRecorder, RecordEvent, RecorderConf};
use record_files::RecordDisk;

/// A status the publisher is told about (`record_notify`).
pub struct Notice {
    pub stream_id: u32,
    pub code: &'static str,
    pub level: &'static str,
    pub description: String,
}

pub struct Sinks {
    stream_id: u32,
    recordings: Vec<Recording>,
    hls: Option<HlsSink>,
}

/// Told of every recording a recorder closes: (recorder id, file path).
pub type OnRecordClosed = std::rc::Rc<dyn Fn(&str, &str)>;

struct Recording {
    id: String,
    notify: bool,
    /// exec_record_done, on_record_done.
    on_closed: Vec<OnRecordClosed>,
    recorder: FlvRecorder,
    disk: RecordDisk,
}

struct HlsSink {
    stream: HlsStream,
    disk: HlsDisk,
}

/// The clocks the sinks run on: nginx's monotonic ms (record_interval) and wall-clock ms
/// (HLS fragment names).
fn clocks() -> (u64, u64) {
    // SAFETY: nginx keeps ngx_cached_time pointing at a valid, current time slot.
    let unix_ms = unsafe {
        let t = &*nginx_sys::ngx_cached_time;
        t.sec as u64 * 1000 + t.msec as u64
    };
    (super::conn::now() as u64, unix_ms)
}

impl Sinks {
    /// The sinks the application configures for stream `name`; None when it stores nothing.
    pub fn start(
        ctx: &RtmpConfCtx,
        name: &str,
        stream_id: u32,
        clog: *mut ngx_log_t,
    ) -> Option<Box<Sinks>> {
        let mut sinks = Sinks {
            stream_id,
            recordings: Vec::new(),
            hls: None,
        };
        for (id, conf) in recorders(ctx) {
            match recording(&id, conf, name) {
                Ok(r) => sinks.recordings.push(r),
                Err(e) => log(clog, NGX_LOG_ERR, &format!("record: {}{e}", shown(&id))),
            }
        }
        let hacf = hls_conf(ctx);
        if hacf.hls == Some(true) {
            let dir = hacf.path.clone().unwrap_or_default();
            match HlsDisk::new(&dir) {
                Ok(mut disk) => {
                    let (_, unix_ms) = clocks();
                    let stream = HlsStream::new(core_hls_conf(hacf), name, &mut disk, unix_ms);
                    sinks.hls = Some(HlsSink { stream, disk });
                }
                Err(e) => log(
                    clog,
                    NGX_LOG_ERR,
                    &format!("hls: cannot create hls_path \"{dir}\": {e}; no HLS for this stream"),
                ),
            }
        }
        if sinks.recordings.is_empty() && sinks.hls.is_none() {
            return None;
        }
        Some(Box::new(sinks))
    }

    pub fn frame(
        &mut self,
        clog: *mut ngx_log_t,
        kind: FrameKind,
        timestamp: u32,
        payload: &Bytes,
        notices: &mut Vec<Notice>,
    ) {
        let (now_ms, unix_ms) = clocks();
        let mut events = Vec::new();
        for r in &mut self.recordings {
            r.recorder
                .frame(&mut r.disk, now_ms, kind, timestamp, payload, &mut events);
            r.report(clog, self.stream_id, &mut events, notices);
        }
        if let Some(h) = &mut self.hls {
            if let Err(e) = h
                .stream
                .frame(&mut h.disk, unix_ms, kind, timestamp, payload)
            {
                log(
                    clog,
                    NGX_LOG_ERR,
                    &format!("{e}; HLS stopped for this stream"),
                );
                self.hls = None;
            }
        }
    }

    /// Unpublish: every recorder closes its file properly, HLS writes its last playlist.
    pub fn finish(&mut self, clog: *mut ngx_log_t, notices: &mut Vec<Notice>) {
        let mut events = Vec::new();
        for r in &mut self.recordings {
            r.recorder.stop(&mut r.disk, &mut events);
            r.report(clog, self.stream_id, &mut events, notices);
        }
        if let Some(mut h) = self.hls.take() {
            if let Err(e) = h.stream.finish(&mut h.disk) {
                log(clog, NGX_LOG_ERR, &e);
            }
        }
    }
}

impl Sinks {
    /// `f` hears of each file the recorders close from now on (exec_record_done,
    /// on_record_done).
    pub fn on_record_closed(&mut self, f: OnRecordClosed) {
        for r in &mut self.recordings {
            r.on_closed.push(f.clone());
        }
    }

    /// The control API's record/start and record/stop for recorder `id`: None if the
    /// application has no such recorder, else the file the recorder will write (start) or
    /// has written (stop).
    pub fn control_record(
        &mut self,
        clog: *mut ngx_log_t,
        id: &str,
        start: bool,
        notices: &mut Vec<Notice>,
    ) -> Option<Option<String>> {
        let stream_id = self.stream_id;
        let r = self.recordings.iter_mut().find(|r| r.id == id)?;
        let path = if start {
            if !r.recorder.is_recording() {
                r.disk.reserve_next();
                r.recorder.start();
                log(
                    clog,
                    NGX_LOG_INFO,
                    &format!("record: {}armed by the control API", shown(id)),
                );
            }
            r.disk.next_or_current()
        } else {
            let mut events = Vec::new();
            r.recorder.stop(&mut r.disk, &mut events);
            r.report(clog, stream_id, &mut events, notices);
            r.disk.path().cloned()
        };
        Some(path.map(|p| p.display().to_string()))
    }
}

fn recording(id: &str, conf: &RecordAppConf, name: &str) -> Result<Recording, String> {
    let Some(dir) = conf.path.as_deref().filter(|p| !p.is_empty()) else {
        return Err("record_path is not set; not recording".into());
    };
    let mut flags = conf.flags.unwrap_or(0);
    if flags & (RECORD_AUDIO | RECORD_VIDEO | RECORD_KEYFRAMES) == 0 {
        // `record manual` alone records nothing in the C module once started; what its
        // users (and the reference config's `recorder rec1 { record manual; }`) mean is
        // "everything, when told to".
        flags |= RECORD_AUDIO | RECORD_VIDEO;
    }
    let mut recorder = FlvRecorder::new(RecorderConf {
        flags,
        max_size: conf.max_size.unwrap_or(0),
        max_frames: conf.max_frames.unwrap_or(0),
        interval_ms: conf.interval,
        append: conf.append.unwrap_or(false),
    });
    if flags & RECORD_MANUAL == 0 {
        recorder.start();
    }
    Ok(Recording {
        id: id.to_string(),
        notify: conf.notify.unwrap_or(false),
        on_closed: Vec::new(),
        recorder,
        disk: RecordDisk::new(
            dir,
            name,
            conf.unique.unwrap_or(false),
            conf.suffix.as_deref().unwrap_or(".flv"),
            conf.lock.unwrap_or(false),
        ),
    })
}

/// How a recorder is named in log lines: `"rec1" ` or nothing for the application's own.
fn shown(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!("\"{id}\" ")
    }
}

impl Recording {
    fn report(
        &self,
        clog: *mut ngx_log_t,
        stream_id: u32,
        events: &mut Vec<RecordEvent>,
        notices: &mut Vec<Notice>,
    ) {
        let who = shown(&self.id);
        for ev in events.drain(..) {
            let (RecordEvent::Opened { piece }
            | RecordEvent::Closed { piece, .. }
            | RecordEvent::Failed { piece, .. }) = ev;
            let path = self
                .disk
                .piece_path(piece)
                .or(self.disk.path())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let closed = matches!(ev, RecordEvent::Closed { .. });
            let (level, text, notice) = match ev {
                RecordEvent::Opened { .. } => (
                    NGX_LOG_INFO,
                    format!("record: {who}started \"{path}\""),
                    ("NetStream.Record.Start", "status"),
                ),
                RecordEvent::Closed {
                    bytes, duration_ms, ..
                } => (
                    NGX_LOG_INFO,
                    format!(
                        "record: {who}closed \"{path}\" ({bytes} bytes, {}.{:03} s)",
                        duration_ms / 1000,
                        duration_ms % 1000
                    ),
                    ("NetStream.Record.Stop", "status"),
                ),
                RecordEvent::Failed { error, .. } => (
                    NGX_LOG_ERR,
                    format!("record: {who}stopped: writing \"{path}\" failed: {error}"),
                    ("NetStream.Record.Failed", "error"),
                ),
            };
            log(clog, level, &text);
            if closed {
                for f in &self.on_closed {
                    f(&self.id, &path);
                }
            }
            if self.notify {
                notices.push(Notice {
                    stream_id,
                    code: notice.0,
                    level: notice.1,
                    description: self.id.clone(),
                });
            }
        }
    }
}

/// The hls directives as the core's settings; unset ones take the C module's defaults.
fn core_hls_conf(c: &HlsAppConf) -> HlsConf {
    let d = HlsConf::default();
    HlsConf {
        fragment_ms: c.fragment.unwrap_or(d.fragment_ms),
        max_fragment_ms: c.max_fragment.unwrap_or(d.max_fragment_ms),
        playlist_length_ms: c.playlist_length.unwrap_or(d.playlist_length_ms),
        sync_ms: c.sync.unwrap_or(d.sync_ms),
        muxdelay_ms: c.muxdelay.unwrap_or(d.muxdelay_ms),
        continuous: c.continuous.unwrap_or(d.continuous),
        nested: c.nested.unwrap_or(d.nested),
        naming: match c.fragment_naming.as_deref() {
            Some("timestamp") => Naming::Timestamp,
            Some("system") => Naming::System,
            Some(_) => Naming::Sequential,
            None => d.naming,
        },
        naming_granularity: c
            .fragment_naming_granularity
            .unwrap_or(d.naming_granularity),
        slicing: match c.fragment_slicing.as_deref() {
            Some("aligned") => Slicing::Aligned,
            Some(_) => Slicing::Plain,
            None => d.slicing,
        },
        playlist_type: match c.playlist_type.as_deref() {
            Some("event") => PlaylistType::Event,
            Some(_) => PlaylistType::Live,
            None => d.playlist_type,
        },
        max_audio_delay_ms: c.max_audio_delay.unwrap_or(d.max_audio_delay_ms),
        audio_buffer_size: c
            .audio_buffer_size
            .map(|v| v as usize)
            .unwrap_or(d.audio_buffer_size),
        fragment_type: match c.fragment_type.as_deref() {
            Some("mpegts") => FragmentType::MpegTs,
            Some("fmp4") => FragmentType::Fmp4,
            Some(_) => FragmentType::Auto,
            None => d.fragment_type,
        },
        cleanup: c.cleanup.unwrap_or(d.cleanup),
        base_url: c.base_url.clone().unwrap_or(d.base_url),
        variants: if c.variants.is_empty() {
            d.variants
        } else {
            c.variants
                .iter()
                .map(|v| Variant {
                    suffix: v.first().cloned().unwrap_or_default(),
                    params: v.iter().skip(1).cloned().collect(),
                })
                .collect()
        },
    }
}
