//! makarad's log: tracing events to stderr, or to a file rotated by size.
//!
//! Writing the log must never stop the supervisor. A line that cannot be
//! written (stderr on a full disk or `/dev/full`, a closed pipe, a missing
//! log directory) is counted and dropped; the first line written after such
//! losses is preceded by a note of how many were lost. Rust ignores SIGPIPE
//! in its programs, so a closed pipe is an `EPIPE` error here, not a signal.

mod rotate;

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

pub use rotate::RotatingFile;

/// Where whole log lines go.
pub trait Sink: Send {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()>;
}

/// The process's standard error.
#[derive(Debug)]
pub struct Stderr;

impl Sink for Box<dyn Sink> {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        (**self).write_line(line)
    }
}

impl Sink for Stderr {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        io::stderr().write_all(line)
    }
}

/// A sink shared by every thread's events, with the count of lost lines.
#[derive(Debug)]
pub struct LogOutput<S> {
    state: Mutex<State<S>>,
}

#[derive(Debug)]
struct State<S> {
    sink: S,
    /// Lines lost since the last note about them.
    unreported: u64,
    /// Lines lost since the start.
    lost: u64,
}

impl<S: Sink> LogOutput<S> {
    pub fn new(sink: S) -> LogOutput<S> {
        LogOutput {
            state: Mutex::new(State {
                sink,
                unreported: 0,
                lost: 0,
            }),
        }
    }

    /// Writes one line; a failure is counted, never returned.
    pub fn write_line(&self, line: &[u8]) {
        let mut state = self.lock();
        let state = &mut *state;
        if state.unreported > 0 {
            let note = lost_note(state.unreported);
            if state.sink.write_line(note.as_bytes()).is_err() {
                state.unreported += 1;
                state.lost += 1;
                return;
            }
            state.unreported = 0;
        }
        if state.sink.write_line(line).is_err() {
            state.unreported += 1;
            state.lost += 1;
        }
    }

    /// How many lines could not be written since the start.
    pub fn lost_lines(&self) -> u64 {
        self.lock().lost
    }

    fn lock(&self) -> MutexGuard<'_, State<S>> {
        // A panic while holding the lock leaves the counters whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn lost_note(count: u64) -> String {
    let lines = if count == 1 { "line" } else { "lines" };
    format!(
        "WARN makarad: {count} log {lines} before this one could not be written and were dropped\n"
    )
}

/// One event's writer: tracing-subscriber formats an event into a buffer
/// and hands it over in one `write_all`, so each call is a whole line.
#[derive(Debug)]
pub struct LineWriter<'a, S: Sink>(&'a LogOutput<S>);

impl<S: Sink> Write for LineWriter<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'o, S: Sink + 'o> MakeWriter<'_> for &'o LogOutput<S> {
    type Writer = LineWriter<'o, S>;

    fn make_writer(&self) -> Self::Writer {
        LineWriter(self)
    }
}

/// Where the log goes, from the command line.
#[derive(Debug)]
pub struct LogSettings<'a> {
    pub filter: &'a str,
    /// `None`: standard error.
    pub file: Option<&'a Path>,
    pub max_bytes: u64,
}

type Output = LogOutput<Box<dyn Sink>>;

static OUTPUT: OnceLock<Output> = OnceLock::new();
static TO_FILE: AtomicBool = AtomicBool::new(false);

/// Installs the global subscriber. With a log file, panics are logged there
/// too (and still reach stderr).
pub fn init(settings: &LogSettings) {
    let (sink, ansi): (Box<dyn Sink>, bool) = match settings.file {
        Some(path) => {
            let (file, opened) = RotatingFile::open(path, settings.max_bytes);
            if let Err(e) = opened {
                let _ = writeln!(
                    io::stderr(),
                    "makarad: cannot open the log file {}: {e}; its lines are dropped until it opens",
                    path.display()
                );
            }
            TO_FILE.store(true, Ordering::Relaxed);
            (Box::new(file), false)
        }
        None => (Box::new(Stderr), io::IsTerminal::is_terminal(&io::stderr())),
    };
    let output = OUTPUT.get_or_init(|| LogOutput::new(sink));
    let filter = tracing_subscriber::EnvFilter::try_new(settings.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output)
        .with_target(false)
        .with_ansi(ansi)
        .log_internal_errors(false)
        .init();
    if settings.file.is_some() {
        log_panics();
    }
}

/// Lines that could not be written since the start.
pub fn lost_lines() -> u64 {
    OUTPUT.get().map_or(0, LogOutput::lost_lines)
}

/// Whether the log goes to a file (and not to stderr).
pub fn to_file() -> bool {
    TO_FILE.load(Ordering::Relaxed)
}

fn log_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("{info}");
        // The default hook writes to stderr and ignores a failure to.
        default_hook(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails while `failing` is set; keeps what it wrote.
    #[derive(Default)]
    struct Flaky {
        failing: bool,
        written: Vec<u8>,
    }

    impl Sink for &'_ Mutex<Flaky> {
        fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
            let mut flaky = self.lock().unwrap();
            if flaky.failing {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            flaky.written.extend_from_slice(line);
            Ok(())
        }
    }

    #[test]
    fn lost_lines_are_counted_and_noted_when_writing_resumes() {
        let flaky = Mutex::new(Flaky::default());
        let output = LogOutput::new(&flaky);
        output.write_line(b"one\n");
        flaky.lock().unwrap().failing = true;
        output.write_line(b"two\n");
        output.write_line(b"three\n");
        assert_eq!(output.lost_lines(), 2);
        flaky.lock().unwrap().failing = false;
        output.write_line(b"four\n");
        output.write_line(b"five\n");
        let text = String::from_utf8(flaky.lock().unwrap().written.clone()).unwrap();
        assert_eq!(
            text,
            "one\nWARN makarad: 2 log lines before this one could not be written and were dropped\nfour\nfive\n"
        );
        assert_eq!(output.lost_lines(), 2);
    }

    #[test]
    fn a_writer_never_reports_an_error_to_tracing() {
        let flaky = Mutex::new(Flaky {
            failing: true,
            ..Flaky::default()
        });
        let output = LogOutput::new(&flaky);
        let mut writer = (&output).make_writer();
        assert!(writer.write_all(b"an event\n").is_ok());
        assert!(writer.flush().is_ok());
        assert_eq!(output.lost_lines(), 1);
    }
}
