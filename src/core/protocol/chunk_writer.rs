//! Outbound chunking: one message in, one contiguous buffer of chunks out.
//!
//! Every message starts with a full type 0 header and never depends on what was sent before on
//! the connection. That is what lets one encoded buffer be shared (refcounted) by every player
//! of a stream, instead of chunking each message once per player.
use super::chunk_reader::{EXTENDED_TIMESTAMP_MARKER, MAX_CHUNK_SIZE};
use bytes::{BufMut, Bytes, BytesMut};

pub const CSID_CONTROL: u32 = 2;
pub const CSID_COMMAND: u32 = 3;
pub const CSID_DATA: u32 = 5;
pub const CSID_AUDIO: u32 = 6;
pub const CSID_VIDEO: u32 = 7;

/// The largest chunk stream id the 3-byte basic header can carry.
pub const MAX_CSID: u32 = 65599;
/// The largest payload the 24-bit message length field can carry.
pub const MAX_MESSAGE_LEN: usize = 0xFF_FFFF;

fn put_basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let f = fmt << 6;
    match csid {
        0..=63 => out.put_u8(f | csid as u8),
        64..=319 => {
            out.put_u8(f);
            out.put_u8((csid - 64) as u8);
        }
        _ => {
            let id = csid.saturating_sub(64);
            out.put_u8(f | 1);
            out.put_u8((id & 0xFF) as u8);
            out.put_u8(((id >> 8) & 0xFF) as u8);
        }
    }
}

fn basic_header_len(csid: u32) -> usize {
    match csid {
        0..=63 => 1,
        64..=319 => 2,
        _ => 3,
    }
}

fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_slice(&v.to_be_bytes()[1..]);
}

/// Chunks one message with an absolute type 0 header and type 3 continuations.
///
/// Out-of-range arguments are clamped rather than rejected, since every caller passes its own
/// constants: a csid outside 2..=65599 and a chunk size outside 1..=16777215 are moved to the
/// nearest valid value. A payload over 16777215 bytes cannot be framed at all and yields an
/// empty buffer (nothing is sent); the chunk reader never produces such a payload.
pub fn encode_message(
    csid: u32,
    timestamp: u32,
    type_id: u8,
    stream_id: u32,
    payload: &[u8],
    chunk_size: u32,
) -> Bytes {
    if payload.len() > MAX_MESSAGE_LEN {
        return Bytes::new();
    }
    let csid = csid.clamp(CSID_CONTROL, MAX_CSID);
    let chunk = chunk_size.clamp(1, MAX_CHUNK_SIZE) as usize;
    let extended = timestamp >= EXTENDED_TIMESTAMP_MARKER;
    let continuation_len = basic_header_len(csid) + if extended { 4 } else { 0 };
    let continuations = payload.len().saturating_sub(1) / chunk;
    let total = basic_header_len(csid)
        + 11
        + if extended { 4 } else { 0 }
        + continuations * continuation_len
        + payload.len();
    let mut out = BytesMut::with_capacity(total);

    put_basic_header(&mut out, 0, csid);
    put_u24(&mut out, timestamp.min(EXTENDED_TIMESTAMP_MARKER));
    put_u24(&mut out, payload.len() as u32);
    out.put_u8(type_id);
    out.put_u32_le(stream_id);
    if extended {
        out.put_u32(timestamp);
    }
    for (i, piece) in payload.chunks(chunk).enumerate() {
        if i > 0 {
            put_basic_header(&mut out, 3, csid);
            if extended {
                out.put_u32(timestamp);
            }
        }
        out.put_slice(piece);
    }
    out.freeze()
}

/// A copy of a message made by [`encode_message`] whose message stream id is `from`, with
/// `to` instead; any other message comes back as it is (a refcount, no copy).
///
/// Only the leading type 0 header carries the stream id (continuations are type 3), so one
/// 4-byte patch moves the whole message to another stream. Shared media carries stream id 1;
/// a push relay whose server answered `createStream` with another id patches its own copy.
pub fn with_stream_id(msg: &Bytes, from: u32, to: u32) -> Bytes {
    let Some(&first) = msg.first() else {
        return msg.clone();
    };
    if first >> 6 != 0 || from == to {
        return msg.clone();
    }
    let basic = match first & 0x3F {
        0 => 2,
        1 => 3,
        _ => 1,
    };
    // Basic header, then timestamp (3), length (3), type (1): the stream id follows.
    let at = basic + 7;
    let Some(field) = msg.get(at..at + 4) else {
        return msg.clone();
    };
    if field != from.to_le_bytes() {
        return msg.clone();
    }
    let mut copy = BytesMut::from(&msg[..]);
    copy[at..at + 4].copy_from_slice(&to.to_le_bytes());
    copy.freeze()
}

#[cfg(test)]
mod tests {
    use super::super::chunk_reader::ChunkReader;
    use super::*;
    use rml_rtmp::chunk_io::ChunkDeserializer;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn sizes(chunk: usize) -> Vec<usize> {
        vec![
            0,
            1,
            chunk - 1,
            chunk,
            chunk + 1,
            2 * chunk,
            3 * chunk,
            3 * chunk + 7,
        ]
    }

    #[test]
    fn round_trip_through_our_reader() {
        for chunk in [1u32, 2, 128, 4096, 60000] {
            for len in sizes(chunk as usize).into_iter().filter(|l| *l < 200_000) {
                for ts in [0u32, 1, 0xFF_FFFE, 0xFF_FFFF, 0x0100_0000, u32::MAX] {
                    for csid in [2u32, 63, 64, 319, 320, 65599] {
                        let payload = pattern(len);
                        let wire = encode_message(csid, ts, 9, 1, &payload, chunk);
                        let mut r = ChunkReader::new(1 << 20, 4);
                        r.set_chunk_size(chunk).unwrap();
                        let mut buf = BytesMut::from(&wire[..]);
                        let m = r.read(&mut buf).unwrap().expect("a whole message");
                        assert!(buf.is_empty());
                        assert_eq!(
                            (m.csid, m.timestamp, m.type_id, m.stream_id),
                            (csid, ts, 9, 1),
                            "chunk {chunk} len {len} ts {ts}"
                        );
                        assert_eq!(m.payload, payload);
                    }
                }
            }
        }
    }

    #[test]
    fn round_trip_through_rml_deserializer() {
        for chunk in [128u32, 4096] {
            for len in sizes(chunk as usize) {
                for ts in [0u32, 1000, 0xFF_FFFE, 0xFF_FFFF, 0x7FFF_FFFF] {
                    let payload = pattern(len);
                    let wire = encode_message(CSID_VIDEO, ts, 9, 1, &payload, chunk);
                    let mut d = ChunkDeserializer::new();
                    d.set_max_chunk_size(chunk as usize).unwrap();
                    let m = d.get_next_message(&wire).unwrap().expect("a whole message");
                    assert_eq!(m.timestamp.value, ts, "chunk {chunk} len {len}");
                    assert_eq!((m.type_id, m.message_stream_id), (9, 1));
                    assert_eq!(&m.data[..], &payload[..]);
                }
            }
        }
    }

    #[test]
    fn layout_of_small_and_extended_messages() {
        let wire = encode_message(3, 0x10, 20, 0, b"ab", 128);
        assert_eq!(
            &wire[..],
            &[3, 0, 0, 0x10, 0, 0, 2, 20, 0, 0, 0, 0, b'a', b'b'][..]
        );
        let wire = encode_message(70, 0x0100_0000, 8, 1, b"abc", 2);
        assert_eq!(
            &wire[..],
            &[
                0, 6, 0xFF, 0xFF, 0xFF, 0, 0, 3, 8, 1, 0, 0, 0, 1, 0, 0, 0, b'a', b'b', 0xC0, 6, 1,
                0, 0, 0, b'c'
            ][..]
        );
    }

    #[test]
    fn out_of_range_arguments_are_clamped() {
        let wire = encode_message(0, 0, 8, 1, b"abc", 0);
        let mut r = ChunkReader::new(100, 4);
        r.set_chunk_size(1).unwrap();
        let m = r.read(&mut BytesMut::from(&wire[..])).unwrap().unwrap();
        assert_eq!((m.csid, &m.payload[..]), (CSID_CONTROL, &b"abc"[..]));
        assert!(encode_message(3, 0, 9, 1, &vec![0; MAX_MESSAGE_LEN + 1], 4096).is_empty());
    }

    #[test]
    fn stream_id_patch_moves_the_whole_message() {
        for csid in [5u32, 64, 320] {
            for len in [0usize, 1, 300, 1000] {
                let payload = pattern(len);
                let wire = encode_message(csid, 0x0100_0000, 9, 1, &payload, 128);
                let moved = with_stream_id(&wire, 1, 7);
                assert_eq!(moved.len(), wire.len());
                let mut r = ChunkReader::new(1 << 20, 4);
                let m = r.read(&mut BytesMut::from(&moved[..])).unwrap().unwrap();
                assert_eq!((m.csid, m.stream_id, m.timestamp), (csid, 7, 0x0100_0000));
                assert_eq!(m.payload, payload);
                // The shared original is untouched.
                let m = r.read(&mut BytesMut::from(&wire[..])).unwrap().unwrap();
                assert_eq!(m.stream_id, 1);
            }
        }
    }

    #[test]
    fn stream_id_patch_leaves_other_messages_alone() {
        let control = encode_message(CSID_CONTROL, 0, 4, 0, &[0, 0, 0, 0, 0, 1], 128);
        assert_eq!(with_stream_id(&control, 1, 9), control);
        let same = encode_message(CSID_VIDEO, 0, 9, 1, b"x", 128);
        assert_eq!(with_stream_id(&same, 1, 1), same);
        for junk in [&b""[..], &[0x05, 0, 0][..], &[0xC5, 1, 0, 0, 0][..]] {
            let b = Bytes::copy_from_slice(junk);
            assert_eq!(with_stream_id(&b, 1, 9), b);
        }
    }
}
