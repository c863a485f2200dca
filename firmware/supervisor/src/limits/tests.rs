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
use crate::tests::{created, input, output, stream, transcoder, Rig};
use crate::{Command, CommandError, CreateError, Kind, UpdateError};

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
    assert_eq!(check(&Document::default(), &doc), Ok(()));
    // With long texts the size limit comes first.
    let long = longest_document(MAX_INPUTS);
    assert!(encoded_len(&long) > MAX_DOCUMENT_BYTES);
}

#[test]
fn each_count_is_refused_one_past_its_limit() {
    for kind in KINDS {
        let max = max_count(kind);
        let full = document_with(kind, max);
        assert_eq!(check(&Document::default(), &full), Ok(()), "{kind}");
        let over = document_with(kind, max + 1);
        let e = check(&full, &over).unwrap_err();
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
    assert_eq!(check(&over, &edited), Ok(()));
    let fewer = document_with(Kind::Input, MAX_INPUTS + 1);
    assert_eq!(check(&over, &fewer), Ok(()));
    let more = document_with(Kind::Input, MAX_INPUTS + 3);
    assert!(check(&over, &more).is_err());
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
    let e = check(&under, &over).unwrap_err();
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
    assert_eq!(check(&over, &smaller), Ok(()));
    assert!(check(&smaller, &over).is_err());
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
