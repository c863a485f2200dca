//! `/apis/kraken/system` and `/apis/servers`.

use std::time::{SystemTime, UNIX_EPOCH};

use makara_supervisor::{
    CapacityView, CaptureMode, CapturePort, CodecCapacity, Measured, NicView, ServerView,
    StorageView, SystemView,
};

use super::links::Links;
use crate::xml::XmlWriter;

/// The version, the data disk (`storageInfo`, ours: the contract has no
/// element for it), and the capture sections when there is capture
/// hardware: `captureInfo`, then one `capturePort` per port (one input of
/// one V4L2 device), whose `available_modes` are what `captureMode` indexes.
pub fn render_system(w: &mut XmlWriter, s: &SystemView) {
    w.open("system");
    w.text("version", &s.version);
    w.text("hostname", &s.hostname);
    if let Some(storage) = &s.storage {
        render_storage(w, storage);
    }
    render_capacity(w, &s.capacity);
    let c = &s.capture;
    if !c.ports.is_empty() {
        w.open("captureInfo");
        w.text("keep_alive_counter", c.keep_alive_counter);
        w.text("port_info_size", c.ports.len());
        w.text("start_time", start_time(c.start_time));
        let running = c.ports.iter().any(|p| p.running.is_some());
        w.text("running", u8::from(running));
        w.close();
        for port in &c.ports {
            render_port(w, port);
        }
    }
    w.close();
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

fn render_port(w: &mut XmlWriter, p: &CapturePort) {
    w.open("capturePort");
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
            w.text("config_format", "unset");
            w.text("config_framerate", "unset");
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

    #[test]
    fn rates_have_two_decimals() {
        assert_eq!(framerate(Some((30000, 1001))), "29.97");
        assert_eq!(framerate(Some((60, 1))), "60.00");
        assert_eq!(framerate(None), "unset");
    }
}
