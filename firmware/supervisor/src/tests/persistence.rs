//! What survives a power cut, and what happens when the copy on disk is
//! damaged.

use std::fs;
use std::path::{Path, PathBuf};

use makara_config::{
    InputRequest, InputType, OutputRequest, OutputType, SapRequest, SrtEncryption, SrtMode,
    SrtRequest, StreamMode, TranscoderRequest, VideoType,
};
use makara_store::{LoadError, Slots};

use super::*;
use crate::{NoMediaEngine, OpenError, StartupError};

/// The two slot files of the configuration, as makara-store names them.
fn slot_paths(dir: &Path) -> [PathBuf; 2] {
    [dir.join("config.a"), dir.join("config.b")]
}

/// The generation in a slot file's header (`MAKARA-SLOT 1 gen=N ...`).
fn generation(path: &Path) -> Option<u64> {
    let bytes = fs::read(path).ok()?;
    let header = bytes.split(|&b| b == b'\n').next()?;
    let header = std::str::from_utf8(header).ok()?;
    header
        .split(' ')
        .find_map(|f| f.strip_prefix("gen="))?
        .parse()
        .ok()
}

/// The slot file holding the newest generation.
fn newest_slot(dir: &Path) -> PathBuf {
    slot_paths(dir)
        .into_iter()
        .filter_map(|p| generation(&p).map(|g| (g, p)))
        .max_by_key(|(g, _)| *g)
        .map(|(_, p)| p)
        .expect("a slot file")
}

/// Flips one byte near the end of the file (inside the payload).
fn corrupt(path: &Path) {
    let mut bytes = fs::read(path).expect("read slot");
    let at = bytes.len() - 2;
    bytes[at] ^= 0x20;
    fs::write(path, bytes).expect("write slot");
}

#[test]
fn every_acknowledged_change_survives_a_reboot() {
    let mut rig = Rig::new("persist-every");
    let check = |rig: &mut Rig, what: &str| {
        let before = rig.snapshot();
        rig.reboot();
        assert_eq!(rig.snapshot(), before, "after {what}");
    };

    let c = rig.add_chain("A");
    check(&mut rig, "create chain");
    let spare_in = rig.add_input("spare");
    let spare_out = rig.add_output("spare");
    let spare_tx = rig.add_transcoder("spare");
    check(&mut rig, "create spares");
    updated(
        rig.call(Command::ReplaceInput(c.input.clone(), input("A in'"))),
        &c.input,
    );
    updated(
        rig.call(Command::ReplaceOutput(c.output.clone(), output("A out'"))),
        &c.output,
    );
    updated(
        rig.call(Command::ReplaceTranscoder(
            c.transcoder.clone(),
            transcoder("A tx'"),
        )),
        &c.transcoder,
    );
    check(&mut rig, "replace resources");
    updated(
        rig.call(Command::ReplaceStream(
            c.stream.clone(),
            stream("A'", &spare_in, Some(&spare_tx), &[&spare_out, &c.output]),
        )),
        &c.stream,
    );
    check(&mut rig, "replace stream");
    rig.start(&c.stream);
    check(&mut rig, "start");
    rig.stop(&c.stream);
    check(&mut rig, "stop");
    // (With a default preset, boot activates it and restarts only its
    // auto_start streams; the stream is stopped, so that changes nothing.)
    let p = rig.save_preset("P");
    check(&mut rig, "save preset");
    rig.update_preset(&p, false, Some(true));
    check(&mut rig, "make default");
    rig.update_preset(&p, false, Some(false));
    check(&mut rig, "clear default");
    deleted(rig.call(Command::Delete(Kind::Input, c.input.clone())));
    deleted(rig.call(Command::Delete(Kind::Transcoder, c.transcoder.clone())));
    check(&mut rig, "delete resources");
    deleted(rig.call(Command::Delete(Kind::Stream, c.stream.clone())));
    check(&mut rig, "delete stream");
    deleted(rig.call(Command::Delete(Kind::Preset, p)));
    check(&mut rig, "delete preset");
    let q = rig.save_preset("Q");
    rig.add_input("after Q");
    rig.update_preset(&q, true, None);
    check(&mut rig, "activate");
}

#[test]
fn a_change_is_on_disk_before_its_reply() {
    // Copy the data directory while the supervisor runs (no orderly
    // shutdown: a power cut) and boot the copy.
    let rig = Rig::new("persist-power-cut");
    let c = rig.add_chain("S");
    rig.start(&c.stream);
    let p = rig.save_preset("P");
    rig.update_preset(&p, false, Some(false));
    let expected = rig.snapshot();

    let copy = TestDir::new("supervisor-persist-power-cut-copy");
    for slot in slot_paths(rig.dir()) {
        if slot.exists() {
            fs::copy(&slot, copy.path().join(slot.file_name().unwrap())).unwrap();
        }
    }
    let (engine, probe) = FakeEngine::new();
    let (handle, thread) = Handle::start(copy.path(), Box::new(engine)).expect("start copy");
    let copy_rig_inputs = match handle.call(Command::List(Kind::Input)) {
        Ok(Reply::Inputs(v)) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        copy_rig_inputs
            .into_iter()
            .map(|v| (v.id, v.config))
            .collect::<Vec<_>>(),
        expected.inputs
    );
    let streams = match handle.call(Command::List(Kind::Stream)) {
        Ok(Reply::Streams(v)) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].state, StreamState::Active, "running set on disk");
    assert_eq!(probe.starts(), vec![c.stream.clone()]);
    let presets = match handle.call(Command::List(Kind::Preset)) {
        Ok(Reply::Presets(v)) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(presets.len(), 1);
    drop(handle);
    thread.join().unwrap();
}

#[test]
fn every_kind_of_setting_round_trips_through_the_disk() {
    let mut rig = Rig::new("persist-shapes");
    let inputs = [
        InputRequest {
            name: Some("srt caller".into()),
            description: Some("remote site".into()),
            stream_type: Some(InputType::Srt),
            url: Some("srt://10.1.1.1:7000".into()),
            srt: SrtRequest {
                mode: Some(SrtMode::Caller),
                address: Some("10.1.1.1".into()),
                remote_port: Some(7000),
                passphrase: Some("correct horse battery".into()),
                latency_ms: Some(400),
                ..SrtRequest::default()
            },
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::Srt),
            srt: SrtRequest {
                mode: Some(SrtMode::Listener),
                local_port: Some(9000),
                ..SrtRequest::default()
            },
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::TestPattern),
            width: Some(640),
            height: Some(360),
            frame_rate: Some(25),
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::V4l2),
            capture_port: Some(2),
            capture_mode: Some(17),
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::Decklink),
            decklink_port: Some(1),
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::Rtsp),
            url: Some("rtsp://cam.local/live?x=1".into()),
            ..InputRequest::default()
        },
        InputRequest {
            stream_type: Some(InputType::MjpegRaw),
            url: Some("https://cam.local:8443/mjpeg".into()),
            ..InputRequest::default()
        },
        InputRequest {
            url: Some("udp://239.207.1.3:9002".into()),
            interface: Some("eth1".into()),
            name: Some("quotes \" and 'apostrophes' and ünïcödé = [x]".into()),
            ..InputRequest::default()
        },
    ];
    for r in inputs {
        let config = r.validate().expect("valid input");
        created(rig.call(Command::CreateInput(config)));
    }
    let outputs = [
        OutputRequest {
            name: Some("sap".into()),
            url: Some("udp://239.202.1.3:4900".into()),
            ttl: Some(8),
            tos: Some(0),
            mtu: Some(1316),
            sap: Some(SapRequest {
                transmit: Some(true),
                session_name: Some("News".into()),
                keywords: Some("a, b".into()),
                ..SapRequest::default()
            }),
            ..OutputRequest::default()
        },
        OutputRequest {
            stream_type: Some(OutputType::Srt),
            srt: SrtRequest {
                mode: Some(SrtMode::Listener),
                local_port: Some(9001),
                passphrase: Some("0123456789abc".into()),
                encryption: Some(SrtEncryption::Aes256),
                ..SrtRequest::default()
            },
            ..OutputRequest::default()
        },
    ];
    let mut out_ids = Vec::new();
    for r in outputs {
        let config = r.validate().expect("valid output");
        out_ids.push(created(rig.call(Command::CreateOutput(config))));
    }
    let transcoders = [
        TranscoderRequest {
            name: Some("custom".into()),
            width: Some(1920),
            height: Some(1080),
            frame_rate: Some(-1),
            quality_level: Some(7),
            b_frames: Some(2),
            shaping_bitrate_kbps: Some(5000),
            metadata: Some(true),
            ..TranscoderRequest::default()
        },
        TranscoderRequest {
            name: Some("hevc".into()),
            video_type: Some(VideoType::Hevc),
            resolution_mode: Some(2),
            output_pacing_interval_ms: Some(20),
            ..TranscoderRequest::default()
        },
    ];
    let mut tx_ids = Vec::new();
    for r in transcoders {
        let config = r.validate().expect("valid transcoder");
        tx_ids.push(created(rig.call(Command::CreateTranscoder(config))));
    }
    let in_id = rig.inputs()[0].id.clone();
    let mut pt = stream("passthru", &in_id, Some(&tx_ids[0]), &[&out_ids[0]]);
    pt.mode = StreamMode::Passthru;
    pt.passthru = Some(out_ids[1].clone());
    pt.description = Some("multi\nline".into());
    rig.add_stream(auto_start(pt));
    rig.add_stream(stream(
        "bypass",
        &in_id,
        None,
        &out_ids.iter().collect::<Vec<_>>(),
    ));
    rig.save_preset("everything");

    let before = rig.snapshot();
    rig.reboot_with_engine(Box::new(NoMediaEngine));
    let mut after = rig.snapshot();
    // The auto_start stream could not start under NoMediaEngine; compare
    // configurations only.
    for s in &mut after.streams {
        s.2 = StreamState::Stopped;
    }
    assert_eq!(after, before);
}

#[test]
fn a_corrupt_newest_copy_falls_back_to_the_previous_generation() {
    let mut rig = Rig::new("persist-corrupt-newest");
    rig.add_input("first");
    let second = rig.add_input("second");
    let before_last = rig.snapshot();
    updated(
        rig.call(Command::ReplaceInput(second.clone(), input("second'"))),
        &second,
    );
    rig.power_off();

    let newest = newest_slot(rig.dir());
    let newest_gen = generation(&newest).unwrap();
    assert!(newest_gen >= 3, "three saves so far: {newest_gen}");
    corrupt(&newest);

    rig.reboot();
    assert_eq!(rig.snapshot(), before_last, "the previous generation");

    // Saving again works and overwrites the damaged slot.
    rig.add_input("third");
    let after = rig.snapshot();
    rig.reboot();
    assert_eq!(rig.snapshot(), after);
    for slot in slot_paths(rig.dir()) {
        assert!(
            generation(&slot).is_some(),
            "{} is readable",
            slot.display()
        );
    }
    let names: Vec<String> = rig.inputs().into_iter().map(|v| v.config.name).collect();
    assert_eq!(names, ["first", "second", "third"]);
}

#[test]
fn a_corrupt_older_copy_does_not_matter() {
    let mut rig = Rig::new("persist-corrupt-older");
    rig.add_input("first");
    rig.add_input("second");
    let expected = rig.snapshot();
    rig.power_off();
    let newest = newest_slot(rig.dir());
    let older = slot_paths(rig.dir())
        .into_iter()
        .find(|p| p != &newest)
        .unwrap();
    corrupt(&older);
    rig.reboot();
    assert_eq!(rig.snapshot(), expected);
}

#[test]
fn two_corrupt_copies_refuse_to_start() {
    let mut rig = Rig::new("persist-corrupt-both");
    rig.add_input("first");
    rig.add_input("second");
    rig.power_off();
    let slots = slot_paths(rig.dir());
    for slot in &slots {
        corrupt(slot);
    }
    let damaged: Vec<Vec<u8>> = slots.iter().map(|p| fs::read(p).unwrap()).collect();

    let (engine, _probe) = FakeEngine::new();
    match Handle::start(rig.dir(), Box::new(engine)) {
        Err(StartupError::Open(OpenError::Load(LoadError::NoValidCopy { rejected }))) => {
            assert_eq!(rejected.len(), 2);
        }
        Err(other) => panic!("expected NoValidCopy, got {other}"),
        Ok(_) => panic!("started on an empty configuration"),
    }
    // Nothing was written over the evidence.
    let now: Vec<Vec<u8>> = slots.iter().map(|p| fs::read(p).unwrap()).collect();
    assert_eq!(now, damaged);
}

#[test]
fn a_single_corrupt_copy_refuses_to_start() {
    let mut rig = Rig::new("persist-corrupt-only");
    rig.add_input("only");
    rig.power_off();
    let [a, b] = slot_paths(rig.dir());
    assert!(a.exists() && !b.exists(), "one save, one slot");
    corrupt(&a);
    let (engine, _probe) = FakeEngine::new();
    let e = Handle::start(rig.dir(), Box::new(engine))
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(
            e,
            StartupError::Open(OpenError::Load(LoadError::NoValidCopy { .. }))
        ),
        "{e}"
    );
    assert!(e.to_string().contains("config.a"), "{e}");
}

#[test]
fn an_unreadable_slot_refuses_to_start() {
    let dir = TestDir::new("supervisor-persist-unreadable");
    fs::create_dir(dir.path().join("config.a")).unwrap();
    let e = Handle::start(dir.path(), Box::new(NoMediaEngine))
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(
            e,
            StartupError::Open(OpenError::Load(LoadError::Read { .. }))
        ),
        "{e}"
    );
}

#[test]
fn a_payload_that_is_not_a_configuration_refuses_to_start() {
    let dir = TestDir::new("supervisor-persist-garbage");
    Slots::new(dir.path(), "config")
        .save(b"this is = not [a configuration")
        .unwrap();
    let e = Handle::start(dir.path(), Box::new(NoMediaEngine))
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(e, StartupError::Open(OpenError::Decode { .. })),
        "{e}"
    );
}

#[test]
fn a_configuration_of_another_format_refuses_to_start() {
    let dir = TestDir::new("supervisor-persist-format");
    Slots::new(dir.path(), "config")
        .save(b"format = 2\nrunning = []\n")
        .unwrap();
    match Handle::start(dir.path(), Box::new(NoMediaEngine)) {
        Err(StartupError::Open(OpenError::Format { found, .. })) => assert_eq!(found, 2),
        Err(other) => panic!("expected Format, got {other}"),
        Ok(_) => panic!("started"),
    }
}

#[test]
fn a_missing_data_directory_is_created_on_first_save() {
    let dir = TestDir::new("supervisor-persist-mkdir");
    let nested = dir.path().join("not/yet");
    let (engine, _probe) = FakeEngine::new();
    let (handle, thread) = Handle::start(&nested, Box::new(engine)).expect("start");
    assert!(!nested.exists(), "nothing written until a change");
    created(handle.call(Command::CreateInput(input("x"))));
    assert!(nested.join("config.a").exists());
    drop(handle);
    thread.join().unwrap();
}

#[test]
fn reading_does_not_write() {
    let mut rig = Rig::new("persist-read-only");
    let c = rig.add_chain("S");
    rig.save_preset("P");
    rig.power_off();
    rig.reboot();
    let gens: Vec<Option<u64>> = slot_paths(rig.dir())
        .iter()
        .map(|p| generation(p))
        .collect();
    rig.snapshot();
    rig.get_stream(&c.stream);
    rig.call(Command::System).unwrap();
    rig.power_off();
    let after: Vec<Option<u64>> = slot_paths(rig.dir())
        .iter()
        .map(|p| generation(p))
        .collect();
    assert_eq!(gens, after, "boot, lists, gets and shutdown save nothing");
}
