//! `/apis/kraken/system` and `/apis/servers`.

use std::time::{SystemTime, UNIX_EPOCH};

use makara_supervisor::{
    CapacityView, CaptureMode, CapturePort, CaptureView, CodecCapacity, Measured, NicView,
    ServerView, StorageView, SystemView,
};

use super::links::Links;
use crate::xml::XmlWriter;

/// The version, the data disk (`storageInfo`, ours: the contract has no
/// element for it), and a capture section per family that has ports, in
/// the contract's order: `captureInfo`, then one `capturePort` per V4L2
/// port (one input of one V4L2 device), whose `available_modes` are what
/// `captureMode` indexes; `decklinkInfo`, then one `decklinkPort` per
/// DeckLink port, whose modes `decklinkMode` indexes.
pub fn render_system(w: &mut XmlWriter, s: &SystemView) {
    w.open("system");
    w.text("version", &s.version);
    w.text("hostname", &s.hostname);
    if let Some(storage) = &s.storage {
        render_storage(w, storage);
    }
    render_capacity(w, &s.capacity);
    render_family(w, &V4L2, &s.capture);
    render_family(w, &DECKLINK, &s.decklink);
    w.close();
}

/// How the contract writes one family of capture ports.
struct Family {
    /// The section's element: `captureInfo`.
    info: &'static str,
    /// Each port's element: `capturePort`.
    port: &'static str,
    /// `config_format` and `config_framerate` of a port no stream
    /// captures from: the contract's example shows `unset` for a
    /// `capturePort` and empty elements for a `decklinkPort`.
    unset: &'static str,
}

const V4L2: Family = Family {
    info: "captureInfo",
    port: "capturePort",
    unset: "unset",
};

const DECKLINK: Family = Family {
    info: "decklinkInfo",
    port: "decklinkPort",
    unset: "",
};

/// The family's section, then its ports; nothing when it has no ports
/// (no driver, or no card).
fn render_family(w: &mut XmlWriter, f: &Family, c: &CaptureView) {
    if c.ports.is_empty() {
        return;
    }
    w.open(f.info);
    w.text("keep_alive_counter", c.keep_alive_counter);
    w.text("port_info_size", c.ports.len());
    w.text("start_time", start_time(c.start_time));
    let running = c.ports.iter().any(|p| p.running.is_some());
    w.text("running", u8::from(running));
    w.close();
    for port in &c.ports {
        render_port(w, f, port);
    }
}

/// Named like `captureInfo`, with its snake_case children and 1/0 flag.
fn render_storage(w: &mut XmlWriter, s: &StorageView) {
    w.open("storageInfo");
    w.text("total_bytes", s.total_bytes);
    w.text("available_bytes", s.available_bytes);
    w.text("low_space", u8::from(s.low));
    w.close();
}

/// `encoderCapacity` (ours, like `storageInfo`): what `makarad bench
/// capacity` measured last, per codec and size, or why there is nothing.
fn render_capacity(w: &mut XmlWriter, c: &CapacityView) {
    w.open("encoderCapacity");
    match c {
        CapacityView::NotMeasured => {
            w.text("status", "not_measured");
            w.text("hint", "run 'makarad bench capacity' on the appliance");
        }
        CapacityView::Unreadable(why) => {
            w.text("status", "unreadable");
            w.text("error", why);
        }
        CapacityView::Measured(m) => {
            w.text("status", "measured");
            w.text(
                "measured_at",
                start_time(UNIX_EPOCH + std::time::Duration::from_secs(m.measured_unix)),
            );
            w.text("firmware", &m.firmware);
            for codec in &m.codecs {
                render_codec_capacity(w, codec);
            }
        }
    }
    w.close();
}

fn render_codec_capacity(w: &mut XmlWriter, c: &CodecCapacity) {
    w.open("codec");
    w.text(
        "videoType",
        super::words::word(super::words::VIDEO_TYPES, &c.codec),
    );
    w.text("width", c.width);
    w.text("height", c.height);
    w.text("frame_rate", c.frame_rate);
    match &c.result {
        Measured::Fps(fps) => {
            w.text("fps", format!("{fps:.1}"));
            w.text("channels", c.channels().unwrap_or(0));
        }
        Measured::Failed(why) => {
            w.text("error", why);
        }
    }
    w.close();
}

/// `device` and `name` are ours: the V4L2 device node and input name, or
/// the DeckLink card's display name and its input connectors.
fn render_port(w: &mut XmlWriter, f: &Family, p: &CapturePort) {
    w.open(f.port);
    w.text("port_number", p.number);
    w.text("device", &p.device);
    w.text("name", &p.name);
    match &p.running {
        Some(r) => {
            w.text("config_mode", r.config_mode);
            w.text("config_format", &r.fourcc);
            w.text("config_framerate", framerate(Some(r.frame_rate)));
        }
        None => {
            w.text("config_mode", -1);
            w.text("config_format", f.unset);
            w.text("config_framerate", f.unset);
        }
    }
    w.open("current_video_desc");
    if let Some(m) = &p.current {
        mode_fields(w, m);
    }
    w.close();
    w.open("available_modes");
    for m in &p.modes {
        w.open("mode");
        mode_fields(w, m);
        w.close();
    }
    w.close();
    w.close();
}

fn mode_fields(w: &mut XmlWriter, m: &CaptureMode) {
    // The contract shows -1 for a size the mode does not fix.
    let size = |v: u32| if v == 0 { -1 } else { i64::from(v) };
    w.text("width", size(m.width));
    w.text("height", size(m.height));
    if m.frame_rate.is_some() {
        w.text("framerate", framerate(m.frame_rate));
    }
    w.text("interlaced", m.interlaced);
    w.text("mode_id", &m.id);
}

/// `60.00`, `29.97`: two decimals, as the contract's examples write rates.
fn framerate(rate: Option<(u32, u32)>) -> String {
    match rate {
        Some((n, d)) if d > 0 => format!("{:.2}", f64::from(n) / f64::from(d)),
        _ => "unset".into(),
    }
}

/// `2017-Jul-21 15:21:19.371990`, UTC: the contract's format.
fn start_time(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = crate::hmp::time::civil_from_days((secs / 86_400) as i64);
    let day_secs = secs % 86_400;
    format!(
        "{year}-{}-{day:02} {:02}:{:02}:{:02}.{:06}",
        MONTHS[(month - 1) as usize],
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        since.subsec_micros()
    )
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn start_time_is_written_as_the_contract_shows() {
        // 2017-07-21 15:21:19.371990 UTC
        let t = UNIX_EPOCH + Duration::from_micros(1_500_650_479_371_990);
        assert_eq!(start_time(t), "2017-Jul-21 15:21:19.371990");
        assert_eq!(start_time(UNIX_EPOCH), "1970-Jan-01 00:00:00.000000");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(start_time(t), "2000-Feb-29 00:00:00.000000");
    }

    #[test]
    fn the_data_disk_is_shown_with_its_low_space_flag() {
        let mut w = XmlWriter::new();
        let low = StorageView {
            total_bytes: 1_048_576,
            available_bytes: 4096,
            low: true,
        };
        render_storage(&mut w, &low);
        let xml: String = w.finish().split_whitespace().collect();
        assert!(xml.contains("<storageInfo><total_bytes>1048576</total_bytes><available_bytes>4096</available_bytes><low_space>1</low_space></storageInfo>"), "{xml}");
    }

    #[test]
    fn encoder_capacity_shows_channels_or_why_there_are_none() {
        use makara_config::VideoType;
        let codec = |codec, result| CodecCapacity {
            codec,
            width: 1920,
            height: 1080,
            frame_rate: 30,
            result,
        };
        let measured = makara_supervisor::EncoderCapacity {
            measured_unix: 1_500_650_479,
            firmware: "1.2.3".into(),
            codecs: vec![
                codec(VideoType::Hevc, Measured::Fps(64.25)),
                codec(VideoType::Av1, Measured::Failed("no SVT-AV1".into())),
            ],
        };
        let mut w = XmlWriter::new();
        render_capacity(&mut w, &CapacityView::Measured(measured));
        let xml: String = w.finish().split_whitespace().collect();
        assert!(xml.contains("<status>measured</status><measured_at>2017-Jul-2115:21:19.000000</measured_at><firmware>1.2.3</firmware>"), "{xml}");
        assert!(xml.contains("<codec><videoType>hevc</videoType><width>1920</width><height>1080</height><frame_rate>30</frame_rate><fps>64.2</fps><channels>2</channels></codec>"), "{xml}");
        assert!(xml.contains("<videoType>av1</videoType><width>1920</width><height>1080</height><frame_rate>30</frame_rate><error>noSVT-AV1</error>"), "{xml}");
        let mut w = XmlWriter::new();
        render_capacity(&mut w, &CapacityView::NotMeasured);
        let xml = w.finish();
        assert!(
            xml.contains("<status>not_measured</status>") && xml.contains("makarad bench capacity"),
            "{xml}"
        );
    }

    fn mode(width: u32, height: u32, rate: (u32, u32), id: &str) -> CaptureMode {
        CaptureMode {
            width,
            height,
            frame_rate: Some(rate),
            interlaced: true,
            id: id.into(),
        }
    }

    /// A Duo's two SDI inputs: port 0 captures (captureMode 2, UYVY), port
    /// 1 is idle with no signal.
    fn decklink_ports() -> Vec<CapturePort> {
        let modes = vec![
            mode(720, 576, (25, 1), "PAL"),
            mode(720, 486, (30000, 1001), "NTSC"),
            mode(1920, 1080, (30000, 1001), "1080i59.94"),
        ];
        let running = CapturePort {
            number: 0,
            device: "DeckLink Duo (1)".into(),
            name: "SDI".into(),
            kind: makara_supervisor::PortKind::DigitalVideo,
            current: Some(modes[2].clone()),
            modes: modes.clone(),
            running: Some(makara_supervisor::RunningCapture {
                config_mode: 2,
                fourcc: "UYVY".into(),
                frame_rate: (30000, 1001),
            }),
        };
        let idle = CapturePort {
            number: 1,
            device: "DeckLink Duo (2)".into(),
            name: "SDI, HDMI".into(),
            current: None,
            running: None,
            ..running.clone()
        };
        vec![running, idle]
    }

    fn view(capture: Vec<CapturePort>, decklink: Vec<CapturePort>) -> SystemView {
        // 2017-07-21 15:23:15.732919 UTC, the contract's decklinkInfo.
        let started = UNIX_EPOCH + Duration::from_micros(1_500_650_595_732_919);
        let family = |ports| CaptureView {
            start_time: started,
            keep_alive_counter: 34527,
            ports,
        };
        SystemView {
            version: "1.2.3".into(),
            hostname: "makara".into(),
            capture: family(capture),
            decklink: family(decklink),
            storage: None,
            capacity: CapacityView::NotMeasured,
        }
    }

    fn rendered(s: &SystemView) -> crate::xml::Element {
        let mut w = XmlWriter::new();
        render_system(&mut w, s);
        let xml = w.finish();
        crate::xml::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"))
    }

    fn names(e: &crate::xml::Element) -> Vec<&str> {
        e.children.iter().map(|c| c.name.as_str()).collect()
    }

    /// The children of `e`, each with its text (empty for one with
    /// children of its own).
    fn fields(e: &crate::xml::Element) -> Vec<(&str, &str)> {
        e.children
            .iter()
            .map(|c| (c.name.as_str(), c.text.trim()))
            .collect()
    }

    fn child<'a>(e: &'a crate::xml::Element, name: &str) -> &'a crate::xml::Element {
        e.child(&[name])
            .unwrap_or_else(|| panic!("no <{name}> in <{}>: {e:?}", e.name))
    }

    #[test]
    fn decklink_ports_are_shown_as_the_contract_shows_them() {
        let system = rendered(&view(Vec::new(), decklink_ports()));
        assert_eq!(
            names(&system),
            [
                "version",
                "hostname",
                "encoderCapacity",
                "decklinkInfo",
                "decklinkPort",
                "decklinkPort"
            ]
        );
        assert_eq!(
            fields(child(&system, "decklinkInfo")),
            [
                ("keep_alive_counter", "34527"),
                ("port_info_size", "2"),
                ("start_time", "2017-Jul-21 15:23:15.732919"),
                ("running", "1"),
            ]
        );
        let ports: Vec<_> = system.children_named(&["decklinkPort"]).collect();

        let running = ports[0];
        assert_eq!(
            fields(running),
            [
                ("port_number", "0"),
                ("device", "DeckLink Duo (1)"),
                ("name", "SDI"),
                ("config_mode", "2"),
                ("config_format", "UYVY"),
                ("config_framerate", "29.97"),
                ("current_video_desc", ""),
                ("available_modes", ""),
            ]
        );
        assert_eq!(
            fields(child(running, "current_video_desc")),
            [
                ("width", "1920"),
                ("height", "1080"),
                ("framerate", "29.97"),
                ("interlaced", "true"),
                ("mode_id", "1080i59.94"),
            ]
        );
        let modes = child(running, "available_modes");
        assert_eq!(names(modes), ["mode", "mode", "mode"]);
        assert_eq!(
            fields(&modes.children[0]),
            [
                ("width", "720"),
                ("height", "576"),
                ("framerate", "25.00"),
                ("interlaced", "true"),
                ("mode_id", "PAL"),
            ]
        );
        assert_eq!(
            fields(&modes.children[1]),
            [
                ("width", "720"),
                ("height", "486"),
                ("framerate", "29.97"),
                ("interlaced", "true"),
                ("mode_id", "NTSC"),
            ]
        );

        // Idle, no signal: config_* empty as in the contract's example,
        // an empty current_video_desc, the same modes.
        let idle = ports[1];
        assert_eq!(
            fields(idle),
            [
                ("port_number", "1"),
                ("device", "DeckLink Duo (2)"),
                ("name", "SDI, HDMI"),
                ("config_mode", "-1"),
                ("config_format", ""),
                ("config_framerate", ""),
                ("current_video_desc", ""),
                ("available_modes", ""),
            ]
        );
        assert!(child(idle, "current_video_desc").children.is_empty());
        assert_eq!(child(idle, "available_modes"), modes);
    }

    #[test]
    fn decklinkinfo_is_not_running_while_no_port_captures() {
        let mut ports = decklink_ports();
        ports[0].running = None;
        let system = rendered(&view(Vec::new(), ports));
        assert_eq!(
            child(&system, "decklinkInfo").text_of(&["running"]),
            Some("0")
        );
    }

    #[test]
    fn without_decklink_ports_nothing_decklink_is_shown() {
        let system = rendered(&view(Vec::new(), Vec::new()));
        assert_eq!(names(&system), ["version", "hostname", "encoderCapacity"]);

        // V4L2 ports alone: their section, and still nothing DeckLink.
        let mut v4l2 = decklink_ports();
        v4l2[0].device = "/dev/video0".into();
        v4l2.truncate(1);
        let system = rendered(&view(v4l2, Vec::new()));
        assert_eq!(
            names(&system),
            [
                "version",
                "hostname",
                "encoderCapacity",
                "captureInfo",
                "capturePort"
            ]
        );
    }

    #[test]
    fn both_families_are_shown_in_the_contracts_order() {
        let mut v4l2 = decklink_ports();
        v4l2[1].device = "/dev/video0".into();
        let system = rendered(&view(v4l2, decklink_ports()));
        assert_eq!(
            names(&system)[3..],
            [
                "captureInfo",
                "capturePort",
                "capturePort",
                "decklinkInfo",
                "decklinkPort",
                "decklinkPort"
            ]
        );
        // The idle capturePort keeps its contract's word for unset.
        let idle = system.children_named(&["capturePort"]).nth(1).unwrap();
        assert_eq!(idle.text_of(&["config_format"]), Some("unset"));
        assert_eq!(idle.text_of(&["config_framerate"]), Some("unset"));
        assert_eq!(idle.text_of(&["device"]), Some("/dev/video0"));
    }

    #[test]
    fn rates_have_two_decimals() {
        assert_eq!(framerate(Some((30000, 1001))), "29.97");
        assert_eq!(framerate(Some((60, 1))), "60.00");
        assert_eq!(framerate(None), "unset");
    }
}
