//! The panel thread's session against a real supervisor (no media engine)
//! over a temporary data directory, with a Unix socket pair standing in
//! for the serial line: the test holds the device's end, reads `LCD`
//! lines and presses keys.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use makara_board::netconf::{Network, StaticNetwork};
use makara_config::{InputRequest, InputType, OutputRequest, StreamRequest, TranscoderRequest};
use makara_supervisor::{Command, Handle, NoMediaEngine, Reply};
use makara_test_support::TestDir;

use super::*;
use crate::console::programs::CommandLine;

/// How long the device waits for the rows it expects.
const PATIENCE: Duration = Duration::from_secs(10);

fn created(reply: Reply) -> makara_config::Id {
    match reply {
        Reply::Created(id) => id,
        other => panic!("expected Created, got {other:?}"),
    }
}

/// A stream "Camera one" (not started) saved as the preset "Morning";
/// returns the stream's id.
fn configure(supervisor: &Handle) -> makara_config::Id {
    let input = created(
        supervisor
            .call(Command::CreateInput(
                InputRequest {
                    name: Some("Bars".into()),
                    stream_type: Some(InputType::TestPattern),
                    ..InputRequest::default()
                }
                .validate()
                .unwrap(),
            ))
            .unwrap(),
    );
    let transcoder = created(
        supervisor
            .call(Command::CreateTranscoder(
                TranscoderRequest {
                    name: Some("H.264".into()),
                    ..TranscoderRequest::default()
                }
                .validate()
                .unwrap(),
            ))
            .unwrap(),
    );
    let output = created(
        supervisor
            .call(Command::CreateOutput(
                OutputRequest {
                    name: Some("Loopback".into()),
                    url: Some("udp://127.0.0.1:5000".into()),
                    ..OutputRequest::default()
                }
                .validate()
                .unwrap(),
            ))
            .unwrap(),
    );
    let stream = StreamRequest {
        name: Some("Camera one".into()),
        input: Some(input),
        transcoder: Some(transcoder),
        outputs: vec![output],
        ..StreamRequest::default()
    }
    .validate()
    .unwrap();
    let stream = created(
        supervisor
            .call(Command::CreateStream {
                config: stream,
                start: false,
            })
            .unwrap(),
    );
    supervisor
        .call(Command::SavePreset {
            name: "Morning".into(),
        })
        .unwrap();
    stream
}

/// A data directory, a supervisor on it, and `network.conf` with an
/// apply script that copies it to `applied` (or fails, if `apply_fails`).
struct Fixture {
    dir: TestDir,
    work: PanelWork,
    stream: makara_config::Id,
}

impl Fixture {
    fn new(label: &str, apply_fails: bool) -> Fixture {
        let dir = TestDir::new(label);
        let data_dir = dir.join("data");
        fs::create_dir_all(&data_dir).unwrap();
        let (supervisor, _thread) =
            Handle::start(&data_dir, Box::new(NoMediaEngine)).expect("a supervisor");
        let stream = configure(&supervisor);
        let script = if apply_fails {
            "echo 'no interface eth0' >&2; exit 1".to_owned()
        } else {
            format!(
                "cat {} > {}",
                dir.join("network.conf").display(),
                dir.join("applied").display()
            )
        };
        let apply = dir.write("apply", format!("#!/bin/sh\n{script}\n"));
        fs::set_permissions(&apply, fs::Permissions::from_mode(0o755)).unwrap();
        let network = NetworkPlace {
            conf: dir.join("network.conf"),
            apply: CommandLine::parse(&apply.display().to_string()).unwrap(),
        };
        Fixture {
            dir,
            work: PanelWork {
                supervisor,
                data_dir,
                network,
            },
            stream,
        }
    }
}

/// The device's end of the line, and the session on the other end.
struct Device {
    line: BufReader<UnixStream>,
    rows: [String; 2],
    stop: Arc<AtomicBool>,
    session: Option<thread::JoinHandle<std::io::Result<()>>>,
}

impl Device {
    fn connect(work: &PanelWork) -> Device {
        let (ours, theirs) = UnixStream::pair().unwrap();
        ours.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let mut worker = Worker::new(work.clone());
        let session = thread::spawn(move || {
            let mut panel = SerialPanel::new(theirs);
            session(&mut panel, &mut worker, &stopping)
        });
        Device {
            line: BufReader::new(ours),
            rows: [String::new(), String::new()],
            stop,
            session: Some(session),
        }
    }

    fn press(&mut self, key: &str) {
        writeln!(self.line.get_mut(), "KEY {key}").unwrap();
    }

    /// Reads `LCD` lines until both rows are as `want` says (trailing
    /// spaces not counted), or fails the test showing what was there.
    fn wait_for(&mut self, want: [&str; 2]) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.rows.iter().map(|r| r.trim_end()).eq(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wanted {want:?}, the panel shows {:?}",
                self.rows
            );
            let mut line = String::new();
            match self.line.read_line(&mut line) {
                Ok(0) => panic!("the session closed the line"),
                Ok(_) => {
                    let line = line.strip_suffix('\n').expect("a whole line");
                    let (row, text) = line
                        .strip_prefix("LCD ")
                        .and_then(|rest| rest.split_once(' '))
                        .expect("an LCD line");
                    assert_eq!(text.chars().count(), 20, "{line:?}");
                    self.rows[row.parse::<usize>().unwrap()] = text.to_owned();
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("reading the line: {e}"),
            }
        }
    }

    /// Presses `keys` one by one, each after the rows it should show.
    fn walk(&mut self, steps: &[(&str, [&str; 2])]) {
        for (key, rows) in steps {
            self.press(key);
            self.wait_for(*rows);
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(session) = self.session.take() {
            let ended = session.join().expect("the session does not panic");
            if !thread::panicking() {
                ended.expect("the session ends cleanly when stopped");
            }
        }
    }
}

/// The address of the machine the test runs on, as the panel should show it.
fn here() -> Option<Ipv4Addr> {
    box_address(&makara_board::list_nics().unwrap())
}

#[test]
fn the_view_is_the_box_as_its_parts_say() {
    let b = Fixture::new("panel-view", false);
    let view = Worker::new(b.work.clone()).view();
    assert_eq!(view.box_name, makara_board::hostname());
    assert_eq!(
        view.address,
        box_address(&makara_board::list_nics().unwrap())
    );
    assert_eq!(view.network, Network::Dhcp);
    assert_eq!(
        view.streams,
        [StreamEntry {
            id: "Camera one".into(),
            name: "Camera one".into(),
            state: StreamState::Stopped,
            output_kbps: None,
        }]
    );
    assert_eq!(view.presets.len(), 1);
    assert_eq!(view.presets[0].name, "Morning");
    assert!(!view.presets[0].is_default);
    assert!(!view.api_enabled, "a new data directory has the API off");

    fs::write(
        &b.work.network.conf,
        "MODE=static\nADDRESS=192.0.2.50/24\nGATEWAY=192.0.2.1\n",
    )
    .unwrap();
    AccessStore::open(&b.work.data_dir)
        .set_enabled(true)
        .unwrap();
    let view = Worker::new(b.work.clone()).view();
    assert_eq!(
        view.network,
        Network::Static(StaticNetwork {
            address: Ipv4Addr::new(192, 0, 2, 50),
            prefix: 24,
            gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
        })
    );
    assert!(view.api_enabled);
}

#[test]
fn a_part_that_cannot_be_read_keeps_its_last_value() {
    let b = Fixture::new("panel-view-last", false);
    let mut worker = Worker::new(b.work.clone());
    fs::write(&b.work.network.conf, "MODE=static\nADDRESS=192.0.2.50/24\n").unwrap();
    let good = worker.view().network;
    assert!(matches!(good, Network::Static(_)));
    fs::write(&b.work.network.conf, "MODE=sometimes\n").unwrap();
    assert_eq!(worker.view().network, good);
    assert!(worker.complaints.contains_key("network.conf"));
    fs::write(&b.work.network.conf, "MODE=dhcp\n").unwrap();
    assert_eq!(worker.view().network, Network::Dhcp);
    assert!(worker.complaints.is_empty());
}

#[test]
fn the_address_is_the_first_of_an_up_interface_that_is_not_loopback() {
    let nic = |name: &str, up, loopback, ipv4: &[&str]| Nic {
        name: name.into(),
        mac: None,
        mtu: None,
        up,
        loopback,
        speed_mbps: None,
        ipv4: ipv4.iter().map(|a| a.to_string()).collect(),
        ipv6: Vec::new(),
    };
    let nics = [
        nic("eth0", false, false, &["192.0.2.9/24"]),
        nic("eth1", true, false, &[]),
        nic("eth2", true, false, &["10.0.2.15/24", "10.0.3.1/24"]),
        nic("lo", true, true, &["127.0.0.1/8"]),
    ];
    assert_eq!(box_address(&nics), Some(Ipv4Addr::new(10, 0, 2, 15)));
    assert_eq!(box_address(&nics[..2]), None);
    assert_eq!(box_address(&nics[3..]), None);
}

#[test]
fn a_stream_shows_its_rate_only_while_it_runs() {
    let line = |state, kbps| operator::StreamLine {
        name: "Demo".into(),
        state,
        problem: None,
        input_receiving: None,
        output_kbps: kbps,
    };
    let active = stream_entry(&line(makara_supervisor::StreamState::Active, Some(2003.4)));
    assert_eq!(active.state, StreamState::Active);
    assert_eq!(active.output_kbps, Some(2003));
    assert_eq!(active.id, "Demo");
    let stopped = stream_entry(&line(makara_supervisor::StreamState::Stopped, Some(10.0)));
    assert_eq!(
        (stopped.state, stopped.output_kbps),
        (StreamState::Stopped, None)
    );
    let waiting = stream_entry(&line(makara_supervisor::StreamState::Waiting, None));
    assert_eq!(
        (waiting.state, waiting.output_kbps),
        (StreamState::Waiting, None)
    );
}

#[test]
fn keys_start_a_stream_and_the_refusal_is_shown_until_a_key() {
    let b = Fixture::new("panel-start", false);
    let mut device = Device::connect(&b.work);
    let name: String = makara_board::hostname().chars().take(13).collect();
    let address = here().map_or("none".to_owned(), |a| a.to_string());
    device.wait_for([&format!("{name:<13} 0 live"), &format!("IP {address}")]);
    device.walk(&[
        ("right", ["1/1 Camera one", "stopped"]),
        ("enter", ["Start Camera one?", ">no   yes"]),
        ("right", ["Start Camera one?", " no  >yes"]),
    ]);
    device.press("enter");
    // The engine of this build runs nothing: the start is refused, and
    // the supervisor's reason is on the panel.
    device.wait_for(["Failed: this build", "has no media engine,"]);
    device.walk(&[("up", ["1/1 Camera one", "stopped"])]);
}

#[test]
fn keys_load_a_preset() {
    let b = Fixture::new("panel-preset", false);
    // The stream goes from the current configuration; the preset has it.
    let deleted = b
        .work
        .supervisor
        .call(Command::Delete(makara_supervisor::Kind::Stream, b.stream));
    assert!(matches!(deleted, Ok(Reply::Deleted)), "{deleted:?}");
    let mut device = Device::connect(&b.work);
    device.walk(&[
        ("right", ["Streams", "none"]),
        ("right", ["Preset 1/1", "Morning"]),
        ("enter", ["Load Morning?", ">no   yes"]),
        ("up", ["Load Morning?", " no  >yes"]),
    ]);
    device.press("enter");
    device.wait_for(["Preset 1/1", "Morning"]);
    device.walk(&[("left", ["1/1 Camera one", "stopped"])]);
    let streams = operator::streams(&b.work.supervisor).unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].name, "Camera one");
}

#[test]
fn keys_turn_the_api_on_and_off_as_the_console_does() {
    let b = Fixture::new("panel-api", false);
    let enabled = || AccessStore::open(&b.work.data_dir).load().unwrap().enabled;
    assert!(!enabled());
    let mut device = Device::connect(&b.work);
    device.walk(&[
        ("left", ["API              off", "enter: turn on"]),
        ("enter", ["Turn API on?", ">no   yes"]),
        ("enter", ["API              off", "enter: turn on"]),
    ]);
    assert!(!enabled(), "no changes nothing");
    device.walk(&[
        ("enter", ["Turn API on?", ">no   yes"]),
        ("right", ["Turn API on?", " no  >yes"]),
        ("enter", ["API               on", "enter: turn off"]),
    ]);
    assert!(enabled());
    device.walk(&[
        ("enter", ["Turn API off?", ">no   yes"]),
        ("right", ["Turn API off?", " no  >yes"]),
        ("enter", ["API              off", "enter: turn on"]),
    ]);
    assert!(!enabled());
}

#[test]
fn keys_set_a_static_address_which_is_saved_and_applied() {
    let b = Fixture::new("panel-network", false);
    fs::write(
        &b.work.network.conf,
        "# the installer's\nMODE=static\nADDRESS=192.0.2.50/24\nGATEWAY=192.0.2.1\n",
    )
    .unwrap();
    let mut device = Device::connect(&b.work);
    device.walk(&[
        ("left", ["API              off", "enter: turn on"]),
        ("left", ["Network       static", "192.0.2.50/24"]),
        ("enter", ["Network mode", " DHCP >static  back"]),
        ("enter", ["Addr 192.000.002.050", "     ^"]),
    ]);
    for _ in 0..11 {
        device.press("right");
    }
    device.wait_for(["Addr 192.000.002.050", "                   ^"]);
    device.walk(&[
        ("up", ["Addr 192.000.002.051", "                   ^"]),
        ("enter", ["Prefix /24", "        ^^"]),
        ("enter", ["Gw   192.000.002.001", "     ^"]),
        ("enter", ["192.0.2.51/24?", ">no   yes"]),
        ("right", ["192.0.2.51/24?", " no  >yes"]),
    ]);
    device.press("enter");
    device.wait_for(["Network       static", "192.0.2.51/24"]);
    assert_eq!(
        fs::read_to_string(b.dir.join("applied")).unwrap(),
        "# the installer's\nMODE=static\nADDRESS=192.0.2.51/24\nGATEWAY=192.0.2.1\n"
    );
}

#[test]
fn a_failed_apply_is_a_note_and_the_file_is_saved() {
    let b = Fixture::new("panel-network-apply", true);
    let mut device = Device::connect(&b.work);
    device.walk(&[("left", ["API              off", "enter: turn on"])]);
    device.press("left");
    device.walk(&[
        ("enter", ["Network mode", ">DHCP  static  back"]),
        ("enter", ["Use DHCP?", ">no   yes"]),
        ("right", ["Use DHCP?", " no  >yes"]),
        ("enter", ["Saved; applies at", "the next boot"]),
    ]);
    assert_eq!(
        fs::read_to_string(&b.work.network.conf).unwrap(),
        "MODE=dhcp\n"
    );
    // The key that clears the note does nothing else.
    let address = here().map_or("no address".to_owned(), |a| a.to_string());
    device.walk(&[("up", ["Network         DHCP", &address])]);
}

#[test]
fn a_refused_network_is_shown_and_nothing_is_written() {
    let b = Fixture::new("panel-network-refused", false);
    // A file the box cannot use: the change is refused as the file says.
    fs::write(
        &b.work.network.conf,
        "MODE=static\nADDRESS=192.0.2.50/24\nDNS=x\n",
    )
    .unwrap();
    let outcome = Worker::new(b.work.clone()).carry_out(&PanelAction::SetNetwork(Network::Dhcp));
    match outcome {
        Outcome::Failed(why) => assert!(why.contains("DNS"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(!b.dir.join("applied").exists());
}

#[test]
fn the_thread_reopens_a_socket_that_goes_away_and_ends_when_told() {
    let b = Fixture::new("panel-thread", false);
    let path = b.dir.join("panel.sock");
    let thread = start(PanelLine::Socket(path.clone()), b.work.clone()).unwrap();
    // Nothing listens yet: the thread keeps trying.
    thread::sleep(Duration::from_millis(300));
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    for _ in 0..2 {
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(&socket);
        let deadline = Instant::now() + PATIENCE;
        while !line.starts_with("LCD 1 IP ") {
            assert!(Instant::now() < deadline, "no home screen");
            line.clear();
            let _ = reader.read_line(&mut line);
        }
        // The device goes away; the thread connects again.
    }
    let started = Instant::now();
    thread.finish();
    assert!(started.elapsed() < Duration::from_secs(2));
}
