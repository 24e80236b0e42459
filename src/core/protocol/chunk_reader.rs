//! Inbound chunk stream: turns the bytes a peer sends into whole RTMP messages.
//!
//! Every chunk stream id keeps its own header history and partial payload, because a peer may
//! legally interleave chunks of different chunk streams (video on one csid, audio on another)
//! in the middle of a message. Peer data is hostile: the message length cap is checked before
//! anything is allocated, and the number of chunk streams is bounded.
use super::message::RawMessage;
use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// The largest Set Chunk Size we accept. The spec allows 2^31-1, but a chunk can never carry
/// more than a whole message, and messages are at most 2^24-1 bytes long.
pub const MAX_CHUNK_SIZE: u32 = 0xFF_FFFF;
/// The chunk size every RTMP connection starts with (spec §5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// A 24-bit timestamp field with this value means "a 32-bit extended timestamp follows".
pub(crate) const EXTENDED_TIMESTAMP_MARKER: u32 = 0xFF_FFFF;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Set Chunk Size with a value outside 1..=MAX_CHUNK_SIZE.
    BadChunkSize(u32),
    /// A message header announces more than the configured `max_message`.
    MessageTooLarge { len: u32, max: u32 },
    /// More distinct chunk stream ids in flight than allowed.
    TooManyChunkStreams(usize),
    /// A type 1/2/3 header on a chunk stream that never had a type 0 header.
    NoPreviousHeader(u32),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::BadChunkSize(size) => write!(
                f,
                "peer set chunk size {size}, allowed is 1..={MAX_CHUNK_SIZE}"
            ),
            ChunkError::MessageTooLarge { len, max } => write!(
                f,
                "chunk header announces a {len}-byte message, max_message is {max}"
            ),
            ChunkError::TooManyChunkStreams(max) => {
                write!(f, "peer uses more than {max} chunk streams")
            }
            ChunkError::NoPreviousHeader(csid) => write!(
                f,
                "compressed chunk header on chunk stream {csid}, which never had a full header"
            ),
        }
    }
}

impl std::error::Error for ChunkError {}

/// What one chunk stream remembers between chunks.
#[derive(Debug)]
struct StreamState {
    csid: u32,
    /// Absolute timestamp of the last message started on this chunk stream.
    timestamp: u32,
    /// The delta a type 3 header that starts a new message re-applies.
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The last type 0/1/2 header carried an extended timestamp, so type 3 chunks do too.
    extended: bool,
    /// Payload of a message that spans chunks; `None` between messages.
    partial: Option<BytesMut>,
}

/// A parsed chunk header, before anything is consumed from the input.
struct Header {
    /// Basic + message header + extended timestamp bytes.
    len: usize,
    fmt: u8,
    csid: u32,
    timestamp_field: u32,
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// What consuming one chunk did.
enum Step {
    /// The chunk is not all in the buffer yet; nothing was consumed.
    Incomplete,
    /// The chunk was consumed; its message is not complete yet.
    Consumed,
    Message(RawMessage),
}

pub struct ChunkReader {
    max_message: u32,
    max_chunk_streams: usize,
    chunk_size: u32,
    streams: Vec<StreamState>,
}

/// Reads the basic header (1, 2 or 3 bytes). `None`: not enough input yet.
fn basic_header(buf: &[u8]) -> Option<(u8, u32, usize)> {
    let first = *buf.first()?;
    let fmt = first >> 6;
    match first & 0x3F {
        0 => {
            let b1 = *buf.get(1)?;
            Some((fmt, 64 + u32::from(b1), 2))
        }
        1 => {
            let b1 = *buf.get(1)?;
            let b2 = *buf.get(2)?;
            Some((fmt, 64 + u32::from(b1) + (u32::from(b2) << 8), 3))
        }
        low => Some((fmt, u32::from(low), 1)),
    }
}

fn be24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

impl ChunkReader {
    pub fn new(max_message: u32, max_chunk_streams: usize) -> Self {
        ChunkReader {
            max_message,
            max_chunk_streams,
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: Vec::new(),
        }
    }

    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(ChunkError::BadChunkSize(size));
        }
        self.chunk_size = size;
        Ok(())
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Consumes whole chunks from the front of `buf` until one message is complete.
    /// `Ok(None)`: the rest of `buf` is an incomplete chunk; call again with more input.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        loop {
            let Some(header) = self.parse_header(buf)? else {
                return Ok(None);
            };
            match self.take_chunk(header, buf)? {
                Step::Incomplete => return Ok(None),
                Step::Message(msg) => return Ok(Some(msg)),
                Step::Consumed if buf.is_empty() => return Ok(None),
                Step::Consumed => {}
            }
        }
    }

    /// Drops the partial message of `csid` (the peer sent an Abort message).
    pub fn abort(&mut self, csid: u32) {
        if let Some(st) = self.streams.iter_mut().find(|s| s.csid == csid) {
            st.partial = None;
        }
    }

    fn state(&self, csid: u32) -> Option<&StreamState> {
        self.streams.iter().find(|s| s.csid == csid)
    }

    /// Parses the chunk header at the front of `buf` without consuming it.
    fn parse_header(&self, buf: &[u8]) -> Result<Option<Header>, ChunkError> {
        let Some((fmt, csid, basic_len)) = basic_header(buf) else {
            return Ok(None);
        };
        let prev = self.state(csid);
        if prev.is_none() {
            if fmt != 0 {
                return Err(ChunkError::NoPreviousHeader(csid));
            }
            if self.streams.len() >= self.max_chunk_streams {
                return Err(ChunkError::TooManyChunkStreams(self.max_chunk_streams));
            }
        }
        let at = basic_len;
        let (mut len, timestamp_field, length, type_id, stream_id) = match (fmt, prev) {
            (0, _) => {
                let (Some(ts), Some(length), Some(&type_id), Some(sid)) = (
                    be24(buf, at),
                    be24(buf, at + 3),
                    buf.get(at + 6),
                    le32(buf, at + 7),
                ) else {
                    return Ok(None);
                };
                (at + 11, ts, length, type_id, sid)
            }
            (1, Some(p)) => {
                let (Some(ts), Some(length), Some(&type_id)) =
                    (be24(buf, at), be24(buf, at + 3), buf.get(at + 6))
                else {
                    return Ok(None);
                };
                (at + 7, ts, length, type_id, p.stream_id)
            }
            (2, Some(p)) => {
                let Some(ts) = be24(buf, at) else {
                    return Ok(None);
                };
                (at + 3, ts, p.length, p.type_id, p.stream_id)
            }
            (_, Some(p)) => (at, 0, p.length, p.type_id, p.stream_id),
            (_, None) => return Err(ChunkError::NoPreviousHeader(csid)),
        };
        let extended = match (fmt, prev) {
            (3, Some(p)) => p.extended,
            _ => timestamp_field == EXTENDED_TIMESTAMP_MARKER,
        };
        let mut timestamp_field = timestamp_field;
        if extended {
            let Some(ext) = be32(buf, len) else {
                return Ok(None);
            };
            // A type 3 chunk repeats the field of its type 0/1/2 header; the stored delta and
            // timestamp already hold that value.
            if fmt != 3 {
                timestamp_field = ext;
            }
            len += 4;
        }
        let starts_message = fmt != 3 || prev.is_none_or(|p| p.partial.is_none());
        if starts_message && length > self.max_message {
            return Err(ChunkError::MessageTooLarge {
                len: length,
                max: self.max_message,
            });
        }
        Ok(Some(Header {
            len,
            fmt,
            csid,
            timestamp_field,
            extended,
            length,
            type_id,
            stream_id,
        }))
    }

    /// Consumes one chunk if all of it is in `buf`; returns the message it completes, if any.
    fn take_chunk(&mut self, h: Header, buf: &mut BytesMut) -> Result<Step, ChunkError> {
        let received = match (self.state(h.csid), h.fmt) {
            (
                Some(StreamState {
                    partial: Some(p), ..
                }),
                3,
            ) => p.len(),
            _ => 0,
        };
        let remaining = (h.length as usize).saturating_sub(received);
        let body = remaining.min(self.chunk_size as usize);
        match h.len.checked_add(body) {
            Some(needed) if needed <= buf.len() => {}
            _ => return Ok(Step::Incomplete),
        }
        // Only a whole chunk registers a new chunk stream, so max_chunk_streams counts streams
        // that carried data, not headers that were cut off by a read boundary.
        let idx = match self.streams.iter().position(|s| s.csid == h.csid) {
            Some(i) => i,
            None => {
                self.streams.push(StreamState {
                    csid: h.csid,
                    timestamp: 0,
                    delta: 0,
                    length: 0,
                    type_id: 0,
                    stream_id: 0,
                    extended: false,
                    partial: None,
                });
                self.streams.len().saturating_sub(1)
            }
        };
        let Some(st) = self.streams.get_mut(idx) else {
            return Err(ChunkError::NoPreviousHeader(h.csid));
        };
        buf.advance(h.len);
        if received == 0 {
            // A new message: type 2/3 headers fill in what type 0/1 headers said before.
            st.partial = None;
            match h.fmt {
                0 => {
                    st.timestamp = h.timestamp_field;
                    st.delta = 0;
                }
                1 | 2 => {
                    st.delta = h.timestamp_field;
                    st.timestamp = st.timestamp.wrapping_add(st.delta);
                }
                _ => st.timestamp = st.timestamp.wrapping_add(st.delta),
            }
            if h.fmt != 3 {
                st.extended = h.extended;
            }
            st.length = h.length;
            st.type_id = h.type_id;
            st.stream_id = h.stream_id;
            if body == remaining {
                // The whole message is in this one chunk: hand out the input bytes themselves.
                let payload = buf.split_to(body).freeze();
                return Ok(Step::Message(st.message(payload)));
            }
            // Grow with what actually arrives: a header announcing a large message must not
            // reserve memory the peer never sends.
            let mut partial = BytesMut::with_capacity((h.length as usize).min(PARTIAL_START));
            partial.extend_from_slice(buf.get(..body).unwrap_or_default());
            buf.advance(body);
            st.partial = Some(partial);
            return Ok(Step::Consumed);
        }
        let Some(mut partial) = st.partial.take() else {
            return Ok(Step::Consumed);
        };
        partial.extend_from_slice(buf.get(..body).unwrap_or_default());
        buf.advance(body);
        if partial.len() >= h.length as usize {
            return Ok(Step::Message(st.message(partial.freeze())));
        }
        st.partial = Some(partial);
        Ok(Step::Consumed)
    }
}

/// Initial room for a message that spans chunks; it grows as its chunks arrive.
const PARTIAL_START: usize = 64 * 1024;

impl StreamState {
    fn message(&self, payload: Bytes) -> RawMessage {
        RawMessage {
            csid: self.csid,
            timestamp: self.timestamp,
            type_id: self.type_id,
            stream_id: self.stream_id,
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(fmt: u8, csid: u32) -> Vec<u8> {
        let f = fmt << 6;
        match csid {
            2..=63 => vec![f | csid as u8],
            64..=319 => vec![f, (csid - 64) as u8],
            _ => vec![f | 1, ((csid - 64) & 0xFF) as u8, ((csid - 64) >> 8) as u8],
        }
    }

    fn ts_field(ts: u32) -> [u8; 3] {
        let v = ts.min(0xFF_FFFF).to_be_bytes();
        [v[1], v[2], v[3]]
    }

    fn ext(ts: u32) -> Vec<u8> {
        if ts >= 0xFF_FFFF {
            ts.to_be_bytes().to_vec()
        } else {
            Vec::new()
        }
    }

    fn fmt0(csid: u32, ts: u32, len: u32, type_id: u8, sid: u32) -> Vec<u8> {
        let mut v = basic(0, csid);
        v.extend_from_slice(&ts_field(ts));
        v.extend_from_slice(&len.to_be_bytes()[1..]);
        v.push(type_id);
        v.extend_from_slice(&sid.to_le_bytes());
        v.extend(ext(ts));
        v
    }

    fn fmt1(csid: u32, delta: u32, len: u32, type_id: u8) -> Vec<u8> {
        let mut v = basic(1, csid);
        v.extend_from_slice(&ts_field(delta));
        v.extend_from_slice(&len.to_be_bytes()[1..]);
        v.push(type_id);
        v.extend(ext(delta));
        v
    }

    fn fmt2(csid: u32, delta: u32) -> Vec<u8> {
        let mut v = basic(2, csid);
        v.extend_from_slice(&ts_field(delta));
        v.extend(ext(delta));
        v
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    fn read_all(r: &mut ChunkReader, input: &[u8]) -> Result<Vec<RawMessage>, ChunkError> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(m) = r.read(&mut buf)? {
            out.push(m);
        }
        assert!(buf.is_empty(), "{} bytes left over", buf.len());
        Ok(out)
    }

    /// Feeds one byte at a time, which exercises every "incomplete header" path.
    fn read_bytewise(r: &mut ChunkReader, input: &[u8]) -> Result<Vec<RawMessage>, ChunkError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for b in input {
            buf.extend_from_slice(&[*b]);
            while let Some(m) = r.read(&mut buf)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    #[test]
    fn single_chunk_message() {
        let mut input = fmt0(3, 1000, 5, 20, 0);
        input.extend_from_slice(b"hello");
        let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &input).unwrap();
        assert_eq!(
            msgs,
            vec![RawMessage {
                csid: 3,
                timestamp: 1000,
                type_id: 20,
                stream_id: 0,
                payload: Bytes::from_static(b"hello"),
            }]
        );
    }

    #[test]
    fn multi_chunk_message_with_default_chunk_size() {
        let payload = pattern(300, 7);
        let mut input = fmt0(4, 40, 300, 9, 1);
        input.extend_from_slice(&payload[..128]);
        input.extend(basic(3, 4));
        input.extend_from_slice(&payload[128..256]);
        input.extend(basic(3, 4));
        input.extend_from_slice(&payload[256..]);
        for msgs in [
            read_all(&mut ChunkReader::new(1 << 20, 8), &input).unwrap(),
            read_bytewise(&mut ChunkReader::new(1 << 20, 8), &input).unwrap(),
        ] {
            assert_eq!(msgs.len(), 1);
            assert_eq!(msgs[0].payload, payload);
            assert_eq!((msgs[0].timestamp, msgs[0].stream_id), (40, 1));
        }
    }

    #[test]
    fn interleaved_chunk_streams_assemble() {
        let video = pattern(5000, 1);
        let audio = pattern(10, 2);
        let mut input = vec![];
        input.extend(fmt0(4, 100, 5000, 9, 1));
        input.extend_from_slice(&video[..4096]);
        input.extend(fmt0(6, 101, 10, 8, 1));
        input.extend_from_slice(&audio);
        input.extend(basic(3, 4));
        input.extend_from_slice(&video[4096..]);
        let mut r = ChunkReader::new(1 << 20, 8);
        r.set_chunk_size(4096).unwrap();
        let msgs = read_all(&mut r, &input).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            (msgs[0].csid, msgs[0].type_id, msgs[0].timestamp),
            (6, 8, 101)
        );
        assert_eq!(msgs[0].payload, audio);
        assert_eq!(
            (msgs[1].csid, msgs[1].type_id, msgs[1].timestamp),
            (4, 9, 100)
        );
        assert_eq!(msgs[1].payload, video);
    }

    #[test]
    fn long_basic_headers() {
        for csid in [64u32, 65, 319, 320, 321, 1000, 65599] {
            let mut input = fmt0(csid, 5, 3, 8, 1);
            input.extend_from_slice(b"abc");
            input.extend(fmt2(csid, 10));
            input.extend_from_slice(b"def");
            let msgs = read_bytewise(&mut ChunkReader::new(100, 4), &input).unwrap();
            assert_eq!(msgs.len(), 2, "csid {csid}");
            assert_eq!((msgs[0].csid, msgs[0].timestamp), (csid, 5));
            assert_eq!((msgs[1].csid, msgs[1].timestamp), (csid, 15));
            assert_eq!(msgs[1].payload, &b"def"[..]);
        }
        assert_eq!(basic_header(&[0x00, 0]), Some((0, 64, 2)));
        assert_eq!(basic_header(&[0x00, 255]), Some((0, 319, 2)));
        assert_eq!(basic_header(&[0x01, 0, 1]), Some((0, 320, 3)));
        assert_eq!(basic_header(&[0xC1, 255, 255]), Some((3, 65599, 3)));
        assert_eq!(basic_header(&[0x01, 0]), None);
    }

    #[test]
    fn extended_timestamp_on_type3_continuations() {
        let ts = 0x0100_0000;
        let payload = pattern(200, 3);
        let mut input = fmt0(5, ts, 200, 9, 1);
        input.extend_from_slice(&payload[..128]);
        input.extend(basic(3, 5));
        input.extend_from_slice(&ts.to_be_bytes());
        input.extend_from_slice(&payload[128..]);
        let msgs = read_bytewise(&mut ChunkReader::new(1 << 20, 8), &input).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].timestamp, ts);
        assert_eq!(msgs[0].payload, payload);
    }

    #[test]
    fn timestamps_deltas_and_wrap() {
        let mut input = fmt0(4, 0xFFFF_FFF0, 1, 8, 1);
        input.push(1);
        input.extend(fmt1(4, 0x20, 2, 9));
        input.extend_from_slice(&[2, 2]);
        input.extend(fmt2(4, 0x30));
        input.extend_from_slice(&[3, 3]);
        // A type 3 header that starts a message re-applies the last delta.
        input.extend(basic(3, 4));
        input.extend_from_slice(&[4, 4]);
        input.extend(fmt1(4, 0x0100_0000, 1, 8));
        input.push(5);
        input.extend(basic(3, 4));
        input.extend_from_slice(&0x0100_0000u32.to_be_bytes());
        input.push(6);
        let msgs = read_all(&mut ChunkReader::new(100, 4), &input).unwrap();
        let got: Vec<(u32, u8, usize)> = msgs
            .iter()
            .map(|m| (m.timestamp, m.type_id, m.payload.len()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0xFFFF_FFF0, 8, 1),
                (0x10, 9, 2),
                (0x40, 9, 2),
                (0x70, 9, 2),
                (0x0100_0070, 8, 1),
                (0x0200_0070, 8, 1),
            ]
        );
    }

    #[test]
    fn chunk_size_change_between_messages() {
        let mut r = ChunkReader::new(1 << 20, 8);
        let first = pattern(200, 4);
        let mut input = fmt0(4, 0, 200, 9, 1);
        input.extend_from_slice(&first[..128]);
        input.extend(basic(3, 4));
        input.extend_from_slice(&first[128..]);
        assert_eq!(read_all(&mut r, &input).unwrap()[0].payload, first);
        r.set_chunk_size(4096).unwrap();
        assert_eq!(r.chunk_size(), 4096);
        let second = pattern(4000, 5);
        let mut input = fmt1(4, 40, 4000, 9);
        input.extend_from_slice(&second);
        let msgs = read_all(&mut r, &input).unwrap();
        assert_eq!(
            (msgs[0].timestamp, msgs[0].payload.clone()),
            (40, second.into())
        );
    }

    #[test]
    fn zero_length_message() {
        let mut input = fmt0(3, 7, 0, 20, 0);
        input.extend(basic(3, 3));
        let msgs = read_all(&mut ChunkReader::new(100, 4), &input).unwrap();
        assert_eq!(msgs.len(), 2);
        assert!(msgs.iter().all(|m| m.payload.is_empty()));
    }

    #[test]
    fn abort_drops_partial_message() {
        let mut r = ChunkReader::new(1 << 20, 8);
        let mut input = fmt0(4, 0, 200, 9, 1);
        input.extend_from_slice(&pattern(128, 0));
        assert!(read_all(&mut r, &input).unwrap().is_empty());
        r.abort(4);
        r.abort(99);
        // After the abort a type 3 header starts a fresh message of the same length.
        let mut input = basic(3, 4);
        input.extend_from_slice(&pattern(128, 1));
        input.extend(basic(3, 4));
        input.extend_from_slice(&pattern(72, 2));
        let msgs = read_all(&mut r, &input).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(&msgs[0].payload[..128], &pattern(128, 1)[..]);
    }

    #[test]
    fn errors() {
        let mut r = ChunkReader::new(1 << 20, 2);
        assert_eq!(r.set_chunk_size(0), Err(ChunkError::BadChunkSize(0)));
        assert_eq!(
            r.set_chunk_size(0x8000_0000),
            Err(ChunkError::BadChunkSize(0x8000_0000))
        );
        assert_eq!(
            r.set_chunk_size(0x100_0000),
            Err(ChunkError::BadChunkSize(0x100_0000))
        );
        assert_eq!(r.set_chunk_size(0xFF_FFFF), Ok(()));
        assert_eq!(r.set_chunk_size(1), Ok(()));

        let mut r = ChunkReader::new(1 << 20, 2);
        assert_eq!(
            r.read(&mut BytesMut::from(&fmt2(3, 0)[..])),
            Err(ChunkError::NoPreviousHeader(3))
        );
        assert_eq!(
            r.read(&mut BytesMut::from(&basic(3, 9)[..])),
            Err(ChunkError::NoPreviousHeader(9))
        );
        let big = fmt0(3, 0, 0xFF_FFFF, 9, 1);
        let err = r.read(&mut BytesMut::from(&big[..])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk header announces a 16777215-byte message, max_message is 1048576"
        );
        let mut input = vec![];
        for csid in [3, 4, 5] {
            input.extend(fmt0(csid, 0, 1, 8, 1));
            input.push(0);
        }
        assert_eq!(
            read_all(&mut r, &input),
            Err(ChunkError::TooManyChunkStreams(2))
        );
    }

    #[test]
    fn incomplete_input_consumes_nothing() {
        let mut r = ChunkReader::new(1 << 20, 1);
        let mut input = fmt0(3, 0, 5, 20, 0);
        input.extend_from_slice(b"hel");
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(r.read(&mut buf), Ok(None));
        assert_eq!(buf.len(), input.len());
        // An unfinished chunk does not register its chunk stream yet.
        assert!(r.streams.is_empty());
        buf.extend_from_slice(b"lo");
        assert_eq!(r.read(&mut buf).unwrap().unwrap().payload, &b"hello"[..]);
    }
}
