//! RTP and RTCP inside the RTSP connection (RFC 2326 §10.12): `$`, the
//! channel, a 16-bit length, then the packet; and telling such a frame
//! from a request in what a client sends.

use crate::request::{self, Request, RequestError};

/// Frames the packet on `channel` after what `out` holds.
pub fn frame(channel: u8, packet: &[u8], out: &mut Vec<u8>) {
    let len = packet.len().min(usize::from(u16::MAX));
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&packet[..len]);
}

/// One thing a client sent on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Request(Request),
    /// A `$` frame: RTCP receiver reports, usually.
    Frame {
        channel: u8,
        data: Vec<u8>,
    },
}

/// Reads the first request or frame from `buf`: `Ok(None)` while it is
/// incomplete, else it and the bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Incoming, usize)>, RequestError> {
    match buf {
        [] => Ok(None),
        [b'$', rest @ ..] => {
            let [channel, high, low, data @ ..] = rest else {
                return Ok(None);
            };
            let len = usize::from(u16::from_be_bytes([*high, *low]));
            Ok(data.get(..len).map(|data| {
                let frame = Incoming::Frame {
                    channel: *channel,
                    data: data.to_vec(),
                };
                (frame, 4 + len)
            }))
        }
        _ => Ok(request::parse(buf)?.map(|(r, used)| (Incoming::Request(r), used))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_golden() {
        let mut out = vec![9];
        frame(3, &[1, 2, 3], &mut out);
        assert_eq!(out, [9, b'$', 3, 0, 3, 1, 2, 3]);
    }

    #[test]
    fn frames_and_requests_in_one_buffer() {
        let mut buf = Vec::new();
        frame(1, &[0x81, 201, 0, 1], &mut buf);
        buf.extend_from_slice(b"GET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 5\r\n\r\n");
        let (first, used) = parse(&buf).unwrap().unwrap();
        assert_eq!(
            first,
            Incoming::Frame {
                channel: 1,
                data: vec![0x81, 201, 0, 1]
            }
        );
        let (second, rest) = parse(&buf[used..]).unwrap().unwrap();
        assert!(matches!(second, Incoming::Request(r) if r.cseq() == Some("5")));
        assert_eq!(used + rest, buf.len());
        assert_eq!(parse(&buf[..3]), Ok(None));
        assert_eq!(parse(&buf[..6]), Ok(None));
    }
}
