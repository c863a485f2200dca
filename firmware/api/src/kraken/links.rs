//! Building the hrefs of `<link>` elements from the request's Host.

use makara_config::Id;
use makara_supervisor::Kind;

use super::words::element;

/// Where links point: `https://{host}` of the request, and this server's id.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    server_id: String,
}

impl Links {
    pub fn new(host: &str, server_id: &str) -> Links {
        Links {
            base: format!("https://{host}"),
            server_id: server_id.to_string(),
        }
    }

    pub fn collection(&self, kind: Kind) -> String {
        format!("{}/apis/kraken/{}s", self.base, element(kind))
    }

    pub fn resource(&self, kind: Kind, id: &Id) -> String {
        format!("{}/{}-{id}", self.collection(kind), element(kind))
    }

    pub fn servers(&self) -> String {
        format!("{}/apis/servers", self.base)
    }

    pub fn server(&self) -> String {
        format!("{}/server-{}", self.servers(), self.server_id)
    }

    pub fn nics(&self) -> String {
        format!("{}/nics", self.server())
    }

    pub fn nic(&self, name: &str) -> String {
        format!("{}/nic-{name}", self.nics())
    }

    pub fn server_id(&self) -> &str {
        &self.server_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs() {
        let l = Links::new("127.0.0.1:8443", "bc305be293d3");
        let id = Id::parse("83d0df6f-b1f9-421e-8942-06054703d265").unwrap();
        assert_eq!(
            l.resource(Kind::Preset, &id),
            "https://127.0.0.1:8443/apis/kraken/configurations/configuration-83d0df6f-b1f9-421e-8942-06054703d265"
        );
        assert_eq!(
            l.collection(Kind::Input),
            "https://127.0.0.1:8443/apis/kraken/inputs"
        );
        assert_eq!(
            l.nic("eth0"),
            "https://127.0.0.1:8443/apis/servers/server-bc305be293d3/nics/nic-eth0"
        );
    }
}
