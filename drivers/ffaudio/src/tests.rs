//! End to end through Debian's libavcodec, checked with the `ffprobe` and
//! `ffmpeg` command-line tools.

use std::f64::consts::TAU;
use std::path::PathBuf;
use std::process::Command;

use makara_encode::{AudioEncoder, AudioSettings, EncodeError, RawAudio};
use makara_media::{AudioCodec, Clock90k, EncodedAudio};
use makara_test_support::TestDir;

use crate::adts::{AdtsFields, HEADER_LEN};
use crate::encoder::to_90k;
use crate::FfAudioEncoder;

const RATE: usize = 48_000;
/// An arbitrary, large anchor: one hour on the 90 kHz clock.
const PTS0: Clock90k = Clock90k(3600 * 90_000);

fn settings(codec: AudioCodec, bitrate_kbps: u32) -> AudioSettings {
    AudioSettings {
        codec,
        bitrate_kbps,
        sample_rate: RATE as u32,
        channels: 2,
    }
}

/// `seconds` of a 1 kHz sine, interleaved stereo, left at −6 dBFS and
/// right at −12 dBFS so that a channel swap would show.
fn sine(seconds: usize) -> Vec<i16> {
    (0..seconds * RATE)
        .flat_map(|n| {
            let s = (TAU * 1000.0 * n as f64 / RATE as f64).sin();
            [(s * 16384.0) as i16, (s * 8192.0) as i16]
        })
        .collect()
}

/// Sends `samples` in chunks of `chunk` samples per channel, each stamped
/// as a capture would, receiving as it goes, then flushes.
fn encode(
    settings: AudioSettings,
    samples: &[i16],
    chunk: usize,
    pts0: Clock90k,
) -> Vec<EncodedAudio> {
    let mut enc = FfAudioEncoder::open(settings).unwrap();
    let mut out = Vec::new();
    let mut receive = |enc: &mut FfAudioEncoder| {
        while let Some(frame) = enc.receive().unwrap() {
            out.push(frame);
        }
    };
    for (i, piece) in samples.chunks(chunk * 2).enumerate() {
        let pts = Clock90k(pts0.0 + (i * chunk * 90_000 / RATE) as u64);
        enc.send_samples(Some(RawAudio {
            samples: piece,
            pts,
        }))
        .unwrap();
        receive(&mut enc);
    }
    enc.send_samples(None).unwrap();
    receive(&mut enc);
    // Flushing twice is harmless and yields nothing more.
    enc.send_samples(None).unwrap();
    assert_eq!(enc.receive().unwrap(), None);
    out
}

fn assert_pts_step(frames: &[EncodedAudio], first: Clock90k, step: u64) {
    assert_eq!(frames[0].pts, first);
    for pair in frames.windows(2) {
        assert_eq!(pair[1].pts.0, pair[0].pts.0 + step, "{pair:?}");
    }
}

/// Bits per second over the frames' own duration.
fn kbps(frames: &[EncodedAudio], payload_bytes: usize, frame_samples: usize) -> f64 {
    let seconds = (frames.len() * frame_samples) as f64 / RATE as f64;
    (payload_bytes * 8) as f64 / seconds / 1000.0
}

/// The encoded frames in a file of their own, in a scratch directory that
/// is removed (with the file) when this is dropped.
struct TempFile {
    _dir: TestDir,
    path: PathBuf,
}

impl TempFile {
    fn write(name: &str, frames: &[EncodedAudio]) -> TempFile {
        let dir = TestDir::new("ffaudio");
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
        let path = dir.write(name, bytes);
        TempFile { _dir: dir, path }
    }
}

/// `ffprobe -show_streams` as `key=value` lines.
fn ffprobe(file: &TempFile) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams"])
        .arg(&file.path)
        .output()
        .expect("ffprobe (Debian package ffmpeg) must be installed");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Decodes the whole file; fails on any error FFmpeg reports.
fn ffmpeg_decodes(file: &TempFile) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn has(lines: &[String], want: &str) {
    assert!(lines.iter().any(|l| l == want), "no {want} in {lines:#?}");
}

#[test]
fn aac_ten_seconds_at_128k() {
    let pcm = sine(10);
    let frames = encode(settings(AudioCodec::AacAdts, 128), &pcm, 1024, PTS0);

    // 480000 / 1024 = 468.75: 469 frames of input (the last padded with
    // silence), one priming frame in front.
    assert_eq!(frames.len(), 470);
    // The first packet is the priming frame, one frame before the anchor.
    assert_pts_step(&frames, Clock90k(PTS0.0 - 1920), 1920);

    let mut payload = 0;
    for f in &frames {
        let h = AdtsFields::parse(&f.data).unwrap();
        assert_eq!(h.syncword, 0xFFF);
        assert_eq!(h.protection_absent, 1);
        assert_eq!(h.profile, 1, "AAC-LC");
        assert_eq!(h.sampling_frequency_index, 3, "48 kHz");
        assert_eq!(h.channel_configuration, 2);
        assert_eq!(h.number_of_raw_data_blocks_in_frame, 0);
        // Exactly one ADTS frame per EncodedAudio.
        assert_eq!(h.aac_frame_length as usize, f.data.len());
        payload += f.data.len() - HEADER_LEN;
    }
    let rate = kbps(&frames, payload, 1024);
    assert!((115.2..=140.8).contains(&rate), "{rate} kbit/s");

    let file = TempFile::write("sine.aac", &frames);
    let probe = ffprobe(&file);
    has(&probe, "codec_name=aac");
    has(&probe, "profile=LC");
    has(&probe, "sample_rate=48000");
    has(&probe, "channels=2");
    ffmpeg_decodes(&file);
}

#[test]
fn mp2_ten_seconds_at_192k() {
    let pcm = sine(10);
    let frames = encode(settings(AudioCodec::Mp2, 192), &pcm, 1152, PTS0);

    // 480000 / 1152 = 416.7: 417 frames (the last padded with silence),
    // one packet each; the filter bank's delay adds no packet.
    assert_eq!(frames.len(), 417);
    // Each frame is stamped with the time its decoded output shows: the
    // first one starts 481 samples (901.875 ticks) before the anchor.
    assert_pts_step(&frames, Clock90k(PTS0.0 - 902), 2160);

    // 192 kbit/s at 48 kHz is exactly 576 bytes a frame, never padded.
    for f in &frames {
        assert_eq!(f.data.len(), 576);
        // Sync, MPEG-1, Layer II, no CRC | bitrate index 10 = 192 kbit/s,
        // 48 kHz, no padding.
        assert_eq!(f.data[..3], [0xFF, 0xFD, 0xA4]);
    }
    let payload: usize = frames.iter().map(|f| f.data.len()).sum();
    let rate = kbps(&frames, payload, 1152);
    assert!((172.8..=211.2).contains(&rate), "{rate} kbit/s");

    let file = TempFile::write("sine.mp2", &frames);
    let probe = ffprobe(&file);
    has(&probe, "codec_name=mp2");
    has(&probe, "sample_rate=48000");
    has(&probe, "channels=2");
    has(&probe, "bit_rate=192000");
    ffmpeg_decodes(&file);
}

/// Decodes a file to interleaved 16-bit stereo.
fn ffmpeg_decode(file: &TempFile) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.path)
        .args(["-f", "s16le", "-ac", "2", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn decoded_sound_starts_at_the_anchor() {
    // Silence, then the tone from exactly 0.5 s after the anchor.
    let mut pcm = vec![0i16; RATE];
    pcm.extend(sine(1));
    let tone_at = PTS0.0 + 45_000;
    for (codec, kbps, frame, name) in [
        (AudioCodec::AacAdts, 128, 1024, "onset.aac"),
        (AudioCodec::Mp2, 192, 1152, "onset.mp2"),
    ] {
        let frames = encode(settings(codec, kbps), &pcm, frame, PTS0);
        let file = TempFile::write(name, &frames);
        let decoded = ffmpeg_decode(&file);
        // A decoder plays the first frame at its PTS and the rest without
        // gaps; the first loud sample (n = 1) is 1.875 ticks in.
        let onset = decoded
            .chunks_exact(2)
            .position(|s| s[0].abs() > 1000)
            .unwrap();
        let heard_at = frames[0].pts.0 + (onset * 90_000 / RATE) as u64;
        assert!(
            heard_at.abs_diff(tone_at) <= 4,
            "{codec:?}: heard at {heard_at}, sent at {tone_at}"
        );
    }
}

#[test]
fn chunk_size_does_not_change_the_output() {
    let pcm = sine(2);
    for (codec, kbps, frame) in [
        (AudioCodec::AacAdts, 128, 1024),
        (AudioCodec::Mp2, 192, 1152),
    ] {
        let whole = encode(settings(codec, kbps), &pcm, frame, PTS0);
        let odd = encode(settings(codec, kbps), &pcm, 333, PTS0);
        let one = encode(settings(codec, kbps), &pcm, 1, PTS0);
        let all = encode(settings(codec, kbps), &pcm, pcm.len(), PTS0);
        assert!(whole == odd && whole == one && whole == all, "{codec:?}");
    }
}

#[test]
fn a_frame_before_zero_is_dropped() {
    let pcm = sine(1);
    for (codec, kbps, frame) in [
        (AudioCodec::AacAdts, 128, 1024),
        (AudioCodec::Mp2, 192, 1152),
    ] {
        let at_zero = encode(settings(codec, kbps), &pcm, frame, Clock90k(0));
        let later = encode(settings(codec, kbps), &pcm, frame, PTS0);
        let shifted: Vec<EncodedAudio> = later[1..]
            .iter()
            .map(|f| EncodedAudio {
                data: f.data.clone(),
                pts: Clock90k(f.pts.0 - PTS0.0),
            })
            .collect();
        assert_eq!(at_zero, shifted, "{codec:?}");
    }
}

#[test]
fn timestamps_do_not_drift_over_days() {
    let origin = Clock90k(7);
    let ten_days = 10 * 24 * 3600;
    let at = |samples| to_90k(origin, samples, 48_000);
    assert_eq!(
        at(ten_days * 48_000),
        Some(Clock90k(7 + ten_days as u64 * 90_000))
    );
    // One Layer II frame short of ten days is exactly one frame's ticks
    // earlier; one sample is 1.875 ticks, rounded down.
    assert_eq!(
        at(ten_days * 48_000 - 1152),
        Some(Clock90k(7 + ten_days as u64 * 90_000 - 2160))
    );
    assert_eq!(at(1), Some(Clock90k(8)));
    assert_eq!(at(-1), Some(Clock90k(5)));
    assert_eq!(at(-3), Some(Clock90k(1)));
    assert_eq!(at(-4), None);
    assert_eq!(to_90k(Clock90k(0), 1024, 44_100), Some(Clock90k(2089)));
}

#[test]
fn frame_sizes_are_the_codecs() {
    let aac = FfAudioEncoder::open(settings(AudioCodec::AacAdts, 256)).unwrap();
    let mp2 = FfAudioEncoder::open(settings(AudioCodec::Mp2, 384)).unwrap();
    assert_eq!((aac.frame_samples(), mp2.frame_samples()), (1024, 1152));
}

#[test]
fn nothing_in_nothing_out() {
    let mut enc = FfAudioEncoder::open(settings(AudioCodec::AacAdts, 128)).unwrap();
    enc.send_samples(Some(RawAudio {
        samples: &[],
        pts: PTS0,
    }))
    .unwrap();
    enc.send_samples(None).unwrap();
    assert_eq!(enc.receive().unwrap(), None);
}

#[test]
fn open_failures_say_why() {
    let err = |s| match FfAudioEncoder::open(s) {
        Err(EncodeError::Open(why)) => why,
        other => panic!("{other:?}"),
    };
    // FFmpeg's own refusal: Layer II has no 8 kHz.
    let why = err(AudioSettings {
        sample_rate: 8_000,
        ..settings(AudioCodec::Mp2, 192)
    });
    assert!(why.starts_with("mp2 at 8000 Hz"), "{why}");
    assert!(why.contains("Invalid argument"), "{why}");
    // Ours: ADTS cannot name the rate; no 5.1 here.
    let why = err(AudioSettings {
        sample_rate: 47_999,
        ..settings(AudioCodec::AacAdts, 128)
    });
    assert!(why.contains("sampling_frequency_index"), "{why}");
    let why = err(AudioSettings {
        channels: 6,
        ..settings(AudioCodec::AacAdts, 128)
    });
    assert!(why.contains("mono and stereo"), "{why}");
}

#[test]
fn malformed_input_is_refused() {
    let mut enc = FfAudioEncoder::open(settings(AudioCodec::Mp2, 192)).unwrap();
    let half_a_sample = RawAudio {
        samples: &[1, 2, 3],
        pts: PTS0,
    };
    assert!(matches!(
        enc.send_samples(Some(half_a_sample)),
        Err(EncodeError::Encode(_))
    ));
    enc.send_samples(None).unwrap();
    let late = RawAudio {
        samples: &[1, 2],
        pts: PTS0,
    };
    assert!(matches!(
        enc.send_samples(Some(late)),
        Err(EncodeError::Encode(_))
    ));
}
