//! Whether the program a pid file names is running, by its `/proc` entry.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// What the pid in a pid file is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidState {
    Running(u32),
    /// The process is gone, or its pid now belongs to another program.
    Exited(u32),
}

/// Why a pid file says nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PidFileError {
    #[error("no pid file {}", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("{} holds no pid", .0.display())]
    NoPid(PathBuf),
}

/// Reads `pid_file` and looks the pid up under `proc_root` (`/proc`); the
/// process counts as running if its argv[0] names `program` or cannot be
/// read.
pub fn pid_file_state(
    pid_file: &Path,
    proc_root: &Path,
    program: &str,
) -> Result<PidState, PidFileError> {
    let text = fs::read_to_string(pid_file).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => PidFileError::Missing(pid_file.to_path_buf()),
        _ => PidFileError::Unreadable {
            path: pid_file.to_path_buf(),
            reason: e.to_string(),
        },
    })?;
    let pid = text
        .trim()
        .parse::<u32>()
        .map_err(|_| PidFileError::NoPid(pid_file.to_path_buf()))?;
    let process = proc_root.join(pid.to_string());
    if !process.is_dir() {
        return Ok(PidState::Exited(pid));
    }
    // A pid is reused once its process is gone; if the command line is
    // readable it must be the program's.
    Ok(match fs::read(process.join("cmdline")) {
        Ok(cmdline) if !argv0_names(&cmdline, program) => PidState::Exited(pid),
        _ => PidState::Running(pid),
    })
}

/// Whether argv[0] (NUL-terminated in `/proc/PID/cmdline`) is `program`,
/// by its file name.
fn argv0_names(cmdline: &[u8], program: &str) -> bool {
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let name = argv0.rsplit(|b| *b == b'/').next().unwrap_or_default();
    name.starts_with(program.as_bytes())
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn the_state_follows_the_pid_file_and_proc() {
        let dir = TestDir::new("board-pid-file");
        let proc_root = dir.join("proc");
        let pid_file = dir.join("makarad.pid");
        let state = || pid_file_state(&pid_file, &proc_root, "makarad");
        assert_eq!(state(), Err(PidFileError::Missing(pid_file.clone())));

        fs::write(&pid_file, "garbage\n").unwrap();
        assert_eq!(state(), Err(PidFileError::NoPid(pid_file.clone())));

        fs::write(&pid_file, "42\n").unwrap();
        assert_eq!(state(), Ok(PidState::Exited(42)));

        fs::create_dir_all(proc_root.join("42")).unwrap();
        assert_eq!(state(), Ok(PidState::Running(42)));

        fs::write(proc_root.join("42/cmdline"), b"/usr/bin/makarad\0serve\0").unwrap();
        assert_eq!(state(), Ok(PidState::Running(42)));

        fs::write(proc_root.join("42/cmdline"), b"/bin/sleep\x0060\0").unwrap();
        assert_eq!(state(), Ok(PidState::Exited(42)));
    }

    #[test]
    fn errors_name_the_pid_file() {
        let path = PathBuf::from("/run/makara/makarad.pid");
        assert_eq!(
            PidFileError::Missing(path.clone()).to_string(),
            "no pid file /run/makara/makarad.pid"
        );
        assert_eq!(
            PidFileError::NoPid(path).to_string(),
            "/run/makara/makarad.pid holds no pid"
        );
    }
}
