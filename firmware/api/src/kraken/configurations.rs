//! `/apis/kraken/configurations`: presets.

use makara_config::Invalid;
use makara_supervisor::{Kind, PresetView};

use super::fields::{boolean, string};
use super::links::Links;
use crate::xml::{Element, XmlWriter};

/// A configuration PUT: load it, and/or make it the boot default.
#[derive(Debug, PartialEq, Eq)]
pub struct PresetUpdate {
    pub activate: bool,
    pub make_default: Option<bool>,
}

pub fn parse_name(el: &Element) -> String {
    string(el, &["name"]).unwrap_or_default()
}

pub fn parse_update(el: &Element) -> Result<PresetUpdate, Invalid> {
    Ok(PresetUpdate {
        activate: boolean(el, &["activate"])?.unwrap_or(false),
        make_default: boolean(el, &["default", "defaultConfig"])?,
    })
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

pub fn render_list(w: &mut XmlWriter, views: &[PresetView], links: &Links) {
    w.open("configurations");
    for v in views {
        w.open("configuration");
        w.text("uuid", &v.id);
        w.text("name", &v.name);
        w.text("defaultConfig", yes_no(v.is_default));
        w.link("self", &links.resource(Kind::Preset, &v.id));
        w.close();
    }
    w.close();
}

pub fn render(w: &mut XmlWriter, v: &PresetView, links: &Links) {
    w.open("configuration");
    w.text("uuid", &v.id);
    w.text("name", &v.name);
    w.text("defaultConfig", yes_no(v.is_default));
    w.text("created", v.created_unix);
    w.text("inputCount", v.inputs);
    w.text("outputCount", v.outputs);
    w.text("transcoderCount", v.transcoders);
    w.text("streamCount", v.streams);
    w.link("self", &links.resource(Kind::Preset, &v.id));
    w.close();
}
