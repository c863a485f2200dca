//! The publisher's side of an RTMP connection, after the handshake:
//! connect, releaseStream, FCPublish, createStream, publish, then media.
//!
//! Sans-IO: bytes from the server go in through [`Publisher::receive`],
//! bytes for the server come out of [`Publisher::take_output`]. The
//! server's refusals become [`PublishError`]s carrying its own code and
//! description. Control traffic is answered here: acknowledgements when
//! the server's window is due, ping responses, and the window size the
//! server asks for.

use thiserror::Error;

use crate::amf0::{self, Amf0Value, AmfError};
use crate::chunk::{message_type, ChunkError, ChunkReader, ChunkWriter, Message};
use crate::control;

/// The chunk size we send with, announced before anything else.
pub const OUR_CHUNK_SIZE: u32 = 4096;
/// What we call ourselves in connect's flashVer; servers that look at it
/// expect an encoder's "FMLE/3.0 (compatible; ...)".
pub const FLASH_VER: &str = "FMLE/3.0 (compatible; Makara)";
/// The codecs we can publish, as Enhanced RTMP names them.
pub const OUR_FOURCCS: [&str; 4] = ["avc1", "hvc1", "av01", "mp4a"];

/// Chunk streams: protocol control is always 2; the rest are ours.
const CSID_COMMAND: u32 = 3;
const CSID_AUDIO: u32 = 4;
const CSID_DATA: u32 = 5;
const CSID_VIDEO: u32 = 6;

const TXN_CONNECT: f64 = 1.0;
const TXN_RELEASE: f64 = 2.0;
const TXN_FCPUBLISH: f64 = 3.0;
const TXN_CREATE_STREAM: f64 = 4.0;
const TXN_PUBLISH: f64 = 5.0;

/// Where to publish: the application, the URL the server is told it was
/// reached at, and the stream key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishTarget {
    pub app: String,
    pub tc_url: String,
    pub stream_key: String,
}

/// What the server's connect `_result` said about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerInfo {
    /// Its fmsVer, if it gave one.
    pub version: Option<String>,
    /// The video codecs it announced (Enhanced RTMP's fourCcList or
    /// videoFourCcInfoMap); empty for a classic server.
    pub video_fourccs: Vec<String>,
}

impl ServerInfo {
    /// Whether the server announced this codec, or every codec ("*").
    pub fn accepts_video(&self, fourcc: &str) -> bool {
        self.video_fourccs.iter().any(|f| f == fourcc || f == "*")
    }
}

/// Where the publisher is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishState {
    /// connect sent, its `_result` awaited.
    Connecting,
    /// createStream sent.
    CreatingStream,
    /// publish sent, NetStream.Publish.Start awaited.
    WaitingForPublish,
    /// Media may be sent.
    Publishing,
}

/// Why publishing failed: the server's words where it gave any.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PublishError {
    #[error("connect refused: {code}{}", describe(description))]
    ConnectRejected { code: String, description: String },
    #[error("createStream refused: {code}{}", describe(description))]
    CreateStreamRefused { code: String, description: String },
    #[error("publish refused: {code}{}", describe(description))]
    PublishRefused { code: String, description: String },
    #[error("the server stopped the stream: {code}{}", describe(description))]
    Stopped { code: String, description: String },
    #[error("the server closed the connection (its close command)")]
    ServerClose,
    #[error("createStream's answer has no stream id")]
    NoStreamId,
    #[error("media before publishing started")]
    NotPublishing,
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error("a command from the server cannot be read: {0}")]
    Amf(#[from] AmfError),
}

fn describe(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

/// One publishing session over one connection.
#[derive(Debug)]
pub struct Publisher {
    target: PublishTarget,
    state: PublishState,
    reader: ChunkReader,
    writer: ChunkWriter,
    out: Vec<u8>,
    /// The server's acknowledgement window, once it has said one.
    window: Option<u32>,
    acked_at: u64,
    stream_id: u32,
    server: Option<ServerInfo>,
}

impl Publisher {
    /// Starts the session: Set Chunk Size, then connect, are waiting in
    /// the output.
    pub fn new(target: PublishTarget) -> Publisher {
        let mut publisher = Publisher {
            target,
            state: PublishState::Connecting,
            reader: ChunkReader::new(),
            writer: ChunkWriter::new(),
            out: Vec::new(),
            window: None,
            acked_at: 0,
            stream_id: 0,
            server: None,
        };
        publisher
            .writer
            .set_chunk_size(OUR_CHUNK_SIZE, &mut publisher.out);
        let connect = connect_command(&publisher.target);
        publisher.command(0, &connect);
        publisher
    }

    pub fn state(&self) -> PublishState {
        self.state
    }

    pub fn is_publishing(&self) -> bool {
        self.state == PublishState::Publishing
    }

    /// The server's description, once connect has succeeded.
    pub fn server(&self) -> Option<&ServerInfo> {
        self.server.as_ref()
    }

    /// Bytes waiting to be sent to the server; the caller sends them all.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Whether anything waits to be sent.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Takes bytes from the server and acts on the messages they finish.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<(), PublishError> {
        let messages = self.reader.push(bytes)?;
        for message in messages {
            self.handle(message)?;
        }
        if let Some(window) = self.window {
            if window > 0 && self.reader.received() - self.acked_at >= u64::from(window) {
                self.acked_at = self.reader.received();
                let ack = control::acknowledgement(self.acked_at);
                self.control(message_type::ACKNOWLEDGEMENT, &ack);
            }
        }
        Ok(())
    }

    /// A video message (an FLV video tag's body) at `timestamp` ms.
    pub fn send_video(&mut self, timestamp: u32, body: &[u8]) -> Result<(), PublishError> {
        self.media(CSID_VIDEO, message_type::VIDEO, timestamp, body)
    }

    /// An audio message (an FLV audio tag's body) at `timestamp` ms.
    pub fn send_audio(&mut self, timestamp: u32, body: &[u8]) -> Result<(), PublishError> {
        self.media(CSID_AUDIO, message_type::AUDIO, timestamp, body)
    }

    /// A data message (`@setDataFrame` onMetaData, say).
    pub fn send_data(&mut self, body: &[u8]) -> Result<(), PublishError> {
        self.media(CSID_DATA, message_type::DATA_AMF0, 0, body)
    }

    /// Says goodbye: FCUnpublish and deleteStream, for a clean end on the
    /// server before the connection closes.
    pub fn unpublish(&mut self) {
        if self.stream_id == 0 {
            return;
        }
        let key = Amf0Value::string(self.target.stream_key.clone());
        self.command(
            0,
            &[
                Amf0Value::string("FCUnpublish"),
                Amf0Value::Number(6.0),
                Amf0Value::Null,
                key,
            ],
        );
        let id = Amf0Value::Number(f64::from(self.stream_id));
        self.command(
            0,
            &[
                Amf0Value::string("deleteStream"),
                Amf0Value::Number(7.0),
                Amf0Value::Null,
                id,
            ],
        );
        self.state = PublishState::Connecting;
        self.stream_id = 0;
    }

    fn media(
        &mut self,
        csid: u32,
        type_id: u8,
        timestamp: u32,
        body: &[u8],
    ) -> Result<(), PublishError> {
        if !self.is_publishing() {
            return Err(PublishError::NotPublishing);
        }
        self.writer.write(
            csid,
            timestamp,
            type_id,
            self.stream_id,
            body,
            &mut self.out,
        )?;
        Ok(())
    }

    fn command(&mut self, stream_id: u32, values: &[Amf0Value]) {
        let payload = amf0::encode_all(values);
        // Our commands are far below the 16 MiB message limit.
        let _ = self.writer.write(
            CSID_COMMAND,
            0,
            message_type::COMMAND_AMF0,
            stream_id,
            &payload,
            &mut self.out,
        );
    }

    fn control(&mut self, type_id: u8, payload: &[u8]) {
        let _ = self.writer.write(2, 0, type_id, 0, payload, &mut self.out);
    }

    fn handle(&mut self, message: Message) -> Result<(), PublishError> {
        match message.type_id {
            message_type::WINDOW_ACK_SIZE => {
                self.window = be_u32(&message.payload);
            }
            message_type::SET_PEER_BANDWIDTH => {
                // Answer with the window we will acknowledge at, as
                // clients do.
                if let Some(size) = be_u32(&message.payload) {
                    self.control(
                        message_type::WINDOW_ACK_SIZE,
                        &control::window_ack_size(size),
                    );
                }
            }
            message_type::USER_CONTROL => {
                if let Some(reply) = control::ping_response(&message.payload) {
                    self.control(message_type::USER_CONTROL, &reply);
                }
            }
            message_type::COMMAND_AMF0 => self.on_command(&message.payload)?,
            // An AMF3 command starts with one format byte, then AMF0.
            message_type::COMMAND_AMF3 => {
                if let Some(rest) = message.payload.get(1..) {
                    self.on_command(rest)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_command(&mut self, payload: &[u8]) -> Result<(), PublishError> {
        let values = amf0::decode_all(payload)?;
        let name = values.first().and_then(Amf0Value::as_str).unwrap_or("");
        let txn = values.get(1).and_then(Amf0Value::as_number).unwrap_or(0.0);
        let args = values.get(2..).unwrap_or(&[]);
        match name {
            "_result" => self.on_result(txn, args),
            "_error" => self.on_error(txn, args),
            "onStatus" => self.on_status(args),
            "close" => Err(PublishError::ServerClose),
            // onBWDone, onFCPublish, _checkbw and the like need no answer.
            _ => Ok(()),
        }
    }

    fn on_result(&mut self, txn: f64, args: &[Amf0Value]) -> Result<(), PublishError> {
        if txn == TXN_CONNECT && self.state == PublishState::Connecting {
            self.server = Some(server_info(args));
            let key = Amf0Value::string(self.target.stream_key.clone());
            let null = Amf0Value::Null;
            self.command(
                0,
                &[
                    Amf0Value::string("releaseStream"),
                    Amf0Value::Number(TXN_RELEASE),
                    null.clone(),
                    key.clone(),
                ],
            );
            self.command(
                0,
                &[
                    Amf0Value::string("FCPublish"),
                    Amf0Value::Number(TXN_FCPUBLISH),
                    null.clone(),
                    key,
                ],
            );
            self.command(
                0,
                &[
                    Amf0Value::string("createStream"),
                    Amf0Value::Number(TXN_CREATE_STREAM),
                    null,
                ],
            );
            self.state = PublishState::CreatingStream;
        } else if txn == TXN_CREATE_STREAM && self.state == PublishState::CreatingStream {
            let id = args
                .iter()
                .find_map(Amf0Value::as_number)
                .filter(|n| *n >= 1.0 && *n <= f64::from(u32::MAX))
                .ok_or(PublishError::NoStreamId)?;
            self.stream_id = id as u32;
            self.command(
                self.stream_id,
                &[
                    Amf0Value::string("publish"),
                    Amf0Value::Number(TXN_PUBLISH),
                    Amf0Value::Null,
                    Amf0Value::string(self.target.stream_key.clone()),
                    Amf0Value::string("live"),
                ],
            );
            self.state = PublishState::WaitingForPublish;
        }
        Ok(())
    }

    fn on_error(&mut self, txn: f64, args: &[Amf0Value]) -> Result<(), PublishError> {
        let (code, description) = status_of(args);
        if txn == TXN_CONNECT {
            Err(PublishError::ConnectRejected { code, description })
        } else if txn == TXN_CREATE_STREAM {
            Err(PublishError::CreateStreamRefused { code, description })
        } else if txn == TXN_PUBLISH {
            Err(PublishError::PublishRefused { code, description })
        } else {
            // releaseStream and FCPublish are courtesies many servers
            // do not know; their errors change nothing.
            Ok(())
        }
    }

    fn on_status(&mut self, args: &[Amf0Value]) -> Result<(), PublishError> {
        let info = args.iter().find(|v| v.get("code").is_some());
        let Some(info) = info else { return Ok(()) };
        let (code, description) = status_of(args);
        let level = info.get("level").and_then(Amf0Value::as_str).unwrap_or("");
        if code == "NetStream.Publish.Start" {
            if self.state == PublishState::WaitingForPublish {
                self.state = PublishState::Publishing;
            }
            return Ok(());
        }
        if level != "error" && !is_stop(&code) {
            return Ok(());
        }
        if self.state == PublishState::Publishing {
            Err(PublishError::Stopped { code, description })
        } else if self.state == PublishState::Connecting {
            Err(PublishError::ConnectRejected { code, description })
        } else {
            Err(PublishError::PublishRefused { code, description })
        }
    }
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Status codes that end publishing whatever their level says.
fn is_stop(code: &str) -> bool {
    matches!(
        code,
        "NetConnection.Connect.Closed"
            | "NetConnection.Connect.Rejected"
            | "NetStream.Publish.BadName"
    )
}

/// The code and description of an `_error` or onStatus: from the first
/// object argument that has them.
fn status_of(args: &[Amf0Value]) -> (String, String) {
    let field = |name: &str| {
        args.iter()
            .find_map(|v| v.get(name).and_then(Amf0Value::as_str))
            .unwrap_or("")
            .to_string()
    };
    let code = field("code");
    let code = if code.is_empty() {
        "(no code)".to_string()
    } else {
        code
    };
    (code, field("description"))
}

fn connect_command(target: &PublishTarget) -> Vec<Amf0Value> {
    let fourccs = OUR_FOURCCS.iter().map(|f| Amf0Value::string(*f)).collect();
    vec![
        Amf0Value::string("connect"),
        Amf0Value::Number(TXN_CONNECT),
        Amf0Value::object([
            ("app", Amf0Value::string(target.app.clone())),
            ("type", Amf0Value::string("nonprivate")),
            ("flashVer", Amf0Value::string(FLASH_VER)),
            ("tcUrl", Amf0Value::string(target.tc_url.clone())),
            ("fourCcList", Amf0Value::StrictArray(fourccs)),
        ]),
    ]
}

/// The server's version and announced codecs, from any object argument
/// of connect's `_result` (servers put them in the properties or the
/// information object).
fn server_info(args: &[Amf0Value]) -> ServerInfo {
    let mut info = ServerInfo::default();
    for arg in args {
        if let Some(version) = arg.get("fmsVer").and_then(Amf0Value::as_str) {
            info.version = Some(version.to_string());
        }
        if let Some(Amf0Value::StrictArray(list)) = arg.get("fourCcList") {
            for fourcc in list.iter().filter_map(Amf0Value::as_str) {
                info.video_fourccs.push(fourcc.to_string());
            }
        }
        if let Some(Amf0Value::Object(map) | Amf0Value::EcmaArray(map)) =
            arg.get("videoFourCcInfoMap")
        {
            for (fourcc, _) in map {
                info.video_fourccs.push(fourcc.clone());
            }
        }
    }
    info
}

#[cfg(test)]
mod tests;
