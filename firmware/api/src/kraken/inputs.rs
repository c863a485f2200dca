//! `/apis/kraken/inputs`: reading `<input>` bodies and writing inputs.

use makara_config::{InputKind, InputRequest, Invalid};
use makara_supervisor::{InputView, Kind};

use super::fields::{choice, int, nic_name, string};
use super::links::Links;
use super::words::{resource_state, word, INPUT_TYPES};
use crate::xml::{Element, XmlWriter};

pub fn parse(el: &Element) -> Result<InputRequest, Invalid> {
    Ok(InputRequest {
        name: string(el, &["name"]),
        description: string(el, &["description"]),
        url: string(el, &["url"]),
        stream_type: choice(el, &["streamType"], INPUT_TYPES)?,
        interface: el
            .text_of(&["interface"])
            .map(nic_name)
            .transpose()?
            .flatten(),
        capture_port: int(el, &["capturePort", "capture_card"])?,
        capture_mode: int(el, &["captureMode", "capture_mode"])?,
        decklink_port: int(el, &["decklinkPort"])?,
        decklink_mode: int(el, &["decklinkMode"])?,
        srt: super::srt::parse(el)?,
        width: int(el, &["width"])?,
        height: int(el, &["height"])?,
        frame_rate: int(el, &["frameRate", "framerate"])?,
    })
}

pub fn render_list(w: &mut XmlWriter, views: &[InputView], links: &Links) {
    w.open("inputs");
    for v in views {
        w.open("input");
        w.text("uuid", &v.id);
        w.text("name", &v.config.name);
        w.link("self", &links.resource(Kind::Input, &v.id));
        w.close();
    }
    w.close();
}

pub fn render(w: &mut XmlWriter, v: &InputView, links: &Links) {
    let c = &v.config;
    w.open("input");
    w.text("uuid", &v.id);
    w.text("name", &c.name);
    // The URL is a required field and is always returned, empty for
    // capture inputs, as the contract's V4L2 example shows.
    w.text("url", c.kind.url().map_or("", |u| u.as_str()));
    w.optional("description", c.description.as_deref());
    w.text("streamType", word(INPUT_TYPES, &c.kind.input_type()));
    if let Some(nic) = &c.interface {
        w.text("interface", links.nic(nic));
    }
    match &c.kind {
        InputKind::Srt { srt, .. } => super::srt::render(w, srt, false),
        InputKind::V4l2 { port, mode } => {
            w.text("capturePort", port);
            w.text("captureMode", mode);
        }
        InputKind::Decklink { port, mode } => {
            w.text("decklinkPort", port);
            w.text("decklinkMode", mode);
        }
        InputKind::TestPattern(p) => {
            w.text("width", p.width);
            w.text("height", p.height);
            w.text("frameRate", p.frame_rate);
        }
        InputKind::Mpeg2Ts { .. } | InputKind::Rtsp { .. } | InputKind::MjpegRaw { .. } => {}
    }
    w.text("state", resource_state(v.state));
    w.optional("lastError", v.last_error.as_deref());
    w.link("self", &links.resource(Kind::Input, &v.id));
    w.close();
}

#[cfg(test)]
mod tests {
    use makara_config::Id;
    use makara_supervisor::{ResourceState, StreamState};

    use super::*;

    const ID: &str = "c769e651-b6a5-4547-94d5-f06bd2877a65";

    fn srt_listener(last_error: Option<&str>) -> InputView {
        let request = InputRequest {
            name: Some("feed".into()),
            stream_type: Some(makara_config::InputType::Srt),
            srt: makara_config::SrtRequest {
                mode: Some(makara_config::SrtMode::Listener),
                local_port: Some(9000),
                stream_id: Some("studio/feed".into()),
                ..Default::default()
            },
            ..InputRequest::default()
        };
        InputView {
            id: Id::parse(ID).unwrap(),
            config: request.validate().unwrap(),
            state: ResourceState::Stream(StreamState::Waiting),
            last_error: last_error.map(str::to_string),
        }
    }

    fn rendered(v: &InputView) -> String {
        let mut w = XmlWriter::new();
        render(&mut w, v, &Links::new("box", "bc305be293d3"));
        w.finish()
    }

    #[test]
    fn an_srt_input_with_its_stream_id_and_last_error() {
        let golden = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<input>\n  <uuid>{ID}</uuid>\n  \
             <name>feed</name>\n  <url></url>\n  <streamType>SRT</streamType>\n  \
             <srtMode>listener</srtMode>\n  <srtLocalPort>9000</srtLocalPort>\n  \
             <srtLatency>125</srtLatency>\n  <srtStreamId>studio/feed</srtStreamId>\n  \
             <state>waiting</state>\n  \
             <lastError>wrong passphrase from 127.0.0.1:40000</lastError>\n  \
             <link rel=\"self\" type=\"application/xml\" \
             href=\"https://box/apis/kraken/inputs/input-{ID}\"/>\n</input>\n"
        );
        let v = srt_listener(Some("wrong passphrase from 127.0.0.1:40000"));
        assert_eq!(rendered(&v), golden);
        assert!(!rendered(&srt_listener(None)).contains("lastError"));
    }
}
