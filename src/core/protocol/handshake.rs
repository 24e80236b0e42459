//! The server side of the RTMP handshake, on top of rml_rtmp's digest logic.
//!
//! rml buffers whatever it is given, so this wrapper hands it at most C0+C1+C2 bytes and keeps
//! anything after that (the start of the chunk stream) out of rml's buffer. rml's own parsing
//! indexes only fixed offsets inside the 1536-byte C1 (digest offsets are at most 1503 + 32),
//! so garbage in C1/C2 cannot make it panic.
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use std::fmt;

/// C0 (1 byte) + C1 (1536) + C2 (1536).
pub const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;
/// Plain RTMP. 6 would be RTMPE, which neither we nor nginx-rtmp-module support.
pub const RTMP_VERSION: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeProgress {
    InProgress,
    /// `remaining` are the bytes after C2: the beginning of the chunk stream.
    Done {
        remaining: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// C0 is not 3.
    BadVersion(u8),
    /// rml_rtmp refused the handshake.
    Rejected(String),
    /// `feed` after the handshake completed.
    AlreadyDone,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::BadVersion(v) => {
                write!(f, "handshake C0 is {v}, only plain RTMP (3) is supported")
            }
            HandshakeError::Rejected(why) => write!(f, "handshake rejected: {why}"),
            HandshakeError::AlreadyDone => write!(f, "handshake input after completion"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// rml's handshake, handed at most the peer's three packets; both sides share it.
pub(super) struct Bounded {
    /// rml's state and buffers; dropped once the handshake is done (they would stay with
    /// the session for its whole life).
    inner: Option<Handshake>,
    fed: usize,
    /// The peer's last packet ("C2" or "S2"), for the error text.
    last_packet: &'static str,
}

impl Bounded {
    pub(super) fn new(inner: Handshake, last_packet: &'static str) -> Self {
        Bounded {
            inner: Some(inner),
            fed: 0,
            last_packet,
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.inner.is_none()
    }

    pub(super) fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<HandshakeProgress, HandshakeError> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(HandshakeError::AlreadyDone);
        };
        if input.is_empty() {
            return Ok(HandshakeProgress::InProgress);
        }
        if self.fed == 0 {
            match input.first() {
                Some(&RTMP_VERSION) | None => {}
                Some(&v) => return Err(HandshakeError::BadVersion(v)),
            }
        }
        let take = input.len().min(HANDSHAKE_LEN.saturating_sub(self.fed));
        let (mine, rest) = input.split_at(take);
        self.fed = self.fed.saturating_add(take);
        match inner.process_bytes(mine) {
            Ok(HandshakeProcessResult::InProgress { response_bytes }) => {
                out.extend_from_slice(&response_bytes);
                if !rest.is_empty() {
                    // rml had all 3073 bytes and still wants more: it disagrees with the
                    // handshake length we assume, so stop rather than guess.
                    return Err(HandshakeError::Rejected(format!(
                        "handshake did not complete after {}",
                        self.last_packet
                    )));
                }
                Ok(HandshakeProgress::InProgress)
            }
            Ok(HandshakeProcessResult::Completed {
                response_bytes,
                mut remaining_bytes,
            }) => {
                out.extend_from_slice(&response_bytes);
                remaining_bytes.extend_from_slice(rest);
                self.inner = None;
                Ok(HandshakeProgress::Done {
                    remaining: remaining_bytes,
                })
            }
            Err(e) => Err(HandshakeError::Rejected(format!("{e:?}"))),
        }
    }
}

pub struct ServerHandshake(Bounded);

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerHandshake {
    pub fn new() -> Self {
        ServerHandshake(Bounded::new(Handshake::new(PeerType::Server), "C2"))
    }

    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// Feeds peer bytes; S0, S1 and S2 are appended to `out` as soon as they can be produced.
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<HandshakeProgress, HandshakeError> {
        self.0.feed(input, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs rml's client handshake against ours; returns the bytes left after C2 on our side.
    fn run_with_client(trailer: &[u8], piece: usize) -> Vec<u8> {
        let mut client = Handshake::new(PeerType::Client);
        let mut server = ServerHandshake::new();
        let mut c2s = client.generate_outbound_p0_and_p1().unwrap();
        let mut s2c = Vec::new();
        let mut client_done = false;
        loop {
            let mut server_out = Vec::new();
            let mut result = HandshakeProgress::InProgress;
            let mut input = std::mem::take(&mut c2s);
            if client_done {
                input.extend_from_slice(trailer);
            }
            for p in input.chunks(piece.max(1)) {
                result = server.feed(p, &mut server_out).unwrap();
            }
            if let HandshakeProgress::Done { remaining } = result {
                assert!(client_done);
                return remaining;
            }
            s2c.extend(server_out);
            match client.process_bytes(&std::mem::take(&mut s2c)).unwrap() {
                HandshakeProcessResult::InProgress { response_bytes } => c2s = response_bytes,
                HandshakeProcessResult::Completed { response_bytes, .. } => {
                    c2s = response_bytes;
                    client_done = true;
                }
            }
        }
    }

    #[test]
    fn completes_with_rml_client() {
        assert_eq!(run_with_client(b"", 4096), Vec::<u8>::new());
        assert_eq!(run_with_client(b"chunks", 4096), b"chunks".to_vec());
        assert_eq!(run_with_client(b"xyz", 7), b"xyz".to_vec());
    }

    #[test]
    fn simple_handshake_echoes_c1() {
        let mut s = ServerHandshake::new();
        let mut out = Vec::new();
        let mut c1 = vec![0u8; 1536];
        for (i, b) in c1.iter_mut().enumerate().skip(8) {
            *b = (i * 7) as u8;
        }
        let mut input = vec![3];
        input.extend_from_slice(&c1);
        assert_eq!(s.feed(&input, &mut out), Ok(HandshakeProgress::InProgress));
        assert_eq!(out.len(), 1 + 1536 + 1536);
        assert_eq!(out.first(), Some(&3));
        assert_eq!(&out[1537..], &c1[..]);
        let mut c2 = vec![9u8; 1536];
        c2.extend_from_slice(b"rest");
        assert_eq!(
            s.feed(&c2, &mut out),
            Ok(HandshakeProgress::Done {
                remaining: b"rest".to_vec()
            })
        );
        assert_eq!(s.feed(b"x", &mut out), Err(HandshakeError::AlreadyDone));
    }

    #[test]
    fn rejects_other_versions() {
        for v in [0u8, 6, 0xFF] {
            let mut s = ServerHandshake::new();
            assert_eq!(
                s.feed(&[v, 1, 2], &mut Vec::new()),
                Err(HandshakeError::BadVersion(v))
            );
        }
        let mut s = ServerHandshake::new();
        assert_eq!(
            s.feed(&[], &mut Vec::new()),
            Ok(HandshakeProgress::InProgress)
        );
    }

    #[test]
    fn garbage_after_c0_never_panics() {
        let mut x: u32 = 0x1234_5678;
        for round in 0..50 {
            let mut s = ServerHandshake::new();
            let mut input = vec![3u8];
            for _ in 0..(HANDSHAKE_LEN - 1 + round * 13) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                input.push(x as u8);
            }
            let mut out = Vec::new();
            match s.feed(&input, &mut out) {
                Ok(HandshakeProgress::Done { remaining }) => {
                    assert_eq!(remaining.len(), round * 13)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
