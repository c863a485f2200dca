//! The device service (ONVIF Device Management, ver10): the answers this
//! device gives, written from facts the caller gathers.

use super::fault::Fault;
use super::soap::Node;
use super::time::Utc;
use super::write::Doc;
use super::{DEVICE_NS, MEDIA_NS};

pub const MANUFACTURER: &str = "Makara";
pub const MODEL: &str = "Makara video encoder";
/// The ONVIF version the answers follow (Core 2.0's ver10 services).
const VERSION: (u32, u32) = (2, 0);

/// What the device says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFacts {
    pub firmware: String,
    pub hostname: String,
    /// The server id (Kraken's), stable for the box.
    pub serial: String,
    /// The machine's architecture: what hardware this build runs on.
    pub hardware: String,
}

/// The scopes the device is found by (WS-Discovery) and answers
/// GetScopes with.
pub fn scopes(facts: &DeviceFacts) -> Vec<String> {
    vec![
        "onvif://www.onvif.org/Profile/Streaming".to_owned(),
        "onvif://www.onvif.org/type/video_encoder".to_owned(),
        "onvif://www.onvif.org/type/Network_Video_Transmitter".to_owned(),
        format!("onvif://www.onvif.org/hardware/{}", scope_part(MODEL)),
        format!("onvif://www.onvif.org/name/{}", scope_part(&facts.hostname)),
    ]
}

/// A scope's last segment: anything but unreserved characters
/// percent-encoded, so a host name cannot break the URI.
fn scope_part(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn system_date_and_time(now_unix: i64) -> String {
    let t = Utc::from_unix(now_unix);
    let mut doc = Doc::new();
    doc.open("tds:GetSystemDateAndTimeResponse")
        .open("tds:SystemDateAndTime")
        .text("tt:DateTimeType", "Manual")
        .text("tt:DaylightSavings", false)
        .open("tt:TimeZone")
        .text("tt:TZ", "UTC0")
        .close();
    for name in ["tt:UTCDateTime", "tt:LocalDateTime"] {
        doc.open(name)
            .open("tt:Time")
            .text("tt:Hour", t.hour)
            .text("tt:Minute", t.minute)
            .text("tt:Second", t.second)
            .close()
            .open("tt:Date")
            .text("tt:Year", t.year)
            .text("tt:Month", t.month)
            .text("tt:Day", t.day)
            .close()
            .close();
    }
    doc.finish()
}

pub fn device_information(facts: &DeviceFacts) -> String {
    let mut doc = Doc::new();
    doc.open("tds:GetDeviceInformationResponse")
        .text("tds:Manufacturer", MANUFACTURER)
        .text("tds:Model", MODEL)
        .text("tds:FirmwareVersion", &facts.firmware)
        .text("tds:SerialNumber", &facts.serial)
        .text("tds:HardwareId", &facts.hardware);
    doc.finish()
}

pub fn hostname(facts: &DeviceFacts) -> String {
    let mut doc = Doc::new();
    doc.open("tds:GetHostnameResponse")
        .open("tds:HostnameInformation")
        .text("tt:FromDHCP", false)
        .text("tt:Name", &facts.hostname);
    doc.finish()
}

pub fn get_scopes(facts: &DeviceFacts) -> String {
    let mut doc = Doc::new();
    doc.open("tds:GetScopesResponse");
    for scope in scopes(facts) {
        doc.open("tds:Scopes")
            .text("tt:ScopeDef", "Fixed")
            .text("tt:ScopeItem", scope)
            .close();
    }
    doc.finish()
}

/// GetCapabilities for `Category` All (the default), Device or Media;
/// this device has no other service.
pub fn capabilities(operation: &Node, base: &str) -> Result<String, Fault> {
    let categories: Vec<&str> = operation
        .children
        .iter()
        .filter(|c| c.name == "Category")
        .map(Node::trimmed)
        .collect();
    let all = categories.is_empty() || categories.contains(&"All");
    if let Some(other) = categories
        .iter()
        .find(|c| !matches!(**c, "All" | "Device" | "Media"))
    {
        return Err(Fault::NoSuchService(format!(
            "this device has no {other} service; it serves Device and Media"
        )));
    }
    let mut doc = Doc::new();
    doc.open("tds:GetCapabilitiesResponse")
        .open("tds:Capabilities");
    if all || categories.contains(&"Device") {
        device_capabilities(&mut doc, base);
    }
    if all || categories.contains(&"Media") {
        doc.open("tt:Media")
            .text("tt:XAddr", format!("{base}/onvif/media_service"))
            .open("tt:StreamingCapabilities")
            .text("tt:RTPMulticast", false)
            .text("tt:RTP_TCP", true)
            .text("tt:RTP_RTSP_TCP", true)
            .close()
            .close();
    }
    Ok(doc.finish())
}

fn device_capabilities(doc: &mut Doc, base: &str) {
    doc.open("tt:Device")
        .text("tt:XAddr", format!("{base}/onvif/device_service"))
        .open("tt:Network")
        .text("tt:IPFilter", false)
        .text("tt:ZeroConfiguration", false)
        .text("tt:IPVersion6", false)
        .text("tt:DynDNS", false)
        .close()
        .open("tt:System")
        .text("tt:DiscoveryResolve", false)
        .text("tt:DiscoveryBye", true)
        .text("tt:RemoteDiscovery", false)
        .text("tt:SystemBackup", false)
        .text("tt:SystemLogging", false)
        .text("tt:FirmwareUpgrade", false)
        .open("tt:SupportedVersions")
        .text("tt:Major", VERSION.0)
        .text("tt:Minor", VERSION.1)
        .close()
        .close()
        .open("tt:Security")
        .text("tt:TLS1.1", false)
        .text("tt:TLS1.2", false)
        .text("tt:OnboardKeyGeneration", false)
        .text("tt:AccessPolicyConfig", false)
        .text("tt:X.509Token", false)
        .text("tt:SAMLToken", false)
        .text("tt:KerberosToken", false)
        .text("tt:RELToken", false)
        .close()
        .close();
}

/// GetServices: the device and media services, with their capabilities
/// when `IncludeCapability` is true.
pub fn services(operation: &Node, base: &str, profiles: usize) -> String {
    let include = operation
        .child_local("IncludeCapability")
        .is_some_and(|n| matches!(n.trimmed(), "true" | "1"));
    let mut doc = Doc::new();
    doc.open("tds:GetServicesResponse");
    doc.open("tds:Service")
        .text("tds:Namespace", DEVICE_NS)
        .text("tds:XAddr", format!("{base}/onvif/device_service"));
    if include {
        doc.open("tds:Capabilities");
        device_service_capabilities(&mut doc);
        doc.close();
    }
    version(&mut doc);
    doc.close();
    doc.open("tds:Service")
        .text("tds:Namespace", MEDIA_NS)
        .text("tds:XAddr", format!("{base}/onvif/media_service"));
    if include {
        doc.open("tds:Capabilities");
        super::media::service_capabilities_element(&mut doc, profiles);
        doc.close();
    }
    version(&mut doc);
    doc.finish()
}

fn version(doc: &mut Doc) {
    doc.open("tds:Version")
        .text("tt:Major", VERSION.0)
        .text("tt:Minor", VERSION.1)
        .close();
}

/// The device service's GetServiceCapabilities.
pub fn service_capabilities() -> String {
    let mut doc = Doc::new();
    doc.open("tds:GetServiceCapabilitiesResponse");
    device_service_capabilities(&mut doc);
    doc.finish()
}

fn device_service_capabilities(doc: &mut Doc) {
    doc.open("tds:Capabilities")
        .empty(
            "tds:Network",
            &[
                ("IPFilter", "false"),
                ("ZeroConfiguration", "false"),
                ("IPVersion6", "false"),
                ("DynDNS", "false"),
            ],
        )
        .empty(
            "tds:Security",
            &[
                ("TLS1.0", "false"),
                ("TLS1.1", "false"),
                ("TLS1.2", "false"),
                ("OnboardKeyGeneration", "false"),
                ("AccessPolicyConfig", "false"),
                ("DefaultAccessPolicy", "false"),
                ("Dot1X", "false"),
                ("RemoteUserHandling", "false"),
                ("X.509Token", "false"),
                ("SAMLToken", "false"),
                ("KerberosToken", "false"),
                ("UsernameToken", "true"),
                ("HttpDigest", "false"),
                ("RELToken", "false"),
            ],
        )
        .empty(
            "tds:System",
            &[
                ("DiscoveryResolve", "false"),
                ("DiscoveryBye", "true"),
                ("RemoteDiscovery", "false"),
                ("SystemBackup", "false"),
                ("SystemLogging", "false"),
                ("FirmwareUpgrade", "false"),
            ],
        )
        .close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onvif::soap;

    fn facts() -> DeviceFacts {
        DeviceFacts {
            firmware: "0.1.0".into(),
            hostname: "enc 1".into(),
            serial: "abc123".into(),
            hardware: "x86_64".into(),
        }
    }

    fn body(xml: &str) -> soap::Node {
        soap::envelope(xml.as_bytes())
            .expect("answer parses")
            .operation
    }

    #[test]
    fn the_clock_is_utc_with_time_before_date() {
        let xml = system_date_and_time(1_284_623_445);
        assert!(xml.contains(
            "<tt:UTCDateTime><tt:Time><tt:Hour>7</tt:Hour><tt:Minute>50</tt:Minute><tt:Second>45</tt:Second></tt:Time>\
             <tt:Date><tt:Year>2010</tt:Year><tt:Month>9</tt:Month><tt:Day>16</tt:Day></tt:Date></tt:UTCDateTime>"
        ), "{xml}");
        assert!(xml.contains("<tt:TZ>UTC0</tt:TZ>"));
    }

    #[test]
    fn device_information_names_makara_and_the_server_id() {
        let op = body(&device_information(&facts()));
        assert!(op.is(DEVICE_NS, "GetDeviceInformationResponse"));
        let text = |n| op.child(DEVICE_NS, n).expect(n).text.clone();
        assert_eq!(text("Manufacturer"), "Makara");
        assert_eq!(text("SerialNumber"), "abc123");
        assert_eq!(text("FirmwareVersion"), "0.1.0");
        assert_eq!(text("HardwareId"), "x86_64");
    }

    #[test]
    fn scopes_are_uris_even_for_odd_host_names() {
        let s = scopes(&facts());
        assert!(
            s.contains(&"onvif://www.onvif.org/name/enc%201".to_owned()),
            "{s:?}"
        );
        assert!(s.contains(&"onvif://www.onvif.org/Profile/Streaming".to_owned()));
    }

    #[test]
    fn capabilities_give_the_xaddrs_of_the_categories_asked() {
        let all = soap::parse(b"<GetCapabilities xmlns='http://www.onvif.org/ver10/device/wsdl'><Category>All</Category></GetCapabilities>").expect("op");
        let xml = capabilities(&all, "http://192.0.2.1:8080").expect("all");
        assert!(
            xml.contains(
                "<tt:Device><tt:XAddr>http://192.0.2.1:8080/onvif/device_service</tt:XAddr>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<tt:Media><tt:XAddr>http://192.0.2.1:8080/onvif/media_service</tt:XAddr>"
            ),
            "{xml}"
        );
        let media = soap::parse(b"<GetCapabilities xmlns='http://www.onvif.org/ver10/device/wsdl'><Category>Media</Category></GetCapabilities>").expect("op");
        let xml = capabilities(&media, "http://h").expect("media");
        assert!(
            !xml.contains("tt:Device") && xml.contains("tt:Media"),
            "{xml}"
        );
        let ptz = soap::parse(b"<GetCapabilities xmlns='http://www.onvif.org/ver10/device/wsdl'><Category>PTZ</Category></GetCapabilities>").expect("op");
        assert!(matches!(
            capabilities(&ptz, "http://h"),
            Err(Fault::NoSuchService(_))
        ));
    }

    #[test]
    fn services_list_device_and_media_with_capabilities_on_request() {
        let with = soap::parse(b"<GetServices xmlns='http://www.onvif.org/ver10/device/wsdl'><IncludeCapability>true</IncludeCapability></GetServices>").expect("op");
        let op = body(&services(&with, "http://h", 2));
        let listed: Vec<_> = op
            .children
            .iter()
            .map(|s| s.child(DEVICE_NS, "Namespace").expect("ns").text.clone())
            .collect();
        assert_eq!(listed, [DEVICE_NS, MEDIA_NS]);
        assert!(op.children[0].child(DEVICE_NS, "Capabilities").is_some());
        let without = soap::parse(b"<GetServices xmlns='http://www.onvif.org/ver10/device/wsdl'><IncludeCapability>false</IncludeCapability></GetServices>").expect("op");
        let op = body(&services(&without, "http://h", 2));
        assert!(op.children[1].child(DEVICE_NS, "Capabilities").is_none());
    }
}
