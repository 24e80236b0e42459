//! `(server, app, name)` to stream: publish, play and frames by name.
use super::outbox::SharedOutbox;
use super::stream::{FrameKind, PlayOptions, Stream, StreamInfo};
use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// Index of the rtmp `server{}` block: each server has its own applications.
    pub server: usize,
    pub app: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubError {
    AlreadyPublishing,
    NotFound,
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HubError::AlreadyPublishing => "already publishing",
            HubError::NotFound => "stream not found",
        })
    }
}

#[derive(Default)]
pub struct Hub {
    streams: HashMap<StreamKey, Stream>,
    now_ms: u64,
}

/// Bytes of chunked media a stream keeps for late joiners before it gives up its GOP cache.
const GOP_LIMIT: usize = 16 << 20;

impl Hub {
    pub fn new() -> Self {
        Hub::default()
    }

    /// Time is an input: the shell tells the hub the time before it acts (milliseconds on
    /// any monotonic clock); new streams remember it for the stat page.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Every stream with what the stat page shows of it.
    pub fn streams(&self) -> impl Iterator<Item = (&StreamKey, StreamInfo)> + '_ {
        self.streams.iter().map(|(k, s)| (k, s.info()))
    }

    pub fn publish(
        &mut self,
        key: &StreamKey,
        id: u64,
        chunk_size: u32,
        publish_notify: bool,
        wake: &mut dyn FnMut(usize),
    ) -> Result<(), HubError> {
        let now = self.now_ms;
        let stream = self
            .streams
            .entry(key.clone())
            .or_insert_with(|| Stream::new(chunk_size, GOP_LIMIT, now));
        if stream.publisher.is_some() {
            return Err(HubError::AlreadyPublishing);
        }
        stream.start_publishing(id, publish_notify, wake);
        Ok(())
    }

    pub fn unpublish(&mut self, key: &StreamKey, id: u64, wake: &mut dyn FnMut(usize)) {
        if let Some(stream) = self.streams.get_mut(key) {
            if stream.publisher == Some(id) {
                stream.stop_publishing(wake);
            }
            if stream.is_empty() {
                self.streams.remove(key);
            }
        }
    }

    pub fn play(
        &mut self,
        key: &StreamKey,
        id: u64,
        outbox: SharedOutbox,
        chunk_size: u32,
        opts: PlayOptions,
        wake: &mut dyn FnMut(usize),
    ) -> Result<(), HubError> {
        let live = self.streams.get(key).is_some_and(|s| s.publisher.is_some());
        if !live && !opts.idle_streams {
            return Err(HubError::NotFound);
        }
        let now = self.now_ms;
        let stream = self
            .streams
            .entry(key.clone())
            .or_insert_with(|| Stream::new(chunk_size, GOP_LIMIT, now));
        stream.add_player(id, outbox, opts.wait_video, false, wake);
        Ok(())
    }

    /// Subscribes a push relay to a published stream: like a player it gets metadata,
    /// sequence headers and the GOP first, then every frame as the same shared bytes; unlike
    /// one it gets no player notices. It leaves with `stop_playing`.
    pub fn subscribe_relay(
        &mut self,
        key: &StreamKey,
        id: u64,
        outbox: SharedOutbox,
        wake: &mut dyn FnMut(usize),
    ) -> Result<(), HubError> {
        match self.streams.get_mut(key) {
            Some(stream) if stream.publisher.is_some() => {
                stream.add_player(id, outbox, false, true, wake);
                Ok(())
            }
            _ => Err(HubError::NotFound),
        }
    }

    pub fn stop_playing(&mut self, key: &StreamKey, id: u64) {
        if let Some(stream) = self.streams.get_mut(key) {
            stream.remove_player(id);
            if stream.is_empty() {
                self.streams.remove(key);
            }
        }
    }

    pub fn frame(
        &mut self,
        key: &StreamKey,
        kind: FrameKind,
        timestamp: u32,
        payload: Bytes,
        wake: &mut dyn FnMut(usize),
    ) {
        if let Some(stream) = self.streams.get_mut(key) {
            stream.frame(kind, timestamp, payload, wake);
        }
    }

    pub fn info(&self, key: &StreamKey) -> Option<StreamInfo> {
        self.streams.get(key).map(Stream::info)
    }

    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }
}

/// Longest stream name accepted; names end up in file names and URLs.
pub const MAX_STREAM_NAME: usize = 1024;

/// Why a stream name is refused, if it is: names become file and path components later
/// (recordings, HLS), so nothing that could leave a directory gets in.
pub fn stream_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_STREAM_NAME {
        Some("is longer than 1024 bytes")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name == "." || name == ".." || name.contains("..") {
        Some("contains \"..\"")
    } else if name.chars().any(|c| c.is_control()) {
        Some("contains a control character")
    } else {
        None
    }
}
