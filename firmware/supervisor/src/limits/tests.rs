//! The limits, checked on documents built here, and through the supervisor
//! thread as the API reaches it.

use makara_config::text::{
    DESCRIPTION, INTERFACE, NAME, SAP_AUTHOR, SAP_KEYWORDS, SAP_SESSION_DESCRIPTION,
    SAP_SESSION_NAME, SRT_ADDRESS, SRT_STREAM_ID, URL,
};
use makara_config::{
    Id, InputConfig, InputRequest, InputType, OutputConfig, OutputRequest, OutputType, SapRequest,
    SrtEncryption, SrtMode, SrtRequest, StreamConfig, StreamRequest, TranscoderConfig,
    TranscoderRequest, MAX_STREAM_OUTPUTS,
};

use super::*;
use crate::document::PersistError;
use crate::document::Preset;
use crate::resources::Resources;
use crate::tests::{created, input, output, stream, transcoder, FakeEngine, Rig};
use crate::{
    Command, CommandError, CreateError, Handle, Kind, LocalRecorder, Reply, StartError, UpdateError,
};

/// `n` characters of text; each value differs so nothing compresses.
fn long(n: usize, seed: usize) -> Option<String> {
    let mut s = format!("{seed}-");
    while s.len() < n {
        s.push('x');
    }
    Some(s)
}

/// A URL of exactly `n` characters.
fn long_url(scheme: &str, n: usize, seed: usize) -> String {
    let head = format!("{scheme}://239.1.1.1:5000/{seed}");
    let mut url = head.clone();
    url.push_str(&"p".repeat(n - head.len()));
    url
}

/// The longest SRT settings of a caller; `encryption` is an output's (an
/// input takes the sender's key length).
fn longest_srt(seed: usize, encryption: Option<SrtEncryption>) -> SrtRequest {
    SrtRequest {
        mode: Some(SrtMode::Caller),
        address: long(SRT_ADDRESS.max, seed),
        remote_port: Some(9000),
        passphrase: long(79, seed),
        encryption,
        stream_id: long(SRT_STREAM_ID.max, seed),
        ..SrtRequest::default()
    }
}

fn longest_input(seed: usize) -> InputConfig {
    InputRequest {
        name: long(NAME.max, seed),
        description: long(DESCRIPTION.max, seed),
        url: Some(long_url("srt", URL.max, seed)),
        stream_type: Some(InputType::Srt),
        interface: long(INTERFACE.max, seed),
        srt: longest_srt(seed, None),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

fn longest_output(seed: usize) -> OutputConfig {
    OutputRequest {
        name: long(NAME.max, seed),
        description: long(DESCRIPTION.max, seed),
        url: Some(long_url("srt", URL.max, seed)),
        stream_type: Some(OutputType::Srt),
        interface: long(INTERFACE.max, seed),
        sap: Some(SapRequest {
            transmit: Some(true),
            address: Some("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".into()),
            session_name: long(SAP_SESSION_NAME.max, seed),
            session_description: long(SAP_SESSION_DESCRIPTION.max, seed),
            keywords: long(SAP_KEYWORDS.max, seed),
            author: long(SAP_AUTHOR.max, seed),
            ..SapRequest::default()
        }),
        srt: longest_srt(seed, Some(SrtEncryption::Aes256)),
        ..OutputRequest::default()
    }
    .validate()
    .unwrap()
}

fn longest_transcoder(seed: usize) -> TranscoderConfig {
    TranscoderRequest {
        name: long(NAME.max, seed),
        ..TranscoderRequest::default()
    }
    .validate()
    .unwrap()
}

fn longest_stream(seed: usize) -> StreamConfig {
    StreamRequest {
        name: long(NAME.max, seed),
        description: long(DESCRIPTION.max, seed),
        input: Some(Id::new_random()),
        transcoder: Some(Id::new_random()),
        outputs: (0..MAX_STREAM_OUTPUTS).map(|_| Id::new_random()).collect(),
        ..StreamRequest::default()
    }
    .validate()
    .unwrap()
}

/// `n` of each kind with every text at its longest; no presets.
fn longest_document(n: usize) -> Document {
    let mut doc = Document::default();
    let r = &mut doc.current;
    for i in 0..n {
        r.inputs.insert(Id::new_random(), longest_input(i));
        r.outputs.insert(Id::new_random(), longest_output(i));
        r.transcoders
            .insert(Id::new_random(), longest_transcoder(i));
        r.streams.insert(Id::new_random(), longest_stream(i));
    }
    doc
}

/// A stream of two outputs, named as people name them.
fn typical_stream(i: usize) -> StreamConfig {
    let (input, transcoder) = (Id::new_random(), Id::new_random());
    let outputs = [Id::new_random(), Id::new_random()];
    stream(
        &format!("Stream {i}"),
        &input,
        Some(&transcoder),
        &[&outputs[0], &outputs[1]],
    )
}

/// Every kind at its count, with texts as typical resources have them.
fn typical_document_at_every_count() -> Document {
    let mut doc = Document::default();
    let r = &mut doc.current;
    for i in 0..MAX_INPUTS {
        r.inputs
            .insert(Id::new_random(), input(&format!("Camera {i}")));
    }
    for i in 0..MAX_OUTPUTS {
        r.outputs
            .insert(Id::new_random(), output(&format!("Output {i}")));
    }
    for i in 0..MAX_TRANSCODERS {
        let t = transcoder(&format!("HD {i}"));
        r.transcoders.insert(Id::new_random(), t);
    }
    for i in 0..MAX_STREAMS {
        r.streams.insert(Id::new_random(), typical_stream(i));
    }
    doc
}

/// `doc` with one more preset, a copy of its resources.
fn with_preset(mut doc: Document) -> Document {
    doc.presets.push(Preset {
        id: Id::new_random(),
        name: format!("preset {}", doc.presets.len()),
        created_unix: 0,
        resources: doc.current.clone(),
    });
    doc
}

/// `n` small resources of `kind` (`n` presets of nothing for presets).
fn document_with(kind: Kind, n: usize) -> Document {
    let mut doc = Document::default();
    for i in 0..n {
        let name = format!("{kind} {i}");
        let id = Id::new_random();
        let r: &mut Resources = &mut doc.current;
        match kind {
            Kind::Input => r.inputs.insert(id, input(&name)),
            Kind::Output => r.outputs.insert(id, output(&name)),
            Kind::Transcoder => r.transcoders.insert(id, transcoder(&name)),
            Kind::Stream => r.streams.insert(id, typical_stream(i)),
            Kind::Preset => doc.presets.push(Preset {
                id,
                name,
                created_unix: 0,
                resources: Resources::default(),
            }),
        }
    }
    doc
}

/// The limits' own promise (see the module's comment): every count at its
/// limit with typical texts fits, with three presets of it.
#[test]
fn typical_resources_at_every_count_fit_with_three_presets() {
    let doc = typical_document_at_every_count();
    let doc = with_preset(with_preset(with_preset(doc)));
    let size = encoded_len(&doc);
    assert!(size <= MAX_DOCUMENT_BYTES, "{size} bytes");
    assert_eq!(
        check(&Document::default(), &doc, &BoardLimits::UPPER),
        Ok(())
    );
    // With long texts the size limit comes first.
    let long = longest_document(MAX_INPUTS);
    assert!(encoded_len(&long) > MAX_DOCUMENT_BYTES);
}

#[test]
fn each_count_is_refused_one_past_its_limit() {
    for kind in KINDS {
        let max = max_count(kind);
        let full = document_with(kind, max);
        assert_eq!(
            check(&Document::default(), &full, &BoardLimits::UPPER),
            Ok(()),
            "{kind}"
        );
        let over = document_with(kind, max + 1);
        let e = check(&full, &over, &BoardLimits::UPPER).unwrap_err();
        assert_eq!(e, LimitError::TooMany { kind, max });
        assert_eq!(
            e.to_string(),
            format!("{kind}s: at most {max} {kind}s are kept; delete one first")
        );
    }
}

/// A document saved by an older firmware may hold more than the limits:
/// it can still be edited, as long as the edit does not add to the excess.
#[test]
fn a_document_past_a_limit_can_be_edited_without_growing_past_it() {
    let over = document_with(Kind::Input, MAX_INPUTS + 2);
    let mut edited = over.clone();
    edited
        .current
        .outputs
        .insert(Id::new_random(), output("out"));
    assert_eq!(check(&over, &edited, &BoardLimits::UPPER), Ok(()));
    let fewer = document_with(Kind::Input, MAX_INPUTS + 1);
    assert_eq!(check(&over, &fewer, &BoardLimits::UPPER), Ok(()));
    let more = document_with(Kind::Input, MAX_INPUTS + 3);
    assert!(check(&over, &more, &BoardLimits::UPPER).is_err());
}

#[test]
fn the_size_limit_refuses_growth_past_it() {
    // 100 of each kind at their longest take about 850 kB.
    let under = with_preset(longest_document(100));
    assert!(encoded_len(&under) <= MAX_DOCUMENT_BYTES);
    let over = with_preset(under.clone());
    let size = encoded_len(&over);
    assert!(
        size > MAX_DOCUMENT_BYTES,
        "the test needs a larger document"
    );
    let e = check(&under, &over, &BoardLimits::UPPER).unwrap_err();
    assert_eq!(
        e,
        LimitError::TooLarge {
            size,
            max: MAX_DOCUMENT_BYTES
        }
    );
    assert!(e.to_string().contains(&format!(
        "would take {size} bytes, more than its limit of 2097152 bytes"
    )));
    // Past the limit already: what shrinks the document is allowed, what
    // grows it is not.
    let mut smaller = over.clone();
    smaller.current = Resources::default();
    assert_eq!(check(&over, &smaller, &BoardLimits::UPPER), Ok(()));
    assert!(check(&smaller, &over, &BoardLimits::UPPER).is_err());
}

#[test]
fn limit_failures_become_the_operations_errors() {
    let limit = LimitError::TooMany {
        kind: Kind::Input,
        max: 1,
    };
    let create = CreateError::from(GrowthError::Limit(limit.clone()));
    assert!(matches!(create, CreateError::Limit(ref e) if *e == limit));
    let update = UpdateError::from(GrowthError::Limit(limit.clone()));
    assert!(matches!(update, UpdateError::Limit(ref e) if *e == limit));
    let storage = GrowthError::Storage(PersistError::Encode("x".into()));
    assert!(matches!(
        CreateError::from(storage),
        CreateError::Storage(_)
    ));
}

/// Through the supervisor thread, as the API reaches it: the refused create
/// changes nothing, in memory or on disk, and deleting one makes room.
#[test]
fn a_create_past_a_count_is_refused_and_changes_nothing() {
    let mut rig = Rig::new("limits-count");
    for i in 0..MAX_TRANSCODERS {
        rig.add_transcoder(&format!("tc {i}"));
    }
    match rig.call(Command::CreateTranscoder(transcoder("one too many"))) {
        Err(CommandError::Create(CreateError::Limit(e))) => assert_eq!(
            e,
            LimitError::TooMany {
                kind: Kind::Transcoder,
                max: MAX_TRANSCODERS
            }
        ),
        other => panic!("expected the count limit, got {other:?}"),
    }
    rig.reboot();
    let kept = rig.transcoders();
    assert_eq!(kept.len(), MAX_TRANSCODERS);
    assert!(kept.iter().all(|t| t.config.name != "one too many"));
    assert!(rig
        .call(Command::Delete(Kind::Transcoder, kept[0].id.clone()))
        .is_ok());
    created(rig.call(Command::CreateTranscoder(transcoder("room again"))));
}

#[test]
fn presets_are_counted_and_their_names_limited() {
    let rig = Rig::new("limits-presets");
    for i in 0..MAX_PRESETS {
        rig.save_preset(&format!("p{i}"));
    }
    let reply = rig.call(Command::SavePreset {
        name: "one more".into(),
    });
    assert!(
        matches!(
            reply,
            Err(CommandError::Create(CreateError::Limit(
                LimitError::TooMany {
                    kind: Kind::Preset,
                    max: MAX_PRESETS
                }
            )))
        ),
        "{reply:?}"
    );
    let long = "n".repeat(NAME.max + 1);
    let reply = rig.call(Command::SavePreset { name: long });
    assert!(
        matches!(reply, Err(CommandError::Create(CreateError::Invalid(ref e))) if e.field() == "name"),
        "{reply:?}"
    );
    assert_eq!(rig.presets().len(), MAX_PRESETS);
}

// -- the board's limits ------------------------------------------------------

const SMALL_BOARD: BoardLimits = BoardLimits {
    running_streams: 2,
    max_width: 1920,
    max_height: 1080,
};

fn sized_transcoder(name: &str, width: i64, height: i64) -> TranscoderConfig {
    TranscoderRequest {
        name: Some(name.into()),
        width: Some(width),
        height: Some(height),
        ..TranscoderRequest::default()
    }
    .validate()
    .unwrap()
}

fn test_pattern(name: &str, width: i64, height: i64) -> InputConfig {
    InputRequest {
        name: Some(name.into()),
        stream_type: Some(InputType::TestPattern),
        width: Some(width),
        height: Some(height),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn a_board_never_raises_the_supervisors_own_bounds() {
    assert_eq!(BoardLimits::default(), BoardLimits::UPPER);
    assert_eq!(
        BoardLimits::new(1000, 8000, 8000),
        BoardLimits {
            running_streams: MAX_STREAMS,
            max_width: 3840,
            max_height: 2160,
        }
    );
    let profile = makara_board::profile::Limits {
        max_streams: 4,
        max_width: 1920,
        max_height: 1080,
    };
    assert_eq!(BoardLimits::from(&profile), BoardLimits::new(4, 1920, 1080));
}

#[test]
fn pictures_larger_than_the_boards_are_refused_when_added_or_changed() {
    let empty = Document::default();
    let mut doc = Document::default();
    let id = Id::new_random();
    doc.current
        .transcoders
        .insert(id.clone(), sized_transcoder("UHD", 3840, 2160));
    let e = check(&empty, &doc, &SMALL_BOARD).unwrap_err();
    assert_eq!(
        e.to_string(),
        "transcoder 'UHD': 3840x2160 is larger than this board's largest picture, 1920x1080"
    );
    assert_eq!(check(&empty, &doc, &BoardLimits::UPPER), Ok(()));
    // Kept as it was (saved on a larger board): editing something else is
    // fine; changing it to another picture too large is not.
    let mut other = doc.clone();
    other
        .current
        .outputs
        .insert(Id::new_random(), output("out"));
    assert_eq!(check(&doc, &other, &SMALL_BOARD), Ok(()));
    let mut taller = doc.clone();
    taller
        .current
        .transcoders
        .replace(&id, sized_transcoder("UHD", 1920, 2160));
    assert!(matches!(
        check(&doc, &taller, &SMALL_BOARD),
        Err(LimitError::Picture { height: 2160, .. })
    ));
    let mut fits = doc.clone();
    fits.current
        .transcoders
        .replace(&id, sized_transcoder("UHD", 1920, 1080));
    assert_eq!(check(&doc, &fits, &SMALL_BOARD), Ok(()));
    // A size the transcoder takes from its source is not checked here.
    let mut detected = Document::default();
    detected
        .current
        .transcoders
        .insert(Id::new_random(), transcoder("detect"));
    assert_eq!(check(&empty, &detected, &SMALL_BOARD), Ok(()));
    let mut pattern = Document::default();
    pattern
        .current
        .inputs
        .insert(Id::new_random(), test_pattern("bars", 2560, 1080));
    assert!(matches!(
        check(&empty, &pattern, &SMALL_BOARD),
        Err(LimitError::Picture {
            kind: Kind::Input,
            width: 2560,
            ..
        })
    ));
}

/// A supervisor on a small board, as `makarad serve --board` starts it.
fn on_small_board(dir: &makara_test_support::TestDir) -> (Handle, crate::tests::Probe) {
    let (engine, probe) = FakeEngine::new();
    let none = LocalRecorder::Unavailable("none in this test".into());
    let (handle, _thread) =
        Handle::start_on_board(dir.path(), Box::new(engine), none, SMALL_BOARD).unwrap();
    (handle, probe)
}

#[test]
fn a_board_refuses_pictures_larger_than_its_own_through_the_supervisor() {
    let dir = makara_test_support::TestDir::new("limits-board-pictures");
    let (handle, _probe) = on_small_board(&dir);
    let reply = handle.call(Command::CreateTranscoder(sized_transcoder(
        "UHD", 3840, 2160,
    )));
    assert!(
        matches!(
            reply,
            Err(CommandError::Create(CreateError::Limit(
                LimitError::Picture { .. }
            )))
        ),
        "{reply:?}"
    );
    let id = created(handle.call(Command::CreateTranscoder(sized_transcoder(
        "HD", 1920, 1080,
    ))));
    let reply = handle.call(Command::ReplaceTranscoder(
        id.clone(),
        sized_transcoder("HD", 3840, 1080),
    ));
    assert!(
        matches!(
            reply,
            Err(CommandError::Update(UpdateError::Limit(
                LimitError::Picture { width: 3840, .. }
            )))
        ),
        "{reply:?}"
    );
    let reply = handle.call(Command::CreateInput(test_pattern("bars", 3840, 2160)));
    assert!(
        matches!(reply, Err(CommandError::Create(CreateError::Limit(_)))),
        "{reply:?}"
    );
    // Nothing was changed.
    match handle.call(Command::List(Kind::Transcoder)) {
        Ok(Reply::Transcoders(list)) => {
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].config, sized_transcoder("HD", 1920, 1080));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_board_runs_at_most_its_count_of_streams_at_once() {
    let dir = makara_test_support::TestDir::new("limits-board-streams");
    let (handle, probe) = on_small_board(&dir);
    let input = created(handle.call(Command::CreateInput(input("in"))));
    let out = created(handle.call(Command::CreateOutput(output("out"))));
    // More streams may be kept than run: only starts are counted.
    let streams: Vec<Id> = (0..3)
        .map(|i| {
            let config = stream(&format!("s{i}"), &input, None, &[&out]);
            created(handle.call(Command::CreateStream {
                config,
                start: false,
            }))
        })
        .collect();
    for id in &streams[..2] {
        handle.call(Command::StartStream(id.clone())).unwrap();
    }
    let reply = handle.call(Command::StartStream(streams[2].clone()));
    assert!(
        matches!(
            reply,
            Err(CommandError::Start(StartError::TooMany { max: 2 }))
        ),
        "{reply:?}"
    );
    assert_eq!(probe.lock().running.len(), 2, "the engine was not asked");
    let third = match handle.call(Command::Get(Kind::Stream, streams[2].clone())) {
        Ok(Reply::Stream(view)) => view,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        third.last_error.as_deref(),
        Some("at most 2 streams run at once on this board; stop one first")
    );
    // Starting one that runs already is no new stream.
    handle
        .call(Command::StartStream(streams[0].clone()))
        .unwrap();
    handle
        .call(Command::StopStream(streams[0].clone()))
        .unwrap();
    handle
        .call(Command::StartStream(streams[2].clone()))
        .unwrap();
    assert_eq!(probe.lock().running.len(), 2);
}
