//! The SRT elements shared by inputs and outputs.

use makara_config::{Invalid, SrtConfig, SrtRequest};

use super::fields::{choice, int, string};
use super::words::{word, SRT_ENCRYPTIONS, SRT_MODES};
use crate::xml::{Element, XmlWriter};

pub fn parse(el: &Element) -> Result<SrtRequest, Invalid> {
    Ok(SrtRequest {
        mode: choice(el, &["srtMode"], SRT_MODES)?,
        address: string(el, &["srtAddress"]),
        remote_port: int(el, &["srtRemotePort"])?,
        local_port: int(el, &["srtLocalPort"])?,
        passphrase: string(el, &["srtPassphrase"]),
        latency_ms: int(el, &["srtLatency"])?,
        encryption: choice(el, &["srtEncryption"], SRT_ENCRYPTIONS)?,
    })
}

pub fn render(w: &mut XmlWriter, srt: &SrtConfig, with_encryption: bool) {
    w.text("srtMode", word(SRT_MODES, &srt.mode));
    w.optional("srtAddress", srt.address.as_deref());
    w.optional("srtRemotePort", srt.remote_port);
    w.optional("srtLocalPort", srt.local_port);
    w.optional("srtPassphrase", srt.passphrase.as_deref());
    w.text("srtLatency", srt.latency_ms);
    if with_encryption {
        w.text("srtEncryption", word(SRT_ENCRYPTIONS, &srt.encryption));
    }
}
