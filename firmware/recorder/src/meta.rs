//! The metadata file of a recording, `recording.toml`, and the names of
//! the other files in a recording's directory.
//!
//! TOML, versioned by `format`; written only through
//! [`fsio::write_atomic`], so it is always whole. While a recording runs
//! it is rewritten on every change of state and at checkpoints
//! ([`SYNCS_PER_CHECKPOINT`](crate::limits::SYNCS_PER_CHECKPOINT)), where
//! a track's `bytes` and `duration` say how much of its file is synced
//! and how long that part lasts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use makara_config::Id;
use serde::{Deserialize, Serialize};

use crate::asset::{Asset, FinishReason, State, Track};
use crate::fsio;

/// The metadata file in a recording's directory.
pub const META_FILE: &str = "recording.toml";
/// The space a live recording sets aside, in its directory.
pub const RESERVE_FILE: &str = "reserved-space";
/// The `format` this version writes and reads.
const FORMAT: u32 = 1;

/// The file track `n` is recorded in.
pub fn track_file_name(n: usize) -> String {
    format!("track-{n}.ts")
}

pub(crate) fn track_path(dir: &Path, n: usize) -> PathBuf {
    dir.join(track_file_name(n))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaFile {
    format: u32,
    id: Id,
    title: String,
    description: String,
    group: Id,
    #[serde(default)]
    creator: String,
    created: u64,
    modified: u64,
    state: StateWord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finish: Option<ReasonWord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    duration: f64,
    #[serde(default)]
    dropped_packets: u64,
    tracks: Vec<TrackFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackFile {
    source: Id,
    bytes: u64,
    duration: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StateWord {
    Recording,
    Paused,
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ReasonWord {
    Stopped,
    DiskFull,
    Interrupted,
    WriteError,
}

impl From<FinishReason> for ReasonWord {
    fn from(reason: FinishReason) -> ReasonWord {
        match reason {
            FinishReason::Stopped => ReasonWord::Stopped,
            FinishReason::DiskFull => ReasonWord::DiskFull,
            FinishReason::Interrupted => ReasonWord::Interrupted,
            FinishReason::WriteError => ReasonWord::WriteError,
        }
    }
}

impl From<ReasonWord> for FinishReason {
    fn from(word: ReasonWord) -> FinishReason {
        match word {
            ReasonWord::Stopped => FinishReason::Stopped,
            ReasonWord::DiskFull => FinishReason::DiskFull,
            ReasonWord::Interrupted => FinishReason::Interrupted,
            ReasonWord::WriteError => FinishReason::WriteError,
        }
    }
}

/// The metadata file as text.
pub(crate) fn render(asset: &Asset) -> Result<String, toml::ser::Error> {
    let (state, finish) = match asset.state {
        State::Recording => (StateWord::Recording, None),
        State::Paused => (StateWord::Paused, None),
        State::Finished(reason) => (StateWord::Finished, Some(reason.into())),
    };
    let file = MetaFile {
        format: FORMAT,
        id: asset.id.clone(),
        title: asset.title.clone(),
        description: asset.description.clone(),
        group: asset.group.clone(),
        creator: asset.creator.clone(),
        created: asset.created,
        modified: asset.modified,
        state,
        finish,
        detail: asset.detail.clone(),
        duration: asset.duration_secs,
        dropped_packets: asset.dropped_packets,
        tracks: asset
            .tracks
            .iter()
            .map(|t| TrackFile {
                source: t.source.clone(),
                bytes: t.bytes,
                duration: t.duration_secs,
            })
            .collect(),
    };
    toml::to_string(&file)
}

/// Why a metadata file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not recorder metadata: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Reads the metadata of the recording in `dir`, whose name is `id`.
pub(crate) fn read(dir: &Path, id: &Id) -> Result<Asset, ReadError> {
    let path = dir.join(META_FILE);
    let text = fs::read_to_string(&path).map_err(|source| ReadError::Io {
        path: path.clone(),
        source,
    })?;
    let invalid = |message: String| ReadError::Invalid {
        path: path.clone(),
        message,
    };
    let file: MetaFile = toml::from_str(&text).map_err(|e| invalid(e.message().to_owned()))?;
    if file.format != FORMAT {
        return Err(invalid(format!("format {} is not {FORMAT}", file.format)));
    }
    if &file.id != id {
        return Err(invalid(format!("it names recording {}", file.id)));
    }
    let state = match (file.state, file.finish) {
        (StateWord::Recording, None) => State::Recording,
        (StateWord::Paused, None) => State::Paused,
        (StateWord::Finished, Some(reason)) => State::Finished(reason.into()),
        _ => return Err(invalid("`finish` goes with state \"finished\" only".into())),
    };
    Ok(Asset {
        id: file.id,
        title: file.title,
        description: file.description,
        group: file.group,
        creator: file.creator,
        created: file.created,
        modified: file.modified,
        state,
        detail: file.detail,
        duration_secs: file.duration,
        dropped_packets: file.dropped_packets,
        tracks: file
            .tracks
            .into_iter()
            .map(|t| Track {
                source: t.source,
                bytes: t.bytes,
                duration_secs: t.duration,
            })
            .collect(),
    })
}

/// Saves the metadata of the recording in `dir`, crash-safely.
pub(crate) fn write(dir: &Path, asset: &Asset) -> io::Result<()> {
    // Every field is a plain value TOML holds, so this does not fail; if
    // it did, the file on disk would be kept as it is.
    let text = render(asset).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    fsio::write_atomic(&dir.join(META_FILE), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    fn id(n: u8) -> Id {
        Id::parse(&format!("00000000-0000-4000-8000-0000000000{n:02x}")).unwrap()
    }

    fn sample() -> Asset {
        Asset {
            id: id(1),
            title: "Camera \"A\"\nand slides".into(),
            description: "lecture".into(),
            group: id(2),
            creator: "ops".into(),
            created: 1_700_000_000,
            modified: 1_700_000_100,
            state: State::Finished(FinishReason::DiskFull),
            detail: Some("writing track-0.ts: no space".into()),
            duration_secs: 12.5,
            dropped_packets: 3,
            tracks: vec![
                Track {
                    source: id(3),
                    bytes: 188 * 1000,
                    duration_secs: 12.5,
                },
                Track {
                    source: id(4),
                    bytes: 0,
                    duration_secs: 0.0,
                },
            ],
        }
    }

    #[test]
    fn metadata_round_trips_through_its_file() {
        let dir = TestDir::new("recorder-meta");
        let asset = sample();
        write(dir.path(), &asset).unwrap();
        assert_eq!(read(dir.path(), &asset.id).unwrap(), asset);
        for state in [State::Recording, State::Paused] {
            let live = Asset {
                state,
                detail: None,
                ..sample()
            };
            write(dir.path(), &live).unwrap();
            assert_eq!(read(dir.path(), &live.id).unwrap(), live);
        }
    }

    #[test]
    fn the_file_reads_as_plain_toml() {
        let text = render(&sample()).unwrap();
        assert!(text.contains("state = \"finished\"\n"), "{text}");
        assert!(text.contains("finish = \"disk-full\"\n"), "{text}");
        assert!(text.contains("[[tracks]]\n"), "{text}");
        assert!(text.contains("bytes = 188000\n"), "{text}");
    }

    #[test]
    fn metadata_of_another_recording_or_format_is_refused() {
        let dir = TestDir::new("recorder-meta-bad");
        write(dir.path(), &sample()).unwrap();
        let err = read(dir.path(), &id(9)).unwrap_err().to_string();
        assert!(err.contains("names recording"), "{err}");
        let text = render(&sample())
            .unwrap()
            .replace("format = 1", "format = 7");
        fs::write(dir.join(META_FILE), text).unwrap();
        let err = read(dir.path(), &id(1)).unwrap_err().to_string();
        assert!(err.contains("format 7 is not 1"), "{err}");
        fs::write(dir.join(META_FILE), "state = 3").unwrap();
        assert!(read(dir.path(), &id(1)).is_err());
        let text = render(&sample())
            .unwrap()
            .replace("state = \"finished\"", "state = \"paused\"");
        fs::write(dir.join(META_FILE), text).unwrap();
        let err = read(dir.path(), &id(1)).unwrap_err().to_string();
        assert!(err.contains("`finish` goes with"), "{err}");
    }
}
