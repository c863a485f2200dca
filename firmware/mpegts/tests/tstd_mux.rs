//! The muxer fed like the pipeline feeds it (an encoder's sizes and
//! timings, on a simulated clock), its output judged by the crate's T-STD
//! analyser: no byte waits more than 1 s, no buffer overflows, no unit is
//! late, whatever the presentation delay, B-frames, audio codec and rate.

// Shared with the other tests; this one uses only `range`.
#[allow(dead_code)]
#[path = "common/prng.rs"]
mod prng;

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M};
use makara_mpegts::mux::{MuxConfig, Muxer, AUDIO_BUFFER_BYTES};
use makara_mpegts::tstd::{analyse, TstdReport};
use prng::Prng;

const FPS: u64 = 30;
const SECONDS: u64 = 8;
const TICKS_PER_MS: u64 = 27_000;

#[derive(Debug, Clone, Copy)]
struct Case {
    /// Capture to decoding time of video and presentation of audio.
    delay_ms: u64,
    b_frames: u64,
    video_kbps: u64,
    /// VBV size at the peak rate, which x264 keeps frames within.
    vbv_ms: u64,
    audio: AudioCodec,
    audio_kbps: u64,
    variable_rate: bool,
}

impl Case {
    fn peak_kbps(&self) -> u64 {
        self.video_kbps * if self.variable_rate { 3 } else { 2 } / 2
    }

    fn vbv_bytes(&self) -> u64 {
        self.peak_kbps() * self.vbv_ms / 8
    }

    /// As the pipeline sizes it: (peak + audio) × 1.15 + 50 kbit/s, a
    /// PCR every 20 ms when variable-rate.
    fn config(&self) -> MuxConfig {
        let rate =
            (self.peak_kbps() + self.audio_kbps) * 1000 * self.headroom_percent() / 100 + 50_000;
        MuxConfig {
            audio: Some((0x101, self.audio)),
            variable_rate: self.variable_rate,
            video_buffer_bytes: Some(self.vbv_bytes() as u32),
            pcr_interval_ms: if self.variable_rate { 20 } else { 40 },
            ..MuxConfig::new(rate)
        }
    }

    /// 15 %, or more when a full VBV must still arrive within 800 ms.
    fn headroom_percent(&self) -> u64 {
        115.max(self.vbv_ms * 100 / 800)
    }

    /// (samples per frame, 90 kHz ticks per frame) at 48 kHz.
    fn audio_frame(&self) -> (u64, u64) {
        match self.audio {
            AudioCodec::Mp2 => (1152, 2160),
            _ => (1024, 1920),
        }
    }
}

enum Unit {
    Video(EncodedVideo),
    Audio(EncodedAudio),
}

/// (when the encoder hands it over, in 27 MHz ticks, the unit). With a
/// PRNG, frame sizes and hand-over times vary as a live encoder's do:
/// IDRs from a sixth to a third of the VBV, other pictures three quarters
/// to all of their share (so the VBV holds), each picture 10 to 60 ms in the
/// encoder, each audio frame up to 30 ms after it is complete. Every 97th
/// picture takes `stall_ms` longer in the encoder.
fn units(case: &Case, mut prng: Option<Prng>, stall_ms: u64) -> Vec<(u64, Unit)> {
    let mut vary = |lo: u64, hi: u64, fixed: u64| prng.as_mut().map_or(fixed, |p| p.range(lo, hi));
    let mut out = Vec::new();
    let frame_90k = 90_000 / FPS;
    let delay_90k = case.delay_ms * 90;
    // A GOP of 30: the IDR takes a third of the VBV, the rest share what
    // is left of the GOP's budget.
    let gop_bytes = case.video_kbps * 1000 / 8;
    let idr = case.vbv_bytes() / 3;
    let other = gop_bytes.saturating_sub(idr) / (FPS - 1);
    let reorder = case.b_frames.min(1) + case.b_frames.saturating_sub(1).min(1);
    for n in 0..SECONDS * FPS {
        // Pictures leave the encoder in decode order, `reorder` frames
        // after capture, 20 ms later still (encoding).
        let capture_90k = n * frame_90k;
        let dts = capture_90k + delay_90k;
        let pts = dts + reorder * frame_90k;
        let size = if n % FPS == 0 {
            vary(idr / 2, idr, idr)
        } else {
            vary(other * 3 / 4, other, other)
        };
        let encode_ms = vary(10, 60, 20) + if n % 97 == 50 { stall_ms } else { 0 };
        let push_at = ((capture_90k + reorder * frame_90k) * 300 + encode_ms * TICKS_PER_MS)
            .max(out.last().map_or(0, |&(at, _)| at));
        out.push((
            push_at,
            Unit::Video(EncodedVideo {
                data: vec![0x55; size as usize],
                pts: Clock90k(pts),
                dts: Clock90k(dts),
                keyframe: n % FPS == 0,
            }),
        ));
    }
    let (samples, ticks) = case.audio_frame();
    let frame_bytes = case.audio_kbps * 1000 / 8 * samples / 48_000;
    let mut last_audio = 0;
    for n in 0..SECONDS * 90_000 / ticks {
        let capture_90k = n * ticks;
        // An encoder hands its frames over in order.
        last_audio = ((capture_90k + ticks) * 300 + vary(0, 30, 2) * TICKS_PER_MS).max(last_audio);
        out.push((
            last_audio,
            Unit::Audio(EncodedAudio {
                data: vec![0xAA; frame_bytes as usize],
                pts: Clock90k(capture_90k + delay_90k),
            }),
        ));
    }
    out.sort_by_key(|(at, _)| *at); // stable: each encoder's order stays
    out
}

/// Runs the muxer on a 2 ms tick, as the sender does, until everything
/// has left, and judges what came out.
fn run(case: Case, prng: Option<Prng>, stall_ms: u64) -> TstdReport {
    let mut muxer = Muxer::new(case.config().validate().unwrap(), Pcr27M(0));
    let units = units(&case, prng, stall_ms);
    let mut next = 0;
    let mut ts = Vec::new();
    let mut out = Vec::new();
    let mut now = 0;
    while next < units.len() || muxer.queued_bytes() > 0 {
        while next < units.len() && units[next].0 <= now {
            match &units[next].1 {
                Unit::Video(v) => muxer.push_video(v),
                Unit::Audio(a) => muxer.push_audio(a),
            }
            next += 1;
        }
        muxer.fill_until(Pcr27M(now), &mut out);
        for (_, packet) in out.drain(..) {
            ts.extend_from_slice(&packet);
        }
        now += 2 * TICKS_PER_MS;
    }
    assert_eq!(muxer.counters().video.dropped_units, 0, "{case:?}");
    analyse(&ts).unwrap()
}

fn check(case: Case) {
    check_with(case, None);
}

fn check_with(case: Case, prng: Option<Prng>) {
    let report = run(case, prng, 0);
    let video = &report.streams[&0x100];
    let audio = &report.streams[&0x101];
    assert_eq!(video.units, SECONDS * FPS, "{case:?}");
    for es in [video, audio] {
        assert!(es.max_wait <= 1000 * TICKS_PER_MS, "{case:?}: {es:?}");
        assert_eq!(es.late_units, 0, "{case:?}: {es:?}");
    }
    assert!(
        audio.max_occupancy <= AUDIO_BUFFER_BYTES,
        "{case:?}: {audio:?}"
    );
    assert!(
        video.max_occupancy as u64 <= case.vbv_bytes(),
        "{case:?}: {video:?}"
    );
    // A variable-rate stream's bytes appear evenly spread between PCRs,
    // which can bunch audio packets paced apart: not yet kept there.
    if !case.variable_rate {
        assert!(audio.max_transport_buffer <= 512, "{case:?}: {audio:?}");
    }
}

const DEFAULTS: Case = Case {
    delay_ms: 850,
    b_frames: 0,
    video_kbps: 3000,
    vbv_ms: 500,
    audio: AudioCodec::AacAdts,
    audio_kbps: 256,
    variable_rate: true,
};

#[test]
fn the_defaults_keep_the_t_std() {
    check(DEFAULTS);
    check(Case {
        variable_rate: false,
        ..DEFAULTS
    });
}

#[test]
fn the_quality_profile_and_the_longest_jitter_buffer_keep_the_t_std() {
    // 1 s VBV and 3 B-frames; then a 10 s jitter buffer on top.
    let quality = Case {
        delay_ms: 1000 + 250 + 100,
        b_frames: 3,
        vbv_ms: 1000,
        ..DEFAULTS
    };
    check(quality);
    check(Case {
        delay_ms: 1000 + 10_000 + 100,
        ..quality
    });
}

#[test]
fn low_latency_keeps_the_t_std() {
    check(Case {
        delay_ms: 100 + 100,
        vbv_ms: 100,
        variable_rate: false,
        ..DEFAULTS
    });
}

#[test]
fn both_audio_codecs_at_their_highest_rates_keep_the_t_std() {
    for (audio, audio_kbps) in [(AudioCodec::Mp2, 384), (AudioCodec::AacAdts, 512)] {
        for variable_rate in [false, true] {
            check(Case {
                audio,
                audio_kbps,
                variable_rate,
                ..DEFAULTS
            });
        }
    }
}

#[test]
fn live_encoder_sizes_and_timings_keep_the_t_std() {
    // The integration cases that once had a late audio unit: MP2 at
    // 384 kbit/s, low latency, the longest jitter buffer; over seeds.
    let mp2 = Case {
        audio: AudioCodec::Mp2,
        audio_kbps: 384,
        ..DEFAULTS
    };
    let low_latency = Case {
        delay_ms: 100 + 100,
        vbv_ms: 100,
        variable_rate: false,
        ..DEFAULTS
    };
    for seed in 0..64 {
        for case in [mp2, low_latency, DEFAULTS] {
            check_with(case, Some(Prng::new(seed)));
        }
    }
}

/// An encoder that falls behind (a busy machine) hands a picture over
/// after its decoding time, so the pictures after it bunch up: they are
/// late, but the audio, which arrives in time, must not be.
#[test]
fn late_video_does_not_make_audio_late() {
    let mp2 = Case {
        audio: AudioCodec::Mp2,
        audio_kbps: 384,
        ..DEFAULTS
    };
    for seed in 0..8 {
        for case in [mp2, DEFAULTS] {
            let report = run(case, Some(Prng::new(seed)), case.delay_ms + 100);
            let video = &report.streams[&0x100];
            let audio = &report.streams[&0x101];
            assert!(video.late_units > 0, "{case:?}: {video:?}");
            assert_eq!(audio.late_units, 0, "{case:?}: {audio:?}");
        }
    }
}
