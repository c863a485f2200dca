use super::*;

/// The server's side, as far as the tests need it: a chunk writer for
/// its messages and a reader for ours.
struct FakeServer {
    writer: ChunkWriter,
    reader: ChunkReader,
}

impl FakeServer {
    fn new() -> FakeServer {
        FakeServer {
            writer: ChunkWriter::new(),
            reader: ChunkReader::new(),
        }
    }

    fn say(&mut self, type_id: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.writer
            .write(3, 0, type_id, stream_id, payload, &mut out)
            .unwrap();
        out
    }

    fn command(&mut self, values: &[Amf0Value]) -> Vec<u8> {
        self.say(message_type::COMMAND_AMF0, 0, &amf0::encode_all(values))
    }

    /// Our messages, decoded: (type, stream id, AMF values or raw).
    fn hear(&mut self, publisher: &mut Publisher) -> Vec<Message> {
        self.reader.push(&publisher.take_output()).unwrap()
    }
}

fn target() -> PublishTarget {
    PublishTarget {
        app: "live".into(),
        tc_url: "rtmp://127.0.0.1:1935/live".into(),
        stream_key: "key".into(),
    }
}

fn names(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.type_id == message_type::COMMAND_AMF0)
        .map(|m| {
            amf0::decode_all(&m.payload).unwrap()[0]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn status(code: &str, level: &str, description: &str) -> Vec<Amf0Value> {
    vec![
        Amf0Value::string("onStatus"),
        Amf0Value::Number(0.0),
        Amf0Value::Null,
        Amf0Value::object([
            ("level", Amf0Value::string(level)),
            ("code", Amf0Value::string(code)),
            ("description", Amf0Value::string(description)),
        ]),
    ]
}

fn connect_result(extra: Option<(&str, Amf0Value)>) -> Vec<Amf0Value> {
    let mut props = vec![("fmsVer", Amf0Value::string("FMS/3,0,1,123"))];
    props.extend(extra);
    vec![
        Amf0Value::string("_result"),
        Amf0Value::Number(1.0),
        Amf0Value::object(props),
        Amf0Value::object([("code", Amf0Value::string("NetConnection.Connect.Success"))]),
    ]
}

/// Drives a publisher to Publishing; returns it with the fake server.
fn published() -> (Publisher, FakeServer) {
    let mut server = FakeServer::new();
    let mut p = Publisher::new(target());
    server.hear(&mut p);
    let bytes = server.command(&connect_result(None));
    p.receive(&bytes).unwrap();
    server.hear(&mut p);
    let bytes = server.command(&[
        Amf0Value::string("_result"),
        Amf0Value::Number(4.0),
        Amf0Value::Null,
        Amf0Value::Number(1.0),
    ]);
    p.receive(&bytes).unwrap();
    server.hear(&mut p);
    let bytes = server.command(&status(
        "NetStream.Publish.Start",
        "status",
        "key is now published",
    ));
    p.receive(&bytes).unwrap();
    (p, server)
}

#[test]
fn the_session_opens_with_set_chunk_size_then_connect() {
    let mut p = Publisher::new(target());
    let out = p.take_output();
    // Set Chunk Size 4096 on chunk stream 2, first of all.
    assert_eq!(
        &out[..16],
        &[2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0]
    );
    let mut reader = ChunkReader::new();
    let messages = reader.push(&out).unwrap();
    assert_eq!(
        messages.len(),
        1,
        "Set Chunk Size is the reader's own business"
    );
    let connect = amf0::decode_all(&messages[0].payload).unwrap();
    assert_eq!(connect[0], Amf0Value::string("connect"));
    assert_eq!(connect[1], Amf0Value::Number(1.0));
    let object = &connect[2];
    assert_eq!(object.get("app"), Some(&Amf0Value::string("live")));
    assert_eq!(object.get("type"), Some(&Amf0Value::string("nonprivate")));
    assert_eq!(object.get("flashVer"), Some(&Amf0Value::string(FLASH_VER)));
    assert_eq!(
        object.get("tcUrl"),
        Some(&Amf0Value::string("rtmp://127.0.0.1:1935/live"))
    );
    assert_eq!(
        object.get("fourCcList"),
        Some(&Amf0Value::StrictArray(
            ["avc1", "hvc1", "av01", "mp4a"]
                .iter()
                .map(|f| Amf0Value::string(*f))
                .collect()
        ))
    );
}

#[test]
fn connect_result_leads_to_release_fcpublish_create_then_publish() {
    let mut server = FakeServer::new();
    let mut p = Publisher::new(target());
    server.hear(&mut p);
    p.receive(&server.command(&connect_result(None))).unwrap();
    assert_eq!(p.state(), PublishState::CreatingStream);
    let heard = server.hear(&mut p);
    assert_eq!(
        names(&heard),
        ["releaseStream", "FCPublish", "createStream"]
    );
    let release = amf0::decode_all(&heard[0].payload).unwrap();
    assert_eq!(release[3], Amf0Value::string("key"));
    assert!(!p.server().unwrap().accepts_video("hvc1"));
    assert_eq!(
        p.server().unwrap().version.as_deref(),
        Some("FMS/3,0,1,123")
    );

    p.receive(&server.command(&[
        Amf0Value::string("_result"),
        Amf0Value::Number(4.0),
        Amf0Value::Null,
        Amf0Value::Number(7.0),
    ]))
    .unwrap();
    let heard = server.hear(&mut p);
    assert_eq!(names(&heard), ["publish"]);
    assert_eq!(heard[0].stream_id, 7);
    let publish = amf0::decode_all(&heard[0].payload).unwrap();
    assert_eq!(
        &publish[3..],
        &[Amf0Value::string("key"), Amf0Value::string("live")]
    );
    assert_eq!(p.send_video(0, &[1]), Err(PublishError::NotPublishing));

    p.receive(&server.command(&status("NetStream.Publish.Start", "status", "")))
        .unwrap();
    assert!(p.is_publishing());
    p.send_video(40, &[0x17, 1]).unwrap();
    let heard = server.hear(&mut p);
    assert_eq!(heard[0].type_id, message_type::VIDEO);
    assert_eq!(heard[0].stream_id, 7);
    assert_eq!(heard[0].timestamp, 40);
}

#[test]
fn an_enhanced_server_announces_its_codecs() {
    for extra in [
        (
            "fourCcList",
            Amf0Value::StrictArray(vec![Amf0Value::string("hvc1"), Amf0Value::string("avc1")]),
        ),
        (
            "videoFourCcInfoMap",
            Amf0Value::object([("*", Amf0Value::Number(4.0))]),
        ),
    ] {
        let mut server = FakeServer::new();
        let mut p = Publisher::new(target());
        p.receive(&server.command(&connect_result(Some(extra))))
            .unwrap();
        assert!(p.server().unwrap().accepts_video("hvc1"));
    }
}

#[test]
fn refusals_carry_the_servers_code_and_description() {
    let mut server = FakeServer::new();
    let mut p = Publisher::new(target());
    let refused = p.receive(&server.command(&[
        Amf0Value::string("_error"),
        Amf0Value::Number(1.0),
        Amf0Value::Null,
        Amf0Value::object([
            ("level", Amf0Value::string("error")),
            ("code", Amf0Value::string("NetConnection.Connect.Rejected")),
            ("description", Amf0Value::string("no such application")),
        ]),
    ]));
    let e = refused.unwrap_err();
    assert_eq!(
        e.to_string(),
        "connect refused: NetConnection.Connect.Rejected (no such application)"
    );

    let mut server = FakeServer::new();
    let mut p = Publisher::new(target());
    p.receive(&server.command(&connect_result(None))).unwrap();
    p.receive(&server.command(&[
        Amf0Value::string("_result"),
        Amf0Value::Number(4.0),
        Amf0Value::Null,
        Amf0Value::Number(1.0),
    ]))
    .unwrap();
    let e = p
        .receive(&server.command(&status(
            "NetStream.Publish.BadName",
            "error",
            "Already publishing",
        )))
        .unwrap_err();
    assert_eq!(
        e,
        PublishError::PublishRefused {
            code: "NetStream.Publish.BadName".into(),
            description: "Already publishing".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "publish refused: NetStream.Publish.BadName (Already publishing)"
    );
}

#[test]
fn errors_for_courtesy_commands_change_nothing() {
    let mut server = FakeServer::new();
    let mut p = Publisher::new(target());
    p.receive(&server.command(&connect_result(None))).unwrap();
    for txn in [2.0, 3.0] {
        p.receive(&server.command(&[
            Amf0Value::string("_error"),
            Amf0Value::Number(txn),
            Amf0Value::Null,
            Amf0Value::object([("code", Amf0Value::string("NetConnection.Call.Failed"))]),
        ]))
        .unwrap();
    }
    assert_eq!(p.state(), PublishState::CreatingStream);
}

#[test]
fn a_stop_while_publishing_is_an_error() {
    let (mut p, mut server) = published();
    let e = p
        .receive(&server.command(&status("NetStream.Publish.Idle", "error", "idle")))
        .unwrap_err();
    assert!(matches!(e, PublishError::Stopped { .. }));
    let (mut p, mut server) = published();
    assert_eq!(
        p.receive(&server.command(&[Amf0Value::string("close"), Amf0Value::Number(0.0)])),
        Err(PublishError::ServerClose)
    );
}

#[test]
fn pings_are_answered_and_acknowledgements_sent_when_due() {
    let (mut p, mut server) = published();
    let ping = server.say(message_type::USER_CONTROL, 0, &[0, 6, 0, 0, 1, 2]);
    p.receive(&ping).unwrap();
    let heard = server.hear(&mut p);
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0].type_id, message_type::USER_CONTROL);
    assert_eq!(heard[0].payload, [0, 7, 0, 0, 1, 2]);

    // A window of 100 bytes: more than that came already, so an ack
    // goes at once; then again after the next 100.
    let window = server.say(message_type::WINDOW_ACK_SIZE, 0, &100u32.to_be_bytes());
    p.receive(&window).unwrap();
    let acks = |heard: &[Message]| -> Vec<u32> {
        heard
            .iter()
            .filter(|m| m.type_id == message_type::ACKNOWLEDGEMENT)
            .map(|m| u32::from_be_bytes(m.payload[..4].try_into().unwrap()))
            .collect()
    };
    let first = acks(&server.hear(&mut p));
    assert_eq!(first, [p.reader.received() as u32]);
    p.receive(&server.say(message_type::AUDIO, 1, &[0; 50]))
        .unwrap();
    assert!(acks(&server.hear(&mut p)).is_empty(), "not due yet");
    p.receive(&server.say(message_type::AUDIO, 1, &[0; 50]))
        .unwrap();
    assert_eq!(acks(&server.hear(&mut p)), [p.reader.received() as u32]);
}

#[test]
fn set_peer_bandwidth_is_answered_with_a_window() {
    let (mut p, mut server) = published();
    let bytes = server.say(
        message_type::SET_PEER_BANDWIDTH,
        0,
        &[0, 0x26, 0x25, 0xA0, 2],
    );
    p.receive(&bytes).unwrap();
    let heard = server.hear(&mut p);
    assert_eq!(heard[0].type_id, message_type::WINDOW_ACK_SIZE);
    assert_eq!(heard[0].payload, [0, 0x26, 0x25, 0xA0]);
}

#[test]
fn unpublish_says_fcunpublish_and_deletestream() {
    let (mut p, mut server) = published();
    p.unpublish();
    let heard = server.hear(&mut p);
    assert_eq!(names(&heard), ["FCUnpublish", "deleteStream"]);
    assert!(!p.is_publishing());
}
