//! The stream hub driven by a program of operations read from arbitrary bytes, with a model
//! of what the hub must do checked after every step. Shared by the cargo-fuzz target `hub`
//! and by `hub::random_tests`.
//!
//! Layout: byte 0 picks the chunk size, byte 1 the outbox soft limit, byte 2 the overflows
//! allowed in a row; then operations. An operation byte has the opcode in bits 0..3, the
//! stream (of three) in bits 3..5, a flag in bit 5 and a small argument in bits 6..8; some
//! opcodes read more bytes (missing bytes read as 0).
//!
//! Checked: no panic; the hub's answers (already publishing, not found) and its stream and
//! player counts match the model; only live players are woken, and at most once until their
//! queue drains (as the shell clears `wake_pending`); a player's queue never holds more than
//! its soft limit plus two media messages (the one that overflowed and a half-written head)
//! plus the control messages queued since it last drained; and every byte a player is given
//! decodes with the chunk reader, ending on a message boundary once all is written.
use crate::hub::{
    FrameKind, Hub, HubError, Outbox, OutboxLimits, PlayOptions, SharedOutbox, StreamKey,
};
use crate::media::flv::{audio_config_key, video_config_key, ConfigKey};
use crate::protocol::chunk_writer::encode_message;
use crate::protocol::message::msg_type;
use crate::protocol::ChunkReader;
use bytes::{Bytes, BytesMut};

const CHUNK_SIZES: [u32; 4] = [128, 4096, 1, 33];
const KEYS: usize = 3;
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// `len` bytes of payload: what the input has, then zeros.
    fn payload(&mut self, len: usize) -> Bytes {
        let n = len.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        let mut v = head.to_vec();
        v.resize(len, 0);
        Bytes::from(v)
    }
}

struct Player {
    id: u64,
    key: usize,
    outbox: SharedOutbox,
    reader: ChunkReader,
    buf: BytesMut,
    /// Bytes of control messages queued since the queue was last empty (an upper bound).
    control: usize,
    /// Woken since the queue was last empty.
    woken: bool,
}

struct Model {
    hub: Hub,
    keys: Vec<StreamKey>,
    chunk_size: u32,
    limits: OutboxLimits,
    publisher: [Option<u64>; KEYS],
    /// Encoded sizes of what a late joiner gets first: the metadata (`None`) and each
    /// configuration packet by its key. The hub may forget old keys, so the sum is an
    /// upper bound.
    stored: [Vec<(Option<ConfigKey>, usize)>; KEYS],
    players: Vec<Player>,
    next_id: u64,
    /// The largest media message so far.
    max_media: usize,
    /// An upper bound for one status or user control message.
    status_len: usize,
}

impl Model {
    fn exists(&self, k: usize) -> bool {
        self.publisher[k].is_some() || self.players.iter().any(|p| p.key == k)
    }

    fn add_control(&mut self, k: usize, len: usize) {
        for p in self.players.iter_mut().filter(|p| p.key == k) {
            p.control += len;
        }
    }

    /// Runs one hub call with a wake callback and checks who was woken.
    fn woken(&mut self, tokens: Vec<usize>) {
        for t in tokens {
            let p = self
                .players
                .iter_mut()
                .find(|p| p.id as usize == t)
                .unwrap_or_else(|| panic!("woke token {t}, which is no player"));
            assert!(!p.woken, "player {t} woken twice before draining");
            p.woken = true;
        }
    }

    /// Writes up to `max` bytes of a player's queue through its chunk reader, in writev-sized
    /// batches as the shell does.
    fn consume(&mut self, i: usize, max: usize) {
        let p = &mut self.players[i];
        let mut o = p.outbox.borrow_mut();
        let mut left = max;
        while left > 0 {
            let mut batch = 0;
            for s in o.slices(64) {
                let n = s.len().min(left - batch);
                p.buf.extend_from_slice(&s[..n]);
                batch += n;
                if batch == left {
                    break;
                }
            }
            if batch == 0 {
                break;
            }
            o.consume(batch);
            left -= batch;
        }
        loop {
            match p.reader.read(&mut p.buf) {
                Ok(Some(m)) => assert!(
                    matches!(
                        m.type_id,
                        msg_type::USER_CONTROL
                            | msg_type::AUDIO
                            | msg_type::VIDEO
                            | msg_type::DATA_AMF0
                            | msg_type::COMMAND_AMF0
                    ),
                    "player got message type {}",
                    m.type_id
                ),
                Ok(None) => break,
                Err(e) => panic!("player {} cannot decode its queue: {e:?}", p.id),
            }
        }
        if o.is_empty() {
            assert!(p.buf.is_empty(), "queue drained mid-message");
            o.wake_pending = false;
            p.control = 0;
            p.woken = false;
        }
    }

    fn check(&mut self) {
        // The shell closes players whose outbox turned fatal.
        let mut i = 0;
        while i < self.players.len() {
            if self.players[i].outbox.borrow().fatal.is_some() {
                let p = self.players.remove(i);
                self.hub.stop_playing(&self.keys[p.key], p.id);
            } else {
                i += 1;
            }
        }
        for k in 0..KEYS {
            if !self.exists(k) {
                self.stored[k].clear();
            }
        }
        let live = (0..KEYS).filter(|&k| self.exists(k)).count();
        assert_eq!(self.hub.stream_count(), live);
        for (k, key) in self.keys.iter().enumerate() {
            match self.hub.info(key) {
                Some(info) => {
                    assert_eq!(info.publishing, self.publisher[k].is_some());
                    let n = self.players.iter().filter(|p| p.key == k).count();
                    assert_eq!(info.players, n);
                }
                None => assert!(!self.exists(k)),
            }
        }
        for p in &self.players {
            let o = p.outbox.borrow();
            let bound = (self.limits.soft_bytes + 2 * self.max_media + p.control)
                .min(self.limits.hard_bytes);
            assert!(
                o.queued_bytes() <= bound,
                "player {} holds {} bytes, bound {bound}",
                p.id,
                o.queued_bytes()
            );
            if !o.is_empty() {
                assert!(
                    o.wake_pending && p.woken,
                    "player {} has data but no wake",
                    p.id
                );
            }
        }
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let code = input.byte();
        let k = usize::from((code >> 3) & 3) % KEYS;
        let flag = code & 0x20 != 0;
        let arg = u64::from(code >> 6);
        let key = self.keys[k].clone();
        let mut tokens = Vec::new();
        let mut wake = |t: usize| tokens.push(t);
        match code & 7 {
            0 => {
                let id = 100 + arg;
                let r = self.hub.publish(&key, id, self.chunk_size, flag, &mut wake);
                if self.publisher[k].is_some() {
                    assert_eq!(r, Err(HubError::AlreadyPublishing));
                } else {
                    assert_eq!(r, Ok(()));
                    self.publisher[k] = Some(id);
                    self.stored[k].clear();
                    let len = 2 * self.status_len;
                    self.add_control(k, len);
                }
            }
            1 => {
                let id = 100 + arg;
                self.hub.unpublish(&key, id, &mut wake);
                if self.publisher[k] == Some(id) {
                    self.publisher[k] = None;
                    self.stored[k].clear();
                    let len = 2 * self.status_len;
                    self.add_control(k, len);
                }
            }
            2 => {
                self.next_id += 1;
                let id = self.next_id;
                let outbox = Outbox::shared(id as usize, self.limits);
                let opts = PlayOptions {
                    idle_streams: flag,
                    wait_video: false,
                };
                let live = self.publisher[k].is_some();
                let r = self
                    .hub
                    .play(&key, id, outbox.clone(), self.chunk_size, opts, &mut wake);
                if live || flag {
                    assert_eq!(r, Ok(()));
                    let mut reader = ChunkReader::new(1 << 20, 16);
                    assert!(reader.set_chunk_size(self.chunk_size).is_ok());
                    let control = if live {
                        self.stored[k].iter().map(|(_, n)| n).sum()
                    } else {
                        0
                    };
                    self.players.push(Player {
                        id,
                        key: k,
                        outbox,
                        reader,
                        buf: BytesMut::new(),
                        control,
                        woken: false,
                    });
                } else {
                    assert_eq!(r, Err(HubError::NotFound));
                }
            }
            3 => {
                let n = usize::from(input.byte());
                if !self.players.is_empty() {
                    let p = self.players.remove(n % self.players.len());
                    self.hub.stop_playing(&self.keys[p.key], p.id);
                }
            }
            4 | 5 => {
                let kind = [FrameKind::Video, FrameKind::Audio, FrameKind::Data][arg as usize % 3];
                let mut timestamp = u32::from(input.u16()) * 40;
                if flag {
                    timestamp |= 0xFF00_0000;
                }
                let mut len = usize::from(input.byte());
                if len == 255 {
                    len += usize::from(input.u16());
                }
                let payload = input.payload(len);
                // An upper bound of what the hub will queue: the message with the whole payload.
                let (csid, type_id) = match kind {
                    FrameKind::Video => (7, msg_type::VIDEO),
                    FrameKind::Audio => (6, msg_type::AUDIO),
                    FrameKind::Data => (5, msg_type::DATA_AMF0),
                };
                let size =
                    encode_message(csid, timestamp, type_id, 1, &payload, self.chunk_size).len();
                let slot = match kind {
                    FrameKind::Video => video_config_key(&payload).map(Some),
                    FrameKind::Audio => audio_config_key(&payload).map(Some),
                    FrameKind::Data if payload.starts_with(SET_DATA_FRAME) => Some(None),
                    FrameKind::Data => None,
                };
                if slot.is_none() && kind != FrameKind::Data {
                    self.max_media = self.max_media.max(size);
                }
                let exists = self.exists(k);
                self.hub.frame(&key, kind, timestamp, payload, &mut wake);
                if exists {
                    if let Some(s) = slot {
                        let stored = &mut self.stored[k];
                        match stored.iter_mut().find(|(key, _)| *key == s) {
                            Some(entry) => entry.1 = size,
                            None => stored.push((s, size)),
                        }
                    }
                    let media =
                        matches!(kind, FrameKind::Audio | FrameKind::Video) && slot.is_none();
                    if !media {
                        self.add_control(k, size);
                    }
                }
            }
            6 => {
                let n = usize::from(input.byte());
                let amount = usize::from(input.u16());
                if !self.players.is_empty() {
                    let i = n % self.players.len();
                    self.consume(i, amount.max(1));
                }
            }
            _ => {
                for i in 0..self.players.len() {
                    self.consume(i, usize::MAX);
                }
            }
        }
        self.woken(tokens);
        self.check();
    }
}

pub fn hub(data: &[u8]) {
    let mut input = Input(data);
    let chunk_size = CHUNK_SIZES[usize::from(input.byte() & 3)];
    let soft_bytes = 64 * (usize::from(input.byte()) + 1);
    let b = input.byte();
    let limits = OutboxLimits {
        soft_bytes,
        max_overflows: u32::from(b % 8),
        hard_bytes: soft_bytes * (2 + usize::from(b >> 3)),
    };
    let keys = [(0, "a"), (0, "b"), (1, "a")]
        .map(|(server, name)| StreamKey {
            server,
            app: "live".into(),
            name: name.into(),
        })
        .to_vec();
    let status_len = encode_message(3, u32::MAX, 20, 1, &[0; 256], chunk_size).len();
    let mut m = Model {
        hub: Hub::new(),
        keys,
        chunk_size,
        limits,
        publisher: [None; KEYS],
        stored: Default::default(),
        players: Vec::new(),
        next_id: 0,
        max_media: 0,
        status_len,
    };
    while !input.0.is_empty() {
        m.step(&mut input);
    }
    // Everything queued, written out, decodes and ends on a message boundary.
    for i in 0..m.players.len() {
        m.consume(i, usize::MAX);
    }
}
