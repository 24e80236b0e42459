//! RTMP chunking both ways. The reader is built for cheapness: it never reassembles an audio
//! or video payload, it keeps only its first `head_cap` bytes (enough for the FLV tag header
//! and the latency stamp), so thousands of players cost the load generator little.

/// Appends one message as chunks: a fmt-0 header, then fmt-3 continuations.
pub fn write_msg(
    out: &mut Vec<u8>,
    csid: u8,
    ts: u32,
    typ: u8,
    msid: u32,
    payload: &[u8],
    chunk: usize,
) {
    debug_assert!((2..64).contains(&csid));
    let ext = ts >= 0xFF_FFFF;
    out.push(csid);
    let t = if ext { 0xFF_FFFF } else { ts };
    out.extend_from_slice(&t.to_be_bytes()[1..]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(typ);
    out.extend_from_slice(&msid.to_le_bytes());
    if ext {
        out.extend_from_slice(&ts.to_be_bytes());
    }
    for (i, c) in payload.chunks(chunk.max(1)).enumerate() {
        if i > 0 {
            out.push(0xC0 | csid);
            if ext {
                out.extend_from_slice(&ts.to_be_bytes());
            }
        }
        out.extend_from_slice(c);
    }
}

#[derive(Default)]
struct CsState {
    ts: u32,
    delta: u32,
    len: usize,
    typ: u8,
    msid: u32,
    ext: bool,
    remaining: usize,
    data: Vec<u8>,
}

pub struct Msg {
    pub typ: u8,
    pub ts: u32,
    /// The whole payload of control, command and data messages; the first `head_cap` bytes of
    /// audio and video.
    pub data: Vec<u8>,
}

/// Incremental chunk-stream parser over a growable byte buffer.
pub struct ChunkReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    chunk_size: usize,
    cs: Vec<CsState>,
    head_cap: usize,
}

fn u24(b: &[u8]) -> u32 {
    (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
}

fn u32be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The largest buffer a reader grows to: a message bigger than this is a broken stream.
const MAX_BUF: usize = 64 << 20;

impl ChunkReader {
    pub fn new(bufsize: usize, head_cap: usize) -> Self {
        ChunkReader {
            buf: vec![0; bufsize],
            start: 0,
            end: 0,
            chunk_size: 128,
            cs: Vec::new(),
            head_cap,
        }
    }

    /// The free tail of the buffer, compacted or grown first when it runs short.
    pub fn space(&mut self) -> std::io::Result<&mut [u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < 16384 && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_BUF {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "chunk too large",
                ));
            }
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
        Ok(&mut self.buf[self.end..])
    }

    /// Records `n` bytes written into [`space`](Self::space).
    pub fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Parses every complete chunk in the buffer and pushes each completed message.
    pub fn parse(&mut self, out: &mut Vec<Msg>) {
        while let Some(consumed) = self.parse_one(out) {
            self.start += consumed;
        }
    }

    /// One chunk: the bytes it took, or None when it is not all here yet.
    fn parse_one(&mut self, out: &mut Vec<Msg>) -> Option<usize> {
        let a = &self.buf[self.start..self.end];
        let first = *a.first()?;
        let fmt = (first >> 6) as usize;
        let (csid, mut p) = match first & 0x3f {
            0 => (64 + *a.get(1)? as usize, 2),
            1 => (64 + *a.get(1)? as usize + 256 * *a.get(2)? as usize, 3),
            c => (c as usize, 1),
        };
        let mh = [11, 7, 3, 0][fmt];
        if a.len() < p + mh {
            return None;
        }
        if csid >= self.cs.len() {
            self.cs.resize_with(csid + 1, Default::default);
        }
        let st = &self.cs[csid];
        let (mut len, mut typ, mut msid) = (st.len, st.typ, st.msid);
        let tsf = if fmt <= 2 { u24(&a[p..]) } else { 0 };
        if fmt <= 1 {
            len = u24(&a[p + 3..]) as usize;
            typ = a[p + 6];
        }
        if fmt == 0 {
            msid = u32::from_le_bytes([a[p + 7], a[p + 8], a[p + 9], a[p + 10]]);
        }
        p += mh;
        let ext = if fmt <= 2 { tsf == 0xFF_FFFF } else { st.ext };
        let mut ets = tsf;
        if ext {
            if a.len() < p + 4 {
                return None;
            }
            ets = u32be(&a[p..]);
            p += 4;
        }
        let new_msg = st.remaining == 0;
        let n = if new_msg { len } else { st.remaining }.min(self.chunk_size);
        if a.len() < p + n {
            return None;
        }
        let st = &mut self.cs[csid];
        match fmt {
            0 => {
                st.ts = ets;
                st.delta = 0;
                st.msid = msid;
            }
            1 | 2 => {
                st.delta = ets;
                if new_msg {
                    st.ts = st.ts.wrapping_add(ets)
                }
            }
            _ if new_msg => st.ts = st.ts.wrapping_add(st.delta),
            _ => {}
        }
        st.len = len;
        st.typ = typ;
        st.ext = ext;
        if new_msg {
            st.remaining = len;
            st.data.clear();
        }
        let keep = if typ == 8 || typ == 9 {
            self.head_cap.saturating_sub(st.data.len()).min(n)
        } else {
            n
        };
        st.data.extend_from_slice(&a[p..p + keep]);
        st.remaining -= n;
        if st.remaining == 0 {
            if typ == 1 && st.data.len() >= 4 {
                self.chunk_size = (u32be(&st.data) & 0x7fff_ffff).max(1) as usize;
            }
            out.push(Msg {
                typ,
                ts: st.ts,
                data: std::mem::take(&mut st.data),
            });
        }
        Some(p + n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(r: &mut ChunkReader, bytes: &[u8]) -> Vec<Msg> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let s = r.space().unwrap();
            let k = s.len().min(rest.len()).min(7);
            s[..k].copy_from_slice(&rest[..k]);
            r.filled(k);
            r.parse(&mut out);
            rest = &rest[k..];
        }
        out
    }

    #[test]
    fn reads_back_what_it_writes_and_caps_media() {
        let mut b = Vec::new();
        write_msg(&mut b, 2, 0, 1, 0, &4096u32.to_be_bytes(), 128);
        let video = vec![0x17u8; 10_000];
        write_msg(&mut b, 6, 40, 9, 1, &video, 4096);
        write_msg(&mut b, 6, 0x0100_0000, 9, 1, &video, 4096);
        let mut r = ChunkReader::new(1024, 64);
        let m = feed(&mut r, &b);
        assert_eq!(m.len(), 3);
        assert_eq!(r.chunk_size, 4096);
        assert_eq!((m[1].typ, m[1].ts, m[1].data.len()), (9, 40, 64));
        assert_eq!(m[2].ts, 0x0100_0000);
    }
}
