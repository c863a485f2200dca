//! `/apis/kraken/outputs`: reading `<output>` bodies and writing outputs.

use makara_config::{Invalid, OutputKind, OutputRequest, OutputType, SapConfig, SapRequest};
use makara_supervisor::{Kind, OutputView};

use super::fields::{boolean, choice, int, int_or_hex, nic_name, string};
use super::links::Links;
use super::words::{on_off, resource_state, OUTPUT_TYPES};
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
    w.optional("url", c.kind.url().map(|u| u.as_str()));
    w.optional("description", c.description.as_deref());
    if c.kind.output_type() == OutputType::Srt {
        w.text("streamType", "SRT");
    }
    w.text("state", resource_state(v.state));
    w.text("mtu", c.mtu);
    w.text("ttl", c.ttl);
    w.text("tos", c.tos);
    if let OutputKind::Srt { srt, .. } = &c.kind {
        super::srt::render(w, srt, true);
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
