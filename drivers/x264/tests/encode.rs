//! The encoder against the real libx264: no mocks.

use std::collections::BTreeSet;
use std::process::Command;

use makara_encode::{
    EncodeError, Hardware, Mpeg2Profile, Preset, RateControl, RawPicture, VideoEncoder,
    VideoSettings,
};
use makara_media::{Clock90k, EncodedVideo, PixelFormat, VideoCodec, VideoFormat};
use makara_x264::X264Encoder;

const AUD: u8 = 9;
const SPS: u8 = 7;
const PPS: u8 = 8;
const IDR: u8 = 5;
const NON_IDR: u8 = 1;
const FILLER: u8 = 12;

fn settings(pixel_format: PixelFormat) -> VideoSettings {
    VideoSettings {
        codec: VideoCodec::H264,
        hardware: Hardware::Software,
        mpeg2_profile: Mpeg2Profile::Main,
        input: VideoFormat::new(640, 360, pixel_format, 30, 1).unwrap(),
        rate_control: RateControl::Cbr,
        bitrate_kbps: 1000,
        max_bitrate_kbps: 1000,
        vbv_buffer_ms: 500,
        gop_frames: 30,
        b_frames: 0,
        intra_refresh: false,
        preset: Preset::Veryfast,
        zero_latency: true,
    }
}

/// 90 kHz ticks of frame `n` at the format's rate.
fn pts(format: &VideoFormat, n: u64) -> Clock90k {
    Clock90k(n * 90_000 * u64::from(format.fps_den) / u64::from(format.fps_num))
}

/// A diagonal gradient moving right and down, plus (when `noise`) grain
/// from a small LCG so that the rate control has real work.
fn picture(format: &VideoFormat, n: u32, noise: bool) -> Vec<u8> {
    let (w, h) = (format.width as usize, format.height as usize);
    let mut seed = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut grain = move || {
        if !noise {
            return 0u8;
        }
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((seed >> 16) & 0x1f) as u8
    };
    let shift = n as usize * 4;
    let mut luma = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            luma[y * w + x] = ((x + y + shift) & 0xff) as u8 ^ grain();
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    let mut u = vec![0u8; cw * ch];
    let mut v = vec![0u8; cw * ch];
    for y in 0..ch {
        for x in 0..cw {
            u[y * cw + x] = ((x * 2 + shift) & 0xff) as u8;
            v[y * cw + x] = ((y * 2 + shift) & 0xff) as u8;
        }
    }
    let mut frame = luma;
    match format.pixel_format {
        PixelFormat::I420 => {
            frame.extend_from_slice(&u);
            frame.extend_from_slice(&v);
        }
        PixelFormat::Nv12 => {
            for (a, b) in u.iter().zip(&v) {
                frame.push(*a);
                frame.push(*b);
            }
        }
        other => panic!("no test pictures in {other:?}"),
    }
    assert_eq!(frame.len(), format.frame_len());
    // Exactly frame_len bytes allocated, so that a read past the frame
    // would be a read past the allocation (which valgrind reports).
    frame.into_boxed_slice().into_vec()
}

/// NAL units of an Annex B byte stream: (nal_unit_type, bytes after the
/// start code). Panics if the stream does not start with a start code.
fn nal_units(stream: &[u8]) -> Vec<(u8, &[u8])> {
    let mut starts = Vec::new(); // (start code position, payload position)
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            let code = if i > 0 && stream[i - 1] == 0 {
                i - 1
            } else {
                i
            };
            starts.push((code, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    assert_eq!(
        starts.first().map(|s| s.0),
        Some(0),
        "the stream starts with a start code"
    );
    starts
        .iter()
        .enumerate()
        .map(|(k, &(_, payload))| {
            let end = starts.get(k + 1).map_or(stream.len(), |s| s.0);
            let nal = &stream[payload..end];
            (nal[0] & 0x1f, nal)
        })
        .collect()
}

fn types(au: &EncodedVideo) -> Vec<u8> {
    nal_units(&au.data).into_iter().map(|(t, _)| t).collect()
}

/// Sends `count` pictures, then flushes; returns every access unit.
fn encode(enc: &mut X264Encoder, count: u32, noise: bool, force: &[u32]) -> Vec<EncodedVideo> {
    encode_from(enc, Clock90k(0), count, noise, force)
}

/// As [`encode`], with picture `n` at `start` + n frames.
fn encode_from(
    enc: &mut X264Encoder,
    start: Clock90k,
    count: u32,
    noise: bool,
    force: &[u32],
) -> Vec<EncodedVideo> {
    let format = enc.settings().input;
    let mut out = Vec::new();
    for n in 0..count {
        let data = picture(&format, n, noise);
        enc.send_picture(Some(RawPicture {
            format,
            data: &data,
            pts: Clock90k(start.0 + pts(&format, u64::from(n)).0),
            force_keyframe: force.contains(&n),
        }))
        .unwrap();
        while let Some(au) = enc.receive().unwrap() {
            out.push(au);
        }
    }
    enc.send_picture(None).unwrap();
    while let Some(au) = enc.receive().unwrap() {
        out.push(au);
    }
    out
}

/// Frame numbers of the keyframes, by pts.
fn keyframes(format: &VideoFormat, aus: &[EncodedVideo]) -> BTreeSet<u64> {
    let tick = pts(format, 1).0;
    aus.iter()
        .filter(|au| au.keyframe)
        .map(|au| au.pts.0 / tick)
        .collect()
}

/// Writes the access units to a temporary .264 file and returns what
/// `ffprobe -show_streams -count_frames` says about it, after checking that
/// it read an H.264 stream of that many pictures without complaint.
fn ffprobe(aus: &[EncodedVideo], name: &str) -> String {
    let dir = makara_test_support::TestDir::new("x264");
    let stream: Vec<u8> = aus.iter().flat_map(|au| au.data.iter().copied()).collect();
    let path = dir.write(format!("{name}.264"), &stream);
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-count_frames"])
        .arg(&path)
        .output()
        .expect("ffprobe is installed");
    let stdout = String::from_utf8_lossy(&probe.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(probe.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "ffprobe complains: {stderr}");
    let frames = format!("nb_read_frames={}", aus.len());
    for line in ["codec_name=h264", frames.as_str()] {
        assert!(stdout.lines().any(|l| l == line), "no {line} in:\n{stdout}");
    }
    stdout
}

#[test]
fn fixed_gop_annex_b_with_headers_and_auds_that_ffprobe_reads() {
    let s = settings(PixelFormat::I420);
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 60, false, &[]);
    assert_eq!(aus.len(), 60);
    assert_eq!(keyframes(&s.input, &aus), BTreeSet::from([0, 30]));
    for (n, au) in aus.iter().enumerate() {
        let t = types(au);
        assert_eq!(t[0], AUD, "frame {n} starts with an AUD: {t:?}");
        assert_eq!(t.iter().filter(|&&x| x == AUD).count(), 1, "{t:?}");
        let has_idr = t.contains(&IDR);
        assert_eq!(has_idr, au.keyframe, "frame {n}: {t:?}");
        if au.keyframe {
            let sps = t.iter().position(|&x| x == SPS).expect("SPS");
            let pps = t.iter().position(|&x| x == PPS).expect("PPS");
            let idr = t.iter().position(|&x| x == IDR).unwrap();
            assert!(sps < pps && pps < idr, "frame {n}: {t:?}");
        } else {
            assert!(!t.contains(&SPS) && !t.contains(&PPS), "frame {n}: {t:?}");
            assert!(t.contains(&NON_IDR), "frame {n}: {t:?}");
        }
        // No B-frames, no delay: decode order is presentation order.
        assert_eq!(au.pts, pts(&s.input, n as u64));
        assert_eq!(au.dts, au.pts);
    }
    assert_eq!(enc.reorder_delay(), Some(Clock90k(0)));

    let probe = ffprobe(&aus, "gop");
    for line in ["profile=High", "width=640", "height=360", "pix_fmt=yuv420p"] {
        assert!(probe.lines().any(|l| l == line), "no {line} in:\n{probe}");
    }
}

#[test]
fn force_keyframe_makes_an_idr_there() {
    let s = VideoSettings {
        gop_frames: 300,
        ..settings(PixelFormat::I420)
    };
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 40, false, &[10, 25]);
    assert_eq!(aus.len(), 40);
    assert_eq!(keyframes(&s.input, &aus), BTreeSet::from([0, 10, 25]));
    for au in aus.iter().filter(|au| au.keyframe) {
        assert!(types(au).contains(&IDR));
    }
}

/// Encodes 10 s (300 pictures at 30 fps) at 1000 kbit/s CBR; returns the
/// kbit/s and how many access units carry filler.
fn cbr_10s(noise: bool) -> (f64, usize) {
    let s = settings(PixelFormat::I420);
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 300, noise, &[]);
    assert_eq!(aus.len(), 300);
    let bits: usize = aus.iter().map(|au| au.data.len() * 8).sum();
    let filler = aus.iter().filter(|au| types(au).contains(&FILLER)).count();
    (bits as f64 / 10.0 / 1000.0, filler)
}

#[test]
fn cbr_lands_on_the_target_bitrate_with_hard_pictures() {
    let (kbps, _) = cbr_10s(true);
    assert!(
        (900.0..=1100.0).contains(&kbps),
        "{kbps:.1} kbit/s for a 1000 kbit/s CBR"
    );
}

#[test]
fn cbr_fills_up_to_the_target_bitrate_with_easy_pictures() {
    let (kbps, filler) = cbr_10s(false);
    assert!(
        (900.0..=1100.0).contains(&kbps),
        "{kbps:.1} kbit/s for a 1000 kbit/s CBR"
    );
    assert!(filler > 0, "no filler NAL in an easy CBR stream");
}

#[test]
fn zero_latency_gives_each_picture_back_at_once() {
    let s = settings(PixelFormat::I420);
    let mut enc = X264Encoder::open(&s).unwrap();
    for n in 0..20u32 {
        let data = picture(&s.input, n, true);
        enc.send_picture(Some(RawPicture {
            format: s.input,
            data: &data,
            pts: pts(&s.input, u64::from(n)),
            force_keyframe: false,
        }))
        .unwrap();
        let au = enc.receive().unwrap().expect("output right after input");
        assert_eq!(au.pts, pts(&s.input, u64::from(n)));
        assert_eq!(au.dts, au.pts);
        assert!(enc.receive().unwrap().is_none());
        assert_eq!(enc.delayed_frames(), 0);
    }
}

fn b_frame_settings(b_frames: u32) -> VideoSettings {
    VideoSettings {
        b_frames,
        zero_latency: false,
        rate_control: RateControl::Vbr,
        max_bitrate_kbps: 1500,
        ..settings(PixelFormat::I420)
    }
}

/// B-frames move decoding ahead, never presentation: every picture keeps
/// the PTS it was sent with (so it stays in step with the audio captured
/// with it), and the DTS run the reorder delay ahead.
#[test]
fn b_frames_decode_ahead_of_presentation() {
    // One B-frame reorders by one frame; two or more form a pyramid (two).
    for (b_frames, reorder_frames) in [(1, 1), (2, 2), (3, 2)] {
        let s = b_frame_settings(b_frames);
        let mut enc = X264Encoder::open(&s).unwrap();
        let start = Clock90k(90_000);
        let aus = encode_from(&mut enc, start, 60, true, &[]);
        assert_eq!(aus.len(), 60);
        let delay = enc.reorder_delay().unwrap();
        assert_eq!(
            delay,
            Clock90k(reorder_frames * pts(&s.input, 1).0),
            "{b_frames} B"
        );
        assert!(aus.iter().all(|au| au.dts <= au.pts), "DTS never after PTS");
        assert!(aus.iter().any(|au| au.dts < au.pts), "some DTS before PTS");
        assert!(
            aus.windows(2).all(|w| w[0].dts < w[1].dts),
            "DTS grow strictly"
        );
        assert_eq!(aus[0].pts, start, "the first picture keeps its PTS");
        assert_eq!(
            aus[0].dts.0,
            start.0 - delay.0,
            "the first DTS is the reorder delay ahead"
        );
        // Every input picture comes out once, at the PTS it went in with.
        let got: BTreeSet<u64> = aus.iter().map(|au| au.pts.0).collect();
        let want: BTreeSet<u64> = (0..60).map(|n| start.0 + pts(&s.input, n).0).collect();
        assert_eq!(got, want);
        // Some pictures come out of order: B-frames are really there.
        assert!(aus.windows(2).any(|w| w[1].pts < w[0].pts));
        assert_eq!(keyframes(&s.input, &aus).len(), 2);
        let probe = ffprobe(&aus, &format!("bframes{b_frames}"));
        let reorder = format!("has_b_frames={reorder_frames}");
        assert!(probe.lines().any(|l| l == reorder), "{probe}");
    }
}

#[test]
fn a_pts_too_early_for_the_reorder_delay_is_an_error() {
    let s = b_frame_settings(2);
    let mut enc = X264Encoder::open(&s).unwrap();
    let mut error = None;
    // Pictures from pts 0, then the flush: the first access unit's DTS
    // would be negative, wherever in this libx264 hands it out.
    for n in 0..=30 {
        let data = picture(&s.input, n, true);
        let sent = enc.send_picture((n < 30).then(|| RawPicture {
            format: s.input,
            data: &data,
            pts: pts(&s.input, u64::from(n)),
            force_keyframe: false,
        }));
        if let Err(e) = sent {
            error = Some(e);
            break;
        }
    }
    let Some(EncodeError::Encode(why)) = error else {
        panic!("a first pts of 0 with B-frames was taken: {error:?}")
    };
    assert!(why.contains("reorder delay"), "{why}");
}

#[test]
fn intra_refresh_marks_recovery_points_without_idrs() {
    let s = VideoSettings {
        intra_refresh: true,
        ..settings(PixelFormat::I420)
    };
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 70, true, &[]);
    assert_eq!(keyframes(&s.input, &aus), BTreeSet::from([0, 30, 60]));
    for (n, au) in aus.iter().enumerate() {
        let t = types(au);
        assert_eq!(t.contains(&IDR), n == 0, "frame {n}: {t:?}");
        // Receivers joining at a recovery point get SPS and PPS there.
        assert_eq!(t.contains(&SPS), au.keyframe, "frame {n}: {t:?}");
    }
    ffprobe(&aus, "intra-refresh");
}

#[test]
fn nv12_input_is_read_directly() {
    let s = settings(PixelFormat::Nv12);
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 30, false, &[]);
    assert_eq!(aus.len(), 30);
    assert!(aus[0].keyframe);
    assert_eq!(keyframes(&s.input, &aus), BTreeSet::from([0]));

    // The same pictures as I420 give the same stream: the layouts are read
    // as the same samples.
    let mut i420 = X264Encoder::open(&settings(PixelFormat::I420)).unwrap();
    let aus_i420 = encode(&mut i420, 30, false, &[]);
    let sizes = |a: &[EncodedVideo]| a.iter().map(|au| au.data.len()).collect::<Vec<_>>();
    assert_eq!(sizes(&aus), sizes(&aus_i420));
}

#[test]
fn headers_are_sps_then_pps() {
    let mut enc = X264Encoder::open(&settings(PixelFormat::I420)).unwrap();
    let headers = enc.headers().unwrap();
    let t: Vec<u8> = nal_units(&headers).iter().map(|(t, _)| *t).collect();
    assert_eq!(t, [SPS, PPS]);
    // The same SPS and PPS open the first IDR.
    let aus = encode(&mut enc, 1, false, &[]);
    let idr = nal_units(&aus[0].data);
    let in_stream: Vec<&[u8]> = idr
        .iter()
        .filter(|(t, _)| *t == SPS || *t == PPS)
        .map(|(_, b)| *b)
        .collect();
    let in_headers: Vec<&[u8]> = nal_units(&headers).iter().map(|(_, b)| *b).collect();
    assert_eq!(in_stream, in_headers);
}

#[test]
fn a_short_or_mismatched_frame_is_refused_before_libx264_sees_it() {
    let s = settings(PixelFormat::I420);
    let mut enc = X264Encoder::open(&s).unwrap();
    let data = picture(&s.input, 0, false);
    let short = &data[..data.len() - 1];
    let err = enc
        .send_picture(Some(RawPicture {
            format: s.input,
            data: short,
            pts: Clock90k(0),
            force_keyframe: false,
        }))
        .unwrap_err();
    assert!(
        matches!(err, EncodeError::ShortFrame { expected, got } if expected == 345_600 && got == 345_599),
        "{err:?}"
    );
    let other = VideoFormat::new(320, 180, PixelFormat::I420, 30, 1).unwrap();
    let err = enc
        .send_picture(Some(RawPicture {
            format: other,
            data: &data,
            pts: Clock90k(0),
            force_keyframe: false,
        }))
        .unwrap_err();
    assert!(matches!(err, EncodeError::Format { .. }), "{err:?}");
    // A longer buffer (a pooled slot) is fine: only the frame is read.
    let mut long = data.clone();
    long.extend_from_slice(&[0; 4096]);
    enc.send_picture(Some(RawPicture {
        format: s.input,
        data: &long,
        pts: Clock90k(0),
        force_keyframe: false,
    }))
    .unwrap();
    assert!(enc.receive().unwrap().is_some());
}

#[test]
fn packed_422_and_impossible_settings_fail_at_open() {
    let err = X264Encoder::open(&settings(PixelFormat::Yuyv)).unwrap_err();
    assert!(
        matches!(&err, EncodeError::Open(why) if why.contains("4:2:2")),
        "{err}"
    );
    let err = X264Encoder::open(&VideoSettings {
        bitrate_kbps: 0,
        ..settings(PixelFormat::I420)
    })
    .unwrap_err();
    assert!(matches!(err, EncodeError::Open(_)), "{err}");
}

#[test]
fn nothing_goes_in_after_the_flush() {
    let s = settings(PixelFormat::I420);
    let mut enc = X264Encoder::open(&s).unwrap();
    let aus = encode(&mut enc, 3, false, &[]);
    assert_eq!(aus.len(), 3);
    enc.send_picture(None).unwrap(); // a second flush is a no-op
    let data = picture(&s.input, 3, false);
    let err = enc
        .send_picture(Some(RawPicture {
            format: s.input,
            data: &data,
            pts: pts(&s.input, 3),
            force_keyframe: false,
        }))
        .unwrap_err();
    assert!(matches!(err, EncodeError::Encode(_)), "{err}");
}

#[test]
fn dropping_mid_stream_releases_held_pictures() {
    let s = VideoSettings {
        b_frames: 3,
        zero_latency: false,
        preset: Preset::Ultrafast,
        ..settings(PixelFormat::I420)
    };
    for _ in 0..3 {
        let mut enc = X264Encoder::open(&s).unwrap();
        for n in 0..12u32 {
            let data = picture(&s.input, n, true);
            enc.send_picture(Some(RawPicture {
                format: s.input,
                data: &data,
                // Room for the reorder delay before the first picture.
                pts: pts(&s.input, u64::from(n) + 2),
                force_keyframe: false,
            }))
            .unwrap();
            // `data` is dropped here, while libx264 still holds the picture:
            // it must have copied it.
        }
        assert!(enc.delayed_frames() > 0, "libx264 holds pictures");
        drop(enc);
    }
}

#[test]
fn the_encoder_moves_between_threads() {
    let s = settings(PixelFormat::I420);
    let enc = X264Encoder::open(&s).unwrap();
    let mut enc = std::thread::spawn(move || enc).join().unwrap();
    let aus = encode(&mut enc, 2, false, &[]);
    assert_eq!(aus.len(), 2);
}

/// The VUI tells a decoder how to show the pictures: square pixels,
/// limited range, and the colour standard of the picture's size, as
/// FFmpeg reads them back.
#[test]
fn vui_carries_square_pixels_and_the_colour_standard_of_the_size() {
    for (width, height, standard) in [
        (1280, 720, "bt709"),
        (1920, 1080, "bt709"),
        (720, 576, "smpte170m"),
        (640, 360, "smpte170m"),
    ] {
        let s = VideoSettings {
            input: VideoFormat::new(width, height, PixelFormat::I420, 30, 1).unwrap(),
            gop_frames: 2,
            preset: Preset::Ultrafast,
            ..settings(PixelFormat::I420)
        };
        let mut enc = X264Encoder::open(&s).unwrap();
        let aus = encode(&mut enc, 2, false, &[]);
        let probe = ffprobe(&aus, &format!("vui{height}"));
        for line in [
            "sample_aspect_ratio=1:1".to_owned(),
            "color_range=tv".to_owned(),
            format!("color_primaries={standard}"),
            format!("color_transfer={standard}"),
            format!("color_space={standard}"),
        ] {
            assert!(
                probe.lines().any(|l| l == line),
                "{width}x{height}: no {line} in:\n{probe}"
            );
        }
    }
}
