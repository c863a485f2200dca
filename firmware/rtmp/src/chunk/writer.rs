//! Messages into chunks, with the smallest header that says what changed:
//! type 0 for a chunk stream's first message, a new message stream or a
//! timestamp that went back; type 1 when the length or type changed;
//! type 2 when only the timestamp delta changed; type 3 when nothing did.
//! Timestamps are 32-bit milliseconds that wrap: a step across the wrap
//! is a small delta, not a step back. Fields of 0xFFFFFF and more go in
//! an extended timestamp, repeated on every continuation chunk of the
//! message (as RTMP 1.0's errata and every common server expect).

use super::{message_type, ChunkError, EXTENDED, MAX_CHUNK_SIZE, MAX_MESSAGE_LEN};

/// What the last message on one chunk stream said.
#[derive(Debug, Clone, Copy)]
struct LastHeader {
    timestamp: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
    /// The delta of a type 1 or 2 header; `None` after a type 0, so that
    /// a type 3 never relies on how a peer reads "delta after type 0".
    delta: Option<u32>,
}

/// The sending side of a chunk stream.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    chunk_size: usize,
    streams: Vec<(u32, LastHeader)>,
}

impl Default for ChunkWriter {
    fn default() -> Self {
        ChunkWriter::new()
    }
}

impl ChunkWriter {
    pub fn new() -> ChunkWriter {
        ChunkWriter {
            chunk_size: super::DEFAULT_CHUNK_SIZE as usize,
            streams: Vec::new(),
        }
    }

    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Writes a Set Chunk Size message (chunk stream 2) and uses the new
    /// size from the next message on. `size` is clamped to 1..=2^31-1.
    pub fn set_chunk_size(&mut self, size: u32, out: &mut Vec<u8>) {
        let size = size.clamp(1, MAX_CHUNK_SIZE);
        // Four bytes always fit a message.
        let _ = self.write(
            2,
            0,
            message_type::SET_CHUNK_SIZE,
            0,
            &size.to_be_bytes(),
            out,
        );
        self.chunk_size = size as usize;
    }

    /// Appends one message, in chunks, to `out`. Chunk stream ids 2 to
    /// 65599 are written in the one-, two- or three-byte basic header
    /// they need.
    pub fn write(
        &mut self,
        csid: u32,
        timestamp: u32,
        type_id: u8,
        stream_id: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ChunkError> {
        if payload.len() > MAX_MESSAGE_LEN {
            return Err(ChunkError::MessageTooLong(payload.len()));
        }
        let csid = csid.clamp(2, 65599);
        let length = payload.len();
        let previous = self
            .streams
            .iter()
            .find(|(id, _)| *id == csid)
            .map(|(_, h)| *h);
        let (fmt, field, delta) = choose_header(previous, timestamp, length, type_id, stream_id);
        basic_header(fmt, csid, out);
        let field_bytes = field.min(EXTENDED).to_be_bytes();
        match fmt {
            0 => {
                out.extend_from_slice(&field_bytes[1..]);
                out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
                out.push(type_id);
                out.extend_from_slice(&stream_id.to_le_bytes());
            }
            1 => {
                out.extend_from_slice(&field_bytes[1..]);
                out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
                out.push(type_id);
            }
            2 => out.extend_from_slice(&field_bytes[1..]),
            _ => {}
        }
        let extended = field >= EXTENDED;
        if extended {
            out.extend_from_slice(&field.to_be_bytes());
        }
        let mut chunks = payload.chunks(self.chunk_size.max(1));
        if let Some(first) = chunks.next() {
            out.extend_from_slice(first);
        }
        for chunk in chunks {
            basic_header(3, csid, out);
            if extended {
                out.extend_from_slice(&field.to_be_bytes());
            }
            out.extend_from_slice(chunk);
        }
        let header = LastHeader {
            timestamp,
            length,
            type_id,
            stream_id,
            delta,
        };
        match self.streams.iter_mut().find(|(id, _)| *id == csid) {
            Some((_, last)) => *last = header,
            None => self.streams.push((csid, header)),
        }
        Ok(())
    }
}

/// The header type, the value of its timestamp field, and the delta to
/// remember.
fn choose_header(
    previous: Option<LastHeader>,
    timestamp: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
) -> (u8, u32, Option<u32>) {
    let Some(last) = previous.filter(|last| last.stream_id == stream_id) else {
        return (0, timestamp, None);
    };
    let delta = timestamp.wrapping_sub(last.timestamp);
    // More than half the clock's range forward is a step back.
    if delta >= 0x8000_0000 {
        (0, timestamp, None)
    } else if last.length != length || last.type_id != type_id {
        (1, delta, Some(delta))
    } else if last.delta != Some(delta) {
        (2, delta, Some(delta))
    } else {
        (3, delta, Some(delta))
    }
}

fn basic_header(fmt: u8, csid: u32, out: &mut Vec<u8>) {
    let fmt = fmt << 6;
    match csid {
        2..=63 => out.push(fmt | csid as u8),
        64..=319 => {
            out.push(fmt);
            out.push((csid - 64) as u8);
        }
        _ => {
            let rest = csid - 64;
            out.push(fmt | 1);
            out.push((rest & 0xFF) as u8);
            out.push((rest >> 8) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_chunk_size_is_sent_at_the_old_size_then_used() {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        w.set_chunk_size(4096, &mut out);
        assert_eq!(
            out,
            [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0x00]
        );
        assert_eq!(w.chunk_size(), 4096);
    }

    #[test]
    fn headers_shrink_as_less_changes() {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        w.write(6, 1000, 9, 1, &[0xAA; 3], &mut out).unwrap();
        assert_eq!(
            out,
            [0x06, 0, 0x03, 0xE8, 0, 0, 3, 9, 1, 0, 0, 0, 0xAA, 0xAA, 0xAA]
        );
        out.clear();
        // New length: type 1 with delta 40.
        w.write(6, 1040, 9, 1, &[0xBB; 2], &mut out).unwrap();
        assert_eq!(out, [0x46, 0, 0, 40, 0, 0, 2, 9, 0xBB, 0xBB]);
        out.clear();
        // Same length and type, new delta: type 2.
        w.write(6, 1073, 9, 1, &[0xCC; 2], &mut out).unwrap();
        assert_eq!(out, [0x86, 0, 0, 33, 0xCC, 0xCC]);
        out.clear();
        // Nothing new: type 3.
        w.write(6, 1106, 9, 1, &[0xDD; 2], &mut out).unwrap();
        assert_eq!(out, [0xC6, 0xDD, 0xDD]);
        out.clear();
        // Back in time: type 0 again.
        w.write(6, 5, 9, 1, &[0xEE; 2], &mut out).unwrap();
        assert_eq!(out, [0x06, 0, 0, 5, 0, 0, 2, 9, 1, 0, 0, 0, 0xEE, 0xEE]);
        out.clear();
        // Another message stream: type 0.
        w.write(6, 5, 9, 2, &[0xEE; 2], &mut out).unwrap();
        assert_eq!(out[0], 0x06);
    }

    #[test]
    fn a_long_message_continues_in_type_3_chunks() {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        let payload: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        w.write(3, 0, 20, 0, &payload, &mut out).unwrap();
        assert_eq!(out.len(), 12 + 300 + 2);
        assert_eq!(out[12 + 128], 0xC3);
        assert_eq!(out[12 + 128 + 1 + 128], 0xC3);
        let mut joined = out[12..140].to_vec();
        joined.extend_from_slice(&out[141..269]);
        joined.extend_from_slice(&out[270..]);
        assert_eq!(joined, payload);
    }

    #[test]
    fn extended_timestamps_past_0xffffff_repeat_on_continuations() {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        w.write(4, 0x0100_0000, 8, 1, &[7; 130], &mut out).unwrap();
        assert_eq!(
            &out[..16],
            &[0x04, 0xFF, 0xFF, 0xFF, 0, 0, 130, 8, 1, 0, 0, 0, 1, 0, 0, 0]
        );
        assert_eq!(&out[16 + 128..16 + 128 + 5], &[0xC4, 1, 0, 0, 0]);
        assert_eq!(out.len(), 16 + 128 + 5 + 2);
    }

    #[test]
    fn a_timestamp_that_wraps_is_a_small_step_forward() {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        w.write(4, u32::MAX - 9, 8, 1, &[1], &mut out).unwrap();
        out.clear();
        w.write(4, 10, 8, 1, &[1], &mut out).unwrap();
        // Type 2, delta 20.
        assert_eq!(out, [0x84, 0, 0, 20, 1]);
    }

    #[test]
    fn chunk_stream_ids_take_one_two_or_three_bytes() {
        let mut out = Vec::new();
        basic_header(0, 63, &mut out);
        basic_header(1, 64, &mut out);
        basic_header(2, 319, &mut out);
        basic_header(3, 320, &mut out);
        basic_header(0, 65599, &mut out);
        assert_eq!(out, [63, 0x40, 0, 0x80, 255, 0xC1, 0, 1, 0x01, 0xFF, 0xFF]);
    }

    #[test]
    fn a_message_past_16_mib_is_refused() {
        let mut w = ChunkWriter::new();
        let big = vec![0; MAX_MESSAGE_LEN + 1];
        assert_eq!(
            w.write(6, 0, 9, 1, &big, &mut Vec::new()),
            Err(ChunkError::MessageTooLong(MAX_MESSAGE_LEN + 1))
        );
    }
}
