//! How much the recorder takes on: every bound is a named constant, and
//! [`Limits`] gathers the ones a caller (or a test on a small disk) may
//! change.

use std::time::Duration;

use crate::error::TooLong;

/// The least free space on the data disk for a recording to start.
pub const MIN_FREE_BYTES: u64 = 64 << 20;
/// A running recording stops, as for a full disk, once free space falls
/// below this: the rest of the disk (configuration saves, the log, the
/// TLS pair) keeps room to work. Checked every [`SYNC_INTERVAL`] and
/// every [`SPACE_CHECK_BYTES`] written; a write that fails for want of
/// space stops it as well.
pub const KEEP_FREE_BYTES: u64 = 32 << 20;
/// A writer checks the free space after this many bytes, however fast
/// they come: a floor is overshot by about this much at most.
pub const SPACE_CHECK_BYTES: u64 = 1 << 20;
/// The bytes queued between the media pipeline and one recording's writer
/// thread; what arrives while the queue is full is dropped and counted.
pub const QUEUE_BYTES: usize = 8 << 20;
/// The most recordings that run at once.
pub const MAX_LIVE_RECORDINGS: usize = 8;
/// The most tracks (sources) in one recording.
pub const MAX_TRACKS: usize = 16;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2048;
/// The longest creator (user) name, in characters.
pub const MAX_CREATOR_CHARS: usize = 128;
/// How often a writer flushes and fsyncs its track files: at most this
/// much recorded stream is lost to a power cut.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(2);
/// Every this many syncs, the metadata records how far the files are
/// synced and how long they last, so recovery after a crash reads only
/// what came after (seconds of stream, not hours).
pub const SYNCS_PER_CHECKPOINT: u32 = 5;
/// Space each running recording sets aside in its directory, so that its
/// metadata can still be saved when the disk fills.
pub const RESERVE_BYTES: u64 = 64 << 10;
/// How long [`Recording::stop`](crate::Recording::stop) waits for the
/// writer to flush, fsync and save before it gives up waiting.
pub const STOP_WAIT: Duration = Duration::from_secs(10);
/// How long a track waits for a keyframe (a video packet with
/// random_access_indicator) after the PAT and PMT before it records
/// without one, measured on the stream's own clock.
pub const KEYFRAME_WAIT: Duration = Duration::from_secs(10);
/// The most finish notices waiting unread per subscriber; more are
/// dropped (the recordings' state says the same).
pub const NOTICE_QUEUE: usize = 64;

/// The bounds a [`Recorder`](crate::Recorder) works within. `Default`
/// gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// [`MIN_FREE_BYTES`].
    pub min_free_bytes: u64,
    /// [`KEEP_FREE_BYTES`]; 0 records until the disk is full.
    pub keep_free_bytes: u64,
    /// [`QUEUE_BYTES`].
    pub queue_bytes: usize,
    /// [`MAX_LIVE_RECORDINGS`].
    pub max_live: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            min_free_bytes: MIN_FREE_BYTES,
            keep_free_bytes: KEEP_FREE_BYTES,
            queue_bytes: QUEUE_BYTES,
            max_live: MAX_LIVE_RECORDINGS,
        }
    }
}

/// Refuses `value` when it is longer than `max` characters.
pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), TooLong> {
    let len = value.chars().count();
    if len > max {
        return Err(TooLong { field, len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_counted_in_characters() {
        assert!(check_text("title", "ééé", 3).is_ok());
        let err = check_text("title", "éééé", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "title is 4 characters long, at most 3 are allowed"
        );
    }

    #[test]
    fn a_recording_may_start_with_room_to_keep() {
        let limits = Limits::default();
        assert!(limits.min_free_bytes > limits.keep_free_bytes + RESERVE_BYTES);
    }
}
