//! The control socket: how the serial console, a process of its own,
//! reaches the running supervisor inside `makarad serve`.
//!
//! A Unix socket that only its owner (root on the appliance) may open.
//! One request per connection: a console command line (`stream start
//! Demo`, see [`Command::control_line`]), parsed by the console's own
//! parser; the answer is text lines, the last of them `ok` or
//! `error: WHY`. Only the commands that need the supervisor are taken.
//! Bounded like every other door of the box: a request line of at most
//! [`MAX_LINE`] bytes read within [`READ_TIMEOUT`], and at most
//! [`MAX_CONNECTIONS`] answered at once (more are told so and closed).
//!
//! `debug hang SECONDS` is taken only from a server started with
//! `--debug-commands` (never on in production): it sleeps the supervisor
//! thread, which the hardware watchdog must then notice.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use makara_supervisor::Handle;

use crate::console::command::{self, Command};
use crate::operator;

/// Where `makarad serve` listens and the console asks unless told
/// otherwise: in the data directory, which one server holds at a time.
pub fn socket_in(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}
/// The longest request line.
pub const MAX_LINE: u64 = 1024;
/// How long a client has to send its line.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests answered at once.
pub const MAX_CONNECTIONS: usize = 4;

/// What `debug hang` answers when `makarad serve` runs without
/// `--debug-commands`.
pub const DEBUG_OFF: &str = "debug commands are off (makarad serve --debug-commands)";

/// Whether the server takes the debug commands (`--debug-commands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugCommands {
    Off,
    On,
}

/// The listening control socket. Dropping it stops the listening thread,
/// with its handle on the supervisor (which ends only once every handle
/// is gone), and removes the socket.
pub struct ControlSocket {
    path: PathBuf,
    stopping: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Listens at `path` (a stale socket there is replaced) and answers on
/// threads of their own until the [`ControlSocket`] is dropped.
pub fn listen(path: &Path, supervisor: Handle, debug: DebugCommands) -> io::Result<ControlSocket> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    let busy = Arc::new(AtomicUsize::new(0));
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&stopping);
    let thread = thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if stop.load(Ordering::Acquire) {
                    return;
                }
                accept(stream, &supervisor, &busy, debug);
            }
        })?;
    Ok(ControlSocket {
        path: path.to_owned(),
        stopping,
        thread: Some(thread),
    })
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        // Wakes the thread from `accept`; it sees the flag and ends.
        if UnixStream::connect(&self.path).is_ok() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
        let _ = fs::remove_file(&self.path);
    }
}

fn accept(
    mut stream: UnixStream,
    supervisor: &Handle,
    busy: &Arc<AtomicUsize>,
    debug: DebugCommands,
) {
    if busy.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
        busy.fetch_sub(1, Ordering::AcqRel);
        let _ = writeln!(stream, "error: busy, try again");
        return;
    }
    let supervisor = supervisor.clone();
    let busy = Arc::clone(busy);
    let spawned = thread::Builder::new()
        .name("control-request".into())
        .spawn(move || {
            if let Err(e) = answer_one(stream, &supervisor, debug) {
                tracing::debug!(error = %e, "control socket: a request failed");
            }
            busy.fetch_sub(1, Ordering::AcqRel);
        });
    if spawned.is_err() {
        tracing::warn!("control socket: no thread for a request");
    }
}

fn answer_one(stream: UnixStream, supervisor: &Handle, debug: DebugCommands) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut line = Vec::new();
    BufReader::new((&stream).take(MAX_LINE + 1)).read_until(b'\n', &mut line)?;
    let mut out = io::BufWriter::new(&stream);
    if line.len() as u64 > MAX_LINE {
        return writeln!(out, "error: the request is over {MAX_LINE} bytes");
    }
    let (lines, result) = answer(supervisor, &String::from_utf8_lossy(&line), debug);
    for text in lines {
        writeln!(out, "{text}")?;
    }
    match result {
        Ok(()) => writeln!(out, "ok")?,
        Err(why) => writeln!(out, "error: {why}")?,
    }
    out.flush()
}

/// The answer to one request line: its text lines, and whether it was
/// done.
pub fn answer(
    supervisor: &Handle,
    line: &str,
    debug: DebugCommands,
) -> (Vec<String>, Result<(), String>) {
    let command = match command::parse(line) {
        Ok(Some(command)) if command.control_line().is_some() => command,
        Ok(_) => {
            return (
                Vec::new(),
                Err("not a request of the control socket".into()),
            )
        }
        Err(e) => return (Vec::new(), Err(e.to_string())),
    };
    let done = |r: Result<(), operator::OperatorError>| (Vec::new(), r.map_err(|e| e.to_string()));
    match command {
        Command::StreamList => match operator::streams(supervisor) {
            Ok(streams) if streams.is_empty() => (vec!["no streams".into()], Ok(())),
            Ok(streams) => (streams.iter().map(|s| s.describe()).collect(), Ok(())),
            Err(e) => (Vec::new(), Err(e.to_string())),
        },
        Command::PresetList => match operator::presets(supervisor) {
            Ok(presets) if presets.is_empty() => (vec!["no presets".into()], Ok(())),
            Ok(presets) => {
                let lines = presets
                    .iter()
                    .map(|p| {
                        let boot = if p.is_default { " (loads at boot)" } else { "" };
                        format!("{}{boot}", p.name)
                    })
                    .collect();
                (lines, Ok(()))
            }
            Err(e) => (Vec::new(), Err(e.to_string())),
        },
        Command::StreamStart(name) => done(operator::start_stream(supervisor, &name)),
        Command::StreamStop(name) => done(operator::stop_stream(supervisor, &name)),
        Command::PresetLoad(name) => done(operator::load_preset(supervisor, &name)),
        Command::PresetDefault(name) => done(operator::default_preset(supervisor, &name)),
        Command::DebugHang(seconds) => debug_hang(supervisor, seconds, debug),
        _ => (
            Vec::new(),
            Err("not a request of the control socket".into()),
        ),
    }
}

/// Sends [`makara_supervisor::Command::Hang`] from a thread of its own
/// and answers at once: the supervisor does not answer until it wakes.
fn debug_hang(
    supervisor: &Handle,
    seconds: u64,
    debug: DebugCommands,
) -> (Vec<String>, Result<(), String>) {
    if debug == DebugCommands::Off {
        return (Vec::new(), Err(DEBUG_OFF.into()));
    }
    tracing::warn!(seconds, "control socket: debug hang asked for");
    let hang = supervisor.clone();
    let how_long = Duration::from_secs(seconds);
    let spawned = thread::Builder::new()
        .name("debug-hang".into())
        .spawn(move || hang.call(makara_supervisor::Command::Hang(how_long)));
    match spawned {
        Ok(_) => (
            vec![format!(
                "the supervisor thread sleeps for {seconds} s; with a hardware watchdog the box resets before it wakes"
            )],
            Ok(()),
        ),
        Err(e) => (Vec::new(), Err(format!("no thread to send the hang from: {e}"))),
    }
}

/// Why the console could not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("makarad serve does not answer on {path}: {source}")]
    Unreachable { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Refused(String),
    #[error("the answer from makarad serve was cut short")]
    CutShort,
}

/// Sends one request line; returns the answer's lines (without the
/// final `ok`).
pub fn request(path: &Path, line: &str) -> Result<Vec<String>, RequestError> {
    let unreachable = |source| RequestError::Unreachable {
        path: path.to_owned(),
        source,
    };
    let mut stream = UnixStream::connect(path).map_err(unreachable)?;
    // A preset load stops every stream first: give it time.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(unreachable)?;
    writeln!(stream, "{line}").map_err(unreachable)?;
    let mut lines = Vec::new();
    for text in BufReader::new(stream).lines() {
        let text = text.map_err(unreachable)?;
        if text == "ok" {
            return Ok(lines);
        }
        if let Some(why) = text.strip_prefix("error: ") {
            return Err(RequestError::Refused(why.to_owned()));
        }
        lines.push(text);
    }
    Err(RequestError::CutShort)
}

#[cfg(test)]
mod tests {
    use makara_supervisor::NoMediaEngine;
    use makara_test_support::TestDir;

    use super::*;

    fn server(dir: &TestDir) -> (PathBuf, ControlSocket) {
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, _thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let socket = socket_in(&data);
        let listening = listen(&socket, supervisor, DebugCommands::Off).unwrap();
        (socket, listening)
    }

    /// makarad's clean stop waits for the supervisor thread, which ends
    /// only once every handle is gone: the control socket's too.
    #[test]
    fn dropping_the_socket_lets_the_supervisor_end() {
        let dir = TestDir::new("control-stop");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let socket = socket_in(&data);
        let listening = listen(&socket, supervisor, DebugCommands::Off).unwrap();
        assert_eq!(request(&socket, "stream list").unwrap(), ["no streams"]);
        drop(listening);
        thread.join().unwrap();
        assert!(!socket.exists());
    }

    #[test]
    fn debug_hang_is_refused_unless_the_server_takes_debug_commands() {
        let dir = TestDir::new("control-debug");
        let (socket, _listening) = server(&dir);
        let refused = request(&socket, "debug hang 5").unwrap_err();
        assert_eq!(refused.to_string(), DEBUG_OFF);
        // The supervisor was not made to sleep.
        assert_eq!(request(&socket, "stream list").unwrap(), ["no streams"]);
    }

    #[test]
    fn debug_hang_answers_at_once_and_the_supervisor_sleeps() {
        let dir = TestDir::new("control-debug-on");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, _thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let started = std::time::Instant::now();
        let (lines, result) = answer(&supervisor, "debug hang 2", DebugCommands::On);
        assert_eq!(result, Ok(()));
        assert!(
            lines[0].starts_with("the supervisor thread sleeps for 2 s"),
            "{lines:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        // A ping (sent once the hang surely reached the supervisor
        // thread) waits for it to wake.
        std::thread::sleep(Duration::from_millis(300));
        let pong = supervisor.call(makara_supervisor::Command::Ping);
        assert!(
            matches!(pong, Ok(makara_supervisor::Reply::Pong)),
            "{pong:?}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        let (_, bad) = answer(&supervisor, "debug hang 601", DebugCommands::On);
        assert_eq!(
            bad,
            Err("usage: debug hang SECONDS: SECONDS is 1-600".into())
        );
    }

    #[test]
    fn lists_and_refusals_come_back_as_lines() {
        let dir = TestDir::new("control-answers");
        let (socket, _listening) = server(&dir);
        assert_eq!(request(&socket, "stream list").unwrap(), ["no streams"]);
        assert_eq!(request(&socket, "PRESET list").unwrap(), ["no presets"]);
        let refused = |line| request(&socket, line).unwrap_err().to_string();
        assert_eq!(
            refused("stream start Studio A"),
            "no stream is named 'Studio A'"
        );
        assert_eq!(refused("preset load x"), "no preset is named 'x'");
        assert_eq!(refused("preset default"), "usage: preset default NAME");
        assert_eq!(
            refused("api-key create"),
            "not a request of the control socket"
        );
        assert_eq!(refused("shell"), "not a request of the control socket");
    }

    #[test]
    fn only_the_owner_may_connect_and_a_stale_socket_is_replaced() {
        let dir = TestDir::new("control-socket");
        let (socket, _listening) = server(&dir);
        let mode = fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second server on the same path (the first one's socket left
        // behind by a crash) takes it over.
        let (again, _again) = server(&dir);
        assert_eq!(request(&again, "stream list").unwrap(), ["no streams"]);
    }

    #[test]
    fn an_oversized_request_is_refused() {
        let dir = TestDir::new("control-bounds");
        let (socket, _listening) = server(&dir);
        let mut stream = UnixStream::connect(&socket).unwrap();
        // One byte over, with no end of line: the server reads no further.
        stream
            .write_all(&vec![b'x'; MAX_LINE as usize + 1])
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert_eq!(
            answer,
            format!("error: the request is over {MAX_LINE} bytes\n")
        );
    }

    #[test]
    fn no_server_is_told_apart_from_a_refusal() {
        let dir = TestDir::new("control-none");
        let error = request(&dir.path().join("control.sock"), "stream list").unwrap_err();
        assert!(matches!(error, RequestError::Unreachable { .. }), "{error}");
        assert!(error
            .to_string()
            .starts_with("makarad serve does not answer on "));
    }
}
