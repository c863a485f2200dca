//! `/apis/kraken/system` and `/apis/servers`.

use makara_supervisor::{NicView, ServerView, SystemView};

use super::links::Links;
use crate::xml::XmlWriter;

/// The version, and capture sections only for capture drivers present.
pub fn render_system(w: &mut XmlWriter, s: &SystemView) {
    w.open("system");
    w.text("version", &s.version);
    w.text("hostname", &s.hostname);
    w.close();
}

pub fn render_servers(w: &mut XmlWriter, s: &ServerView, links: &Links) {
    w.open("servers");
    w.open("server");
    w.text("id", &s.id);
    w.link("self", &links.server());
    w.close();
    w.close();
}

pub fn render_server(w: &mut XmlWriter, s: &ServerView, links: &Links) {
    w.open("server");
    w.text("id", &s.id);
    w.link("self", &links.server());
    w.link("nics", &links.nics());
    w.close();
}

pub fn render_nics(w: &mut XmlWriter, nics: &[NicView], links: &Links) {
    w.open("nics");
    for n in nics {
        w.open("nic");
        w.text("id", &n.name);
        w.text("name", &n.name);
        w.link("self", &links.nic(&n.name));
        w.close();
    }
    w.close();
}

pub fn render_nic(w: &mut XmlWriter, n: &NicView, links: &Links) {
    w.open("nic");
    w.text("id", &n.name);
    w.text("name", &n.name);
    w.optional("mac", n.mac.as_deref());
    w.optional("mtu", n.mtu);
    w.text("state", if n.up { "up" } else { "down" });
    for a in &n.addresses {
        w.text("address", a);
    }
    w.link("self", &links.nic(&n.name));
    w.close();
}
