//! Checking a stream plan against what this pipeline can do, and resolving
//! it into the settings of each stage. Everything that can be refused is
//! refused here, before any thread starts, with a reason a client can read.

use std::path::PathBuf;

use makara_capture::{Pacing, TestPatternSettings as PatternSettings};
use makara_config::{InputConfig, InputKind, OutputConfig, StreamMode, TranscoderConfig};
use makara_encode::{AudioSettings, VideoSettings, VideoSettingsError};
use makara_engine::StreamPlan;
use makara_media::PixelFormat;
use makara_output::{OutputError, OutputSettings};
use thiserror::Error;

/// Everything the threads of one stream need, copied in at start.
#[derive(Debug, Clone)]
pub struct Setup {
    pub name: String,
    /// The test pattern's settings; for other sources, the picture the
    /// settings were checked against.
    pub pattern: PatternSettings,
    /// Where the pictures come from.
    pub source: Source,
    /// How the stages keep time.
    pub pace: Pace,
    /// Where the transport stream goes.
    pub sink: Sink,
    /// The source ends after this many frames (the bench); a stream runs
    /// until it is stopped.
    pub frame_limit: Option<u64>,
    pub transcoder: TranscoderConfig,
    pub video: VideoSettings,
    pub audio: Option<AudioSettings>,
    pub outputs: Vec<OutputSettings>,
    /// passthru mode: where the input's own transport stream is copied.
    pub passthru: Option<OutputSettings>,
    pub pacing: bool,
    /// How often the sender wakes to release due packets.
    pub pacing_tick_ms: u32,
    /// Rate of the transport stream: constant (cbr), or its peak.
    pub mux_rate_bps: u64,
    /// Presentation delay: capture to display, covering the jitter
    /// buffer, encoding and the VBV.
    pub delay_ms: u32,
    /// interleaveAdjustmentMs: audio is presented this much later (earlier
    /// when negative) than the video captured with it.
    pub audio_offset_ms: i32,
    /// `metadata on`: the transport stream carries a KLV PID.
    pub metadata: bool,
    /// The box's name (its hostname): the provider the SDT names.
    pub provider: String,
}

/// The picture source of a stream: every kind is a live capture, opened
/// when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in test pattern, at `Setup::pattern`.
    Pattern,
    /// A capture device input: `(capturePort, captureMode)`. Its format is
    /// known once it is open, so the video settings are then resolved
    /// again from `transcoder` for every run.
    Device { port: u32, mode: i32 },
    /// A DeckLink card's input: `(decklinkPort, decklinkMode)`, resolved
    /// like a capture device's once it is open.
    DeckLink { port: u32, mode: i32 },
    /// Raw frames from a file (the bench), of the pattern's size and rate.
    RawFile {
        path: PathBuf,
        pixel_format: PixelFormat,
    },
    /// A network input (MPEG2TS, SRT, RTSP, MJPEGRAW), decoded. Its
    /// format, like a device's, is known once its first picture is.
    Network(InputConfig),
}

/// How the stages keep time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// A live stream: the source runs at its own rate and loses frames the
    /// encoder has no room for; packets leave at their departure time.
    RealTime,
    /// A benchmark: the source waits for room in the encoder's queue, no
    /// frame is lost, and packets leave as soon as they are made, on the
    /// stream's own timeline.
    AsFastAsEncoded,
}

/// Where the transport stream goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Every output of the stream (UDP and SRT).
    Outputs,
    /// One file (the bench's `--output`).
    File(PathBuf),
    /// Nowhere: the bench without `--output`.
    Null,
}

#[derive(Debug, Error)]
pub enum SetupError {
    #[error("this build has no decoder for network inputs, so {0} inputs cannot be transcoded")]
    NoDecoder(&'static str),
    #[error("the stream has no transcoder")]
    NoTranscoder,
    #[error("bypass copies the input's transport stream unchanged; {} input is not one: use transcoder mode", article(.0))]
    BypassInput(&'static str),
    #[error("passthru copies the input's transport stream unchanged to the passthru output; {} input is not one: use transcoder mode", article(.0))]
    PassthruInput(&'static str),
    #[error("passthru mode needs a passthru output")]
    NoPassthru,
    #[error(transparent)]
    Video(#[from] VideoSettingsError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("output '{output}': {reason}")]
    Carriage { output: String, reason: String },
}

/// "an RTSP", "a V4L2": the kind with its article, as the messages say it.
fn article(kind: &str) -> String {
    match kind.starts_with(['A', 'E', 'I', 'O', 'R', 'M', 'S']) {
        true => format!("an {kind}"),
        false => format!("a {kind}"),
    }
}

/// What a capture device is assumed to send until it is open.
const NOMINAL_DEVICE_PICTURE: PatternSettings = PatternSettings {
    width: 1280,
    height: 720,
    frame_rate: 30,
    pixel_format: PixelFormat::I420,
    pacing: Pacing::RealTime,
};

/// How often the sender wakes to release due packets when pacing is
/// automatic. 10 ms: a 4 Mbit/s stream has about four datagrams due per
/// wake-up, where one UDP segmentation-offload send starts to pay for
/// itself (2 ms gave one a wake-up, 500 wake-ups a second), and packets
/// leave at most 10 ms after their departure time, a quarter of the
/// 40 ms PCR interval and half of the variable-rate one.
const DEFAULT_TICK_MS: u32 = 10;
/// Headroom of the mux rate over the encoders' peak rates: PES and TS
/// headers, PSI, PCR packets.
const MUX_OVERHEAD_PERCENT: u64 = 15;
/// A full VBV must reach the receiver within this at the mux rate: the
/// muxer sends no unit more than 900 ms before its decoding time (the
/// T-STD's 1 s, less its margin), so a larger VBV needs a faster mux.
const VBV_DRAIN_MS: u64 = 800;
/// Decoding starts this long after the VBV buffer could have drained.
const DELAY_MARGIN_MS: u32 = 100;

impl Setup {
    /// A transcoded stream (transcoder or passthru mode).
    pub fn from_plan(plan: &StreamPlan) -> Result<Setup, SetupError> {
        let (pattern, source) = picture_source(&plan.input)?;
        let passthru = match plan.stream.mode {
            StreamMode::Transcoder => None,
            StreamMode::Passthru => Some(passthru_output(plan)?),
            StreamMode::Bypass => {
                return Err(SetupError::NoTranscoder);
            }
        };
        let transcoder = plan.transcoder.as_ref().ok_or(SetupError::NoTranscoder)?;
        let picture = makara_media::VideoFormat::new(
            pattern.width,
            pattern.height,
            pattern.pixel_format,
            pattern.frame_rate,
            1,
        )
        .map_err(VideoSettingsError::from)?;
        let video = VideoSettings::from_transcoder(transcoder, picture)?;
        let audio = AudioSettings::from_transcoder(transcoder);
        let outputs = output_settings(&plan.outputs)?;
        carriage(&plan.outputs, &outputs, &video, audio.as_ref())?;
        let audio_kbps = audio.map_or(0, |a| u64::from(a.bitrate_kbps));
        let peak_kbps = u64::from(video.max_bitrate_kbps) + audio_kbps;
        Ok(Setup {
            name: plan.stream.name.clone(),
            pattern,
            source,
            pace: Pace::RealTime,
            sink: Sink::Outputs,
            frame_limit: None,
            transcoder: transcoder.clone(),
            mux_rate_bps: peak_kbps * 1000 * mux_headroom_percent(&video) / 100 + 50_000,
            delay_ms: video.vbv_buffer_ms + transcoder.jitter_buffer_ms + DELAY_MARGIN_MS,
            // -1 is "the transcoder decides": no adjustment.
            audio_offset_ms: match transcoder.interleave_adjustment_ms {
                -1 => 0,
                ms => ms,
            },
            video,
            audio,
            outputs,
            passthru,
            pacing: transcoder.output_pacing,
            metadata: transcoder.metadata,
            provider: makara_board::hostname(),
            pacing_tick_ms: match transcoder.output_pacing_interval_ms {
                ms if ms > 0 => ms as u32,
                _ => DEFAULT_TICK_MS,
            },
        })
    }

    /// The outputs with peers' places in the stream's report: the outputs
    /// in order, then the passthru output.
    pub fn all_outputs(&self) -> impl Iterator<Item = &OutputSettings> {
        self.outputs.iter().chain(self.passthru.as_ref())
    }
}

/// A bypass stream: the input's transport stream to every output as it
/// arrives, unchanged.
#[derive(Debug, Clone)]
pub struct BypassSetup {
    pub name: String,
    pub input: InputConfig,
    pub outputs: Vec<OutputSettings>,
}

impl BypassSetup {
    pub fn from_plan(plan: &StreamPlan) -> Result<BypassSetup, SetupError> {
        if !carries_ts(&plan.input.kind) {
            return Err(SetupError::BypassInput(input_name(&plan.input.kind)));
        }
        Ok(BypassSetup {
            name: plan.stream.name.clone(),
            input: plan.input.clone(),
            outputs: output_settings(&plan.outputs)?,
        })
    }
}

/// The picture source of a transcoded stream, and the picture its video
/// settings are checked against until the source says what it sends.
fn picture_source(input: &InputConfig) -> Result<(PatternSettings, Source), SetupError> {
    Ok(match &input.kind {
        InputKind::TestPattern(p) => (
            PatternSettings {
                width: p.width,
                height: p.height,
                frame_rate: p.frame_rate,
                pixel_format: PixelFormat::I420,
                pacing: Pacing::RealTime,
            },
            Source::Pattern,
        ),
        // Checked against a nominal 720p picture until the device is
        // open and says what it sends.
        InputKind::V4l2 { port, mode } => (
            NOMINAL_DEVICE_PICTURE,
            Source::Device {
                port: *port,
                mode: *mode,
            },
        ),
        // The same, until the first picture is decoded.
        InputKind::Mpeg2Ts { .. }
        | InputKind::Srt { .. }
        | InputKind::Rtsp { .. }
        | InputKind::MjpegRaw { .. } => (NOMINAL_DEVICE_PICTURE, Source::Network(input.clone())),
        InputKind::Decklink { port, mode } => (
            NOMINAL_DEVICE_PICTURE,
            Source::DeckLink {
                port: *port,
                mode: *mode,
            },
        ),
    })
}

fn passthru_output(plan: &StreamPlan) -> Result<OutputSettings, SetupError> {
    if !carries_ts(&plan.input.kind) {
        return Err(SetupError::PassthruInput(input_name(&plan.input.kind)));
    }
    let output = plan.passthru.as_ref().ok_or(SetupError::NoPassthru)?;
    Ok(OutputSettings::from_output(output)?)
}

fn output_settings(outputs: &[OutputConfig]) -> Result<Vec<OutputSettings>, SetupError> {
    outputs
        .iter()
        .map(|o| Ok(OutputSettings::from_output(o)?))
        .collect()
}

/// Refuses a transcoded stream whose codecs one of its outputs cannot
/// carry (RTMP, RTSP), naming the output: better at the start than as the
/// output's lasting error once the stream runs.
fn carriage(
    configs: &[OutputConfig],
    outputs: &[OutputSettings],
    video: &VideoSettings,
    audio: Option<&AudioSettings>,
) -> Result<(), SetupError> {
    for (config, output) in configs.iter().zip(outputs) {
        if let Some(reason) = output.refusal(Some(video.codec), audio.map(|a| a.codec)) {
            return Err(SetupError::Carriage {
                output: config.name.clone(),
                reason,
            });
        }
    }
    Ok(())
}

/// The inputs that are a transport stream, which bypass and passthru copy.
fn carries_ts(kind: &InputKind) -> bool {
    matches!(kind, InputKind::Mpeg2Ts { .. } | InputKind::Srt { .. })
}

/// The mux rate over the peak rates, in percent: the overhead, or what
/// lets a full VBV arrive within [`VBV_DRAIN_MS`] if that is more.
fn mux_headroom_percent(video: &VideoSettings) -> u64 {
    (100 + MUX_OVERHEAD_PERCENT).max(u64::from(video.vbv_buffer_ms) * 100 / VBV_DRAIN_MS)
}

pub(crate) fn input_name(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Mpeg2Ts { .. } => "MPEG2TS",
        InputKind::Srt { .. } => "SRT",
        InputKind::Decklink { .. } => "DECKLINK",
        InputKind::V4l2 { .. } => "V4L2",
        InputKind::Rtsp { .. } => "RTSP",
        InputKind::MjpegRaw { .. } => "MJPEGRAW",
        InputKind::TestPattern(_) => "TESTPATTERN",
    }
}

#[cfg(test)]
mod tests {
    use makara_config::{
        Id, InputConfig, OutputRequest, StreamRequest, TestPatternSettings, TranscoderRequest,
    };

    use super::*;

    fn plan(mode: StreamMode, kind: InputKind) -> StreamPlan {
        let output = OutputRequest {
            url: Some("udp://127.0.0.1:5000".into()),
            ..OutputRequest::default()
        }
        .validate()
        .unwrap();
        let transcoder = TranscoderRequest {
            name: Some("t".into()),
            ..TranscoderRequest::default()
        };
        let mut stream = StreamRequest {
            name: Some("s".into()),
            input: Some(Id::new_random()),
            transcoder: Some(Id::new_random()),
            outputs: vec![Id::new_random()],
            ..StreamRequest::default()
        }
        .validate()
        .unwrap();
        stream.mode = mode;
        StreamPlan {
            id: Id::new_random(),
            stream,
            input: InputConfig {
                name: "in".into(),
                description: None,
                interface: None,
                kind,
            },
            transcoder: Some(transcoder.validate().unwrap()),
            outputs: vec![output],
            passthru: None,
        }
    }

    fn pattern() -> InputKind {
        InputKind::TestPattern(TestPatternSettings::DEFAULT)
    }

    fn udp_ts() -> InputKind {
        let url = makara_config::Endpoint::parse(
            "url",
            "udp://239.1.1.1:5000",
            &[makara_config::Scheme::Udp],
            true,
        )
        .unwrap();
        InputKind::Mpeg2Ts { url }
    }

    #[test]
    fn kinds_take_their_article() {
        assert_eq!(article("RTSP"), "an RTSP");
        assert_eq!(article("MJPEGRAW"), "an MJPEGRAW");
        assert_eq!(article("V4L2"), "a V4L2");
        assert_eq!(article("TESTPATTERN"), "a TESTPATTERN");
        assert_eq!(article("DECKLINK"), "a DECKLINK");
    }

    #[test]
    fn decklink_and_network_inputs_wait_for_their_picture() {
        let setup = Setup::from_plan(&plan(
            StreamMode::Transcoder,
            InputKind::Decklink { port: 1, mode: -1 },
        ))
        .unwrap();
        assert_eq!(setup.source, Source::DeckLink { port: 1, mode: -1 });
        assert_eq!(setup.video.input.width, NOMINAL_DEVICE_PICTURE.width);
        let setup = Setup::from_plan(&plan(StreamMode::Transcoder, udp_ts())).unwrap();
        assert!(matches!(setup.source, Source::Network(_)));
        assert_eq!(setup.video.input.width, NOMINAL_DEVICE_PICTURE.width);
    }

    #[test]
    fn every_profile_at_the_lowest_bitrates_gets_a_transport() {
        use makara_config::{EncodingProfile, AUDIO_BITRATE_KBPS, VIDEO_BITRATE_KBPS};
        for profile in [
            EncodingProfile::Vbr,
            EncodingProfile::Cbr,
            EncodingProfile::Performance,
            EncodingProfile::Balanced,
            EncodingProfile::Quality,
        ] {
            let mut plan = plan(StreamMode::Transcoder, pattern());
            let transcoder = plan.transcoder.as_mut().unwrap();
            transcoder.encoding_profile = profile;
            transcoder.video_bitrate_kbps = VIDEO_BITRATE_KBPS.min as u32;
            transcoder.audio_bitrate_kbps = AUDIO_BITRATE_KBPS.min as u32;
            let setup = Setup::from_plan(&plan).unwrap();
            let mux = crate::keeper::mux_config(&setup);
            assert!(mux.is_ok(), "{profile:?}: {mux:?}");
        }
    }

    #[test]
    fn passthru_needs_its_output_and_a_transport_stream() {
        let e = Setup::from_plan(&plan(StreamMode::Passthru, pattern())).unwrap_err();
        assert!(matches!(e, SetupError::PassthruInput("TESTPATTERN")), "{e}");
        let e = Setup::from_plan(&plan(StreamMode::Passthru, udp_ts())).unwrap_err();
        assert_eq!(e.to_string(), "passthru mode needs a passthru output");
    }

    #[test]
    fn bypass_takes_transport_streams_only() {
        let e = BypassSetup::from_plan(&plan(StreamMode::Bypass, pattern())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bypass copies the input's transport stream unchanged; a TESTPATTERN input is not one: use transcoder mode"
        );
    }
}
