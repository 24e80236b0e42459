//! One client connection: handshake, the commands of a publisher and a player, and a receive
//! loop that answers pings and acknowledgements as a real client would.

use super::amf::{self, Amf};
use super::chunk::{write_msg, ChunkReader, Msg};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The chunk size both directions use after connecting (the servers' config says the same).
pub const CHUNK: usize = 4096;

pub struct Conn {
    pub s: TcpStream,
    rd: ChunkReader,
    wbuf: Vec<u8>,
    pub out_chunk: usize,
    bytes_in: u64,
    ack_win: u64,
    last_ack: u64,
    /// Messages read while waiting for a command, handed out by the next `recv`.
    pending: Vec<Msg>,
}

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

fn u32be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl Conn {
    /// TCP connect, the simple (digest-less) handshake, then Set Chunk Size.
    pub async fn open(addr: &str, head_cap: usize) -> io::Result<Conn> {
        let mut s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let mut c01 = vec![0u8; 1537];
        c01[0] = 3;
        // Any bytes do; a cheap generator keeps thousands of handshakes off the CPU.
        let mut seed = (s.local_addr()?.port() as u64) << 17 | 0x9e37_79b9;
        for b in c01[9..].iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        s.write_all(&c01).await?;
        let mut s012 = vec![0u8; 1 + 1536 + 1536];
        s.read_exact(&mut s012).await?;
        s.write_all(&s012[1..1537]).await?;
        let mut c = Conn {
            s,
            rd: ChunkReader::new(256 * 1024, head_cap),
            wbuf: Vec::with_capacity(64 * 1024),
            out_chunk: 128,
            bytes_in: 0,
            ack_win: 0,
            last_ack: 0,
            pending: Vec::new(),
        };
        c.send(2, 0, 1, 0, &(CHUNK as u32).to_be_bytes()).await?;
        c.out_chunk = CHUNK;
        Ok(c)
    }

    pub async fn send(
        &mut self,
        csid: u8,
        ts: u32,
        typ: u8,
        msid: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        self.wbuf.clear();
        write_msg(&mut self.wbuf, csid, ts, typ, msid, payload, self.out_chunk);
        self.s.write_all(&self.wbuf).await
    }

    /// One read (or the messages `wait_cmd` kept back); answers pings and acknowledgements.
    /// Returns the bytes read.
    pub async fn recv(&mut self, out: &mut Vec<Msg>) -> io::Result<usize> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(0);
        }
        let n = self.s.read(self.rd.space()?).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.rd.filled(n);
        self.bytes_in += n as u64;
        self.rd.parse(out);
        let mut pong: Option<[u8; 6]> = None;
        for m in out.iter() {
            match m.typ {
                5 if m.data.len() >= 4 => self.ack_win = u32be(&m.data) as u64,
                4 if m.data.len() >= 6 && m.data[..2] == [0, 6] => {
                    let mut p = [0u8, 7, 0, 0, 0, 0];
                    p[2..6].copy_from_slice(&m.data[2..6]);
                    pong = Some(p);
                }
                _ => {}
            }
        }
        if let Some(p) = pong {
            self.send(2, 0, 4, 0, &p).await?;
        }
        if self.ack_win > 0 && self.bytes_in - self.last_ack >= self.ack_win {
            self.last_ack = self.bytes_in;
            self.send(2, 0, 3, 0, &(self.bytes_in as u32).to_be_bytes())
                .await?;
        }
        Ok(n)
    }

    /// Reads until an AMF0 command matching `pred` arrives; keeps the other messages for `recv`.
    /// An `_error` or a failing status is an error.
    pub async fn wait_cmd(&mut self, pred: impl Fn(&[Amf]) -> bool) -> io::Result<Vec<Amf>> {
        let mut got = Vec::new();
        let mut keep = Vec::new();
        for _ in 0..100_000 {
            got.clear();
            self.recv(&mut got).await?;
            let mut found = None;
            for m in got.drain(..) {
                if found.is_none() && m.typ == 20 {
                    let v = amf::read_all(&m.data);
                    if v.first().and_then(Amf::as_str) == Some("_error") {
                        return Err(other(format!("server _error: {v:?}")));
                    }
                    if let Some(code) = amf::status_code(&v) {
                        if ["Failed", "BadName", "Rejected", "NotFound"]
                            .iter()
                            .any(|w| code.contains(w))
                        {
                            return Err(other(format!("server status: {code}")));
                        }
                    }
                    if pred(&v) {
                        found = Some(v);
                        continue;
                    }
                }
                keep.push(m);
            }
            if let Some(v) = found {
                self.pending.append(&mut keep);
                return Ok(v);
            }
        }
        Err(io::Error::new(io::ErrorKind::TimedOut, "no reply"))
    }

    pub async fn connect_app(&mut self, app: &str, tc_url: &str) -> io::Result<()> {
        let s = |x: &str| Amf::Str(x.into());
        let b = amf::encode(&[
            s("connect"),
            Amf::Num(1.0),
            Amf::Obj(vec![
                ("app".into(), s(app)),
                ("type".into(), s("nonprivate")),
                ("flashVer".into(), s("FMLE/3.0 (compatible; rtmp-load)")),
                ("tcUrl".into(), s(tc_url)),
                ("fpad".into(), Amf::Bool(false)),
                ("capabilities".into(), Amf::Num(15.0)),
                ("audioCodecs".into(), Amf::Num(3191.0)),
                ("videoCodecs".into(), Amf::Num(252.0)),
                ("videoFunction".into(), Amf::Num(1.0)),
            ]),
        ]);
        self.send(3, 0, 20, 0, &b).await?;
        self.wait_cmd(|v| amf::is_result(v, 1.0)).await?;
        Ok(())
    }

    pub async fn create_stream(&mut self) -> io::Result<u32> {
        let b = amf::encode(&[Amf::Str("createStream".into()), Amf::Num(2.0), Amf::Null]);
        self.send(3, 0, 20, 0, &b).await?;
        let v = self.wait_cmd(|v| amf::is_result(v, 2.0)).await?;
        Ok(v.get(3).and_then(Amf::as_num).unwrap_or(1.0) as u32)
    }

    /// Sends play and a 1 s buffer length; does not wait for the answer.
    pub async fn play(&mut self, sid: u32, name: &str) -> io::Result<()> {
        let b = amf::encode(&[
            Amf::Str("play".into()),
            Amf::Num(0.0),
            Amf::Null,
            Amf::Str(name.into()),
            Amf::Num(-1000.0),
        ]);
        self.wbuf.clear();
        write_msg(&mut self.wbuf, 8, 0, 20, sid, &b, self.out_chunk);
        let mut u = vec![0u8, 3];
        u.extend_from_slice(&sid.to_be_bytes());
        u.extend_from_slice(&1000u32.to_be_bytes());
        write_msg(&mut self.wbuf, 2, 0, 4, 0, &u, self.out_chunk);
        self.s.write_all(&self.wbuf).await
    }

    /// Sends publish and waits for Publish.Start.
    pub async fn publish(&mut self, sid: u32, name: &str) -> io::Result<()> {
        let b = amf::encode(&[
            Amf::Str("publish".into()),
            Amf::Num(5.0),
            Amf::Null,
            Amf::Str(name.into()),
            Amf::Str("live".into()),
        ]);
        self.send(8, 0, 20, sid, &b).await?;
        self.wait_cmd(|v| amf::status_code(v) == Some("NetStream.Publish.Start"))
            .await?;
        Ok(())
    }
}
