//! A log file that is rotated by size: when the next line would take the
//! file past its limit, `PATH` becomes `PATH.1` (replacing the one before)
//! and a new `PATH` is started. So the two files together never hold more
//! than twice the limit (plus one line, if a single line is longer than the
//! limit), however long makarad runs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Sink;

#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    previous: PathBuf,
    max_bytes: u64,
    /// `None` after a failed open or write: the next line opens it again.
    file: Option<File>,
    /// The bytes in `path` as far as this writer knows.
    size: u64,
}

impl RotatingFile {
    /// Continues `path` (appending) where it is, or creates it. A file that
    /// cannot be opened now is tried again at the next line.
    pub fn open(path: &Path, max_bytes: u64) -> (RotatingFile, io::Result<()>) {
        let mut previous = path.as_os_str().to_owned();
        previous.push(".1");
        let mut log = RotatingFile {
            path: path.to_path_buf(),
            previous: PathBuf::from(previous),
            max_bytes,
            file: None,
            size: 0,
        };
        let opened = log.reopen();
        (log, opened)
    }

    /// Where the file before this one is kept.
    #[cfg(test)]
    pub fn previous_path(&self) -> &Path {
        &self.previous
    }

    fn reopen(&mut self) -> io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    /// `PATH` → `PATH.1`, then a new, empty `PATH`.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        match fs::rename(&self.path, &self.previous) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // The file stays where it is: empty it, or the bound would not hold.
            Err(_) => File::create(&self.path).map(drop)?,
        }
        self.reopen()
    }
}

impl Sink for RotatingFile {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.file.is_none() || (self.size > 0 && self.size + len > self.max_bytes) {
            // Reopening also catches a file that grew behind our back.
            self.file = None;
            self.reopen()?;
            if self.size > 0 && self.size + len > self.max_bytes {
                self.rotate()?;
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("log file not open"));
        };
        match file.write_all(line) {
            Ok(()) => {
                self.size += len;
                Ok(())
            }
            Err(e) => {
                // Part of the line may be in the file: learn its size again.
                self.file = None;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    fn size(path: &Path) -> u64 {
        fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn total_size_stays_within_twice_the_limit() {
        let dir = TestDir::new("log-rotate-bound");
        let path = dir.join("makarad.log");
        let (mut log, opened) = RotatingFile::open(&path, 1000);
        opened.unwrap();
        for i in 0..5000 {
            log.write_line(format!("line {i:05} of the log\n").as_bytes())
                .unwrap();
            let total = size(&path) + size(log.previous_path());
            assert!(total <= 2000, "{total} bytes after line {i}");
        }
        let newest = fs::read_to_string(&path).unwrap();
        assert!(newest.ends_with("line 04999 of the log\n"));
        let older = fs::read_to_string(log.previous_path()).unwrap();
        assert!(older.len() > 900, "the previous file is kept whole");
        // Nothing is lost between the two files.
        let first_new: u32 = newest[5..10].parse().unwrap();
        let last_old: u32 = older.lines().last().unwrap()[5..10].parse().unwrap();
        assert_eq!(last_old + 1, first_new);
    }

    #[test]
    fn a_restart_continues_the_file_within_the_limit() {
        let dir = TestDir::new("log-rotate-restart");
        let path = dir.join("makarad.log");
        fs::write(&path, vec![b'x'; 990]).unwrap();
        let (mut log, _) = RotatingFile::open(&path, 1000);
        log.write_line(b"short\n").unwrap();
        assert_eq!(size(&path), 996);
        log.write_line(b"this one does not fit\n").unwrap();
        assert_eq!(size(log.previous_path()), 996);
        assert_eq!(fs::read(&path).unwrap(), b"this one does not fit\n");
    }

    #[test]
    fn a_line_longer_than_the_limit_gets_a_file_of_its_own() {
        let dir = TestDir::new("log-rotate-long");
        let path = dir.join("makarad.log");
        let (mut log, _) = RotatingFile::open(&path, 100);
        log.write_line(b"first\n").unwrap();
        log.write_line(&[b'y'; 300]).unwrap();
        assert_eq!(size(&path), 300);
        log.write_line(b"next\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"next\n");
    }

    #[test]
    fn a_missing_directory_fails_each_line_until_it_appears() {
        let dir = TestDir::new("log-rotate-missing");
        let path = dir.join("later").join("makarad.log");
        let (mut log, opened) = RotatingFile::open(&path, 1000);
        assert!(opened.is_err());
        assert!(log.write_line(b"lost\n").is_err());
        fs::create_dir(dir.join("later")).unwrap();
        log.write_line(b"kept\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"kept\n");
    }

    #[test]
    fn a_removed_log_is_started_again_at_rotation() {
        let dir = TestDir::new("log-rotate-removed");
        let path = dir.join("makarad.log");
        let (mut log, _) = RotatingFile::open(&path, 20);
        log.write_line(b"0123456789\n").unwrap();
        fs::remove_file(&path).unwrap();
        log.write_line(b"0123456789\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"0123456789\n");
    }
}
