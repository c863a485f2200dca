//! Process exit codes, in one place.

use std::error::Error;

/// Why `makarad` exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    /// A command failed (bad key, unreadable data directory, …).
    Failed = 1,
    /// The data directory is in use by another `makarad serve`.
    Busy = 3,
    /// The API could not listen or serve.
    Network = 4,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// An error with the exit code it should end the process with.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub error: Box<dyn Error + Send + Sync>,
}

impl Failure {
    pub fn new(code: ExitCode, error: impl Into<Box<dyn Error + Send + Sync>>) -> Failure {
        Failure {
            code,
            error: error.into(),
        }
    }
}

/// "outer: inner: innermost", so that the cause of a failure is not lost.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}
