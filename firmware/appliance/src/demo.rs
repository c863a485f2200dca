//! `--demo`: a test pattern encoded and sent to udp://127.0.0.1:5000, saved
//! as the preset "Demo", on a data directory that has no configuration yet.

use makara_config::{
    Id, InputRequest, InputType, Invalid, OutputRequest, StreamRequest, TranscoderRequest,
};
use makara_supervisor::{Command, CommandError, Handle, Kind, Reply};
use thiserror::Error;

const PRESET_NAME: &str = "Demo";

#[derive(Debug, Error)]
enum DemoError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("unexpected reply from the supervisor")]
    Reply,
}

/// Adds the demo unless the directory is already configured. Failures are
/// logged: the appliance runs without its demo rather than not at all.
pub fn install(supervisor: &Handle) {
    match try_install(supervisor) {
        Ok(true) => tracing::info!(
            "demo configuration added: test pattern -> H.264 + AAC -> udp://127.0.0.1:5000"
        ),
        Ok(false) => {
            tracing::info!("demo skipped: this data directory already has a configuration")
        }
        Err(e) => tracing::error!(error = %e, "the demo configuration could not be added"),
    }
}

fn try_install(s: &Handle) -> Result<bool, DemoError> {
    let configured = [
        Kind::Input,
        Kind::Output,
        Kind::Transcoder,
        Kind::Stream,
        Kind::Preset,
    ]
    .into_iter()
    .map(|k| s.call(Command::List(k)).map(|r| !is_empty(&r)))
    .collect::<Result<Vec<bool>, _>>()?;
    if configured.contains(&true) {
        return Ok(false);
    }
    let input = created(
        s.call(Command::CreateInput(
            InputRequest {
                name: Some("Demo test pattern".into()),
                stream_type: Some(InputType::TestPattern),
                ..InputRequest::default()
            }
            .validate()?,
        ))?,
    )?;
    let transcoder = created(
        s.call(Command::CreateTranscoder(
            TranscoderRequest {
                name: Some("Demo H.264 3000 kbps".into()),
                video_bitrate_kbps: Some(3000),
                audio_bitrate_kbps: Some(128),
                ..TranscoderRequest::default()
            }
            .validate()?,
        ))?,
    )?;
    let output = created(
        s.call(Command::CreateOutput(
            OutputRequest {
                name: Some("Demo UDP 127.0.0.1:5000".into()),
                url: Some("udp://127.0.0.1:5000".into()),
                ..OutputRequest::default()
            }
            .validate()?,
        ))?,
    )?;
    let stream = StreamRequest {
        name: Some("Demo".into()),
        auto_start: Some(true),
        input: Some(input),
        transcoder: Some(transcoder),
        outputs: vec![output],
        ..StreamRequest::default()
    }
    .validate()?;
    created(s.call(Command::CreateStream {
        config: stream,
        start: true,
    })?)?;
    s.call(Command::SavePreset {
        name: PRESET_NAME.into(),
    })?;
    Ok(true)
}

fn created(reply: Reply) -> Result<Id, DemoError> {
    match reply {
        Reply::Created(id) => Ok(id),
        _ => Err(DemoError::Reply),
    }
}

fn is_empty(reply: &Reply) -> bool {
    match reply {
        Reply::Inputs(v) => v.is_empty(),
        Reply::Outputs(v) => v.is_empty(),
        Reply::Transcoders(v) => v.is_empty(),
        Reply::Streams(v) => v.is_empty(),
        Reply::Presets(v) => v.is_empty(),
        _ => false,
    }
}
