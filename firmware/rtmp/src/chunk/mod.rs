//! The RTMP chunk stream: messages cut into chunks with compressed
//! headers ([`ChunkWriter`]), and chunks put back together into messages
//! ([`ChunkReader`]).

mod reader;
mod writer;

pub use reader::{ChunkReader, MAX_CHUNK_STREAMS, MAX_INBOUND_MESSAGE, MAX_IN_PROGRESS};
pub use writer::ChunkWriter;

use thiserror::Error;

/// Message type ids (RTMP 1.0, sections 5.4 and 7.1).
pub mod message_type {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const COMMAND_AMF0: u8 = 20;
}

/// The chunk size every connection starts with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// The largest chunk size the protocol allows (31 bits).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// The largest message length a chunk header can say (24 bits).
pub const MAX_MESSAGE_LEN: usize = 0xFF_FFFF;
/// A timestamp field this high means "see the extended timestamp".
pub(crate) const EXTENDED: u32 = 0xFF_FFFF;

/// One whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Milliseconds, 32 bits, wrapping.
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub payload: Vec<u8>,
}

/// Why a chunk stream cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChunkError {
    #[error("a message of {0} bytes is longer than RTMP's 16 MiB limit")]
    MessageTooLong(usize),
    #[error("the server announced a message of {len} bytes; at most {max} are accepted")]
    InboundTooLarge { len: usize, max: usize },
    #[error("the server's messages in progress exceed {0} bytes")]
    InProgressTooLarge(usize),
    #[error("the server used more than {0} chunk streams at once")]
    TooManyChunkStreams(usize),
    #[error("chunk stream {0} continued a header it never sent")]
    NoPreviousHeader(u32),
    #[error("the server set chunk size {0}, outside 1 to 2147483647")]
    BadChunkSize(u32),
    #[error("a protocol control message of type {0} is cut short")]
    ShortControl(u8),
}
