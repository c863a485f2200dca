//! The demuxer against streams from our own muxer: what goes in comes
//! out (units, frames, timestamps, key flags, parameter sets), a PMT
//! change is followed, and damaged input is reported, never a panic.

use makara_media::VideoCodec as MuxVideo;
use makara_media::{AudioCodec as MuxAudio, Clock90k, EncodedAudio, EncodedVideo, Pcr27M};

use super::adts::tests::frame as adts_frame;
use super::*;
use crate::mux::{MuxConfig, Muxer};
use crate::packet::PACKET_LEN;

mod damage;

const SPS: [u8; 8] = [0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40, 0x50];
const PPS: [u8; 4] = [0x68, 0xEB, 0xE3, 0xCB];
const HEVC_VPS: [u8; 4] = [0x40, 0x01, 0x0C, 0x01];
const HEVC_SPS: [u8; 4] = [0x42, 0x01, 0x01, 0x01];
const HEVC_PPS: [u8; 4] = [0x44, 0x01, 0xC1, 0x72];

/// Annex B from NAL units, alternating 4- and 3-byte start codes.
fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, nal) in nals.iter().enumerate() {
        let code: &[u8] = if i % 2 == 0 {
            &[0, 0, 0, 1]
        } else {
            &[0, 0, 1]
        };
        out.extend_from_slice(code);
        out.extend_from_slice(nal);
    }
    out
}

/// A slice NAL: `header` then `len` bytes that hold no start code.
fn slice(header: &[u8], len: usize, seed: u8) -> Vec<u8> {
    let body = (0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 0x80);
    header.iter().copied().chain(body).collect()
}

/// An H.264 access unit: AUD, then SPS + PPS + IDR for a key frame, else
/// a non-IDR slice.
fn h264_au(n: u64, len: usize) -> Vec<u8> {
    let aud = [0x09, 0xF0];
    if n.is_multiple_of(5) {
        annex_b(&[&aud, &SPS, &PPS, &slice(&[0x65, 0x88], len, n as u8)])
    } else {
        annex_b(&[&aud, &slice(&[0x41, 0x9A], len, n as u8)])
    }
}

fn muxer(config: MuxConfig) -> Muxer {
    Muxer::new(config.validate().unwrap(), Pcr27M(0))
}

fn drain(m: &mut Muxer) -> Vec<u8> {
    let mut out = Vec::new();
    while m.queued_bytes() > 0 {
        let next = m.next_departure();
        m.fill_until(next, &mut out);
    }
    // Some more slots, so PSI repeats after the last unit.
    let until = Pcr27M(m.next_departure().0 + 27_000_000 / 5);
    m.fill_until(until, &mut out);
    out.into_iter().flat_map(|(_, p)| p).collect()
}

fn events(ts: &[u8], options: EsOptions) -> Vec<EsEvent> {
    let mut d = EsDemuxer::with_options(options);
    let mut all = Vec::new();
    for packet in ts.chunks(PACKET_LEN) {
        d.push(packet);
        all.extend(std::iter::from_fn(|| d.poll()));
    }
    d.finish();
    all.extend(std::iter::from_fn(|| d.poll()));
    all
}

fn videos(events: &[EsEvent]) -> Vec<&VideoUnit> {
    events
        .iter()
        .filter_map(|e| match e {
            EsEvent::Video(v) => Some(v),
            _ => None,
        })
        .collect()
}

fn audios(events: &[EsEvent]) -> Vec<&AudioFrame> {
    events
        .iter()
        .filter_map(|e| match e {
            EsEvent::Audio(a) => Some(a),
            _ => None,
        })
        .collect()
}

fn problems(events: &[EsEvent]) -> Vec<&Problem> {
    events
        .iter()
        .filter_map(|e| match e {
            EsEvent::Problem(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Ten H.264 units with B-frame-like timestamps (PTS = DTS + 2 frames)
/// and, per video unit, one PES of three ADTS frames at 48 kHz.
fn h264_aac_stream() -> (Vec<u8>, Vec<EncodedVideo>, Vec<Vec<u8>>) {
    let mut m = muxer(MuxConfig::new(10_000_000));
    let mut units = Vec::new();
    let mut raws = Vec::new();
    for n in 0..10u64 {
        let dts = 90_000 + n * 3_600;
        let unit = EncodedVideo {
            data: h264_au(n, 500 + 300 * n as usize),
            pts: Clock90k(dts + 7_200),
            dts: Clock90k(dts),
            keyframe: n.is_multiple_of(5),
        };
        m.push_video(&unit);
        units.push(unit);
        let mut pes = Vec::new();
        for k in 0..3u8 {
            let raw = vec![n as u8 * 3 + k; 100 + usize::from(k)];
            pes.extend_from_slice(&adts_frame(3, 2, false, 1, &raw));
            raws.push(raw);
        }
        m.push_audio(&EncodedAudio {
            data: pes,
            pts: Clock90k(dts + 3 * 1_920 * n),
        });
    }
    (drain(&mut m), units, raws)
}

#[test]
fn our_muxer_round_trips_units_frames_and_timestamps() {
    let (ts, units, raws) = h264_aac_stream();
    let events = events(&ts, EsOptions::default());
    let EsEvent::Program(program) = &events[0] else {
        panic!("first event {:?}", events[0]);
    };
    assert_eq!(
        program.video,
        Some(VideoTrack {
            pid: 0x100,
            stream_type: 0x1B,
            codec: VideoCodec::H264
        })
    );
    assert_eq!(
        program.audio.map(|a| (a.pid, a.codec)),
        Some((0x101, AudioCodec::AacAdts))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, EsEvent::Program(_)))
            .count(),
        1
    );
    assert!(problems(&events).is_empty(), "{:?}", problems(&events));

    let got = videos(&events);
    assert_eq!(got.len(), units.len());
    for (unit, sent) in got.iter().zip(&units) {
        assert_eq!(unit.data, sent.data);
        assert_eq!((unit.pts, unit.dts), (sent.pts, sent.dts));
        assert_eq!(unit.key, sent.keyframe);
        assert_eq!(unit.random_access, sent.keyframe);
        assert_eq!(unit.composition_offset(), 7_200);
    }
    let types: Vec<u8> = got[0].nal_types().collect();
    assert_eq!(types, [9, 7, 8, 5]);

    // The parameter sets come once, before the first unit.
    let sets_at = events
        .iter()
        .position(|e| matches!(e, EsEvent::ParameterSets(_)))
        .unwrap();
    let first_video = events
        .iter()
        .position(|e| matches!(e, EsEvent::Video(_)))
        .unwrap();
    assert_eq!(sets_at + 1, first_video);
    let EsEvent::ParameterSets(sets) = &events[sets_at] else {
        unreachable!()
    };
    assert_eq!(sets.sps.as_deref(), Some(&SPS[..]));
    assert_eq!(sets.pps.as_deref(), Some(&PPS[..]));
    assert!(sets.is_complete());
    let count = events
        .iter()
        .filter(|e| matches!(e, EsEvent::ParameterSets(_)))
        .count();
    assert_eq!(count, 1, "repeated identical sets are no change");

    let frames = audios(&events);
    assert_eq!(frames.len(), raws.len());
    for (i, (frame, raw)) in frames.iter().zip(&raws).enumerate() {
        let (n, k) = (i as u64 / 3, i as u64 % 3);
        assert_eq!(&frame.data, raw);
        // PES PTS + k · 1024 · 90 000 / 48 000 = + k · 1 920.
        assert_eq!(
            frame.pts,
            Clock90k(90_000 + n * 3_600 + 3 * 1_920 * n + k * 1_920)
        );
        assert_eq!(frame.config.audio_specific_config(), [0x11, 0x90]);
        assert_eq!(frame.duration_90k(), 1_920);
    }
}

#[test]
fn a_slice_of_many_packets_gives_the_same_events() {
    let (ts, _, _) = h264_aac_stream();
    let mut d = EsDemuxer::new();
    d.push(&ts);
    d.finish();
    let at_once: Vec<EsEvent> = std::iter::from_fn(|| d.poll()).collect();
    assert_eq!(at_once, events(&ts, EsOptions::default()));
    let c = d.counters();
    assert_eq!((c.video_units, c.audio_frames, c.problems), (10, 30, 0));
    assert_eq!(c.packets as usize, ts.len() / PACKET_LEN);
    assert!(d.parameter_sets().is_some_and(|s| s.is_complete()));
}

#[test]
fn ending_at_stuffing_delivers_a_unit_before_the_next_begins() {
    let (ts, units, _) = h264_aac_stream();
    // Without the option a unit waits for the next PES start on its PID;
    // with it, for the packet that stuffs its tail (every unit here ends
    // mid-packet except by chance: check that they all did).
    for end_video_at_stuffing in [false, true] {
        let options = EsOptions {
            end_video_at_stuffing,
        };
        let mut d = EsDemuxer::with_options(options);
        let mut early = 0;
        for packet in ts.chunks(PACKET_LEN) {
            // A packet on PID 0x100 with payload_unit_start.
            let starts_video = packet[1] == 0x41 && packet[2] == 0x00;
            d.push(packet);
            let now: Vec<EsEvent> = std::iter::from_fn(|| d.poll()).collect();
            if !videos(&now).is_empty() && !starts_video {
                early += 1;
            }
        }
        d.finish();
        let expected = if end_video_at_stuffing {
            units.len()
        } else {
            0
        };
        assert_eq!(
            early, expected,
            "end_video_at_stuffing {end_video_at_stuffing}"
        );
    }
}

#[test]
fn hevc_keys_are_irap_pictures_whatever_the_flag_says() {
    let config = MuxConfig {
        video: Some((0x100, MuxVideo::Hevc)),
        audio: None,
        ..MuxConfig::new(10_000_000)
    };
    let mut m = muxer(config);
    let aud = [0x46, 0x01, 0x50];
    let pictures: [(&[u8], bool); 4] = [
        (&[0x26, 0x01], true),  // IDR_W_RADL
        (&[0x02, 0x01], false), // TRAIL_R
        (&[0x2A, 0x01], true),  // CRA
        (&[0x20, 0x01], true),  // BLA_W_LP (16)
    ];
    for (n, (header, _)) in pictures.iter().enumerate() {
        let picture = slice(header, 300, n as u8);
        let nals: Vec<&[u8]> = if n == 0 {
            vec![&aud, &HEVC_VPS, &HEVC_SPS, &HEVC_PPS, &picture]
        } else {
            vec![&aud, &picture]
        };
        m.push_video(&EncodedVideo {
            data: annex_b(&nals),
            pts: Clock90k(n as u64 * 3_000),
            dts: Clock90k(n as u64 * 3_000),
            keyframe: false, // the flag is not what decides
        });
    }
    let events = events(&drain(&mut m), EsOptions::default());
    let keys: Vec<bool> = videos(&events).iter().map(|v| v.key).collect();
    assert_eq!(keys, pictures.map(|p| p.1));
    assert!(videos(&events)
        .iter()
        .all(|v| !v.random_access && v.codec == VideoCodec::Hevc));
    let sets = events
        .iter()
        .find_map(|e| match e {
            EsEvent::ParameterSets(s) => Some(s),
            _ => None,
        })
        .unwrap();
    assert_eq!(sets.vps.as_deref(), Some(&HEVC_VPS[..]));
    assert!(sets.is_complete());
}

#[test]
fn h264_key_frames_are_idr_slices_whatever_the_flag_says() {
    let mut m = muxer(MuxConfig {
        audio: None,
        ..MuxConfig::new(10_000_000)
    });
    for (n, flag) in [(0u64, false), (1, true)] {
        m.push_video(&EncodedVideo {
            data: h264_au(n, 200),
            pts: Clock90k(n * 3_600),
            dts: Clock90k(n * 3_600),
            keyframe: flag,
        });
    }
    // Intra refresh: a recovery point SEI on a non-IDR picture.
    let recovery_sei = [0x06, 0x06, 0x02, 0x80, 0x08, 0x80];
    m.push_video(&EncodedVideo {
        data: annex_b(&[&recovery_sei, &slice(&[0x41, 0x9A], 200, 2)]),
        pts: Clock90k(7_200),
        dts: Clock90k(7_200),
        keyframe: true,
    });
    let events = events(&drain(&mut m), EsOptions::default());
    let got: Vec<(bool, bool, bool)> = videos(&events)
        .iter()
        .map(|v| (v.key, v.random_access, v.has_recovery_point()))
        .collect();
    assert_eq!(
        got,
        [
            (true, false, false),
            (false, true, false),
            (false, true, true)
        ]
    );
}

#[test]
fn a_pmt_change_is_followed_and_reported() {
    let mut ts = h264_aac_stream().0;
    let config = MuxConfig {
        video: Some((0x100, MuxVideo::Hevc)),
        audio: Some((0x101, MuxAudio::Mp2)),
        restart: true,
        ..MuxConfig::new(10_000_000)
    };
    let mut m = muxer(config);
    m.push_video(&EncodedVideo {
        data: annex_b(&[
            &HEVC_VPS,
            &HEVC_SPS,
            &HEVC_PPS,
            &slice(&[0x26, 0x01], 100, 1),
        ]),
        pts: Clock90k(1_000_000),
        dts: Clock90k(1_000_000),
        keyframe: true,
    });
    m.push_audio(&EncodedAudio {
        data: vec![0xFF, 0xFD, 0x90, 0x00, 1, 2, 3],
        pts: Clock90k(1_000_000),
    });
    ts.extend(drain(&mut m));
    let events = events(&ts, EsOptions::default());
    let programs: Vec<&Program> = events
        .iter()
        .filter_map(|e| match e {
            EsEvent::Program(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(programs.len(), 2);
    let second = programs[1];
    assert_eq!(second.video.map(|v| v.codec), Some(VideoCodec::Hevc));
    let audio = second.audio.unwrap();
    assert_eq!(
        (audio.codec, audio.stream_type),
        (AudioCodec::MpegAudio, 0x03)
    );
    assert!(!audio.codec.is_supported());
    // Every H.264 unit came, the last one ended by the change.
    let change = events
        .iter()
        .position(|e| e == &EsEvent::Program(second.clone()))
        .unwrap();
    assert_eq!(videos(&events[..change]).len(), 10);
    // After the change: the HEVC unit with its own sets, no MPEG audio frames.
    let after = &events[change..];
    assert_eq!(videos(after).len(), 1);
    assert!(videos(after)[0].key);
    assert!(audios(after).is_empty());
    assert!(after
        .iter()
        .any(|e| matches!(e, EsEvent::ParameterSets(s) if s.codec == VideoCodec::Hevc)));
    // The restart marks discontinuity, so no continuity error either.
    assert!(problems(&events).is_empty(), "{:?}", problems(&events));
}

#[test]
fn garbage_and_crc_protected_adts_in_one_pes() {
    let mut m = muxer(MuxConfig {
        video: None,
        ..MuxConfig::new(2_000_000)
    });
    let pes = [
        vec![0x00, 0x11, 0xFF],
        adts_frame(4, 1, true, 1, &[1; 50]),
        adts_frame(4, 1, false, 1, &[2; 60]),
    ]
    .concat();
    m.push_audio(&EncodedAudio {
        data: pes,
        pts: Clock90k(44_100),
    });
    let events = events(&drain(&mut m), EsOptions::default());
    let frames = audios(&events);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data, [1; 50]);
    assert_eq!(frames[1].data, [2; 60]);
    // 1024 samples at 44.1 kHz: 2089.8 ticks, to the nearest.
    assert_eq!(frames[1].pts, Clock90k(44_100 + 2_090));
    assert_eq!(frames[0].config.sample_rate, 44_100);
    assert_eq!(
        problems(&events),
        [&Problem::AdtsSkipped {
            pid: 0x101,
            bytes: 3
        }]
    );
}

#[test]
fn problems_say_which_pid_and_what() {
    let text = Problem::UnknownStream {
        pid: 0x102,
        stream_type: 0x81,
    }
    .to_string();
    assert!(
        text.contains("PID 0x0102") && text.contains("0x81"),
        "{text}"
    );
    let text = Problem::Continuity {
        pid: 0x100,
        expected: 3,
        found: 5,
        total: 2,
    }
    .to_string();
    assert!(
        text.contains("expected counter 3, found 5") && text.contains("2 times"),
        "{text}"
    );
}

/// Streams from another muxer: ffmpeg 5.1 (libx264 or libx265, its AAC
/// encoder, its mpegts muxer with several ADTS frames per PES), 1 s of
/// testsrc2 at 160x120, 10 fps, key frames every 5, and a sine, made with
///
///     ffmpeg -f lavfi -i testsrc2=size=160x120:rate=10 \
///       -f lavfi -i sine=frequency=440:sample_rate=48000 -t 1 -ac 2 \
///       -c:v libx264 -crf 45 -g 5 -bf 2 -c:a aac -b:a 32k -f mpegts h264-aac.ts
///
/// (for HEVC: 44.1 kHz mono, `-c:v libx265 -crf 45 -x265-params
/// keyint=5`). The .csv beside each is what ffprobe read from it:
/// `ffprobe -show_entries packet=stream_index,pts,dts,flags -of csv=p=0`,
/// the first four columns; stream 0 is the video, 1 the audio, `K` a key.
fn matches_ffprobe(ts: &[u8], csv: &str, codec: VideoCodec, config: [u8; 2]) {
    let events = events(ts, EsOptions::default());
    assert!(problems(&events).is_empty(), "{:?}", problems(&events));
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let want_video: Vec<String> = rows
        .iter()
        .filter(|r| r[0] == "0")
        .map(|r| format!("{},{},{}", r[1], r[2], r[3].starts_with('K')))
        .collect();
    let got_video: Vec<String> = videos(&events)
        .iter()
        .map(|v| format!("{},{},{}", v.pts.0, v.dts.0, v.key))
        .collect();
    assert_eq!(got_video, want_video);
    assert!(videos(&events).iter().all(|v| v.codec == codec));
    // ffprobe counts audio time in samples from the stream's start, we
    // from each PES's PTS: they may round a frame's tick differently.
    let want_audio: Vec<u64> = rows
        .iter()
        .filter(|r| r[0] == "1")
        .map(|r| r[1].parse().unwrap())
        .collect();
    let got_audio: Vec<u64> = audios(&events).iter().map(|a| a.pts.0).collect();
    assert_eq!(got_audio.len(), want_audio.len());
    for (got, want) in got_audio.iter().zip(&want_audio) {
        assert!(got.abs_diff(*want) <= 1, "audio PTS {got}, ffprobe {want}");
    }
    let configs: Vec<[u8; 2]> = audios(&events)
        .iter()
        .map(|a| a.config.audio_specific_config())
        .collect();
    assert!(configs.iter().all(|&c| c == config), "{configs:02x?}");
}

#[test]
fn ffmpeg_h264_aac_reads_as_ffprobe_reads_it() {
    let ts = include_bytes!("testdata/h264-aac.ts");
    let csv = include_str!("testdata/h264-aac.csv");
    // AAC-LC, 48 kHz, stereo.
    matches_ffprobe(ts, csv, VideoCodec::H264, [0x11, 0x90]);
}

#[test]
fn ffmpeg_hevc_aac_reads_as_ffprobe_reads_it() {
    let ts = include_bytes!("testdata/hevc-aac.ts");
    let csv = include_str!("testdata/hevc-aac.csv");
    // AAC-LC, 44.1 kHz, mono.
    matches_ffprobe(ts, csv, VideoCodec::Hevc, [0x12, 0x08]);
}
