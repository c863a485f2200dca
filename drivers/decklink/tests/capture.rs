//! Capture through the real path: `DeckLinkPorts` and `DeckLinkCapture`
//! over the shim, which dlopens the fake `libDeckLinkAPI.so`
//! (`tests/fake/fake_decklink.cpp`); its "DeckLink Duo 2" delivers moving
//! bars with timecode and a 1 kHz tone in real time. The fake's scripted
//! signal loss and format change are exercised end to end, through
//! makarad, by `tests/integration/test_decklink.py`.

mod common;

use std::path::Path;
use std::time::Duration;

use makara_capture::LiveCapture;
use makara_decklink::{
    CapturePixels, CaptureSettings, DeckLinkApi, DeckLinkCapture, DeckLinkPorts,
};
use makara_framering::Frame;
use makara_media::{MonotonicNs, PixelFormat};

/// The fake's modes, by index.
const NTSC: i32 = 0;
const PAL: i32 = 3;

fn ports() -> DeckLinkPorts {
    DeckLinkPorts::new(common::two_devices().to_owned())
}

/// Why `open` refused.
fn refusal(ports: &DeckLinkPorts, port: u32, mode: i32) -> String {
    match ports.open(port, mode) {
        Ok(_) => panic!("decklinkPort {port} mode {mode} opened"),
        Err(e) => e.to_string(),
    }
}

fn next(capture: &mut dyn LiveCapture) -> Frame {
    capture
        .next_frame(Duration::from_secs(2))
        .expect("no device error")
        .expect("a frame within 2 s")
}

#[test]
fn ports_are_the_devices_that_capture_with_their_modes() {
    let listed = ports().ports();
    assert_eq!(
        listed.len(),
        1,
        "the output-only card is no port: {listed:?}"
    );
    let port = &listed[0];
    assert_eq!(port.number, 0);
    assert_eq!(
        (port.device.as_str(), port.name.as_str()),
        ("DeckLink Duo (1)", "SDI")
    );
    assert_eq!(port.modes.len(), 5);
    let pal = &port.modes[PAL as usize];
    assert_eq!(
        (pal.width, pal.height, pal.frame_rate),
        (720, 576, Some((25000, 1000)))
    );
    assert!(pal.interlaced);
    assert_eq!(pal.id, "PAL");
    assert!(!port.modes[4].interlaced, "720p50");
    assert_eq!(port.running, None);
}

#[test]
fn a_capture_delivers_uyvy_frames_stamped_by_the_cards_clock_with_timecode_and_sound() {
    let ports = ports();
    let mut capture = ports.open(0, PAL).expect("the capture starts");
    let format = capture.format();
    assert_eq!((format.width, format.height), (720, 576));
    assert_eq!(format.pixel_format, PixelFormat::Uyvy);
    assert_eq!((format.fps_num, format.fps_den), (25000, 1000));

    let frames: Vec<Frame> = (0..6).map(|_| next(capture.as_mut())).collect();
    for pair in frames.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(b.sequence(), a.sequence() + 1);
        // Stamped from the card's stream time: exactly one frame apart.
        assert_eq!(b.pts().0 - a.pts().0, 40_000_000);
        let (ta, tb) = (a.timecode().unwrap(), b.timecode().unwrap());
        assert_eq!(
            u32::from(tb.frames),
            (u32::from(ta.frames) + 1) % 25,
            "{ta} then {tb}"
        );
        assert_ne!(a.data(), b.data(), "the bars move");
    }
    assert!(frames[0].data().iter().any(|&b| b != frames[0].data()[0]));

    // The tone on channels 1 and 2, on the same clock as the pictures.
    let mut sound = capture.audio(frames[0].pts());
    let mut out = vec![0i16; 1024 * 2];
    let far = MonotonicNs(u64::MAX / 2);
    let chunk = sound
        .poll_samples(far, &mut out)
        .unwrap()
        .expect("sound has arrived");
    assert!(
        chunk.pts <= frames[0].pts(),
        "the sound starts with the pictures"
    );
    let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
    // -20 dBFS: 3277 on 16 bits.
    assert!((3000..3500).contains(&peak), "peak {peak}");

    let report = capture.report().expect("a card reports");
    assert!(report.receiving);
    assert!(report.packets >= 6);
}

#[test]
fn a_running_port_shows_its_mode_is_taken_once_and_is_free_again_after() {
    let ports = ports();
    let capture = ports.open(0, PAL).unwrap();
    let port = &ports.ports()[0];
    let running = port.running.as_ref().expect("running");
    assert_eq!(
        (running.config_mode, running.fourcc.as_str()),
        (PAL, "UYVY")
    );
    assert_eq!(running.frame_rate, (25000, 1000));
    assert_eq!(port.current.as_ref().map(|m| m.id.as_str()), Some("PAL"));

    let err = refusal(&ports, 0, NTSC);
    assert_eq!(err, "decklinkPort 0: in use by another stream");
    drop(capture);
    assert_eq!(ports.ports()[0].running, None);
    drop(ports.open(0, NTSC).expect("free again"));
}

#[test]
fn automatic_mode_starts_with_format_detection() {
    let ports = ports();
    let mut capture = ports.open(0, -1).unwrap();
    assert_eq!(
        (capture.format().width, capture.format().height),
        (720, 486)
    );
    next(capture.as_mut());
    assert_eq!(ports.ports()[0].running.as_ref().unwrap().config_mode, -1);
}

#[test]
fn ports_and_modes_that_do_not_exist_are_refused_with_the_choices() {
    let ports = ports();
    let err = refusal(&ports, 1, 0);
    assert_eq!(
        err,
        "no DeckLink device for decklinkPort 1: this machine has 1 DeckLink port(s), 0-0"
    );
    let err = refusal(&ports, 0, 9);
    assert_eq!(
        err,
        "decklinkMode 9 cannot be used on decklinkPort 0: it is not one of the port's modes: \
         use -1 (automatic) or 0-4"
    );
}

#[test]
fn without_the_driver_there_are_no_ports_and_a_start_says_why() {
    let ports = DeckLinkPorts::new(Path::new("/nonexistent/libDeckLinkAPI.so").to_owned());
    assert!(ports.ports().is_empty());
    let err = refusal(&ports, 0, -1);
    assert!(
        err.starts_with(
            "no DeckLink device for decklinkPort 0: /nonexistent/libDeckLinkAPI.so not found:"
        ),
        "{err}"
    );
}

#[test]
fn ten_bit_capture_gives_the_same_pictures_cut_to_eight_bits() {
    let api = DeckLinkApi::open(common::two_devices()).unwrap();
    let device = api.input_device(0).unwrap();
    let settings = |pixels| CaptureSettings {
        device: 0,
        mode: device.modes[PAL as usize].clone(),
        detect: false,
        pixels,
        audio_channels: 16,
        label: "decklinkPort 0".into(),
    };
    let first = |pixels| {
        let mut capture = DeckLinkCapture::start(&api, &settings(pixels)).unwrap();
        let frame = next(&mut capture);
        (frame.sequence(), frame.data().to_vec())
    };
    let (s8, eight) = first(CapturePixels::Uyvy);
    let (s10, ten) = first(CapturePixels::V210);
    assert_eq!((s8, s10), (0, 0));
    assert_eq!(eight.len(), ten.len());
    let worst = eight
        .iter()
        .zip(&ten)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 1, "v210 differs from UYVY by up to {worst}");
}

#[test]
fn audio_channel_counts_the_sdk_does_not_take_are_refused() {
    let api = DeckLinkApi::open(common::two_devices()).unwrap();
    let device = api.input_device(0).unwrap();
    let settings = CaptureSettings {
        device: 0,
        mode: device.modes[0].clone(),
        detect: false,
        pixels: CapturePixels::Uyvy,
        audio_channels: 6,
        label: "decklinkPort 0".into(),
    };
    let err = DeckLinkCapture::start(&api, &settings)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "decklinkPort 0: audio channels must be 2, 8 or 16, not 6"
    );
}

fn pal_capture(api: &DeckLinkApi, pixels: CapturePixels) -> DeckLinkCapture {
    let device = api.input_device(0).unwrap();
    let settings = CaptureSettings {
        device: 0,
        mode: device.modes[PAL as usize].clone(),
        detect: false,
        pixels,
        audio_channels: 2,
        label: "decklinkPort 0".into(),
    };
    DeckLinkCapture::start(api, &settings).unwrap()
}

#[test]
fn eight_bit_frames_are_captured_into_the_pool_without_a_copy() {
    let api = DeckLinkApi::open(common::two_devices()).unwrap();
    let mut capture = pal_capture(&api, CapturePixels::Uyvy);
    assert!(capture.uses_card_buffers(), "the fake takes the allocator");
    let frames: Vec<Frame> = (0..4).map(|_| next(&mut capture)).collect();
    assert_eq!(capture.copied_frames(), 0);
    assert_ne!(frames[0].data(), frames[1].data(), "the bars move");
    // Ten-bit frames have another layout: converted into the pool.
    let mut ten = pal_capture(&api, CapturePixels::V210);
    assert!(!ten.uses_card_buffers());
    next(&mut ten);
    assert!(ten.copied_frames() >= 1);
}

#[test]
fn frames_held_by_the_stages_keep_their_buffers_and_capture_resumes_when_they_go() {
    let api = DeckLinkApi::open(common::two_devices()).unwrap();
    let mut capture = pal_capture(&api, CapturePixels::Uyvy);
    // Hold every frame: once the pool's slots are all held, the card has
    // no buffer to capture into and nothing comes.
    let mut held = Vec::new();
    while let Some(frame) = capture.next_frame(Duration::from_millis(400)).unwrap() {
        held.push(frame);
        assert!(held.len() <= 10, "more frames than buffers");
    }
    assert!(
        held.len() >= 5,
        "{} frames before the buffers ran out",
        held.len()
    );
    // Every held frame still shows its own picture.
    let first = held[0].data().to_vec();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(held[0].data(), &first[..]);
    let last = held.last().unwrap().sequence();
    held.clear();
    let again = next(&mut capture);
    assert!(
        again.sequence() > last + 1,
        "frames were lost while all were held"
    );
    assert_eq!(capture.copied_frames(), 0);
}
