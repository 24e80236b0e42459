//! One live stream: its publisher, what a late joiner needs first (metadata, sequence headers,
//! the current GOP) and its players.
use super::facts::StreamFacts;
use super::outbox::SharedOutbox;
use super::status::{status_message, user_control, MSID, STREAM_BEGIN, STREAM_EOF};
use crate::media::configs::ConfigSet;
use crate::media::flv::{audio_config_key, video_config_key, GopTrack};
use crate::media::metadata::{is_metadata, strip_set_data_frame};
use crate::protocol::chunk_writer::{encode_message, CSID_AUDIO, CSID_DATA, CSID_VIDEO};
use crate::protocol::message::msg_type;
use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Audio,
    Video,
    Data,
}

#[derive(Debug, Clone, Copy)]
pub struct PlayOptions {
    /// Play a name nobody publishes yet and wait for it (`idle_streams`).
    pub idle_streams: bool,
    /// Send the player no audio before its first video frame (`wait_video`).
    pub wait_video: bool,
}

/// What the stat page and logs want to know about a stream.
#[derive(Debug, Clone, Default)]
pub struct StreamInfo {
    pub publishing: bool,
    /// Players, push relays not counted.
    pub players: usize,
    pub relays: usize,
    /// The chunk size of the stream's shared messages: a push relay announces it.
    pub chunk_size: u32,
    pub bytes_in: u64,
    pub frames_in: u64,
    /// The hub's clock (see `Hub::set_now`) when the stream was created.
    pub since_ms: u64,
    pub facts: StreamFacts,
}

struct Player {
    id: u64,
    outbox: SharedOutbox,
    /// A push relay: it gets the media and data a publisher sends, none of the notices a
    /// player gets (StreamBegin/EOF, PublishNotify), which are not for a remote server.
    relay: bool,
    wait_video: bool,
    /// With `wait_video`: no video frame has reached this player since the publish began.
    waiting_video: bool,
}

pub(super) struct Stream {
    pub(super) publisher: Option<u64>,
    chunk_size: u32,
    gop_limit: usize,
    metadata: Option<Bytes>,
    /// Sequence headers and the like, per kind and track (chunked messages).
    video_configs: ConfigSet<Bytes>,
    audio_configs: ConfigSet<Bytes>,
    /// Chunked messages since the last video keyframe, the keyframe first.
    gop: Vec<(Bytes, bool)>,
    gop_bytes: usize,
    gop_track: GopTrack,
    has_video: bool,
    players: Vec<Player>,
    bytes_in: u64,
    frames_in: u64,
    since_ms: u64,
    facts: StreamFacts,
}

impl Stream {
    pub(super) fn new(chunk_size: u32, gop_limit: usize, since_ms: u64) -> Self {
        Stream {
            publisher: None,
            chunk_size,
            gop_limit,
            metadata: None,
            video_configs: ConfigSet::default(),
            audio_configs: ConfigSet::default(),
            gop: Vec::new(),
            gop_bytes: 0,
            gop_track: GopTrack::default(),
            has_video: false,
            players: Vec::new(),
            bytes_in: 0,
            frames_in: 0,
            since_ms,
            facts: StreamFacts::default(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.publisher.is_none() && self.players.is_empty()
    }

    pub(super) fn info(&self) -> StreamInfo {
        StreamInfo {
            publishing: self.publisher.is_some(),
            players: self.players.iter().filter(|p| !p.relay).count(),
            relays: self.players.iter().filter(|p| p.relay).count(),
            chunk_size: self.chunk_size,
            bytes_in: self.bytes_in,
            frames_in: self.frames_in,
            since_ms: self.since_ms,
            facts: self.facts.clone(),
        }
    }

    pub(super) fn start_publishing(&mut self, id: u64, notify: bool, wake: &mut dyn FnMut(usize)) {
        self.publisher = Some(id);
        self.reset_media();
        let begin = user_control(STREAM_BEGIN, MSID, self.chunk_size);
        let note = notify.then(|| {
            status_message(
                "status",
                "NetStream.Play.PublishNotify",
                "Start publishing",
                self.chunk_size,
            )
        });
        for p in &self.players {
            let mut o = p.outbox.borrow_mut();
            if !p.relay {
                o.push_control(begin.clone());
                if let Some(n) = &note {
                    o.push_control(n.clone());
                }
            }
            // A new publisher's frames decode only from its first keyframe on.
            o.skip_to_keyframe();
        }
        for p in &mut self.players {
            p.waiting_video = p.wait_video;
        }
        self.wake_all(wake);
    }

    pub(super) fn stop_publishing(&mut self, wake: &mut dyn FnMut(usize)) {
        self.publisher = None;
        self.reset_media();
        let eof = user_control(STREAM_EOF, MSID, self.chunk_size);
        let note = status_message(
            "status",
            "NetStream.Play.UnpublishNotify",
            "Stop publishing",
            self.chunk_size,
        );
        for p in self.players.iter().filter(|p| !p.relay) {
            let mut o = p.outbox.borrow_mut();
            o.push_control(eof.clone());
            o.push_control(note.clone());
        }
        self.wake_all(wake);
    }

    fn reset_media(&mut self) {
        self.metadata = None;
        self.video_configs.clear();
        self.audio_configs.clear();
        self.gop.clear();
        self.gop_bytes = 0;
        self.gop_track = GopTrack::default();
        self.has_video = false;
        self.facts = StreamFacts::default();
    }

    /// Adds a player; while the stream is live it first gets metadata, sequence headers and
    /// the current GOP, so its first frame decodes at once.
    pub(super) fn add_player(
        &mut self,
        id: u64,
        outbox: SharedOutbox,
        wait_video: bool,
        relay: bool,
        wake: &mut dyn FnMut(usize),
    ) {
        // A GOP starts with a keyframe, so a player that gets one has its first video.
        let got_video = self.publisher.is_some() && !self.gop.is_empty();
        {
            let mut o = outbox.borrow_mut();
            if self.publisher.is_some() {
                let configs = self.video_configs.iter().chain(self.audio_configs.iter());
                for b in self.metadata.iter().chain(configs) {
                    o.push_control(b.clone());
                }
                for (b, _) in &self.gop {
                    o.push_media(b, true);
                }
                if self.gop.is_empty() && self.has_video {
                    o.skip_to_keyframe();
                }
            } else {
                o.skip_to_keyframe();
            }
        }
        self.players.push(Player {
            id,
            outbox,
            relay,
            wait_video,
            waiting_video: wait_video && !got_video,
        });
        if let Some(p) = self.players.last() {
            wake_one(&p.outbox, wake);
        }
    }

    pub(super) fn remove_player(&mut self, id: u64) {
        self.players.retain(|p| p.id != id);
    }

    /// Chunks the frame once and queues the same bytes to every player.
    pub(super) fn frame(
        &mut self,
        kind: FrameKind,
        timestamp: u32,
        payload: Bytes,
        wake: &mut dyn FnMut(usize),
    ) {
        self.bytes_in += payload.len() as u64;
        self.frames_in += 1;
        if kind != FrameKind::Data {
            self.facts.observe(kind, timestamp, &payload);
        }
        let cs = self.chunk_size;
        match kind {
            FrameKind::Video => {
                self.has_video = true;
                let msg =
                    encode_message(CSID_VIDEO, timestamp, msg_type::VIDEO, MSID, &payload, cs);
                if let Some(k) = video_config_key(&payload) {
                    self.video_configs.put(k, msg.clone());
                    self.broadcast_control(&msg, wake);
                    return;
                }
                let key = self.gop_track.starts_gop(&payload);
                self.remember(&msg, key);
                self.broadcast_media(&msg, true, key, wake);
            }
            FrameKind::Audio => {
                let msg =
                    encode_message(CSID_AUDIO, timestamp, msg_type::AUDIO, MSID, &payload, cs);
                if let Some(k) = audio_config_key(&payload) {
                    self.audio_configs.put(k, msg.clone());
                    self.broadcast_control(&msg, wake);
                    return;
                }
                self.remember(&msg, false);
                let boundary = !self.has_video;
                self.broadcast_media(&msg, false, boundary, wake);
            }
            FrameKind::Data => {
                // `@setDataFrame` from encoders; a bare `onMetaData` from relays (nginx-rtmp
                // pushes what its players get), which the C module's codec module keeps too.
                let meta = strip_set_data_frame(&payload)
                    .or_else(|| is_metadata(&payload).then(|| payload.clone()));
                if let Some(meta) = meta {
                    self.facts.observe(kind, timestamp, &meta);
                    let msg =
                        encode_message(CSID_DATA, timestamp, msg_type::DATA_AMF0, MSID, &meta, cs);
                    self.metadata = Some(msg.clone());
                    self.broadcast_control(&msg, wake);
                } else {
                    let msg = encode_message(
                        CSID_DATA,
                        timestamp,
                        msg_type::DATA_AMF0,
                        MSID,
                        &payload,
                        cs,
                    );
                    self.broadcast_control(&msg, wake);
                }
            }
        }
    }

    /// Keeps the GOP cache: a keyframe starts it anew; it is dropped whole past its limit.
    fn remember(&mut self, msg: &Bytes, keyframe: bool) {
        if keyframe {
            self.gop.clear();
            self.gop_bytes = 0;
        } else if self.gop.is_empty() {
            return;
        }
        if self.gop_bytes + msg.len() > self.gop_limit {
            self.gop.clear();
            self.gop_bytes = 0;
            return;
        }
        self.gop_bytes += msg.len();
        self.gop.push((msg.clone(), keyframe));
    }

    fn broadcast_control(&mut self, msg: &Bytes, wake: &mut dyn FnMut(usize)) {
        for p in &self.players {
            p.outbox.borrow_mut().push_control(msg.clone());
        }
        self.wake_all(wake);
    }

    fn broadcast_media(
        &mut self,
        msg: &Bytes,
        video: bool,
        boundary: bool,
        wake: &mut dyn FnMut(usize),
    ) {
        for p in &mut self.players {
            if !video && p.waiting_video {
                continue;
            }
            let queued = p.outbox.borrow_mut().push_media(msg, boundary);
            if video && queued {
                p.waiting_video = false;
            }
        }
        self.wake_all(wake);
    }

    fn wake_all(&self, wake: &mut dyn FnMut(usize)) {
        for p in &self.players {
            wake_one(&p.outbox, wake);
        }
    }
}

fn wake_one(outbox: &SharedOutbox, wake: &mut dyn FnMut(usize)) {
    let mut o = outbox.borrow_mut();
    if !o.wake_pending && (!o.is_empty() || o.fatal.is_some()) {
        o.wake_pending = true;
        let token = o.token;
        drop(o);
        wake(token);
    }
}
