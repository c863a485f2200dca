//! A live recording's writer thread: the only code that writes its track
//! files.
//!
//! It takes what the sinks queued, lets each track's packets through its
//! [`Gate`], and appends them to the track's file in large writes. Every
//! [`SYNC_INTERVAL`] it flushes and fsyncs the files, every
//! [`SYNC_INTERVAL`] and [`SPACE_CHECK_BYTES`] it checks the free space,
//! and every [`SYNCS_PER_CHECKPOINT`] syncs it saves the metadata
//! (a checkpoint for recovery). It finishes on a stop, or on the first
//! write that fails: then every file is cut back to its last whole packet
//! and fsynced, the space the recording set aside is given back, and the
//! metadata is saved as finished, with the reason.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::asset::{FinishReason, Finished, State};
use crate::fsio::{self, is_disk_full};
use crate::gate::Gate;
use crate::limits::{SPACE_CHECK_BYTES, SYNCS_PER_CHECKPOINT, SYNC_INTERVAL};
use crate::live::{Item, Live};
use crate::meta::{self, RESERVE_FILE};
use crate::scan;

/// How long the writer waits for packets before it looks at the clock:
/// a stop is seen within this.
const POLL: Duration = Duration::from_millis(100);
/// A track's admitted packets are written once this many have gathered
/// (and at every sync).
const FLUSH_BYTES: usize = 256 << 10;

/// One track file being written.
#[derive(Debug)]
struct TrackWriter {
    file: File,
    path: PathBuf,
    gate: Gate,
    pending: Vec<u8>,
    /// Bytes admitted: written, or in `pending`.
    admitted: u64,
    /// Bytes and seconds at the last successful fsync: what a failure
    /// cannot take away.
    synced: (u64, f64),
}

impl TrackWriter {
    fn feed(&mut self, bytes: &[u8]) -> io::Result<()> {
        for packet in bytes.chunks_exact(makara_mpegts::packet::PACKET_LEN) {
            if self.gate.admit(packet) {
                self.pending.extend_from_slice(packet);
                self.admitted += packet.len() as u64;
            }
        }
        if self.pending.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.file.sync_data()?;
        self.synced = (self.admitted, self.gate.seconds());
        Ok(())
    }

    /// Cuts the file to whole packets; its length and duration.
    fn cut(&mut self, all_flushed: bool) -> io::Result<(u64, f64)> {
        let len = scan::cut_to_whole_packets(&self.file)?;
        if all_flushed && len == self.admitted {
            return Ok((len, self.gate.seconds()));
        }
        // Some of what was admitted never reached the file: measure the
        // part after the last sync from the file itself.
        let (bytes, seconds) = self.synced;
        let from = bytes.min(len);
        Ok((len, seconds + scan::measure(&self.file, from, len)?))
    }
}

/// Why the writer stops.
struct Ending {
    reason: FinishReason,
    detail: Option<String>,
}

impl Ending {
    fn failed(doing: &str, path: &std::path::Path, error: &io::Error) -> Ending {
        let reason = if is_disk_full(error) {
            FinishReason::DiskFull
        } else {
            FinishReason::WriteError
        };
        let detail = format!("{doing} {}: {error}", path.display());
        Ending {
            reason,
            detail: Some(detail),
        }
    }
}

pub(crate) struct Writer {
    live: Arc<Live>,
    tracks: Vec<TrackWriter>,
    keep_free_bytes: u64,
    last_sync: Instant,
    syncs: u32,
    /// Bytes taken since the free space was last checked.
    unchecked: u64,
}

impl Writer {
    /// A writer for `live`, whose track files are `files` (empty, open for
    /// writing, in track order).
    pub fn new(live: Arc<Live>, files: Vec<File>, keep_free_bytes: u64) -> Writer {
        let dir = live.record.dir.clone();
        let tracks = files
            .into_iter()
            .enumerate()
            .map(|(n, file)| TrackWriter {
                file,
                path: meta::track_path(&dir, n),
                gate: Gate::default(),
                pending: Vec::new(),
                admitted: 0,
                synced: (0, 0.0),
            })
            .collect();
        Writer {
            live,
            tracks,
            keep_free_bytes,
            last_sync: Instant::now(),
            syncs: 0,
            unchecked: 0,
        }
    }

    pub fn spawn(self, name: String) -> io::Result<JoinHandle<()>> {
        thread::Builder::new().name(name).spawn(move || self.run())
    }

    fn run(mut self) {
        let ending = self.record();
        self.finish(ending);
    }

    /// Records until a stop or a failure.
    fn record(&mut self) -> Ending {
        loop {
            let items = self.live.take(POLL);
            let mut bytes = 0;
            for item in items {
                match item {
                    Item::Packets {
                        track,
                        bytes: packets,
                    } => {
                        bytes += packets.len();
                        let t = &mut self.tracks[track];
                        if let Err(e) = t.feed(&packets) {
                            self.live.processed(bytes);
                            return Ending::failed("writing", &t.path, &e);
                        }
                        self.unchecked += packets.len() as u64;
                        if self.unchecked >= SPACE_CHECK_BYTES {
                            if let Some(ending) = self.check_space() {
                                self.live.processed(bytes);
                                return ending;
                            }
                        }
                    }
                    Item::Resume => self.tracks.iter_mut().for_each(|t| t.gate.restart()),
                    Item::Stop(reason) => {
                        return Ending {
                            reason,
                            detail: None,
                        }
                    }
                }
            }
            self.live.processed(bytes);
            self.publish();
            if self.last_sync.elapsed() >= SYNC_INTERVAL {
                if let Some(ending) = self.sync() {
                    return ending;
                }
            }
        }
    }

    /// Shows the tracks' progress in the catalog.
    fn publish(&self) {
        let dropped = self.live.dropped_packets();
        self.live.record.publish(|asset| {
            for (track, writer) in asset.tracks.iter_mut().zip(&self.tracks) {
                track.bytes = writer.admitted;
                track.duration_secs = writer.gate.seconds();
            }
            asset.duration_secs = longest(asset.tracks.iter().map(|t| t.duration_secs));
            asset.dropped_packets = dropped;
        });
    }

    /// Flushes and fsyncs every track, checks the free space, and now and
    /// then saves a checkpoint. `Some` when the recording must end.
    fn sync(&mut self) -> Option<Ending> {
        self.last_sync = Instant::now();
        for t in &mut self.tracks {
            if let Err(e) = t.sync() {
                return Some(Ending::failed("writing", &t.path, &e));
            }
        }
        if let Some(ending) = self.check_space() {
            return Some(ending);
        }
        self.syncs += 1;
        if self.syncs.is_multiple_of(SYNCS_PER_CHECKPOINT) {
            if let Err(e) = self.live.record.save() {
                let path = self.live.record.dir.join(meta::META_FILE);
                return Some(Ending::failed("saving", &path, &e));
            }
        }
        None
    }

    fn check_space(&mut self) -> Option<Ending> {
        self.unchecked = 0;
        if self.keep_free_bytes == 0 {
            return None;
        }
        let dir = &self.live.record.dir;
        let space = match makara_store::space(dir) {
            Ok(space) => space,
            Err(e) => return Some(Ending::failed("checking the free space of", dir, &e)),
        };
        if space.available_bytes >= self.keep_free_bytes {
            return None;
        }
        let detail = format!(
            "only {} bytes are free on the disk holding {}, less than the {} kept free",
            space.available_bytes,
            dir.display(),
            self.keep_free_bytes
        );
        Some(Ending {
            reason: FinishReason::DiskFull,
            detail: Some(detail),
        })
    }

    /// Makes the files whole and durable, gives back the reserve, saves
    /// the metadata as finished and tells whoever waits.
    fn finish(mut self, mut ending: Ending) {
        self.live.shut();
        let mut problems: Vec<String> = ending.detail.take().into_iter().collect();
        let mut all_flushed = true;
        for t in &mut self.tracks {
            if let Err(e) = t.flush() {
                all_flushed = false;
                if problems.is_empty() {
                    let failed = Ending::failed("writing", &t.path, &e);
                    ending.reason = failed.reason;
                    problems.extend(failed.detail);
                }
            }
        }
        let mut results = Vec::with_capacity(self.tracks.len());
        for t in &mut self.tracks {
            match t.cut(all_flushed) {
                Ok(result) => results.push(result),
                Err(e) => {
                    problems.push(format!("finalising {}: {e}", t.path.display()));
                    results.push((t.synced.0, t.synced.1));
                }
            }
        }
        let dir = self.live.record.dir.clone();
        if let Err(e) = fsio::remove_if_present(&dir.join(RESERVE_FILE)) {
            problems.push(format!(
                "removing {}: {e}",
                dir.join(RESERVE_FILE).display()
            ));
        }
        let dropped = self.live.dropped_packets();
        let reason = ending.reason;
        self.live.record.publish(|asset| {
            for (track, &(bytes, seconds)) in asset.tracks.iter_mut().zip(&results) {
                track.bytes = bytes;
                track.duration_secs = seconds;
            }
            asset.duration_secs = longest(results.iter().map(|r| r.1));
            asset.dropped_packets = dropped;
            asset.state = State::Finished(reason);
            asset.modified = fsio::unix_now();
            asset.detail = (!problems.is_empty()).then(|| problems.join("; "));
        });
        if let Err(e) = self.live.record.save() {
            let note = format!(
                "its metadata could not be saved ({e}), so the next start finalises it again"
            );
            self.live.record.publish(|asset| {
                let detail = asset
                    .detail
                    .take()
                    .map_or(note.clone(), |d| format!("{d}; {note}"));
                asset.detail = Some(detail);
            });
        }
        let asset = self.live.record.snapshot();
        self.live.mark_done();
        self.live.notices.send(&Finished {
            id: asset.id,
            reason,
            detail: asset.detail,
            duration_secs: asset.duration_secs,
        });
    }
}

fn longest(durations: impl Iterator<Item = f64>) -> f64 {
    durations.fold(0.0, f64::max)
}
