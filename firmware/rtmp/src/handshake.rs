//! The simple RTMP handshake, client side: C0+C1 out, S0+S1+S2 in, C2 out.
//!
//! C1 carries our time and 1528 bytes the caller chooses (random, so that
//! an echo can be told from a coincidence); its version field is zero,
//! which asks the server for the simple handshake. The server's S0 must
//! say version 3; S2 should echo C1's random bytes. Servers that answer
//! with the digest handshake anyway do not echo them: that is reported
//! (`s2_echoed: false`) for the caller to log, not refused, because the
//! connection works all the same.

use thiserror::Error;

/// RTMP's version, the one byte of C0 and S0.
pub const RTMP_VERSION: u8 = 3;
/// C1, S1, C2 and S2 are this long.
pub const HANDSHAKE_LEN: usize = 1536;
/// What the server sends before the handshake is over: S0, S1, S2.
pub const SERVER_REPLY_LEN: usize = 1 + 2 * HANDSHAKE_LEN;

/// Why the server's handshake is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    #[error("the server answered RTMP version {0}, not 3 (is this an RTMP server?)")]
    Version(u8),
}

/// The handshake's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeDone {
    /// C2: the bytes to send to finish the handshake.
    pub c2: Vec<u8>,
    /// How many bytes of the input were the server's handshake; anything
    /// after them is the first of the chunk stream.
    pub consumed: usize,
    /// Whether S2 echoed C1's random bytes, as the simple handshake says.
    pub s2_echoed: bool,
}

/// The client's side of one handshake.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    c1: Vec<u8>,
}

impl ClientHandshake {
    /// `time_ms` goes in C1's time field; `random` fills its last 1528
    /// bytes (repeated when shorter, zeros when empty).
    pub fn new(time_ms: u32, random: &[u8]) -> ClientHandshake {
        let mut c1 = Vec::with_capacity(HANDSHAKE_LEN);
        c1.extend_from_slice(&time_ms.to_be_bytes());
        c1.extend_from_slice(&[0; 4]);
        let fill = HANDSHAKE_LEN - 8;
        if random.is_empty() {
            c1.resize(HANDSHAKE_LEN, 0);
        } else {
            c1.extend(random.iter().copied().cycle().take(fill));
        }
        ClientHandshake { c1 }
    }

    /// C0 and C1, to send first.
    pub fn hello(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + HANDSHAKE_LEN);
        out.push(RTMP_VERSION);
        out.extend_from_slice(&self.c1);
        out
    }

    /// Reads the server's reply from what has arrived so far: `Ok(None)`
    /// until S0, S1 and S2 are all there.
    pub fn receive(
        &self,
        received: &[u8],
        time_ms: u32,
    ) -> Result<Option<HandshakeDone>, HandshakeError> {
        if let Some(&version) = received.first() {
            if version != RTMP_VERSION {
                return Err(HandshakeError::Version(version));
            }
        }
        if received.len() < SERVER_REPLY_LEN {
            return Ok(None);
        }
        let s1 = &received[1..1 + HANDSHAKE_LEN];
        let s2 = &received[1 + HANDSHAKE_LEN..SERVER_REPLY_LEN];
        // C2 echoes S1: its time, then the time we read it, then its bytes.
        let mut c2 = Vec::with_capacity(HANDSHAKE_LEN);
        c2.extend_from_slice(&s1[..4]);
        c2.extend_from_slice(&time_ms.to_be_bytes());
        c2.extend_from_slice(&s1[8..]);
        Ok(Some(HandshakeDone {
            c2,
            consumed: SERVER_REPLY_LEN,
            s2_echoed: s2[8..] == self.c1[8..],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_c0_and_c1_with_time_zero_version_and_random() {
        let hs = ClientHandshake::new(0x0102_0304, &[0xAB, 0xCD]);
        let hello = hs.hello();
        assert_eq!(hello.len(), 1537);
        assert_eq!(&hello[..9], &[3, 1, 2, 3, 4, 0, 0, 0, 0]);
        assert_eq!(&hello[9..13], &[0xAB, 0xCD, 0xAB, 0xCD]);
        assert_eq!(hello[1536], 0xCD);
    }

    fn server_reply(c1: &[u8]) -> Vec<u8> {
        let mut reply = vec![3];
        reply.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0]);
        reply.extend(std::iter::repeat_n(0x5A, HANDSHAKE_LEN - 8));
        reply.extend_from_slice(c1);
        reply
    }

    #[test]
    fn c2_echoes_s1_and_an_echoing_s2_is_recognised() {
        let hs = ClientHandshake::new(7, &[1, 2, 3]);
        let c1 = hs.hello()[1..].to_vec();
        let mut reply = server_reply(&c1);
        assert_eq!(hs.receive(&reply[..100], 0), Ok(None));
        reply.extend_from_slice(&[0xEE; 5]);
        let done = hs.receive(&reply, 0x10).unwrap().unwrap();
        assert_eq!(done.consumed, SERVER_REPLY_LEN);
        assert!(done.s2_echoed);
        assert_eq!(&done.c2[..8], &[0, 0, 0, 9, 0, 0, 0, 0x10]);
        assert!(done.c2[8..].iter().all(|&b| b == 0x5A));
    }

    #[test]
    fn an_s2_that_does_not_echo_is_reported() {
        let hs = ClientHandshake::new(7, &[1, 2, 3]);
        let reply = server_reply(&[9; HANDSHAKE_LEN]);
        assert!(!hs.receive(&reply, 0).unwrap().unwrap().s2_echoed);
    }

    #[test]
    fn a_wrong_version_is_refused_at_once() {
        let hs = ClientHandshake::new(0, &[]);
        assert_eq!(
            hs.receive(b"HTTP/1.1", 0),
            Err(HandshakeError::Version(b'H'))
        );
    }
}
