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
        stream_id: string(el, &["srtStreamId"]),
    })
}

pub fn render(w: &mut XmlWriter, srt: &SrtConfig, with_encryption: bool) {
    w.text("srtMode", word(SRT_MODES, &srt.mode));
    w.optional("srtAddress", srt.address.as_deref());
    w.optional("srtRemotePort", srt.remote_port);
    w.optional("srtLocalPort", srt.local_port);
    w.optional("srtPassphrase", srt.passphrase.as_deref());
    w.text("srtLatency", srt.latency_ms);
    // Ours: SRT access control's stream id (not in the contract).
    w.optional("srtStreamId", srt.stream_id.as_deref());
    if with_encryption {
        w.text("srtEncryption", word(SRT_ENCRYPTIONS, &srt.encryption));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse as parse_xml;

    fn srt_of(body: &str) -> SrtRequest {
        parse(&parse_xml(body.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn stream_id_is_read_and_written_after_latency() {
        let request = srt_of(
            "<output><srtMode>caller</srtMode><srtAddress>127.0.0.1</srtAddress>\
             <srtRemotePort>9000</srtRemotePort><srtLatency>200</srtLatency>\
             <srtStreamId>#!::r=live/feed,m=publish</srtStreamId></output>",
        );
        assert_eq!(
            request.stream_id.as_deref(),
            Some("#!::r=live/feed,m=publish")
        );
        let config = request.validate_output().unwrap();
        let mut w = XmlWriter::new();
        render(&mut w, &config, true);
        let golden = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                      <srtMode>caller</srtMode>\n\
                      <srtAddress>127.0.0.1</srtAddress>\n\
                      <srtRemotePort>9000</srtRemotePort>\n\
                      <srtLatency>200</srtLatency>\n\
                      <srtStreamId>#!::r=live/feed,m=publish</srtStreamId>\n\
                      <srtEncryption>None</srtEncryption>\n";
        assert_eq!(w.finish(), golden);
    }

    #[test]
    fn without_stream_id_nothing_is_written() {
        let config =
            srt_of("<input><srtMode>listener</srtMode><srtLocalPort>9000</srtLocalPort></input>")
                .validate_input()
                .unwrap();
        assert_eq!(config.stream_id, None);
        let mut w = XmlWriter::new();
        render(&mut w, &config, false);
        assert!(!w.finish().contains("srtStreamId"));
    }
}
