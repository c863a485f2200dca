//! How long the machine has run, from `/proc/uptime`.

use std::fs;
use std::io;
use std::time::Duration;

use thiserror::Error;

const PROC_UPTIME: &str = "/proc/uptime";

#[derive(Debug, Error)]
pub enum UptimeError {
    #[error("cannot read {PROC_UPTIME}: {0}")]
    Read(#[source] io::Error),
    #[error("{PROC_UPTIME} does not start with a number of seconds")]
    Malformed,
}

/// The time since boot, in whole seconds.
pub fn uptime() -> Result<Duration, UptimeError> {
    let text = fs::read_to_string(PROC_UPTIME).map_err(UptimeError::Read)?;
    parse_uptime(&text)
        .map(Duration::from_secs)
        .ok_or(UptimeError::Malformed)
}

/// Whole seconds from the first field of `/proc/uptime` ("12345.67 …").
fn parse_uptime(text: &str) -> Option<u64> {
    let first = text.split_whitespace().next()?;
    let whole = first.split('.').next()?;
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_whole_seconds_of_the_first_field() {
        assert_eq!(parse_uptime("350735.47 234388.90\n"), Some(350_735));
        assert_eq!(parse_uptime("12 7"), Some(12));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("x.5 1"), None);
    }

    #[test]
    fn this_machine_has_an_uptime() {
        assert!(uptime().is_ok());
    }
}
