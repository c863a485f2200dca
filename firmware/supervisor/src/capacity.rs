//! The encoding capacity this box measured: per codec and picture size,
//! how many live channels its encoders sustain. `makarad bench capacity`
//! measures and saves it (crash-safe slots `capacity.{a,b}` in the data
//! directory); the system report reads it back on every request, so a
//! measurement made while `makarad serve` runs shows at once.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use makara_config::VideoType;
use makara_store::Slots;
use serde::{Deserialize, Serialize};
use thiserror::Error;

const SLOT_NAME: &str = "capacity";

/// One measurement run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderCapacity {
    /// When the run ended, in seconds since the Unix epoch.
    pub measured_unix: u64,
    /// The firmware that measured it: a new build may encode faster.
    pub firmware: String,
    pub codecs: Vec<CodecCapacity>,
}

/// One codec at one picture size and rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecCapacity {
    pub codec: VideoType,
    pub width: u32,
    pub height: u32,
    pub frame_rate: u32,
    /// What the measurement found: frames per second through the whole
    /// path, or why the codec could not be measured.
    pub result: Measured,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Measured {
    Fps(f64),
    Failed(String),
}

impl CodecCapacity {
    /// Live channels at this size and rate: whole multiples of the frame
    /// rate the encoder keeps up with when it has the machine to itself.
    /// Several channels share the cores, so this is the ceiling a box
    /// with nothing else to do reaches; docs/codecs.md says how it is
    /// measured.
    pub fn channels(&self) -> Option<u32> {
        match self.result {
            Measured::Fps(fps) if self.frame_rate > 0 => {
                Some((fps / f64::from(self.frame_rate)).floor() as u32)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Error)]
pub enum CapacityError {
    #[error("the encoder capacity could not be read: {0}")]
    Load(#[from] makara_store::LoadError),
    #[error("the encoder capacity could not be saved: {0}")]
    Save(#[from] makara_store::SaveError),
    #[error("{path}: not an encoder capacity record: {reason}")]
    Format { path: String, reason: String },
}

impl EncoderCapacity {
    pub fn new(codecs: Vec<CodecCapacity>) -> EncoderCapacity {
        EncoderCapacity {
            measured_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            firmware: makara_board::firmware_version().to_string(),
            codecs,
        }
    }

    /// The last measurement saved in `data_dir`, or `None` if there is none.
    pub fn load(data_dir: &Path) -> Result<Option<EncoderCapacity>, CapacityError> {
        let Some(loaded) = Slots::new(data_dir, SLOT_NAME).load()? else {
            return Ok(None);
        };
        let format = |reason: String| CapacityError::Format {
            path: loaded.path.display().to_string(),
            reason,
        };
        let text = std::str::from_utf8(&loaded.payload).map_err(|e| format(e.to_string()))?;
        toml::from_str(text)
            .map(Some)
            .map_err(|e| format(e.to_string()))
    }

    /// Saves this measurement in `data_dir`, durably, in place of the last.
    pub fn save(&self, data_dir: &Path) -> Result<(), CapacityError> {
        let text = toml::to_string(self).map_err(|e| CapacityError::Format {
            path: data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        Slots::new(data_dir, SLOT_NAME)
            .with_mode(0o644)
            .save(text.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    fn entry(codec: VideoType, result: Measured) -> CodecCapacity {
        CodecCapacity {
            codec,
            width: 1280,
            height: 720,
            frame_rate: 30,
            result,
        }
    }

    #[test]
    fn channels_are_whole_multiples_of_the_frame_rate() {
        assert_eq!(
            entry(VideoType::Avc, Measured::Fps(95.9)).channels(),
            Some(3)
        );
        assert_eq!(
            entry(VideoType::Av1, Measured::Fps(29.9)).channels(),
            Some(0)
        );
        let failed = entry(VideoType::Hevc, Measured::Failed("no encoder".into()));
        assert_eq!(failed.channels(), None);
    }

    #[test]
    fn a_saved_measurement_loads_back_and_the_latest_wins() {
        let dir = TestDir::new("capacity");
        assert_eq!(EncoderCapacity::load(dir.path()).unwrap(), None);
        let first = EncoderCapacity::new(vec![entry(VideoType::Avc, Measured::Fps(120.0))]);
        first.save(dir.path()).unwrap();
        let second = EncoderCapacity::new(vec![
            entry(VideoType::Avc, Measured::Fps(130.5)),
            entry(VideoType::Mpeg2Video, Measured::Failed("refused".into())),
        ]);
        second.save(dir.path()).unwrap();
        assert_eq!(EncoderCapacity::load(dir.path()).unwrap(), Some(second));
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_file() {
        let dir = TestDir::new("capacity");
        Slots::new(dir.path(), SLOT_NAME)
            .save(b"codecs = 7")
            .unwrap();
        let e = EncoderCapacity::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("capacity.") && e.contains("not an encoder capacity record"),
            "{e}"
        );
    }
}
