//! SRT inputs: not yet built (makara-srt, the libsrt driver, is being
//! written); opening one fails with a clear error until then.

use std::time::Duration;

use makara_config::SrtConfig;
use makara_media::SrtLinkStats;

use crate::activity::Silence;
use crate::error::InputError;

#[derive(Debug)]
pub struct SrtReceiver {
    label: String,
}

impl SrtReceiver {
    pub fn open(srt: &SrtConfig, _interface: Option<&str>) -> Result<SrtReceiver, InputError> {
        let label = format!("srt ({:?})", srt.mode).to_lowercase();
        Err(InputError::SrtUnavailable { label })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn receive(
        &mut self,
        _buf: &mut [u8],
        _wait: Duration,
    ) -> Result<Option<usize>, InputError> {
        Err(InputError::SrtUnavailable {
            label: self.label.clone(),
        })
    }

    pub fn connections(&self) -> u64 {
        0
    }

    pub fn problem(&self) -> Option<String> {
        None
    }

    pub fn describe_silence(&self, silence: Silence) -> String {
        silence.describe(&self.label)
    }

    pub fn link_stats(&self) -> Option<SrtLinkStats> {
        None
    }
}
