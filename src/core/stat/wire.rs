//! A compact binary form of one worker's [`WorkerSnapshot`], written into that worker's
//! shared-memory slot and read back by whichever worker answers `/stat`.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic "NRST" | version u8 | body length u32 | FNV-1a 32 checksum of the body u32 | body
//! ```
//!
//! The body is the snapshot field by field in declaration order. Strings are a `u16` byte
//! length and UTF-8 bytes; lists are a `u32` count and their items; booleans are one byte
//! (0 or 1) or a small bit set. Bytes after the body (a slot's unused tail) are ignored.
//!
//! [`decode`] accepts any input: it fails on a bad magic, version, length, checksum, count,
//! string or flag, on truncation and on bytes left inside the body, and it never allocates
//! more than the input justifies. [`encode`] always produces something [`decode`] accepts:
//! it shortens over-long strings and stops adding items when a limit would be exceeded.

use super::snapshot::{
    AppSnap, AudioMeta, ClientSnap, MetaSnap, ServerSnap, StreamSnap, VideoMeta, WorkerSnapshot,
};
use std::fmt;

/// The first bytes of every encoded snapshot.
pub const MAGIC: [u8; 4] = *b"NRST";
/// The layout version this code writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the body: magic, version, body length, checksum.
pub const HEADER_LEN: usize = 4 + 1 + 4 + 4;
/// Upper bound of an encoded snapshot, header included.
pub const MAX_WIRE_LEN: usize = 8 * 1024 * 1024;
/// Most items in any one list (servers, apps, streams, clients).
pub const MAX_COUNT: usize = 100_000;
/// Longest string, in bytes.
pub const MAX_STR: usize = u16::MAX as usize;

/// Why bytes are not a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The input ends before the header or the body does.
    Truncated,
    /// Not our magic.
    BadMagic,
    /// A layout version this code does not read.
    BadVersion(u8),
    /// The body length is above [`MAX_WIRE_LEN`].
    TooLong,
    /// The body does not match its checksum (a torn or overwritten slot).
    BadChecksum,
    /// A list count above [`MAX_COUNT`].
    TooMany,
    /// A string that is not UTF-8.
    BadString,
    /// A flag byte with unknown bits.
    BadFlags,
    /// The body has bytes its fields do not account for.
    TrailingBytes,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("stat snapshot: truncated"),
            WireError::BadMagic => f.write_str("stat snapshot: bad magic"),
            WireError::BadVersion(v) => write!(f, "stat snapshot: unknown version {v}"),
            WireError::TooLong => f.write_str("stat snapshot: too long"),
            WireError::BadChecksum => f.write_str("stat snapshot: checksum mismatch"),
            WireError::TooMany => f.write_str("stat snapshot: list too long"),
            WireError::BadString => f.write_str("stat snapshot: string is not UTF-8"),
            WireError::BadFlags => f.write_str("stat snapshot: unknown flag bits"),
            WireError::TrailingBytes => f.write_str("stat snapshot: trailing bytes in body"),
        }
    }
}

impl std::error::Error for WireError {}

/// FNV-1a, 32 bits: cheap, and enough to notice a slot read while it was being rewritten.
fn checksum(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &x in b {
        h ^= u32::from(x);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

// Smallest encoded sizes, used to bound preallocation by what the input can hold.
const MIN_SERVER: usize = 4 + 4;
const MIN_APP: usize = 2 + 1 + 4;
const MIN_STREAM: usize = 2 + 8 * 7 + 1 + 4 + 1;
const MIN_CLIENT: usize = 8 + 2 + 8 + 2 * 4 + 8 + 8 + 4 + 1;

const META_VIDEO: u8 = 0x01;
const META_AUDIO: u8 = 0x02;
const FLAG_PUBLISHING: u8 = 0x01;
const FLAG_ACTIVE: u8 = 0x02;
/// Clients only. Older snapshots never set it, so the version stays.
const FLAG_RELAY: u8 = 0x04;

/// Encodes `s` within [`MAX_WIRE_LEN`] bytes.
pub fn encode(s: &WorkerSnapshot) -> Vec<u8> {
    encode_with_limit(s, MAX_WIRE_LEN)
}

/// Encodes `s` in at most `limit` bytes (never more than [`MAX_WIRE_LEN`]), for a slot of
/// that size. What does not fit is left out whole: the last clients, streams, apps or
/// servers. The fixed part (header and worker totals, 70 bytes) is always written, even if
/// `limit` is smaller.
pub fn encode_with_limit(s: &WorkerSnapshot, limit: usize) -> Vec<u8> {
    let limit = limit.min(MAX_WIRE_LEN);
    let mut e = Enc {
        buf: Vec::with_capacity(256),
        limit,
        full: false,
    };
    e.buf.extend_from_slice(&MAGIC);
    e.buf.push(VERSION);
    e.u32(0); // body length, patched below
    e.u32(0); // checksum, patched below
    e.u32(s.pid);
    for v in [
        s.taken_ms,
        s.naccepted,
        s.bytes_in,
        s.bytes_out,
        s.bw_in,
        s.bw_out,
    ] {
        e.u64(v);
    }
    e.list(&s.servers, Enc::server);

    let body_len = e.buf.len() - HEADER_LEN;
    let sum = checksum(&e.buf[HEADER_LEN..]);
    // The body is at most MAX_WIRE_LEN bytes, so its length fits in a u32.
    let len = u32::try_from(body_len).unwrap_or(u32::MAX);
    e.buf[5..9].copy_from_slice(&len.to_le_bytes());
    e.buf[9..13].copy_from_slice(&sum.to_le_bytes());
    e.buf
}

struct Enc {
    buf: Vec<u8>,
    limit: usize,
    /// Set once an item did not fit: nothing more is added.
    full: bool,
}

impl Enc {
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        let mut end = s.len().min(MAX_STR);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        // `end` is at most MAX_STR = u16::MAX.
        self.u16(u16::try_from(end).unwrap_or(u16::MAX));
        self.buf.extend_from_slice(&s.as_bytes()[..end]);
    }

    /// Writes a count and as many items as fit; patches the count to what was written.
    fn list<T>(&mut self, items: &[T], mut one: impl FnMut(&mut Self, &T)) {
        let at = self.buf.len();
        self.u32(0);
        let mut n: u32 = 0;
        for item in items.iter().take(MAX_COUNT) {
            if self.full {
                break;
            }
            let before = self.buf.len();
            one(self, item);
            if self.buf.len() > self.limit {
                self.buf.truncate(before);
                self.full = true;
                break;
            }
            n += 1;
        }
        self.buf[at..at + 4].copy_from_slice(&n.to_le_bytes());
    }

    fn server(&mut self, s: &ServerSnap) {
        self.u32(s.index);
        self.list(&s.apps, Enc::app);
    }

    fn app(&mut self, a: &AppSnap) {
        self.str(&a.name);
        self.u8(u8::from(a.live));
        self.list(&a.streams, Enc::stream);
    }

    fn stream(&mut self, s: &StreamSnap) {
        self.str(&s.name);
        for v in [
            s.time_ms,
            s.bytes_in,
            s.bytes_out,
            s.bw_in,
            s.bw_out,
            s.bw_audio,
            s.bw_video,
        ] {
            self.u64(v);
        }
        self.meta(&s.meta);
        self.list(&s.clients, Enc::client);
        self.u8(flags(s.publishing, s.active));
    }

    fn meta(&mut self, m: &MetaSnap) {
        let mut f = 0;
        if m.video.is_some() {
            f |= META_VIDEO;
        }
        if m.audio.is_some() {
            f |= META_AUDIO;
        }
        self.u8(f);
        if let Some(v) = &m.video {
            self.u32(v.width);
            self.u32(v.height);
            self.u64(v.frame_rate.to_bits());
            self.str(&v.codec);
            self.str(&v.profile);
            self.u32(v.compat);
            self.str(&v.level);
        }
        if let Some(a) = &m.audio {
            self.str(&a.codec);
            self.str(&a.profile);
            self.u32(a.channels);
            self.u32(a.sample_rate);
        }
    }

    fn client(&mut self, c: &ClientSnap) {
        self.u64(c.id);
        self.str(&c.address);
        self.u64(c.time_ms);
        self.str(&c.flashver);
        self.str(&c.swfurl);
        self.str(&c.pageurl);
        self.str(&c.tcurl);
        self.u64(c.dropped);
        self.u64(c.avsync as u64);
        self.u32(c.timestamp);
        let relay = if c.relay { FLAG_RELAY } else { 0 };
        self.u8(flags(c.publishing, c.active) | relay);
    }
}

fn flags(publishing: bool, active: bool) -> u8 {
    let mut f = 0;
    if publishing {
        f |= FLAG_PUBLISHING;
    }
    if active {
        f |= FLAG_ACTIVE;
    }
    f
}

/// Reads one snapshot from the start of `b`; bytes after its body are ignored.
pub fn decode(b: &[u8]) -> Result<WorkerSnapshot, WireError> {
    if b.len() < HEADER_LEN {
        // Say "bad magic" as soon as the bytes we have cannot be ours.
        let n = b.len().min(4);
        if b[..n] != MAGIC[..n] {
            return Err(WireError::BadMagic);
        }
        return Err(WireError::Truncated);
    }
    if b[..4] != MAGIC {
        return Err(WireError::BadMagic);
    }
    if b[4] != VERSION {
        return Err(WireError::BadVersion(b[4]));
    }
    let len = u32::from_le_bytes([b[5], b[6], b[7], b[8]]) as usize;
    let sum = u32::from_le_bytes([b[9], b[10], b[11], b[12]]);
    if len > MAX_WIRE_LEN - HEADER_LEN {
        return Err(WireError::TooLong);
    }
    let body = b
        .get(HEADER_LEN..HEADER_LEN + len)
        .ok_or(WireError::Truncated)?;
    if checksum(body) != sum {
        return Err(WireError::BadChecksum);
    }
    let mut d = Dec { b: body };
    let s = d.worker()?;
    if !d.b.is_empty() {
        return Err(WireError::TrailingBytes);
    }
    Ok(s)
}

struct Dec<'a> {
    b: &'a [u8],
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.b.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::BadFlags),
        }
    }
    fn flags(&mut self, known: u8) -> Result<u8, WireError> {
        let f = self.u8()?;
        if f & !known != 0 {
            return Err(WireError::BadFlags);
        }
        Ok(f)
    }
    fn str(&mut self) -> Result<String, WireError> {
        let n = usize::from(self.u16()?);
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| WireError::BadString)
    }

    /// Reads a count and that many items; preallocates no more than the rest of the input
    /// could hold at `min` bytes an item.
    fn list<T>(
        &mut self,
        min: usize,
        mut one: impl FnMut(&mut Self) -> Result<T, WireError>,
    ) -> Result<Vec<T>, WireError> {
        let n = self.u32()? as usize;
        if n > MAX_COUNT {
            return Err(WireError::TooMany);
        }
        if n.saturating_mul(min) > self.b.len() {
            return Err(WireError::Truncated);
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(one(self)?);
        }
        Ok(v)
    }

    fn worker(&mut self) -> Result<WorkerSnapshot, WireError> {
        Ok(WorkerSnapshot {
            pid: self.u32()?,
            taken_ms: self.u64()?,
            naccepted: self.u64()?,
            bytes_in: self.u64()?,
            bytes_out: self.u64()?,
            bw_in: self.u64()?,
            bw_out: self.u64()?,
            servers: self.list(MIN_SERVER, Dec::server)?,
        })
    }

    fn server(&mut self) -> Result<ServerSnap, WireError> {
        Ok(ServerSnap {
            index: self.u32()?,
            apps: self.list(MIN_APP, Dec::app)?,
        })
    }

    fn app(&mut self) -> Result<AppSnap, WireError> {
        Ok(AppSnap {
            name: self.str()?,
            live: self.bool()?,
            streams: self.list(MIN_STREAM, Dec::stream)?,
        })
    }

    fn stream(&mut self) -> Result<StreamSnap, WireError> {
        let name = self.str()?;
        let time_ms = self.u64()?;
        let bytes_in = self.u64()?;
        let bytes_out = self.u64()?;
        let bw_in = self.u64()?;
        let bw_out = self.u64()?;
        let bw_audio = self.u64()?;
        let bw_video = self.u64()?;
        let meta = self.meta()?;
        let clients = self.list(MIN_CLIENT, Dec::client)?;
        let f = self.flags(FLAG_PUBLISHING | FLAG_ACTIVE)?;
        Ok(StreamSnap {
            name,
            time_ms,
            bytes_in,
            bytes_out,
            bw_in,
            bw_out,
            bw_audio,
            bw_video,
            meta,
            clients,
            publishing: f & FLAG_PUBLISHING != 0,
            active: f & FLAG_ACTIVE != 0,
        })
    }

    fn meta(&mut self) -> Result<MetaSnap, WireError> {
        let f = self.flags(META_VIDEO | META_AUDIO)?;
        let video = if f & META_VIDEO != 0 {
            Some(VideoMeta {
                width: self.u32()?,
                height: self.u32()?,
                frame_rate: f64::from_bits(self.u64()?),
                codec: self.str()?,
                profile: self.str()?,
                compat: self.u32()?,
                level: self.str()?,
            })
        } else {
            None
        };
        let audio = if f & META_AUDIO != 0 {
            Some(AudioMeta {
                codec: self.str()?,
                profile: self.str()?,
                channels: self.u32()?,
                sample_rate: self.u32()?,
            })
        } else {
            None
        };
        Ok(MetaSnap { video, audio })
    }

    fn client(&mut self) -> Result<ClientSnap, WireError> {
        let id = self.u64()?;
        let address = self.str()?;
        let time_ms = self.u64()?;
        let flashver = self.str()?;
        let swfurl = self.str()?;
        let pageurl = self.str()?;
        let tcurl = self.str()?;
        let dropped = self.u64()?;
        let avsync = self.u64()? as i64;
        let timestamp = self.u32()?;
        let f = self.flags(FLAG_PUBLISHING | FLAG_ACTIVE | FLAG_RELAY)?;
        Ok(ClientSnap {
            id,
            address,
            time_ms,
            flashver,
            swfurl,
            pageurl,
            tcurl,
            dropped,
            avsync,
            timestamp,
            publishing: f & FLAG_PUBLISHING != 0,
            active: f & FLAG_ACTIVE != 0,
            relay: f & FLAG_RELAY != 0,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A realistic two-app snapshot, shared with the other stat tests.
    pub(crate) fn sample(pid: u32) -> WorkerSnapshot {
        WorkerSnapshot {
            pid,
            taken_ms: 1_700_000_000_000,
            naccepted: 42,
            bytes_in: 123_456_789,
            bytes_out: 987_654_321,
            bw_in: 2_500_000,
            bw_out: 7_500_000,
            servers: vec![ServerSnap {
                index: 0,
                apps: vec![
                    AppSnap {
                        name: "live".into(),
                        live: true,
                        streams: vec![StreamSnap {
                            name: "cam1".into(),
                            time_ms: 3_723_000,
                            bytes_in: 100_000_000,
                            bytes_out: 300_000_000,
                            bw_in: 2_500_000,
                            bw_out: 7_500_000,
                            bw_audio: 128_000,
                            bw_video: 2_372_000,
                            meta: MetaSnap {
                                video: Some(VideoMeta {
                                    width: 1920,
                                    height: 1080,
                                    frame_rate: 29.97,
                                    codec: "H264".into(),
                                    profile: "High".into(),
                                    compat: 0,
                                    level: "4.1".into(),
                                }),
                                audio: Some(AudioMeta {
                                    codec: "AAC".into(),
                                    profile: "LC".into(),
                                    channels: 2,
                                    sample_rate: 48_000,
                                }),
                            },
                            clients: vec![
                                ClientSnap {
                                    id: 7,
                                    address: "192.0.2.10".into(),
                                    time_ms: 3_722_500,
                                    flashver: "FMLE/3.0 (compatible; OBS)".into(),
                                    swfurl: String::new(),
                                    pageurl: String::new(),
                                    tcurl: "rtmp://example.org/live".into(),
                                    dropped: 0,
                                    avsync: 0,
                                    timestamp: 3_722_000,
                                    publishing: true,
                                    active: true,
                                    relay: false,
                                },
                                ClientSnap {
                                    id: 12,
                                    address: "198.51.100.4".into(),
                                    time_ms: 60_000,
                                    flashver: "LNX 9,0,124,2".into(),
                                    swfurl: "http://example.org/player.swf".into(),
                                    pageurl: "http://example.org/watch?v=1&t=2".into(),
                                    tcurl: "rtmp://example.org/live".into(),
                                    dropped: 3,
                                    avsync: -21,
                                    timestamp: 3_721_980,
                                    publishing: false,
                                    active: true,
                                    relay: false,
                                },
                            ],
                            publishing: true,
                            active: true,
                        }],
                    },
                    AppSnap {
                        name: "vod".into(),
                        live: false,
                        streams: vec![],
                    },
                ],
            }],
        }
    }

    #[test]
    fn round_trip_sample() {
        let s = sample(4242);
        let b = encode(&s);
        assert_eq!(&b[..4], b"NRST");
        assert_eq!(decode(&b), Ok(s));
    }

    #[test]
    fn round_trip_empty_and_extremes() {
        let s = WorkerSnapshot::default();
        assert_eq!(decode(&encode(&s)), Ok(s));

        let mut s = sample(u32::MAX);
        s.naccepted = u64::MAX;
        s.servers[0].index = u32::MAX;
        let st = &mut s.servers[0].apps[0].streams[0];
        st.clients[1].avsync = i64::MIN;
        st.clients[1].timestamp = u32::MAX;
        st.clients[0].relay = true;
        st.meta.video = None;
        st.name = "ünïcødé ✓ 🎥".into();
        assert_eq!(decode(&encode(&s)), Ok(s));
    }

    #[test]
    fn trailing_slot_bytes_are_ignored() {
        let s = sample(1);
        let mut b = encode(&s);
        b.extend_from_slice(&[0xAA; 100]);
        assert_eq!(decode(&b), Ok(s));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = encode(&sample(9));
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn header_errors() {
        let mut b = encode(&sample(9));
        assert_eq!(decode(b"XX"), Err(WireError::BadMagic));
        assert_eq!(decode(b"NR"), Err(WireError::Truncated));
        b[4] = 2;
        assert_eq!(decode(&b), Err(WireError::BadVersion(2)));
        b[4] = VERSION;
        let last = b.len() - 1;
        b[last] ^= 1;
        assert_eq!(decode(&b), Err(WireError::BadChecksum));
        b[last] ^= 1;
        b[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&b), Err(WireError::TooLong));
    }

    /// Builds a frame around a hand-made body (valid header and checksum).
    fn frame(body: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.push(VERSION);
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(&checksum(body).to_le_bytes());
        b.extend_from_slice(body);
        b
    }

    fn worker_body(nservers: u32) -> Vec<u8> {
        let mut body = vec![0u8; 4 + 6 * 8];
        body.extend_from_slice(&nservers.to_le_bytes());
        body
    }

    #[test]
    fn body_errors() {
        assert!(decode(&frame(&worker_body(0))).is_ok());
        // Huge counts are refused before any allocation.
        assert_eq!(
            decode(&frame(&worker_body(u32::MAX))),
            Err(WireError::TooMany)
        );
        assert_eq!(
            decode(&frame(&worker_body(100_000))),
            Err(WireError::Truncated)
        );
        let mut body = worker_body(0);
        body.push(0);
        assert_eq!(decode(&frame(&body)), Err(WireError::TrailingBytes));

        // One server, one app whose name is not UTF-8.
        let mut body = worker_body(1);
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&1u32.to_le_bytes());
        body.extend_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&[0xff, 0xfe, 1, 0, 0, 0, 0]);
        assert_eq!(decode(&frame(&body)), Err(WireError::BadString));
        // Same with a good name but a live byte of 2.
        let n = body.len();
        body[n - 7..n - 5].copy_from_slice(b"ok");
        body[n - 5] = 2;
        assert_eq!(decode(&frame(&body)), Err(WireError::BadFlags));
        body[n - 5] = 1;
        assert!(decode(&frame(&body)).is_ok());
    }

    #[test]
    fn long_strings_are_cut_at_a_char_boundary() {
        let mut s = sample(1);
        s.servers[0].apps[0].name = "é".repeat(40_000); // 80 000 bytes
        let d = decode(&encode(&s)).unwrap();
        let name = &d.servers[0].apps[0].name;
        assert!(name.len() <= MAX_STR && name.len() >= MAX_STR - 1);
        assert!(name.chars().all(|c| c == 'é'));
    }

    #[test]
    fn limit_drops_whole_items() {
        let mut s = sample(1);
        let c = s.servers[0].apps[0].streams[0].clients[1].clone();
        s.servers[0].apps[0].streams[0].clients = vec![c; 1000];
        let full = encode(&s);
        assert_eq!(decode(&full), Ok(s.clone()));
        let b = encode_with_limit(&s, 4096);
        assert!(b.len() <= 4096);
        let d = decode(&b).unwrap();
        let n = d.servers[0].apps[0].streams[0].clients.len();
        assert!(n > 10 && n < 1000, "{n}");
        // Items after the cut are gone too, not half-written.
        assert_eq!(d.servers[0].apps.len(), 1);
        // A limit below the fixed part still yields a valid, empty-listed frame.
        let d = decode(&encode_with_limit(&s, 0)).unwrap();
        assert!(d.servers.is_empty());
        assert_eq!(d.naccepted, 42);
    }

    fn xorshift(state: &mut u64) -> u64 {
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        x
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut st = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let n = (xorshift(&mut st) % 200) as usize;
            let mut b: Vec<u8> = (0..n).map(|_| xorshift(&mut st) as u8).collect();
            let _ = decode(&b);
            // And with a valid header, so the body parser sees the noise.
            if b.len() > HEADER_LEN {
                let body = b[HEADER_LEN..].to_vec();
                b = frame(&body);
                let _ = decode(&b);
            }
        }
    }

    #[test]
    fn mutated_frames_never_panic() {
        let good = encode(&sample(3));
        let mut st = 12345u64;
        for _ in 0..20_000 {
            let mut body = good[HEADER_LEN..].to_vec();
            for _ in 0..1 + xorshift(&mut st) % 4 {
                let i = (xorshift(&mut st) as usize) % body.len();
                body[i] = xorshift(&mut st) as u8;
            }
            let _ = decode(&frame(&body));
        }
    }

    #[test]
    fn error_display() {
        assert!(WireError::BadVersion(7).to_string().contains('7'));
        assert!(!WireError::Truncated.to_string().is_empty());
    }
}
