use std::time::{Duration, Instant};

use makara_media::PixelFormat;

use super::*;
use crate::draw::{TextBox, Yuv, BARS_75, BOX_PAD, CHAR_ADVANCE, LINE_TOPS, TEXT_BACKGROUND};
use crate::font::{COLON, DIGITS, GLYPH_H, GLYPH_W};
use crate::{LiveCapture, StartError};

const FORMATS: [PixelFormat; 4] = [
    PixelFormat::I420,
    PixelFormat::Nv12,
    PixelFormat::Yuyv,
    PixelFormat::Uyvy,
];

fn settings(width: u32, height: u32, pixel_format: PixelFormat) -> TestPatternSettings {
    TestPatternSettings {
        width,
        height,
        pixel_format,
        pacing: Pacing::AsFastAsPossible,
        ..TestPatternSettings::DEFAULT
    }
}

fn pattern(width: u32, height: u32, pixel_format: PixelFormat) -> TestPattern {
    TestPattern::start(settings(width, height, pixel_format), MonotonicNs(0)).unwrap()
}

fn render(p: &mut TestPattern, index: u64) -> Vec<u8> {
    let mut out = vec![0xAA; p.format().frame_len()];
    p.render_frame(index, &mut out).unwrap();
    out
}

/// The next frame, out of the pattern's own pool.
fn next(p: &mut TestPattern) -> makara_framering::Frame {
    LiveCapture::next_frame(p, Duration::from_secs(1))
        .unwrap()
        .expect("a frame within a second")
}

/// Luma of pixel (x, y), addressed from first principles rather than
/// through `VideoFormat::planes`.
fn luma(f: &VideoFormat, buf: &[u8], x: usize, y: usize) -> u8 {
    let w = f.width as usize;
    match f.pixel_format {
        PixelFormat::I420 | PixelFormat::Nv12 => buf[y * w + x],
        PixelFormat::Yuyv => buf[y * 2 * w + 2 * x],
        PixelFormat::Uyvy => buf[y * 2 * w + 2 * x + 1],
    }
}

/// (Cb, Cr) of pixel (x, y).
fn chroma(f: &VideoFormat, buf: &[u8], x: usize, y: usize) -> (u8, u8) {
    let (w, h) = (f.width as usize, f.height as usize);
    let (cx, cy) = (x / 2, y / 2);
    match f.pixel_format {
        PixelFormat::I420 => {
            let u = w * h + cy * (w / 2) + cx;
            (buf[u], buf[u + w * h / 4])
        }
        PixelFormat::Nv12 => {
            let u = w * h + cy * w + 2 * cx;
            (buf[u], buf[u + 1])
        }
        PixelFormat::Yuyv => {
            let m = y * 2 * w + 4 * cx;
            (buf[m + 1], buf[m + 3])
        }
        PixelFormat::Uyvy => {
            let m = y * 2 * w + 4 * cx;
            (buf[m], buf[m + 2])
        }
    }
}

fn pixel(f: &VideoFormat, buf: &[u8], x: usize, y: usize) -> Yuv {
    let (u, v) = chroma(f, buf, x, y);
    Yuv {
        y: luma(f, buf, x, y),
        u,
        v,
    }
}

/// Reads text line `line` back from the luma plane: samples the middle of
/// every font pixel, thresholds it, and matches the 5×7 bitmap against the
/// font. Unknown shapes read as `?`.
fn read_line(f: &VideoFormat, buf: &[u8], line: usize) -> String {
    let t = TextBox::new(f.width as usize, f.height as usize).expect("a text box");
    let chars = [11, 10][line];
    (0..chars)
        .map(|c| {
            let mut g = [0u8; GLYPH_H];
            for (row, bits) in g.iter_mut().enumerate() {
                for col in 0..GLYPH_W {
                    let x = t.x + (BOX_PAD + c * CHAR_ADVANCE + col) * t.scale + t.scale / 2;
                    let y = t.y + (LINE_TOPS[line] + row) * t.scale + t.scale / 2;
                    if luma(f, buf, x, y) > 128 {
                        *bits |= 1 << (GLYPH_W - 1 - col);
                    }
                }
            }
            match DIGITS.iter().position(|d| *d == g) {
                Some(d) => char::from(b'0' + d as u8),
                None if g == COLON => ':',
                None => '?',
            }
        })
        .collect()
}

#[test]
fn defaults_are_720p30_i420() {
    let p = TestPattern::start(TestPatternSettings::DEFAULT, MonotonicNs(0)).unwrap();
    let f = p.format();
    assert_eq!(
        (f.width, f.height, f.fps_num, f.fps_den),
        (1280, 720, 30, 1)
    );
    assert_eq!(f.pixel_format, PixelFormat::I420);
}

#[test]
fn frame_buffers_have_the_layout_size() {
    for (w, h) in [(1280, 720), (1920, 1080), (18, 22), (3840, 2160)] {
        let px = w as usize * h as usize;
        for (format, len) in FORMATS
            .into_iter()
            .zip([px * 3 / 2, px * 3 / 2, px * 2, px * 2])
        {
            let mut p = pattern(w, h, format);
            assert_eq!(p.format().frame_len(), len, "{w}x{h} {format:?}");
            let mut out = vec![0; len];
            p.render_frame(0, &mut out).unwrap();
            for wrong in [0, len - 1, len + 1] {
                let mut out = vec![0; wrong];
                let err = || CaptureError::FrameBuffer {
                    expected: len,
                    got: wrong,
                    width: w,
                    height: h,
                };
                assert_eq!(p.render_frame(0, &mut out), Err(err()));
                assert_eq!(p.poll_frame(MonotonicNs(0), &mut out), Err(err()));
            }
        }
    }
    assert_eq!(
        CaptureError::FrameBuffer {
            expected: 1_382_400,
            got: 5,
            width: 1280,
            height: 720
        }
        .to_string(),
        "the frame buffer holds 5 bytes; a 1280x720 frame needs exactly 1382400"
    );
}

#[test]
fn bars_have_the_documented_values_in_every_format() {
    for (w, h) in [(1280, 720), (1920, 1080), (720, 576), (3840, 2160)] {
        for format in FORMATS {
            let mut p = pattern(w, h, format);
            let f = p.format();
            let frame = render(&mut p, 0);
            let (w, h) = (w as usize, h as usize);
            for (b, colour) in BARS_75.iter().enumerate() {
                let x = ((2 * b + 1) * w / 14) & !1;
                for (x, y) in [(x, 0), (x + 1, 1), (x, h / 5), (x + 1, h - 1)] {
                    assert_eq!(pixel(&f, &frame, x, y), *colour, "{f:?} bar {b} at {x},{y}");
                }
            }
        }
    }
}

#[test]
fn bars_slide_right_by_four_pixels_a_frame() {
    for format in FORMATS {
        let mut p = pattern(640, 360, format);
        let f = p.format();
        let first = render(&mut p, 0);
        for k in [1usize, 2, 3, 100, 159, 160, 161] {
            let frame = render(&mut p, k as u64);
            for x in 0..640 {
                let from = (x + 640 - k * 4 % 640) % 640;
                assert_eq!(
                    pixel(&f, &frame, x, 2),
                    pixel(&f, &first, from, 2),
                    "{format:?} frame {k} x {x}"
                );
            }
        }
    }
}

#[test]
fn consecutive_frames_differ() {
    for (w, h) in [(1280, 720), (16, 16)] {
        for format in FORMATS {
            let mut p = pattern(w, h, format);
            let mut previous = None;
            for _ in 0..20 {
                let frame = next(&mut p);
                let out = frame.to_vec();
                assert_ne!(previous.as_ref(), Some(&out), "{w}x{h} {format:?}");
                previous = Some(out);
            }
        }
    }
}

#[test]
fn counter_and_timecode_read_back_in_every_format() {
    let indices = [
        0,
        1,
        9,
        29,
        30,
        1_799,
        12_345,
        2_591_999,
        2_592_000,
        9_999_999_999,
    ];
    for (w, h) in [(1280, 720), (1920, 1080), (320, 240), (3840, 2160)] {
        for format in FORMATS {
            let mut p = pattern(w, h, format);
            let f = p.format();
            for index in indices {
                let frame = render(&mut p, index);
                let tc = Timecode::from_frame(index, 30).to_string();
                assert_eq!(read_line(&f, &frame, 0), tc, "{w}x{h} {format:?}");
                assert_eq!(read_line(&f, &frame, 1), format!("{index:010}"));
            }
        }
    }
}

#[test]
fn text_box_is_black_and_white_on_neutral_chroma() {
    for format in FORMATS {
        let mut p = pattern(1280, 720, format);
        let f = p.format();
        let frame = render(&mut p, 8_765_432);
        let t = TextBox::new(1280, 720).unwrap();
        let mut lit = 0;
        for y in t.y..t.y + t.height {
            for x in t.x..t.x + t.width {
                let px = pixel(&f, &frame, x, y);
                assert_eq!((px.u, px.v), (128, 128));
                match px.y {
                    16 => {}
                    235 => lit += 1,
                    other => panic!("luma {other} in the text box at {x},{y}"),
                }
            }
        }
        assert!(lit > 0);
        // Just outside the box: bars, not box.
        assert_ne!(pixel(&f, &frame, t.x, t.y - 1), TEXT_BACKGROUND);
    }
}

#[test]
fn rendering_is_a_pure_function_of_the_index() {
    let mut p = pattern(1280, 720, PixelFormat::I420);
    let a = render(&mut p, 77);
    for i in 0..5 {
        render(&mut p, i);
    }
    assert_eq!(render(&mut p, 77), a);
}

#[test]
fn pts_is_index_times_frame_duration() {
    let origin = MonotonicNs(3_000_000_000);
    for (rate, index, offset) in [
        (30, 3, 100_000_000),
        (7, 7, 1_000_000_000),
        (60, 1, 16_666_666),
    ] {
        let s = TestPatternSettings {
            frame_rate: rate,
            ..settings(64, 64, PixelFormat::I420)
        };
        let mut p = TestPattern::start(s, origin).unwrap();
        assert_eq!(p.frame_pts(index), MonotonicNs(origin.0 + offset));
        for i in 0..=index {
            let frame = next(&mut p);
            assert_eq!((frame.sequence(), frame.pts()), (i, p.frame_pts(i)));
        }
    }
}

#[test]
fn late_polls_lose_frames_and_the_counter_shows_it() {
    let s = TestPatternSettings {
        pacing: Pacing::RealTime,
        ..TestPatternSettings::DEFAULT
    };
    let origin = MonotonicNs(1_000_000_000);
    let mut p = TestPattern::start(s, origin).unwrap();
    let f = p.format();
    let mut out = vec![0; f.frame_len()];
    assert_eq!(p.poll_frame(MonotonicNs(origin.0 - 1), &mut out), Ok(None));
    let first = p.poll_frame(origin, &mut out).unwrap().unwrap();
    assert_eq!(
        first,
        FrameInfo {
            sequence: 0,
            pts: origin
        }
    );
    assert_eq!(
        p.poll_frame(MonotonicNs(p.next_due().0 - 1), &mut out),
        Ok(None)
    );
    assert_eq!(p.next_due(), p.frame_pts(1));

    // Five frame times later: frames 1-4 are gone, frame 5 is delivered.
    let late = MonotonicNs(p.frame_pts(5).0 + 1_000);
    let info = p.poll_frame(late, &mut out).unwrap().unwrap();
    assert_eq!(
        info,
        FrameInfo {
            sequence: 5,
            pts: p.frame_pts(5)
        }
    );
    assert_eq!(read_line(&f, &out, 1), "0000000005");
    assert_eq!(read_line(&f, &out, 0), "00:00:00:05");
    assert_eq!(p.poll_frame(late, &mut out), Ok(None));
    assert_eq!(p.next_due(), p.frame_pts(6));
}

#[test]
fn real_time_next_frame_keeps_pace() {
    let s = TestPatternSettings {
        width: 64,
        height: 64,
        frame_rate: 60,
        ..TestPatternSettings::DEFAULT
    };
    let origin = crate::monotonic_now();
    let mut p = TestPattern::start(s, origin).unwrap();
    let mut last = None;
    for _ in 0..3 {
        let frame = next(&mut p);
        assert!(last < Some(frame.sequence()));
        assert!(crate::monotonic_now() >= frame.pts());
        last = Some(frame.sequence());
    }
    // Frame 2 is due 2/60 s after the origin; it cannot come sooner.
    assert!(crate::monotonic_now().0 - origin.0 >= 2 * 16_666_666);
}

#[test]
fn frames_carry_the_timecode_they_show() {
    let s = TestPatternSettings {
        width: 64,
        height: 64,
        frame_rate: 60,
        ..TestPatternSettings::DEFAULT
    };
    let mut p = TestPattern::start(s, crate::monotonic_now()).unwrap();
    let frame = next(&mut p);
    assert_eq!(
        frame.timecode(),
        Some(Timecode::from_frame(frame.sequence(), 60))
    );
}

#[test]
fn tiny_and_extreme_pictures_render() {
    for (w, h) in [
        (16, 16),
        (18, 16),
        (16, 2160),
        (3840, 16),
        (142, 22),
        (140, 160),
    ] {
        for format in FORMATS {
            let mut p = pattern(w, h, format);
            for i in [0, 1, 1_000_001] {
                render(&mut p, i);
            }
        }
    }
}

#[test]
fn invalid_sizes_fail_to_start() {
    let start = |w, h, r| {
        let s = TestPatternSettings {
            frame_rate: r,
            ..settings(w, h, PixelFormat::I420)
        };
        TestPattern::start(s, MonotonicNs(0)).map(|_| ())
    };
    assert_eq!(start(3842, 2160, 30), Err(StartError::Width(3842)));
    assert_eq!(start(3840, 2162, 30), Err(StartError::Height(2162)));
    assert_eq!(start(1279, 720, 30), Err(StartError::Width(1279)));
    assert_eq!(start(1280, 720, 61), Err(StartError::FrameRate(61)));
    assert_eq!(start(3840, 2160, 60), Ok(()));
}

/// `cargo test -p makara-capture --release -- --ignored --nocapture bench`
#[test]
#[ignore = "timing; run in release"]
fn bench_render_speed() {
    for (w, h) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        for format in FORMATS {
            let mut p = pattern(w, h, format);
            let frames = 600;
            let t = Instant::now();
            for _ in 0..frames {
                next(&mut p);
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{w}x{h} {format:?}: {:.0} fps ({:.3} ms/frame)",
                f64::from(frames) / secs,
                secs * 1e3 / f64::from(frames)
            );
        }
    }
}
