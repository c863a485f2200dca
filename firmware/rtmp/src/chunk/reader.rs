//! Chunks from the server put back together into messages, within fixed
//! bounds: a message may say at most [`MAX_INBOUND_MESSAGE`] bytes, at
//! most [`MAX_CHUNK_STREAMS`] chunk streams are tracked, and the messages
//! in progress hold at most [`MAX_IN_PROGRESS`] bytes in all. A publisher
//! only ever receives small command and control messages, so these are
//! generous, and a server that passes them is answered with an error, not
//! with memory.
//!
//! Set Chunk Size and Abort are obeyed here and not handed on; every
//! other message is.

use super::{message_type, ChunkError, Message, DEFAULT_CHUNK_SIZE, EXTENDED, MAX_CHUNK_SIZE};

/// The longest message accepted from the server.
pub const MAX_INBOUND_MESSAGE: usize = 1 << 20;
/// Chunk streams tracked at once.
pub const MAX_CHUNK_STREAMS: usize = 32;
/// Bytes of unfinished messages held at once.
pub const MAX_IN_PROGRESS: usize = 2 << 20;

#[derive(Debug, Clone)]
struct StreamState {
    csid: u32,
    timestamp: u32,
    /// The last header's timestamp field: the delta for types 1 and 2,
    /// the timestamp itself for type 0 (what a following type 3 adds).
    delta: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp value, when the header had one.
    extended: Option<u32>,
    partial: Vec<u8>,
    /// Whether the stream is in the middle of a message.
    in_message: bool,
}

/// The receiving side of a chunk stream.
#[derive(Debug, Clone)]
pub struct ChunkReader {
    chunk_size: usize,
    pending: Vec<u8>,
    streams: Vec<StreamState>,
    /// Every byte ever pushed (for acknowledgements).
    received: u64,
}

impl Default for ChunkReader {
    fn default() -> Self {
        ChunkReader::new()
    }
}

enum Step {
    /// Not enough bytes yet.
    Wait,
    /// A chunk was read; it may have finished a message.
    Read(Option<Message>),
}

impl ChunkReader {
    pub fn new() -> ChunkReader {
        ChunkReader {
            chunk_size: DEFAULT_CHUNK_SIZE as usize,
            pending: Vec::new(),
            streams: Vec::new(),
            received: 0,
        }
    }

    /// Bytes received so far, in all.
    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Takes bytes from the connection and returns the messages they
    /// complete, in order. After an error the reader is unusable (the
    /// connection is to be closed).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Message>, ChunkError> {
        self.received += bytes.len() as u64;
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        let mut at = 0;
        let result = loop {
            match self.chunk(&pending[at..]) {
                Ok((Step::Wait, _)) => break Ok(()),
                Ok((Step::Read(None), used)) => at += used,
                Ok((Step::Read(Some(message)), used)) => {
                    at += used;
                    match self.obey(message) {
                        Ok(Some(message)) => messages.push(message),
                        Ok(None) => {}
                        Err(e) => break Err(e),
                    }
                }
                Err(e) => break Err(e),
            }
        };
        pending.drain(..at);
        self.pending = pending;
        result.map(|()| messages)
    }

    /// Set Chunk Size and Abort change the reader; the rest go on.
    fn obey(&mut self, message: Message) -> Result<Option<Message>, ChunkError> {
        match message.type_id {
            message_type::SET_CHUNK_SIZE => {
                let size = be_u32(&message.payload).ok_or(ChunkError::ShortControl(1))?;
                // The top bit is reserved and must be zero.
                if size == 0 || size > MAX_CHUNK_SIZE {
                    return Err(ChunkError::BadChunkSize(size));
                }
                self.chunk_size = size as usize;
                Ok(None)
            }
            message_type::ABORT => {
                let csid = be_u32(&message.payload).ok_or(ChunkError::ShortControl(2))?;
                if let Some(stream) = self.streams.iter_mut().find(|s| s.csid == csid) {
                    stream.partial = Vec::new();
                    stream.in_message = false;
                }
                Ok(None)
            }
            _ => Ok(Some(message)),
        }
    }

    /// Reads one chunk from the front of `bytes`: the step and the bytes
    /// it took.
    fn chunk(&mut self, bytes: &[u8]) -> Result<(Step, usize), ChunkError> {
        let Some((fmt, csid, mut at)) = basic_header(bytes) else {
            return Ok((Step::Wait, 0));
        };
        let header_len = [11, 7, 3, 0][usize::from(fmt)];
        if bytes.len() < at + header_len {
            return Ok((Step::Wait, 0));
        }
        let header = &bytes[at..at + header_len];
        at += header_len;
        let index = self.stream_index(csid, fmt)?;
        let in_progress: usize = self.streams.iter().map(|s| s.partial.len()).sum();
        let stream = &mut self.streams[index];
        // The header's fields, not yet applied: a chunk is taken whole or
        // not at all.
        let field = (fmt < 3).then(|| be_u24(&header[..3]));
        let length = if fmt < 2 {
            be_u24(&header[3..6]) as usize
        } else {
            stream.length
        };
        if length > MAX_INBOUND_MESSAGE {
            return Err(ChunkError::InboundTooLarge {
                len: length,
                max: MAX_INBOUND_MESSAGE,
            });
        }
        let starts = fmt < 3 || !stream.in_message;
        let done = if starts { 0 } else { stream.partial.len() };
        let take = (length - done.min(length)).min(self.chunk_size);
        let available = bytes.len() - at;
        let mut extended_value = None;
        match field {
            Some(EXTENDED) => {
                if available < 4 {
                    return Ok((Step::Wait, 0));
                }
                extended_value = be_u32(&bytes[at..at + 4]);
                at += 4;
            }
            Some(_) => {}
            // On a type 3 chunk some senders leave the extended field
            // out: take four bytes as one only when they repeat it. With
            // fewer than four bytes there, they can only be payload once
            // the payload fits.
            None => {
                if let Some(known) = stream.extended {
                    if available >= 4 {
                        if be_u32(&bytes[at..at + 4]) == Some(known) {
                            at += 4;
                        }
                    } else if available < take {
                        return Ok((Step::Wait, 0));
                    }
                }
            }
        }
        if bytes.len() < at + take {
            return Ok((Step::Wait, 0));
        }
        if in_progress + take > MAX_IN_PROGRESS {
            return Err(ChunkError::InProgressTooLarge(MAX_IN_PROGRESS));
        }
        // Apply the header.
        if let Some(field) = field {
            let value = if field == EXTENDED {
                extended_value.unwrap_or(field)
            } else {
                field
            };
            stream.extended = (field == EXTENDED).then_some(value);
            if fmt == 0 {
                stream.timestamp = value;
                stream.stream_id =
                    u32::from_le_bytes([header[7], header[8], header[9], header[10]]);
            } else {
                stream.timestamp = stream.timestamp.wrapping_add(value);
            }
            stream.delta = value;
            if fmt < 2 {
                stream.length = length;
                stream.type_id = header[6];
            }
        } else if starts {
            // A type 3 that starts a message repeats the last delta.
            stream.timestamp = stream.timestamp.wrapping_add(stream.delta);
        }
        if starts {
            stream.partial.clear();
            stream.in_message = true;
        }
        stream.partial.extend_from_slice(&bytes[at..at + take]);
        at += take;
        if stream.partial.len() < stream.length {
            return Ok((Step::Read(None), at));
        }
        stream.in_message = false;
        let message = Message {
            timestamp: stream.timestamp,
            type_id: stream.type_id,
            stream_id: stream.stream_id,
            payload: std::mem::take(&mut stream.partial),
        };
        Ok((Step::Read(Some(message)), at))
    }

    fn stream_index(&mut self, csid: u32, fmt: u8) -> Result<usize, ChunkError> {
        if let Some(i) = self.streams.iter().position(|s| s.csid == csid) {
            return Ok(i);
        }
        if fmt != 0 {
            return Err(ChunkError::NoPreviousHeader(csid));
        }
        if self.streams.len() >= MAX_CHUNK_STREAMS {
            return Err(ChunkError::TooManyChunkStreams(MAX_CHUNK_STREAMS));
        }
        self.streams.push(StreamState {
            csid,
            timestamp: 0,
            delta: 0,
            length: 0,
            type_id: 0,
            stream_id: 0,
            extended: None,
            partial: Vec::new(),
            in_message: false,
        });
        Ok(self.streams.len() - 1)
    }
}

/// The chunk's type, its chunk stream id and the basic header's length.
fn basic_header(bytes: &[u8]) -> Option<(u8, u32, usize)> {
    let first = *bytes.first()?;
    let fmt = first >> 6;
    match first & 0x3F {
        0 => Some((fmt, 64 + u32::from(*bytes.get(1)?), 2)),
        1 => {
            let low = u32::from(*bytes.get(1)?);
            let high = u32::from(*bytes.get(2)?);
            Some((fmt, 64 + low + (high << 8), 3))
        }
        id => Some((fmt, u32::from(id), 1)),
    }
}

fn be_u24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

pub(crate) fn be_u32(b: &[u8]) -> Option<u32> {
    let b: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::super::ChunkWriter;
    use super::*;

    fn written(messages: &[(u32, u32, u8, u32, Vec<u8>)], chunk_size: Option<u32>) -> Vec<u8> {
        let mut w = ChunkWriter::new();
        let mut out = Vec::new();
        if let Some(size) = chunk_size {
            w.set_chunk_size(size, &mut out);
        }
        for (csid, ts, ty, sid, payload) in messages {
            w.write(*csid, *ts, *ty, *sid, payload, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn reads_back_what_the_writer_wrote_byte_by_byte() {
        let messages = vec![
            (3, 0, 20, 0, vec![1; 300]),
            (6, 0x00FF_FFF0, 9, 1, vec![2; 10]),
            (6, 0x0100_0010, 9, 1, vec![3; 200]),
            (6, 0x0100_0030, 9, 1, vec![4; 200]),
            (6, 0x0100_0050, 9, 1, vec![5; 200]),
            (4, 7, 8, 1, vec![6; 5]),
        ];
        for size in [None, Some(64), Some(4096)] {
            let bytes = written(&messages, size);
            let mut reader = ChunkReader::new();
            let mut got = Vec::new();
            for b in &bytes {
                got.extend(reader.push(&[*b]).unwrap());
            }
            let want: Vec<Message> = messages
                .iter()
                .map(|(_, ts, ty, sid, p)| Message {
                    timestamp: *ts,
                    type_id: *ty,
                    stream_id: *sid,
                    payload: p.clone(),
                })
                .collect();
            assert_eq!(got, want, "chunk size {size:?}");
            assert_eq!(reader.received(), bytes.len() as u64);
        }
    }

    #[test]
    fn an_abort_drops_the_message_in_progress() {
        let mut reader = ChunkReader::new();
        // First chunk of a 200-byte message on csid 5.
        let mut bytes = vec![0x05, 0, 0, 0, 0, 0, 200, 20, 0, 0, 0, 0];
        bytes.extend_from_slice(&[9; 128]);
        assert!(reader.push(&bytes).unwrap().is_empty());
        // Abort csid 5, then a fresh 2-byte message there.
        let abort = [0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 5];
        assert!(reader.push(&abort).unwrap().is_empty());
        let fresh = [0x05, 0, 0, 1, 0, 0, 2, 20, 0, 0, 0, 0, 7, 8];
        let got = reader.push(&fresh).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].payload, [7, 8]);
        assert_eq!(got[0].timestamp, 1);
    }

    #[test]
    fn limits_are_errors_not_allocations() {
        let mut reader = ChunkReader::new();
        let huge = [0x05, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20, 0, 0, 0, 0];
        assert!(matches!(
            reader.push(&huge),
            Err(ChunkError::InboundTooLarge { .. })
        ));
        let mut reader = ChunkReader::new();
        assert_eq!(
            reader.push(&[0x45, 0, 0, 0, 0, 0, 1, 20]),
            Err(ChunkError::NoPreviousHeader(5))
        );
        let mut reader = ChunkReader::new();
        let zero_size = [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(reader.push(&zero_size), Err(ChunkError::BadChunkSize(0)));
        let mut reader = ChunkReader::new();
        let mut many = Vec::new();
        for csid in 3..(3 + MAX_CHUNK_STREAMS as u8 + 1) {
            many.extend_from_slice(&[csid, 0, 0, 0, 0, 0, 1, 20, 0, 0, 0, 0, 0]);
        }
        assert_eq!(
            reader.push(&many),
            Err(ChunkError::TooManyChunkStreams(MAX_CHUNK_STREAMS))
        );
    }

    #[test]
    fn a_type_3_without_the_extended_field_is_read_too() {
        let mut reader = ChunkReader::new();
        // 130-byte message with an extended timestamp; the continuation
        // chunk leaves the extended field out.
        let mut bytes = vec![0x04, 0xFF, 0xFF, 0xFF, 0, 0, 130, 8, 1, 0, 0, 0, 1, 0, 0, 0];
        bytes.extend_from_slice(&[0xAB; 128]);
        bytes.push(0xC4);
        bytes.extend_from_slice(&[0xCD; 2]);
        let got = reader.push(&bytes).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamp, 0x0100_0000);
        assert_eq!(got[0].payload.len(), 130);
        assert_eq!(&got[0].payload[128..], &[0xCD, 0xCD]);
    }
}
