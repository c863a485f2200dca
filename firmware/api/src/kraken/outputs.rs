//! `/apis/kraken/outputs`: reading `<output>` bodies and writing outputs.

use makara_config::{Invalid, OutputKind, OutputRequest, OutputType, SapConfig, SapRequest};
use makara_supervisor::{Kind, OutputView};

use super::fields::{boolean, choice, int, int_or_hex, nic_name, string};
use super::links::Links;
use super::words::{on_off, resource_state, word, OUTPUT_TYPES};
use crate::xml::{Element, XmlWriter};

pub fn parse(el: &Element) -> Result<OutputRequest, Invalid> {
    Ok(OutputRequest {
        name: string(el, &["name"]),
        description: string(el, &["description"]),
        url: string(el, &["url"]),
        stream_type: choice(el, &["streamType"], OUTPUT_TYPES)?,
        interface: el
            .text_of(&["interface"])
            .map(nic_name)
            .transpose()?
            .flatten(),
        mtu: int(el, &["mtu"])?,
        ttl: int(el, &["ttl"])?,
        tos: int_or_hex(el, &["tos"])?,
        sap: el.child(&["sap"]).map(parse_sap).transpose()?,
        srt: super::srt::parse(el)?,
        // Ours, not in the contract: docs/kraken-api.md.
        enabled: boolean(el, &["enabled"])?,
        retry_limit: int(el, &["retryLimit"])?,
        retry_delay_max: int(el, &["retryDelayMax"])?,
    })
}

fn parse_sap(el: &Element) -> Result<SapRequest, Invalid> {
    Ok(SapRequest {
        transmit: boolean(el, &["transmitSap"])?,
        address: string(el, &["address"]),
        port: int(el, &["port"])?,
        session_name: string(el, &["sessionName"]),
        session_description: string(el, &["sessionDescription"]),
        keywords: string(el, &["keywords"]),
        author: string(el, &["author"]),
    })
}

pub fn render_list(w: &mut XmlWriter, views: &[OutputView], links: &Links) {
    w.open("outputs");
    for v in views {
        w.open("output");
        w.text("uuid", &v.id);
        w.text("name", &v.config.name);
        w.link("self", &links.resource(Kind::Output, &v.id));
        w.close();
    }
    w.close();
}

pub fn render(w: &mut XmlWriter, v: &OutputView, links: &Links) {
    let c = &v.config;
    w.open("output");
    w.text("uuid", &v.id);
    w.text("name", &c.name);
    w.optional("url", c.kind.url());
    w.optional("description", c.description.as_deref());
    if c.kind.output_type() != OutputType::Udp {
        w.text("streamType", word(OUTPUT_TYPES, &c.kind.output_type()));
    }
    w.text("state", resource_state(v.state));
    w.optional("lastError", v.last_error.as_deref());
    if c.kind.output_type() != OutputType::Rtmp {
        w.text("mtu", c.mtu);
    }
    w.text("ttl", c.ttl);
    w.text("tos", c.tos);
    w.text("enabled", on_off(c.enabled));
    match &c.kind {
        OutputKind::Srt { srt, .. } => super::srt::render(w, srt, true),
        OutputKind::Rtmp { .. } => {
            w.text("retryLimit", c.retry.limit);
            w.text("retryDelayMax", c.retry.delay_max_s);
        }
        OutputKind::Udp { .. } | OutputKind::Rtsp { .. } => {}
    }
    if let Some(sap) = &c.sap {
        render_sap(w, sap);
    }
    if let Some(nic) = &c.interface {
        w.text("interface", links.nic(nic));
    }
    w.link("self", &links.resource(Kind::Output, &v.id));
    w.close();
}

fn render_sap(w: &mut XmlWriter, sap: &SapConfig) {
    w.open("sap");
    w.text("transmitSap", on_off(sap.transmit));
    w.text("address", &sap.address);
    w.text("port", sap.port);
    w.optional("sessionName", sap.session_name.as_deref());
    w.optional("sessionDescription", sap.session_description.as_deref());
    w.optional("keywords", sap.keywords.as_deref());
    w.optional("author", sap.author.as_deref());
    w.close();
}

#[cfg(test)]
mod tests {
    use makara_config::{Id, SrtEncryption, SrtMode, SrtRequest};
    use makara_supervisor::{ResourceState, StreamState};

    use super::*;

    const ID: &str = "fcc7f606-c331-427c-bff9-644f8aa62d11";

    #[test]
    fn an_srt_caller_output_with_its_stream_id_and_last_error() {
        let request = OutputRequest {
            name: Some("to studio".into()),
            stream_type: Some(OutputType::Srt),
            srt: SrtRequest {
                mode: Some(SrtMode::Caller),
                address: Some("127.0.0.1".into()),
                remote_port: Some(9000),
                passphrase: Some("0123456789".into()),
                encryption: Some(SrtEncryption::Aes128),
                stream_id: Some("#!::r=live,m=publish".into()),
                ..SrtRequest::default()
            },
            ..OutputRequest::default()
        };
        let v = OutputView {
            id: Id::parse(ID).unwrap(),
            config: request.validate().unwrap(),
            state: ResourceState::Stream(StreamState::Waiting),
            last_error: Some("srt://127.0.0.1:9000: connection refused".into()),
        };
        let mut w = XmlWriter::new();
        render(&mut w, &v, &Links::new("box", "bc305be293d3"));
        let golden = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<output>\n  <uuid>{ID}</uuid>\n  \
             <name>to studio</name>\n  <streamType>SRT</streamType>\n  \
             <state>waiting</state>\n  \
             <lastError>srt://127.0.0.1:9000: connection refused</lastError>\n  \
             <mtu>1490</mtu>\n  <ttl>64</ttl>\n  <tos>184</tos>\n  <enabled>on</enabled>\n  \
             <srtMode>caller</srtMode>\n  <srtAddress>127.0.0.1</srtAddress>\n  \
             <srtRemotePort>9000</srtRemotePort>\n  <srtPassphrase>0123456789</srtPassphrase>\n  \
             <srtLatency>125</srtLatency>\n  <srtStreamId>#!::r=live,m=publish</srtStreamId>\n  \
             <srtEncryption>aes128</srtEncryption>\n  \
             <link rel=\"self\" type=\"application/xml\" \
             href=\"https://box/apis/kraken/outputs/output-{ID}\"/>\n</output>\n"
        );
        assert_eq!(w.finish(), golden);
    }

    fn rendered(body: &str) -> String {
        let request = parse(&crate::xml::parse(body.as_bytes()).unwrap()).unwrap();
        let v = OutputView {
            id: Id::parse(ID).unwrap(),
            config: request.validate().unwrap(),
            state: ResourceState::Unset,
            last_error: None,
        };
        let mut w = XmlWriter::new();
        render(&mut w, &v, &Links::new("box", "bc305be293d3"));
        w.finish()
    }

    #[test]
    fn an_rtmp_output_with_its_retry_policy_and_disabled() {
        let xml = rendered(
            "<output><name>cdn</name><streamType>RTMP</streamType>\
             <url>rtmp://127.0.0.1:1935/live/key1</url><enabled>false</enabled>\
             <retryLimit>5</retryLimit><retryDelayMax>8</retryDelayMax></output>",
        );
        let expected = "  <name>cdn</name>\n  <url>rtmp://127.0.0.1:1935/live/key1</url>\n  \
                        <streamType>RTMP</streamType>\n  <state>unset</state>\n  \
                        <ttl>64</ttl>\n  <tos>184</tos>\n  <enabled>off</enabled>\n  \
                        <retryLimit>5</retryLimit>\n  <retryDelayMax>8</retryDelayMax>\n";
        assert!(xml.contains(expected), "{xml}");
    }

    #[test]
    fn an_rtsp_output_shows_its_mtu_and_no_retry_policy() {
        let xml = rendered(
            "<output><name>vms</name><streamType>RTSP</streamType>\
             <url>rtsp://0.0.0.0:8554/cam1</url></output>",
        );
        let expected = "  <streamType>RTSP</streamType>\n  <state>unset</state>\n  \
                        <mtu>1490</mtu>\n  <ttl>64</ttl>\n  <tos>184</tos>\n  \
                        <enabled>on</enabled>\n  <link";
        assert!(xml.contains(expected), "{xml}");
    }
}
