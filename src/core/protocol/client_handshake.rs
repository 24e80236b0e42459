//! The client side of the RTMP handshake (push relays), on top of rml_rtmp's digest logic.
//!
//! As for the server side, rml is handed at most S0+S1+S2 bytes: whatever the server sends
//! after S2 (its first chunks) stays out of rml's buffer and comes back as `remaining`.
//! rml reads only fixed offsets inside the 1536-byte S1, so garbage cannot make it panic.
use super::handshake::{Bounded, HandshakeError, HandshakeProgress};
use rml_rtmp::handshake::{Handshake, PeerType};

pub struct ClientHandshake(Bounded);

impl ClientHandshake {
    /// A handshake and its C0+C1, which the client sends first.
    pub fn start() -> Result<(ClientHandshake, Vec<u8>), HandshakeError> {
        let mut inner = Handshake::new(PeerType::Client);
        let c0c1 = inner
            .generate_outbound_p0_and_p1()
            .map_err(|e| HandshakeError::Rejected(format!("{e:?}")))?;
        Ok((ClientHandshake(Bounded::new(inner, "S2")), c0c1))
    }

    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// Feeds server bytes; C2 is appended to `out` once S1 has arrived.
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
    use super::super::handshake::{ServerHandshake, HANDSHAKE_LEN};
    use super::*;

    /// Our client against our server, fed `piece` bytes at a time; returns what each side
    /// kept after the handshake.
    fn run(piece: usize, server_trailer: &[u8], client_trailer: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (mut client, c0c1) = ClientHandshake::start().unwrap();
        assert_eq!(c0c1.len(), 1537);
        assert_eq!(c0c1.first(), Some(&3));
        let mut server = ServerHandshake::new();
        let mut s_out = Vec::new();
        for p in c0c1.chunks(piece) {
            assert_eq!(
                server.feed(p, &mut s_out).unwrap(),
                HandshakeProgress::InProgress
            );
        }
        assert_eq!(s_out.len(), HANDSHAKE_LEN);
        s_out.extend_from_slice(server_trailer);
        let mut c2 = Vec::new();
        let mut client_rest = None;
        for p in s_out.chunks(piece) {
            if let HandshakeProgress::Done { remaining } = client.feed(p, &mut c2).unwrap() {
                client_rest = Some(remaining);
                break;
            }
        }
        // With small pieces the trailer arrives after completion: feed it separately.
        let mut client_rest = client_rest.expect("client handshake done");
        let consumed = HANDSHAKE_LEN + client_rest.len();
        client_rest.extend_from_slice(&s_out[consumed.min(s_out.len())..]);
        assert!(client.is_done());
        assert_eq!(c2.len(), 1536);
        c2.extend_from_slice(client_trailer);
        let mut server_rest = None;
        for p in c2.chunks(piece) {
            let mut ignored = Vec::new();
            if let HandshakeProgress::Done { remaining } = server.feed(p, &mut ignored).unwrap() {
                server_rest = Some(remaining);
                break;
            }
        }
        let mut server_rest = server_rest.expect("server handshake done");
        let consumed = 1536 + server_rest.len();
        server_rest.extend_from_slice(&c2[consumed.min(c2.len())..]);
        (client_rest, server_rest)
    }

    #[test]
    fn completes_with_our_server() {
        for piece in [1, 7, 1536, 4096] {
            let (c, s) = run(piece, b"chunks", b"connect");
            assert_eq!((c, s), (b"chunks".to_vec(), b"connect".to_vec()), "{piece}");
        }
    }

    #[test]
    fn simple_server_handshake_is_accepted() {
        // A server that answers the spec's plain handshake: S1 without digest, S2 = C1.
        let (mut client, c0c1) = ClientHandshake::start().unwrap();
        let mut s = vec![3u8];
        s.extend_from_slice(&[0u8; 1536]);
        s.extend_from_slice(&c0c1[1..]);
        let mut c2 = Vec::new();
        assert_eq!(
            client.feed(&s, &mut c2),
            Ok(HandshakeProgress::Done { remaining: vec![] })
        );
        assert_eq!(c2, vec![0u8; 1536], "C2 echoes S1");
    }

    #[test]
    fn hostile_servers() {
        let (mut client, _) = ClientHandshake::start().unwrap();
        assert_eq!(
            client.feed(&[6, 0, 0], &mut Vec::new()),
            Err(HandshakeError::BadVersion(6))
        );
        let mut x: u32 = 0x9e37_79b9;
        for round in 0..40 {
            let (mut client, _) = ClientHandshake::start().unwrap();
            let mut input = vec![3u8];
            for _ in 0..(HANDSHAKE_LEN - 1 + round * 11) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                input.push(x as u8);
            }
            match client.feed(&input, &mut Vec::new()) {
                Ok(HandshakeProgress::Done { remaining }) => {
                    assert_eq!(remaining.len(), round * 11)
                }
                other => panic!("unexpected {other:?}"),
            }
            assert_eq!(
                client.feed(b"x", &mut Vec::new()),
                Err(HandshakeError::AlreadyDone)
            );
        }
    }
}
